"""Oracle: SHA-256 hex digests from Python's hashlib.

Reads length-prefixed frames (u32 little-endian length, then bytes) from stdin, or with --file
hashes that file; prints one hex digest per line.
"""
import hashlib
import sys

if len(sys.argv) == 3 and sys.argv[1] == "--file":
    with open(sys.argv[2], "rb") as f:
        print(hashlib.sha256(f.read()).hexdigest())
    sys.exit(0)
data = sys.stdin.buffer.read()
offset = 0
while offset < len(data):
    n = int.from_bytes(data[offset:offset + 4], "little")
    print(hashlib.sha256(data[offset + 4:offset + 4 + n]).hexdigest())
    offset += 4 + n
