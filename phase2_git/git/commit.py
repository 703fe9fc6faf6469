"""Commits built with plumbing, a compare-and-swap branch move, and the careful sync of the
user's index and working tree afterwards (docs/architecture.md, Data flow of a resolve).

Nothing here touches the user's index until the branch has moved; the new tree is built in a
temporary index (``GIT_INDEX_FILE``) seeded from the parent commit. Afterwards only index
entries that still hold the old blob, and working-tree files whose clean-filtered hash still
equals the old blob and that hold no byte git does not store (git/worktree.py), are brought
forward: every other change of the user's stays as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from phase2_git.core.model import REGULAR_MODES
from phase2_git.errors import RefusedError, UsageError
from phase2_git.git.background import Background
from phase2_git.git.changes import nul_fields, stdin_path_line
from phase2_git.git.paths import beyond_symlinks, blob_hasher, folders_above
from phase2_git.git.repo import GitRepo, git_failure, quote_for_message
from phase2_git.git.worktree import (
    CONVERSION_ATTRIBUTES,
    attributes,
    autocrlf,
    hidden_bytes,
    torn_files,
)

TRAILER_RUN = "Phase2-Run"
TRAILER_TRANSFORM = "Phase2-Transform"
_TRAILER_RE = re.compile(
    rf"^{TRAILER_TRANSFORM}: (dec_[0-9a-f]{{16}}) ([0-9a-f]+|-)\.\.([0-9a-f]+|-) (\".*\")$"
)


@dataclass(frozen=True)
class Branch:
    ref: str  # refs/heads/<name>
    commit: str

    @property
    def name(self) -> str:
        return self.ref.removeprefix("refs/heads/")


@dataclass(frozen=True)
class TreeUpdate:
    """Set ``path`` to blob ``new`` (``None`` removes it); ``old`` is what the parent holds."""

    path: str
    old: str | None
    new: str | None
    mode: str = "100644"


@dataclass(frozen=True)
class TransformTrailer:
    decision_id: str
    old: str | None
    new: str | None
    path: str

    def render(self) -> str:
        return (
            f"{TRAILER_TRANSFORM}: {self.decision_id} {self.old or '-'}..{self.new or '-'} "
            f"{json.dumps(self.path, ensure_ascii=True)}"
        )


def parse_trailers(message: str) -> list[TransformTrailer]:
    out = []
    for line in message.splitlines():
        m = _TRAILER_RE.match(line)
        if m:
            old, new = m.group(2), m.group(3)
            out.append(
                TransformTrailer(
                    m.group(1),
                    None if old == "-" else old,
                    None if new == "-" else new,
                    json.loads(m.group(4)),
                )
            )
    return out


def repo_operation_in_progress(repo: GitRepo) -> str | None:
    """The operation a refusal must name, or None."""
    markers = {
        "MERGE_HEAD": "a merge",
        "rebase-merge": "a rebase",
        "rebase-apply": "a rebase or am",
        "CHERRY_PICK_HEAD": "a cherry-pick",
        "REVERT_HEAD": "a revert",
        "BISECT_LOG": "a bisect",
    }
    for path, what in zip(git_paths(repo, list(markers)), markers.values()):
        if path.exists():
            return what
    return None


def index_lock_path(repo: GitRepo) -> Path:
    index = repo.env.get("GIT_INDEX_FILE")
    if index:
        return Path(index + ".lock")
    return git_path(repo, "index.lock")


def git_paths(repo: GitRepo, names: Sequence[str]) -> list[Path]:
    """``git rev-parse --git-path`` for several names in one process (it was one each)."""
    args = [arg for name in names for arg in ("--git-path", name)]
    lines = repo.run("rev-parse", *args).decode().splitlines()
    if len(lines) != len(names):  # pragma: no cover - a newline in the git dir's path
        return [git_path(repo, name) for name in names]
    return [Path(rel) if Path(rel).is_absolute() else repo.root / rel for rel in lines]


def current_branch(repo: GitRepo) -> Branch:
    """The checked-out branch, or a refusal (exit 3) that says why phase2 will not commit."""
    proc = repo.run_status("symbolic-ref", "--quiet", "HEAD")
    if proc.returncode != 0:
        raise RefusedError(
            "HEAD is detached: phase2 commits only onto a branch",
            hint="check out a branch first (`git switch -c <name>`)",
        )
    ref = proc.stdout.decode().strip()
    head = repo.run_status("rev-parse", "--verify", "--quiet", "HEAD")
    if head.returncode != 0:
        raise RefusedError(
            f"branch '{ref.removeprefix('refs/heads/')}' has no commit yet: nothing to resolve",
        )
    what = repo_operation_in_progress(repo)
    if what is not None:
        raise RefusedError(f"{what} is in progress: finish or abort it before phase2 commits")
    if index_lock_path(repo).exists():
        raise RefusedError(
            f"git's index is locked ({index_lock_path(repo).name} exists): another git "
            "process is running, or one crashed",
            hint="wait for it, or remove the stale lock file if no git process runs",
        )
    return Branch(ref, head.stdout.decode().strip())


def write_blobs(repo: GitRepo, contents: Sequence[bytes], *, fast: bool = False) -> list[str]:
    """Write blobs (repository form, no filters) with one ``hash-object`` process. ``fast``:
    compressed at zlib's fastest level (:func:`_compression`)."""
    if not contents:
        return []
    level = _compression(fast)
    if len(contents) == 1:  # piped: no temporary copy
        out = repo.run(*level, "hash-object", "-w", "--no-filters", "--stdin", input=contents[0])
        return [out.decode().strip()]
    with tempfile.TemporaryDirectory(prefix="phase2-blobs-") as tmp:
        paths = []
        for i, data in enumerate(contents):
            p = Path(tmp) / f"{i}"
            try:
                p.write_bytes(data)
            except OSError as exc:
                raise UsageError(f"cannot write a temporary file: {exc.strerror}") from None
            paths.append(str(p))
        out = repo.run(
            *level,
            "hash-object",
            "-w",
            "--no-filters",
            "--stdin-paths",
            input=("\n".join(paths) + "\n").encode(),
        )
    oids = out.decode().split()
    if len(oids) != len(contents):  # pragma: no cover - git contract
        raise UsageError("git hash-object returned an unexpected number of ids")
    return oids


