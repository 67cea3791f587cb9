"""Oracle for ShardIO's JSON reader: generates tricky JSONL records and says what Python's json
makes of each (decoding the line as strict UTF-8 first, as a reader of bytes must).

Usage: shardio_json_cases.py SEED COUNT
Writes one JSON object per case: {"line": base64 bytes, "verdict": "ok" | "malformed-json" |
"invalid-utf8" | "lone-surrogate" | "not-object", "text": base64 UTF-8 of record["text"] or null,
"text_kind": type name of record["text"] when present}.
"""
import base64
import json
import random
import sys

seed, count = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)


def random_scalar():
    r = rng.random()
    if r < 0.5:
        return chr(rng.randint(0x20, 0x7E))
    if r < 0.6:
        return chr(rng.randint(0, 0x1F))  # control: must be escaped
    if r < 0.8:
        return chr(rng.randint(0x80, 0x7FF))
    if r < 0.93:
        c = rng.randint(0x800, 0xFFFF)
        return chr(c) if not 0xD800 <= c <= 0xDFFF else "\ufffd"
    return chr(rng.randint(0x10000, 0x10FFFF))


def random_text():
    if rng.random() < 0.5:
        return "".join(random_scalar() for _ in range(rng.randint(0, 40)))
    # Long, mostly ASCII prose (newlines, tabs, quotes, backslashes; some of anything else): the
    # shape that spans several of the scanner's 64-byte blocks, with escapes at every position.
    return "".join(rng.choice('abcdefgh ijk\n\t"\\/.') if rng.random() < 0.9 else random_scalar()
                   for _ in range(rng.randint(40, 300)))


def escape_variants(s):
    """A JSON string literal for s, mixing raw UTF-8, \\u escapes and short escapes."""
    out = ['"']
    for ch in s:
        c = ord(ch)
        r = rng.random()
        if ch == '"' or ch == "\\" or c < 0x20:
            out.append(json.dumps(ch)[1:-1] if r < 0.7 else "\\u%04x" % c)
        elif r < 0.15:
            if c >= 0x10000:
                c -= 0x10000
                out.append("\\u%04X\\u%04x" % (0xD800 + (c >> 10), 0xDC00 + (c & 0x3FF)))
            else:
                out.append("\\u%04x" % c)
        elif r < 0.17 and ch == "/":
            out.append("\\/")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def valid_record():
    text = random_text()
    fields = ['"text": ' + escape_variants(text)]
    extras = [
        '"meta": {"title": %s, "n": %d, "ok": true, "tags": [1, 2.5e-3, null, "x"]}' % (escape_variants(random_text()), rng.randint(-9, 99)),
        '"id": %s' % escape_variants(random_text()),
        '"empty": {}', '"list": [[], [{}], -0.0, 1E+2]',
    ]
    fields += rng.sample(extras, rng.randint(0, len(extras)))
    rng.shuffle(fields)
    ws = rng.choice(["", " ", "\t", "  "])
    return ("{" + ws + ("," + ws).join(fields) + ws + "}").encode("utf-8")


def mutate(line):
    b = bytearray(line)
    kind = rng.randrange(10)
    if kind == 0 and b:
        del b[rng.randrange(len(b)):]  # truncate
    elif kind == 1:
        b.insert(rng.randrange(len(b) + 1), rng.choice(b'{}[]",:\\ '))
    elif kind == 2:
        # invalid UTF-8: stray continuation, overlong, surrogate, 0xFF, truncated sequence
        bad = rng.choice([b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xff", b"\xe2\x82", b"\xf4\x90\x80\x80", b"\xc2"])
        quote = b.find(b'"text": "')
        at = quote + 9 if quote >= 0 else rng.randrange(len(b) + 1)
        b[at:at] = bad
    elif kind == 3:
        lone = rng.choice([b"\\ud800", b"\\udfff", b"\\ud83d\\u0041", b"\\ud83dx"])
        quote = b.find(b'"text": "')
        at = quote + 9 if quote >= 0 else rng.randrange(len(b) + 1)
        b[at:at] = lone
    elif kind == 4:
        b[rng.randrange(len(b)):][:1] = bytes([rng.randrange(256)])
    elif kind == 5:
        b = bytearray(rng.choice([b"[1, 2]", b'"just a string"', b"42", b"null", b"", b"{", b'{"text": "a"} x',
                                  b'{"text": "a",}', b'{"text" "a"}', b'{"text": \'a\'}', b'{"text": "\\x41"}',
                                  b'{"text": "a\\u12"}', b'{"text": 01}', b'{"text": 1.}', b'{"text": -}',
                                  b'{"text": tru}', b'{"a": 1 "b": 2}', b'{"text": "tab\there"}']))
    elif kind == 6:
        b = bytearray(b'{"text": ' + b"[" * rng.randint(1, 400) + b"]" * rng.randint(1, 400) + b"}")
    elif kind == 7:
        b = bytearray(b'{"text": "first", "text": ' + escape_variants(random_text()).encode() + b"}")
    elif kind == 8:
        b = bytearray(b'{"meta": {"text": "nested"}, "text": %d}' % rng.randint(0, 9))
    return bytes(b)


for _ in range(count):
    line = valid_record()
    if rng.random() < 0.5:
        line = mutate(line)
    verdict, text, kind = "ok", None, None
    try:
        obj = json.loads(line.decode("utf-8"))
        if not isinstance(obj, dict):
            verdict = "not-object"
        elif "text" in obj:
            value = obj["text"]
            kind = type(value).__name__
            if isinstance(value, str):
                try:
                    text = base64.b64encode(value.encode("utf-8")).decode()
                except UnicodeEncodeError:
                    verdict = "lone-surrogate"
            # Lone surrogates elsewhere in the record also make it unusable as UTF-8.
        if verdict == "ok":
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeDecodeError:
        verdict = "invalid-utf8"
    except UnicodeEncodeError:
        verdict = "lone-surrogate"
    except (json.JSONDecodeError, RecursionError):
        verdict = "malformed-json"
    print(json.dumps({"line": base64.b64encode(line).decode(), "verdict": verdict, "text": text, "text_kind": kind}))
