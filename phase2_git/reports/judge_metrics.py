"""Judge evaluation and gate reports: Prometheus textfile metrics and the text tables.

Metric names are a contract: the Grafana dashboard in ``dashboards/`` uses
exactly these. ``judge_confusion_total`` is exposed as a *counter* family: it is a count of
items, and ``promtool check metrics`` rejects a gauge whose name ends in ``_total``.
prometheus_client's ``Counter`` would append a second ``_total`` and a ``_created`` sample, so
the families are built directly. Everything else is a gauge. Samples are emitted in sorted
label order so the same evaluation gives byte-identical files (invariant 8).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from phase2_git.reports.promfile import write_textfile

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import Metric

# (label, predicted) per confusion cell; "true" = equivalent
_CELLS = (
    ("tp", "true", "true"),
    ("fp", "false", "true"),
    ("tn", "false", "false"),
    ("fn", "true", "false"),
)


class _Static:
    """A collector that yields pre-built families (the registry calls ``collect``)."""

    def __init__(self, families: Sequence[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def _registry(families: Sequence[Metric]) -> CollectorRegistry:
    from prometheus_client import CollectorRegistry

    reg = CollectorRegistry(auto_describe=False)
    reg.register(_Static(families))
    return reg


def evaluation_families(doc: Mapping[str, Any]) -> list[Metric]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    confusion = CounterMetricFamily(
        "judge_confusion",
        'Labelled mismatches by human label and judge prediction ("true" = equivalent), per '
        "artifact type and method.",
        labels=["artifact_type", "label", "predicted", "method"],
    )
    by_type = GaugeMetricFamily(
        "phase2_kappa_by_type",
        "Cohen's kappa of a judge against human labels, per mismatch type (defined types only).",
        labels=["mismatch_type", "method"],
    )
    kappa = GaugeMetricFamily(
        "phase2_kappa", "Cohen's kappa of a judge against human labels.", labels=["method"]
    )
    ci_low = GaugeMetricFamily(
        "phase2_kappa_ci_low", "Lower bound of the 95% bootstrap CI of kappa.", labels=["method"]
    )
    ci_high = GaugeMetricFamily(
        "phase2_kappa_ci_high", "Upper bound of the 95% bootstrap CI of kappa.", labels=["method"]
    )
    fpr = GaugeMetricFamily(
        "phase2_false_positive_rate",
        "FP / (FP + TN) on the test split: real changes the judge would call noise.",
        labels=["method"],
    )
    unjudged = GaugeMetricFamily(
        "phase2_judge_unjudged_items",
        "Labelled items the judge gave no verdict on (budget exhausted, errors, missing results).",
        labels=["method"],
    )
    exhausted = GaugeMetricFamily(
        "phase2_judge_budget_exhausted",
        "1 when the judge stopped because its budget was exhausted.",
        labels=["method"],
    )
    for method in sorted(doc["methods"]):
        fig = doc["methods"][method]
        for atype, b in sorted(fig["by_artifact_type"].items()):
            for cell, label, pred in _CELLS:
                confusion.add_metric([atype, label, pred, method], b["confusion"][cell])
        for mtype, b in sorted(fig["by_type"].items()):
            if b["kappa"] is not None:
                by_type.add_metric([mtype, method], b["kappa"])
        if fig["kappa"] is not None:
            kappa.add_metric([method], fig["kappa"])
        if fig["kappa_ci"] is not None:
            ci_low.add_metric([method], fig["kappa_ci"][0])
            ci_high.add_metric([method], fig["kappa_ci"][1])
        if fig["fp_rate_test"] is not None:
            fpr.add_metric([method], fig["fp_rate_test"])
        unjudged.add_metric([method], fig["unjudged"])
        budget = fig.get("budget")
        exhausted.add_metric([method], 1 if budget and budget.get("exhausted") else 0)
    items = GaugeMetricFamily("phase2_dataset_items", "Labelled mismatches in the dataset.")
    items.add_metric([], doc["n"])
    fams: list[Metric] = [
        confusion,
        by_type,
        kappa,
        ci_low,
        ci_high,
        fpr,
        unjudged,
        exhausted,
        items,
    ]
    audit = doc.get("audit") or {}
    if audit.get("fdr") is not None:
        fdr = GaugeMetricFamily(
            "phase2_audit_false_discovery_rate",
            "Share of audited auto-approvals that the auditor rejected.",
        )
        fdr.add_metric([], audit["fdr"])
        fams.append(fdr)
    return fams


def gate_families(results: Sequence[Mapping[str, Any]], breaker: bool | None) -> list[Metric]:
    from prometheus_client.core import GaugeMetricFamily

    passed = GaugeMetricFamily(
        "phase2_gate_passed", "1 when the judge's auto-apply gate is GO.", labels=["method"]
    )
    crit_passed = GaugeMetricFamily(
        "phase2_gate_criterion_passed",
        "1 when one gate criterion passes (0 on FAIL or insufficient data).",
        labels=["method", "criterion"],
    )
    crit_value = GaugeMetricFamily(
        "phase2_gate_criterion_value",
        "The figure a gate criterion compared (absent when undefined).",
        labels=["method", "criterion"],
    )
    crit_threshold = GaugeMetricFamily(
        "phase2_gate_criterion_threshold",
        "The threshold a gate criterion compared against.",
        labels=["method", "criterion"],
    )
    info = GaugeMetricFamily(
        "phase2_gate_judge_info",
        "Always 1: which judge a gate measured (cosine_similarity's backend and model; a gate "
        "holds for that judge only).",
        labels=["method", "backend", "model"],
    )
    for r in sorted(results, key=lambda r: r["method"]):
        passed.add_metric([r["method"]], 1 if r["go"] else 0)
        judge = r.get("judge") or {}
        default = "tfidf" if r["method"] == "cosine_similarity" else ""
        info.add_metric(
            [r["method"], str(judge.get("backend") or default), str(judge.get("model") or "")], 1
        )
        for c in r["criteria"]:
            key = [r["method"], c["name"]]
            crit_passed.add_metric(key, 1 if c["status"] == "PASS" else 0)
            if c["figure"] is not None:
                crit_value.add_metric(key, c["figure"])
            if c["threshold"] is not None:
                crit_threshold.add_metric(key, c["threshold"])
    fams: list[Metric] = [passed, crit_passed, crit_value, crit_threshold, info]
    if breaker is not None:
        b = GaugeMetricFamily(
            "phase2_breaker_tripped",
            "1 when audits tripped the circuit breaker: auto-apply is off.",
        )
        b.add_metric([], 1 if breaker else 0)
        fams.append(b)
    return fams


def write_evaluation(path: str | os.PathLike[str], doc: Mapping[str, Any]) -> None:
    write_textfile(_registry(evaluation_families(doc)), path)


def write_gate(
    path: str | os.PathLike[str], results: Sequence[Mapping[str, Any]], breaker: bool | None
) -> None:
    write_textfile(_registry(gate_families(results, breaker)), path)


# -------------------------------------------------------------------------------- text


def _f(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _ci(ci: Sequence[float] | None) -> str:
    return "n/a" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _cm(c: Mapping[str, int]) -> str:
    return f"tp={c['tp']} fp={c['fp']} tn={c['tn']} fn={c['fn']}"


def render_evaluation(doc: Mapping[str, Any], out: IO[str]) -> None:
    """A readable report of the same document ``--format json`` prints."""
    split = doc.get("split", {})
    out.write(
        f"dataset {doc['dataset']['path']}: {doc['n']} labelled items "
        f"(train {split.get('train', 0)}, test {split.get('test', 0)}, "
        f"audit {split.get('audit', 0)}); bootstrap {doc['bootstrap']['resamples']} resamples, "
        f"seed {doc['bootstrap']['seed']}\n"
    )
    audit = doc.get("audit") or {}
    fdr = audit.get("fdr")
    audit_line = (
        f"audits: {audit.get('rejected', 0)} of {audit.get('n', 0)} rejected, "
        f"false discovery rate {_f(fdr)}"
        if fdr is not None
        else f"audits: {audit.get('reason', 'none')}"
    )
    for method in sorted(doc["methods"]):
        fig = doc["methods"][method]
        gate = doc["gate"]["methods"].get(method, {})
        out.write(f"\n{method}")
        if "threshold" in fig:
            out.write(f" (threshold {fig['threshold']:.6g})")
        out.write(f": gate {'GO' if gate.get('go') else 'NO-GO'}\n")
        ident = fig.get("identity") or {}
        if method == "cosine_similarity" and ("backend" in ident or "model" in ident):
            model = f", model {ident['model']}" if "model" in ident else ""
            out.write(f"  judge: backend {ident.get('backend', 'tfidf')}{model}\n")
        out.write(
            f"  n={fig['n']}  kappa={_f(fig['kappa'])}  95% CI {_ci(fig['kappa_ci'])}  "
            f"asymptotic {_ci(fig['kappa_ci_asymptotic'])}\n"
        )
        out.write(
            f"  {_cm(fig['confusion'])}  precision={_f(fig['precision'])}  "
            f"recall={_f(fig['recall'])}\n"
        )
        t = fig["test"]
        out.write(
            f"  test: n={t['n']}  kappa={_f(t['kappa'])}  FP rate={_f(fig['fp_rate_test'])}  "
            f"{_cm(t['confusion'])}\n  {audit_line}\n"
        )
        if fig["unjudged"]:
            out.write(f"  unjudged: {fig['unjudged']} ({fig['reasons'].get('unjudged', '')})\n")
        for title, key in (("mismatch type", "by_type"), ("artifact type", "by_artifact_type")):
            rows = fig[key]
            if not rows:
                continue
            width = max(len(k) for k in rows)
            out.write(f"  by {title}:\n")
            for k, b in rows.items():
                note = b.get("reasons", {}).get("kappa", "")
                out.write(
                    f"    {k:<{width}}  n={b['n']:<6} kappa={_f(b['kappa']):<6} "
                    f"CI {_ci(b['kappa_ci']):<17} {_cm(b['confusion'])}"
                    + (f"  ({note})" if note else "")
                    + "\n"
                )
        for name, why in sorted(fig["reasons"].items()):
            if name != "unjudged":
                out.write(f"  note: {name}: {why}\n")


def _figure(c: Mapping[str, Any]) -> str:
    f = c["figure"]
    if f is None:
        return "n/a"
    if c["name"] in ("min_items", "budget"):
        return str(int(f))
    return f"{f:.4f}"


def render_gate(results: Sequence[Mapping[str, Any]], notices: Sequence[str], out: IO[str]) -> None:
    for r in results:
        out.write(f"gate {r['method']}: {'GO' if r['go'] else 'NO-GO'}\n")
        width = max((len(c["name"]) for c in r["criteria"]), default=0)
        for c in r["criteria"]:
            status = "PASS" if c["status"] == "PASS" else "FAIL"
            extra = " (insufficient data)" if c["status"] == "INSUFFICIENT" else ""
            thr = c["threshold"]
            thr_s = str(int(thr)) if c["name"] in ("min_items", "budget") else f"{thr:g}"
            out.write(
                f"  {status}  {c['name']:<{width}}  {_figure(c):>8} {c['op']} {thr_s:<6}"
                f"  {c['detail']}{extra}\n"
            )
        for note in r.get("notes", []):
            out.write(f"  note: {note}\n")
    for n in notices:
        out.write(f"notice: {n}\n")
