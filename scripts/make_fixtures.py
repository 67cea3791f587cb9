#!/usr/bin/env python3
"""Writes LongMix's fixtures: small synthetic shards for every source the mixtures use, and a small
SentencePiece BPE tokenizer trained on their text with LLaMA-2's trainer settings.

Deterministic: the same script writes byte-identical shards on every machine (fixed seeds, no
clock). The tokenizer is trained by Python sentencepiece (single-threaded, fixed seed) and is
committed, so tests never retrain it; rerun this script only to change the fixtures.

Layout written under Fixtures/:
  redpajama/book/book-000.jsonl.zst       long books, most well above 2K tokens
  redpajama/arxiv/arxiv-000.jsonl.zst     papers with meta.abstract (appended after the paper)
  redpajama/other/{c4,wikipedia,stackexchange,github}-000.jsonl.zst
  oig/ul2_oscar-000.jsonl.zst             "<human>: ...\\n<bot>: ..." dialogs
  natural_instructions/ni-000.jsonl.zst   definition / inputs / targets / meta.task_name
  p3/p3-000.jsonl.zst                     inputs / targets / meta.template
  pile/pile-000.jsonl.zst                 text / meta.pile_set_name
  tokenizer/fixture-bpe.model             SentencePiece BPE, vocab 2000
Usage: scripts/make_fixtures.py [--out Fixtures] [--skip-tokenizer]
"""
import argparse
import io
import json
import os
import random

import zstandard

WORDS = """the of and to in a is that for it as was with be by on not he this are or his from at
which but have an they you were their one all we can her has there been if more when will would who
so no she other its may these what them than some him time into only do could new about two first
then also any like our over such my most years should made after even where much many those being
through well your way between because each must three own me before same both make life under might
world long did down work just state while great people how still against see since part again
system general however number course here under water case order during without point interest
form government small good house early public among given help place present large several another
power high possible second end problem use fact man though right thought law within country history
know less war group set every possible take land later child night side although came result local
question until rather whole light today nothing social line mind away name case once hand kind city
value body development table left level study moment area nature certain book paper theory model
data method results section figure equation function energy field space matrix probability sample
distribution network layer training language token sequence context attention position window length
chapter river garden winter summer morning evening letter voice silence memory mountain village
captain daughter mother father brother sister friend stranger doctor teacher journey harbour castle
forest candle shadow ancient quiet gentle bright heavy narrow sudden strange simple careful honest
""".split()
UNICODE_SPICE = ["café", "naïve", "Zürich", "São Paulo", "Ελλάδα", "Москва", "東京", "北京大学",
                 "🙂", "👩‍💻", "e\u0301", "Å", "—", "“quoted”", "½", "ﬁ", "\u00a0", "日本語のテキスト"]


def zipf_words(rng, n):
    # Zipf-like: index ~ floor(len * u^3) favours the head of the list.
    return [WORDS[int(len(WORDS) * rng.random() ** 3)] for _ in range(n)]


def sentence(rng, lo=6, hi=24):
    words = zipf_words(rng, rng.randint(lo, hi))
    if rng.random() < 0.15:
        words.insert(rng.randrange(len(words)), str(rng.randint(0, 99999)))
    if rng.random() < 0.08:
        words.insert(rng.randrange(len(words)), rng.choice(UNICODE_SPICE))
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice([".", ".", ".", "?", "!", ";", ":"])


def paragraph(rng, sentences=(3, 9)):
    return " ".join(sentence(rng) for _ in range(rng.randint(*sentences)))


def long_text(rng, words_target):
    parts, count = [], 0
    while count < words_target:
        p = paragraph(rng)
        parts.append(p)
        count += p.count(" ") + 1
    return "\n\n".join(parts)


def book(rng, i):
    chapters = []
    for c in range(rng.randint(3, 8)):
        chapters.append("CHAPTER %s\n\n%s" % (["I", "II", "III", "IV", "V", "VI", "VII", "VIII"][c],
                                              long_text(rng, rng.randint(900, 5000))))
    return {"text": "\n\n".join(chapters),
            "meta": {"title": "The %s of the %s" % tuple(w.title() for w in zipf_words(rng, 2)),
                     "short_book_title": "Fixture Book %d" % i, "publication_date": 1850 + i}}


def arxiv(rng, i):
    body = []
    for name in ("Introduction", "Method", "Experiments", "Conclusion"):
        eq = "\\begin{equation} f(x) = \\sum_{i=1}^{%d} w_i x_i^{2} \\end{equation}" % rng.randint(2, 64)
        body.append("\\section{%s}\n%s\n%s" % (name, long_text(rng, rng.randint(150, 900)), eq))
    return {"text": "\n\n".join(body),
            "meta": {"arxiv_id": "23%02d.%05d" % (rng.randint(1, 12), rng.randint(0, 99999)),
                     "abstract": paragraph(rng, (4, 7)), "language": "en"}}


