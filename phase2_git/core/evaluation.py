"""Judges measured against human labels (``phase2 judge eval``): the figures, pure.

Per method, over all labelled items and restricted to the test split, per mismatch type and per
artifact type — the confusion matrix (positive class ``equivalent``), Cohen's kappa with a
seeded percentile-bootstrap CI (and, overall, the asymptotic CI of Fleiss, Cohen & Everitt), the
FP rate on the test split, precision and recall. A figure that is undefined (one class only, an
empty block) is ``null`` and its block's ``reasons`` says why. ``--calibrate`` picks each
statistical method's threshold on the train split; the method's ``calibration`` block says
what it chose and the configuration line that would use it, or why the choice is degenerate
(one class only, no separation, no better than chance), in which case it is not used. No
I/O: :mod:`phase2_git.app.judge` reads the dataset, runs the judges and stores the document.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from phase2_git.core import stats
from phase2_git.core.gating import GateThresholds, gate_method
from phase2_git.core.stats import rounded, stratified_split
from phase2_git.errors import UsageError

EVAL_SCHEMA = "Evaluation.v1"
TEST_SHARE = 0.3


class Labelled(Protocol):
    """What the figures read of a labelled item (``store.labels.LabeledItem``)."""

    @property
    def id(self) -> str: ...
    @property
    def label(self) -> bool: ...  # True: equivalent, the positive class
    @property
    def mismatch_type(self) -> str: ...
    @property
    def artifact_type(self) -> str: ...
    @property
    def split(self) -> str | None: ...
    @property
    def is_audit(self) -> bool: ...


def split_map(items: Sequence[Labelled]) -> dict[str, str]:
    """The split of every item: its own, else assigned. Audits always go to train (they are
    a biased sample); the rest are stratified by (mismatch type, label) with 30% to test,
    deterministically (``stats.stratified_split``)."""
    todo = [i for i in items if i.split is None and not i.is_audit]
    splits = stratified_split(
        [(i.id, i.mismatch_type, "equivalent" if i.label else "different") for i in todo],
        test_share=TEST_SHARE,
    )
    chosen = {i.id: s for i, s in zip(todo, splits)}
    return {i.id: "train" if i.is_audit else (i.split or chosen[i.id]) for i in items}


@dataclass(frozen=True)
class Predictions:
    """One method's answers on the dataset (by item id) and how they were obtained."""

    method: str
    predicted: dict[str, bool]
    scores: dict[str, float]
    statistical: bool
    threshold: float | None = None  # the threshold ``predicted`` used, when there is one
    unjudged: dict[str, str] = field(default_factory=dict)  # id -> why there is no verdict
    budget: dict[str, Any] | None = None  # llm_rubric: what the run spent
    identity: dict[str, Any] = field(default_factory=dict)
    calibration: dict[str, Any] | None = None  # --calibrate: what was chosen, or why not


# Where the configuration holds each calibratable judge's threshold (``[table] key``): the line
# a calibrated threshold must be written into before auto-apply uses it.
THRESHOLD_KEYS = {
    "cosine_similarity": ("methods.cosine_similarity", "threshold"),
    "llm_rubric": ("judge", "threshold"),
}


def _degenerate(
    t: float, kappa: float | None, scores: Sequence[float], labels: Sequence[bool]
) -> str | None:
    """Why a calibrated threshold measures nothing, or None when it is a real choice."""
    n = len(labels)
    positives = sum(labels)
    if positives in (0, n):
        cls = "equivalent" if positives else "different"
        return (
            f"the {n} judged train item(s) are all labelled '{cls}': with one class no "
            f"threshold can be measured (threshold {t:g} is only the highest score)"
        )
    if min(scores) == max(scores):
        return f"every judged train item scores {t:g}: no threshold separates them"
    if t <= min(scores):
        return f"threshold {t:g} is the lowest train score: it calls every train item equivalent"
    if kappa is None or kappa <= 0:
        shown = "undefined" if kappa is None else f"{kappa:.3f}"
        return (
            f"the best threshold ({t:g}) agrees with the labels no better than chance "
            f"(kappa {shown})"
        )
    return None


