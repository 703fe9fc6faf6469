"""The floor of a bulk diff: the least work any tool comparing two commits must do.

    python bench/floor.py REPO A B

1. ``git diff-tree -r -z --raw --no-abbrev A B``: which paths changed, with both blob ids;
2. every changed blob of both sides through one ``git cat-file --batch`` (a writer thread
   feeds the ids while this thread reads, so neither pipe fills up and blocks);
3. ``json.loads`` of both sides, one pair at a time (nothing else is held).

It prints one JSON line (pairs read, sides parsed, bytes) so the suite can check that the floor
did the same amount of work as phase2. Only the standard library: the floor must not pay for
imports a tool would not need.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import IO


def _feed(stdin: IO[bytes], oids: list[bytes]) -> None:
    stdin.write(b"".join(o + b"\n" for o in oids))
    stdin.close()


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
    wanted = [oid for pair in pairs for oid in pair if oid is not None]

    proc = subprocess.Popen(
        ["git", "-C", repo, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    writer = threading.Thread(target=_feed, args=(proc.stdin, wanted), daemon=True)
    writer.start()
    out = proc.stdout
    parsed = invalid = total = 0
    for pair in pairs:
        docs = []
        for oid in pair:
            if oid is None:
                continue
            size = int(out.readline().split()[2])
            data = out.read(size)
            out.read(1)  # the newline after the content
            total += size
            try:
                docs.append(json.loads(data))
                parsed += 1
            except ValueError:
                invalid += 1
        del docs  # one pair at a time, as a streaming tool would
    writer.join()
    proc.wait()
    print(json.dumps({"pairs": len(pairs), "parsed": parsed, "invalid": invalid, "bytes": total}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
