"""Counts over a run's mismatches, and the ``--fail-on`` rule."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from phase2_git.core.model import Mismatch, is_noise

FailOn = Literal["real", "noise", "any", "never"]
FAIL_ON: tuple[FailOn, ...] = ("real", "noise", "any", "never")


def is_approved(m: Mismatch) -> bool:
    """A real change with a trusted approval bound to its exact hashes."""
    return bool(
        m.decision and m.decision.get("trusted") and m.decision.get("decision") == "approve"
    )


def is_unresolved_real(m: Mismatch) -> bool:
    return not is_noise(m.mismatch_type) and not is_approved(m)


def is_unresolved_noise(m: Mismatch) -> bool:
    return is_noise(m.mismatch_type) and not m.resolved


def failing(m: Mismatch, fail_on: FailOn) -> bool:
    if fail_on == "real":
        return is_unresolved_real(m)
    if fail_on == "noise":
        return is_unresolved_noise(m)
    if fail_on == "any":
        return is_unresolved_real(m) or is_unresolved_noise(m)
    return False


class Tally:
    """The counts a summary is made of, kept as mismatches go by: a streamed run holds a few
    integers instead of every mismatch (flat memory). One counter over the handful
    of fields the summary reads; the figures are derived from it when asked."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        # (mismatch_type, artifact_type, status, safe, resolved, approved) -> how many
        self._counts: Counter[tuple[str, str, str, bool, bool, bool]] = Counter()

    def add(self, m: Mismatch) -> None:
        self._counts[
            (m.mismatch_type, m.artifact_type, m.status, m.plan.safe, m.resolved, is_approved(m))
        ] += 1

    def add_json(self, m: Mapping[str, Any]) -> None:
        """:meth:`add` of the mismatch a ``Mismatch.to_json()`` dict came from (a report
        merged from shard outputs has only those), without rebuilding the value."""
        d = m["decision"]
        approved = bool(d and d.get("trusted") and d.get("decision") == "approve")
        mtype, atype, status = m["mismatch_type"], m["artifact_type"], m["status"]
        self._counts[(mtype, atype, status, m["plan"]["safe"], m["resolved"], approved)] += 1

    def summary(self, fail_on: FailOn) -> dict[str, object]:
        total = noise = safe = resolved = approved = unresolved_real = unresolved_noise = 0
        by_type: Counter[str] = Counter()
        by_art: Counter[str] = Counter()
        by_status: Counter[str] = Counter()
        for (mtype, art, status, is_safe, is_resolved, is_approve), n in self._counts.items():
            total += n
            by_type[mtype] += n
            by_art[art] += n
            by_status[status] += n
            if is_noise(mtype):
                noise += n
                unresolved_noise += n * (not is_resolved)
            else:
                unresolved_real += n * (not is_approve)
            safe += n * (is_safe and not is_resolved)
            resolved += n * is_resolved
            approved += n * is_approve
        # failing() per rule, from the counts: real and noise are disjoint
        n_fail = {
            "real": unresolved_real,
            "noise": unresolved_noise,
            "any": unresolved_real + unresolved_noise,
            "never": 0,
        }[fail_on]
        return {
            "total": total,
            "noise": noise,
            "real": total - noise,
            "safe": safe,
            "resolved": resolved,
            "approved": approved,
            "unresolved_real": unresolved_real,
            "unresolved_noise": unresolved_noise,
            "by_mismatch_type": dict(sorted(by_type.items())),
            "by_artifact_type": dict(sorted(by_art.items())),
            "by_status": dict(sorted(by_status.items())),
            "fail_on": fail_on,
            "failing": n_fail,
            "exit_code": 1 if n_fail else 0,
        }


def summarize(mismatches: Iterable[Mismatch], fail_on: FailOn) -> dict[str, object]:
    tally = Tally()
    for m in mismatches:
        tally.add(m)
    return tally.summary(fail_on)
