#!/usr/bin/env python3
"""LongMix's model against transformers' LlamaForCausalLM and PyTorch autograd, on the same
weights and the same pack windows:

1. for rope factor 1 and 4 (linear Position Interpolation), a randomly initialised HF model is
   saved with save_pretrained; `longmix loss --gradients` loads that checkpoint and reports the
   mean masked next-token loss and every parameter's gradient; PyTorch computes the same with
   labels = token where loss_mask is 1, else -100. Loss must agree to 1e-4 relative, every
   gradient tensor to 1e-3 relative (||a - b|| / ||b||);
2. `--attention document` on a pack with few-shot sources (--few-shot-pack), rope factor 1 and 4:
   positions restart at every document, with the documents taken from the pack by the README's
   numpy loader (`few_shot_spans` on sequences of few-shot sources, where a group's header and its
   examples are one span; `document_spans` elsewhere), cut to the windows. transformers computes
   the same from those position_ids alone (no attention mask: it detects the packed documents
   from the restarting positions and masks block-diagonally); same tolerances as 1. Also checked
   (factor 1): an explicit 4-D block-diagonal mask gives transformers the same loss, and the check
   sees both the masking and the groups: sequence attention, or one document per segment (groups
   not joined), gives gradients more than 1e-2 away (or a loss more than 1e-4 away);
3. a checkpoint written by `longmix train` loads in transformers (from_pretrained) and gives the
   same loss on the same windows (1e-4 relative) and the same logits on the first window
   (`longmix loss --logits`, 1e-4 relative).

torch and transformers are large (~6 GB) and stay out of CI: without them this script prints
SKIPPED and exits 0. Usage (scripts/parity/model_parity.sh builds longmix and the packs):
    python scripts/parity/model_parity.py --longmix .build/release/longmix --pack out/pretrain-32k \
        --few-shot-pack out/instruct-32k
"""
import argparse, json, math, os, subprocess, sys, tempfile

def skip(message):
    print(f"SKIPPED model_parity: {message}")
    sys.exit(0)

try:
    import numpy as np
    import torch
    import transformers
    from safetensors.numpy import load_file
except ImportError as e:
    skip(f"needs torch, transformers, safetensors, numpy ({e.name} missing); e.g. python3 -m venv ~/venv-torch && "
         "~/venv-torch/bin/pip install torch transformers safetensors, then LONGMIX_TORCH_PYTHON=~/venv-torch/bin/python")


def read_pack(pack):
    # The README's numpy loader.
    meta = json.load(open(os.path.join(pack, "manifest.json")))
    n, seq_len = meta["sequences"], meta["seqLen"]
    tokens = np.memmap(os.path.join(pack, "tokens.bin"), dtype=meta["tokenDtype"], mode="r").reshape(n, seq_len)
    mask = np.memmap(os.path.join(pack, "loss_mask.bin"), dtype=np.uint8, mode="r").reshape(n, seq_len)
    segments = np.fromfile(os.path.join(pack, "segments.bin"), dtype=[
        ("start", "<u4"), ("length", "<u4"), ("document", "<i4"), ("document_offset", "<u4"), ("group", "<i4"),
        ("source", "<u2"), ("kind", "<u2")])
    assert segments.itemsize == meta["segmentRecordBytes"]
    index = np.fromfile(os.path.join(pack, "segment_index.bin"), dtype="<u8")
    return meta, tokens, mask, segments, index


def spans(pack_data, i, groups=True):
    """cu_seqlens of sequence i as the README's `document_spans` / `few_shot_spans` give them: the
    latter (a few-shot header with the examples after it as one span) on sequences of few-shot
    sources when `groups`, the former elsewhere."""
    meta, _, _, segments, index = pack_data
    seq_len = meta["seqLen"]
    s = segments[index[i]:index[i + 1]]
    if groups and meta["sources"][int(s["source"][0])]["packing"] == "few-shot":
        joins = (s["kind"][1:] == 0) & (s["group"][1:] >= 0) & (s["group"][1:] == s["group"][:-1])
        return np.append(s["start"][np.concatenate([[True], ~joins])], seq_len).astype(np.int32)
    return np.append(s["start"], seq_len).astype(np.int32)


