"""Adversarial and real-text test strings for the tokenizer tests, generated deterministically.

Imported by the tokenizer oracles (tokenizer_sentencepiece.py, tokenizer_hf.py); not an oracle
itself. Every string is bytes (some deliberately invalid UTF-8).
"""
import glob
import json
import os
import random

FRAGMENTS = [
    " ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", " \n ", "\u3000", "\u00a0",
    "0", "7", "42", "2023", "3.14159", "1,000,000", "-12", "0x1F", "١٢٣",  # Arabic-Indic digits
    "e\u0301", "\u00e9", "A\u030a", "\u00c5", "\u212b", "\u1100\u1161", "\uac00", "n\u0303\u0301",
    "o\u0308\u0304", "\u0915\u094d\u0937",  # combining marks and canonically-equivalent pairs
    "\U0001F600", "\U0001F469\u200d\U0001F4BB", "\U0001F468\u200d\U0001F469\u200d\U0001F467",
    "\U0001F1EB\U0001F1F7", "\u2764\ufe0f", "\U0001F44D\U0001F3FD", "\u200b", "\u200d", "\ufeff",
    "日本語", "中文字符", "한국어", "ひらがな", "カタカナ", "漢", "Привет", "Ελληνικά", "עברית", "العربية",
    "\x00", "\x01", "\x07", "\x1b[31m", "\x7f", "\u0085", "\u2028", "\u2029",
    "<s>", "</s>", "<unk>", "<0x41>", "<pad>", "\u2581", "\u2581\u2581", " \u2581", "\u2581 ", "\ufffd",
    "Hello", "world", "the", "The", " the", "tokenization", "Tokenizer", "LLaMA", "don't", "U.S.A.",
    "https://example.com/a?b=c", "user@example.org", "#include <stdio.h>", "def f(x):", "{\"k\": [1, 2]}",
    "--", "...", "!!!", "?!", "\u2014", "\u201cquoted\u201d", "\u00bd", "\u2153", "\u00b2", "ﬁ", "Ⅻ", "①",
    "\U0001D400", "\U00010348", "\U0010FFFF", "\ue000",
]

INVALID = [b"\xff", b"\xfe", b"\xc0\x80", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80",
           b"\xbf", b"\xf0\x9f\x98", b"\xc3", b"\xe2\x96", b"\xef\xbf", b"\xf8\x88\x80\x80\x80"]


def vocab_words(pieces, rng, n):
    """Words built from vocabulary pieces, so that merges are exercised heavily."""
    out = []
    for _ in range(n):
        k = rng.randint(1, 4)
        out.append("".join(rng.choice(pieces) for _ in range(k)).replace("\u2581", " "))
    return out


def adversarial(count, seed, pieces):
    rng = random.Random(seed)
    cases = [b"", b" ", b"  ", b"\t", b"\n", b" \n", b"<s>", b"a" * 5000, b"\xe2\x96\x81" * 300,
             " ".join(["x"] * 2000).encode(), ("\u00e9" * 3000).encode(), b" " * 4097,
             ("supercalifragilistic" * 200).encode(), b"\xff" * 100]
    words = vocab_words(pieces, rng, 20000)
    while len(cases) < count:
        kind = rng.random()
        parts = []
        for _ in range(rng.randint(1, 12)):
            r = rng.random()
            if r < 0.45:
                parts.append(rng.choice(FRAGMENTS).encode())
            elif r < 0.85:
                parts.append(rng.choice(words).encode())
            elif r < 0.93:
                parts.append(rng.choice(INVALID))
            elif r < 0.97:
                parts.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 6))))
            else:
                parts.append(rng.choice(FRAGMENTS).encode() * rng.randint(2, 60))
        text = b"".join(parts)
        if kind < 0.1:
            text = b" " * rng.randint(1, 5) + text
        elif kind < 0.2:
            text = text + rng.choice([b" ", b"  ", b"\n", b"\t", b" \n"])
        cases.append(text)
    return cases[:count]


def real_text(repo_root, limit):
    """Documents from the repository's fixture shards (real-looking text in every schema)."""
    import zstandard
    texts = []
    for path in sorted(glob.glob(os.path.join(repo_root, "Fixtures", "**", "*.jsonl.zst"), recursive=True)):
        with open(path, "rb") as f:
            data = zstandard.ZstdDecompressor().stream_reader(f).read()
        for line in data.splitlines():
            record = json.loads(line)
            for value in record.values():
                if isinstance(value, str) and len(value) > 20:
                    texts.append(value.encode("utf-8"))
            if len(texts) >= limit:
                return texts
    return texts


def frame(chunks):
    """Length-prefixed framing: u32 little-endian length, then the bytes."""
    out = bytearray()
    for chunk in chunks:
        out += len(chunk).to_bytes(4, "little") + chunk
    return bytes(out)


def ids_bytes(ids):
    return b"".join(int(i).to_bytes(4, "little") for i in ids)