def other(rng, kind, i):
    if kind == "github":
        lines = ["def f_%d(x):" % i]
        for _ in range(rng.randint(40, 400)):
            lines.append("    x = x * %d + %d  # %s" % (rng.randint(1, 9), rng.randint(0, 99), sentence(rng, 3, 8)))
        lines.append("    return x")
        text = "\n".join(lines)
    elif kind == "stackexchange":
        text = "Q:\n\n%s\n\nA:\n\n%s" % (paragraph(rng), long_text(rng, rng.randint(100, 2500)))
    else:
        text = long_text(rng, rng.randint(80, 3000))
    return {"text": text, "meta": {"source": kind, "url": "https://example.org/%s/%d" % (kind, i)}}


def dialog(rng, i):
    turns = []
    for _ in range(rng.randint(2, 30)):
        turns.append("<human>: " + " ".join(sentence(rng) for _ in range(rng.randint(1, 3))))
        turns.append("<bot>: " + paragraph(rng, (2, 12)))
    return {"text": "\n".join(turns)}


def natural_instruction(rng, task, definition, i):
    return {"definition": definition,
            "inputs": paragraph(rng, (1, 6)),
            "targets": sentence(rng, 2, 12),
            "meta": {"task_name": task, "id": "%s-%d" % (task, i)}}


def p3(rng, template, i):
    return {"inputs": "%s\nQuestion: %s" % (paragraph(rng, (1, 5)), sentence(rng)),
            "targets": sentence(rng, 1, 8), "meta": {"template": template, "id": "%s-%d" % (template, i)}}


def pile(rng, i):
    name = rng.choice(["Pile-CC", "PubMed Central", "Books3", "OpenWebText2", "FreeLaw", "Wikipedia (en)"])
    return {"text": long_text(rng, rng.randint(200, 6000)), "meta": {"pile_set_name": name}}


def write_shard(path, records):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = "".join(json.dumps(r) + "\n" for r in records).encode("utf-8")
    # Two frames, so every test that reads fixtures also exercises multi-frame zstd.
    half = data.index(b"\n", len(data) // 2) + 1
    compressor = zstandard.ZstdCompressor(level=19)
    with open(path + ".tmp", "wb") as f:
        f.write(compressor.compress(data[:half]))
        f.write(compressor.compress(data[half:]))
    os.replace(path + ".tmp", path)
    return data


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="Fixtures")
    parser.add_argument("--skip-tokenizer", action="store_true")
    args = parser.parse_args()
    out = args.out
    corpus = io.StringIO()

    def emit(relpath, records):
        data = write_shard(os.path.join(out, relpath), records)
        for r in records:
            for key in ("text", "definition", "inputs", "targets"):
                if key in r:
                    corpus.write(r[key] + "\n")
        print("  %-45s %4d records %8d bytes of JSON" % (relpath, len(records), len(data)))

    rng = random.Random(1)
    emit("redpajama/book/book-000.jsonl.zst", [book(rng, i) for i in range(16)])
    rng = random.Random(2)
    emit("redpajama/arxiv/arxiv-000.jsonl.zst", [arxiv(rng, i) for i in range(60)])
    for seed, kind in enumerate(["c4", "wikipedia", "stackexchange", "github"], start=3):
        rng = random.Random(seed)
        emit("redpajama/other/%s-000.jsonl.zst" % kind, [other(rng, kind, i) for i in range(30)])
    rng = random.Random(7)
    emit("oig/ul2_oscar-000.jsonl.zst", [dialog(rng, i) for i in range(80)])
    rng = random.Random(8)
    ni = []
    for t in range(12):
        task = "task%03d_%s" % (t * 37 + 1, "_".join(zipf_words(rng, 2)))
        definition = "In this task, " + paragraph(rng, (2, 4))
        ni += [natural_instruction(rng, task, definition, i) for i in range(rng.randint(20, 80))]
    rng.shuffle(ni)
    emit("natural_instructions/ni-000.jsonl.zst", ni)
    rng = random.Random(9)
    templates = ["%s_%s" % tuple(zipf_words(rng, 2)) + "_template_%d" % t for t in range(10)]
    emit("p3/p3-000.jsonl.zst", [p3(rng, rng.choice(templates), i) for i in range(500)])
    rng = random.Random(10)
    emit("pile/pile-000.jsonl.zst", [pile(rng, i) for i in range(50)])

    if not args.skip_tokenizer:
        import sentencepiece as spm
        os.makedirs(os.path.join(out, "tokenizer"), exist_ok=True)
        lines = [l for l in corpus.getvalue().split("\n") if l.strip()]
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines), model_prefix=os.path.join(out, "tokenizer", "fixture-bpe"),
            model_type="bpe", vocab_size=2000, character_coverage=0.99995, byte_fallback=True,
            split_digits=True, normalization_rule_name="identity", add_dummy_prefix=True,
            remove_extra_whitespaces=False, allow_whitespace_only_pieces=True,
            max_sentence_length=1 << 20, num_threads=1, seed_sentencepiece_size=200000,
            input_sentence_size=0, shuffle_input_sentence=False,
            unk_id=0, bos_id=1, eos_id=2, pad_id=-1, minloglevel=2)
        os.remove(os.path.join(out, "tokenizer", "fixture-bpe.vocab"))
        print("  tokenizer/fixture-bpe.model")


if __name__ == "__main__":
    main()
