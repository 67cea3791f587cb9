"""Oracle: Hugging Face `tokenizers` with a LLaMA-2-style tokenizer.json built from a .model.

usage: tokenizer_hf.py --model PATH --form legacy|metaspace --write-json PATH
                       --count N --seed S [--real N] [--decode-cases N]

transformers 5 no longer converts slow SentencePiece tokenizers, so the tokenizer.json is built
with the `tokenizers` library the way transformers' LlamaConverter (4.x) builds it: BPE over the
model's pieces, merges for every split of a piece into two pieces, ranked by the merged piece's
score (stable, ties by the pair's ids), unk "<unk>", byte_fallback, fuse_unk; <unk> <s> </s> as
special added tokens. Forms: "legacy" = normalizer Prepend("▁") + Replace(" ", "▁"), no
pre-tokenizer; "metaspace" = no normalizer, Metaspace(prepend_scheme="first", split=False).
Decoder: Replace("▁", " "), ByteFallback, Fuse, Strip(" ", 1, 0).
Output framing as tokenizer_sentencepiece.py; strings that are not valid UTF-8 are left out
(`tokenizers` takes only str). Ids without special tokens added; decoding with the library's
default (skip_special_tokens=True).
"""
import argparse
import os
import random
import sys

from sentencepiece import sentencepiece_model_pb2 as pb
from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers
from tokenizers.models import BPE

sys.path.insert(0, os.path.dirname(__file__))
import tokenizer_cases as tc


def build(proto, form):
    vocab = {}
    for i, p in enumerate(proto.pieces):
        vocab.setdefault(p.piece, i)
    scores = [(p.piece, p.score) for p in proto.pieces]
    merges = []
    for piece, score in scores:
        local = []
        for k in range(1, len(piece)):
            left, right = piece[:k], piece[k:]
            if left in vocab and right in vocab:
                local.append((left, right, score))
        local.sort(key=lambda x: (vocab[x[0]], vocab[x[1]]))
        merges.extend(local)
    merges.sort(key=lambda x: x[2], reverse=True)
    merges = [(a, b) for a, b, _ in merges]
    tok = Tokenizer(BPE(vocab, merges, unk_token=proto.trainer_spec.unk_piece, fuse_unk=True, byte_fallback=True))
    tok.add_special_tokens([AddedToken(p, normalized=False, special=True)
                            for p in ("<unk>", "<s>", "</s>")])
    if form == "legacy":
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
        tok.pre_tokenizer = None
    else:
        tok.normalizer = None
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    return tok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--form", choices=["legacy", "metaspace"], required=True)
    ap.add_argument("--write-json", required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--real", type=int, default=0)
    ap.add_argument("--decode-cases", type=int, default=0)
    args = ap.parse_args()

    proto = pb.ModelProto()
    with open(args.model, "rb") as f:
        proto.ParseFromString(f.read())
    tok = build(proto, args.form)
    tok.save(args.write_json)
    tok = Tokenizer.from_file(args.write_json)  # what the Swift side loads

    pieces = [p.piece for p in proto.pieces if p.type == pb.ModelProto.SentencePiece.NORMAL]
    cases = tc.adversarial(args.count, args.seed, pieces)
    if args.real:
        repo_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        cases += tc.real_text(repo_root, args.real)
    texts = []
    for c in cases:
        try:
            texts.append(c.decode("utf-8"))
        except UnicodeDecodeError:
            pass

    out = sys.stdout.buffer
    out.write(len(texts).to_bytes(4, "little"))
    encodings = tok.encode_batch(texts, add_special_tokens=False)
    for text, enc in zip(texts, encodings):
        out.write(tc.frame([text.encode("utf-8")]))
        out.write(len(enc.ids).to_bytes(4, "little") + tc.ids_bytes(enc.ids))
        out.write(tc.frame([tok.decode(enc.ids).encode("utf-8")]))

    rng = random.Random(args.seed + 1)
    vocab = tok.get_vocab_size()
    special = list(range(0, 259))
    out.write(args.decode_cases.to_bytes(4, "little"))
    for _ in range(args.decode_cases):
        ids = [rng.choice(special) if rng.random() < 0.5 else rng.randrange(vocab)
               for _ in range(rng.randint(0, 16))]
        out.write(len(ids).to_bytes(4, "little") + tc.ids_bytes(ids))
        out.write(tc.frame([tok.decode(ids).encode("utf-8")]))


if __name__ == "__main__":
    main()
