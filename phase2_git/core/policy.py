"""Plans: what phase2 proposes for a mismatch, and whether it is safe (docs/architecture.md,
Auto-apply policy)."""

from __future__ import annotations

from collections.abc import Sequence

from phase2_git.core import transforms
from phase2_git.core.classify import whitespace_rules
from phase2_git.core.ids import plan_id
from phase2_git.core.methods import METHODS
from phase2_git.core.model import Changes, Classification, Plan, Step, Verdict, is_noise
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
    changes: Changes | None = None,
    structured: bool = False,
) -> tuple[Plan, bool]:
    """Return ``(plan, resolved)``.

    ``resolved`` is true when the canonicalising strategy finds the head already canonical:
    such a mismatch is not flagged again. ``contents`` holds (before, after) bytes when both
    sides are readable text; transforms are only planned then. ``path`` (the head side's)
    decides which whitespace a text transform may normalise. ``changes`` (a content
    mismatch's, :mod:`core.changes`): when noise came with the real change, the plan gets
    a first step that strips it (:func:`first_step`); ``structured``: they were found
    between two JSON documents (else between lines of text).
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
        plan = _plan(
            mismatch_id, "manual", None, False, 0.0, "a real change needs a human decision"
        )
        # JSONC is never rewritten: its noise is listed beside the real change, not stripped
        strippable = cls.artifact_type != "jsonc"
        if changes is not None and changes.mixed and contents is not None and strippable:
            step = first_step(
                mismatch_id,
                changes,
                policy,
                csettings,
                cls.artifact_type,
                path=path,
                structured=structured,
            )
            reason = "a real change needs a human decision once its noise is stripped"
            plan = plan._replace(first=step, reason=reason)
        return plan, False
    if contents is None:
        # binary, symlink, too large …: nothing phase2 may rewrite
        return _plan(
            mismatch_id, "manual", None, False, 0.0, f"{cls.artifact_type}: needs a human"
        ), False

    spec = transforms.RESTORE_BASE
    resolved = False
    if noise and policy.strategy(mtype) == "canonicalize":
        rules = whitespace_rules(path, csettings)
        canon = transforms.canonicalizer(
            mtype,
            cls.artifact_type,
            csettings.json_indent,
            rules,
            sort_keys=csettings.json_sort_keys,
        )
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


def first_step(
    mismatch_id: str,
    changes: Changes,
    policy: PolicySettings,
    csettings: ClassifySettings,
    artifact_type: str,
    *,
    path: str,
    structured: bool,
) -> Step:
    """The safe first step of a mixed file: strip its noise, keep its real change.

    Planned from the analysis, not run: the change list says which noise came with the real
    change, and the transform (``strip_noise.v1``) checks its own result each time it runs
    (:func:`transforms.strip_noise`): the stripped head must be the head's document, proved by
    ``canonical_json`` (``numeric`` where numbers moved within tolerance) for documents found
    ``structured``, by ``whitespace`` for lines of text; a result that is not refuses the
    write. Safe like any plan: every noise type present is in ``auto_apply_types``, the
    confidence (1.0: proved, not scored) reaches ``min_confidence``, the transform is
    idempotent; the kill switch and the breaker are the app's."""
    rules = whitespace_rules(path, csettings)
    spec = transforms.strip_noise(artifact_type, rules, csettings)
    types = changes.noise_types()
    if not structured:
        proof: tuple[str, ...] = ("whitespace",)
    elif "numeric_precision" in types:
        proof = ("numeric",)
    else:
        proof = ("canonical_json",)
    refused = [t for t in types if t not in policy.auto_apply_types]
    idempotent = spec.transform.idempotent or not policy.require_idempotent
    confidence = 1.0  # proved by the transform's own check, not scored
    safe = not refused and confidence >= policy.min_confidence and idempotent
    reason = (
        f"strip the noise ({', '.join(types)}) and keep the real change: the stripped head is "
        f"the head's document ({proof[0]})"
    )
    if refused:
        reason += f"; {', '.join(refused)} is not in auto_apply_types"
    return Step(
        plan_id(mismatch_id, spec.action, spec.transform.id),
        spec.action,
        spec.transform,
        safe,
        confidence,
        reason,
        proof,
    )


def _plan(mid: str, action: str, transform: None, safe: bool, conf: float, reason: str) -> Plan:
    return Plan(plan_id(mid, action, None), action, transform, safe, conf, reason)  # type: ignore[arg-type]
