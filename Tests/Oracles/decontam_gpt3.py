#!/usr/bin/env python3
"""Oracle for the GPT-3 decontamination protocol (Brown et al. 2020, App. C) as LongMix defines it
(Sources/Decontamination/WindowCutter.swift), written on Python strings (characters = code points).

stdin: one JSON object {"n", "window", "min_piece", "max_pieces", "contaminants": [str],
"documents": [str]}. stdout: one JSON line per document:
{"verdict": "keep" | "cut" | "dropped:<reason>", "pieces": [str]}.

Words: GPT-3 normalization (per-character lowercase; ASCII punctuation and Unicode P* deleted;
split on whitespace). A word's span runs from its first to its last kept character. A hit is an
n-gram of the document equal to one of the contaminants' n-grams; its span runs from its first
word's start to its last word's end. Rules: widen each hit by `window` characters per side
(clamped), merge overlapping or touching spans, split the document into the non-empty pieces
between them; more than `max_pieces` pieces drops the document; pieces under `min_piece`
characters are dropped; no piece left drops the document.
"""
import json
import string
import sys
import unicodedata


def is_punct(c):
    return c in string.punctuation or unicodedata.category(c).startswith("P")


def words_with_spans(text):
    words, current, start, end = [], [], 0, 0
    for i, c in enumerate(text):
        if c.isspace():
            if current:
                words.append(("".join(current), start, end))
                current = []
        elif not is_punct(c):
            if not current:
                start = i
            current.append(c.lower())
            end = i + 1
    if current:
        words.append(("".join(current), start, end))
    # Same words as the plain definition, which does not track positions.
    plain = "".join(c for c in "".join(ch.lower() for ch in text) if not is_punct(c)).split()
    assert [w for w, _, _ in words] == plain, (words, plain)
    return words


def ngrams(words, n):
    return [(tuple(w for w, _, _ in words[i:i + n]), words[i][1], words[i + n - 1][2])
            for i in range(len(words) - n + 1)]


def clean(doc, index, n, window, min_piece, max_pieces):
    hits = [(s, e) for gram, s, e in ngrams(words_with_spans(doc), n) if gram in index]
    if not hits:
        return "keep", [doc]
    widened = sorted((max(0, s - window), min(len(doc), e + window)) for s, e in hits)
    merged = []
    for s, e in widened:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    pieces, start = [], 0
    for s, e in merged:
        if s > start:
            pieces.append(doc[start:s])
        start = e
    if start < len(doc):
        pieces.append(doc[start:])
    if len(pieces) > max_pieces:
        return "dropped:contaminated-too-many-pieces", []
    kept = [p for p in pieces if len(p) >= min_piece]
    if not kept:
        return "dropped:contaminated-no-clean-piece", []
    return "cut", kept


def main():
    job = json.load(sys.stdin)
    n = job["n"]
    index = set()
    for text in job["contaminants"]:
        index.update(gram for gram, _, _ in ngrams(words_with_spans(text), n))
    for doc in job["documents"]:
        verdict, pieces = clean(doc, index, n, job["window"], job["min_piece"], job["max_pieces"])
        sys.stdout.write(json.dumps({"verdict": verdict, "pieces": pieces}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
