"""Oracle: Google's sentencepiece on generated adversarial strings and fixture text.

usage: tokenizer_sentencepiece.py --model PATH [--variant NAME --write-model PATH]
                                  --count N --seed S [--real N] [--decode-cases N]
Variants rewrite the ModelProto (normalizer and byte-fallback options) and save it to
--write-model, so the Swift side loads exactly the model sentencepiece used.
Output (binary, little-endian u32 framing): number of cases; for each case its text, its ids
(u32 count then u32 ids) and sp.decode(ids) as UTF-8; then number of decode cases; for each an id
list and its decoding.
"""
import argparse
import os
import random
import sys

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb

sys.path.insert(0, os.path.dirname(__file__))
import tokenizer_cases as tc


def make_variant(proto, name):
    if name == "as-is":
        return
    if name == "no-byte-fallback":
        proto.trainer_spec.byte_fallback = False
        for piece in proto.pieces:
            if piece.type == pb.ModelProto.SentencePiece.BYTE:
                piece.type = pb.ModelProto.SentencePiece.CONTROL
    elif name == "remove-extra-whitespaces":
        proto.normalizer_spec.remove_extra_whitespaces = True
    elif name == "no-dummy-prefix":
        proto.normalizer_spec.add_dummy_prefix = False
    elif name == "no-escape-whitespaces":
        proto.normalizer_spec.escape_whitespaces = False
    else:
        raise SystemExit(f"unknown variant {name}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--variant", default="as-is")
    ap.add_argument("--write-model")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--real", type=int, default=0)
    ap.add_argument("--decode-cases", type=int, default=0)
    args = ap.parse_args()

    proto = pb.ModelProto()
    with open(args.model, "rb") as f:
        proto.ParseFromString(f.read())
    make_variant(proto, args.variant)
    serialized = proto.SerializeToString()
    if args.write_model:
        with open(args.write_model, "wb") as f:
            f.write(serialized)
    sp = spm.SentencePieceProcessor(model_proto=serialized)

    pieces = [p.piece for p in proto.pieces if p.type == pb.ModelProto.SentencePiece.NORMAL]
    cases = tc.adversarial(args.count, args.seed, pieces)
    if args.real:
        repo_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        cases += tc.real_text(repo_root, args.real)

    out = sys.stdout.buffer
    out.write(len(cases).to_bytes(4, "little"))
    all_ids = sp.encode(cases)
    for text, ids in zip(cases, all_ids):
        out.write(tc.frame([text]))
        out.write(len(ids).to_bytes(4, "little") + tc.ids_bytes(ids))
        out.write(tc.frame([sp.decode(ids).encode("utf-8", "surrogatepass")]))

    rng = random.Random(args.seed + 1)
    vocab = sp.get_piece_size()
    special = [i for i in range(vocab) if sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i)]
    out.write(args.decode_cases.to_bytes(4, "little"))
    for _ in range(args.decode_cases):
        ids = [rng.choice(special) if rng.random() < 0.5 else rng.randrange(vocab)
               for _ in range(rng.randint(0, 16))]
        out.write(len(ids).to_bytes(4, "little") + tc.ids_bytes(ids))
        out.write(tc.frame([sp.decode(ids).encode("utf-8", "surrogatepass")]))


if __name__ == "__main__":
    main()