class SpooledBlob:
    """Bytes on their way to be a blob, kept in an anonymous temporary file instead of memory:
    written as they are made, a piece at a time, then hashed, stored by git and read back a
    piece at a time. For the decision log resolve commits: 6.4 MB for 5,000 decisions, held
    whole from the commit's making until the working tree's log was written (and twice while
    its lines were joined), at resolve's peak of memory.

    One reader at a time (they share the file's position). Close it when done (a context
    manager); the file has no name, so nothing is left behind if the process dies."""

    PIECE = 1 << 20

    def __init__(self, repo: GitRepo, pieces: Iterable[bytes]) -> None:
        self.repo = repo
        try:
            self._file = tempfile.TemporaryFile(prefix="phase2-blob-")  # noqa: SIM115 - close()
        except OSError as exc:
            raise UsageError(f"cannot write a temporary file: {exc.strerror}") from None
        try:
            for piece in pieces:
                self._file.write(piece)
            self.size = self._file.tell()
            digest = blob_hasher(repo, self.size)
            for piece in self.pieces():
                digest.update(piece)
        except OSError as exc:
            self._file.close()
            raise UsageError(f"cannot write a temporary file: {exc.strerror}") from None
        except BaseException:
            self._file.close()
            raise
        self.oid = digest.hexdigest()

    def pieces(self) -> Iterator[bytes]:
        """The bytes from the start, :attr:`PIECE` at a time."""
        self._file.seek(0)
        while piece := self._file.read(self.PIECE):
            yield piece

    def checked(self) -> Iterator[bytes]:
        """:meth:`pieces`, ending in an error when they are not the blob's bytes after all (the
        temporary file changed, or the disk gave back other bytes): a write fed from them
        stops before it replaces anything."""
        digest = blob_hasher(self.repo, self.size)
        for piece in self.pieces():
            digest.update(piece)
            yield piece
        if digest.hexdigest() != self.oid:
            raise UsageError("a temporary file changed under phase2: nothing was written from it")

    def startswith(self, prefix: bytes) -> bool:
        """Whether the bytes begin with ``prefix``, compared a piece at a time."""
        if len(prefix) > self.size:
            return False
        self._file.seek(0)
        view = memoryview(prefix)
        for at in range(0, len(view), self.PIECE):
            part = view[at : at + self.PIECE]
            if part != self._file.read(len(part)):
                return False
        return True

    def store(self, *, fast: bool = False) -> str:
        """Write the blob into the repository (one ``hash-object``, fed a piece at a time) and
        return the id git gave it. ``fast``: at zlib's fastest level (:func:`_compression`)."""
        args = (*_compression(fast), "hash-object", "-w", "--no-filters", "--stdin")
        proc = self.repo.popen(
            *args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        with proc:
            assert proc.stdin is not None
            try:
                for piece in self.pieces():
                    proc.stdin.write(piece)
            except BrokenPipeError:  # git stopped reading: its exit status says why
                pass
            except BaseException:
                proc.kill()
                raise
            # hash-object answers once its input ends: one line out, stderr only on failure
            out, err = proc.communicate()
        if proc.returncode != 0:
            raise git_failure(args, err)
        return out.decode().strip()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> SpooledBlob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _compression(fast: bool) -> tuple[str, ...]:
    """``fast``: loose objects compressed at zlib's fastest level (``core.looseCompression=1``):
    the same objects, a little larger on disk until git packs them. zlib's default level took
    0.1 s for the 7 MB decision log of 5,000 decisions, on the way to the branch's move."""
    return ("-c", "core.looseCompression=1") if fast else ()


def tree_entries(repo: GitRepo, commit: str, paths: Sequence[str]) -> dict[str, str]:
    """``path -> oid`` in ``commit`` for those of ``paths`` it holds (one ``ls-tree``)."""
    if not paths:
        return {}
    if len(paths) <= 64:
        out = repo.run(
            "ls-tree", "-z", "--full-tree", commit, "--", *paths, env={"GIT_LITERAL_PATHSPECS": "1"}
        )
    else:  # as index_entries: one listing beats thousands of pathspecs
        out = repo.run("ls-tree", "-r", "-z", "--full-tree", commit)
    wanted = set(paths)
    found: dict[str, str] = {}
    for rec in out.split(b"\0"):
        if rec:
            meta, _, raw = rec.partition(b"\t")
            name = os.fsdecode(raw)
            if name in wanted:
                found[name] = meta.decode().split()[2]
    return found


def _index_info(repo: GitRepo, updates: Iterable[TreeUpdate]) -> bytes:
    """``update-index -z --index-info`` input: mode 0 removes the entry."""
    return b"".join(
        (
            f"0 {repo.zero_oid}\t{u.path}\0" if u.new is None else f"{u.mode} {u.new}\t{u.path}\0"
        ).encode("utf-8", "surrogateescape")
        for u in updates
    )


def build_commit(
    repo: GitRepo,
    parent: str,
    updates: Sequence[TreeUpdate],
    message: str,
    *,
    sign: bool | None = None,
    late: Callable[[], Sequence[TreeUpdate] | None] | None = None,
    missing_ok: bool = False,
) -> str | None:
    """A new commit on top of ``parent`` with ``updates`` applied; no ref moves, no hooks run.

    ``late()`` runs while git builds the tree from ``updates`` and returns more updates (the
    decision log, whose bytes it makes meanwhile), or None: then no commit is made.
    ``missing_ok``: a blob the tree names may still be being written; the caller waits for it
    before anything refers to the commit.

    A few updates in a few folders (:func:`folders_tree`) rewrite only those folders' trees;
    otherwise a temporary index is seeded from the parent, ``late()`` running meanwhile."""
    if len(updates) <= FEW_PATHS:
        more = late() if late is not None else ()
        if more is None:
            return None
        every = [*updates, *more]
        tree = folders_tree(repo, parent, every, missing_ok=missing_ok)
        if tree is not None:
            return _commit_tree(repo, tree, parent, message, _signs(repo, sign))
        updates, late = every, None  # through the temporary index, as a larger commit
    with tempfile.TemporaryDirectory(prefix="phase2-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}

        def seed() -> tuple[bool, _IndexInfo]:
            signed = _signs(repo, sign)  # asked here, while late() runs
            repo.run("read-tree", parent, env=env)
            # one update-index for ``updates`` and ``late()``'s: it applies each line as it
            # reads it and writes the index once, at the end of its input (a second process
            # read and wrote a 20,000-entry index again for the log's one entry)
            info = _IndexInfo(repo, env)
            try:
                info.send(updates)
            except BaseException:
                info.abandon()
                raise
            return signed, info

        seeded = Background(seed)
        try:
            more = late() if late is not None else ()
        except BaseException:
            _abandon(seeded)  # never leave git writing into a removed folder
            raise
        try:
            signed, info = seeded.result()
        except BaseException:
            _abandon(seeded)
            raise
        if more is None:
            info.abandon()
            return None
        info.send(more)
        info.finish()
        check = ("--missing-ok",) if missing_ok else ()
        tree = repo.run("write-tree", *check, env=env).decode().strip()
    return _commit_tree(repo, tree, parent, message, signed)


def _signs(repo: GitRepo, sign: bool | None) -> bool:
    """Whether the commit is signed: ``sign``, else the user's ``commit.gpgsign``, which
    commit-tree ignores (git >= 2.9)."""
    return repo.config_bool("commit.gpgsign", False) if sign is None else sign


def _commit_tree(repo: GitRepo, tree: str, parent: str, message: str, signed: bool) -> str:
    args = ["commit-tree", tree, "-p", parent, "-F", "-"]
    if signed:
        args.insert(1, "-S")
    return repo.run(*args, input=message.encode()).decode().strip()


# at most this many folders get their trees written one by one (a `git mktree` each); past
# it, the whole tree goes through a temporary index
_FOLDERS = 16
_BLOB_MODES = frozenset(("100644", "100755", "120000"))


def folders_tree(
    repo: GitRepo, parent: str, updates: Sequence[TreeUpdate], *, missing_ok: bool = False
) -> str | None:
    """The tree of commit ``parent`` with ``updates`` applied, written folder by folder: the
    folders an update is in and those above them are listed (``ls-tree``) and written again
    (``mktree``), deepest first; nothing else of the tree is read. A temporary index read the
    whole tree and wrote it back (0.14 s for three files in a repository of 100,000; this,
    about 10 ms).

    None when that does not pay or would not be the same: more than :data:`_FOLDERS`
    folders, a mode that is not a blob's, or a file and a folder of the parent trading places
    (a file where a folder was, or the reverse); the temporary index handles those.
    ``missing_ok`` as :func:`build_commit` takes it."""
    if any(u.new is not None and u.mode not in _BLOB_MODES for u in updates):
        return None
    folders = folders_above(u.path for u in updates)
    if len(folders) > _FOLDERS:
        return None
    # each folder's entries: name -> (mode, type, id); a folder the parent lacks has none
    entries: dict[str, dict[str, tuple[str, str, str]]] = {f: {} for f in folders}
    named = sorted(f + "/" for f in folders if f)
    listing = repo.run("ls-tree", "-z", "--full-tree", parent)  # the top's entries
    if named:  # literal pathspecs (see git/repo.py): each folder's own entries
        listing += repo.run("ls-tree", "-z", "--full-tree", parent, "--", *named)
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta, _, raw = record.partition(b"\t")
        mode, kind, oid = meta.decode("ascii").split(" ")
        folder, _, name = raw.decode("utf-8", "surrogateescape").rpartition("/")
        if folder in entries:
            entries[folder][name] = (mode, kind, oid)
    for f in folders - {""}:  # a folder must be a folder in the parent, if it is anything
        up, _, name = f.rpartition("/")
        held = entries[up].get(name)
        if held is not None and held[1] != "tree":
            return None
    for u in updates:
        folder, _, name = u.path.rpartition("/")
        held = entries[folder].get(name)
        if held is not None and held[1] != "blob":
            return None  # a folder (or a submodule) where a file goes
        if u.new is None:
            entries[folder].pop(name, None)
        else:
            entries[folder][name] = (u.mode, "blob", u.new)
    missing = ("--missing",) if missing_ok else ()
    # deepest first: a folder's new id goes into the folder above it, an emptied one goes
    for f in sorted(folders - {""}, key=lambda f: f.count("/"), reverse=True):
        up, _, name = f.rpartition("/")
        if entries[f]:
            entries[up][name] = ("040000", "tree", _mktree(repo, entries[f], missing))
        else:
            entries[up].pop(name, None)
    return _mktree(repo, entries[""], missing)


def _mktree(
    repo: GitRepo, entries: Mapping[str, tuple[str, str, str]], missing: tuple[str, ...]
) -> str:
    data = b"".join(
        f"{mode} {kind} {oid}\t{name}\0".encode("utf-8", "surrogateescape")
        for name, (mode, kind, oid) in entries.items()
    )
    return repo.run("mktree", "-z", *missing, input=data).decode().strip()


class _IndexInfo:
    """``git update-index -z --index-info`` fed in parts: git applies each line as it reads it
    and writes the index when its input ends (:meth:`finish`)."""

    def __init__(self, repo: GitRepo, env: Mapping[str, str]) -> None:
        self.repo = repo
        # stderr to a file: a pipe nobody reads while the input is written could fill up.
        # Closed by finish() or abandon().
        self.err = tempfile.TemporaryFile()  # noqa: SIM115
        args = ("update-index", "-z", "--index-info")
        try:
            self.proc = repo.popen(
                *args, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.err
            )
        except BaseException:
            self.err.close()
            raise
        self.broken = False

    def send(self, updates: Iterable[TreeUpdate]) -> None:
        data = _index_info(self.repo, updates)
        if not data or self.broken:
            return
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except BrokenPipeError:  # git stopped reading: its exit status says why (finish)
            self.broken = True

    def finish(self) -> None:
        """End the input, wait for git; raise what it said when it failed."""
        self._close()
        code = self.proc.wait()
        self.err.seek(0)
        stderr = self.err.read()
        self.err.close()
        if code != 0 or self.broken:
            raise git_failure(("update-index",), stderr)

    def abandon(self) -> None:
        """End the input and wait, whatever git says (nothing will use this index)."""
        self._close()
        self.proc.wait()
        self.err.close()

    def _close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()


def _abandon(seeded: Background[tuple[bool, _IndexInfo]]) -> None:
    seeded.join()
    with contextlib.suppress(Exception):
        seeded.result()[1].abandon()


def move_branch(repo: GitRepo, branch: Branch, new: str, reason: str) -> None:
    """Compare-and-swap: the branch moves only if it still points where we started."""
    # git waits 100 ms for a ref lock another git holds: a killed phase2's update-ref may
    # still be running, and once it is done the branch has moved or is free to move
    lock_wait = ("-c", "core.filesRefLockTimeout=1000")
    proc = repo.run_status(*lock_wait, "update-ref", "-m", reason, branch.ref, new, branch.commit)
    if proc.returncode == 0:
        return
    now = repo.run_status("rev-parse", "--verify", "--quiet", branch.ref).stdout.strip()
    if now.decode() == branch.commit:
        # not moved: git could not write the ref (its lock held by another git, a full disk)
        hint = "rerun phase2 once no other git command runs in this repository"
        lock = git_path(repo, f"{branch.ref}.lock")
        if lock.exists():
            # held past git's wait: a git still running, or one killed while it held it (the
            # lock then stays until someone removes it, as git's own message says)
            hint = (
                f"{quote_for_message(str(lock))} is the branch's lock: wait for the git "
                "process that holds it, or remove it if none runs, then rerun phase2"
            )
        raise RefusedError(
            f"{git_failure(('update-ref',), proc.stderr)}: branch '{branch.name}' was not "
            "moved and nothing was changed",
            hint=hint,
        )
    raise RefusedError(
        f"branch '{branch.name}' moved while phase2 was working (expected "
        f"{branch.commit[:12]}): nothing was changed",
        hint="rerun phase2; its state file resumes where it stopped",
    )


@dataclass(frozen=True, slots=True)
class IndexEntry:
    mode: str
    oid: str
    stage: int
    skip_worktree: bool
    assume_unchanged: bool = False


def index_entries(repo: GitRepo, paths: Sequence[str]) -> dict[str, IndexEntry]:
    """Stage entries of ``paths`` in the user's index (``GIT_INDEX_FILE`` honoured)."""
    if not paths:
        return {}
    # thousands of pathspecs make git match every entry against every pattern (0.7 s for
    # 5,000 paths) and can overflow the command line: past a few, read the whole index once
    # -v: -t's tags, lower case for entries marked assume-unchanged
    args = ("ls-files", "-z", "-s", "-v", "--full-name", "--")
    # past a few paths the whole index is read as git writes it: held at once, with a record
    # object for each of its entries, it was 4 MB at resolve's peak of memory (20,000 entries)
    listing: Iterable[bytes] = (
        [repo.run(*args, *paths)]  # literal pathspecs: see git/repo.py
        if len(paths) <= FEW_PATHS
        else repo.stream(*args)
    )
    # compared as bytes: only the wanted records are decoded (20,000 entries, 5,000 wanted)
    wanted = {os.fsencode(p): p for p in paths}
    entries: dict[str, IndexEntry] = {}
    for rec in nul_fields(listing):
        meta, _, raw = rec.partition(b"\t")
        name = wanted.get(raw)
        if name is not None:
            tag, mode, oid, stage = meta.decode().split()
            entries[name] = IndexEntry(mode, oid, int(stage), tag in ("S", "s"), tag.islower())
    return entries


# up to this many paths, git is given them (literal pathspecs); past it, git matches every
# entry of the index against every one (0.7 s for 5,000 paths), and the whole index is read
FEW_PATHS = 64


def stat_changed(repo: GitRepo, paths: Sequence[str] | None = None) -> set[bytes]:
    """Paths whose working-tree file ``git diff-files`` does not find unchanged against the
    index: git's own check (stat data, and the content where the stat data cannot tell, as
    ``git status`` decides), one C pass over the index instead of reading every file.
    ``paths``: only these are asked about, and when they are few git looks at their files
    alone (every file of a 100,000-file work tree: 80 ms; three of them: 14 ms)."""
    few = () if paths is None or len(paths) > FEW_PATHS else ("--", *paths)
    out = repo.run("diff-files", "-z", "--name-only", "--ignore-submodules", *few)
    return set(out.split(b"\0"))


def worktree_hashes(
    repo: GitRepo,
    paths: Sequence[str],
    entries: Mapping[str, IndexEntry],
    changed: set[bytes],
) -> dict[str, str | None]:
    """:func:`clean_hashes`, except that a file ``changed`` (:func:`stat_changed`) does not
    name and whose index entry is a plain regular file takes the entry's blob id unread.
    Entries marked assume-unchanged or skip-worktree are always read: git trusts those
    without looking at the file."""
    known: dict[str, str | None] = {}
    for p in paths:
        e = entries.get(p)
        if (
            e is not None
            and e.stage == 0
            and e.mode in REGULAR_MODES
            and not (e.skip_worktree or e.assume_unchanged)
            and os.fsencode(p) not in changed
        ):
            known[p] = e.oid
    known.update(clean_hashes(repo, [p for p in paths if p not in known]))
    return known


def clean_hashes(repo: GitRepo, paths: Sequence[str]) -> dict[str, str | None]:
    """The blob id git would store for each working-tree file (None when absent or not a
    regular file): clean filters and eol conversion applied, nothing written."""
    out: dict[str, str | None] = {}
    present = []
    top = os.fspath(repo.root)
    refused = beyond_symlinks(repo.root, paths)
    for p in paths:
        regular = False
        if p not in refused:
            try:
                regular = stat.S_ISREG(os.lstat(f"{top}/{p}").st_mode)
            except (OSError, ValueError):
                pass
        if regular:
            present.append(p)
        else:
            out[p] = None
    if present:
        data = b"".join(_path_line(p) + b"\n" for p in present)
        res = repo.run("-c", "core.safecrlf=false", "hash-object", "--stdin-paths", input=data)
        for p, oid in zip(present, res.decode().split()):
            out[p] = oid
    return out


_NEEDS_QUOTING = re.compile(rb'^"|[\x00-\x1f\x7f]')


def _path_line(path: str) -> bytes:
    """:func:`stdin_path_line`, with the common case (nothing to quote) at C speed."""
    raw = os.fsencode(path)
    return stdin_path_line(path) if _NEEDS_QUOTING.search(raw) else raw


def checkout_blobs(repo: GitRepo, entries: Sequence[tuple[str, str, str]]) -> None:
    """Write ``(path, oid, mode)`` blobs into the working tree as a checkout would (eol,
    autocrlf, smudge filters, executable bit), through a temporary index: git's own conversion,
    one process, and the user's index untouched. (``cat-file --batch --filters`` cannot serve:
    its header gives the unconverted size.)"""
    if not entries:
        return
    with tempfile.TemporaryDirectory(prefix="phase2-checkout-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        info = b"".join(
            f"{mode} {oid}\t".encode() + path.encode("utf-8", "surrogateescape") + b"\0"
            for path, oid, mode in entries
        )
        repo.run("update-index", "-z", "--index-info", input=info, env=env)
        paths = b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p, _, _ in entries)
        repo.run("checkout-index", "-f", "-z", "--stdin", input=paths, env=env)


def sync_after_move(
    repo: GitRepo,
    updates: Sequence[TreeUpdate],
    held: Mapping[str, bytes] | None = None,
    *,
    index_only: Sequence[TreeUpdate] = (),
    ready: Callable[[], None] | None = None,
    plain: Background[set[str]] | None = None,
    attrs: Mapping[str, Mapping[str, str]] | None = None,
    crlf: str | None = None,
    verified: Collection[str] = (),
    resume: bool = False,
) -> list[str]:
    """Bring the user's index and working tree forward for exactly the changed paths.

    An index entry moves only if it still holds the old blob; a file is rewritten only if its
    clean hash still equals the old blob and git stores every byte of it
    (:func:`~phase2_git.git.worktree.hidden_bytes`; ``attrs``: the conversion attributes of
    the paths, and ``crlf``: ``core.autocrlf``, if git was asked already; ``verified``: paths
    the caller has just checked so). Returns the paths left alone (the user's own edits, and
    files holding bytes git does not store).
    ``resume``: this finishes the sync of a run that was stopped, whose files may be torn
    (:func:`~phase2_git.git.worktree.torn_files`): those are rewritten, not taken for the
    user's edits.
    ``held``: bytes of new blobs the caller already has (blob id -> bytes), written in place
    where a checkout would write exactly those bytes (:func:`direct_writes`).
    ``index_only``: entries moved by the same rule whose files the caller writes itself;
    ``ready()`` waits for those writes. Last, the index is refreshed: an entry that moved
    without its file, or a file written in place, has no stat data in it yet (a refresh only
    re-stats, it never changes what is staged). ``plain``: :func:`unconverted` for the
    paths whose bytes are held, if the caller asked git already (attributes do not change
    when the branch moves).
    """
    held = held or {}
    paths = [u.path for u in updates]
    maybe = [u.path for u in updates if u.new in held]
    # git answers these three at once (two cores): which files differ from the index, the
    # attributes of those that may be written in place, and (here) the index listing
    comparing = Background(lambda: stat_changed(repo, paths))
    converting = plain or Background(lambda: unconverted(repo, maybe, every=paths, crlf=crlf))
    crlfs = Background(lambda: autocrlf(repo)) if crlf is None else None
    try:
        entries = index_entries(repo, [*paths, *(u.path for u in index_only)])
        hashes = worktree_hashes(repo, paths, entries, comparing.result())
        refused = beyond_symlinks(repo.root, paths)
        repaired: set[str] = set()
        if resume:
            repaired = torn_files(
                repo,
                [
                    (u.path, u.old, u.new)
                    for u in updates
                    if u.old is not None
                    and u.new is not None
                    and u.path not in refused
                    and hashes.get(u.path) not in (u.old, u.new)
                ],
            )
            hashes.update({u.path: u.old for u in updates if u.path in repaired})
        index_lines: list[TreeUpdate] = []
        follow: list[TreeUpdate] = []  # index entry and file both move
        rewrite: list[TreeUpdate] = []  # the file moves, the index keeps what the user staged
        kept: list[str] = []
        for u in updates:
            if u.path in refused:
                kept.append(u.path)  # never unlink or write through a symlinked folder
                continue
            entry = entries.get(u.path)
            if entry is not None and entry.skip_worktree:
                kept.append(u.path)
                continue
            index_holds_old = _holds(entry, u.old)
            if index_holds_old:
                index_lines.append(u)
            if hashes.get(u.path) == u.old:
                (follow if index_holds_old else rewrite).append(u)
            elif not index_holds_old:
                kept.append(u.path)
        index_lines += [u for u in index_only if _holds(entries.get(u.path), u.old)]
        # a file holding bytes git does not store is left as it is, as the user's edits are
        done = {*repaired, *verified}  # a converted file costs a checkout: not twice
        checked = {u.path: u.old for u in (*follow, *rewrite) if u.path not in done}
        if crlfs is not None:
            crlf = crlfs.result()
        hidden = hidden_bytes(repo, checked, attrs=attrs, crlf=crlf)
        if hidden:
            kept += [u.path for u in updates if u.path in hidden]
            follow = [u for u in follow if u.path not in hidden]
            rewrite = [u for u in rewrite if u.path not in hidden]
        for u in (*follow, *rewrite):
            if u.new is None:
                (repo.root / u.path).unlink(missing_ok=True)
        follow = [u for u in follow if u.new is not None]
        direct = direct_writes(repo, follow, held, plain=converting.result())
    finally:
        comparing.join()
        converting.join()
        if crlfs is not None:
            crlfs.join()
    info = _index_info(repo, index_lines)
    # the entries move while the files are written in place (neither waits for the other)
    moving = Background(lambda: repo.run("update-index", "-z", "--index-info", input=info))
    try:
        write_in_place(repo, [(u.path, held[u.new or ""]) for u in direct])
        done = {u.path for u in direct}
    except UsageError:
        # the writer could not run or stopped: git writes them all (rewriting a file the
        # writer finished gives the same bytes) and reports a real write error itself
        done = set()
    finally:
        moving.join()
    moving.result()
    # the user's index holds the new blobs now: ``checkout-index -u`` writes the files as a
    # checkout would and records their stat data in the same pass
    checkout_paths(repo, [u.path for u in follow if u.path not in done])
    checkout_blobs(repo, [(u.path, u.new, u.mode) for u in rewrite if u.new is not None])
    if ready is not None:
        ready()
    refresh(repo, [u.path for u in (*updates, *index_only) if u.new is not None])
    return kept


def refresh(repo: GitRepo, paths: Sequence[str]) -> None:
    """Record the stat data of ``paths``' files in the user's index (their entries and files
    just moved): only re-stats, never changes what is staged. A few paths are refreshed alone
    (``git add --refresh``: 17 ms in a 100,000-file work tree, where refreshing the whole
    index took 115 ms); many, or a path the index no longer holds, refresh the whole index.
    Best effort: a file git cannot refresh is left for its next status."""
    few = paths and len(paths) <= FEW_PATHS
    if few and repo.run_status("add", "--refresh", "--", *paths).returncode == 0:
        return
    repo.run_status("update-index", "-q", "--refresh")


def _holds(entry: IndexEntry | None, oid: str | None) -> bool:
    """Whether the user's index entry (None: no entry) holds ``oid`` (None: no file)."""
    if entry is None:
        return oid is None
    return entry.stage == 0 and entry.oid == oid


_NO_AUTOCRLF = ("", "false", "no", "off", "0", "input")  # input converts only when adding


def unconverted(
    repo: GitRepo,
    paths: Sequence[str],
    *,
    every: Sequence[str] = (),
    known: Mapping[str, Mapping[str, str]] | None = None,
    crlf: str | None = None,
) -> set[str]:
    """Those of ``paths`` a checkout writes byte for byte as the blob holds them: no conversion
    attribute and ``core.autocrlf`` off or ``input``. ``every``: all paths being written (a
    ``.gitattributes`` among them could change what converts: then none). ``known``: the
    :data:`CONVERSION_ATTRIBUTES` of these paths, and ``crlf``: :func:`autocrlf`, if git was
    asked already."""
    if not paths or any(p.rpartition("/")[2] == ".gitattributes" for p in (*paths, *every)):
        return set()
    if (autocrlf(repo) if crlf is None else crlf) not in _NO_AUTOCRLF:
        return set()
    attrs = known
    if attrs is None or any(p not in attrs for p in paths):
        attrs = attributes(repo, paths, CONVERSION_ATTRIBUTES)
    return {
        p
        for p in paths
        if all(
            attrs.get(p, {}).get(a, "unspecified") in ("unspecified", "unset")
            for a in CONVERSION_ATTRIBUTES
        )
    }


def direct_writes(
    repo: GitRepo,
    updates: Sequence[TreeUpdate],
    held: Mapping[str, bytes],
    *,
    every: Sequence[str] = (),
    plain: set[str] | None = None,
) -> list[TreeUpdate]:
    """Those of ``updates`` whose file may be rewritten in place with the new blob's bytes:
    the bytes are held, a checkout would not convert them (``plain``: :func:`unconverted`,
    unless the caller already asked), and the file is a regular file with one link whose
    executable bit matches the mode. A checkout writes exactly the blob's bytes then;
    rewriting the file in place spares creating a new inode for each, which made
    ``checkout-index`` of 5,000 files cost a second on an ext4 disk. Everything else is left
    to ``checkout-index``."""
    if os.name != "posix" or not sys.executable or getattr(sys, "frozen", False):
        return []  # the writer is a Python file run by path: not from a frozen executable
    todo = [u for u in updates if u.new in held and u.mode in REGULAR_MODES]
    if plain is None:
        plain = unconverted(repo, [u.path for u in todo], every=every)
    top = os.fspath(repo.root)
    out = []
    for u in todo:
        if u.path not in plain:
            continue
        try:
            st = os.lstat(f"{top}/{u.path}")
        except (OSError, ValueError):
            continue
        executable = bool(st.st_mode & stat.S_IXUSR)
        if stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and executable == (u.mode == "100755"):
            out.append(u)
    return out


# The writer (git/_writer.py) runs as its own process, as git's checkout-index does, in a
# session of its own: phase2 killed or interrupted (SIGKILL, Ctrl-C to the process group, a CI
# timeout) does not stop it in the middle of a file, and it writes a file only once it has
# received every byte of it. Its module says what may still tear a file, and resolve's rerun
# repairs that (see worktree.torn).
WRITER = Path(__file__).with_name("_writer.py")


def write_in_place(repo: GitRepo, files: Sequence[tuple[str, bytes]]) -> None:
    """Overwrite existing working-tree files in place with ``bytes`` (see
    :func:`direct_writes`): two writers at once when there are many files (the second core
    halves the time: 0.05 s against 0.1 s for 5,000 files)."""
    if not files:
        return
    top = os.fspath(repo.root)
    if len(files) < 256 or (os.cpu_count() or 1) < 2:
        _write(top, files)
        return
    half = len(files) // 2
    other = Background(lambda: _write(top, files[half:]))
    try:
        _write(top, files[:half])
    finally:
        other.join()
    other.result()


def _write(top: str, files: Sequence[tuple[str, bytes]]) -> None:
    chunks: list[bytes] = []
    for path, data in files:
        raw = os.fsencode(f"{top}/{path}")
        chunks += (b"%d %d\n" % (len(raw), len(data)), raw, data)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", os.fspath(WRITER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=top,
            start_new_session=True,  # out of reach of signals to phase2's process group
        )
    except OSError as exc:
        raise UsageError(f"cannot write the working tree: {exc.strerror}") from None
    try:
        # the records as they are, not joined: a copy of every file's bytes was a tenth of
        # resolve's peak memory
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # it stopped: its status says why
            proc.stdin.writelines(chunks)
        _, err = proc.communicate()  # flushes and closes the input, as it does any
    except BaseException:
        # Ctrl-C in phase2 (the writer never sees it): end the writer's input, so it stops
        # after the file in hand, whole, and wait for it (``subprocess.run`` would kill it)
        with contextlib.suppress(OSError):
            if proc.stdin is not None:
                proc.stdin.close()
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
        raise
    if proc.returncode != 0:
        why = err.decode("utf-8", "replace").strip().splitlines() or ["failed"]
        raise UsageError(f"cannot write the working tree: {why[-1][:300]}")


