"""Oracle for the pack format: loads a pack directory with numpy exactly as README shows, and
a Megatron indexed dataset as REFERENCE.md section 5 describes it, and prints what it found as
JSON, so the Swift test compares LongMix's own reader against an independent one.

Usage: pack_numpy_loader.py PACK_DIR [MEGATRON_PREFIX ...]
"""
import json
import sys

import numpy as np

# --- the README's loader -------------------------------------------------------------------
pack = sys.argv[1]
meta = json.load(open(f"{pack}/manifest.json"))
n, seq_len = meta["sequences"], meta["seqLen"]
tokens = np.memmap(f"{pack}/tokens.bin", dtype=meta["tokenDtype"], mode="r").reshape(n, seq_len)
loss_mask = np.memmap(f"{pack}/loss_mask.bin", dtype=np.uint8, mode="r").reshape(n, seq_len)
segments = np.fromfile(f"{pack}/segments.bin", dtype=[("start", "<u4"), ("length", "<u4"), ("document", "<i4"),
                                                     ("document_offset", "<u4"), ("group", "<i4"),
                                                     ("source", "<u2"), ("kind", "<u2")])
assert segments.itemsize == meta["segmentRecordBytes"]
index = np.fromfile(f"{pack}/segment_index.bin", dtype="<u8")

def document_spans(i):
    """cu_seqlens with one span per segment: each document (or piece of one), header and padding alone."""
    s = segments[index[i]:index[i + 1]]
    return np.append(s["start"], seq_len).astype(np.int32)

def few_shot_spans(i):
    """cu_seqlens with a few-shot header and the examples after it (same group) as one span, on
    sequences of few-shot sources (a sequence holds one source); elsewhere document_spans (other
    sources' segments may carry a group, a group_field used for decontamination only)."""
    s = segments[index[i]:index[i + 1]]
    if meta["sources"][int(s["source"][0])]["packing"] != "few-shot":
        return document_spans(i)
    joins = (s["kind"][1:] == 0) & (s["group"][1:] >= 0) & (s["group"][1:] == s["group"][:-1])
    return np.append(s["start"][np.concatenate([[True], ~joins])], seq_len).astype(np.int32)
# -------------------------------------------------------------------------------------------

out = {
    "shape": list(tokens.shape),
    "token_sum": int(tokens.astype(np.int64).sum()),
    "mask_sum": int(loss_mask.astype(np.int64).sum()),
    "segments": int(len(segments)),
    "cu_seqlens_0": document_spans(0).tolist(),
    "few_shot_spans": [few_shot_spans(i).tolist() for i in range(n)],
    "padding": int(segments["length"][segments["kind"] == 2].sum()),
    "first_tokens": tokens[0, :16].tolist(),
}
# Few-shot spans: every span holding examples starts at a header of the same group, and every
# example lies inside a span whose first segment is its own group's header.
checked = {"sequences": 0, "spans": 0, "spans_starting_at_header": 0, "examples": 0, "examples_under_own_header": 0}
for i in range(n):
    s = segments[index[i]:index[i + 1]]
    if not (s["kind"] == 1).any():
        continue
    checked["sequences"] += 1
    spans = few_shot_spans(i)
    starts = {int(x): k for k, x in enumerate(s["start"])}
    for a, b in zip(spans[:-1], spans[1:]):
        first = s[starts[int(a)]]
        inside = s[(s["start"] >= a) & (s["start"] < b)]
        if first["kind"] == 2:
            continue
        checked["spans"] += 1
        checked["spans_starting_at_header"] += int(first["kind"] == 1)
        for e in inside[inside["kind"] == 0]:
            checked["examples"] += 1
            checked["examples_under_own_header"] += int(first["kind"] == 1 and first["group"] == e["group"])
out["few_shot"] = checked
# Loss tokens per source, from the masks (each sequence belongs to one source).
first_source = segments["source"][index[:-1].astype(np.int64)]
per_sequence = loss_mask.astype(np.int64).sum(axis=1)
loss = {str(k): int(per_sequence[first_source == k].sum()) for k in range(len(meta["sources"]))}
total = sum(loss.values())
out["loss_tokens"] = loss
out["loss_share"] = {k: (v / total if total else 0.0) for k, v in loss.items()}
out["pad_tokens_equal_pad_id"] = int(sum((tokens[i, int(x["start"]):int(x["start"] + x["length"])] == meta["specialTokens"]["pad"]).sum()
                                        for i in range(n) for x in segments[index[i]:index[i + 1]] if x["kind"] == 2))
megatron = {}
for prefix in sys.argv[2:]:
    idx = open(prefix + ".idx", "rb").read()
    assert idx[:9] == b"MMIDIDX\x00\x00", "bad magic"
    version = np.frombuffer(idx, "<u8", 1, 9)[0]
    dtype = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 6: np.float64, 7: np.float32, 8: np.uint16}[idx[17]]
    count = int(np.frombuffer(idx, "<u8", 1, 18)[0])
    docs = int(np.frombuffer(idx, "<u8", 1, 26)[0])
    lengths = np.frombuffer(idx, "<i4", count, 34)
    pointers = np.frombuffer(idx, "<i8", count, 34 + 4 * count)
    doc_index = np.frombuffer(idx, "<i8", docs, 34 + 12 * count)
    data = np.memmap(prefix + ".bin", dtype=dtype, mode="r")
    itemsize = np.dtype(dtype).itemsize
    first = data[pointers[0] // itemsize: pointers[0] // itemsize + lengths[0]] if count else []
    megatron[prefix] = {"version": int(version), "count": count, "documents": docs, "tokens": int(lengths.sum()),
                        "doc_index_ok": bool((doc_index == np.arange(docs)).all()),
                        "bin_size_ok": int(pointers[-1]) + int(lengths[-1]) * itemsize == data.size * itemsize,
                        "first": [int(x) for x in first[:8]]}
out["megatron"] = megatron
print(json.dumps(out))
