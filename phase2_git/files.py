"""Crash-safe writes (invariant 2): temp file in the same folder, fsync, rename, fsync dir.

Below ``git`` and ``store`` on purpose: git writes ``.git/info/exclude`` with it and must not
import the store (the layers are in pyproject's ``[tool.importlinter]``).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from phase2_git.errors import UsageError

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    """The process's umask. Linux reports it in /proc without changing it; elsewhere it can
    only be read by setting it (and setting it back)."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode_for(target: Path) -> int:
    """The permission bits a plain ``open(target, "w")`` would leave: an existing file keeps
    its own, a new one gets 0666 less the umask (mkstemp's temp file is 0600 whatever the
    umask, and a report or ``config.toml`` written 0600 is unreadable to the rest of a team's
    tooling)."""
    try:
        st = target.stat()
    except OSError:
        return 0o666 & ~_umask()
    return stat.S_IMODE(st.st_mode)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: readers see the old or the new file, whole.
    The file gets the mode a plain write would give it (:func:`_mode_for`)."""
    atomic_write_chunks(path, (data,))


def atomic_write_chunks(path: str | os.PathLike[str], chunks: Iterable[bytes]) -> None:
    """:func:`atomic_write_bytes` of the bytes ``chunks`` yields one after the other, for
    contents never held whole. An error raised by ``chunks`` leaves ``path`` as it was (and
    no temporary file behind)."""
    import tempfile  # here: importing this module stays cheap, only a write needs it

    target = Path(path)
    folder = target.parent if str(target.parent) else Path()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise UsageError(f"{target}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), _mode_for(target))
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise UsageError(f"{target}: cannot write: {exc.strerror}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


class ManyWrites:
    """:func:`atomic_write_bytes` of many files, several at once; every write is done, or the
    first error raised, when the ``with`` block ends.

    Each file is written as that function writes one (a new temporary file, fsync, rename,
    fsync of its folder): creating a file and waiting for the disk is the kernel's time, not
    this process's, and on this project's machine it was 0.4 ms a file (``check --fix`` of
    2,400 files: a second of them). Eight threads wait on eight files at once: 2,000 small
    files took 0.26 s against 0.56 s one after the other. A write that fails stops the ones
    not started; each file is the old one or the new one, whole, whatever happened to the
    others. At most ``window`` files' bytes are held, however many are written. Few files go
    one after the other, without a thread."""

    THREADS = 8
    FROM = 16  # fewer files than this: written here, one after the other

    def __init__(self, count: int, *, window: int = 64) -> None:
        self._window = window
        self._pool: ThreadPoolExecutor | None = None
        if count >= self.FROM:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self.THREADS, thread_name_prefix="phase2-write")
        self._pending: deque[Future[None]] = deque()

    def write(self, path: str | os.PathLike[str], data: bytes) -> None:
        if self._pool is None:
            atomic_write_bytes(path, data)
            return
        self._pending.append(self._pool.submit(atomic_write_bytes, path, data))
        if len(self._pending) > self._window:
            self._pending.popleft().result()  # its error, if any, ends the block

    def __enter__(self) -> ManyWrites:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pool is None:
            return
        try:
            while kind is None and self._pending:
                self._pending.popleft().result()
        finally:
            # a failure: the writes not started are dropped, those running end (whole)
            self._pool.shutdown(wait=True, cancel_futures=True)
