"""Stream the content of both sides of many changes through one ``git cat-file --batch``."""

from __future__ import annotations

import os
import stat
import subprocess
import threading
from collections import deque
from collections.abc import Generator, Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import IO, TYPE_CHECKING

from phase2_git.core.model import MODE_GITLINK, REGULAR_MODES, Blob, Change
from phase2_git.errors import GitError
from phase2_git.git.repo import GitRepo, git_failure, quote_for_message

if TYPE_CHECKING:
    from queue import SimpleQueue

HEAD_BYTES = 8000
_CAT_FILE_LIMITS = (
    "-c",
    "core.deltaBaseCacheLimit=4m",
    "-c",
    "core.packedGitLimit=8m",
    "-c",
    "core.packedGitWindowSize=1m",
)
# git's defaults let one cat-file over thousands of packed blobs grow to 150 MiB (a 96 MiB
# delta-base cache, pack windows mapped whole); bounded, it stays near 21 MiB at 100,000
# artifacts (18 MiB at 20,000) for the same CPU time on packs of long delta chains: the mapped
# windows and the cache count in its RSS, and at 16m and 8m (33 MiB) they made it the run's
# largest process (bench/)
_CAT_FILE = (*_CAT_FILE_LIMITS, "cat-file", "--batch", "--buffer")
_CHUNK = 1 << 16
_FEED_BATCH = 512
# up to this many changes are taken as a list (ids known up front); a longer run streams,
# taking this many at a time
_SMALL = 256
# up to this many ids are written before reading, with no thread at all (the hook): their
# requests fit the pipe's buffer, and git's stderr for so few objects cannot fill its own
_FEW = 64
# requests queued beyond the one whose answer is read: their answers (49 bytes at least
# each) outgrow the buffer cat-file --buffer fills before it writes
_AHEAD = 1024
# work-tree contents held for the changes queued ahead (read_blobs' ``worktree``), each
# counted with the objects that hold it (thousands of empty files are not free); beyond this,
# an after side is asked of git as usual
_LOCAL_BUDGET = 8 << 20
_EACH = 512


def prestart(repo: GitRepo) -> None:
    """Start the ``cat-file`` the next :func:`read_blobs` of ``repo`` uses now
    (:meth:`GitRepo.prestart`): it waits for its input while git and this process do the
    rest."""
    repo.prestart(*_CAT_FILE)


