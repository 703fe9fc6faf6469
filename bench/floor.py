"""The floor of a bulk diff: the least work any tool comparing two commits must do.

    python bench/floor.py REPO A B [--worktree]

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

``--worktree`` (B is the index's tree, the hook's case): each B side is read from its
work-tree file instead, and taken when its bytes hash to the blob id (as git hashes a blob);
only the A sides and a file that is not its blob go through cat-file. A staged file is a loose
object, which git opens three times to answer once; the file beside it is one read.

It prints one JSON line (pairs read, sides parsed, bytes) so the suite can check that the floor
did the same amount of work as phase2. Only the standard library: the floor must not pay for
imports a tool would not need.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    worktree = "--worktree" in argv
    repo, a, b = [x for x in argv if x != "--worktree"]
    raw = subprocess.run(
        ["git", "-C", repo, "diff-tree", "-r", "-z", "--raw", "--no-abbrev", a, b],
        capture_output=True,
        check=True,
    ).stdout
    fields = raw.split(b"\0")
    pairs: list[tuple[bytes | None, bytes | None]] = []
    local: dict[int, bytes] = {}  # pair -> its B side, read from the work tree
    for i in range(0, len(fields) - 1, 2):  # ":<modes> <ids> <status>\0<path>\0" each
        _, _, src, dst, _status = fields[i][1:].split(b" ")
        # an all-zero id is the absent side of an add or a delete
        pair = (src if src.strip(b"0") else None, dst if dst.strip(b"0") else None)
        if worktree and pair[1] is not None:
            data = _blob_in_worktree(repo, fields[i + 1], pair[1])
            if data is not None:
                local[len(pairs)] = data
                pair = (pair[0], None)
        pairs.append(pair)
    wanted = b"".join(oid + b"\n" for pair in pairs for oid in pair if oid is not None)

    out = subprocess.run(
        ["git", "-C", repo, "cat-file", "--batch"], input=wanted, capture_output=True, check=True
    ).stdout
    pos = parsed = invalid = total = 0
    for n, pair in enumerate(pairs):
        sides: list[bytes] = []
        for oid in pair:
            if oid is None:
                continue
            eol = out.index(b"\n", pos)
            size = int(out[pos:eol].rsplit(b" ", 1)[1])
            start = eol + 1
            pos = start + size + 1  # the content, then a newline
            sides.append(out[start : start + size])
        if n in local:
            sides.append(local[n])
        for data in sides:
            total += len(data)
            try:
                json.loads(data)
                parsed += 1
            except ValueError:
                invalid += 1
    print(json.dumps({"pairs": len(pairs), "parsed": parsed, "invalid": invalid, "bytes": total}))
    return 0


def _blob_in_worktree(repo: str, path: bytes, oid: bytes) -> bytes | None:
    """The file's bytes when they are the blob ``oid`` (sha1 or sha256 by its length)."""
    try:
        with open(os.path.join(os.fsencode(repo), path), "rb") as f:
            data = f.read()
    except OSError:
        return None
    digest = (hashlib.sha1 if len(oid) == 40 else hashlib.sha256)(b"blob %d\0" % len(data))
    digest.update(data)
    return data if digest.hexdigest().encode() == oid else None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
