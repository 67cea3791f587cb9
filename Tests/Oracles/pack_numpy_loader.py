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
                                                     ("document_offset", "<u4"), ("source", "<u2"), ("kind", "<u2")])
index = np.fromfile(f"{pack}/segment_index.bin", dtype="<u8")
def cu_seqlens(i):
    s = segments[index[i]:index[i + 1]]
    return np.append(s["start"], seq_len).astype(np.int32)
# -------------------------------------------------------------------------------------------

out = {
    "shape": list(tokens.shape),
    "token_sum": int(tokens.astype(np.int64).sum()),
    "mask_sum": int(loss_mask.astype(np.int64).sum()),
    "segments": int(len(segments)),
    "cu_seqlens_0": cu_seqlens(0).tolist(),
    "padding": int(segments["length"][segments["kind"] == 2].sum()),
    "first_tokens": tokens[0, :16].tolist(),
}
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
