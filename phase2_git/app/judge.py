"""``phase2 judge eval`` and ``phase2 gate``: measure judges against human labels, then gate.

The figures and the gate criteria are pure (:mod:`phase2_git.core.evaluation`,
:mod:`phase2_git.core.gating`); here the dataset and the results file are read, the judges run
on the dataset's embedded content, and the evaluation and the gate results are stored. The gate
works on the evaluation JSON alone, so a stored evaluation can be gated again later.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from phase2_git.app.sources import trusted_judge_table
from phase2_git.core.classify import Pair, whitespace_rules
from phase2_git.core.evaluation import EVAL_SCHEMA, EvalOptions, Predictions, evaluate
from phase2_git.core.gating import GateThresholds, gate_method
from phase2_git.core.methods import METHODS, MethodInput
from phase2_git.core.model import Blob
from phase2_git.core.settings import ClassifySettings, MethodSettings
from phase2_git.errors import UsageError
from phase2_git.judges.llm_rubric import JudgeRequest, LlmRubricJudge
from phase2_git.store import schemas
from phase2_git.store.atomic import atomic_write_text
from phase2_git.store.config import Config
from phase2_git.store.judge_settings import TrustedJudge, judge_identity, judge_settings
from phase2_git.store.labels import (
    JudgeResultLine,
    LabeledItem,
    file_sha256,
    read_labels,
    read_results,
)

EVAL_FILE = ".phase2/state/evaluation.json"
LLM = "llm_rubric"
_TEXTUAL = ("json", "text")


# ==================================================================================== inputs


def git_blob_id(data: bytes) -> str:
    """The sha1 id git gives these bytes (for items that carry content but no hashes)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _side_blob(item: LabeledItem, side: str) -> tuple[Blob | None, bool]:
    """``(blob, known)``: the side as the methods see it; ``known`` False = no content and no
    hash for a side that exists (nothing to judge)."""
    data = item.before if side == "before" else item.after
    oid = item.hash_before if side == "before" else item.hash_after
    absent_type = "added" if side == "before" else "deleted"
    if data is not None:
        return Blob(oid=oid or git_blob_id(data), size=len(data), data=data, head=data[:8000]), True
    if item.has_hashes:
        if oid is None:
            return None, True
        # hash only, as the pipeline compares artifacts over max_file_size
        return Blob(oid=oid, size=0, data=None, head=b""), True
    if item.mismatch_type == absent_type:
        return None, True
    return None, False


def method_input(
    item: LabeledItem, classify: ClassifySettings, msettings: MethodSettings
) -> MethodInput | str | None:
    """The MethodInput of an item; None when a side is absent (no method runs, as in the
    pipeline); a string saying why when there is nothing to judge."""
    before, known_b = _side_blob(item, "before")
    after, known_a = _side_blob(item, "after")
    if not (known_b and known_a):
        return "no content for this item (judge it elsewhere and give --results)"
    if before is None or after is None:
        return None
    pair = None
    if before.data is not None and after.data is not None and item.artifact_type in _TEXTUAL:
        rules = whitespace_rules(item.path or "", classify)
        pair = Pair.of(before.data, after.data, item.artifact_type, rules=rules)  # type: ignore[arg-type]
    return MethodInput(before, after, pair, classify, msettings)


def run_methods_on(
    items: Sequence[LabeledItem],
    names: Sequence[str],
    classify: ClassifySettings,
    msettings: MethodSettings,
    *,
    llm: Callable[[LabeledItem], tuple[float | None, str | None]] | None = None,
) -> dict[str, tuple[dict[str, bool], dict[str, float], dict[str, str]]]:
    """Run registry methods (and the llm judge through ``llm``) on every item, once each.

    A mismatch with an absent side gets no verdict in the pipeline, so no method calls it
    equivalent: here that is ``different`` with score 0.
    """
    out: dict[str, tuple[dict[str, bool], dict[str, float], dict[str, str]]] = {
        n: ({}, {}, {}) for n in names
    }
    local = [n for n in names if n != LLM]
    fns = [(n, METHODS[n].fn) for n in local]
    for item in items:
        mi = method_input(item, classify, msettings)
        if isinstance(mi, str):
            for n in names:
                out[n][2][item.id] = mi
            continue
        for n, fn in fns:
            pred, scores, _ = out[n]
            if mi is None:
                pred[item.id], scores[item.id] = False, 0.0
            else:
                v = fn(mi)
                pred[item.id], scores[item.id] = v.equivalent, v.score
        if llm is not None and LLM in names:
            pred, scores, unjudged = out[LLM]
            score, error = llm(item)
            if score is None:
                unjudged[item.id] = error or "no verdict"
            else:
                scores[item.id] = score
                pred[item.id] = False  # thresholded later, with the judge's threshold
    return out


