"""Which files differ between two sides: git's raw diff, parsed once, for every pair of sides."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from phase2_git.core.model import MODE_GITLINK, MODE_MISSING, MODE_SYMLINK, Change, Status
from phase2_git.errors import GitError, UsageError
from phase2_git.git.repo import LOCAL_ENV_VARS, GitRepo, quote_for_message
from phase2_git.git.sides import Side

# commit < index < worktree: the lower kind is the base of the one git command that compares
# them; a pair given the other way round is computed forwards and then reversed.
_ORDER = {"commit": 0, "index": 1, "worktree": 2}


def changed_files(repo: GitRepo, base: Side, head: Side, *, renames: bool = True) -> list[Change]:
    """Every path that differs between ``base`` and ``head``, sorted by path.

    Nothing is filtered here (globs and ``.phase2/`` are the caller's business). For
    ``:worktree`` the ids are those git would store (clean filters applied), and untracked,
    non-ignored files count as present.
    """
    if base.kind == head.kind and base.kind != "commit":
        return []
    if base.kind == "commit" and head.kind == "commit":
        if base.tree == head.tree:
            return []
        return _sorted(iter_raw(_diff_trees(repo, base, head, renames)))

    raw = _raw_args(renames)
    reverse = _ORDER[base.kind] > _ORDER[head.kind]
    low, high = (head, base) if reverse else (base, head)
    if high.kind == "index":  # commit vs index
        changes = parse_raw(repo.run(*_cached_args(low, renames)))
    else:
        if low.kind == "commit":  # commit vs worktree
            out = repo.run(
                "diff-index",
                "--ita-invisible-in-index",
                "--ignore-submodules=dirty",
                *raw,
                low.tree,
            )
        else:  # index vs worktree
            out = repo.run("diff-files", "--ignore-submodules=dirty", *raw)
        changes = _settle_worktree(repo, parse_raw(out), renames=renames)
    if reverse:
        changes = [_reversed(c) for c in changes]
    return _sorted(changes)


def _cached_args(commit: Side, renames: bool) -> tuple[str, ...]:
    return ("diff-index", "--cached", "--ita-invisible-in-index", *_raw_args(renames), commit.tree)


def prestart(repo: GitRepo, base: Side, head: Side) -> None:
    """Start the git command :func:`changed_files` runs for ``base`` and ``head`` now
    (:meth:`GitRepo.prestart`) when it is a command of its own: a commit against the index,
    the hook's sides."""
    if base.kind == "commit" and head.kind == "index":
        repo.prestart(*_cached_args(base, True))


def iter_changed_files(
    repo: GitRepo, base: Side, head: Side, *, renames: bool = True
) -> Iterator[Change]:
    """:func:`changed_files`, one change at a time and in the same order (git runs now).

    Between two commits (CI's large diffs) only git's raw output is held, about 140 bytes a
    change where a list of ``Change`` values takes some 450, and past 256 KiB not even that:
    it goes to an anonymous temporary file as git writes it and is read back a piece at a time
    (flat memory). git writes it in path order, which one pass checks before the changes are
    handed out (they are sorted in memory otherwise). Other pairs of sides are settled as a
    whole first.
    """
    if base.kind == "commit" and head.kind == "commit" and base.tree != head.tree:
        assert base.tree is not None and head.tree is not None
        pieces = repo.stream("diff-tree", *_raw_args(renames), base.tree, head.tree, env=_NO_INDEX)
        held: list[bytes] = []
        size = 0
        for piece in pieces:
            held.append(piece)
            size += len(piece)
            if size > _HELD:
                return _spilled(held, pieces)
        out = b"".join(held)
        if _in_order(out):
            return iter_raw(out)
        return iter(_sorted(iter_raw(out)))
    return iter(changed_files(repo, base, head, renames=renames))


# raw output held as it is up to this size (about 1,800 changes); past it, spilled
_HELD = 1 << 18
_PIECE = 1 << 16


def _spilled(held: list[bytes], rest: Iterator[bytes]) -> Iterator[Change]:
    """The changes of raw output whose start is ``held`` and whose rest git is writing to
    ``rest``, by way of an anonymous temporary file (all of it written before this returns)."""
    import tempfile

    spill = tempfile.TemporaryFile(prefix="phase2-diff-")  # noqa: SIM115 - closed by read()
    try:
        for piece in held:
            spill.write(piece)
        held.clear()
        for piece in rest:
            spill.write(piece)

        def back() -> Iterator[bytes]:
            spill.seek(0)
            while piece := spill.read(_PIECE):
                yield piece

        key_of = _same if all(p.isascii() for p in back()) else os.fsdecode
        if not _keys_in_order(nul_fields(back()), key_of):
            changes = _sorted(_parse(nul_fields(back())))
            spill.close()
            return iter(changes)
    except BaseException:
        spill.close()
        raise

    def read() -> Iterator[Change]:
        with spill:
            yield from _parse(nul_fields(back()))

    return read()


def _raw_args(renames: bool) -> tuple[str, ...]:
    return ("-r", "-z", "--raw", "--no-abbrev", "-M" if renames else "--no-renames")


# git diff-tree reads the whole index first (for attributes, as it would in a bare repository):
# 15 MiB of a 38 MiB diff-tree at 100,000 files, the largest process of a run. Comparing two
# trees needs no index; an empty GIT_INDEX_FILE names none (open("") fails with ENOENT, which
# git reads as an empty index), so only the working tree's .gitattributes count, for git's
# binary test when it scores renames (the index's copy of one missing from the working tree,
# a sparse checkout's, no longer does; neither is a side of the diff).
_NO_INDEX = {"GIT_INDEX_FILE": ""}


def _diff_trees(repo: GitRepo, base: Side, head: Side, renames: bool) -> bytes:
    assert base.tree is not None and head.tree is not None
    return repo.run("diff-tree", *_raw_args(renames), base.tree, head.tree, env=_NO_INDEX)


def _in_order(out: bytes) -> bool:
    """Whether raw output is well formed and lists its changes in :func:`_sorted`'s order.

    The keys alone, read as :func:`iter_raw` reads them (a pass that builds no ``Change``);
    anything unusual answers False, and the caller's sorted parse then raises the error for
    it before any change is handed out. ASCII paths compare as bytes, as they would decoded.
    """
    return _keys_in_order(_split(out), _same if out.isascii() else os.fsdecode)


def _keys_in_order(fields: Iterator[bytes], key_of: Callable[[bytes], str | bytes]) -> bool:
    """:func:`_in_order` of raw output given field by field (``key_of``: as the paths compare
    once decoded)."""
    empty = key_of(b"")
    last: tuple[str | bytes, str | bytes] | None = None
    for meta in fields:
        if not meta:
            continue
        letter = meta[meta.rfind(b" ") + 1 :][:1]
        if (
            not meta.startswith(b":")
            or meta.count(b" ") != 4
            or not meta.isascii()
            or letter not in (b"A", b"M", b"D", b"T", b"R", b"C")
        ):
            return False
        first = next(fields, None)
        if first is None:
            return False
        key: tuple[str | bytes, str | bytes]
        if letter in (b"R", b"C"):
            second = next(fields, None)
            if second is None:
                return False
            key = (key_of(second), key_of(first) if letter == b"R" else empty)
        else:
            key = (key_of(first), empty)
        if last is not None and key < last:
            return False
        last = key
    return True


def _same(raw: bytes) -> bytes:
    return raw


# ---------------------------------------------------------------------------- raw format


def parse_raw(out: bytes) -> list[Change]:
    """Parse ``git diff-* --raw -z --no-abbrev`` output (the one parser for every case).

    A worktree side git has not hashed keeps git's all-zero id here; ``_settle_worktree``
    fills it in.
    """
    return list(iter_raw(out))


def _split(out: bytes) -> Iterator[bytes]:
    """The NUL-terminated fields of raw output (the last one may lack its NUL), split a piece
    at a time: the fields of all of it at once would take twice the output's memory."""
    return nul_fields(out[at : at + _PIECE] for at in range(0, len(out), _PIECE))


def nul_fields(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The NUL-terminated fields of output read a piece at a time (the last one may lack its
    NUL): git's ``-z`` output, as :meth:`GitRepo.stream` yields it, split without holding it
    whole."""
    rest = b""
    for piece in pieces:
        fields = (rest + piece if rest else piece).split(b"\0")
        rest = fields.pop()
        yield from fields
    if rest:
        yield rest


def iter_raw(out: bytes) -> Iterator[Change]:
    """:func:`parse_raw` one change at a time, reading ``out`` field by field."""
    return _parse(_split(out))


def _parse(fields: Iterator[bytes]) -> Iterator[Change]:
    """:func:`iter_raw` of raw output given field by field."""
    for meta in fields:
        if not meta:
            continue
        parts = meta[1:].split(b" ")
        raw_path = next(fields, None)
        if not meta.startswith(b":") or len(parts) != 5 or raw_path is None:
            raise GitError(
                f"unexpected raw diff line from git: {quote_for_message(os.fsdecode(meta))}"
            )
        # modes repeat on every line: one shared string each
        src_mode, dst_mode = _mode(parts[0]), _mode(parts[1])
        src_oid, dst_oid, status = (p.decode("ascii") for p in parts[2:])
        letter, score = status[:1], status[1:]
        path = os.fsdecode(raw_path)
        old_path: str | None = None
        if letter in ("R", "C"):
            raw_path = next(fields, None)
            if raw_path is None:
                raise GitError("truncated raw diff output from git")
            old_path, path = path, os.fsdecode(raw_path)
        if letter == "U":
            raise UsageError(
                f"unmerged path in the index: '{quote_for_message(path)}'",
                hint="resolve the conflict and `git add` the file (or abort the merge) first",
            )
        if letter not in "AMDTRC":
            raise GitError(
                f"unexpected diff status {status!r} from git for '{quote_for_message(path)}'"
            )
        if letter == "C":  # never requested; if a config forces copies, the copy is an add
            letter, old_path, src_mode, src_oid = "A", None, MODE_MISSING, ""
        before = None if src_mode == MODE_MISSING else src_oid
        after = None if dst_mode == MODE_MISSING else dst_oid
        yield Change(
            status=_status(letter, before, after, src_mode, dst_mode),
            path=path,
            old_path=old_path if letter == "R" else None,
            before=before,
            after=after,
            before_mode=src_mode,
            after_mode=dst_mode,
            similarity=int(score) if letter == "R" and score.isdigit() else None,
        )


def _mode(raw: bytes) -> str:
    return sys.intern(raw.decode("ascii"))


def _status(letter: str, before: str | None, after: str | None, bmode: str, amode: str) -> Status:
    if letter == "A":
        return "added"
    if letter == "D":
        return "deleted"
    if letter == "R":
        return "renamed"
    if letter == "M" and before == after and bmode != amode:
        return "mode"
    return "modified"  # M with new content, or T (type change, e.g. file -> symlink)


def _sorted(changes: Iterable[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: (c.path, c.old_path or ""))


def _reversed(c: Change) -> Change:
    status: Status = {"added": "deleted", "deleted": "added"}.get(c.status, c.status)  # type: ignore[assignment]
    renamed = c.status == "renamed" and c.old_path is not None
    return Change(
        status=status,
        path=c.old_path if renamed and c.old_path is not None else c.path,
        old_path=c.path if renamed else None,
        before=c.after,
        after=c.before,
        before_mode=c.after_mode,
        after_mode=c.before_mode,
        similarity=c.similarity,
    )


# ---------------------------------------------------------------------------- worktree side


def _settle_worktree(repo: GitRepo, changes: list[Change], *, renames: bool) -> list[Change]:
    """Add untracked files, give every worktree side the id git would store, drop stat dirt."""
    zero = repo.zero_oid
    untracked = _untracked(repo)
    # a path deleted from the index but still on disk (`git rm --cached`) is present in the
    # worktree: fold its "deleted" and its untracked "added" into one change
    by_path = {c.path: k for k, c in enumerate(changes) if c.status == "deleted"}
    for add in untracked:
        k = by_path.get(add.path)
        if k is None:
            changes.append(add)
        else:
            gone = changes[k]
            changes[k] = add._replace(
                status="modified", before=gone.before, before_mode=gone.before_mode
            )

    pending = [k for k, c in enumerate(changes) if c.after == zero]
    oids = _worktree_oids(repo, [changes[k] for k in pending])
    for k, oid in zip(pending, oids, strict=True):
        c = changes[k]
        if c.status in ("modified", "mode"):
            letter = "T" if _kind(c.before_mode) != _kind(c.after_mode) else "M"
            status = _status(letter, c.before, oid, c.before_mode, c.after_mode)
        else:
            status = c.status
        changes[k] = c._replace(after=oid, status=status)
    settled = [
        c
        for c in changes
        if not (
            c.status in ("modified", "mode")
            and c.before == c.after
            and c.before_mode == c.after_mode
        )
    ]
    if renames:
        settled = _pair_exact_renames(settled, {a.path for a in untracked})
    return settled


def _kind(mode: str) -> str:
    return mode[:2]  # "10" regular, "12" symlink, "16" gitlink


def _untracked(repo: GitRepo) -> list[Change]:
    out = repo.run("ls-files", "-z", "--others", "--exclude-standard")
    zero = repo.zero_oid
    added: list[Change] = []
    filemode: bool | None = None
    for raw in out.split(b"\0"):
        if not raw or raw.endswith(b"/"):  # "dir/" is an untracked nested repository
            continue
        path = os.fsdecode(raw)
        try:
            st = os.lstat(repo.root / path)
        except FileNotFoundError:
            continue  # vanished since git listed it
        if stat.S_ISLNK(st.st_mode):
            mode = MODE_SYMLINK
        elif stat.S_ISREG(st.st_mode):
            mode = "100644"
            if st.st_mode & stat.S_IXUSR:
                if filemode is None:
                    filemode = repo.config_bool("core.filemode", True)
                mode = "100755" if filemode else "100644"
        else:
            continue
        added.append(Change("added", path, None, None, zero, MODE_MISSING, mode))
    return added


def _worktree_oids(repo: GitRepo, changes: list[Change]) -> list[str]:
    """The id git would store for each change's worktree (``after``) side, in order."""
    result: list[str | None] = [None] * len(changes)
    regular: list[int] = []
    for k, c in enumerate(changes):
        if c.after_mode == MODE_SYMLINK:
            result[k] = _hash_symlink(repo, c.path)
        elif c.after_mode == MODE_GITLINK:
            result[k] = _submodule_head(repo, c.path) or c.before or repo.zero_oid
        else:
            regular.append(k)
    if regular:
        stdin = b"".join(stdin_path_line(changes[k].path) + b"\n" for k in regular)
        # core.safecrlf only warns or dies about the same conversion: it never changes the id
        lines = repo.run(
            "-c", "core.safecrlf=false", "hash-object", "-w", "--stdin-paths", input=stdin
        ).split()
        if len(lines) != len(regular):
            raise GitError(f"git hash-object returned {len(lines)} ids for {len(regular)} files")
        for k, line in zip(regular, lines, strict=True):
            result[k] = line.decode("ascii")
    return [r if r is not None else repo.zero_oid for r in result]


def _hash_symlink(repo: GitRepo, path: str) -> str:
    """Hash a symlink as git stores it: its target, never what it points to."""
    full = os.fsencode(repo.root / path)
    try:
        target = os.fsencode(Path(os.fsdecode(full)).readlink())
    except OSError:  # core.symlinks=false checkouts keep the target as a plain file
        target = Path(os.fsdecode(full)).read_bytes()
    return repo.run("hash-object", "-w", "-t", "blob", "--stdin", input=target).decode().strip()


def _submodule_head(repo: GitRepo, path: str) -> str | None:
    sub_env = {k: v for k, v in repo.env.items() if k not in LOCAL_ENV_VARS}
    sub = repo.at(repo.root / path, sub_env)
    proc = sub.run_status("rev-parse", "--verify", "--quiet", "HEAD")
    if proc.returncode != 0:
        return None
    return proc.stdout.decode().strip() or None


def stdin_path_line(path: str) -> bytes:
    """A path as one line of ``--stdin-paths`` input (git C-unquotes lines starting with '"')."""
    raw = os.fsencode(path)
    if not raw.startswith(b'"') and not any(b < 0x20 or b == 0x7F for b in raw):
        return raw
    out = bytearray(b'"')
    for b in raw:
        if b in (0x22, 0x5C):
            out += b"\\" + bytes([b])
        elif b < 0x20 or b == 0x7F:
            out += b"\\%03o" % b
        else:
            out.append(b)
    out += b'"'
    return bytes(out)


def _pair_exact_renames(changes: list[Change], untracked: set[str]) -> list[Change]:
    """Pair a deleted tracked file with an untracked file of identical content as a rename.

    git's own rename detection never sees untracked files; without this, moving a file in the
    worktree would read as a delete plus an add until it is staged.
    """
    deleted: dict[tuple[str | None, str], list[Change]] = {}
    for c in sorted(changes, key=lambda c: c.path):
        if c.status == "deleted":
            deleted.setdefault((c.before, _kind(c.before_mode)), []).append(c)
    if not deleted:
        return changes
    out: list[Change] = []
    used: set[str] = set()
    for c in sorted(changes, key=lambda c: c.path):
        if c.status == "added" and c.path in untracked:
            pool = deleted.get((c.after, _kind(c.after_mode)))
            if pool:
                gone = pool.pop(0)
                used.add(gone.path)
                out.append(
                    c._replace(
                        status="renamed",
                        old_path=gone.path,
                        before=gone.before,
                        before_mode=gone.before_mode,
                        similarity=100,
                    )
                )
                continue
        out.append(c)
    return [c for c in out if not (c.status == "deleted" and c.path in used)]
