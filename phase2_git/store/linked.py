"""The store's one rule every reader keeps: ``.phase2`` is never a symlink.

Its own module, not :mod:`phase2_git.store.atomic`'s (which re-exports it): reading the
configuration checks it on every hook run, and the atomic writers are only for writing."""

from __future__ import annotations

from pathlib import Path

from phase2_git.errors import UsageError


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
