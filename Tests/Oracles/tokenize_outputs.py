"""Oracle for `longmix tokenize` binary outputs: loads a .npy with numpy.load and a Megatron
.bin/.idx pair as REFERENCE.md section 5 describes it (numpy only), and prints what it found as
JSON so the Swift test compares the ids with its own encoding.

Usage: tokenize_outputs.py NPY_PATH MEGATRON_PREFIX
"""
import json
import sys

import numpy as np

array = np.load(sys.argv[1])
prefix = sys.argv[2]
idx = open(prefix + ".idx", "rb").read()
assert idx[:9] == b"MMIDIDX\x00\x00", "bad magic"
dtype = {4: np.int32, 8: np.uint16}[idx[17]]
count = int(np.frombuffer(idx, "<u8", 1, 18)[0])
lengths = np.frombuffer(idx, "<i4", count, 34)
pointers = np.frombuffer(idx, "<i8", count, 34 + 4 * count)
data = np.fromfile(prefix + ".bin", dtype=dtype)
itemsize = np.dtype(dtype).itemsize
documents = [data[p // itemsize: p // itemsize + n].tolist() for p, n in zip(pointers, lengths)]
print(json.dumps({"npy": {"dtype": str(array.dtype), "shape": list(array.shape), "ids": array.tolist()},
                  "megatron": documents}))
