"""Figures and report wording that tell the truth, each through the real CLI on a real repo:
kappa intervals inside kappa's range, the gate's default selection as its help says, decisions
worded as the trust state is (unverified without a ``[trust]`` table, a rejected plan shown as
rejected), and one decision author whatever the command."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from phase2_git.store.config import load
from phase2_git.store.decisions import DecisionLog
from tests.conftest import Cli, TestRepo

# ---------------------------------------------------------------------------------- helpers


def labelled(
    repo: TestRepo, cells: dict[str, tuple[int, int, int, int]], method: str = "ext"
) -> tuple[Path, Path]:
    """A dataset and a results file with exactly ``cells`` (tp, fp, tn, fn) per mismatch type,
    every item in the test split."""
    items: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for mtype, (tp, fp, tn, fn) in cells.items():
        for label, pred, count in ((1, 1, tp), (0, 1, fp), (0, 0, tn), (1, 0, fn)):
            for _ in range(count):
                iid = f"mis_{len(items):012x}"
                items.append(
                    {
                        "id": iid,
                        "artifact_type": "json",
                        "mismatch_type": mtype,
                        "label": "equivalent" if label else "different",
                        "split": "test",
                    }
                )
                results.append(
                    {
                        "id": iid,
                        "method": method,
                        "predicted": "equivalent" if pred else "different",
                    }
                )
    d = repo.root / "labels.jsonl"
    d.write_text("".join(json.dumps(i) + "\n" for i in items))
    r = repo.root / "results.jsonl"
    r.write_text("".join(json.dumps(x) + "\n" for x in results))
    return d, r


def intervals(fig: dict[str, Any]) -> list[tuple[str, list[float]]]:
    """Every kappa interval of one method's figures, with where it is."""
    out = [("kappa_ci", fig["kappa_ci"]), ("kappa_ci_asymptotic", fig["kappa_ci_asymptotic"])]
    out.append(("test", fig["test"]["kappa_ci"]))
    for group in ("by_type", "by_artifact_type"):
        out += [(f"{group}.{k}", b["kappa_ci"]) for k, b in fig[group].items()]
    return [(where, ci) for where, ci in out if ci is not None]


# ------------------------------------------------------------------ 1. kappa CIs in [-1, 1]


def test_judge_eval_never_prints_a_kappa_interval_outside_its_range(
    repo: TestRepo, cli: Cli
) -> None:
    # 9 items with one miss: kappa 0.769, whose normal interval alone runs to 1.184; and a
    # reversed judge (kappa -0.667) whose normal interval alone runs to -1.229
    d, r = labelled(repo, {"json_ordering": (5, 0, 3, 1), "whitespace": (1, 2, 0, 3)})
    code, out, err = cli(
        "judge", "eval", "--dataset", str(d), "--results", str(r), "--format", "json",
        "--bootstrap", "300", repo=repo,
    )  # fmt: skip
    assert code == 0, err
    fig = json.loads(out)["methods"]["ext"]
    shown = intervals(fig)
    assert len(shown) >= 6
    for where, (low, high) in shown:
        assert -1.0 <= low <= high <= 1.0, (where, low, high)
    by_type = fig["by_type"]
    assert by_type["json_ordering"]["kappa_ci"][1] == 1.0  # the bootstrap, kept at 1
    # the asymptotic interval of the whole (kappa defined) holds the estimate
    low, high = fig["kappa_ci_asymptotic"]
    assert low <= fig["kappa"] <= high

    d, r = labelled(repo, {"json_ordering": (5, 0, 3, 1)})
    code, out, err = cli(
        "judge", "eval", "--dataset", str(d), "--results", str(r), "--bootstrap", "300",
        repo=repo,
    )  # fmt: skip
    assert code == 0, err
    assert "asymptotic [0.354, 1.000]" in out
    for low_s, high_s in re.findall(r"\[(-?\d+\.\d+), (-?\d+\.\d+)\]", out):
        assert -1.0 <= float(low_s) <= float(high_s) <= 1.0, out


