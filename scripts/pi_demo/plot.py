#!/usr/bin/env python3
"""Plots perplexity per byte against evaluation context, one line per model, from the JSON that
`longmix eval ppl --json FILE` writes. Points past a model's trained context (extrapolation) are
drawn hollow.

Usage: plot.py TABLE.json OUT.png [--title TEXT]
"""
import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table")
    parser.add_argument("out")
    parser.add_argument("--title", default="Perplexity per byte against context")
    args = parser.parse_args()
    table = json.load(open(args.table))
    contexts = table["contexts"]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for row in table["rows"]:
        values = [cell["perplexityPerByte"] for cell in row["cells"]]
        line, = ax.plot(contexts, values, marker="o", label=row["name"])
        hollow = [(c, v) for c, v, cell in zip(contexts, values, row["cells"]) if cell["extrapolated"]]
        if hollow:
            ax.plot([c for c, _ in hollow], [v for _, v in hollow], linestyle="none", marker="o",
                    markerfacecolor="white", markeredgecolor=line.get_color())
    ax.set_xscale("log", base=2)
    ax.set_xticks(contexts)
    ax.set_xticklabels([str(c) for c in contexts])
    ax.set_xlabel("evaluation context (tokens)")
    ax.set_ylabel("perplexity per byte")
    ax.set_title(args.title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out)
    print(f"plot: {args.out}")


if __name__ == "__main__":
    main()