def read_blobs(
    repo: GitRepo, changes: Iterable[Change], *, max_size: int, worktree: bool = False
) -> Generator[tuple[Change, Blob | None, Blob | None], None, None]:
    """Yield ``(change, before, after)`` in the order of ``changes``.

    One ``git cat-file --batch`` serves the whole call; only the current pair is held in
    memory. Objects over ``max_size`` bytes come back with ``data=None`` and their first
    8000 bytes in ``head``. Close the generator (or exhaust it) to stop the process.

    ``changes`` may be a long iterator: it is then taken a few hundred at a time, just ahead
    of what is read back, so only the changes whose answers are pending are held.

    ``worktree``: the after sides are the index's (the hook). A long run then takes each
    after side from its work-tree file when that file's bytes are the very blob (hashed as
    git hashes a blob, no filter applied): a staged file is a loose object, which git opens
    three times to answer once, and the hook's run waited on git (bench/: the ``check3k``
    row). Any other file (edited since it was staged, converted by a filter or ``eol``,
    absent, not a regular file, too large) is read from git as usual.
    """
    source = iter(changes)
    known = list(islice(source, _SMALL))
    streamed = len(known) == _SMALL and promisor_remote(repo) is None
    wanted: list[str] = []
    if not streamed:
        # short (the hook: no process at all when no side needs one), or a partial clone,
        # which fetches every missing object in one request first
        known += source
        wanted = [oid for c in known for oid in _wanted(c)]
        if not wanted:
            for c in known:
                yield (
                    c,
                    _gitlink_or_none(c.before, c.before_mode),
                    _gitlink_or_none(c.after, c.after_mode),
                )
            return
        prefetch_missing(repo, wanted)

    proc = repo.popen(
        *_CAT_FILE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    # stdin is fed and stderr drained by their own threads: git never blocks on a full pipe
    # while we read stdout (a pipe rather than a temporary file keeps `tempfile`, and the
    # `random` and `shutil` it imports, off the pre-commit hook's path)
    errors = _Tail(proc.stderr)
    pending: Iterator[tuple[Change, Blob | None]]
    threads: list[threading.Thread] = []
    if not streamed and len(wanted) <= _FEW:
        # a few ids (the hook's files): written whole before reading, no thread started;
        # stderr is read once stdout has ended
        _feed(proc.stdin, wanted)
        pending = ((c, None) for c in known)
    else:
        if streamed:
            # only a long run pays for importing queue (the hook never does)
            from queue import SimpleQueue

            chunks: SimpleQueue[bytes | None] = SimpleQueue()
            feed = threading.Thread(
                target=_feed_chunks, args=(proc.stdin, chunks), name="phase2-cat-file-feed"
            )
            local = _Worktree(repo, max_size) if worktree else None
            pending = _ahead(chain(known, source), chunks, local)
        else:
            feed = threading.Thread(
                target=_feed, args=(proc.stdin, wanted), name="phase2-cat-file-feed"
            )
            pending = ((c, None) for c in known)
        threads = [feed, errors.thread()]
    del known, wanted
    for t in threads:
        t.daemon = True
        t.start()
    finished = False
    try:
        out = proc.stdout
        for c, local_after in pending:
            yield _read_pair(out, errors, c, local_after, max_size)
        finished = True
    finally:
        if streamed:
            chunks.put(None)  # a writer still waiting for ids stops (once is enough)
        if not finished and proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for t in threads:
            t.join()
        proc.stdout.close()
        proc.stderr.close()


class BlobReader:
    """Both sides of a few changes at a time (:meth:`pairs`), from one ``git cat-file
    --batch`` kept open between calls (a classifying worker's: :mod:`phase2_git.app.workers`).

    No thread: the requests go out in pieces of at most ``PIPE_BUF`` bytes (the least a pipe
    holds), each written only once every answer to the one before has been read, so neither
    side ever waits on a full pipe. Without ``--buffer`` git writes each answer as it is
    made. ``worktree`` and ``max_size`` mean what they mean to :func:`read_blobs`."""

    def __init__(self, repo: GitRepo, *, max_size: int, worktree: bool = False) -> None:
        self._repo = repo
        self._max_size = max_size
        self._local = _Worktree(repo, max_size) if worktree else None
        self._proc: subprocess.Popen[bytes] | None = None
        self._errors: _Tail | None = None

    def pairs(
        self, changes: Iterable[Change]
    ) -> Generator[tuple[Change, Blob | None, Blob | None], None, None]:
        """Each of ``changes`` with both sides, read when it is taken: while the caller
        works on one, git writes the next ones into the pipe, and they are read many at a
        time. Read all before any was used, every answer was read as git wrote it (a header,
        the contents, a newline: three reads and as many wake-ups of each process a blob; a
        20,000-artifact diff made 15,000 context switches, against 3,000 for the floor;
        2,600 now, and 3.5% less wall time).
        Left before its end, the rest of the answers are never read: git is stopped, and the
        next call starts another."""
        complete = False
        try:
            piece: list[tuple[Change, Blob | None]] = []
            asked: list[str] = []
            size = 0
            held = 0  # work-tree contents taken in this call
            for c in changes:
                after = None
                if self._local is not None:
                    after = self._local.blob(c, _LOCAL_BUDGET - held)
                    held += 0 if after is None else after.size
                oids = _wanted(c, after=after is None)
                more = sum(map(len, oids)) + len(oids)  # each id and its newline
                if size + more > _PIPE_BUF:
                    yield from self._answer(piece, asked)
                    size = 0
                piece.append((c, after))
                asked += oids
                size += more
            yield from self._answer(piece, asked)
            complete = True
        finally:
            if not complete:
                self.close()

    def _answer(
        self, piece: list[tuple[Change, Blob | None]], asked: list[str]
    ) -> Iterator[tuple[Change, Blob | None, Blob | None]]:
        """Ask for ``asked``, the ids of ``piece``, and give its changes with their sides."""
        if asked:
            proc, errors = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write("".join(f"{o}\n" for o in asked).encode())
                proc.stdin.flush()
            except OSError as exc:  # git has gone: say what it said
                raise _stopped(errors, asked[0]) from exc
            out = proc.stdout
            for c, a in piece:
                yield _read_pair(out, errors, c, a, self._max_size)
        else:
            for c, after in piece:
                before = _gitlink_or_none(c.before, c.before_mode)
                yield c, before, after or _gitlink_or_none(c.after, c.after_mode)
        piece.clear()
        asked.clear()

    def _start(self) -> tuple[subprocess.Popen[bytes], _Tail]:
        if self._proc is None or self._errors is None:
            self._proc = self._repo.popen(
                *_CAT_FILE_LIMITS,
                "cat-file",
                "--batch",
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=_PIPE_SIZE,  # as much as the pipe holds, in one read
            )
            assert self._proc.stderr is not None
            self._errors = _Tail(self._proc.stderr)
        return self._proc, self._errors

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        try:
            proc.stdin.close()  # the end of input: cat-file exits once it has answered
        except OSError:
            pass
        # nothing more is read: a reader left before its end (a pair that failed, a missing
        # object) leaves answers git is still writing, and git, blocked on the full pipe,
        # never read the end of its input; with the pipe closed its next write fails and it
        # exits (before, each such stop waited _STOP_WAIT seconds for it, then killed it)
        proc.stdout.close()
        try:
            proc.wait(timeout=_STOP_WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()


# how long a git process told to stop may take before it is killed
_STOP_WAIT = 10

# the least a pipe holds (POSIX PIPE_BUF; Linux gives a pipe a single page of it once a user
# has used up its pipe-user-pages-soft): BlobReader's requests never outgrow it
_PIPE_BUF = 4096
# what a pipe holds by default on Linux: git gets that far ahead of a reader that is busy
_PIPE_SIZE = 1 << 16


class _Tail:
    """The last 64 KiB a stream gave, read to its end by :meth:`drain` (a thread) or, when
    no thread drains it, by :meth:`text` itself."""

    _KEEP = 1 << 16

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._data = b""
        self._done = threading.Event()
        self._draining = False

    def thread(self) -> threading.Thread:
        """A thread that drains the stream (not started)."""
        self._draining = True
        return threading.Thread(target=self.drain, name="phase2-cat-file-err")

    def drain(self) -> None:
        try:
            while chunk := self._stream.read1(_CHUNK):  # type: ignore[attr-defined]
                self._data = (self._data + chunk)[-self._KEEP :]
        except (OSError, ValueError):
            pass
        finally:
            self._done.set()

    def text(self) -> bytes:
        """What was written, once the writer has closed the stream (or after 10 s)."""
        if not self._draining:
            self.drain()  # no thread: git has stopped writing stdout, so stderr ends too
        self._done.wait(timeout=10)
        return self._data


def _wanted(c: Change, *, after: bool = True) -> list[str]:
    """The ids cat-file answers for ``c``: both sides', or the before side's alone (a list
    built without a generator: asked for every change a worker reads)."""
    out = []
    if c.before is not None and c.before_mode != MODE_GITLINK:
        out.append(c.before)
    if after and c.after is not None and c.after_mode != MODE_GITLINK:
        out.append(c.after)
    return out


def _ahead(
    changes: Iterator[Change], chunks: SimpleQueue[bytes | None], local: _Worktree | None = None
) -> Iterator[tuple[Change, Blob | None]]:
    """``changes`` in order, their ids handed to the writer thread ahead of the reader, each
    with its after side when ``local`` read it from the work tree (then not asked of git).

    Before a change is handed out, at least ``_AHEAD`` requests after its own have been
    queued for cat-file, or all of them and the end of input: with ``--buffer`` git writes
    its answers only once it has a buffer's worth, and every request adds at least 49 bytes,
    so the answer the reader waits for is always on its way. All the Python work (taking the
    changes, which may parse and filter them; reading work-tree files) stays on this thread:
    a writer thread doing it contended for the GIL with the reader and cost 5% of a
    20,000-artifact diff.
    """
    pending: deque[tuple[Change, int, Blob | None]] = deque()
    load = 0  # requests of the changes in pending (queued for cat-file, not yet read back)
    held = 0  # bytes of the work-tree contents in pending
    more = True
    while True:
        while more and (not pending or load - pending[0][1] < _AHEAD):
            chunk = list(islice(changes, _SMALL))
            oids: list[str] = []
            for c in chunk:
                room = _LOCAL_BUDGET - held - _EACH
                after = local.blob(c, room) if local is not None else None
                if after is not None:
                    held += after.size + _EACH
                asked = _wanted(c, after=after is None)
                oids += asked
                pending.append((c, len(asked), after))
            if oids:
                chunks.put("".join(f"{o}\n" for o in oids).encode())
            load += len(oids)
            if len(chunk) < _SMALL:
                more = False
                chunks.put(None)  # the end of input: cat-file flushes what it holds and ends
        if not pending:
            return
        c, n, after = pending.popleft()
        load -= n
        if after is not None:
            held -= after.size + _EACH
        yield c, after


class _Worktree:
    """After sides read from the work tree, each only when its bytes are the blob git
    stores (read_blobs' ``worktree``)."""

    __slots__ = ("_flags", "_folders", "_hasher", "_repo", "_root", "max_size")

    def __init__(self, repo: GitRepo, max_size: int) -> None:
        # here: the hook's few files never import hashlib
        from phase2_git.git.paths import RealFolders, blob_hasher

        self._repo = repo
        self._hasher = blob_hasher
        self._root = os.fspath(repo.root)
        # never through a symlinked folder (``dir -> /dev``), as git never tracks a file there
        self._folders = RealFolders(self._root)
        # a symlink is never followed and a FIFO never waited on (it is not regular anyway)
        self._flags = (
            os.O_RDONLY
            | getattr(os, "O_NOFOLLOW", 0)
            | getattr(os, "O_NONBLOCK", 0)
            | getattr(os, "O_CLOEXEC", 0)
        )
        self.max_size = max_size

    def blob(self, c: Change, room: int) -> Blob | None:
        """``c``'s after side from its file, or None: read it from git."""
        if c.after is None or c.after_mode not in REGULAR_MODES or not self._folders.reach(c.path):
            return None
        try:
            # a string, not a Path per file: thousands of them on the hook's path
            fd = os.open(f"{self._root}/{c.path}", self._flags)
        except (OSError, ValueError):  # ValueError: a NUL in the name
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > min(self.max_size, room):
                return None
            data = os.read(fd, st.st_size + 1)  # one more: a file that grew is no match
        except OSError:
            return None
        finally:
            os.close(fd)
        digest = self._hasher(self._repo, len(data))
        digest.update(data)
        if digest.hexdigest() != c.after:
            return None
        return Blob(
            oid=c.after, size=len(data), data=data, head=data[:HEAD_BYTES], mode=c.after_mode
        )


def _gitlink_or_none(oid: str | None, mode: str) -> Blob | None:
    if oid is None:
        return None
    if mode != MODE_GITLINK:
        raise AssertionError("only gitlinks are answered without cat-file")
    text = f"Subproject commit {oid}\n".encode()
    return Blob(oid=oid, size=len(text), data=text, head=text, mode=MODE_GITLINK)


def _feed(stdin: IO[bytes], oids: list[str]) -> None:
    """Hand every id to cat-file (a writer thread, or inline for a few)."""
    batches = range(0, len(oids), _FEED_BATCH)
    _write_all(
        stdin, ("".join(f"{o}\n" for o in oids[i : i + _FEED_BATCH]).encode() for i in batches)
    )


def _feed_chunks(stdin: IO[bytes], chunks: SimpleQueue[bytes | None]) -> None:
    """Writer thread of a long run: write each queued chunk of ids as it comes, until None.
    Flushed every time: the reader waits for answers to exactly these requests."""
    _write_all(stdin, iter(chunks.get, None))


def _write_all(stdin: IO[bytes], parts: Iterable[bytes]) -> None:
    """Write and flush each part, then close; a closed pipe means the reader gave up."""
    try:
        for part in parts:
            stdin.write(part)
            stdin.flush()
    except (BrokenPipeError, OSError, ValueError):
        pass
    finally:
        try:
            stdin.close()
        except (BrokenPipeError, OSError):
            pass


def _read_exact(out: IO[bytes], n: int, errors: _Tail, oid: str) -> bytes:
    data = out.read(n)
    if len(data) != n:
        raise _stopped(errors, oid)
    return data


def _stopped(errors: _Tail, oid: str) -> GitError:
    err = errors.text()
    return git_failure(("cat-file",), err or f"output ended while reading {oid}".encode())


def _read_pair(
    out: IO[bytes], errors: _Tail, c: Change, after: Blob | None, max_size: int
) -> tuple[Change, Blob | None, Blob | None]:
    """``c`` with both sides as cat-file answers them, in request order (the after side only
    when ``after``, read from the work tree, is None)."""
    before = _read_side(out, errors, c.before, c.before_mode, c.old_path or c.path, max_size)
    return c, before, after or _read_side(out, errors, c.after, c.after_mode, c.path, max_size)


def _read_side(
    out: IO[bytes], errors: _Tail, oid: str | None, mode: str, path: str, max_size: int
) -> Blob | None:
    if oid is None or mode == MODE_GITLINK:
        return _gitlink_or_none(oid, mode)
    header = out.readline()
    if not header:
        raise _stopped(errors, oid)
    parts = header.rstrip(b"\n").split(b" ")
    if len(parts) == 2 and parts[1] == b"missing":
        raise GitError(
            f"object {oid} of '{quote_for_message(path)}' is missing from the repository",
        )
    if len(parts) != 3 or parts[0].decode("ascii", "replace") != oid:
        raise GitError(f"unexpected answer from git cat-file for {oid}: {header[:200]!r}")
    if parts[1] != b"blob":
        raise GitError(
            f"object {oid} of '{quote_for_message(path)}' is a {parts[1].decode()}, not a blob"
        )
    size = int(parts[2])
    data: bytes | None
    if size <= max_size:
        # the content and the newline after it in one read (read for every side of a diff)
        whole = out.read(size + 1)
        if len(whole) != size + 1 or whole[-1] != 10:  # 10: b"\n"
            raise _stopped(errors, oid)
        data = whole = whole[:-1]
        head = whole[:HEAD_BYTES]
    else:
        data = None
        head = _read_exact(out, min(size, HEAD_BYTES), errors, oid)
        left = size - len(head)
        while left:
            left -= len(_read_exact(out, min(left, _CHUNK), errors, oid))
        if out.read(1) != b"\n":
            raise _stopped(errors, oid)
    return Blob(oid, size, data, head, mode)


# ---------------------------------------------------------------------------- partial clones


def promisor_remote(repo: GitRepo) -> str | None:
    """The remote missing objects are fetched from in a partial clone, or None (asked of git
    once per repository and process: a hook run reads blobs twice)."""
    key = str(repo.git_dir)
    if key not in _PROMISOR:
        _PROMISOR[key] = _promisor_remote(repo)
    return _PROMISOR[key]


_PROMISOR: dict[str, str | None] = {}


def _plainly_not_partial(repo: GitRepo) -> bool:
    """A shortcut for the hook: a repository config file that never says "promisor" or
    "partialclone" and includes no other file cannot make a partial clone (those keys are
    set per repository), so git need not be asked. Anything unusual falls back to git."""
    if any(k.startswith("GIT_CONFIG") and k != "GIT_CONFIG_NOSYSTEM" for k in repo.env):
        return False
    try:
        text = (repo.git_dir / "config").read_text(encoding="utf-8", errors="replace").lower()
    except OSError:
        return False
    if (repo.git_dir / "commondir").exists() or (repo.git_dir / "config.worktree").exists():
        return False
    return not any(word in text for word in ("promisor", "partialclone", "include"))


def _promisor_remote(repo: GitRepo) -> str | None:
    if _plainly_not_partial(repo):
        return None
    proc = repo.run_status(
        "config", "-z", "--get-regexp", r"^(remote\..*\.promisor|extensions\.partialclone)$"
    )
    if proc.returncode != 0:
        return None
    partial: str | None = None
    for entry in proc.stdout.split(b"\0"):
        if not entry:
            continue
        key, _, value = entry.decode("utf-8", "surrogateescape").partition("\n")
        if key.lower() == "extensions.partialclone":
            partial = value or partial
        elif _git_true(value):
            return key[len("remote.") : -len(".promisor")]
    return partial


def _git_true(value: str) -> bool:
    v = value.strip().lower()
    if v in ("", "true", "yes", "on"):
        return True
    return v.lstrip("-").isdigit() and int(v) != 0


def content_sizes(repo: GitRepo, changes: Sequence[Change], max_size: int) -> dict[str, int]:
    """``path -> bytes`` :func:`read_blobs` would read for each of ``changes`` (both sides;
    an object over ``max_size`` is compared by its id alone and counts nothing), from one
    ``git cat-file --batch-check``, which reads each object's header and none of its content.
    Not for a partial clone (:func:`promisor_remote`): there, asking about a missing object
    fetches it."""
    wanted = {o: 0 for c in changes for o in _wanted(c)}
    if wanted:
        out = repo.run(
            "cat-file",
            "--batch-check=%(objectname) %(objectsize)",
            input="".join(f"{o}\n" for o in wanted).encode(),
        )
        for line in out.splitlines():
            oid, _, size = line.decode("ascii", "replace").partition(" ")
            if oid in wanted and size.isdigit() and int(size) <= max_size:
                wanted[oid] = int(size)
    return {c.path: sum(wanted[o] for o in _wanted(c)) for c in changes}


def missing_objects(repo: GitRepo, oids: Sequence[str]) -> list[str]:
    """Which of ``oids`` are not in the local object store, without fetching them."""
    unique = list(dict.fromkeys(oids))
    stdin = "".join(f"{o}\n" for o in unique).encode()
    # Not `cat-file --batch-check` under GIT_NO_LAZY_FETCH=1: gits that honour it (2.44+, and
    # the 2.39.4+ security backports) die on the first missing promised object instead of
    # answering "missing", and older ones fetch each object on its own. rev-list --missing
    # never fetches, and --ignore-missing leaves absent tips out of its answer.
    out = repo.run(
        "rev-list",
        "--objects",
        "--no-walk",
        "--missing=print",
        "--ignore-missing",
        "--stdin",
        input=stdin,
    )
    present = {
        line.split()[0].decode("ascii")
        for line in out.splitlines()
        if line.strip() and not line.startswith(b"?")
    }
    return [o for o in unique if o not in present]


def prefetch_missing(repo: GitRepo, oids: Sequence[str]) -> list[str]:
    """In a partial clone, fetch every absent object of ``oids`` in one request.

    Returns the ids fetched (empty outside partial clones). Without this, cat-file would
    fetch each missing blob by itself: one network round trip per file.
    """
    remote = promisor_remote(repo)
    if remote is None:
        return []
    missing = missing_objects(repo, oids)
    if not missing:
        return []
    proc = repo.run_status(
        "-c",
        "fetch.negotiationAlgorithm=noop",
        "fetch",
        "--no-tags",
        "--no-write-fetch-head",
        "--recurse-submodules=no",
        "--filter=blob:none",
        "--stdin",
        "--end-of-options",
        remote,
        input="".join(f"{o}\n" for o in missing).encode(),
    )
    if proc.returncode != 0:
        first = git_failure(("fetch",), proc.stderr).message
        raise GitError(
            f"could not fetch {len(missing)} missing objects from promisor remote "
            f"'{quote_for_message(remote)}': {first}"
        )
    return missing
