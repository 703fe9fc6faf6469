"""Fuzz the resume state reader: whatever it accepts names no path outside the work tree or
inside .git. See _harness.py for how to run it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import _harness

FP = "a" * 64
BASE = "0" * 40


def safe(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and ".." not in parts and ".git" not in parts


def setup() -> _harness.Target:
    from phase2_git.errors import UsageError
    from phase2_git.store import state

    folder = Path(
        tempfile.mkdtemp(
            prefix="phase2-fuzz-state-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None
        )
    )
    path = folder / "state.json"

    def target(data: bytes) -> None:
        path.write_bytes(data)
        try:
            st = state.load(path, folder, base_spec="main", head_spec="HEAD", base=BASE,
                            branch="refs/heads/feat", config_fingerprint=FP)  # fmt: skip
        except UsageError as exc:
            assert "\n" not in str(exc)
            return
        for item in st.pending:
            if item["update"] is not None:
                assert safe(item["update"]["path"]), item["update"]["path"]
        if st.unsynced:
            for u in st.unsynced["updates"]:
                assert safe(u["path"]), u["path"]

    return target


if __name__ == "__main__":
    _harness.main("state", setup)
