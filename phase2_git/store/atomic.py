"""The store's writes: crash-safe (:mod:`phase2_git.files`), and never through a linked
``.phase2`` (:mod:`phase2_git.store.linked`)."""

from __future__ import annotations

from phase2_git.files import atomic_write_bytes, atomic_write_chunks, atomic_write_text
from phase2_git.store.linked import refuse_linked_store

__all__ = ["atomic_write_bytes", "atomic_write_chunks", "atomic_write_text", "refuse_linked_store"]
