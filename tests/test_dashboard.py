"""The Grafana dashboard uses exactly the metric names phase2 writes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.conftest import Cli, TestRepo, require_tool

DASHBOARD = Path(__file__).parent.parent / "dashboards" / "phase2-judges.json"
ALERTS = DASHBOARD.parent / "phase2-alerts.yml"
ALERT_TESTS = DASHBOARD.parent / "phase2-alerts.test.yml"
# PromQL words that look like metric names
KEYWORDS = {
    "sum", "avg", "min", "max", "count", "by", "without", "on", "ignoring", "group_left",
    "group_right", "bool", "and", "or", "unless", "offset", "rate", "increase", "label_values",
    "topk", "bottomk", "last_over_time", "avg_over_time", "time", "group", "printf",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)  # grouping labels
    expr = re.sub(r"\$\w+", "", expr)  # dashboard variables
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range selectors ([7d])
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


def written_by_phase2(repo: TestRepo, cli: Cli, tmp_path: Path) -> set[str]:
    """The metric names of every .prom phase2 writes: judge eval, gate, a diff run, and the
    spending gauges a run with an external judge adds (tests/test_llm_judge.py runs one)."""
    from phase2_git.reports.prom import _SPEND_HELP

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
    assert code == 1, err
    written |= prom_names(run_prom.read_text())
    return written | {f"phase2_judge_{key}" for key in _SPEND_HELP}


def test_every_dashboard_metric_is_written_by_phase2(
    repo: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    doc = json.loads(DASHBOARD.read_text())
    assert doc["uid"] and doc["panels"]
    titles = " ".join(p["title"].lower() for p in doc["panels"])
    for needed in ("kappa by mismatch type", "confusion", "false positive", "mismatches by type",
                   "auto-applied", "judge cost", "last run"):  # fmt: skip
        assert needed in titles
    used: set[str] = set()
    for expr in expressions(doc):
        used |= metric_names(expr)
    used.discard("method")  # label_values(metric, label): the label, not a metric
    written = written_by_phase2(repo, cli, tmp_path)
    assert used <= written, sorted(used - written)


def alert_rules() -> list[dict[str, Any]]:
    import yaml

    doc = yaml.safe_load(ALERTS.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_alert_rules_watch_what_phase2_writes_and_the_dashboard_shows(
    repo: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    rules = alert_rules()
    assert {r["alert"] for r in rules} >= {
        "Phase2JudgeKappaBelowGate",
        "Phase2FalsePositiveRateHigh",
        "Phase2JudgeCostSpike",
        "Phase2BreakerTripped",
        "Phase2KillSwitchEngagedTooLong",
    }
    watched: set[str] = set()
    for rule in rules:
        watched |= metric_names(rule["expr"])
    written = written_by_phase2(repo, cli, tmp_path)
    assert watched <= written, sorted(watched - written)
    shown: set[str] = set()
    for expr in expressions(json.loads(DASHBOARD.read_text())):
        shown |= metric_names(expr)
    # the dashboard has a panel for what every rule watches (the gate's thresholds are the
    # rules' yardstick, shown in the gate panel's criteria instead)
    assert watched - {"phase2_gate_criterion_threshold"} <= shown, sorted(watched - shown)
    # every alert links to its runbook entry, and the runbook has that heading
    runbook = (ALERTS.parent.parent / "docs" / "runbook.md").read_text()
    anchors = {
        "#" + re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", runbook, flags=re.M)
    }
    for rule in rules:
        link = rule["annotations"]["runbook"]
        assert link.startswith("docs/runbook.md#") and link[len("docs/runbook.md") :] in anchors


def test_promtool_checks_and_unit_tests_the_alert_rules() -> None:
    """``promtool check rules`` and ``promtool test rules``: each alert fires on the series it
    watches and stays silent on the others (dashboards/phase2-alerts.test.yml)."""
    import subprocess

    promtool = require_tool("promtool")
    for args in (("check", "rules", ALERTS.name), ("test", "rules", ALERT_TESTS.name)):
        res = subprocess.run(
            [promtool, *args], cwd=ALERTS.parent, capture_output=True, text=True, check=False
        )
        assert res.returncode == 0, res.stdout + res.stderr
        assert "SUCCESS" in res.stdout
