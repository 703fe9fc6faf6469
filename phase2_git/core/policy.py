"""Plans: what phase2 proposes for a mismatch, and whether it is safe (DESIGN.md §5b)."""

from __future__ import annotations

from collections.abc import Sequence

from phase2_git.core import transforms
from phase2_git.core.classify import whitespace_rules
from phase2_git.core.ids import plan_id
from phase2_git.core.methods import METHODS
from phase2_git.core.model import Classification, Plan, Verdict, is_noise
from phase2_git.core.settings import ClassifySettings, PolicySettings

# real changes that are additions or removals of whole artifacts: accepting is the question
_ACCEPT_TYPES = ("added", "deleted", "renamed", "mode")


def _deterministic_proof(verdicts: Sequence[Verdict]) -> list[str]:
    return [v.method for v in verdicts if v.equivalent and METHODS[v.method].deterministic]


def _statistical_support(verdicts: Sequence[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if v.equivalent and not METHODS[v.method].deterministic]


def make_plan(
    mismatch_id: str,
    cls: Classification,
    verdicts: Sequence[Verdict],
    policy: PolicySettings,
    csettings: ClassifySettings,
    contents: tuple[bytes, bytes] | None,
    *,
    path: str,
) -> tuple[Plan, bool]:
    """Return ``(plan, resolved)``.

    ``resolved`` is true when the canonicalising strategy finds the head already canonical:
    such a mismatch is not flagged again. ``contents`` holds (before, after) bytes when both
    sides are readable text; transforms are only planned then. ``path`` (the head side's)
    decides which whitespace a text transform may normalise.
    """
    mtype = cls.mismatch_type
    proof = _deterministic_proof(verdicts)
    stats = _statistical_support(verdicts)
    in_auto = mtype in policy.auto_apply_types

    if mtype in _ACCEPT_TYPES:
        return _plan(
            mismatch_id, "accept_change", None, False, 0.0, "a real change: accept it or not"
        ), False

    noise = is_noise(mtype)
    gated = [v for v in stats if v.method in policy.gated_methods]
    if not noise and not stats:
        return _plan(
            mismatch_id, "manual", None, False, 0.0, "a real change needs a human decision"
        ), False
    if contents is None:
        # binary, symlink, too large …: nothing phase2 may rewrite
        return _plan(
            mismatch_id, "manual", None, False, 0.0, f"{cls.artifact_type}: needs a human"
        ), False

    spec = transforms.RESTORE_BASE
    resolved = False
    if noise and policy.strategy(mtype) == "canonicalize":
        rules = whitespace_rules(path, csettings)
        canon = transforms.canonicalizer(mtype, cls.artifact_type, csettings.json_indent, rules)
        if canon is not None:
            try:
                out = transforms.apply(canon, *contents)
            except transforms.TransformError:
                canon = None
            else:
                spec = canon
                resolved = out == contents[1]

    if noise and proof:
        confidence, justified = 1.0, tuple(proof)
        reason = f"equivalence proved by {', '.join(proof)}"
    elif stats:
        best = max(stats, key=lambda v: v.score)
        confidence, justified = best.score, tuple(v.method for v in stats)
        reason = f"only statistical judges say equivalent ({', '.join(justified)})"
        if not gated:
            reason += ": shadow verdict until the judge's gate is GO"
    else:
        confidence, justified = 0.0, ()
        ran = ", ".join(v.method for v in verdicts) or "none"
        reason = f"no deterministic method proved equivalence (methods run: {ran})"

    safe = (
        in_auto
        and confidence >= policy.min_confidence
        and (spec.transform.idempotent or not policy.require_idempotent)
        and (bool(noise and proof) or bool(gated))
    )
    if not in_auto and (proof or stats):
        reason += f"; {mtype} is not in auto_apply_types"
    return (
        Plan(
            plan_id(mismatch_id, spec.action, spec.transform.id),
            spec.action,
            spec.transform,
            safe,
            confidence,
            reason,
            justified,
        ),
        resolved,
    )


def _plan(mid: str, action: str, transform: None, safe: bool, conf: float, reason: str) -> Plan:
    return Plan(plan_id(mid, action, None), action, transform, safe, conf, reason)  # type: ignore[arg-type]
