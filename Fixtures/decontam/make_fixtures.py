#!/usr/bin/env python3
"""Writes the decontamination fixtures (deterministic; re-run to regenerate, then commit).

- Fixtures/helm/<scenario>.jsonl: HELM scenario exports (one line per split: train, valid, test)
  for the 16 HELM v1.0 core scenarios, with synthetic instances written for LongMix: pseudo-word
  text so that no n-gram is shared by accident. Each input starts with 30 plain words, then 24
  words where every third is decorated with an apostrophe, a hyphen or straight double quotes.
  Each instance has one long reference (24 plain words) and two short choices.
- Fixtures/decontam/train/*.jsonl: training records {"id", "text", "meta": {...}} with planted
  overlaps. meta.plant names the kind, meta.match {scenario, split, instance, part} names the
  instance it came from, and meta.expect says, per check, whether it must be found:
  "together" (10-grams, helm normalization), "gpt3" (13-grams, gpt3 normalization),
  "helm" (13-grams, helm normalization), "unicode" (13-grams, unicode normalization).
  Kinds: exact, case_punct (case changed, ASCII punctuation added between words), line_breaks,
  curly (’ “ ” — in place of ' " -: HELM normalization keeps them inside words, so only the
  gpt3 and unicode normalizations find it), long_document (inside ~60 KB), near_miss_12
  (12 shared words: a 10-gram hit only), near_miss_9, reordered (adjacent words swapped every
  fifth word), train_split (an instance of the train split, not indexed by default).
- Fixtures/decontam/train/boilerplate.jsonl: one licence sentence (also a test instance) in 12
  documents; GPT-3's counting rule (> 10 documents) ignores it, the others report it.
- Fixtures/decontam/train/grouped.jsonl: Natural-Instructions-like records with a "task" group;
  one member of task "task_dirty" has an exact plant, so the Together protocol drops the task.
- Fixtures/decontam/bad_export.jsonl: line 3 lacks instances[1].input.
"""
import json
import os
import random

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELM_DIR = os.path.join(ROOT, "helm")
TRAIN_DIR = os.path.join(ROOT, "decontam", "train")

rng = random.Random(20230728)
CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"


def syllable():
    return rng.choice(CONSONANTS) + rng.choice(VOWELS)


INSTANCE_WORDS = sorted({syllable() + syllable() + syllable() for _ in range(6000)})  # 6 letters
FILLER_WORDS = sorted({syllable() + syllable() for _ in range(400)})  # 4 letters: disjoint

SCENARIOS = [
    ("mmlu", "helm.benchmark.scenarios.mmlu_scenario.MMLUScenario", {"subject": "anatomy"}),
    ("boolq", "helm.benchmark.scenarios.boolq_scenario.BoolQScenario", {"only_contrast": False}),
    ("narrativeqa", "helm.benchmark.scenarios.narrativeqa_scenario.NarrativeQAScenario", {}),
    ("natural_qa_closedbook", "helm.benchmark.scenarios.natural_qa_scenario.NaturalQAScenario", {"mode": "closedbook"}),
    ("natural_qa_openbook", "helm.benchmark.scenarios.natural_qa_scenario.NaturalQAScenario", {"mode": "openbook_longans"}),
    ("quac", "helm.benchmark.scenarios.quac_scenario.QuACScenario", {}),
    ("hellaswag", "helm.benchmark.scenarios.commonsense_scenario.HellaSwagScenario", {}),
    ("openbookqa", "helm.benchmark.scenarios.commonsense_scenario.OpenBookQA", {}),
    ("truthful_qa", "helm.benchmark.scenarios.truthful_qa_scenario.TruthfulQAScenario", {"task": "mc_single"}),
    ("msmarco_regular", "helm.benchmark.scenarios.msmarco_scenario.MSMARCOScenario", {"track": "regular", "valid_topk": 30}),
    ("msmarco_trec", "helm.benchmark.scenarios.msmarco_scenario.MSMARCOScenario", {"track": "trec", "valid_topk": 30}),
    ("cnn_dm", "helm.benchmark.scenarios.summarization_scenario.SummarizationScenario", {"dataset_name": "cnn-dm", "sampling_min_length": 50, "sampling_max_length": 150, "doc_max_length": 512}),
    ("xsum", "helm.benchmark.scenarios.summarization_scenario.SummarizationScenario", {"dataset_name": "xsum-sampled", "sampling_min_length": 50, "sampling_max_length": 150, "doc_max_length": 512}),
    ("imdb", "helm.benchmark.scenarios.imdb_scenario.IMDBScenario", {"only_contrast": False}),
    ("civil_comments", "helm.benchmark.scenarios.civil_comments_scenario.CivilCommentsScenario", {"demographic": "all"}),
    ("raft", "helm.benchmark.scenarios.raft_scenario.RAFTScenario", {"subset": "ade_corpus_v2"}),
]


