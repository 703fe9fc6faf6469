"""Read objects by id: one blob, a commit's entry for one path, or many objects at once
(``phase2 labels export`` recovers decided content from its blob ids). No more than
``git/repo.py`` is imported here: a diff reads its configuration and its decision log
through these two without loading what writing commits needs (git/commit.py)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from phase2_git.errors import GitError
from phase2_git.git.repo import GitRepo


def read_blob(repo: GitRepo, oid: str) -> bytes:
    return repo.run("cat-file", "blob", oid)


def tree_entry(repo: GitRepo, commit: str, path: str) -> tuple[str, str] | None:
    """``(mode, oid)`` of ``path`` in ``commit``, or None."""
    out = repo.run("ls-tree", "-z", "--full-tree", commit, "--", path)
    for rec in out.split(b"\0"):
        if not rec:
            continue
        meta, _, name = rec.partition(b"\t")
        if os.fsdecode(name) == path:
            mode, _kind, oid = meta.decode().split()
            return mode, oid
    return None


@dataclass(frozen=True)
class ObjectContent:
    """One object as ``git cat-file --batch`` gave it; ``data`` is None when over the limit."""

    oid: str
    type: str
    size: int
    data: bytes | None


def read_objects(
    repo: GitRepo, oids: Iterable[str], *, max_size: int
) -> dict[str, ObjectContent | None]:
    """Content of each id (None for an object the repository does not have).

    One ``git cat-file --batch`` answers every id. ``communicate`` feeds and drains the pipes
    together, so no size of request can deadlock; the answer is held in memory, which is what
    the caller (embedding the content in labels) needs anyway. Objects over ``max_size`` keep
    their size but not their bytes.
    """
    wanted = list(dict.fromkeys(oids))
    if not wanted:
        return {}
    out = repo.run("cat-file", "--batch", input="".join(f"{o}\n" for o in wanted).encode())
    result: dict[str, ObjectContent | None] = {}
    pos = 0
    for oid in wanted:
        end = out.find(b"\n", pos)
        if end < 0:
            raise GitError(f"git cat-file --batch: output ended before the answer for {oid}")
        line = out[pos:end]
        header = line.split(b" ")
        pos = end + 1
        if len(header) == 2 and header[1] in (b"missing", b"ambiguous"):
            result[oid] = None
            continue
        if len(header) != 3:
            raise GitError(f"git cat-file --batch: unexpected header {line[:200]!r}")
        size = int(header[2])
        data = out[pos : pos + size]
        if len(data) != size or out[pos + size : pos + size + 1] != b"\n":
            raise GitError(f"git cat-file --batch: truncated content for {oid}")
        pos += size + 1
        result[oid] = ObjectContent(
            oid=header[0].decode("ascii"),
            type=header[1].decode("ascii"),
            size=size,
            data=data if size <= max_size else None,
        )
    return result
