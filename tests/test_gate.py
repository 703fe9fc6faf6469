"""``phase2 gate``: GO / NO-GO per criterion, stored gates for the policy, the breaker."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from phase2_git.errors import UsageError
from phase2_git.store.config import load
from phase2_git.store.decisions import DecisionLog
from phase2_git.store.gate import (
    BREAKER_FILE,
    breaker_from_events,
    breaker_tripped,
    gate_validity,
    gated_methods,
    kill_switch,
)
from tests.conftest import STUB, Cli, TestRepo, require_tool

METHOD = "cosine_similarity"
TYPES = ("json_ordering", "whitespace", "content")
Cells = tuple[int, int, int, int]  # tp, fp, tn, fn


def build(
    repo: TestRepo,
    spec: dict[str, dict[str, Cells]],
    *,
    method: str = METHOD,
    drop: int = 0,
) -> tuple[Path, Path]:
    """Labels with explicit splits and results with exactly the given confusion cells per
    (mismatch type, split); ``drop`` results are left out (items without a verdict)."""
    items, results = [], []
    n = 0
    for mtype, by_split in spec.items():
        for split, (tp, fp, tn, fn) in by_split.items():
            for label, pred, count in ((1, 1, tp), (0, 1, fp), (0, 0, tn), (1, 0, fn)):
                for _ in range(count):
                    n += 1
                    iid = f"mis_{n:012x}"
                    items.append(
                        {
                            "id": iid,
                            "artifact_type": "json" if mtype != "whitespace" else "text",
                            "mismatch_type": mtype,
                            "label": "equivalent" if label else "different",
                            "split": split,
                        }
                    )
                    results.append(
                        {
                            "id": iid,
                            "method": method,
                            "predicted": "equivalent" if pred else "different",
                        }
                    )
    results = results[drop:]
    d = repo.root / ".phase2" / "labels.jsonl"
    d.parent.mkdir(exist_ok=True)
    d.write_text("".join(json.dumps(i) + "\n" for i in items))
    r = repo.root / "results.jsonl"
    r.write_text("".join(json.dumps(x) + "\n" for x in results))
    return d, r


def split(train: Cells, test: Cells) -> dict[str, Cells]:
    return {"train": train, "test": test}


GOOD = split((40, 0, 30, 2), (17, 0, 13, 1))  # 103 items, kappa ~0.96, no FP
DATASETS: dict[str, tuple[dict[str, dict[str, Cells]], set[str]]] = {
    "pass": (dict.fromkeys(TYPES, GOOD), set()),
    "too_small": ({t: split((20, 0, 15, 1), (8, 0, 6, 0)) for t in TYPES}, {"min_items"}),
    # kappa 0.79 on 3,000 items: the CI is narrow enough to stay above 0.75
    "low_kappa": ({t: split((277, 0, 350, 73), (118, 0, 150, 32)) for t in TYPES}, {"kappa"}),
    # kappa 0.82 on 210 items: the CI reaches below 0.75
    "low_ci": (
        {
            "json_ordering": split((20, 0, 25, 4), (9, 0, 10, 2)),
            "whitespace": split((20, 0, 25, 4), (9, 0, 10, 2)),
            "content": split((20, 0, 25, 5), (8, 0, 10, 2)),
        },
        {"kappa_ci_low"},
    ),
    # one type with kappa 0.70 on 40 items; the rest near perfect
    "weak_type": (
        {
            "json_ordering": split((40, 0, 30, 2), (17, 0, 13, 0)),
            "whitespace": split((40, 0, 30, 2), (17, 0, 13, 0)),
            "content": split((10, 0, 14, 4), (4, 0, 6, 2)),
        },
        {"type_kappa:content"},
    ),
    # 1 FP among the 40 'different' items of the test split: 2.5% > 2%
    "fp_2_5": (
        {
            "json_ordering": split((50, 0, 40, 0), (20, 1, 13, 0)),
            "whitespace": split((50, 0, 40, 0), (20, 0, 13, 0)),
            "content": split((50, 0, 40, 0), (20, 0, 13, 0)),
        },
        {"fp_rate"},
    ),
}


def gate_json(cli: Cli, repo: TestRepo, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli("gate", "--format", "json", *args, repo=repo)
    assert code in (0, 1), err
    return code, json.loads(out)


@pytest.mark.parametrize("case", list(DATASETS))
def test_each_single_criterion(repo: TestRepo, cli: Cli, case: str) -> None:
    spec, failing = DATASETS[case]
    d, r = build(repo, spec)
    code, doc = gate_json(cli, repo, "--dataset", str(d), "--results", str(r))
    (result,) = doc["results"]
    status = {c["name"]: c["status"] for c in result["criteria"]}
    failed = {name for name, s in status.items() if s != "PASS"}
    assert failed == failing, result["criteria"]
    assert code == (0 if not failing else 1)
    assert result["go"] is (not failing) and doc["go"] is (not failing)
    assert {"min_items", "kappa", "kappa_ci_low", "fp_rate", "budget"} <= set(status)


def test_budget_exceeded_by_missing_verdicts(repo: TestRepo, cli: Cli) -> None:
    d, r = build(repo, dict.fromkeys(TYPES, GOOD), drop=5)
    code, doc = gate_json(cli, repo, "--dataset", str(d), "--results", str(r))
    status = {c["name"]: c["status"] for c in doc["results"][0]["criteria"]}
    assert code == 1 and status["budget"] == "FAIL"
    assert {n for n, s in status.items() if s != "PASS"} == {"budget"}


JUDGE = """\
import json, sys
req = json.load(sys.stdin)
open(sys.argv[1], "a").write(req["id"] + "\\n")
same = req["before"].split() == req["after"].split()
print(json.dumps({"equivalent": same, "score": 0.9 if same else 0.1, "reason": "tokens"}))
"""


def llm_dataset(repo: TestRepo, n: int = 300) -> Path:
    rows = []
    for i in range(n):
        eq = i % 2 == 0
        before = f"value {i}\n"
        rows.append(
            {
                "id": f"mis_{i:012x}",
                "artifact_type": "text",
                "mismatch_type": "whitespace" if eq else "content",
                "label": "equivalent" if eq else "different",
                "before": before,
                "after": before.replace(" ", "   ") if eq else f"value {i + 1}\n",
            }
        )
    d = repo.root / ".phase2" / "labels.jsonl"
    d.parent.mkdir(exist_ok=True)
    d.write_text("".join(json.dumps(x) + "\n" for x in rows))
    return d


def llm_config(repo: TestRepo, max_calls: int) -> Path:
    script = repo.root / "judge.py"
    script.write_text(JUDGE)
    calls = repo.root / "calls.txt"
    cfg = repo.root / ".phase2" / "config.toml"
    cfg.parent.mkdir(exist_ok=True)
    judge = (
        "[judge]\n"
        f"command = {json.dumps([*STUB, str(script), str(calls)])}\n"
        f'max_calls = {max_calls}\nmodel = "stub-judge"\n'
    )
    cfg.write_text(judge)
    # the command runs because the user's own configuration names it too: a repository's
    # configuration alone never chooses what runs
    own = Path(os.environ["HOME"]) / ".config" / "phase2" / "config.toml"
    own.parent.mkdir(parents=True, exist_ok=True)
    own.write_text(judge)
    return calls


@pytest.mark.slow
def test_budget_exceeded_by_the_llm_judge(repo: TestRepo, cli: Cli) -> None:
    d = llm_dataset(repo)
    calls = llm_config(repo, max_calls=250)
    code, doc = gate_json(cli, repo, "--dataset", str(d), "--method", "llm_rubric")
    (result,) = doc["results"]
    status = {c["name"]: c["status"] for c in result["criteria"]}
    assert code == 1
    assert {n for n, s in status.items() if s != "PASS"} == {"budget"}
    budget = next(c for c in result["criteria"] if c["name"] == "budget")
    assert "budget exhausted: max_calls (250)" in budget["detail"]
    assert len(calls.read_text().splitlines()) == 250
    ev = json.loads((repo.root / ".phase2/state/evaluation.json").read_text())
    assert ev["methods"]["llm_rubric"]["budget"]["exhausted"] is True
    assert ev["methods"]["llm_rubric"]["unjudged"] == 50
    assert result["judge"]["model"] == "stub-judge"
    # the next run is served from the cache: the remaining 50 fit, the gate is GO
    code, doc = gate_json(cli, repo, "--dataset", str(d), "--method", "llm_rubric")
    assert code == 0, doc
    assert len(calls.read_text().splitlines()) == 300


def test_fp_bound_upper95_is_stricter(repo: TestRepo, cli: Cli) -> None:
    d, r = build(repo, DATASETS["pass"][0])
    code, doc = gate_json(
        cli, repo, "--dataset", str(d), "--results", str(r), "--fp-bound", "upper95"
    )
    fp = next(c for c in doc["results"][0]["criteria"] if c["name"] == "fp_rate")
    # 0 FP of 39: the one-sided 95% upper bound is 1 - 0.05 ** (1 / 39)
    assert fp["figure"] == pytest.approx(1 - 0.05 ** (1 / 39), rel=1e-9)
    assert fp["status"] == "FAIL" and code == 1
    assert doc["results"][0]["thresholds"]["fp_bound"] == "upper95"


def test_text_output_prints_each_criterion(repo: TestRepo, cli: Cli) -> None:
    d, r = build(repo, DATASETS["fp_2_5"][0])
    code, out, err = cli("gate", "--dataset", str(d), "--results", str(r), repo=repo)
    assert code == 1, err
    assert f"gate {METHOD}: NO-GO" in out
    assert "FAIL  fp_rate" in out and "0.0250 <= 0.02" in out
    assert "PASS  kappa " in out and "PASS  min_items" in out
    for name in ("kappa_ci_low", "type_kappa:content", "budget"):
        assert name in out


def test_prom_gauges_pass_promtool(repo: TestRepo, cli: Cli, tmp_path) -> None:
    d, r = build(repo, DATASETS["pass"][0])
    prom = tmp_path / "gate.prom"
    code, _, err = cli(
        "gate", "--dataset", str(d), "--results", str(r), "--prom", str(prom), repo=repo
    )
    assert code == 0, err
    text = prom.read_text()
    assert f'phase2_gate_passed{{method="{METHOD}"}} 1.0' in text
    assert f'phase2_gate_criterion_passed{{criterion="kappa",method="{METHOD}"}} 1.0' in text
    assert "phase2_breaker_tripped 0.0" in text
    promtool = require_tool("promtool")
    proc = subprocess.run(
        [promtool, "check", "metrics"], input=prom.read_bytes(), capture_output=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -------------------------------------------------------------------------------- policy


def test_gated_methods_follow_the_stored_gate(repo: TestRepo, cli: Cli) -> None:
    d, r = build(repo, DATASETS["pass"][0])
    cfg = load(repo.root)
    assert gated_methods(repo.root, cfg) == frozenset()
    assert gate_validity(repo.root, cfg, METHOD) == (False, "no gate result (run `phase2 gate`)")
    code, _ = gate_json(cli, repo, "--dataset", str(d), "--results", str(r))
    assert code == 0
    stored = json.loads((repo.root / ".phase2/gate" / f"{METHOD}.json").read_text())
    assert stored["go"] is True and stored["judge"] == {"method": METHOD, "threshold": 0.95}
    assert stored["dataset"]["path"] == ".phase2/labels.jsonl"
    assert gated_methods(repo.root, cfg) == frozenset({METHOD})

    # a new label invalidates it
    with d.open("a") as fh:
        fh.write(
            json.dumps(
                {
                    "id": "x",
                    "artifact_type": "json",
                    "mismatch_type": "content",
                    "label": "different",
                }
            )
            + "\n"
        )
    ok, why = gate_validity(repo.root, cfg, METHOD)
    assert not ok and "dataset" in why and "changed" in why
    assert gated_methods(repo.root, cfg) == frozenset()


def test_changed_threshold_or_config_invalidates_the_gate(repo: TestRepo, cli: Cli) -> None:
    d, r = build(repo, DATASETS["pass"][0])
    gate_json(cli, repo, "--dataset", str(d), "--results", str(r))
    assert gated_methods(repo.root, load(repo.root)) == frozenset({METHOD})
    (repo.root / ".phase2/config.toml").write_text("[methods.cosine_similarity]\nthreshold = 0.9\n")
    cfg = load(repo.root)
    ok, why = gate_validity(repo.root, cfg, METHOD)
    assert not ok and "configuration changed" in why
    assert gated_methods(repo.root, cfg) == frozenset()


def test_no_go_gate_and_deterministic_methods_never_count(repo: TestRepo, cli: Cli) -> None:
    d, r = build(repo, DATASETS["fp_2_5"][0])
    gate_json(cli, repo, "--dataset", str(d), "--results", str(r))
    cfg = load(repo.root)
    assert gate_validity(repo.root, cfg, METHOD) == (False, "the latest gate is NO-GO")
    d, r = build(repo, DATASETS["pass"][0], method="canonical_json")
    code, _ = gate_json(
        cli, repo, "--dataset", str(d), "--results", str(r), "--method", "canonical_json"
    )
    assert code == 0
    assert gated_methods(repo.root, cfg) == frozenset()


def test_gate_from_the_stored_evaluation(repo: TestRepo, cli: Cli) -> None:
    code, _, err = cli("gate", repo=repo)
    assert code == 2 and "no stored evaluation" in err
    d, r = build(repo, DATASETS["pass"][0])
    code, _, err = cli("judge", "eval", "--dataset", str(d), "--results", str(r), repo=repo)
    assert code == 0, err
    code, doc = gate_json(cli, repo)
    assert code == 0 and doc["results"][0]["method"] == METHOD
    # thresholds come from today's config; a changed config makes the evaluation stale
    (repo.root / ".phase2/config.toml").write_text("[gate]\nmin_items = 1000\n")
    code, doc = gate_json(cli, repo)
    status = {c["name"]: c["status"] for c in doc["results"][0]["criteria"]}
    assert code == 1
    assert status["min_items"] == "FAIL" and status["evaluation_current"] == "FAIL"


def test_gate_usage_errors(repo: TestRepo, cli: Cli) -> None:
    d, r = build(repo, DATASETS["pass"][0])
    code, _, err = cli("gate", "--results", str(r), repo=repo)
    assert code == 2 and "--results needs --dataset" in err
    code, _, err = cli(
        "gate", "--dataset", str(d), "--results", str(r), "--method", "other", repo=repo
    )
    assert code == 2 and "no results for method(s) other" in err
    code, _, err = cli("gate", "--dataset", str(d), "--fp-bound", "lower", repo=repo)
    assert code == 2 and "--fp-bound" in err
    gate_dir = repo.root / ".phase2/gate"
    gate_dir.mkdir(parents=True)
    (gate_dir / f"{METHOD}.json").write_text("{")
    with pytest.raises(UsageError, match=f".phase2/gate/{METHOD}.json: not JSON"):
        gated_methods(repo.root, load(repo.root))


# -------------------------------------------------------------------------------- breaker


def audit(n: int, rejected: bool) -> dict[str, Any]:
    return {
        "id": f"dec_{n:016x}",
        "decision": "audit",
        "audit": "rejected" if rejected else "approved",
    }


def test_breaker_counts_the_last_50_audits_since_the_last_reset() -> None:
    events = [audit(i, i < 4) for i in range(60)]  # 4 rejections, all older than the window
    assert not breaker_from_events(events).tripped
    events = [audit(i, i % 20 == 0) for i in range(60)]  # 0, 20, 40 in window only 20, 40
    assert breaker_from_events(events).rejected == 2
    three = [audit(i, i in (10, 20, 30)) for i in range(50)]
    assert not breaker_from_events(three).tripped
    four = [*three, audit(99, True)]
    state = breaker_from_events(four)
    assert state.tripped and state.rejected == 4 and state.audited == 50
    assert "rejected 4 of the last 50" in (state.reason or "")
    reset = [*four, {"id": "dec_ffffffffffffffff", "decision": "reset-breaker"}]
    assert not breaker_from_events(reset).tripped
    # labels stand in for the audit field
    assert breaker_from_events(
        [{"id": f"dec_{i:016x}", "decision": "audit", "label": "different"} for i in range(4)]
    ).tripped


def decision(n: int, **extra: Any) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "schema": "ResolutionDecision.v1",
        "id": f"dec_{n:016x}",
        "ts": "2026-01-01T00:00:00.000Z",
        "run_id": "run_000000000001",
        "env": "local",
        "mismatch_id": f"mis_{n:012x}",
        "plan_id": None,
        "action": "restore_base",
        "decision": "audit",
        "user": {"id": "auditor", "role": "maintainer"},
        "ui": {"rich": False, "version": "0", "mode": "audit"},
        "config_fingerprint": "0" * 64,
        "transform": None,
        "hashes": {"before": "a" * 40, "after": "b" * 40},
        "path": f"out/{n}.json",
        "label": None,
        "commit": None,
        "methods": [],
    }
    ev.update(extra)
    return ev


def test_reset_breaker_is_logged_and_rearms(repo: TestRepo, cli: Cli) -> None:
    log = DecisionLog(repo.root)
    code, out, _ = cli("gate", "--reset-breaker", repo=repo)
    assert code == 0 and "not tripped" in out
    log.append([decision(i, audit="rejected", label="different") for i in range(4)])
    reason = breaker_tripped(repo.root)
    assert reason is not None and "circuit breaker tripped" in reason
    assert json.loads((repo.root / BREAKER_FILE).read_text())["tripped"] is True
    # every gate run says why auto-apply is off
    d, r = build(repo, DATASETS["pass"][0])
    code, out, _ = cli("gate", "--dataset", str(d), "--results", str(r), repo=repo)
    assert code == 0 and "notice: circuit breaker tripped" in out

    code, out, err = cli("gate", "--reset-breaker", "--user", "alice", repo=repo)
    assert code == 0, err
    assert "re-armed" in out
    events = [line.event for line in log.read()]  # schema-validated on read
    last = events[-1]
    assert last["decision"] == "reset-breaker" and last["action"] == "reset_breaker"
    assert last["user"]["id"] == "alice"
    assert last["mismatch_id"].startswith("mis_")
    assert breaker_tripped(repo.root) is None
    assert json.loads((repo.root / BREAKER_FILE).read_text())["tripped"] is False


@pytest.mark.parametrize(
    ("value", "on"),
    [("", False), ("0", False), ("false", False), ("1", True), ("yes", True), ("true", True)],
)
def test_kill_switch(value: str, on: bool) -> None:
    env = {"PHASE2_DISABLE_AUTORESOLVE": value} if value else {}
    assert (kill_switch(env) is not None) is on


def test_default_gates_only_statistical_judges(repo: TestRepo, cli: Cli) -> None:
    d = repo.root / ".phase2" / "labels.jsonl"
    d.parent.mkdir()
    rows = [
        {"id": f"i{i}", "artifact_type": "json", "mismatch_type": "json_ordering",
         "label": "equivalent", "before": '{"a":1,"b":2}', "after": '{"b":2,"a":1}'}
        for i in range(5)
    ]  # fmt: skip
    d.write_text("".join(json.dumps(r) + "\n" for r in rows))
    # only deterministic methods evaluated: nothing to gate, said as such (the help and the
    # README promise statistical or external judges only), and nothing is stored
    code, out, err = cli("gate", "--dataset", str(d), "--bootstrap", "20", repo=repo)
    assert code == 2 and out == ""
    assert err.startswith("phase2: error: nothing to gate: the evaluation holds only "
                          "deterministic methods (canonical_json, exact, line_endings, numeric, "
                          "whitespace)")  # fmt: skip
    assert "--method" in err and len(err.strip().splitlines()) == 1
    assert not (repo.root / ".phase2" / "gate").exists()
    assert not (repo.root / ".phase2" / "state" / "evaluation.json").exists()
    # naming them still gates them: the user asked
    code, doc = gate_json(cli, repo, "--dataset", str(d), "--bootstrap", "20", "--method", "exact")
    assert [r["method"] for r in doc["results"]] == ["exact"]
    (repo.root / ".phase2/config.toml").write_text(
        '[methods]\nenabled = ["exact", "cosine_similarity"]\n'
    )
    code, doc = gate_json(cli, repo, "--dataset", str(d), "--bootstrap", "20")
    assert [r["method"] for r in doc["results"]] == ["cosine_similarity"] and code == 1
