"""The store's writes: crash-safe (:mod:`phase2_git.files`), and never through a linked
``.phase2``."""

from __future__ import annotations

from pathlib import Path

from phase2_git.errors import UsageError
from phase2_git.files import atomic_write_bytes, atomic_write_chunks, atomic_write_text

__all__ = ["atomic_write_bytes", "atomic_write_chunks", "atomic_write_text", "refuse_linked_store"]


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