def scenario_name(class_name, args):
    inner = ",".join("%s=%s" % (k, v if isinstance(v, str) else json.dumps(v)) for k, v in sorted(args.items()))
    return "%s(%s)" % (class_name.rsplit(".", 1)[-1], inner)


def words(count, vocab=None):
    return [rng.choice(vocab or INSTANCE_WORDS) for _ in range(count)]


def decorate(plain):
    """Every third word gets an apostrophe, a hyphen join or straight double quotes."""
    out, i = [], 0
    while i < len(plain):
        w = plain[i]
        if i % 3 == 2:
            kind = (i // 3) % 3
            if kind == 0:
                out.append(w + "'t")
            elif kind == 1 and i + 1 < len(plain):
                out.append(w + "-" + plain[i + 1])
                i += 1
            else:
                out.append('"' + w + '"')
        else:
            out.append(w)
        i += 1
    return out


def make_instance(ident):
    plain = words(30)
    decorated = decorate(words(24))
    return {
        "input": " ".join(plain) + ". " + " ".join(decorated) + "?",
        "references": [" ".join(words(24)) + ".", " ".join(words(2)), " ".join(words(3))],
        "id": ident,
        "_plain": plain,
        "_decorated": decorated,
    }


def filler(count):
    return " ".join(words(count, FILLER_WORDS))


def to_curly(token):
    token = token.replace("'", "\u2019").replace("-", "\u2014")
    if token.startswith('"'):
        token = "\u201c" + token[1:-1] + "\u201d"
    return token


def main():
    os.makedirs(HELM_DIR, exist_ok=True)
    os.makedirs(TRAIN_DIR, exist_ok=True)
    records = []
    counter = 0

    def add(kind, text, match, expect, path_records):
        nonlocal counter
        counter += 1
        path_records.append({"id": "plant-%03d" % counter, "text": text,
                             "meta": {"plant": kind, "match": match, "expect": expect}})

    all_true = {"together": True, "gpt3": True, "helm": True, "unicode": True}
    all_false = {"together": False, "gpt3": False, "helm": False, "unicode": False}
    for short, class_name, args in SCENARIOS:
        name = scenario_name(class_name, args)
        spec = {"class_name": class_name, "args": args}
        lines = []
        instances = {}
        for split in ("train", "valid", "test"):
            split_instances = [make_instance("id%d" % (k + (0 if split == "train" else 10 if split == "valid" else 20)))
                               for k in range(2)]
            instances[split] = split_instances
            lines.append({"scenario_key": {"scenario_spec": spec, "split": split},
                          "instances": [{k: v for k, v in inst.items() if not k.startswith("_")}
                                        for inst in split_instances]})
        with open(os.path.join(HELM_DIR, short + ".jsonl"), "w") as f:
            for line in lines:
                f.write(json.dumps(line, ensure_ascii=False) + "\n")

        def match(split, inst, part):
            return {"scenario": name, "split": split, "instance": inst["id"], "part": part}

        valid, test = instances["valid"], instances["test"]
        inp = valid[0]["input"]
        # exact: a verbatim slice of the input across both halves.
        cut = inp.split(" ")
        add("exact", filler(40) + " " + " ".join(cut[20:45]) + " " + filler(40),
            match("valid", valid[0], "input"), all_true, records)
        # case_punct: the long reference of a test instance, case changed, punctuation added.
        ref = test[0]["references"][0].rstrip(".").split(" ")
        changed = []
        for k, w in enumerate(ref):
            w = w.upper() if k % 2 else w.capitalize()
            changed.append(["(" + w, w + ",", w + ";", w + ".", w + ")", w + "!"][k % 6])
        add("case_punct", filler(30) + " " + " ".join(changed) + " " + filler(30),
            match("test", test[0], "reference"), all_true, records)
        # line_breaks: the decorated half of a test input, words joined by assorted line breaks.
        dec = test[1]["_decorated"]
        joined = dec[0]
        for k, w in enumerate(dec[1:]):
            joined += ["\n", "\r\n", " \n\t", "\n\n"][k % 4] + w
        add("line_breaks", filler(25) + "\n" + joined + "\n" + filler(25),
            match("test", test[1], "input"), all_true, records)
        # curly: the decorated half with typographic quotes and dashes.
        add("curly", filler(25) + " " + " ".join(to_curly(t) for t in valid[1]["_decorated"]) + " " + filler(25),
            match("valid", valid[1], "input"),
            {"together": False, "gpt3": True, "helm": False, "unicode": True}, records)
        # long_document: 15 plain reference words in the middle of ~60 KB.
        long_ref = valid[1]["references"][0].rstrip(".").split(" ")
        add("long_document", filler(6000) + " " + " ".join(long_ref[3:18]) + " " + filler(6000),
            match("valid", valid[1], "reference"), all_true, records)
        plain = test[0]["_plain"]
        add("near_miss_12", filler(30) + " " + " ".join(plain[5:17]) + " " + filler(30),
            match("test", test[0], "input"),
            {"together": True, "gpt3": False, "helm": False, "unicode": False}, records)
        add("near_miss_9", filler(30) + " " + " ".join(plain[10:19]) + " " + filler(30),
            match("test", test[0], "input"), all_false, records)
        swapped = list(plain[0:25])
        for k in range(3, 24, 5):
            swapped[k], swapped[k + 1] = swapped[k + 1], swapped[k]
        add("reordered", filler(30) + " " + " ".join(swapped) + " " + filler(30),
            match("test", test[0], "input"), all_false, records)
        add("train_split", filler(30) + " " + instances["train"][0]["input"] + " " + filler(30),
            match("train", instances["train"][0], "input"), all_false, records)
    for k in range(20):
        records.append({"id": "clean-%02d" % k, "text": filler(200 + 37 * k), "meta": {"plant": "none"}})
    rng.shuffle(records)
    half = len(records) // 2
    for name, chunk in (("planted-a.jsonl", records[:half]), ("planted-b.jsonl", records[half:])):
        with open(os.path.join(TRAIN_DIR, name), "w") as f:
            for r in chunk:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")

    # Boilerplate: a licence sentence that is also a (plain-format) test instance.
    licence = ("Licensed under the Apache License, Version 2.0 (the \"License\"); you may not use this file "
               "except in compliance with the License. You may obtain a copy of the License at")
    with open(os.path.join(ROOT, "decontam", "plain_testset.jsonl"), "w") as f:
        f.write(json.dumps({"scenario": "LicenceProbe", "split": "test", "id": "lic0", "text": licence}) + "\n")
        f.write(json.dumps({"scenario": "LicenceProbe", "split": "test", "id": "lic0", "part": "reference",
                            "text": "The quick answer is " + " ".join(words(14))}) + "\n")
    with open(os.path.join(TRAIN_DIR, "boilerplate.jsonl"), "w") as f:
        for k in range(12):
            f.write(json.dumps({"id": "boiler-%02d" % k,
                                "text": filler(300) + "\n\n" + licence + "\n\n" + filler(300),
                                "meta": {"plant": "boilerplate",
                                         "match": {"scenario": "LicenceProbe", "split": "test",
                                                   "instance": "lic0", "part": "input"},
                                         "expect": {"together": True, "gpt3": False, "helm": True,
                                                    "unicode": True}}}) + "\n")

    # Grouped source: task_dirty has one contaminated member.
    mmlu = json.loads(open(os.path.join(HELM_DIR, "mmlu.jsonl")).read().splitlines()[2])
    dirty_text = mmlu["instances"][1]["input"]
    with open(os.path.join(TRAIN_DIR, "grouped.jsonl"), "w") as f:
        for task in ("task_dirty", "task_clean"):
            for k in range(5):
                text = filler(80)
                if task == "task_dirty" and k == 2:
                    text = filler(10) + " " + dirty_text + " " + filler(10)
                f.write(json.dumps({"id": "%s-%d" % (task, k), "task": task, "text": text}) + "\n")

    with open(os.path.join(ROOT, "decontam", "bad_export.jsonl"), "w") as f:
        good = make_instance("ok1")
        spec = {"class_name": "helm.benchmark.scenarios.imdb_scenario.IMDBScenario", "args": {}}
        f.write(json.dumps({"scenario_key": {"scenario_spec": spec, "split": "valid"},
                            "instances": [{"input": good["input"], "references": [], "id": "ok1"}]}) + "\n")
        f.write("\n")
        f.write(json.dumps({"scenario_key": {"scenario_spec": spec, "split": "test"},
                            "instances": [{"input": good["input"], "references": [], "id": "ok2"},
                                          {"references": ["x"], "id": "broken"}]}) + "\n")


if __name__ == "__main__":
    main()
