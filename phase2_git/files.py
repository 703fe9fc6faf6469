"""Crash-safe writes (invariant 2): temp file in the same folder, fsync, rename, fsync dir.

Below ``git`` and ``store`` on purpose: git writes ``.git/info/exclude`` with it and must not
import the store (the layers are in pyproject's ``[tool.importlinter]``).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable
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
