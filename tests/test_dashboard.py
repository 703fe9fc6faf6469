"""The Grafana dashboard uses exactly the metric names phase2 writes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, TestRepo

DASHBOARD = Path(__file__).parent.parent / "dashboards" / "phase2-judges.json"
# PromQL words that look like metric names
KEYWORDS = {
    "sum", "avg", "min", "max", "count", "by", "without", "on", "ignoring", "group_left",
    "group_right", "bool", "and", "or", "unless", "offset", "rate", "increase", "label_values",
    "topk", "bottomk", "last_over_time",
}  # fmt: skip
RUN_GAUGES = {"phase2_mismatches", "phase2_auto_applied_mismatches", "phase2_autoresolve_disabled"}


def metric_names(expr: str) -> set[str]:
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)  # grouping labels
    expr = re.sub(r"\$\w+", "", expr)  # dashboard variables
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        rest = expr[m.end() :].lstrip()
        if m.group() in KEYWORDS or rest.startswith("("):
            continue
        names.add(m.group())
    return names


def expressions(doc: dict[str, Any]) -> list[str]:
    out = [t["expr"] for p in doc["panels"] for t in p.get("targets", [])]
    for var in doc["templating"]["list"]:
        if var["type"] == "query":
            out.append(var["query"]["query"] if isinstance(var["query"], dict) else var["query"])
    return out


def prom_names(text: str) -> set[str]:
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def test_metric_name_extraction() -> None:
    assert metric_names('sum by (method, label) (judge_confusion_total{method=~"$method"})') == {
        "judge_confusion_total"
    }
    assert metric_names("label_values(phase2_kappa, method)") == {"phase2_kappa", "method"}


def test_every_dashboard_metric_is_written_by_phase2(
    repo: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    doc = json.loads(DASHBOARD.read_text())
    assert doc["uid"] and doc["panels"]
    titles = " ".join(p["title"].lower() for p in doc["panels"])
    for needed in ("kappa by mismatch type", "confusion", "false positive", "mismatches by type",
                   "auto-applied"):  # fmt: skip
        assert needed in titles
    used: set[str] = set()
    for expr in expressions(doc):
        used |= metric_names(expr)
    used.discard("method")  # label_values(metric, label): the label, not a metric

    # generate every .prom phase2 writes: judge eval, gate, and a diff run
    rows = []
    for i in range(220):
        eq = i % 2 == 0
        rows.append(
            {
                "id": f"mis_{i:012x}",
                "artifact_type": "json",
                "mismatch_type": "json_ordering" if i % 3 else "whitespace",
                "label": "equivalent" if eq else "different",
                "before": '{"a": 1, "b": 2}\n',
                "after": '{"b": 2, "a": 1}\n' if eq else '{"a": 2, "b": 2}\n',
                **({"source": "audit"} if i < 10 else {}),
            }
        )
    d = repo.root / "labels.jsonl"
    d.write_text("".join(json.dumps(r) + "\n" for r in rows))
    judge_prom, gate_prom, run_prom = tmp_path / "j.prom", tmp_path / "g.prom", tmp_path / "r.prom"
    assert cli("judge", "eval", "--dataset", str(d), "--methods",
               "canonical_json,cosine_similarity", "--prom", str(judge_prom),
               "--bootstrap", "50", repo=repo).code == 0  # fmt: skip
    cli("gate", "--prom", str(gate_prom), repo=repo)
    written = prom_names(judge_prom.read_text()) | prom_names(gate_prom.read_text())

    repo.write("a.json", b'{"a": 1}\n')
    repo.commit("base")
    repo.write("a.json", b'{"a": 2}\n')
    code, _, err = cli("diff", "--prom", str(run_prom), repo=repo)
    if code == 2 and "--prom" in err:
        missing = used - written
        assert missing <= RUN_GAUGES, missing
        pytest.skip(f"phase2 diff --prom is not available yet: {sorted(missing)} unchecked")
    written |= prom_names(run_prom.read_text())
    assert used <= written, sorted(used - written)
