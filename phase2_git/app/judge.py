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
_TEXTUAL = ("json", "jsonc", "text")


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
    if data is None and oid is not None and item.content_in_git:
        return None, False  # named by blob id, and not found where the labels were read
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


def with_git_content(
    items: Sequence[LabeledItem], root: Path | None, max_size: int
) -> list[LabeledItem]:
    """The items, those whose content is named by blob id (``"content": "git"``) with their
    sides read from the repository at ``root`` (one ``git cat-file --batch``); a blob the
    repository does not have, or larger than ``max_size``, stays unread (the item is then
    unjudged, saying why). Without a repository nothing is read."""
    wanted = [
        oid
        for i in items
        if i.content_in_git
        for oid, data in ((i.hash_before, i.before), (i.hash_after, i.after))
        if oid is not None and data is None
    ]
    if not wanted or root is None:
        return list(items)
    from phase2_git.git.objects import read_objects
    from phase2_git.git.repo import GitRepo

    found = read_objects(GitRepo.discover(root), wanted, max_size=max_size)

    def data(oid: str | None, have: bytes | None) -> bytes | None:
        if have is not None or oid is None:
            return have
        obj = found.get(oid)
        return obj.data if obj is not None and obj.type == "blob" else None

    return [
        replace(i, before=data(i.hash_before, i.before), after=data(i.hash_after, i.after))
        if i.content_in_git
        else i
        for i in items
    ]


def method_input(
    item: LabeledItem, classify: ClassifySettings, msettings: MethodSettings
) -> MethodInput | str | None:
    """The MethodInput of an item; None when a side is absent (no method runs, as in the
    pipeline); a string saying why when there is nothing to judge."""
    before, known_b = _side_blob(item, "before")
    after, known_a = _side_blob(item, "after")
    if not (known_b and known_a):
        if item.content_in_git:
            return (
                "content named by blob id is not in this repository (or over max_file_size): "
                "run in the repository the labels came from, or give --results"
            )
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
    items = with_git_content(items, root, config.classify.max_file_size)
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
    configured = {m: _identity(m, config, root).get("threshold") for m in doc["methods"]}
    explain_calibration(
        doc, stored=root is not None, dataset=shown, source=config.source, configured=configured
    )
    if fitted is not None and root is not None:
        from phase2_git.store.judge_model import save_model

        save_model(root, fitted.backend, fitted.doc)
    return doc


def explain_calibration(
    doc: dict[str, Any],
    *,
    stored: bool,
    dataset: str,
    source: str = "defaults",
    configured: Mapping[str, float | None] | None = None,
) -> None:
    """Say, in each calibrated method's ``calibration`` block and as its ``reasons`` note (the
    text report prints every note), where the threshold is kept, what it means and the exact
    configuration line and command that put it to use; or that it is degenerate and unused.

    The threshold is never written into the configuration: auto-apply follows the configured
    threshold, and a gate measured at another one is not valid until the configuration says it
    (:func:`phase2_git.store.gate.gate_validity`)."""
    where = (
        f"kept only in {EVAL_FILE} (and in .phase2/gate/<method>.json when `phase2 gate "
        "--calibrate` ran), never in the configuration"
        if stored
        else "not stored anywhere (no repository; --output keeps the JSON), nor in the "
        "configuration"
    )
    for name, fig in doc["methods"].items():
        cal = fig.get("calibration")
        if cal is None:
            continue
        cal["stored"] = where
        if cal.get("configured") is None and configured:
            cal["configured"] = configured.get(name)  # a results file carries no threshold
        now = (
            f"the configured threshold {cal['configured']:g}"
            if cal.get("configured") is not None
            else None
        )
        # the file the line goes into: the one in use, else the repository's own
        target = source if source != "defaults" else ".phase2/config.toml"
        if cal["config"] is not None and Path(source).name == "pyproject.toml":
            cal["config"] = "[tool.phase2." + cal["config"][1:]
        if cal["degenerate"] is not None:
            kept = f"these figures use {now}" if now else "these figures use the results as given"
            text = (
                f"DEGENERATE, not proposed: {cal['degenerate']}; {kept}. Label more items of "
                "both classes (`phase2 labels export` after reviews, or `phase2 labels import`) "
                "and calibrate again"
            )
        else:
            t = cal["threshold"]
            top = (
                f" (the highest train score: only items scoring {t:g} pass)"
                if t >= cal["train_scores"][1]
                else ""
            )
            text = (
                f"threshold {t:g} maximises kappa on the {cal['train_items']} judged train "
                f"items (kappa {cal['train_kappa']:.3f}): a score >= {t:g} is called "
                f"equivalent{top}. These figures use it; it is {where}"
            )
            if cal["config"] is not None:
                text += (
                    f". To use it, put `{cal['config']}` in {target}, then run "
                    f"`phase2 gate --dataset {dataset}` (without --calibrate) so the gate is "
                    "measured at the threshold auto-apply will use"
                )
                if now:
                    text += f"; until then auto-apply keeps {now}"
            else:
                text += (
                    f". No configuration key holds a threshold for '{name}': apply it where "
                    "the judge's results are produced"
                )
        fig["reasons"]["calibration"] = text


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


def default_gated(evaluated: Mapping[str, Any]) -> list[str]:
    """What ``phase2 gate`` gates without ``--method``: every evaluated statistical or external
    judge. Deterministic methods prove equivalence and need no gate; an evaluation of nothing
    else has nothing to gate, which is said rather than gating them instead."""
    chosen = [m for m in sorted(evaluated) if not (m in METHODS and METHODS[m].deterministic)]
    if not chosen:
        raise UsageError(
            "nothing to gate: the evaluation holds only deterministic methods "
            f"({', '.join(sorted(evaluated)) or 'none'}), which prove equivalence and need no gate",
            hint="evaluate a statistical or external judge (e.g. `--method cosine_similarity`), "
            "or name the methods to gate with --method",
        )
    return chosen


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
    chosen = list(methods) if methods else default_gated(evaluated)
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