def predictions_from_results(
    results: Sequence[JudgeResultLine],
    items: Sequence[LabeledItem],
    display: str,
    methods: Sequence[str] | None,
) -> list[Predictions]:
    """Group JudgeResult lines by method; ids unknown to the dataset are an error."""
    known = {i.id for i in items}
    grouped: dict[str, Predictions] = {}
    for r in results:
        if r.id not in known:
            raise UsageError(f"{display}:{r.lineno}: id '{r.id}' is not in the dataset")
        if methods is not None and r.method not in methods:
            continue
        p = grouped.get(r.method)
        if p is None:
            statistical = r.method in METHODS and not METHODS[r.method].deterministic
            p = grouped[r.method] = Predictions(r.method, {}, {}, statistical)
        p.predicted[r.id] = r.predicted
        if r.score is not None:
            p.scores[r.id] = r.score
    if methods is not None:
        missing = [m for m in methods if m not in grouped]
        if missing:
            raise UsageError(f"{display}: no results for method(s) {', '.join(missing)}")
    if not grouped:
        raise UsageError(f"{display}: no judge results")
    out = []
    for name in sorted(grouped):
        p = grouped[name]
        unjudged = {i.id: "no result in the results file" for i in items if i.id not in p.predicted}
        out.append(replace(p, unjudged=unjudged))
    return out


# ==================================================================================== storage


def dumps(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def save_evaluation(root: Path, doc: Mapping[str, Any]) -> None:
    atomic_write_text(root / EVAL_FILE, dumps(doc))


def load_evaluation(root: Path) -> dict[str, Any]:
    path = root / EVAL_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"no stored evaluation ({EVAL_FILE})",
            hint="run `phase2 judge eval` first or give --dataset",
        ) from None
    except OSError as exc:
        raise UsageError(f"{EVAL_FILE}: cannot read: {exc.strerror}") from None
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{EVAL_FILE}: not JSON: {exc}") from None
    schemas.check(doc, EVAL_SCHEMA, EVAL_FILE)
    return dict(doc)


# ==================================================================================== use cases


def _shown(root: Path | None, path: Path) -> str:
    if root is not None:
        try:
            return str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            pass
    return str(path.resolve())


def _identity(method: str, config: Config, root: Path | None) -> dict[str, Any]:
    if method in METHODS or method == LLM:
        return judge_identity(method, config.data, root)
    return {"method": method}


def run_eval(
    config: Config,
    *,
    root: Path | None,
    dataset: Path,
    results: Path | None = None,
    methods: Sequence[str] | None = None,
    options: EvalOptions = EvalOptions(),
    environ: Mapping[str, str] = os.environ,
    trusted: Sequence[TrustedJudge] = (),
) -> dict[str, Any]:
    """Evaluate judges on a labelled dataset (running them unless ``results`` is given).

    ``trusted``: the ``[judge]`` tables the user vouches for besides their own configuration
    file (:func:`phase2_git.app.sources.trusted_judge_table`)."""
    shown = _shown(root, dataset)
    items = read_labels(dataset, shown)
    if not items:
        raise UsageError(f"{shown}: no labelled items")
    if results is not None:
        rshown = _shown(root, results)
        preds = predictions_from_results(read_results(results, rshown), items, rshown, methods)
        preds = [replace(p, identity=_identity(p.method, config, root)) for p in preds]
        results_meta: dict[str, Any] | None = {"path": rshown, "sha256": file_sha256(results)}
    fitted = None
    dataset_sha = file_sha256(dataset)
    if results is None:
        names = tuple(methods) if methods else config.methods.enabled
        from phase2_git.app import judge_model

        msettings = judge_model.method_settings(config, root, names)
        if options.calibrate and judge_model.COSINE in names:
            # learned on the train split only (app/judge_model.py); stored once evaluated
            fitted = judge_model.fit_for_eval(
                items, config, {"dataset": shown, "sha256": dataset_sha}
            )
            if fitted is not None:
                msettings = judge_model.with_fitted(config, fitted)
        preds = _run_predictions(items, names, config, root, environ, trusted, msettings, fitted)
        results_meta = None
    meta = {
        "dataset": {"path": shown, "sha256": dataset_sha, "n": len(items)},
        "results": results_meta,
        "config_fingerprint": config.fingerprint,
    }
    doc = evaluate(items, preds, options, GateThresholds.from_config(config.data), meta=meta)
    if fitted is not None and root is not None:
        from phase2_git.store.judge_model import save_model

        save_model(root, fitted.backend, fitted.doc)
    return doc