def pack_windows(pack_data, sequences, context, groups=True):
    """ids, labels (-100 where the token's loss mask is 0) and document-mode positions of every
    window of `context` tokens of sequences A:B; a document cut by a window starts at the window."""
    meta, tokens, mask, _, _ = pack_data
    a, b = sequences
    ids, labels, positions = [], [], []
    for s in range(a, b):
        cu = spans(pack_data, s, groups)
        start_of = np.repeat(cu[:-1], np.diff(cu))  # each token's span start
        for w in range(meta["seqLen"] // context):
            lo, hi = w * context, (w + 1) * context
            t = np.asarray(tokens[s, lo:hi], dtype=np.int64)
            m = np.asarray(mask[s, lo:hi])
            ids.append(t)
            labels.append(np.where(m == 1, t, -100))
            positions.append(np.arange(lo, hi) - np.maximum(start_of[lo:hi], lo))
    return torch.tensor(np.stack(ids)), torch.tensor(np.stack(labels)), torch.tensor(np.stack(positions))


def block_diagonal_mask(positions):
    """[W, 1, T, T] additive mask: row i sees j <= i of its own document (documents open where the
    position is 0), built directly rather than by transformers' packed-sequence detection."""
    document = (positions == 0).cumsum(-1)
    t = positions.shape[1]
    allowed = (document[:, :, None] == document[:, None, :]) & torch.ones(t, t, dtype=torch.bool).tril()
    return torch.zeros(allowed.shape, dtype=torch.float32).masked_fill(~allowed, torch.finfo(torch.float32).min)[:, None]


def hf_loss(model, ids, labels, positions=None, explicit_mask=False, backward=False, chunk=16):
    """Mean next-token loss over all targets of the windows (HF shifts labels inside the model), in
    chunks of windows so eager attention's [chunk, heads, T, T] scores stay small; with backward,
    accumulates the gradient of that mean into the parameters' .grad. With positions and no mask,
    transformers masks the packed documents those positions delimit; with explicit_mask, it gets
    `block_diagonal_mask(positions)` instead. Returns the loss and the first window's logits."""
    total = int((labels[:, 1:] != -100).sum())
    loss_sum, first_logits = 0.0, None
    for lo in range(0, ids.shape[0], chunk):
        sl = slice(lo, lo + chunk)
        targets = int((labels[sl, 1:] != -100).sum())
        out = model(input_ids=ids[sl], labels=labels[sl], use_cache=False,
                    position_ids=None if positions is None else positions[sl],
                    attention_mask=block_diagonal_mask(positions[sl]) if explicit_mask else None)
        if first_logits is None:
            first_logits = out.logits[0].detach()
        if targets == 0:
            continue  # HF's mean over no targets is NaN; such windows add nothing
        part = out.loss * (targets / total)
        if backward:
            part.backward()
        loss_sum += part.item()
    return loss_sum, first_logits


def longmix_loss(args, checkpoint, context, pack, sequences, attention="sequence", gradients=None, logits=None):
    cmd = [args.longmix, "loss", "--checkpoint", checkpoint, "--pack", pack, "--sequences", sequences,
           "--context", str(context), "--attention", attention, "--batch", "4", "--threads", str(args.threads)]
    if gradients:
        cmd += ["--gradients", gradients]
    if logits:
        cmd += ["--logits", logits]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def random_model(vocab, factor, work):
    """A 2-layer GQA LlamaForCausalLM with random weights and linear PI `factor`, saved for LongMix."""
    config = transformers.LlamaConfig(
        vocab_size=vocab, hidden_size=64, intermediate_size=176, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, rms_norm_eps=1e-5, max_position_embeddings=2048, tie_word_embeddings=False,
        rope_theta=10000.0, rope_scaling=None if factor == 1 else {"type": "linear", "factor": factor},
        attention_bias=False, mlp_bias=False)
    if factor != 1 and hasattr(config, "rope_parameters") and config.rope_parameters:
        config.rope_parameters = {"rope_type": "linear", "factor": factor, "rope_theta": 10000.0}
    model = transformers.LlamaForCausalLM(config).float()
    # Larger than default init so the gradients carry signal everywhere (norm gains too).
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.copy_(torch.randn_like(param) * (0.1 if param.dim() == 2 else 0.2) + (1.0 if param.dim() == 1 else 0.0))
    model.config._attn_implementation = "eager"
    ckpt = os.path.join(work, f"hf-factor-{factor:g}")
    model.save_pretrained(ckpt, safe_serialization=True)
    return model, ckpt


def compare_gradients(args, label, model, ckpt, pack, sequences, windows, attention, work):
    """LongMix's loss and every gradient against transformers + autograd on the same windows."""
    ids, labels, positions = windows
    model.zero_grad()
    loss, _ = hf_loss(model, ids, labels, positions=positions if attention == "document" else None, backward=True)
    grads_path = os.path.join(work, f"grads-{label.replace(' ', '-')}.safetensors")
    ours = longmix_loss(args, ckpt, args.context, pack, sequences, attention=attention, gradients=grads_path)
    grads = load_file(grads_path)
    loss_rel = abs(ours["loss"] - loss) / abs(loss)
    worst = max((rel(grads[name], param.grad.numpy()), name) for name, param in model.named_parameters())
    ok = loss_rel < 1e-4 and worst[0] < 1e-3 and ours["targets"] == int((labels[:, 1:] != -100).sum())
    print(f"{label}: loss transformers {loss:.6f} LongMix {ours['loss']:.6f} (rel {loss_rel:.2e}, {ours['targets']} targets); "
          f"worst gradient rel error {worst[0]:.2e} ({worst[1]}) over {len(grads)} tensors -> {'OK' if ok else 'FAIL'}")
    return ok, loss, {name: param.grad.numpy().copy() for name, param in model.named_parameters()}


def sensitive(what, model, windows, positions, loss, grads, other_label):
    """The check sees `what`: transformers' loss and gradients with `positions` (None: sequence
    attention) instead would fail its tolerances (loss 1e-4, every gradient 1e-3) against the
    reference's by a margin (the worst gradient tensor off by more than 1e-2)."""
    ids, labels, _ = windows
    model.zero_grad()
    other, _ = hf_loss(model, ids, labels, positions=positions, backward=True)
    worst = max((rel(param.grad.numpy(), grads[name]), name) for name, param in model.named_parameters())
    ok = abs(other - loss) / abs(loss) > 1e-4 or worst[0] > 1e-2
    print(f"  {other_label}: loss {other:.6f} ({abs(other - loss) / abs(loss):.2e} rel), worst gradient tensor "
          f"{worst[0]:.2e} rel ({worst[1]}) -> {'OK' if ok else 'FAIL: the check does not see ' + what}")
    return ok


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--longmix", default=".build/release/longmix")
    p.add_argument("--pack", default="out/pretrain-32k", help="pack for sequence attention and the train checkpoint")
    p.add_argument("--sequences", default="0:1")
    p.add_argument("--few-shot-pack", default="out/instruct-32k", help="pack with few-shot sources, for document attention")
    p.add_argument("--few-shot-sequences", default="2:5", help="default: a Natural Instructions, a P3 and a Pile sequence")
    p.add_argument("--context", type=int, default=512)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    for pack in (args.pack, args.few_shot_pack):
        if not os.path.exists(os.path.join(pack, "manifest.json")):
            skip(f"{pack} is not a pack directory (scripts/parity/model_parity.sh builds the fixture packs)")
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    seq_range = tuple(map(int, args.sequences.split(":")))
    doc_range = tuple(map(int, args.few_shot_sequences.split(":")))
    plain_pack, few_shot_pack = read_pack(args.pack), read_pack(args.few_shot_pack)
    vocab = plain_pack[0]["tokenizer"]["vocabularySize"]
    assert few_shot_pack[0]["tokenizer"]["vocabularySize"] == vocab, "the two packs need the same tokenizer"
    seq_windows = pack_windows(plain_pack, seq_range, args.context)
    doc_windows = pack_windows(few_shot_pack, doc_range, args.context)
    # What the document check covers: documents per window, and few-shot spans holding several segments.
    meta = few_shot_pack[0]
    fs = [s for s in range(*doc_range)
          if meta["sources"][int(few_shot_pack[3][few_shot_pack[4][s]]["source"])]["packing"] == "few-shot"]
    joined = sum(len(spans(few_shot_pack, s, groups=False)) - len(spans(few_shot_pack, s)) for s in fs)
    failures = 0
    work = tempfile.mkdtemp(prefix="model-parity-")
    print(f"transformers {transformers.__version__}, torch {torch.__version__}; 2 layers, hidden 64, 4 heads on 2 KV heads, "
          f"random weights, windows of {args.context} tokens")
    print(f"sequence attention: {seq_windows[0].shape[0]} windows of {args.pack} sequences {args.sequences}, "
          f"{int((seq_windows[1][:, 1:] != -100).sum())} targets")
    print(f"document attention: {doc_windows[0].shape[0]} windows of {args.few_shot_pack} sequences {args.few_shot_sequences} "
          f"({len(fs)} of few-shot sources), {int((doc_windows[1][:, 1:] != -100).sum())} targets, "
          f"{int((doc_windows[2] == 0).sum())} documents (cut to windows); {joined} segments joined to their group's span")
    for factor in (1.0, 4.0):
        model, ckpt = random_model(vocab, factor, work)
        ok, loss, _ = compare_gradients(args, f"rope factor {factor:g}, sequence attention", model, ckpt, args.pack,
                                        args.sequences, seq_windows, "sequence", work)
        failures += not ok
        if factor != 1:
            # The comparison is sensitive to the factor: the same weights without it give another loss.
            plain = transformers.LlamaForCausalLM.from_pretrained(ckpt, torch_dtype=torch.float32, attn_implementation="eager",
                                                                  rope_scaling=None, rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
            with torch.no_grad():
                plain_loss = hf_loss(plain, *seq_windows[:2])[0]
            differs = abs(plain_loss - loss) / abs(loss)
            print(f"  same weights without Position Interpolation: loss {plain_loss:.6f} (differs by {differs:.2e} rel) -> "
                  f"{'OK' if differs > 1e-4 else 'FAIL: the check does not see the factor'}")
            failures += differs <= 1e-4
        ok, loss, grads = compare_gradients(args, f"rope factor {factor:g}, document attention", model, ckpt, args.few_shot_pack,
                                            args.few_shot_sequences, doc_windows, "document", work)
        failures += not ok
        if factor == 1:
            ids, labels, positions = doc_windows
            with torch.no_grad():
                explicit = hf_loss(model, ids, labels, positions=positions, explicit_mask=True)[0]
            agree = abs(explicit - loss) / abs(loss)
            print(f"  transformers with an explicit 4-D block-diagonal mask: loss {explicit:.6f} (rel {agree:.2e} to its "
                  f"packed-sequence masking) -> {'OK' if agree < 1e-6 else 'FAIL'}")
            failures += agree >= 1e-6
            failures += not sensitive("document masking", model, doc_windows, None, loss, grads,
                                      "sequence attention on the same windows")
            per_segment = pack_windows(few_shot_pack, doc_range, args.context, groups=False)[2]
            failures += not sensitive("few-shot groups", model, doc_windows, per_segment, loss, grads,
                                      "one document per segment (groups not joined)")

    # A checkpoint written by longmix train, loaded by transformers.
    out = os.path.join(work, "trained")
    subprocess.run([args.longmix, "train", "--pack", args.pack, "--model", "Models/tiny-fixture.json", "--steps", "3",
                    "--context", str(args.context), "--output", out, "--lr", "3e-3", "--threads", str(args.threads), "--quiet"],
                   check=True, capture_output=True)
    ckpt = os.path.join(out, "step-000003")
    model = transformers.LlamaForCausalLM.from_pretrained(ckpt, torch_dtype=torch.float32, attn_implementation="eager")
    ids, labels, _ = seq_windows
    with torch.no_grad():
        loss, logits = hf_loss(model, ids, labels)
    logits_path = os.path.join(work, "logits.safetensors")
    ours = longmix_loss(args, ckpt, args.context, args.pack, args.sequences, logits=logits_path)
    our_logits = load_file(logits_path)["logits"]
    logits_rel = rel(our_logits, logits.numpy())
    max_abs = float(np.abs(our_logits - logits.numpy()).max())
    loss_rel = abs(ours["loss"] - loss) / abs(loss)
    ok = loss_rel < 1e-4 and logits_rel < 1e-4
    failures += not ok
    print(f"longmix train checkpoint in transformers: loss transformers {loss:.6f} LongMix {ours['loss']:.6f} "
          f"(rel {loss_rel:.2e}); first window's logits rel error {logits_rel:.2e}, max abs {max_abs:.2e} -> {'OK' if ok else 'FAIL'}")
    print("FAILED" if failures else "parity: all checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
