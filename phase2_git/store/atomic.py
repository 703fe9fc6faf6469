"""Crash-safe writes (DESIGN.md §7.2): temp file in the same folder, fsync, rename, fsync dir."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from phase2_git.errors import UsageError


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


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: readers see the old or the new file, whole."""
    import tempfile  # here: refuse_linked_store is on the hook's path, writing is not

    target = Path(path)
    folder = target.parent if str(target.parent) else Path()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise UsageError(f"{target}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
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


def refuse_linked_store(root: Path) -> None:
    """``.phase2`` must be a real folder of the work tree: a symlink there (one line in a
    hostile PR: ``.phase2 -> /home/me/.ssh``) would make phase2 read its configuration and
    decisions from, and write state, lock and log files into, a folder outside the repository."""
    store = Path(root) / ".phase2"
    if store.is_symlink():
        raise UsageError(
            ".phase2 is a symbolic link: phase2 never reads or writes outside the repository",
            hint="replace it with a folder",
        )