# ---------------------------------------------- 4. decisions worded as the trust state is


def feature(repo: TestRepo) -> None:
    """main: two JSON files; feat: one reordered (noise), one changed (a real change)."""
    repo.write("golden/g.json", b'{"a": 1, "b": 2}\n')
    repo.write("eval/real.json", b'{"accuracy": 0.81}\n')
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    repo.write("golden/g.json", b'{"b": 2, "a": 1}\n')
    repo.write("eval/real.json", b'{"accuracy": 0.99}\n')
    repo.commit("regen")


def reports(cli: Cli, repo: TestRepo, tmp_path: Path, *extra: str) -> dict[str, Any]:
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    code, text, err = cli(
        "diff", "main", "feat", "--junit", str(junit), "--summary", str(summary), *extra,
        repo=repo,
    )  # fmt: skip
    assert code in (0, 1), err
    code_j, out, err = cli("diff", "main", "feat", "--format", "json", *extra, repo=repo)
    assert code_j == code, err
    return {
        "code": code,
        "text": text,
        "junit": junit.read_text(),
        "markdown": summary.read_text(),
        "json": json.loads(out),
    }


def by_path(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["path"]: m for m in doc["mismatches"]}


def md_row(markdown: str, path: str) -> list[str]:
    (row,) = [line for line in markdown.splitlines() if line.startswith(f"| {path} |")]
    return [cell.strip() for cell in row.strip("|").split("|")]


