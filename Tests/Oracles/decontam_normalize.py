#!/usr/bin/env python3
"""Oracle for LongMix's decontamination normalizations (Sources/Decontamination/Normalization.swift).

Reads JSON lines {"normalization": "helm"|"gpt3"|"unicode", "text": str} on stdin and writes one
JSON line per input: {"words": [str, ...]}. Each normalization is written here from its
definition with Python's own str/re/unicodedata, independently of the Swift code:

- helm: lowercase, then split on runs of whitespace or ASCII punctuation (string.punctuation),
  as HELM's data-overlap scripts do (re.split over [\\s<punctuation>]+, empty strings dropped).
- gpt3: lowercase, delete ASCII punctuation and every Unicode P* character, split on whitespace.
- unicode: NFKD, lowercase, drop Mn (accents), ASCII punctuation and P* to a space, Nd digits to
  '0', split on whitespace.

Lowercasing is per character (c.lower()), which differs from str.lower() only in the Greek final
sigma rule; LongMix documents that choice.
"""
import json
import re
import string
import sys
import unicodedata

HELM_SPLIT = re.compile(r"[\s%s]+" % re.escape(string.punctuation))


def lower(text):
    return "".join(c.lower() for c in text)


def is_punct(c):
    return c in string.punctuation or unicodedata.category(c).startswith("P")


def helm(text):
    return [w for w in HELM_SPLIT.split(lower(text)) if w]


def gpt3(text):
    return "".join(c for c in lower(text) if not is_punct(c)).split()


def unicode_words(text):
    out = []
    for c in lower(unicodedata.normalize("NFKD", text)):
        cat = unicodedata.category(c)
        if cat == "Mn":
            continue
        if is_punct(c):
            out.append(" ")
        elif cat == "Nd":
            out.append("0")
        else:
            out.append(c)
    return "".join(out).split()


NORMALIZE = {"helm": helm, "gpt3": gpt3, "unicode": unicode_words}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        words = NORMALIZE[case["normalization"]](case["text"])
        sys.stdout.write(json.dumps({"words": words}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