def checkout_paths(repo: GitRepo, paths: Sequence[str]) -> None:
    """Write ``paths`` from the user's index into the working tree (eol, autocrlf, smudge
    filters, executable bit: git's own conversion) and record their new stat data."""
    if not paths:
        return
    data = b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths)
    repo.run("checkout-index", "-f", "-u", "-z", "--stdin", input=data)


def commit_messages(
    repo: GitRepo, path: str, *, since: str | None = None
) -> Iterable[tuple[str, str]]:
    """``(commit, message)`` of every commit that touched ``path`` (newest first)."""
    args = ["log", "-z", "--format=%H%x00%B", "--no-color"]
    if since:
        args.append(since)
    out = repo.run_status(*args, "--", path)
    if out.returncode != 0:
        return []
    parts = out.stdout.split(b"\0")
    result = []
    for i in range(0, len(parts) - 1, 2):
        commit = parts[i].decode().strip()
        if commit:
            result.append((commit, parts[i + 1].decode("utf-8", "replace")))
    return result


def object_exists(repo: GitRepo, oid: str) -> bool:
    return repo.run_status("cat-file", "-e", f"{oid}^{{commit}}").returncode == 0


def branch_contains(repo: GitRepo, commit: str, head: str = "HEAD") -> bool:
    return repo.run_status("merge-base", "--is-ancestor", commit, head).returncode == 0


def git_path(repo: GitRepo, rel: str) -> Path:
    p = repo.run("rev-parse", "--git-path", rel).decode().strip()
    return Path(p) if Path(p).is_absolute() else repo.root / p


def ensure_local_excludes(repo: GitRepo, patterns: Sequence[str]) -> None:
    """Keep phase2's per-machine files out of ``git status`` even before ``phase2 init``
    wrote ``.phase2/.gitignore``: list them in ``info/exclude`` (never committed)."""
    exclude = git_path(repo, "info/exclude")
    try:
        current = exclude.read_text(encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        current = ""
    missing = [p for p in patterns if p not in current.splitlines()]
    if not missing:
        return
    from phase2_git.files import atomic_write_text

    text = current if not current or current.endswith("\n") else current + "\n"
    atomic_write_text(exclude, text + "# phase2: per-machine state\n" + "\n".join(missing) + "\n")


def is_tracked(repo: GitRepo, path: Path) -> bool:
    """Whether git's index holds ``path`` (a file inside the work tree)."""
    try:
        rel = path.resolve().relative_to(repo.root.resolve()).as_posix()
    except (ValueError, OSError):
        return False
    return bool(repo.run("ls-files", "-z", "--", rel).strip(b"\0"))
