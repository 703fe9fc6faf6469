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
    return True, (
        "no [trust] table on the trust side (the base, or --trust-from): approvals count unverified"
    )


def repeated_ids(lines: Iterable[tuple[int, str]]) -> dict[int, int]:
    """``(line number, decision id)`` in log order -> for each line whose id an earlier line
    already holds, that earlier line's number.

    An id names one line. A later line with the same id, whatever its content, is void: it
    never counts as an approval, and it never borrows the trust of the line it copies (a
    verbatim copy would otherwise bring back an approval a later reject took back)."""
    first: dict[str, int] = {}
    repeats: dict[int, int] = {}
    for lineno, decision_id in lines:
        held = first.setdefault(decision_id, lineno)
        if held != lineno:
            repeats[lineno] = held
    return repeats


def void_reason(decision_id: str, first_line: int) -> str:
    return f"decision id {decision_id} is already on line {first_line}: a repeated id is void"


def repeat_notices(
    repeats: Mapping[int, int], ids: Mapping[int, str], where: str, limit: int = 10
) -> list[str]:
    """One notice per repeated id (``repeats`` from :func:`repeated_ids`, ``ids``: line
    number -> id), at most ``limit`` of them: a log can repeat an id a million times."""
    later: dict[int, list[int]] = {}
    for lineno, first in sorted(repeats.items()):
        later.setdefault(first, []).append(lineno)
    out = []
    for first, lines in sorted(later.items())[:limit]:
        shown = ", ".join(str(n) for n in lines[:5]) + (", …" if len(lines) > 5 else "")
        out.append(
            f"decision id {ids[first]} repeats in {where} (line {first}, then {shown}): "
            f"only line {first} can count, the later lines are void"
        )
    if len(later) > limit:
        out.append(f"… and {len(later) - limit} more repeated decision ids in {where}")
    return out


def current_decisions(events: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """mismatch id -> the last approve/reject that no later undo or revert took back. A
    first step's approval (``step``: a mixed file's noise stripped) decides nothing about the
    mismatch's real change, so it never counts as its approval."""
    latest: dict[str, Mapping[str, Any]] = {}
    cancelled: set[str] = set()
    for e in events:
        if e.get("decision") in ("undo", "revert") and e.get("refers_to"):
            cancelled.add(e["refers_to"])
        elif e.get("decision") in ("approve", "reject") and e.get("step") is None:
            latest[e["mismatch_id"]] = e
    return {mid: e for mid, e in latest.items() if e["id"] not in cancelled}


def attach(
    mismatches: Sequence[Mismatch],
    events: Iterable[Mapping[str, Any]],
    trust: TrustVerdict = _always,
) -> list[Mismatch]:
    """Each mismatch with the decision that holds for it, bound to its exact hashes and path:
    an approval of a real change (``trusted`` by ``trust``), or a rejection of any plan. A
    rejected plan is no longer safe to apply, whoever rejected it (refusing grants nothing, so
    it needs no trust): reports show it as rejected, never as a safe plan."""
    decisions = current_decisions(events)
    out = []
    for m in mismatches:
        e = decisions.get(m.id)
        bound = (
            e is not None
            and e["hashes"]["before"] == m.change.before
            and e["hashes"]["after"] == m.change.after
            and e["path"] == m.path
        )
        if not bound:
            out.append(m)
            continue
        assert e is not None
        if e["decision"] == "reject":
            out.append(_rejected(m, e))
            continue
        if is_noise(m.mismatch_type):
            out.append(m)
            continue
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


def _rejected(m: Mismatch, e: Mapping[str, Any]) -> Mismatch:
    who = e["user"]["id"]
    why = f"rejected by {who} ({e['id']}): the plan is not to be applied"
    plan = m.plan._replace(safe=False, reason=why)
    if plan.first is not None:
        plan = plan._replace(first=plan.first._replace(safe=False))
    decision = {"id": e["id"], "decision": "reject", "trusted": False, "by": who, "why": why}
    return m._replace(plan=plan, decision=decision)
