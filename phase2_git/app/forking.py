"""When phase2 may use a second process, and a check run in a forked child.

:func:`count` is the one policy: the diff's classification workers (``app/workers.py``) and
``report merge``'s validation (:func:`check_in_child`) both follow it. Fork only where it is
the platform's safe default (Linux), never beside another thread, and as ``PHASE2_WORKERS``
says (0: never). Light on purpose: ``report merge`` reads it without importing the
classification pipeline the workers run.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Mapping

from phase2_git.errors import UsageError

ENV = "PHASE2_WORKERS"
_MAX_DEFAULT = 4


def count(environ: Mapping[str, str] = os.environ, *, least: int = 1) -> int:
    """How many worker processes a large run uses: ``PHASE2_WORKERS`` when set, else one fewer
    than the CPUs this process may run on (at most 4), raised to ``least`` on a machine with
    at least two CPUs and ``least`` of them (a caller whose own process mostly waits lets
    that many share the CPUs with it), none on one CPU; 0 where fork is not safe to use."""
    raw = environ.get(ENV, "").strip()
    wanted: int | None = None
    if raw:
        try:
            wanted = int(raw)
        except ValueError:
            wanted = -1
        if wanted < 0:
            raise UsageError(
                f"{ENV} must be a whole number of worker processes (0: none), got {raw!r}"
            )
    if wanted == 0 or not sys.platform.startswith("linux"):
        return 0
    import threading

    if threading.active_count() > 1:
        # a fork copies one thread: another's locks (imports, logging) would stay held in the
        # child forever (the review's web server runs its diffs beside its own threads)
        return 0
    if wanted is not None:
        return wanted
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - Linux always has it
        cpus = os.cpu_count() or 1
    n = max(0, min(cpus - 1, _MAX_DEFAULT))
    if n >= least:
        return n
    return least if 2 <= least <= cpus else 0


# the child's one message, then it exits 0: anything else is no verdict at all
_VALID = b"valid\n"
_INVALID = b"invalid\n"


class ChildCheck:
    """A check running in a forked child; :meth:`verdict` waits for what it found.

    Written with ``os.fork`` and a pipe rather than ``multiprocessing``: importing that alone
    costs about 15 ms, and one child that sends back one line needs none of its machinery
    (a pool, pickling, a resource tracker).
    """

    def __init__(self, pid: int, fd: int) -> None:
        self._pid = pid
        self._fd = fd
        self._done = False

    def verdict(self) -> tuple[bool, str | None]:
        """``(True, None)``: the check passed; ``(True, message)``: it raised
        :class:`UsageError` with that message; ``(False, None)``: no verdict (the child died,
        was killed, or failed otherwise) — the caller checks for itself."""
        chunks: list[bytes] = []
        try:
            while block := os.read(self._fd, 1 << 16):
                chunks.append(block)
        except BaseException:
            self.close()  # an interrupt: stop the child rather than wait for it
            raise
        status = self._reap(kill=False)
        data = b"".join(chunks)
        if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
            return False, None
        if data == _VALID:
            return True, None
        if data.startswith(_INVALID):
            return True, data[len(_INVALID) :].decode("utf-8", "surrogatepass")
        return False, None  # pragma: no cover - a child that exits 0 sent one of the two

    def settle(self, check: Callable[[], None]) -> None:
        """Raise the child's error; when it gave no verdict, run ``check`` here instead: a
        child that died or was killed is never trusted."""
        valid, message = self.verdict()
        if message is not None:
            raise UsageError(message)
        if not valid:
            check()

    def close(self) -> None:
        """Stop the child if it still runs (an error or an interrupt here) and reap it."""
        if not self._done:
            self._reap(kill=True)

    def _reap(self, *, kill: bool) -> int:
        if self._done:  # pragma: no cover - verdict() and close() reap once
            return -1
        self._done = True
        os.close(self._fd)
        if kill:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:  # pragma: no cover - already gone
                pass
        while True:
            try:
                _, status = os.waitpid(self._pid, 0)
            except InterruptedError:  # pragma: no cover - PEP 475 retries it already
                continue
            return status


def check_in_child(check: Callable[[], None]) -> ChildCheck | None:
    """Run ``check`` in a forked child while this process goes on; None when fork fails.

    The child ignores Ctrl-C (this process stops it), writes nothing but its verdict on a
    pipe (its stdout and stderr are ``/dev/null``) and leaves through ``os._exit``: none of this
    process's cleanup (atexit, buffered output, temporary files) runs in it. Only call it
    where :func:`count` allows forking.
    """
    read_fd, write_fd = os.pipe()
    # Ctrl-C stays blocked across the fork: a KeyboardInterrupt raised in the child before it
    # ignores SIGINT would run this process's code on in it
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pid = os.fork()
    except OSError:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        os.close(write_fd)
        return ChildCheck(pid, read_fd)
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        os.close(read_fd)
        # nothing of the child reaches this process's stdout or stderr, not even a warning or
        # a library's print: both go to /dev/null; nor a bytecode file, from an import
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)
        sys.dont_write_bytecode = True
        try:
            check()
            message = _VALID
        except UsageError as exc:
            message = _INVALID + str(exc).encode("utf-8", "surrogatepass")
        view = memoryview(message)
        while view:
            view = view[os.write(write_fd, view) :]
        os._exit(0)
    finally:
        # any other end (an exception, a broken pipe) is no verdict: the parent checks for
        # itself; the exception is not printed, nothing of this process's cleanup runs
        os._exit(70)