def test_without_a_trust_table_no_report_calls_an_approval_trusted(
    repo: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    feature(repo)
    code, _, err = cli("approve", "eval/real.json", "--base", "main", repo=repo)
    assert code == 0, err
    got = reports(cli, repo, tmp_path)
    assert got["code"] == 0  # an unverified approval still counts: the README says so
    unverified = "approvals are unverified: the trust side"
    assert any(n.startswith(unverified) for n in got["json"].get("notices", []))
    decision = by_path(got["json"])["eval/real.json"]["decision"]
    assert decision["trusted"] is True and decision["verified"] is False
    # JUnit: the same run must not say "trusted"
    assert "(trusted" not in got["junit"]
    assert "decision: approve (counted, unverified)" in got["junit"]
    assert "why: no [trust] table on the trust side" in got["junit"]
    # Markdown and text: approved, but unverified
    assert md_row(got["markdown"], "eval/real.json")[4] == "yes (unverified)"
    assert "manual (approved, unverified)" in got["text"]


def test_require_signed_false_is_unverified_too(
    repo: TestRepo, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write(
        ".phase2/config.toml",
        '[trust]\nreviewers = ["Test User <test@example.com>"]\nrequire_signed = false\n',
    )
    feature(repo)
    assert cli("approve", "eval/real.json", "--base", "main", repo=repo).code == 0
    got = reports(cli, repo, tmp_path)
    decision = by_path(got["json"])["eval/real.json"]["decision"]
    assert decision["trusted"] is True and decision["verified"] is False
    assert "decision: approve (counted, unverified)" in got["junit"]
    assert md_row(got["markdown"], "eval/real.json")[4] == "yes (unverified)"


def test_a_rejected_plan_shows_as_rejected_in_every_report(
    repo: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    feature(repo)
    code, _, err = cli("reject", "golden/g.json", "--base", "main", repo=repo)
    assert code == 0, err
    code, _, err = cli("reject", "eval/real.json", "--base", "main", repo=repo)
    assert code == 0, err
    got = reports(cli, repo, tmp_path, "--fail-on", "any")
    noise = by_path(got["json"])["golden/g.json"]
    assert noise["decision"]["decision"] == "reject"
    assert noise["plan"]["safe"] is False and noise["plan"]["action"] == "restore_base"
    assert noise["plan"]["reason"].startswith("rejected by Test User <test@example.com>")
    assert got["json"]["summary"]["safe"] == 0
    # Markdown: the noise table says rejected, never "yes" (safe to apply)
    row = md_row(got["markdown"], "golden/g.json")
    assert row[2] == "restore_base" and row[3] == r"rejected by Test User &lt;test@example.com&gt;"
    real = md_row(got["markdown"], "eval/real.json")
    assert real[4] == "rejected"
    # text: the plan cell, and the summary no longer counts it as safe to apply
    assert "restore_base (rejected)" in got["text"] and "restore_base (safe)" not in got["text"]
    assert "(0 safe to apply" in got["text"]
    # JUnit: rejected, not safe; a rejected real change is not called an untrusted approval
    assert "plan: restore_base, transform restore_base.v1, rejected" in got["junit"]
    assert "decision: reject (the plan is not to be applied)" in got["junit"]
    assert "its approval is not trusted" not in got["junit"]
    assert "unresolved noise whose plan was rejected" in got["junit"]
    # no notice about approvals: nothing was approved
    assert not any("approv" in n for n in got["json"].get("notices", []))


def test_github_annotations_word_a_rejected_plan(
    repo: TestRepo, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feature(repo)
    assert cli("reject", "golden/g.json", "--base", "main", repo=repo).code == 0
    assert cli("reject", "eval/real.json", "--base", "main", repo=repo).code == 0
    code, _, err = cli("diff", "main", "feat", "--annotations", repo=repo)
    assert code == 1, err
    lines = [line for line in err.splitlines() if line.startswith("::")]  # annotations: stderr
    (noise,) = [line for line in lines if "golden/g.json" in line]
    assert "plan restore_base, rejected by Test User <test@example.com>: not to be" in noise
    assert "safe to apply" not in noise
    (real,) = [line for line in lines if "eval/real.json" in line]
    assert "(rejected by Test User" in real and "not trusted" not in real


# -------------------------------------------------------------------- 5. one author, one role


def test_every_command_records_the_same_default_author_and_role(repo: TestRepo, cli: Cli) -> None:
    feature(repo)
    assert cli("approve", "eval/real.json", "--base", "main", repo=repo).code == 0
    assert cli("reject", "golden/g.json", "--base", "main", repo=repo).code == 0
    # trip the breaker with four rejected audits, then reset it
    log = DecisionLog(repo.root)
    events = [line.event for line in log.read()]
    template = events[-1]
    audits = []
    for i in range(4):
        audits.append(
            {**template, "id": f"dec_{i:016x}", "decision": "audit", "audit": "rejected",
             "label": "different", "refers_to": template["id"], "commit": None}
        )  # fmt: skip
    log.append(audits)
    code, out, err = cli("gate", "--reset-breaker", repo=repo)
    assert code == 0 and "re-armed" in out, err
    by_kind = {e["decision"]: e["user"] for e in (line.event for line in log.read())}
    want = {"id": "Test User <test@example.com>", "role": "developer"}
    assert by_kind["approve"] == want
    assert by_kind["reject"] == want
    assert by_kind["reset-breaker"] == want


def test_the_role_comes_from_the_same_place_for_every_command(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    feature(repo)
    monkeypatch.setenv("PHASE2_ROLE", "release")
    assert cli("approve", "eval/real.json", "--base", "main", repo=repo).code == 0
    code, _, err = cli("gate", "--reset-breaker", "--role", "maintainer", repo=repo)
    assert code == 0, err  # not tripped: nothing logged, but --role is accepted
    roles = {
        line.event["decision"]: line.event["user"]["role"] for line in DecisionLog(repo.root).read()
    }
    assert roles["approve"] == "release"


# ------------------------------------------------ 3. --calibrate says where and how, or why not


def scored(repo: TestRepo, *, one_class: bool = False) -> tuple[Path, Path]:
    """60 labelled items (no split given: 30% go to test) and cosine_similarity results with
    scores that separate the labels fairly well."""
    rng = random.Random(3)
    items: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for i in range(60):
        label = True if one_class else rng.random() < 0.5
        score = round(min(1.0, max(0.0, (0.8 if label else 0.4) + rng.gauss(0, 0.15))), 3)
        iid = f"mis_{i:012x}"
        items.append(
            {
                "id": iid,
                "artifact_type": "json",
                "mismatch_type": "json_ordering",
                "label": "equivalent" if label else "different",
            }
        )
        results.append(
            {
                "id": iid,
                "method": "cosine_similarity",
                "predicted": "equivalent" if score >= 0.95 else "different",
                "score": score,
            }
        )
    d = repo.root / "labels.jsonl"
    d.write_text("".join(json.dumps(x) + "\n" for x in items))
    r = repo.root / "results.jsonl"
    r.write_text("".join(json.dumps(x) + "\n" for x in results))
    return d, r


def test_calibrate_says_where_the_threshold_is_and_the_line_that_uses_it(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo.root)  # the dataset as a user names it, relative
    scored(repo)
    args = ("--dataset", "labels.jsonl", "--results", "results.jsonl", "--bootstrap", "50")
    code, out, err = cli("judge", "eval", *args, "--calibrate", "--format", "json", repo=repo)
    assert code == 0, err
    fig = json.loads(out)["methods"]["cosine_similarity"]
    cal = fig["calibration"]
    t = cal["threshold"]
    assert t == fig["threshold"] and 0.0 < t < 1.0 and cal["degenerate"] is None
    assert cal["configured"] == 0.95 and cal["train_items"] > 0
    assert cal["config"] == f"[methods.cosine_similarity] threshold = {t!r}"
    assert "never in the configuration" in cal["stored"]
    code, out, err = cli("judge", "eval", *args, "--calibrate", repo=repo)
    assert code == 0, err
    (note,) = [line for line in out.splitlines() if "note: calibration:" in line]
    assert f"threshold {t:g} maximises kappa" in note
    assert f"a score >= {t:g} is called equivalent" in note
    assert "kept only in .phase2/state/evaluation.json" in note
    assert f"put `{cal['config']}` in .phase2/config.toml" in note
    assert "then run `phase2 gate --dataset labels.jsonl` (without --calibrate)" in note
    assert "until then auto-apply keeps the configured threshold 0.95" in note
    # the configuration still says 0.95: nothing was written there
    assert load(repo.root).methods.cosine_threshold == 0.95
    # the line, as given, is valid configuration that sets exactly that threshold
    table, line = cal["config"][1:].split("] ", 1)
    repo.write(".phase2/config.toml", f"[{table}]\n{line}\n")
    assert load(repo.root).methods.cosine_threshold == t
    # and the command the note names gates at it: the stored gate is bound to threshold t
    code, out, err = cli("gate", "--dataset", "labels.jsonl", "--results", "results.jsonl",
                         "--bootstrap", "50", "--format", "json", repo=repo)  # fmt: skip
    assert code in (0, 1), err
    assert json.loads(out)["results"][0]["judge"]["threshold"] == t


def test_gate_calibrate_says_it_too(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo.root)
    scored(repo)
    code, out, err = cli("gate", "--dataset", "labels.jsonl", "--results", "results.jsonl",
                         "--bootstrap", "50", "--calibrate", repo=repo)  # fmt: skip
    assert code in (0, 1), err
    assert "notice: cosine_similarity: calibration: threshold " in out
    assert "put `[methods.cosine_similarity] threshold = " in out


def test_a_degenerate_calibration_is_called_out_and_not_used(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo.root)
    scored(repo, one_class=True)  # every label 'equivalent': the train split has one class
    args = ("--dataset", "labels.jsonl", "--results", "results.jsonl", "--bootstrap", "50")
    code, out, err = cli("judge", "eval", *args, "--calibrate", "--format", "json", repo=repo)
    assert code == 0, err
    fig = json.loads(out)["methods"]["cosine_similarity"]
    cal = fig["calibration"]
    assert cal["threshold"] is None and cal["config"] is None
    assert cal["rejected_threshold"] == 1.0  # the highest score: what was picked silently
    assert "all labelled 'equivalent'" in cal["degenerate"]
    assert "threshold" not in fig  # the figures are the results as given, not at 1.0
    code, out, err = cli("judge", "eval", *args, "--calibrate", repo=repo)
    assert code == 0, err
    assert "note: calibration: DEGENERATE, not proposed: the " in out
    assert "(threshold 1.0" not in out and "put `" not in out


def test_calibrate_outside_a_repository_says_nothing_is_stored(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    scored(TestRepo(folder))
    code, out, err = cli(
        "judge", "eval", "--dataset", str(folder / "labels.jsonl"), "--results",
        str(folder / "results.jsonl"), "--bootstrap", "50", "--calibrate", repo=folder,
    )  # fmt: skip
    assert code == 0, err
    assert "not stored anywhere (no repository; --output keeps the JSON)" in out


# ------------------------------------------- every renderer, every decision state (property)

DECISIONS: dict[str, dict[str, Any] | None] = {
    "none": None,
    "verified": {"decision": "approve", "trusted": True, "verified": True},
    "unverified": {"decision": "approve", "trusted": True, "verified": False},
    "untrusted": {"decision": "approve", "trusted": False, "verified": False},
    "rejected": {"decision": "reject", "trusted": False},
}


def test_every_report_words_each_decision_state_alike(
    repo: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    """Over a real run's document, any mix of decision states on its mismatches: JUnit,
    Markdown, the text table and the annotations name each as it is, and none calls an
    unverified approval trusted or a rejected plan safe."""
    import io

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from phase2_git.reports import github, junit, markdown, text

    feature(repo)
    code, out, err = cli("diff", "main", "feat", "--format", "json", repo=repo)
    assert code == 1, err
    base = json.loads(out)
    paths = [m["path"] for m in base["mismatches"]]

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.sampled_from(sorted(DECISIONS)), min_size=len(paths), max_size=len(paths)))
    def check(states: list[str]) -> None:
        doc = json.loads(out)
        for m, state in zip(doc["mismatches"], states, strict=True):
            d = DECISIONS[state]
            if d is not None:
                m["decision"] = {"id": "dec_0000000000000001", "by": "Eve <e@x>", "why": "w", **d}
                if state == "rejected":
                    m["plan"]["safe"] = False  # as core.approvals.attach makes it
        xml = junit.render(doc)
        md = markdown.render(doc)
        buf = io.StringIO()
        text.render(doc, base_spec="main", head_spec="feat", config_source="defaults",
                    file=buf, color=False)  # fmt: skip
        table = buf.getvalue()
        notes = "\n".join(github.annotation_lines(doc))
        assert "(trusted)" not in xml
        for m, state in zip(doc["mismatches"], states, strict=True):
            cells = md_row(md, m["path"])
            (row,) = [line for line in table.splitlines() if line.startswith(m["path"])]
            if state == "unverified":
                assert "approve (counted, unverified)" in xml
                assert "approved, unverified" in row
            if state == "rejected":
                assert "reject (the plan is not to be applied)" in xml
                assert "(rejected)" in row and "(safe)" not in row
                assert "safe to apply" not in "".join(
                    n for n in notes.splitlines() if m["path"] in n
                )
            if m["equivalent"]:
                assert cells[3] != "yes" or state != "rejected"
            else:
                assert (
                    cells[4]
                    == {
                        "none": "no",
                        "verified": "yes",
                        "unverified": "yes (unverified)",
                        "untrusted": "untrusted",
                        "rejected": "rejected",
                    }[state]
                )

    check()
    assert paths == sorted(paths) and len(paths) == 2 and base["summary"]["real"] == 1
