"""Attacks through configuration: a pull request's own configuration switching detection off,
a pull request choosing the base whose [trust] applies, and a pull request's judge command
running on a reviewer's machine. Each reproduces the attack through the commands a user or CI
types, on real repositories."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from phase2_git.store import schemas
from tests.conftest import STUB, Cli, TestRepo
from tests.hostile_support import record
from tests.test_junit import validate_junit
from tests.test_trust import UNVERIFIED

ADA = ("Ada Reviewer", "ada@example.com")
MALLORY = ("Mallory", "mallory@example.com")
TRUST = '[trust]\nreviewers = ["Ada Reviewer <ada@example.com>"]\nrequire_signed = false\n'
# a pull request that turns detection off: nothing is an artifact, any float is "noise"
SWITCH_OFF = '[artifacts]\nexclude = ["**"]\n[methods.numeric]\nrel_tol = 1.0\n'


def as_user(monkeypatch: pytest.MonkeyPatch, who: tuple[str, str]) -> None:
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", who[0])
        monkeypatch.setenv(f"GIT_{role}_EMAIL", who[1])


def ci_checkout(repo: TestRepo, target: str, pr: str) -> None:
    """What actions/checkout gives a pull_request run: the synthetic merge commit, detached
    (its working tree holds the pull request's files, configuration included)."""
    repo.git("checkout", "-q", "--detach", target)
    repo.git("merge", "-q", "--no-ff", "-m", "Merge pr", pr)


def json_diff(cli: Cli, repo: TestRepo, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli("diff", *args, "--format", "json", repo=repo)
    assert code in (0, 1), err
    return code, json.loads(out)


def by_path(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["path"]: m for m in doc["mismatches"]}


# ================================================================ item 2: the PR's own config


@pytest.fixture
def switched_off(repo: TestRepo) -> TestRepo:
    """main holds a metric; the pull request moves it 0.81 → 0.10 and commits SWITCH_OFF."""
    repo.write("eval/results.json", b'{"accuracy": 0.81}\n')
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "pr")
    repo.write("eval/results.json", b'{"accuracy": 0.10}\n')
    repo.write(".phase2/config.toml", SWITCH_OFF)
    repo.commit("pr: regenerate, and a configuration")
    return repo


def test_item2_pr_config_does_not_switch_detection_off(
    switched_off: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    repo = switched_off
    ci_checkout(repo, "main", "pr")  # CI's working tree: the PR's configuration
    junit, summary = tmp_path / "j.xml", tmp_path / "s.md"
    code, doc = json_diff(
        cli, repo, "main", "pr", "--fail-on", "real", "--junit", str(junit),
        "--summary", str(summary),
    )  # fmt: skip
    assert code == 1, doc
    found = by_path(doc)
    # the metric is a real change, judged with main's settings (rel_tol 1e-9)
    assert found["eval/results.json"]["mismatch_type"] == "content"
    # the configuration change itself is a real change to review
    cfg = found[".phase2/config.toml"]
    assert cfg["mismatch_type"] == "added" and cfg["plan"]["action"] == "manual"
    assert not cfg["equivalent"] and doc["summary"]["failing"] == 2
    notice = next(n for n in doc["notices"] if "changes phase2's configuration" in n)
    assert "not in force" in notice and "phase2 approve .phase2/config.toml" in notice
    # every output says so
    assert '<property name="notice.1" value="the head side changes phase2' in junit.read_text()
    validate_junit(junit)
    schemas.check(doc, "Phase2Diff.v1", "diff output")
    assert "changes phase2" in summary.read_text()
    code, out, _ = cli("diff", "main", "pr", repo=repo)
    assert code == 1 and "note: the head side changes phase2's configuration" in out
    from phase2_git.store.config import resolve

    assert f"config {resolve({}, 'defaults').fingerprint[:12]} (main: defaults)" in out
    code, out, _ = cli("diff", "main", "pr", "--format", "markdown", repo=repo)
    assert code == 1 and "> the head side changes phase2" in out
    record("attacks", "item2: PR config switches detection off", True)


def test_item2_numeric_tolerance_alone_does_not_make_noise(repo: TestRepo, cli: Cli) -> None:
    repo.write("eval/results.json", b'{"accuracy": 0.81}\n')
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "pr")
    repo.write("eval/results.json", b'{"accuracy": 0.10}\n')
    repo.write("pyproject.toml", "[tool.phase2.methods.numeric]\nrel_tol = 1.0\n")
    repo.commit("pr")
    ci_checkout(repo, "main", "pr")
    code, doc = json_diff(cli, repo, "main", "pr", "--fail-on", "real")
    found = by_path(doc)
    assert code == 1
    assert found["eval/results.json"]["mismatch_type"] == "content"
    # pyproject.toml is an artifact anyway; its [tool.phase2] change is reviewed, not judged
    assert found["pyproject.toml"]["plan"]["action"] == "manual"
    assert found["pyproject.toml"]["mismatch_type"] == "added"
    assert any("pyproject.toml" in n and "changes phase2's" in n for n in doc["notices"])
    record("attacks", "item2: PR [tool.phase2] rel_tol makes a real change noise", True)


def test_item2_config_change_approval_binds_to_its_blobs(
    switched_off: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = switched_off
    repo.git("checkout", "-q", "main")
    repo.write(".phase2/config.toml", TRUST)
    repo.commit("main: trust")
    repo.git("checkout", "-q", "pr")
    repo.git("merge", "-q", "--no-edit", "-X", "theirs", "main")
    # the PR keeps main's [trust] and adds its own switch
    repo.write(".phase2/config.toml", TRUST + SWITCH_OFF)
    repo.commit("pr: switch")
    code, doc = json_diff(cli, repo, "main", "pr", "--fail-on", "real")
    first = by_path(doc)[".phase2/config.toml"]
    assert code == 1 and first["mismatch_type"] == "content"
    # the id is bound to content: the same on every run
    _, again = json_diff(cli, repo, "main", "pr", "--fail-on", "real")
    assert by_path(again)[".phase2/config.toml"]["id"] == first["id"]
    # Mallory approves her own configuration: not trusted
    as_user(monkeypatch, MALLORY)
    code, _, err = cli("approve", ".phase2/config.toml", "--base", "main", repo=repo)
    assert code == 0, err
    _, doc = json_diff(cli, repo, "main", "pr", "--fail-on", "real")
    mine = by_path(doc)[".phase2/config.toml"]
    assert mine["decision"]["trusted"] is False
    # Ada, a listed reviewer, approves it (and the metric): CI passes
    as_user(monkeypatch, ADA)
    code, out, err = cli(
        "approve", ".phase2/config.toml", "eval/results.json", "--base", "main", repo=repo
    )
    assert code == 0, err
    assert "note: the head side changes phase2's configuration" in out
    code, doc = json_diff(cli, repo, "main", "pr", "--fail-on", "real")
    assert code == 0, doc
    assert by_path(doc)[".phase2/config.toml"]["decision"]["trusted"] is True
    # the approval holds for those blobs only: another change needs another decision
    as_user(monkeypatch, MALLORY)
    repo.write(".phase2/config.toml", TRUST + SWITCH_OFF + "[policy]\nmode = 'shadow'\n")
    repo.commit("pr: one more")
    code, doc = json_diff(cli, repo, "main", "pr", "--fail-on", "real")
    assert code == 1 and by_path(doc)[".phase2/config.toml"]["decision"] is None
    record("attacks", "item2: config change needs a trusted approval bound to its blobs", True)


def test_item2_a_comment_is_not_a_configuration_change(repo: TestRepo, cli: Cli) -> None:
    repo.write(".phase2/config.toml", "[policy]\nmode = 'auto'\n")
    repo.write("a.json", b'{"a": 1}\n')
    repo.commit("base")
    repo.write(".phase2/config.toml", "# reviewed\n[policy]\nmode = 'auto'\n")
    repo.commit("comment")
    code, doc = json_diff(cli, repo, "HEAD~1", "HEAD")
    assert code == 0 and doc["mismatches"] == [] and "notices" not in doc


def test_item2_invalid_head_config_is_a_change_not_an_error(repo: TestRepo, cli: Cli) -> None:
    repo.write("a.json", b'{"a": 1}\n')
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "pr")
    repo.write(".phase2/config.toml", "[artifacts\nexclude = \x1b[31m\n")
    repo.write("a.json", b'{"a": 2}\n')
    repo.commit("pr: broken configuration")
    code, doc = json_diff(cli, repo, "main", "pr", "--fail-on", "real")
    assert code == 1
    assert by_path(doc)[".phase2/config.toml"]["plan"]["action"] == "manual"
    assert by_path(doc)["a.json"]["mismatch_type"] == "content"
    assert any("configuration is not valid" in n for n in doc["notices"])
    code, out, _ = cli("diff", "main", "pr", repo=repo)
    assert "\x1b" not in out
    record("attacks", "item2: PR with an invalid configuration still gets a report", True)


def test_item2_worktree_head_uses_the_worktree_config_and_says_so(repo: TestRepo, cli: Cli) -> None:
    repo.write("eval/results.json", b'{"accuracy": 0.81}\n')
    repo.commit("base")
    repo.write("eval/results.json", b'{"accuracy": 0.10}\n')
    repo.write(".phase2/config.toml", SWITCH_OFF)  # a developer's own, uncommitted
    code, doc = json_diff(cli, repo)  # HEAD vs :worktree
    assert code == 0 and doc["mismatches"] == []
    (notice,) = doc["notices"]
    assert "differs from that of HEAD (the base side)" in notice
    code, doc = json_diff(cli, repo, "--staged")
    assert code == 0 and any("differs from that of HEAD" in n for n in doc["notices"])


def test_item2_trust_from_puts_its_config_in_force_on_a_worktree_head(
    switched_off: TestRepo, cli: Cli
) -> None:
    """A CI job comparing with the working tree (a PR checked out) names the trusted commit:
    its configuration is in force, the PR's only makes a notice."""
    repo = switched_off
    code, doc = json_diff(cli, repo, "main", "--trust-from", "main", "--fail-on", "real")
    assert code == 1 and by_path(doc)["eval/results.json"]["mismatch_type"] == "content"
    assert any("differs from that of main (--trust-from), which is in" in n for n in doc["notices"])


def test_item2_a_broken_base_config_does_not_stop_a_developer(repo: TestRepo, cli: Cli) -> None:
    repo.write("a.json", b'{"a": 1}\n')
    repo.write(".phase2/config.toml", "[policy\n")
    repo.commit("broken")
    repo.write(".phase2/config.toml", "[policy]\nmode = 'auto'\n")  # being fixed
    repo.write("a.json", b'{"a":  1}\n')
    code, doc = json_diff(cli, repo)
    assert code == 0 and any("base side's configuration is not valid" in n for n in doc["notices"])
    # two commits: the base's configuration is in force, and it must be valid
    code, _, err = cli("diff", "HEAD", "HEAD", repo=repo)
    assert code == 2 and "HEAD:.phase2/config.toml: invalid TOML" in err


def test_item2_explicit_config_is_honoured_with_a_notice(
    switched_off: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    own = tmp_path / "ci.toml"
    own.write_text("[methods.numeric]\nrel_tol = 1.0\n")
    code, doc = json_diff(cli, switched_off, "main", "pr", "--config", str(own))
    assert any(f"--config {own} is in force" in n for n in doc["notices"])
    assert by_path(doc)["eval/results.json"]["mismatch_type"] == "numeric_precision"
    # the head's configuration change is still listed for review
    assert code == 1 and ".phase2/config.toml" in by_path(doc)


def test_item2_resolve_and_shards_use_the_base_config(
    switched_off: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = switched_off
    monkeypatch.setenv("CI", "true")  # nothing is prompted: the plans are listed
    code, out, err = cli("resolve", "main", repo=repo)
    assert code == 1, out + err
    assert "eval/results.json" in out and ".phase2/config.toml" in out
    assert "note: the head side changes phase2's configuration" in out
    # each shard has the configuration change at most once, and the merged report once
    paths = []
    for k in (1, 2, 3):
        _, doc = json_diff(cli, repo, "main", "pr", "--shard", f"{k}/3")
        paths += [m["path"] for m in doc["mismatches"]]
    assert sorted(paths) == [".phase2/config.toml", "eval/results.json"]
    record("attacks", "item2: resolve and shards use the base configuration", True)


# ================================================================ item 3: whose [trust]


def old_branch_self_approval(repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> str:
    """The PR branched before [trust] existed on main; its author approves her own change."""
    repo.write("eval/results.json", b'{"accuracy": 0.81}\n')
    fork = repo.commit("base: no [trust] yet")
    repo.git("checkout", "-q", "-b", "pr")
    as_user(monkeypatch, MALLORY)
    repo.write("eval/results.json", b'{"accuracy": 0.99}\n')
    repo.commit("pr: better numbers")
    cli("approve", "eval/results.json", "--base", fork, repo=repo)
    repo.git("checkout", "-q", "main")
    as_user(monkeypatch, ADA)
    repo.write(".phase2/config.toml", TRUST)
    repo.commit("main: only Ada approves")
    repo.git("checkout", "-q", "pr")
    return fork


def test_item3_trust_comes_from_the_target_branch_tip(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    fork = old_branch_self_approval(repo, cli, monkeypatch)
    # the old behaviour, from the merge base: no [trust] there, the self-approval counts
    code, doc = json_diff(cli, repo, fork, "pr", "--fail-on", "real")
    assert code == 0
    assert UNVERIFIED in doc["notices"]
    # trust from main's tip: Mallory is no reviewer
    code, doc = json_diff(cli, repo, fork, "pr", "--trust-from", "main", "--fail-on", "real")
    assert code == 1, doc
    decision = by_path(doc)["eval/results.json"]["decision"]
    assert decision["trusted"] is False and "not a listed reviewer" in decision["why"]
    assert doc["base"] == repo.git("rev-parse", fork).strip()  # still the merge base
    # resolve judges trust the same way
    monkeypatch.setenv("CI", "true")
    code, out, err = cli("resolve", fork, "--trust-from", "main", "--restart", repo=repo)
    assert code == 1, out + err
    code, out, err = cli("diff", fork, "pr", "--trust-from", ":index", repo=repo)
    assert code == 2 and "--trust-from must name a commit" in err
    record("attacks", "item3: PR branched before [trust] gets the target branch's trust", True)


# ================================================================ item 3: the Action


@pytest.mark.slow
def test_item3_action_passes_the_target_branch_as_trust(
    repo: TestRepo,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    venv: Path,
) -> None:
    from tests.test_action import run_action

    fork = old_branch_self_approval(repo, cli, monkeypatch)
    head = repo.head()
    main_tip = repo.git("rev-parse", "main").strip()
    ci_checkout(repo, main_tip, head)
    event = {
        "pull_request": {
            "number": 1,
            "base": {"sha": main_tip, "ref": "main", "repo": {"full_name": "octo/repo"}},
            "head": {"sha": head, "ref": "pr", "repo": {"full_name": "octo/repo"}},
        },
        "repository": {"full_name": "octo/repo", "default_branch": "main"},
    }
    run = run_action(repo.root, tmp_path, venv, event_name="pull_request", event=event)
    # the comparison starts at the merge base, trust comes from the target branch's tip
    assert run.codes["diff"] == 0 and run.failed_at == "gate", run.log
    report = json.loads(Path(run.outputs["report"]).read_text())
    decision = by_path(report)["eval/results.json"]["decision"]
    assert decision["trusted"] is False and report["summary"]["failing"] == 1
    assert run.outputs["base"] == fork and run.outputs["trust-from"] == main_tip, run.log
    record("attacks", "item3: the Action takes trust from pull_request.base.sha", True)


# ================================================================ item 7: the judge command


MARKER_JUDGE = """\
import json, pathlib, sys

pathlib.Path(sys.argv[1]).write_text("ran")
json.load(sys.stdin)
print(json.dumps({"equivalent": False, "score": 0.1, "reason": "stub"}))
"""


def judge_toml(script: Path, marker: Path) -> str:
    argv = [*STUB, str(script), str(marker)]
    # no cache: each run that trusts the judge asks it again
    return f"[judge]\ncommand = {json.dumps(argv)}\ncache = false\n"


def own_config(text: str) -> Path:
    path = Path(os.environ["HOME"]) / ".config" / "phase2" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def pr_judge(repo: TestRepo, tmp_path: Path) -> tuple[TestRepo, Path, str]:
    """A checked-out PR whose own commit enables llm_rubric and names a judge command that
    would leave a marker; an artifact edited in the working tree gives the judge a question."""
    script = tmp_path / "judge.py"
    script.write_text(MARKER_JUDGE)
    marker = tmp_path / "pwned"
    repo.write("out/a.txt", b"alpha beta\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "pr")
    judge = judge_toml(script, marker)
    repo.write(".phase2/config.toml", '[methods]\nenabled = ["exact", "llm_rubric"]\n' + judge)
    repo.write("out/a.txt", b"alpha   beta\n")
    repo.commit("pr: my judge")
    repo.write("out/a.txt", b"alpha    beta\n")
    return repo, marker, judge


def test_item7_a_pr_judge_command_never_runs_on_plain_diff(
    pr_judge: tuple[TestRepo, Path, str], cli: Cli
) -> None:
    repo, marker, _ = pr_judge
    code, doc = json_diff(cli, repo)  # HEAD (the PR's commit) vs the working tree
    assert not marker.exists(), "the pull request's judge command ran"
    why = next(n for n in doc["notices"] if "judge.command" in n)
    assert "is not trusted" in why and "--trust-from" in why
    assert str(Path(os.environ["HOME"]) / ".config/phase2/config.toml") in why
    assert any("no judge configured" in n for n in doc["notices"])
    # nor on two commits of the PR, the hook, or judge eval
    json_diff(cli, repo, "HEAD~1", "HEAD")
    repo.git("add", "out/a.txt")
    cli("check", repo=repo)
    labels = repo.root / "labels.jsonl"
    labels.write_text(
        json.dumps({"id": "x", "artifact_type": "text", "mismatch_type": "whitespace",
                    "label": "equivalent", "before": "a b", "after": "a  b"}) + "\n"
    )  # fmt: skip
    code, _, err = cli(
        "judge", "eval", "--dataset", str(labels), "--methods", "llm_rubric", repo=repo
    )
    assert code == 2 and "is not trusted" in err
    assert not marker.exists(), "the pull request's judge command ran"
    record("attacks", "item7: a PR's judge command never runs by default", True)


def test_item7_trusted_sources_do_run_the_judge(
    pr_judge: tuple[TestRepo, Path, str], cli: Cli
) -> None:
    repo, marker, judge = pr_judge
    # the reviewer's own configuration names the same judge: it runs
    own = own_config(judge)
    code, doc = json_diff(cli, repo)
    assert marker.exists() and not any("not trusted" in n for n in doc.get("notices", []))
    marker.unlink()
    own.unlink()
    # --trust-from a commit whose configuration names it: it runs (main has none: it does not)
    json_diff(cli, repo, "main", "pr", "--trust-from", "main")
    assert not marker.exists()
    json_diff(cli, repo, "main", "pr", "--trust-from", "pr")
    assert marker.exists()
    marker.unlink()
    # a --config file outside the repository is the user's own
    outside = own.parent / "ci.toml"
    outside.write_text('[methods]\nenabled = ["exact", "llm_rubric"]\n' + judge)
    json_diff(cli, repo, "--config", str(outside))
    assert marker.exists()
    # the user's file holds [judge] only
    own_config('[artifacts]\nexclude = ["**"]\n')
    code, _, err = cli("diff", repo=repo)
    assert code == 2 and "only a [judge] table is read from this file" in err
