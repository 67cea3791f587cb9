#!/usr/bin/env python3
"""Benchmark: `longmix tasks mqa` against a Python build of the same prompts.

Generates Lost-in-the-Middle-layout records (the fixture generator's, scaled up: --records
records of 120 ctxs) as .jsonl, then builds k-document prompts with the gold at a fixed position,
side by side on the same file:

  LongMix: longmix tasks mqa input.jsonl -k K --gold-position P -o out.jsonl
  peer:    Python (json + the Lost in the Middle procedure: distractors with hasanswer False in
           retrieval order, gold inserted with list.insert, the qa.prompt template), writing the
           same fields with json.dumps

alternately, --runs times each; prints medians (wall and CPU) and the ratios, and checks that both wrote the
same prompts and completions. LongMix publishes its output atomically (fsync + rename); the
peer just writes, so wall time favours the peer slightly.

Usage: bench_tasks_mqa.py --longmix .build/release/longmix [--records 3000] [-k 50] [--runs 5]
"""
import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from make_task_fixtures import mqa_record  # noqa: E402

PEER = r"""
import json, sys
TEMPLATE = ("Write a high-quality answer for the given question using only the provided search results "
            "(some of which might be irrelevant).\n\n{search_results}\n\nQuestion: {question}\nAnswer:")
src, k, position, dst = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(src, encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
    for line in fin:
        if not line.strip():
            continue
        r = json.loads(line)
        g = r["nq_annotated_gold"]
        gold = {"title": g["title"], "text": g["chunked_long_answer"]}
        docs = [c for c in r["ctxs"] if c["hasanswer"] is False and c.get("isgold") is not True][: k - 1]
        if len(docs) < k - 1:
            raise ValueError("too few distractors")
        docs.insert(position, gold)
        prompt = TEMPLATE.format(question=r["question"], search_results="\n".join(
            f"Document [{i + 1}](Title: {d['title']}) {d['text']}" for i, d in enumerate(docs)))
        completion = " " + r["answers"][0]
        fout.write(json.dumps({"id": r["question"], "prompt": prompt, "completion": completion,
                               "text": prompt + completion, "question": r["question"], "answers": r["answers"],
                               "gold_position": position, "num_documents": k}, ensure_ascii=False) + "\n")
"""


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd):
    """Wall seconds and CPU seconds (user + system) of one run."""
    cpu, start = cpu_seconds(), time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start, cpu_seconds() - cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--longmix", required=True)
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("-k", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    position = args.k // 2
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.jsonl")
        rng = random.Random(11)
        with open(src, "w", encoding="utf-8") as f:
            for i in range(args.records):
                f.write(json.dumps(mqa_record(rng, i, 120, "annotated")) + "\n")
        ours_out, peer_out = os.path.join(tmp, "ours.jsonl"), os.path.join(tmp, "peer.jsonl")
        ours_cmd = [args.longmix, "tasks", "mqa", src, "-k", str(args.k), "--gold-position", str(position), "-o", ours_out, "--force"]
        peer_cmd = [sys.executable, "-c", PEER, src, str(args.k), str(position), peer_out]
        ours_times, peer_times, ours_cpu, peer_cpu = [], [], [], []
        for _ in range(args.runs):
            t, c = timed(ours_cmd)
            ours_times.append(t)
            ours_cpu.append(c)
            t, c = timed(peer_cmd)
            peer_times.append(t)
            peer_cpu.append(c)
        with open(ours_out, encoding="utf-8") as a, open(peer_out, encoding="utf-8") as b:
            ours = [json.loads(line) for line in a]
            peer = [json.loads(line) for line in b]
        same = len(ours) == len(peer) and all(
            x["prompt"] == y["prompt"] and x["completion"] == y["completion"] for x, y in zip(ours, peer))
        mb_in, mb_out = os.path.getsize(src) / 1e6, os.path.getsize(ours_out) / 1e6
        print(f"{args.records} records ({mb_in:.1f} MB in, {mb_out:.1f} MB out), k={args.k}, gold at {position}, {args.runs} runs each")
        print(f"longmix tasks mqa : median {statistics.median(ours_times):.3f} s wall, {statistics.median(ours_cpu):.3f} s CPU")
        print(f"python (json)     : median {statistics.median(peer_times):.3f} s wall, {statistics.median(peer_cpu):.3f} s CPU")
        print(f"speed-up (peer / longmix): {statistics.median(peer_times) / statistics.median(ours_times):.2f}x wall, "
              f"{statistics.median(peer_cpu) / statistics.median(ours_cpu):.2f}x CPU; "
              f"outputs identical: {same}")
        if not same:
            sys.exit("outputs differ")


main()
