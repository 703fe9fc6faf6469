"""Which real changes carry an approval bound to their exact hashes (invariant 4).

Pure: the decision events come in, each mismatch gets the decision that currently holds for
it (or none). Who may approve is decided elsewhere (the trust model); here an approval is
counted as given and marked with ``trusted`` by the caller's verdict function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from phase2_git.core.model import Mismatch, is_noise

TrustVerdict = Callable[[Mapping[str, Any]], tuple[bool, str]]


def _always(_: Mapping[str, Any]) -> tuple[bool, str]:
    return True, "no [trust] table on the base side: approvals count unverified"


def current_decisions(events: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """mismatch id -> the last approve/reject that no later undo or revert took back."""
    latest: dict[str, Mapping[str, Any]] = {}
    cancelled: set[str] = set()
    for e in events:
        if e.get("decision") in ("undo", "revert") and e.get("refers_to"):
            cancelled.add(e["refers_to"])
        elif e.get("decision") in ("approve", "reject"):
            latest[e["mismatch_id"]] = e
    return {mid: e for mid, e in latest.items() if e["id"] not in cancelled}


def attach(
    mismatches: Sequence[Mismatch],
    events: Iterable[Mapping[str, Any]],
    trust: TrustVerdict = _always,
) -> list[Mismatch]:
    decisions = current_decisions(events)
    out = []
    for m in mismatches:
        e = decisions.get(m.id)
        bound = (
            e is not None
            and e["decision"] == "approve"
            and not is_noise(m.mismatch_type)
            and e["hashes"]["before"] == m.change.before
            and e["hashes"]["after"] == m.change.after
            and e["path"] == m.path
        )
        if not bound:
            out.append(m)
            continue
        assert e is not None
        trusted, why = trust(e)
        out.append(
            m._replace(
                decision={
                    "id": e["id"],
                    "decision": "approve",
                    "trusted": trusted,
                    "by": e["user"]["id"],
                    "why": why,
                },
            )
        )
    return out
