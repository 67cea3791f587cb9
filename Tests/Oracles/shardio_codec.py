"""Oracle for ShardIO's streams: compresses stdin with Python's zstandard / gzip, or decompresses a
file, so LongMix's readers and writers are checked against implementations it did not write.

Usage:
  shardio_codec.py zstd-frames OUT N    stdin -> OUT as N zstd frames (split at line boundaries)
  shardio_codec.py gzip-members OUT N   stdin -> OUT as N concatenated gzip members
  shardio_codec.py decompress IN        IN (.zst or .gz, any number of frames) -> stdout
"""
import gzip
import sys

import zstandard

mode = sys.argv[1]
if mode == "decompress":
    data = open(sys.argv[2], "rb").read()
    if sys.argv[2].endswith(".gz"):
        sys.stdout.buffer.write(gzip.decompress(data))
    else:
        reader = zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True)
        sys.stdout.buffer.write(reader.read())
    sys.exit(0)

out, parts = sys.argv[2], int(sys.argv[3])
data = sys.stdin.buffer.read()
lines = data.splitlines(keepends=True)
step = max(1, -(-len(lines) // parts))
chunks = [b"".join(lines[i:i + step]) for i in range(0, len(lines), step)] or [b""]
with open(out, "wb") as f:
    for chunk in chunks:
        if mode == "zstd-frames":
            f.write(zstandard.ZstdCompressor(level=3).compress(chunk))
        elif mode == "gzip-members":
            f.write(gzip.compress(chunk))
        else:
            sys.exit("unknown mode " + mode)
