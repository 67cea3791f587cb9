"""Oracle: google-research rouge-score (PyPI rouge-score) on JSONL pairs.

stdin: one JSON object per line {"target": str, "prediction": str}; argv[1] "stem" or "nostem".
stdout: one JSON object per line {"rouge1": [p, r, f], "rouge2": [...], "rougeL": [...]},
floats printed with repr so nothing is rounded.
"""
import json
import sys

from rouge_score import rouge_scorer

def main():
    use_stemmer = sys.argv[1] == "stem"
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=use_stemmer)
    out = []
    for line in sys.stdin:
        pair = json.loads(line)
        scores = scorer.score(pair["target"], pair["prediction"])
        out.append(json.dumps({k: [v.precision, v.recall, v.fmeasure] for k, v in scores.items()}))
    sys.stdout.write("\n".join(out) + ("\n" if out else ""))

main()
