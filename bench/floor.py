"""The floor of a bulk diff: the least work any tool comparing two commits must do.

    python bench/floor.py REPO A B

1. ``git diff-tree -r -z --raw --no-abbrev A B``: which paths changed, with both blob ids;
2. every changed blob of both sides through **one** ``git cat-file --batch``: all ids go in at
   once and the whole output is read in one piece (``communicate``), which is the cheapest way
   to move those bytes out of git: no per-object round trip, no ``readline`` per header;
3. ``json.loads`` of both sides of every pair, from slices of that one buffer.

Why this is the floor: a tool that tells which JSON artifacts changed, and how, cannot do less
than list the changed paths, read both versions of each, and parse them. Everything phase2
does beyond that (classifying, naming the noise, planning transforms, writing a report) is
measured against this. The floor holds the batch output in memory (a few MB here); phase2
streams it instead so that its memory stays flat at any size, and pays for that in the ratio.

It prints one JSON line (pairs read, sides parsed, bytes) so the suite can check that the floor
did the same amount of work as phase2. Only the standard library: the floor must not pay for
imports a tool would not need.
"""

from __future__ import annotations

import json
import subprocess
import sys


def main(argv: list[str]) -> int:
    repo, a, b = argv
    raw = subprocess.run(
        ["git", "-C", repo, "diff-tree", "-r", "-z", "--raw", "--no-abbrev", a, b],
        capture_output=True,
        check=True,
    ).stdout
    fields = raw.split(b"\0")
    pairs: list[tuple[bytes | None, bytes | None]] = []
    for i in range(0, len(fields) - 1, 2):  # ":<modes> <ids> <status>\0<path>\0" each
        _, _, src, dst, _status = fields[i][1:].split(b" ")
        # an all-zero id is the absent side of an add or a delete
        pairs.append((src if src.strip(b"0") else None, dst if dst.strip(b"0") else None))
    wanted = b"".join(oid + b"\n" for pair in pairs for oid in pair if oid is not None)

    out = subprocess.run(
        ["git", "-C", repo, "cat-file", "--batch"], input=wanted, capture_output=True, check=True
    ).stdout
    pos = parsed = invalid = total = 0
    for pair in pairs:
        for oid in pair:
            if oid is None:
                continue
            eol = out.index(b"\n", pos)
            size = int(out[pos:eol].rsplit(b" ", 1)[1])
            start = eol + 1
            pos = start + size + 1  # the content, then a newline
            total += size
            try:
                json.loads(out[start : start + size])
                parsed += 1
            except ValueError:
                invalid += 1
    print(json.dumps({"pairs": len(pairs), "parsed": parsed, "invalid": invalid, "bytes": total}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