def threshold_predictions(
    p: Predictions,
    items: Sequence[Labelled],
    calibrate: bool,
    splits: Mapping[str, str] | None = None,
) -> Predictions:
    """Apply the configured threshold, or (``--calibrate``) the kappa-maximising one on the
    train split, to a statistical method's scores."""
    if not calibrate or not p.statistical:
        if p.threshold is None:
            return p
        t = p.threshold
        return replace(p, predicted={i: s >= t for i, s in p.scores.items()})
    judged = [i for i in items if i.id in p.predicted or i.id in p.scores]
    lacking = [i.id for i in judged if i.id not in p.scores]
    if lacking:
        raise UsageError(
            f"--calibrate needs a score on every result of '{p.method}' "
            f"({len(lacking)} have none, e.g. '{lacking[0]}')"
        )
    splits = splits if splits is not None else split_map(items)
    train = [i for i in judged if splits[i.id] == "train"]
    if not train:
        raise UsageError(f"--calibrate: no judged item of '{p.method}' is in the train split")
    scores = [p.scores[i.id] for i in train]
    labels = [i.label for i in train]
    t, kappa = stats.best_threshold(scores, labels)
    calibration: dict[str, Any] = {
        "threshold": t,
        "train_items": len(train),
        "train_kappa": rounded(kappa),
        "train_scores": [min(scores), max(scores)],
        "configured": p.threshold,
        "degenerate": _degenerate(t, kappa, scores, labels),
    }
    key = THRESHOLD_KEYS.get(p.method)
    calibration["config"] = f"[{key[0]}] {key[1]} = {t!r}" if key else None
    if calibration["degenerate"] is not None:
        # not proposed, not used: the figures keep what the configuration (or the results
        # file) says, and the calibration block says why
        calibration["threshold"] = None
        calibration["config"] = None
        calibration["rejected_threshold"] = t
        kept = threshold_predictions(p, items, False)
        return replace(kept, calibration=calibration)
    return replace(
        p,
        threshold=t,
        predicted={i: s >= t for i, s in p.scores.items()},
        calibration=calibration,
    )


