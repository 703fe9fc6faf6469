"""The gate: GO / NO-GO for one judge from its evaluation figures (``phase2 gate``).

Pure: it reads the figures :mod:`phase2_git.core.evaluation` makes (or a stored evaluation's)
and the thresholds of ``[gate]``. A figure that is undefined never passes ("insufficient").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from phase2_git.core import stats
from phase2_git.core.stats import rounded


@dataclass(frozen=True)
class GateThresholds:
    min_items: int = 200
    min_kappa: float = 0.80
    min_kappa_ci_low: float = 0.75
    min_type_kappa: float = 0.75
    min_type_items: int = 20
    max_fp_rate: float = 0.02
    fp_bound: str = "point"

    @classmethod
    def from_config(cls, data: Mapping[str, Any], fp_bound: str | None = None) -> GateThresholds:
        g = data["gate"]
        return cls(
            min_items=int(g["min_items"]),
            min_kappa=float(g["min_kappa"]),
            min_kappa_ci_low=float(g["min_kappa_ci_low"]),
            min_type_kappa=float(g["min_type_kappa"]),
            min_type_items=int(g["min_type_items"]),
            max_fp_rate=float(g["max_fp_rate"]),
            fp_bound=fp_bound or str(g["fp_bound"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "min_items": self.min_items,
            "min_kappa": self.min_kappa,
            "min_kappa_ci_low": self.min_kappa_ci_low,
            "min_type_kappa": self.min_type_kappa,
            "min_type_items": self.min_type_items,
            "max_fp_rate": self.max_fp_rate,
            "fp_bound": self.fp_bound,
        }


def _criterion(
    name: str, figure: float | None, threshold: float, op: str, detail: str, why_none: str = ""
) -> dict[str, Any]:
    if figure is None:
        status = "INSUFFICIENT"
        detail = f"{detail}: insufficient data ({why_none})" if why_none else detail
    else:
        ok = (
            figure >= threshold
            if op == ">="
            else figure <= threshold
            if op == "<="
            else figure == threshold
        )
        status = "PASS" if ok else "FAIL"
    return {
        "name": name,
        "figure": figure,
        "threshold": threshold,
        "op": op,
        "status": status,
        "detail": detail,
    }


def gate_method(fig: Mapping[str, Any], t: GateThresholds) -> dict[str, Any]:
    """GO / NO-GO for one method's figures. Undefined figures never pass ("insufficient")."""
    reasons = fig.get("reasons", {})
    crit = [
        _criterion("min_items", fig["n"], t.min_items, ">=", f"{fig['n']} labelled items judged"),
        _criterion(
            "kappa",
            fig["kappa"],
            t.min_kappa,
            ">=",
            "Cohen's kappa, all items",
            reasons.get("kappa", ""),
        ),
    ]
    ci = fig["kappa_ci"]
    crit.append(
        _criterion(
            "kappa_ci_low",
            ci[0] if ci else None,
            t.min_kappa_ci_low,
            ">=",
            "lower bound of the 95% bootstrap CI",
            reasons.get("kappa_ci", ""),
        )
    )
    notes: list[str] = []
    for mtype, b in fig["by_type"].items():
        c = b["confusion"]
        both = c["tp"] + c["fn"] > 0 and c["fp"] + c["tn"] > 0
        if b["n"] < t.min_type_items:
            notes.append(
                f"type {mtype}: {b['n']} items (< {t.min_type_items}): insufficient, not gated"
            )
        elif not both:
            only = "equivalent" if c["tp"] + c["fn"] else "different"
            notes.append(f"type {mtype}: all {b['n']} labels are '{only}': insufficient, not gated")
        else:
            crit.append(
                _criterion(
                    f"type_kappa:{mtype}",
                    b["kappa"],
                    t.min_type_kappa,
                    ">=",
                    f"kappa on {b['n']} {mtype} items",
                    b.get("reasons", {}).get("kappa", ""),
                )
            )
    tc = fig["test"]["confusion"]
    if t.fp_bound == "upper95":
        bound = stats.clopper_pearson_upper(tc["fp"], tc["fp"] + tc["tn"])
        crit.append(
            _criterion(
                "fp_rate",
                rounded(bound),
                t.max_fp_rate,
                "<=",
                f"one-sided 95% upper bound of FP rate ({tc['fp']}/{tc['fp'] + tc['tn']}, "
                "test split)",
                "no item labelled 'different' in the test split",
            )
        )
    else:
        crit.append(
            _criterion(
                "fp_rate",
                fig["fp_rate_test"],
                t.max_fp_rate,
                "<=",
                f"FP rate on the test split ({tc['fp']}/{tc['fp'] + tc['tn']})",
                reasons.get("fp_rate_test", ""),
            )
        )
    budget = fig.get("budget") or {}
    unjudged = int(fig.get("unjudged", 0))
    exhausted = bool(budget.get("exhausted"))
    detail = "every item judged within budget"
    if exhausted:
        detail = str(budget.get("reason") or "budget exhausted")
    elif unjudged:
        detail = f"{unjudged} items without a verdict: {reasons.get('unjudged', '')}"
    b_crit = _criterion("budget", float(unjudged), 0.0, "==", detail)
    if exhausted:
        b_crit["status"] = "FAIL"
    crit.append(b_crit)
    go = all(c["status"] == "PASS" for c in crit)
    return {"go": go, "criteria": crit, "notes": notes}
