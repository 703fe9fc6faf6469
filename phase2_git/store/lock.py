"""``.phase2/lock``: one writer at a time (exit 3 names the holder)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from phase2_git.errors import RefusedError, UsageError

LOCK_FILE = ".phase2/lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(info: dict[str, object]) -> str:
    if not info:
        return "an unknown process"
    cmd = str(info.get("command", "phase2"))[:80]
    return f"pid {info.get('pid')} on {info.get('host')} since {info.get('since')} ('{cmd}')"


@contextlib.contextmanager
def hold(root: Path, command: str = " ".join(sys.argv)) -> Iterator[Path]:
    """Take the lock or refuse; a lock left by a dead process on this host is taken over."""
    from phase2_git.store.atomic import refuse_linked_store

    refuse_linked_store(root)
    path = root / LOCK_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{LOCK_FILE}: cannot write: {exc.strerror}") from None
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command,
    }
    # the lock appears whole or not at all: written to a file of our own, then hard-linked to
    # its name (link, like O_EXCL, fails when the name exists). Created empty and then filled,
    # a SIGKILL between the two left a lock "held by an unknown process" that refused every
    # later run (tests/test_fault_matrix.py, the SIGKILL trials)
    own = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(own, "w", encoding="utf-8") as fh:
            json.dump(info, fh)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:  # a read-only .phase2/, a full disk
        with contextlib.suppress(OSError):
            own.unlink()
        raise UsageError(f"{LOCK_FILE}: cannot write: {exc.strerror}") from None
    try:
        for attempt in range(2):
            try:
                os.link(own, path)
            except FileExistsError:
                holder = _holder(path)
                pid = holder.get("pid")
                stale = (
                    attempt == 0
                    and holder.get("host") == info["host"]
                    and isinstance(pid, int)
                    and not _alive(pid)
                )
                if stale:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                    continue
                raise RefusedError(
                    f"another phase2 run holds {LOCK_FILE}: {_describe(holder)}",
                    hint=f"wait for it to finish; if it is gone, remove {LOCK_FILE}",
                ) from None
            except OSError as exc:
                raise UsageError(f"{LOCK_FILE}: cannot write: {exc.strerror}") from None
            break
    finally:
        with contextlib.suppress(OSError):
            own.unlink()
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            if _holder(path).get("pid") == os.getpid():
                path.unlink()
