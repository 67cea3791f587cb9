"""Oracle: token counts of task examples by Google's sentencepiece.

argv: model path, task JSONL path. stdout: for each record, len(sp.encode(record["text"])) (no BOS/EOS).
"""
import json
import sys

import sentencepiece

sp = sentencepiece.SentencePieceProcessor(model_file=sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as f:
    for line in f:
        print(len(sp.encode(json.loads(line)["text"])))
