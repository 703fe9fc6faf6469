"""Stable identifiers bound to content (DESIGN.md §2, invariant 4)."""

from __future__ import annotations

import hashlib


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        # NUL cannot occur in a git path or an object id, so the join is unambiguous
        h.update(part.encode("utf-8", "surrogateescape"))
        h.update(b"\0")
    return h.hexdigest()


def mismatch_id(path: str, before: str | None, after: str | None) -> str:
    """``mis_`` + 12 hex of sha256(path, before blob id, after blob id)."""
    return "mis_" + _digest(path, before or "", after or "")[:12]


def plan_id(mismatch: str, action: str, transform: str | None) -> str:
    return "plan_" + _digest(mismatch, action, transform or "")[:12]


def short_hash(*parts: str, length: int = 12) -> str:
    return _digest(*parts)[:length]
