"""Oracle: multi-document QA prompts written independently from Lost in the Middle's published
procedure (nelson-liu/lost-in-the-middle: make_qa_data_from_retrieval_results.py and
prompting.get_qa_prompt with the qa.prompt template).

argv: records path (.jsonl or .jsonl.zst), k, then "every" or a 0-based gold index, then
"answer" or "long-data-collections".
stdout: JSONL {"prompt", "completion", "gold_position"}, records in file order, positions ascending.
Gold: nq_annotated_gold (title, chunked_long_answer), else the single ctx with isgold true.
Distractors: ctxs whose hasanswer is False and that are not isgold, first k-1 in retrieval order.
"""
import json
import sys

import zstandard

TEMPLATE = ("Write a high-quality answer for the given question using only the provided search results "
            "(some of which might be irrelevant).\n\n{search_results}\n\nQuestion: {question}\nAnswer:")

def read_lines(path):
    data = open(path, "rb").read()
    if path.endswith(".zst"):
        data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return [line for line in data.decode("utf-8").split("\n") if line.strip()]

def main():
    path, k, where, style = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    out = []
    for line in read_lines(path):
        record = json.loads(line)
        if "nq_annotated_gold" in record:
            gold = {"title": record["nq_annotated_gold"]["title"], "text": record["nq_annotated_gold"]["chunked_long_answer"]}
        else:
            (gold,) = [c for c in record["ctxs"] if c.get("isgold") is True]
        distractors = [c for c in record["ctxs"] if c["hasanswer"] is False and c.get("isgold") is not True][: k - 1]
        positions = range(k) if where == "every" else [int(where)]
        for position in positions:
            documents = list(distractors)
            documents.insert(position, gold)
            formatted = [f"Document [{i + 1}](Title: {d['title']}) {d['text']}" for i, d in enumerate(documents)]
            prompt = TEMPLATE.format(question=record["question"], search_results="\n".join(formatted))
            completion = " " + record["answers"][0]
            if style == "long-data-collections":
                completion += f"\nLong Answer: {gold['text']}\nGold Document ID: {position + 1}"
            out.append(json.dumps({"prompt": prompt, "completion": completion, "gold_position": position}))
    sys.stdout.write("".join(line + "\n" for line in out))

main()
