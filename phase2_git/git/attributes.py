"""GitHub's ``linguist-generated`` attribute, read with one ``git check-attr`` per run.

Two places attributes can come from:

* the working tree (``source=None``: the hook, ``phase2 diff`` with ``:index`` or
  ``:worktree`` on a side): git's own lookup, ``.gitattributes`` files of the working tree
  (the index's where a file is absent), ``$GIT_DIR/info/attributes`` and
  ``core.attributesFile``;
* a commit (``source=<commit>``: the trust side when two commits are compared, so a pull
  request that adds ``.gitattributes`` lines decides nothing): the ``.gitattributes`` files
  that commit holds, put into a temporary index for ``check-attr --cached`` (``check-attr
  --source`` needs git 2.40). When none of them names ``linguist-generated``, no further
  process runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING

from phase2_git.git.repo import GitRepo

if TYPE_CHECKING:
    import threading

ATTRIBUTE = "linguist-generated"
_NAME = b".gitattributes\0"
_REGULAR = (b"100644 ", b"100755 ")  # git never reads a symlinked .gitattributes from a tree


def _entries(listing: bytes) -> list[bytes]:
    """The regular ``.gitattributes`` records ("<mode> blob <oid>\\t<path>") of ``ls-tree -r
    -z`` output, found by searching the whole output at C speed rather than splitting a
    large tree into a hundred thousand records."""
    found: list[bytes] = []
    at = listing.find(_NAME)
    while at >= 0:
        end = at + len(_NAME) - 1
        start = listing.rfind(b"\0", 0, at) + 1
        record = listing[start:end]
        path = record.partition(b"\t")[2]
        if (path == _NAME[:-1] or path.endswith(b"/" + _NAME[:-1])) and record.startswith(_REGULAR):
            found.append(record)
        at = listing.find(_NAME, end + 1)
    return found


def _scan(listing: Iterable[bytes], stop: threading.Event | None = None) -> list[bytes] | None:
    """:func:`_entries` of a listing read piece by piece: a whole tree's listing is 90 bytes
    a file (9 MB at 100,000 files), which a run held at once, and twice while reading it, at
    its peak. Each piece is searched up to its last whole record, the rest carried over.
    None once ``stop`` is set: the listing is closed (git stopped) and nothing is returned."""
    found: list[bytes] = []
    rest = b""
    for piece in listing:
        if stop is not None and stop.is_set():
            close = getattr(listing, "close", None)
            if close is not None:
                close()  # a generator over git's output: git is stopped
            return None
        data = rest + piece if rest else piece
        cut = data.rfind(b"\0") + 1
        found += _entries(data[:cut] if cut < len(data) else data)
        rest = data[cut:]
    return found  # ls-tree -z ends every record with NUL: no rest (nor did _entries take one)


def _state(value: bytes) -> bool | None:
    """``linguist-generated`` / ``=true``: generated; ``-linguist-generated`` / ``=false``:
    not; anything else (unspecified, another value): the patterns decide."""
    if value in (b"set", b"true"):
        return True
    if value in (b"unset", b"false"):
        return False
    return None


def _check_attr(
    repo: GitRepo, paths: list[str], *, cached: bool, env: dict[str, str] | None = None
) -> dict[str, bool]:
    args = ["check-attr", "-z", "--stdin"]
    if cached:
        args.append("--cached")
    data = b"".join(os.fsencode(p) + b"\0" for p in paths)
    out = repo.run(*args, ATTRIBUTE, input=data, env=env)
    fields = out.split(b"\0")
    found: dict[str, bool] = {}
    # records: <path> NUL <attribute> NUL <info> NUL
    for i in range(0, len(fields) - 2, 3):
        state = _state(fields[i + 2])
        if state is not None:
            found[os.fsdecode(fields[i])] = state
    return found


def folders_files(paths: Iterable[str]) -> list[str]:
    """The ``.gitattributes`` that may apply to ``paths``: the one at the top and one in
    every folder above each path (git reads no other for them), sorted."""
    from phase2_git.git.paths import folders_above  # not on the hook's path

    return sorted(f"{f}/.gitattributes" if f else ".gitattributes" for f in folders_above(paths))


def reader(
    repo: GitRepo,
    source: str | None = None,
    *,
    paths: Collection[str] | None = None,
    stop: threading.Event | None = None,
) -> Callable[[list[str]], dict[str, bool]] | None:
    """What reads ``linguist-generated`` for a list of paths: ``path -> True`` (marked
    generated) or ``False`` (marked not generated) for the paths that set it either way.
    None when ``source``'s ``.gitattributes`` files never name it (nothing to read).

    ``paths``: the only paths it will be asked about (a few): then only the ``.gitattributes``
    that may apply to them are listed, by name (:func:`folders_files`), not the whole tree
    (43 ms of a three-file diff in a repository of 100,000 files; the listing by name, 2 ms).
    ``stop``: set by a caller that no longer wants the whole tree's listing: git is stopped
    and None returned."""
    if source is None:
        return lambda paths: _check_attr(repo, paths, cached=False) if paths else {}
    entries: list[bytes] | None
    if paths is not None:
        # literal pathspecs (see git/repo.py) naming files in nested folders: ls-tree walks
        # only the trees on the way to them
        listed = repo.run("ls-tree", "-z", "--full-tree", source, "--", *folders_files(paths))
        entries = _entries(listed)
    else:
        # the commit's .gitattributes files, from the whole tree's listing: git's pathspec
        # magic (`:(glob)**/.gitattributes`) is off for every git phase2 runs (its paths are
        # literal), and ls-tree takes none
        entries = _scan(repo.stream("ls-tree", "-r", "-z", "--full-tree", source), stop)
    if not entries:
        return None
    oids = [e.split(b" ")[2].split(b"\t")[0].decode() for e in entries]
    blobs = repo.run("cat-file", "--batch", input="".join(f"{o}\n" for o in oids).encode())
    if ATTRIBUTE.encode() not in blobs:
        return None  # none names it (every file counts once one does: a macro may set it)
    info = b"".join(e + b"\0" for e in entries)

    def read(paths: list[str]) -> dict[str, bool]:
        if not paths:
            return {}
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory(prefix="phase2-attr-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            repo.run("update-index", "-z", "--index-info", input=info, env=env)
            return _check_attr(repo, paths, cached=True, env=env)

    return read


def linguist_generated(
    repo: GitRepo, paths: Iterable[str], *, source: str | None = None
) -> dict[str, bool]:
    """:func:`reader` applied to ``paths`` at once."""
    read = reader(repo, source)
    return {} if read is None else read(sorted(set(paths)))
