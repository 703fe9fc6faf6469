"""Counts over a run's mismatches, and the ``--fail-on`` rule (DESIGN.md §5)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
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


def summarize(mismatches: Sequence[Mismatch], fail_on: FailOn) -> dict[str, object]:
    by_type = Counter(m.mismatch_type for m in mismatches)
    by_art = Counter(m.artifact_type for m in mismatches)
    by_status = Counter(m.status for m in mismatches)
    n_fail = sum(1 for m in mismatches if failing(m, fail_on))
    return {
        "total": len(mismatches),
        "noise": sum(1 for m in mismatches if is_noise(m.mismatch_type)),
        "real": sum(1 for m in mismatches if not is_noise(m.mismatch_type)),
        "safe": sum(1 for m in mismatches if m.plan.safe and not m.resolved),
        "resolved": sum(1 for m in mismatches if m.resolved),
        "approved": sum(1 for m in mismatches if is_approved(m)),
        "unresolved_real": sum(1 for m in mismatches if is_unresolved_real(m)),
        "unresolved_noise": sum(1 for m in mismatches if is_unresolved_noise(m)),
        "by_mismatch_type": dict(sorted(by_type.items())),
        "by_artifact_type": dict(sorted(by_art.items())),
        "by_status": dict(sorted(by_status.items())),
        "fail_on": fail_on,
        "failing": n_fail,
        "exit_code": 1 if n_fail else 0,
    }
