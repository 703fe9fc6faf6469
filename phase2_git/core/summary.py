"""Counts over a run's mismatches, and the ``--fail-on`` rule (DESIGN.md §5)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Literal

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
    """The counts a summary is made of, kept as mismatches go by: a streamed run holds these
    few integers instead of every mismatch (issue 8: flat memory)."""

    __slots__ = (
        "approved",
        "by_art",
        "by_status",
        "by_type",
        "noise",
        "resolved",
        "safe",
        "total",
        "unresolved_noise",
        "unresolved_real",
    )

    def __init__(self) -> None:
        self.total = self.noise = self.safe = self.resolved = self.approved = 0
        self.unresolved_real = self.unresolved_noise = 0
        self.by_type: Counter[str] = Counter()
        self.by_art: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()

    def add(self, m: Mismatch) -> None:
        self.total += 1
        self.by_type[m.mismatch_type] += 1
        self.by_art[m.artifact_type] += 1
        self.by_status[m.status] += 1
        if is_noise(m.mismatch_type):
            self.noise += 1
            self.unresolved_noise += not m.resolved
        else:
            self.unresolved_real += not is_approved(m)
        self.safe += m.plan.safe and not m.resolved
        self.resolved += m.resolved
        self.approved += is_approved(m)

    def summary(self, fail_on: FailOn) -> dict[str, object]:
        # failing() per rule, from the counts: real and noise are disjoint
        n_fail = {
            "real": self.unresolved_real,
            "noise": self.unresolved_noise,
            "any": self.unresolved_real + self.unresolved_noise,
            "never": 0,
        }[fail_on]
        return {
            "total": self.total,
            "noise": self.noise,
            "real": self.total - self.noise,
            "safe": self.safe,
            "resolved": self.resolved,
            "approved": self.approved,
            "unresolved_real": self.unresolved_real,
            "unresolved_noise": self.unresolved_noise,
            "by_mismatch_type": dict(sorted(self.by_type.items())),
            "by_artifact_type": dict(sorted(self.by_art.items())),
            "by_status": dict(sorted(self.by_status.items())),
            "fail_on": fail_on,
            "failing": n_fail,
            "exit_code": 1 if n_fail else 0,
        }


def summarize(mismatches: Iterable[Mismatch], fail_on: FailOn) -> dict[str, object]:
    tally = Tally()
    for m in mismatches:
        tally.add(m)
    return tally.summary(fail_on)
