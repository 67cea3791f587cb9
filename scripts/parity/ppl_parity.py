#!/usr/bin/env python3
"""`longmix eval ppl` against transformers: perplexity per byte of the same checkpoint on the same
text, computed independently — tokens by Python sentencepiece, windows by Hugging Face's
"Perplexity of fixed-length models" loop (its last window reaching back a full context, as
LongMix documents), next-token losses by LlamaForCausalLM with labels -100 outside each window's
scored tokens, bytes as the UTF-8 length of the scored ids' decoding.

Checks, each to 1e-4 relative: non-overlapping and sliding windows (stride), rope factor 1 and 4
(the checkpoint's own factor replaced, as `DIR@4` does), at two contexts.

torch and transformers are large (~6 GB) and stay out of CI: without them this script prints
SKIPPED and exits 0. Usage:
    python scripts/parity/ppl_parity.py --longmix .build/release/longmix
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile


def skip(message):
    print(f"SKIPPED ppl_parity: {message}")
    sys.exit(0)


try:
    import sentencepiece as spm
    import torch
    import transformers
    import zstandard
except ImportError as e:
    skip(f"needs torch, transformers, sentencepiece, zstandard ({e.name} missing); set LONGMIX_TORCH_PYTHON to a "
         "Python that has them")


def documents(directory, limit):
    # Shard files under the directory, recursively, in path order (as LongMix expands a directory).
    paths = sorted(os.path.join(root, name) for root, _, names in os.walk(directory) for name in names)
    for path in paths:
        name = os.path.basename(path)
        if name.endswith(".jsonl.zst"):
            data = zstandard.ZstdDecompressor().stream_reader(open(path, "rb")).read().decode("utf-8")
        elif name.endswith(".jsonl"):
            data = open(path, encoding="utf-8").read()
        else:
            continue
        for line in data.splitlines():
            if line.strip():
                yield json.loads(line)["text"]
                limit -= 1
                if limit == 0:
                    return


def hf_windows(count, context, stride):
    """HF's loop: begin advances by stride, end = min(begin + context, count), the last
    end - prev_end positions scored; the last window then reaches back a full context."""
    out, prev_end, begin = [], 0, 0
    while begin < count:
        end = min(begin + context, count)
        out.append([begin, end, max(prev_end, begin + 1)])
        prev_end = end
        if end == count:
            break
        begin += stride
    out[-1][0] = max(0, out[-1][1] - context)
    return out


def transformers_ppl(model, streams, byte_counts, context, stride):
    nll = 0.0
    with torch.no_grad():
        for ids in streams:
            for begin, end, scored_from in hf_windows(len(ids), context, stride):
                window = torch.tensor([ids[begin:end]])
                labels = window.clone()
                labels[0, : scored_from - begin] = -100
                logits = model(input_ids=window).logits.double()
                logp = torch.log_softmax(logits[0, :-1], dim=-1)
                targets = labels[0, 1:]
                keep = targets != -100
                nll -= logp[keep].gather(1, targets[keep].unsqueeze(1)).sum().item()
    return math.exp(nll / sum(byte_counts))


def load_hf(checkpoint, factor):
    config = transformers.AutoConfig.from_pretrained(checkpoint)
    if factor is not None:
        config.rope_scaling = {"type": "linear", "factor": factor}
        if hasattr(config, "rope_parameters"):
            config.rope_parameters = {"rope_type": "linear", "factor": factor, "rope_theta": config.rope_theta
                                      if hasattr(config, "rope_theta") else 10000.0}
    model = transformers.LlamaForCausalLM.from_pretrained(checkpoint, config=config, torch_dtype=torch.float32,
                                                          attn_implementation="eager")
    model.eval()
    return model


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--longmix", default=".build/release/longmix")
    p.add_argument("--tokenizer", default="Fixtures/tokenizer/fixture-bpe.model")
    p.add_argument("--shards", default="Fixtures/redpajama")
    p.add_argument("--documents", type=int, default=3)
    p.add_argument("--contexts", default="64,256")
    p.add_argument("--stride", type=int, default=24)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    contexts = [int(c) for c in args.contexts.split(",")]
    work = tempfile.mkdtemp(prefix="ppl-parity-")

    # A checkpoint written by LongMix's own trainer (a few steps, so the weights are not just noise).
    pack = os.path.join(work, "pack")
    subprocess.run([args.longmix, "build", "Mixtures/fixtures/pretrain-32k.yaml", "-o", pack, "--quiet"], check=True,
                   capture_output=True)
    run = os.path.join(work, "run")
    subprocess.run([args.longmix, "train", "--pack", pack, "--model", "Models/tiny-fixture.json", "--steps", "20",
                    "--context", "128", "--batch", "2", "--lr", "3e-3", "--out", run, "--threads", str(args.threads),
                    "--quiet"], check=True, capture_output=True)
    checkpoint = os.path.join(run, "step-000020")

    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    largest = max(contexts)
    streams, byte_counts = [], []
    for text in documents(args.shards, 1000):
        ids = [sp.bos_id()] + sp.encode(text)
        if len(ids) < largest:
            continue
        ids = ids[:largest]
        streams.append(ids)
        byte_counts.append(len(sp.decode(ids[1:]).encode("utf-8")))
        if len(streams) == args.documents:
            break
    print(f"transformers {transformers.__version__}, torch {torch.__version__}; {len(streams)} documents of "
          f"{largest} tokens, {sum(byte_counts)} bytes; checkpoint {checkpoint}")

    failures = 0
    for stride in (None, args.stride):
        table_path = os.path.join(work, f"table-{stride}.json")
        cmd = [args.longmix, "eval", "ppl", "--checkpoint", checkpoint, "--checkpoint", checkpoint + "@4",
               "--contexts", args.contexts, "--tokenizer", args.tokenizer, args.shards, "--max-documents",
               str(args.documents), "--json", table_path, "--threads", str(args.threads), "--quiet"]
        if stride:
            cmd += ["--stride", str(stride)]
        subprocess.run(cmd, check=True, capture_output=True)
        table = json.load(open(table_path))
        if table["documents"] != len(streams):
            print(f"FAIL: LongMix scored {table['documents']} documents, this script {len(streams)}")
            failures += 1
        for row, factor in zip(table["rows"], (None, 4.0)):
            model = load_hf(checkpoint, factor)
            for cell in row["cells"]:
                context = cell["context"]
                theirs = transformers_ppl(model, streams, byte_counts, context, stride or context - 1)
                ours = cell["perplexityPerByte"]
                rel = abs(ours - theirs) / theirs
                ok = rel < 1e-4 and cell["bytes"] == sum(byte_counts)
                failures += not ok
                print(f"{'stride ' + str(stride) if stride else 'non-overlapping'}, rope factor {factor or 1:g}, context "
                      f"{context}: LongMix {ours:.6f} transformers {theirs:.6f} (rel {rel:.2e}) -> {'OK' if ok else 'FAIL'}")
    print("FAILED" if failures else "ppl parity: all checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
