"""Stable identifiers bound to content (invariant 4, docs/architecture.md)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any


def _builtin_sha256() -> Callable[..., Any]:
    """CPython's own sha256 (``_sha2`` from 3.12, ``_sha256`` before), else hashlib's.

    ``import hashlib`` loads OpenSSL's libcrypto: ~4 ms of the pre-commit hook, which hashes
    a few short strings per artifact. The built-in module computes the same digest
    (tests/test_transforms.py checks it against hashlib); builds without it fall back."""
    # this Python's own module first: an import that fails searches every sys.path entry
    names = ("_sha2", "_sha256") if sys.version_info >= (3, 12) else ("_sha256", "_sha2")
    for name in names:
        try:
            return __import__(name).sha256  # type: ignore[no-any-return]
        except (ImportError, AttributeError):
            continue
    import hashlib  # pragma: no cover - a CPython built without its own hashes

    return hashlib.sha256  # pragma: no cover


if TYPE_CHECKING:
    from hashlib import sha256 as sha256  # the type; at run time, _builtin_sha256()
else:
    sha256 = _builtin_sha256()


def _digest(*parts: str) -> str:
    h = sha256()
    for part in parts:
        # NUL cannot occur in a git path or an object id, so the join is unambiguous
        h.update(part.encode("utf-8", "surrogateescape"))
        h.update(b"\0")
    return h.hexdigest()


def in_sample(purpose: str, mismatch_id: str, share: float) -> bool:
    """Whether a mismatch falls in a hash-seeded sample of ``share`` (0..1) of all mismatches.

    Deterministic (the same mismatch is always in or out) and nested: whatever is in the
    sample at 30 % is still in at 70 %, so widening a sample only adds mismatches. Each
    ``purpose`` (``"audit"``, ``"shadow"``) draws its own, independent sample."""
    if share <= 0:
        return False
    if share >= 1:
        return True
    digest = sha256(f"phase2-{purpose}\0{mismatch_id}".encode("utf-8", "surrogateescape"))
    return int.from_bytes(digest.digest()[:8], "big") / 2**64 < share


def mismatch_id(path: str, before: str | None, after: str | None) -> str:
    """``mis_`` + 12 hex of sha256(path, before blob id, after blob id)."""
    return "mis_" + _digest(path, before or "", after or "")[:12]


def plan_id(mismatch: str, action: str, transform: str | None) -> str:
    return "plan_" + _digest(mismatch, action, transform or "")[:12]


def short_hash(*parts: str, length: int = 12) -> str:
    return _digest(*parts)[:length]