def _run_predictions(
    items: Sequence[LabeledItem],
    names: Sequence[str],
    config: Config,
    root: Path | None,
    environ: Mapping[str, str],
    trusted: Sequence[TrustedJudge] = (),
    msettings: MethodSettings | None = None,
    fitted: Any = None,  # app.judge_model.Fitted: the model --calibrate just learned
) -> list[Predictions]:
    msettings = config.methods if msettings is None else msettings
    judge: LlmRubricJudge | None = None
    llm_fn = None
    if LLM in names:
        # what the judge runs and where it sends content: trusted configuration only
        table, dropped = trusted_judge_table(config, trusted, environ)
        judge = LlmRubricJudge(
            judge_settings({**config.data, "judge": table}, root), cache_root=root, environ=environ
        )
        if not judge.configured:
            raise UsageError(
                dropped[0]
                if dropped
                else "llm_rubric needs a judge: set judge.command or judge.url in the configuration"
            )
        active = judge

        def llm_fn(item: LabeledItem) -> tuple[float | None, str | None]:
            v = active.judge(
                JudgeRequest(
                    item.id,
                    item.path,
                    item.artifact_type,
                    item.before,
                    item.after,
                    item.hash_before,
                    item.hash_after,
                )
            )
            return v.score, v.error

    raw = run_methods_on(items, names, config.classify, msettings, llm=llm_fn)
    if "cosine_similarity" in raw and msettings.cosine_backend == "embeddings":
        from phase2_git.app.judge_model import embedding_scores

        embedding_scores(items, config, msettings, raw["cosine_similarity"])
    preds = []
    for n in names:
        predicted, scores, unjudged = raw[n]
        statistical = not METHODS[n].deterministic
        threshold: float | None = None
        if n == "cosine_similarity":
            threshold = config.methods.cosine_threshold
        elif n == LLM:
            threshold = float(config.data["judge"]["threshold"])
        preds.append(
            Predictions(
                n,
                predicted,
                scores,
                statistical,
                threshold=threshold,
                unjudged=unjudged,
                budget=judge.summary() if n == LLM and judge is not None else None,
                identity=(
                    judge_identity(n, config.data, root, model_sha256=fitted.sha256)
                    if fitted is not None and n == "cosine_similarity"
                    else _identity(n, config, root)
                ),
            )
        )
    return preds


@dataclass(frozen=True)
class GateRun:
    results: list[dict[str, Any]]
    notices: list[str]

    @property
    def go(self) -> bool:
        return all(r["go"] for r in self.results)


def run_gate(
    config: Config,
    evaluation: Mapping[str, Any],
    *,
    root: Path | None,
    methods: Sequence[str] | None = None,
    fp_bound: str | None = None,
    ts: str,
) -> GateRun:
    """Gate each method of an evaluation; a stored evaluation that no longer matches the
    configuration or its dataset fails the extra criterion ``evaluation_current``."""
    evaluated = evaluation["methods"]
    if methods:
        chosen = list(methods)
    else:
        # deterministic methods prove equivalence and need no gate: by default only the
        # statistical (and external) judges are gated, unless nothing else was evaluated
        chosen = [m for m in sorted(evaluated) if not (m in METHODS and METHODS[m].deterministic)]
        chosen = chosen or sorted(evaluated)
    unknown = [m for m in chosen if m not in evaluated]
    if unknown:
        raise UsageError(
            f"no evaluation of method(s) {', '.join(unknown)} "
            f"(evaluated: {', '.join(sorted(evaluated)) or 'none'})"
        )
    thresholds = GateThresholds.from_config(config.data, fp_bound)
    stale = _staleness(config, evaluation, root)
    notices: list[str] = []
    out = []
    for m in chosen:
        fig = evaluated[m]
        g = gate_method(fig, thresholds)
        criteria = list(g["criteria"])
        if stale is not None:
            criteria.append(
                {
                    "name": "evaluation_current",
                    "figure": 0.0,
                    "threshold": 1.0,
                    "op": "==",
                    "status": "FAIL",
                    "detail": stale,
                }
            )
        go = all(c["status"] == "PASS" for c in criteria)
        ident = dict(fig.get("identity") or {"method": m})
        out.append(
            {
                "schema": "GateResult.v1",
                "ts": ts,
                "method": m,
                "go": go,
                "criteria": criteria,
                "notes": g["notes"],
                "thresholds": thresholds.to_json(),
                "dataset": dict(evaluation["dataset"]),
                "results": evaluation.get("results"),
                "config_fingerprint": config.fingerprint,
                "judge": ident,
            }
        )
    if root is not None:
        from phase2_git.store.gate import autoresolve_blocked

        blocked = autoresolve_blocked(root)
        if blocked:
            notices.append(blocked)
    return GateRun(out, notices)


def _staleness(config: Config, evaluation: Mapping[str, Any], root: Path | None) -> str | None:
    if evaluation.get("config_fingerprint") != config.fingerprint:
        return "the configuration changed since this evaluation ran: run `phase2 judge eval`"
    recorded = evaluation["dataset"]
    path = Path(recorded["path"])
    if not path.is_absolute() and root is not None:
        path = root / path
    try:
        current = file_sha256(path)
    except OSError:
        return f"the evaluated dataset {recorded['path']} is gone"
    if current != recorded["sha256"]:
        return f"the dataset {recorded['path']} changed since this evaluation ran"
    return None


def save_gates(root: Path, run: GateRun) -> list[Path]:
    from phase2_git.store.gate import save_gate

    return [save_gate(root, r) for r in run.results]
