"""Oracle: an independent implementation of the published QA metric definitions.

- SQuAD v1.1 normalize_answer: lower(); drop characters of string.punctuation; replace the whole
  words a/an/the (regex \\b(a|an|the)\\b) by a space; " ".join(s.split()).
- exact match: normalized prediction == normalized gold, max over golds.
- F1: bag-of-token overlap of normalized tokens, 0 if no overlap, max over golds.
- best_subspan_em (Lost in the Middle): prediction.split("\\n")[0].strip(), then 1 if any
  normalized gold is a substring of the normalized prediction.

stdin: JSONL {"prediction": str, "answers": [str]}; stdout: JSONL {"em", "f1", "best_subspan_em",
"normalized_prediction"}.
"""
import json
import re
import string
import sys
from collections import Counter

PUNCTUATION = frozenset(string.punctuation)
ARTICLES = re.compile(r"\b(a|an|the)\b")

def normalize(text):
    text = text.lower()
    text = "".join(c for c in text if c not in PUNCTUATION)
    text = ARTICLES.sub(" ", text)
    return " ".join(text.split())

def f1_one(prediction, gold):
    p, g = normalize(prediction).split(), normalize(gold).split()
    overlap = sum((Counter(p) & Counter(g)).values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(p), overlap / len(g)
    return (2 * precision * recall) / (precision + recall)

def main():
    out = []
    for line in sys.stdin:
        record = json.loads(line)
        prediction, answers = record["prediction"], record["answers"]
        first_line = normalize(prediction.split("\n")[0].strip())
        out.append(json.dumps({
            "em": max([float(normalize(prediction) == normalize(a)) for a in answers], default=0.0),
            "f1": max([f1_one(prediction, a) for a in answers], default=0.0),
            "best_subspan_em": float(any(normalize(a).lower() in first_line.lower() for a in answers)),
            "normalized_prediction": normalize(prediction),
        }))
    sys.stdout.write("\n".join(out) + ("\n" if out else ""))

main()
