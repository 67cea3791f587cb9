#!/usr/bin/env python3
"""Training speed, side by side in one run on the same model, context and thread count:
LongMix (`longmix train`) against PyTorch CPU training of transformers' LlamaForCausalLM (SDPA
attention, AdamW), on the same pack windows. Reports median tokens/s over the steps after the
first, LongMix's achieved GFLOPS (model FLOPs: 6 per matrix parameter per token + 6 * layers *
hidden * T) against cblas_sgemm's 1024^3 rate timed in the same longmix process after each step
(the median of the per-step ratios, so a busy machine slows both sides of each ratio), and
(--memory) the peak RSS of one 32K-token forward+backward of a model with --recompute.

Run it with a Python that has torch + transformers (without them it prints SKIPPED), holding the
benchmark lock:
    flock /tmp/longmix-bench.lock "$LONGMIX_TORCH_PYTHON" scripts/bench/bench_train.py --memory
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile, time

p = argparse.ArgumentParser()
p.add_argument("--longmix", default=".build/release/longmix")
p.add_argument("--pack", default="out/pretrain-32k")
p.add_argument("--model", default="Models/small-fixture.json")
p.add_argument("--context", type=int, default=2048)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--steps", type=int, default=6)
p.add_argument("--memory", action="store_true", help="also the 32K-token peak-RSS run")
p.add_argument("--memory-model", default="Models/small-llama2.json")
args = p.parse_args()

try:
    import numpy as np
    import torch
    import transformers
except ImportError as e:
    print(f"SKIPPED bench_train: needs torch and transformers ({e.name} missing)")
    sys.exit(0)

work = tempfile.mkdtemp(prefix="bench-train-")
config = json.load(open(args.model))

# LongMix
out = os.path.join(work, "longmix")
run = subprocess.run([args.longmix, "train", "--pack", args.pack, "--model", args.model, "--steps", str(args.steps),
                      "--context", str(args.context), "--batch", "1", "--threads", str(args.threads), "--lr", "1e-3",
                      "--quiet", "--measure-sgemm", "--output", out], check=True, capture_output=True, text=True)
# sgemm 1024^3 is timed before the first step and after every step (outside the steps' times), so
# each step's GFLOPS is set against the peak measured right after it on the same (shared) machine.
peaks = {int(m.group(1) or 0): float(m.group(2))
         for m in re.finditer(r"sgemm peak(?: after step (\d+))?: ([0-9.]+) GFLOPS", run.stderr)}
log = [json.loads(l) for l in open(os.path.join(out, "train.jsonl"))]
timed = log[1:]  # the first step warms caches and page tables
lm_tps = statistics.median(r["tokens_per_second"] for r in timed)
lm_gflops = statistics.median(r["gflops"] for r in timed)
peak = statistics.median(peaks[r["step"]] for r in timed)
ratio = statistics.median(r["gflops"] / peaks[r["step"]] for r in timed)
flops_per_token = lm_gflops * 1e9 / lm_tps

# PyTorch on the same windows (the pack's first sequences, windows in order)
torch.set_num_threads(args.threads)
torch.manual_seed(0)
meta = json.load(open(os.path.join(args.pack, "manifest.json")))
n, seq_len = meta["sequences"], meta["seqLen"]
tokens = np.memmap(os.path.join(args.pack, "tokens.bin"), dtype=meta["tokenDtype"], mode="r").reshape(n, seq_len)
mask = np.memmap(os.path.join(args.pack, "loss_mask.bin"), dtype=np.uint8, mode="r").reshape(n, seq_len)
hf_config = transformers.LlamaConfig(**{k: v for k, v in config.items() if k not in ("architectures", "torch_dtype")})
model = transformers.LlamaForCausalLM(hf_config).float()
model.config._attn_implementation = "sdpa"
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
times = []
for step in range(args.steps):
    w = step % (seq_len // args.context)
    ids = torch.tensor(np.asarray(tokens[0, w * args.context:(w + 1) * args.context], dtype=np.int64))[None]
    labels = torch.where(torch.tensor(np.asarray(mask[0, w * args.context:(w + 1) * args.context]))[None] == 1, ids, -100)
    start = time.perf_counter()
    loss = model(input_ids=ids, labels=labels).loss
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    times.append(time.perf_counter() - start)
pt_tps = args.context / statistics.median(times[1:])

print(f"model {args.model} ({sum(p.numel() for p in model.parameters())} parameters), context {args.context}, "
      f"batch 1, {args.threads} threads, {args.steps} steps (median of steps 2..{args.steps}); machine shared with other jobs")
print(f"LongMix   {lm_tps:9.0f} tokens/s   {lm_gflops:6.1f} GFLOPS achieved; cblas_sgemm peak {peak:.1f} GFLOPS "
      f"(1024^3, same process, median of the timings after each step); median per-step ratio {100 * ratio:.0f}% of peak")
print("  per step (tokens/s, GFLOPS, sgemm peak after it): "
      + ", ".join(f"{r['tokens_per_second']:.0f}/{r['gflops']:.1f}/{peaks[r['step']]:.1f}" for r in log))
print(f"PyTorch   {pt_tps:9.0f} tokens/s   {pt_tps * flops_per_token / 1e9:6.1f} GFLOPS by the same FLOP count "
      f"(torch {torch.__version__}, LlamaForCausalLM, SDPA, AdamW)")
print(f"ratio LongMix / PyTorch: {lm_tps / pt_tps:.2f}x")

if args.memory:
    out = os.path.join(work, "memory")
    run = subprocess.run([args.longmix, "train", "--pack", args.pack, "--model", args.memory_model, "--steps", "1",
                          "--context", "32768", "--batch", "1", "--threads", str(args.threads), "--recompute", "--quiet",
                          "--output", out], check=True, capture_output=True, text=True)
    rss = float(re.search(r"peak RSS ([0-9.]+) MB", run.stdout).group(1))
    step = json.loads(open(os.path.join(out, "train.jsonl")).readline())
    print(f"32K-token forward+backward+AdamW step of {args.memory_model} with --recompute: peak RSS {rss:.0f} MB, "
          f"{step['seconds']:.1f} s, {step['gflops']:.1f} GFLOPS")
