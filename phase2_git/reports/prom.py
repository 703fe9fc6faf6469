"""Prometheus textfile metrics of one run.

Every value is a gauge without a sample timestamp: node_exporter's textfile collector rejects a
whole file whose samples carry timestamps. Label values come from closed sets (mismatch types,
artifact types, ``real``/``noise``, the ``--fail-on`` rule): never a path or a commit id, which
would make a new series for every run. The config fingerprint is an info metric: it changes
only when the configuration does. ``phase2_run_duration_seconds`` and
``phase2_last_run_timestamp_seconds`` are the only values that differ between two runs on the
same inputs (invariant 8).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry


def autoresolve_disabled(environ: Mapping[str, str] = os.environ) -> bool:
    """The kill switch, by the project's one rule (``store.gate.kill_switch``)."""
    from phase2_git.store.gate import kill_switch

    return kill_switch(environ) is not None


# the gauges of what each external judge spent in the run (the diff document's ``judges``); a
# cost alert compares ``phase2_judge_cost`` with its own recent history
_SPEND_HELP = {
    "calls": "Calls an external judge made in the last run (cache hits excluded).",
    "input_tokens": "Estimated input tokens an external judge spent in the last run.",
    "output_tokens": "Output tokens an external judge reported in the last run.",
    "cost": "Estimated cost an external judge spent in the last run ([judge] cost_in/cost_out).",
    "cache_hits": "Verdicts an external judge served from its cache in the last run.",
    "errors": "Calls to an external judge that failed in the last run.",
    "asked": "Mismatches an external judge was asked about in the last run.",
    "shadow_share": "Share of mismatches a judge in shadow is asked about (judge.shadow_share; "
    "1 once its gate is GO).",
}


@dataclass(frozen=True)
class RunFacts:
    """What a report cannot read from the diff document: the clock and the environment."""

    duration_seconds: float
    finished_at: float  # unix time
    auto_applied: int = 0  # `diff` never applies anything
    autoresolve_disabled: bool = False
    version: str = ""


def registry_for(doc: Mapping[str, Any], facts: RunFacts) -> CollectorRegistry:
    """A fresh registry holding the run gauges of a ``Phase2Diff.v1`` document."""
    from prometheus_client import CollectorRegistry, Gauge, Info

    reg = CollectorRegistry(auto_describe=False)
    s = doc["summary"]
    by_pair: dict[tuple[str, str], int] = {}
    for m in doc["mismatches"]:
        key = (m["mismatch_type"], m["artifact_type"])
        by_pair[key] = by_pair.get(key, 0) + 1
    mismatches = Gauge(
        "phase2_mismatches",
        "Artifact mismatches in the last run, by mismatch type and artifact type.",
        ["mismatch_type", "artifact_type"],
        registry=reg,
    )
    for (mtype, atype), n in sorted(by_pair.items()):
        mismatches.labels(mtype, atype).set(n)
    resolved = Gauge(
        "phase2_resolved_mismatches",
        "Mismatches needing no further action: noise already in canonical form (noise) or real "
        "changes with a trusted approval bound to their hashes (real).",
        ["kind"],
        registry=reg,
    )
    resolved.labels("noise").set(s["resolved"])
    resolved.labels("real").set(s["approved"])
    unresolved = Gauge(
        "phase2_unresolved_mismatches",
        "Mismatches still needing a transform (noise) or a decision (real).",
        ["kind"],
        registry=reg,
    )
    unresolved.labels("noise").set(s["unresolved_noise"])
    unresolved.labels("real").set(s["unresolved_real"])
    Gauge(
        "phase2_safe_mismatches",
        "Unresolved noise whose plan is safe to apply automatically.",
        registry=reg,
    ).set(s["safe"])
    Gauge(
        "phase2_failing_mismatches",
        "Mismatches counted by the --fail-on rule of the last run.",
        ["fail_on"],
        registry=reg,
    ).labels(s["fail_on"]).set(s["failing"])
    Gauge(
        "phase2_auto_applied_mismatches",
        "Transforms applied without a human in the last run.",
        registry=reg,
    ).set(facts.auto_applied)
    Gauge(
        "phase2_autoresolve_disabled",
        "1 when the kill switch PHASE2_DISABLE_AUTORESOLVE is on.",
        registry=reg,
    ).set(1 if facts.autoresolve_disabled else 0)
    Gauge(
        "phase2_run_duration_seconds",
        "Wall-clock duration of the last run.",
        registry=reg,
    ).set(round(facts.duration_seconds, 6))
    Gauge(
        "phase2_last_run_timestamp_seconds",
        "Unix time at which the last run finished.",
        registry=reg,
    ).set(round(facts.finished_at, 3))
    judges = doc.get("judges") or {}
    if judges:
        spend = {
            field: Gauge(f"phase2_judge_{field}", help_text, ["method"], registry=reg)
            for field, help_text in _SPEND_HELP.items()
        }
        for judge_name, spent in sorted(judges.items()):
            for field, gauge in spend.items():
                gauge.labels(judge_name).set(spent.get(field, 0))
    info = {"fingerprint": doc["config_fingerprint"]}
    if facts.version:
        info["version"] = facts.version
    Info(
        "phase2_config",
        "Fingerprint of the resolved configuration the last run used.",
        registry=reg,
    ).info(info)
    return reg


def write(path: str | os.PathLike[str], doc: Mapping[str, Any], facts: RunFacts) -> None:
    """Write the run gauges atomically (temp file, fsync, rename)."""
    from phase2_git.reports.promfile import write_textfile

    write_textfile(registry_for(doc, facts), path)
