#!/usr/bin/env python3
"""Writes the task fixtures under Fixtures/tasks/: synthetic Lost-in-the-Middle records and
chapter-level BookSum records, plus files of deliberately bad records.

Deterministic (fixed seeds, no clock): rerunning writes byte-identical files.

  mqa/nq-synthetic.jsonl          8 records, 24 ctxs each (readable; k up to 20)
  mqa/nq-synthetic-120.jsonl.zst  4 records, 120 ctxs each (k up to 100)
  mqa/bad-records.jsonl           one bad record per line (see BAD_MQA below)
  booksum/chapters.jsonl          6 chapters with summaries (kmfoda/booksum column names)
  booksum/bad-records.jsonl       one bad record per line

Layout follows nelson-liu/lost-in-the-middle's retrieval results: question, answers,
ctxs[{id, title, text, score, hasanswer, isgold}] in retrieval order, nq_annotated_gold
{title, long_answer, chunked_long_answer, short_answers}. Some ctxs contain the answer
(hasanswer true) and must never become distractors; some records mark the gold with isgold
instead of nq_annotated_gold, like the QA files their script writes.
Usage: scripts/make_task_fixtures.py [--out Fixtures/tasks]
"""
import argparse
import json
import os
import random

import zstandard

WORDS = """river mountain castle harbor engine violin orchard glacier lantern meadow archive comet
treaty festival canal museum desert forest island bridge tower valley garden market station
library theater cathedral village kingdom empire republic senate colony frontier lighthouse
observatory mill quarry vineyard monastery fortress citadel bazaar plaza avenue""".split()
NAMES = """Aldric Brenna Corvin Delphine Evander Fiora Gideon Halcyon Isolde Jasper Kestrel Lysander
Maren Nerissa Oberon Peregrine Quillon Rosalind Silas Thessaly""".split()
PLACES = """Velmora Ashgrove Coldharbor Duskmere Emberfall Frostholm Greywater Hollowbrook Ironvale
Juniper Knollwood Larkspur""".split()

def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."

def passage(rng, sentences=2):
    return " ".join(sentence(rng, rng.randint(6, 11)) for _ in range(sentences))

def mqa_record(rng, index, n_ctxs, gold_style):
    name, place = rng.choice(NAMES), rng.choice(PLACES)
    year = str(rng.randint(1200, 1990))
    question = f"in what year did {name} found the {rng.choice(WORDS)} of {place}"
    answers = [year] + ([f"in {year}"] if index % 3 == 0 else [])
    gold_text = f"{passage(rng, 1)} {name} founded it in {year}, long before {rng.choice(PLACES)}. {passage(rng, 1)}"
    gold_title = f"{place} ({name})"
    ctxs = []
    for i in range(n_ctxs):
        has_answer = rng.random() < 0.08
        text = passage(rng, 1) + (f" The year {year} is remembered there." if has_answer else "")
        ctxs.append({"id": str(1000 * index + i), "title": f"{rng.choice(PLACES)} {rng.choice(WORDS).title()}",
                     "text": text, "score": f"{1.9 - i * 0.01:.4f}", "hasanswer": has_answer, "isgold": False})
    record = {"question": question, "answers": answers}
    if gold_style == "annotated":
        record["ctxs"] = ctxs
        record["nq_annotated_gold"] = {"title": gold_title, "long_answer": gold_text,
                                       "chunked_long_answer": gold_text, "short_answers": [year]}
    else:
        # A file as make_qa_data_from_retrieval_results.py writes it: the gold inside ctxs, marked.
        gold = {"title": gold_title, "text": gold_text, "hasanswer": True, "isgold": True}
        ctxs = [c for c in ctxs if not c["hasanswer"]]
        ctxs.insert(rng.randint(0, len(ctxs)), gold)
        record["ctxs"] = ctxs
    return record

# Edge cases a prompt builder must keep verbatim: quotes, backslashes, braces, unicode, a newline.
EDGE_TITLES = ['Caf\u00e9 "Noir" {draft}', "Back\\slash & <tags>", "\u65e5\u672c\u8a9e \u2014 title"]

def mqa_records(seed, count, n_ctxs):
    rng = random.Random(seed)
    records = []
    for i in range(count):
        record = mqa_record(rng, i, n_ctxs, "annotated" if i % 4 != 3 else "marked")
        if i < len(EDGE_TITLES):
            record["ctxs"][0]["title"] = EDGE_TITLES[i]
            record["ctxs"][0]["text"] += " Line one\nline two {0} %s \\n"
        records.append(record)
    return records

def bad_mqa(rng):
    good = lambda: mqa_record(rng, 1, 8, "annotated")
    missing_answers = good(); del missing_answers["answers"]
    empty_answers = good(); empty_answers["answers"] = []
    no_gold = good(); del no_gold["nq_annotated_gold"]
    too_few = good(); too_few["ctxs"] = too_few["ctxs"][:5]
    no_hasanswer = good(); del no_hasanswer["ctxs"][2]["hasanswer"]
    answers_not_strings = good(); answers_not_strings["answers"] = [1984]
    lines = [json.dumps(r) for r in (missing_answers, empty_answers, no_gold, too_few, no_hasanswer, answers_not_strings)]
    lines.append('{"question": "truncated record", "answers": ["x"], "ctxs": [')
    return lines

def chapter(rng, paragraphs):
    return "\n\n".join(" ".join(sentence(rng, rng.randint(8, 16)) for _ in range(rng.randint(3, 6)))
                       for _ in range(paragraphs))

def booksum_records(seed):
    rng = random.Random(seed)
    out = []
    for i in range(6):
        name = rng.choice(NAMES)
        out.append({"bid": 100 + i, "book_id": f"synthetic-book-{i}.chapter-{i + 1}",
                    "summary_id": f"chapter {i + 1}", "source": "synthetic",
                    "chapter": f"Chapter {i + 1}\n\n" + chapter(rng, 4 + i % 3),
                    "summary_text": f"{name} travels to {rng.choice(PLACES)}. " + passage(rng, 3),
                    "chapter_length": 0, "summary_length": 0})
    return out

def bad_booksum(rng):
    good = lambda: booksum_records(99)[0]
    no_summary = good(); del no_summary["summary_text"]
    empty_chapter = good(); empty_chapter["chapter"] = ""
    wrong_type = good(); wrong_type["summary_text"] = ["not", "a", "string"]
    return [json.dumps(r) for r in (no_summary, empty_chapter, wrong_type)] + ["[1, 2, 3]"]

def write_lines(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    if path.endswith(".zst"):
        data = zstandard.ZstdCompressor(level=19).compress(data)
    with open(path, "wb") as f:
        f.write(data)

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Fixtures", "tasks"))
    out = parser.parse_args().out
    write_lines(os.path.join(out, "mqa", "nq-synthetic.jsonl"), [json.dumps(r) for r in mqa_records(1, 8, 24)])
    write_lines(os.path.join(out, "mqa", "nq-synthetic-120.jsonl.zst"), [json.dumps(r) for r in mqa_records(2, 4, 120)])
    write_lines(os.path.join(out, "mqa", "bad-records.jsonl"), bad_mqa(random.Random(3)))
    write_lines(os.path.join(out, "booksum", "chapters.jsonl"), [json.dumps(r) for r in booksum_records(4)])
    write_lines(os.path.join(out, "booksum", "bad-records.jsonl"), bad_booksum(random.Random(5)))

if __name__ == "__main__":
    main()
