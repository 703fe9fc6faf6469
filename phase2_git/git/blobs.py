"""Stream the content of both sides of many changes through one ``git cat-file --batch``."""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import IO, TYPE_CHECKING

from phase2_git.core.model import MODE_GITLINK, Blob, Change
from phase2_git.errors import GitError
from phase2_git.git.repo import GitRepo, git_failure, quote_for_message

if TYPE_CHECKING:
    from queue import SimpleQueue

HEAD_BYTES = 8000
_CAT_FILE_LIMITS = (
    "-c",
    "core.deltaBaseCacheLimit=8m",
    "-c",
    "core.packedGitLimit=16m",
    "-c",
    "core.packedGitWindowSize=2m",
)
_CHUNK = 1 << 16
_FEED_BATCH = 512
# up to this many changes are taken as a list (ids known up front); a longer run streams
_SMALL = 256


def read_blobs(
    repo: GitRepo, changes: Iterable[Change], *, max_size: int
) -> Generator[tuple[Change, Blob | None, Blob | None], None, None]:
    """Yield ``(change, before, after)`` in the order of ``changes``.

    One ``git cat-file --batch`` serves the whole call; only the current pair is held in
    memory. Objects over ``max_size`` bytes come back with ``data=None`` and their first
    8000 bytes in ``head``. Close the generator (or exhaust it) to stop the process.

    ``changes`` may be an iterator: a writer thread takes one change at a time, hands its ids
    to git and queues it for the reader, so of a long stream only the changes git has not
    answered yet are held (the pipes' back-pressure bounds them to about a thousand).
    """
    source = iter(changes)
    known = list(islice(source, _SMALL))
    feed: Callable[..., None]
    feed_args: tuple[object, ...]
    if len(known) == _SMALL and promisor_remote(repo) is None:
        # only a long run pays for importing queue (the hook never does)
        from queue import SimpleQueue

        queue: SimpleQueue[Change | _Stop] = SimpleQueue()
        feed, feed_args = _feed_stream, (chain(known, source), queue)
        pending: Iterator[Change] = _drain(queue)
    else:
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
        feed, feed_args = _feed, (wanted,)
        pending = iter(known)
    del known

    with tempfile.TemporaryFile() as errfile:
        proc = repo.popen(
            # git's defaults let one cat-file over thousands of packed blobs grow to 150 MiB
            # (a 96 MiB delta-base cache, pack windows mapped whole); bounded, it stays near
            # 33 MiB at 100,000 artifacts (22 MiB at 20,000) for the same speed: the mapped
            # windows count in its RSS, 32m of them made it the run's peak (bench/)
            *_CAT_FILE_LIMITS,
            "cat-file",
            "--batch",
            "--buffer",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errfile,
        )
        assert proc.stdin is not None and proc.stdout is not None
        writer = threading.Thread(
            target=feed, args=(proc.stdin, *feed_args), name="phase2-cat-file-feed", daemon=True
        )
        writer.start()
        finished = False
        try:
            out = proc.stdout
            for c in pending:
                before = _read_side(
                    out, errfile, c.before, c.before_mode, c.old_path or c.path, max_size
                )
                after = _read_side(out, errfile, c.after, c.after_mode, c.path, max_size)
                yield c, before, after
            finished = True
        finally:
            if not finished and proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            writer.join()
            proc.stdout.close()


class _Stop:
    """The stream writer's last word in the queue: every change is queued, or taking the next
    one failed (``error``, raised by the reader after the changes before it)."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def _drain(queue: SimpleQueue[Change | _Stop]) -> Iterator[Change]:
    while True:
        item = queue.get()
        if isinstance(item, _Stop):
            if item.error is not None:
                raise item.error
            return
        yield item


def _wanted(c: Change) -> Iterator[str]:
    for oid, mode in ((c.before, c.before_mode), (c.after, c.after_mode)):
        if oid is not None and mode != MODE_GITLINK:
            yield oid


def _gitlink_or_none(oid: str | None, mode: str) -> Blob | None:
    if oid is None:
        return None
    if mode != MODE_GITLINK:
        raise AssertionError("only gitlinks are answered without cat-file")
    text = f"Subproject commit {oid}\n".encode()
    return Blob(oid=oid, size=len(text), data=text, head=text, mode=MODE_GITLINK)


def _feed(stdin: IO[bytes], oids: list[str]) -> None:
    """Writer thread: hand every id to cat-file; a closed pipe means the reader gave up."""
    try:
        for start in range(0, len(oids), _FEED_BATCH):
            stdin.write("".join(f"{o}\n" for o in oids[start : start + _FEED_BATCH]).encode())
        stdin.flush()
    except (BrokenPipeError, OSError, ValueError):
        pass
    finally:
        try:
            stdin.close()
        except (BrokenPipeError, OSError):
            pass


def _feed_stream(
    stdin: IO[bytes], changes: Iterator[Change], queue: SimpleQueue[Change | _Stop]
) -> None:
    """Writer thread of a long run: queue each change for the reader, then hand its ids to
    cat-file. It runs ahead of the reader only as far as the pipes let it (git stops reading
    while its answers wait to be read), so the queue stays short."""
    stop = _Stop()
    try:
        batch: list[str] = []
        for c in changes:
            queue.put(c)  # before its ids: the reader waits for git's answer, never for this
            batch.extend(_wanted(c))
            if len(batch) >= _FEED_BATCH:
                stdin.write("".join(f"{o}\n" for o in batch).encode())
                batch.clear()
        stdin.write("".join(f"{o}\n" for o in batch).encode())
        stdin.flush()
    except (BrokenPipeError, OSError, ValueError):
        pass
    except BaseException as exc:  # taking the next change failed: the reader raises it
        stop = _Stop(exc)
    finally:
        queue.put(stop)
        try:
            stdin.close()
        except (BrokenPipeError, OSError):
            pass


def _read_exact(out: IO[bytes], n: int, errfile: IO[bytes], oid: str) -> bytes:
    data = out.read(n)
    if len(data) != n:
        raise _stopped(errfile, oid)
    return data


def _stopped(errfile: IO[bytes], oid: str) -> GitError:
    errfile.seek(0)
    err = errfile.read()
    return git_failure(("cat-file",), err or f"output ended while reading {oid}".encode())


def _read_side(
    out: IO[bytes], errfile: IO[bytes], oid: str | None, mode: str, path: str, max_size: int
) -> Blob | None:
    if oid is None or mode == MODE_GITLINK:
        return _gitlink_or_none(oid, mode)
    header = out.readline()
    if not header:
        raise _stopped(errfile, oid)
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
        data = whole = _read_exact(out, size, errfile, oid)
        head = whole[:HEAD_BYTES]
    else:
        data = None
        head = _read_exact(out, min(size, HEAD_BYTES), errfile, oid)
        left = size - len(head)
        while left:
            left -= len(_read_exact(out, min(left, _CHUNK), errfile, oid))
    if out.read(1) != b"\n":
        raise _stopped(errfile, oid)
    return Blob(oid=oid, size=size, data=data, head=head, mode=mode)


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