def _seed_for(seed: int, *parts: str) -> int:
    """Independent, reproducible bootstrap streams per block (same seed, same intervals)."""
    h = hashlib.sha256("\0".join((str(seed), *parts)).encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big")


def _kappa_reason(c: stats.Confusion) -> str:
    if c.n == 0:
        return "no items"
    cls = "equivalent" if c.tp + c.fn + c.fp else "different"
    return f"undefined: labels and predictions are all '{cls}' (one class only)"


# With no disagreement, every resample holding both classes has kappa exactly 1; with at least
# 5 items of each class a resample lacks one with probability <= 2 e^-5 (~1.3%), so with 100 or
# more resamples the chance that half of them do (the only way the interval is not [1, 1]) is
# below 1e-60. The draws are skipped (evaluating 10,000 items has a 2 s budget, and
# deterministic judges agree perfectly on many per-type blocks).
_PERFECT_MIN_CLASS = 5
_PERFECT_MIN_RESAMPLES = 100


def _bootstrap(
    c: stats.Confusion,
    labels: Sequence[bool],
    predicted: Sequence[bool],
    *,
    resamples: int,
    seed: int,
) -> tuple[float, float] | None:
    perfect = c.fp == 0 and c.fn == 0 and min(c.tp, c.tn) >= _PERFECT_MIN_CLASS
    if perfect and resamples >= _PERFECT_MIN_RESAMPLES:
        return 1.0, 1.0
    return stats.kappa_ci_bootstrap(labels, predicted, resamples=resamples, seed=seed)


def block(
    labels: Sequence[bool],
    predicted: Sequence[bool],
    *,
    resamples: int,
    seed: int,
    asymptotic: bool = False,
) -> dict[str, Any]:
    """``{n, kappa, kappa_ci, confusion, [kappa_ci_asymptotic], [reasons]}`` for one block."""
    c = stats.Confusion.from_pairs(labels, predicted)
    reasons: dict[str, str] = {}
    kappa = stats.cohen_kappa(c)
    if kappa is None:
        reasons["kappa"] = _kappa_reason(c)
    ci = _bootstrap(c, labels, predicted, resamples=resamples, seed=seed) if c.n else None
    if ci is None:
        reasons["kappa_ci"] = (
            "no items"
            if c.n == 0
            else "undefined: fewer than half of the bootstrap resamples have a defined kappa"
        )
    out: dict[str, Any] = {
        "n": c.n,
        "kappa": rounded(kappa),
        "kappa_ci": [rounded(ci[0]), rounded(ci[1])] if ci else None,
    }
    if asymptotic:
        aci = stats.kappa_ci_asymptotic(c)
        out["kappa_ci_asymptotic"] = [rounded(aci[0]), rounded(aci[1])] if aci else None
        if aci is None:
            reasons["kappa_ci_asymptotic"] = reasons["kappa"]
    out["confusion"] = c.to_json()
    out["reasons"] = reasons
    return out


def _grouped(
    items: Sequence[Labelled], preds: Mapping[str, bool], key: Callable[[Labelled], str]
) -> dict[str, tuple[list[bool], list[bool]]]:
    groups: dict[str, tuple[list[bool], list[bool]]] = {}
    for i in items:
        if i.id in preds:
            labels, predicted = groups.setdefault(key(i), ([], []))
            labels.append(i.label)
            predicted.append(preds[i.id])
    return dict(sorted(groups.items()))


def method_figures(
    p: Predictions,
    items: Sequence[Labelled],
    *,
    resamples: int,
    seed: int,
    splits: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    judged = [i for i in items if i.id in p.predicted]
    labels = [i.label for i in judged]
    predicted = [p.predicted[i.id] for i in judged]
    out = block(
        labels, predicted, resamples=resamples, seed=_seed_for(seed, p.method), asymptotic=True
    )
    reasons = out.pop("reasons")
    c = stats.Confusion(**out["confusion"])
    splits = splits if splits is not None else split_map(items)
    test = [i for i in judged if splits[i.id] == "test"]
    test_block = block(
        [i.label for i in test],
        [p.predicted[i.id] for i in test],
        resamples=resamples,
        seed=_seed_for(seed, p.method, "test"),
    )
    tc = stats.Confusion(**test_block["confusion"])
    fpr = stats.fp_rate(tc)
    if fpr is None:
        reasons["fp_rate_test"] = "no item labelled 'different' in the test split"
    prec, rec = stats.precision(c), stats.recall(c)
    if prec is None:
        reasons["precision"] = "no item predicted 'equivalent'"
    if rec is None:
        reasons["recall"] = "no item labelled 'equivalent'"
    out["fp_rate_test"] = rounded(fpr)
    out["precision"] = rounded(prec)
    out["recall"] = rounded(rec)
    if p.threshold is not None:
        out["threshold"] = p.threshold
    if not test_block["reasons"]:
        del test_block["reasons"]
    out["test"] = test_block
    for name, keyfn in (
        ("by_type", lambda i: i.mismatch_type),
        ("by_artifact_type", lambda i: i.artifact_type),
    ):
        blocks: dict[str, Any] = {}
        for k, (ls, ps) in _grouped(judged, p.predicted, keyfn).items():
            b = block(ls, ps, resamples=resamples, seed=_seed_for(seed, p.method, name, k))
            if not b["reasons"]:
                del b["reasons"]
            blocks[k] = b
        out[name] = blocks
    out["unjudged"] = len(p.unjudged)
    if p.unjudged:
        why = sorted(set(p.unjudged.values()))
        reasons["unjudged"] = "; ".join(why[:3]) + (
            f" (+{len(why) - 3} more)" if len(why) > 3 else ""
        )
    if p.calibration is not None:
        out["calibration"] = dict(p.calibration)
    if p.budget is not None:
        out["budget"] = p.budget
    out["identity"] = p.identity or {"method": p.method}
    out["reasons"] = reasons
    return out


def audit_figures(items: Sequence[Labelled]) -> dict[str, Any]:
    """False discovery rate of what was auto-applied: rejected audits / audits."""
    audits = [i for i in items if i.is_audit]
    rejected = sum(1 for i in audits if not i.label)
    out: dict[str, Any] = {
        "n": len(audits),
        "rejected": rejected,
        "fdr": rounded(rejected / len(audits)) if audits else None,
    }
    if not audits:
        out["reason"] = "no audited auto-approvals in the dataset"
    return out


@dataclass(frozen=True)
class EvalOptions:
    resamples: int = 2000
    seed: int = 0
    calibrate: bool = False


def evaluate(
    items: Sequence[Labelled],
    predictions: Sequence[Predictions],
    options: EvalOptions,
    thresholds: GateThresholds,
    *,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The evaluation document (``--format json``). Pure: no I/O, deterministic for a seed."""
    if options.resamples < 1:
        raise UsageError(f"--bootstrap must be at least 1, got {options.resamples}")
    splits = split_map(items)
    methods: dict[str, Any] = {}
    gates: dict[str, Any] = {}
    for p in predictions:
        p = threshold_predictions(p, items, options.calibrate, splits)
        if p.threshold is not None and p.identity:
            # the gate binds to the threshold actually evaluated (a calibrated one included)
            p = replace(p, identity={**p.identity, "threshold": p.threshold})
        fig = method_figures(
            p, items, resamples=options.resamples, seed=options.seed, splits=splits
        )
        methods[p.method] = fig
        gates[p.method] = gate_method(fig, thresholds)
    train = sum(1 for i in items if splits[i.id] == "train" and not i.is_audit)
    audits = sum(1 for i in items if i.is_audit)
    doc: dict[str, Any] = {"schema": EVAL_SCHEMA, "n": len(items)}
    doc.update(meta or {})
    doc["bootstrap"] = {"resamples": options.resamples, "seed": options.seed}
    doc["calibrated"] = options.calibrate
    doc["split"] = {"train": train, "test": len(items) - train - audits, "audit": audits}
    doc["audit"] = audit_figures(items)
    doc["methods"] = methods
    doc["gate"] = {"thresholds": thresholds.to_json(), "methods": gates}
    return doc
