#!/usr/bin/env python3
"""LongMix's model against transformers' LlamaForCausalLM and PyTorch autograd, on the same
weights and the same pack windows:

1. for rope factor 1 and 4 (linear Position Interpolation), a randomly initialised HF model is
   saved with save_pretrained; `longmix loss --gradients` loads that checkpoint and reports the
   mean masked next-token loss and every parameter's gradient; PyTorch computes the same with
   labels = token where loss_mask is 1, else -100. Loss must agree to 1e-4 relative, every
   gradient tensor to 1e-3 relative (||a - b|| / ||b||);
2. a checkpoint written by `longmix train` loads in transformers (from_pretrained) and gives the
   same loss on the same windows (1e-4 relative) and the same logits on the first window
   (`longmix loss --logits`, 1e-4 relative).

torch and transformers are large (~6 GB) and stay out of CI: without them this script prints
SKIPPED and exits 0. Usage:
    python scripts/parity/model_parity.py --longmix .build/release/longmix --pack out/pretrain-32k
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
    skip(f"needs torch, transformers, safetensors, numpy ({e.name} missing); e.g. python3 -m venv /work/venv-torch && "
         "/work/venv-torch/bin/pip install torch transformers safetensors")


def pack_windows(pack, sequences, context):
    meta = json.load(open(os.path.join(pack, "manifest.json")))
    n, seq_len = meta["sequences"], meta["seqLen"]
    tokens = np.memmap(os.path.join(pack, "tokens.bin"), dtype=meta["tokenDtype"], mode="r").reshape(n, seq_len)
    mask = np.memmap(os.path.join(pack, "loss_mask.bin"), dtype=np.uint8, mode="r").reshape(n, seq_len)
    a, b = sequences
    ids, labels = [], []
    for s in range(a, b):
        for w in range(seq_len // context):
            t = np.asarray(tokens[s, w * context:(w + 1) * context], dtype=np.int64)
            m = np.asarray(mask[s, w * context:(w + 1) * context])
            ids.append(t)
            labels.append(np.where(m == 1, t, -100))
    return torch.tensor(np.stack(ids)), torch.tensor(np.stack(labels)), meta["tokenizer"]["vocabularySize"]


def hf_loss(model, ids, labels):
    # Mean over all target tokens of the batch (HF shifts labels inside the model).
    out = model(input_ids=ids, labels=labels)
    return out.loss, out.logits


def longmix_loss(args, checkpoint, context, gradients=None, logits=None):
    cmd = [args.longmix, "loss", "--checkpoint", checkpoint, "--pack", args.pack, "--sequences", args.sequences,
           "--context", str(context), "--batch", "4", "--threads", str(args.threads)]
    if gradients:
        cmd += ["--gradients", gradients]
    if logits:
        cmd += ["--logits", logits]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--longmix", default=".build/release/longmix")
    p.add_argument("--pack", default="out/pretrain-32k")
    p.add_argument("--sequences", default="0:1")
    p.add_argument("--context", type=int, default=512)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    if not os.path.exists(os.path.join(args.pack, "manifest.json")):
        skip(f"{args.pack} is not a pack directory (run scripts/demo.sh first)")
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    a, b = map(int, args.sequences.split(":"))
    ids, labels, vocab = pack_windows(args.pack, (a, b), args.context)
    failures = 0
    work = tempfile.mkdtemp(prefix="model-parity-")
    print(f"transformers {transformers.__version__}, torch {torch.__version__}; {ids.shape[0]} windows of {args.context} tokens "
          f"from {args.pack} sequences {args.sequences}, {int((labels[:, 1:] != -100).sum())} targets")
    for factor in (1.0, 4.0):
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
        loss, _ = hf_loss(model, ids, labels)
        model.zero_grad()
        loss.backward()
        grads_path = os.path.join(work, f"grads-{factor:g}.safetensors")
        ours = longmix_loss(args, ckpt, args.context, gradients=grads_path)
        grads = load_file(grads_path)
        loss_rel = abs(ours["loss"] - loss.item()) / abs(loss.item())
        worst = max(((rel(grads[name], param.grad.numpy()), name) for name, param in model.named_parameters()))
        ok = loss_rel < 1e-4 and worst[0] < 1e-3
        failures += not ok
        if factor != 1:
            # The comparison is sensitive to the factor: the same weights without it give another loss.
            plain = transformers.LlamaForCausalLM.from_pretrained(ckpt, torch_dtype=torch.float32, attn_implementation="eager",
                                                                  rope_scaling=None, rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
            with torch.no_grad():
                plain_loss = hf_loss(plain, ids, labels)[0].item()
            sensitive = abs(plain_loss - loss.item()) / abs(loss.item())
            ok = ok and sensitive > 1e-4
            failures += sensitive <= 1e-4
            print(f"  same weights without Position Interpolation: loss {plain_loss:.6f} (differs by {sensitive:.2e} rel)")
        print(f"rope factor {factor:g}: loss transformers {loss.item():.6f} LongMix {ours['loss']:.6f} (rel {loss_rel:.2e}); "
              f"worst gradient rel error {worst[0]:.2e} ({worst[1]}) over {len(grads)} tensors -> {'OK' if ok else 'FAIL'}")

    # A checkpoint written by longmix train, loaded by transformers.
    out = os.path.join(work, "trained")
    subprocess.run([args.longmix, "train", "--pack", args.pack, "--model", "Models/tiny-fixture.json", "--steps", "3",
                    "--context", str(args.context), "--out", out, "--lr", "3e-3", "--threads", str(args.threads), "--quiet"],
                   check=True, capture_output=True)
    ckpt = os.path.join(out, "step-000003")
    model = transformers.LlamaForCausalLM.from_pretrained(ckpt, torch_dtype=torch.float32, attn_implementation="eager")
    with torch.no_grad():
        loss, logits = hf_loss(model, ids, labels)
    logits_path = os.path.join(work, "logits.safetensors")
    ours = longmix_loss(args, ckpt, args.context, logits=logits_path)
    our_logits = load_file(logits_path)["logits"]
    logits_rel = rel(our_logits, logits[0].numpy())
    max_abs = float(np.abs(our_logits - logits[0].numpy()).max())
    loss_rel = abs(ours["loss"] - loss.item()) / abs(loss.item())
    ok = loss_rel < 1e-4 and logits_rel < 1e-4
    failures += not ok
    print(f"longmix train checkpoint in transformers: loss transformers {loss.item():.6f} LongMix {ours['loss']:.6f} "
          f"(rel {loss_rel:.2e}); first window's logits rel error {logits_rel:.2e}, max abs {max_abs:.2e} -> {'OK' if ok else 'FAIL'}")
    print("FAILED" if failures else "parity: all checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
