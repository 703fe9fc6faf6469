"""``phase2 resolve`` tells the truth: resume state belongs to the commits compared and the
branch, what ``--yes`` leaves to a human is not a decision, reruns add nothing, the exit code
follows ``--fail-on`` as ``phase2 diff``'s does, and every run says what is left."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phase2_git.store.state import STATE_DIR, default_path
from tests.conftest import Cli, TestRepo

LOG = ".phase2/decisions.jsonl"


def feature(repo: TestRepo) -> None:
    """main holds the artifacts; `feat` regenerates them (two safe noise, one real change);
    `twin` makes the very same noise change (byte-identical mismatches) and nothing else."""
    repo.write("golden/a.json", b'{"a": 1, "b": [1, 2]}\n')
    repo.write("snap/c.txt", b"one\ntwo\n")
    repo.write("eval/real.json", b'{"accuracy": 0.81}\n')
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "twin")
    repo.write("golden/a.json", b'{"b": [1, 2], "a": 1}\n')
    repo.commit("twin regen")
    repo.git("checkout", "-q", "-b", "feat", "main")
    repo.write("golden/a.json", b'{"b": [1, 2], "a": 1}\n')  # json_ordering
    repo.write("snap/c.txt", b"one\r\ntwo\r\n")  # line_endings
    repo.write("eval/real.json", b'{"accuracy": 0.79}\n')  # real
    repo.commit("regen")


def log_lines(repo: TestRepo) -> list[dict[str, Any]]:
    path = repo.root / LOG
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def diff_summary(repo: TestRepo, cli: Cli) -> dict[str, Any]:
    code, out, _ = cli("diff", "main", "HEAD", "--format", "json", repo=repo)
    summary: dict[str, Any] = json.loads(out)["summary"]
    assert code == summary["exit_code"]
    return summary


# ------------------------------------------------------------------ state and branches


def test_a_decision_on_one_branch_never_blocks_another(repo: TestRepo, cli: Cli) -> None:
    feature(repo)
    code, out, _ = cli("resolve", "main", "--yes", repo=repo)
    assert "committed" in out and code == 1  # the real change is left
    repo.git("checkout", "-q", "twin")
    twin = repo.head()
    code, out, err = cli("resolve", "main", "--yes", repo=repo)
    assert "resumed" not in out and "nothing to do" not in out, out
    assert repo.head() != twin and "committed" in out
    assert code == 0, err
    # what `diff` sees agrees: no safe noise is left on this branch
    summary = diff_summary(repo, cli)
    assert summary["safe"] == 0 and summary["total"] == 0
    # and the first branch's state was not touched by the second one's run
    states = sorted(p.name for p in (repo.root / ".phase2" / "state").glob("*.json"))
    assert len(states) == 2 and {s.split("-")[0] for s in states} == {"feat", "twin"}


def test_a_state_file_for_another_branch_is_refused(repo: TestRepo, cli: Cli) -> None:
    feature(repo)
    state = repo.root.parent / "shared-state.json"
    cli("resolve", "main", "--yes", "--no-commit", "--state-file", str(state), repo=repo)
    repo.git("checkout", "-q", "--", ".")
    repo.git("checkout", "-q", "twin")
    code, _, err = cli("resolve", "main", "--yes", "--state-file", str(state), repo=repo)
    assert code == 2 and "branch feat" in err and "--restart" in err and err.count("\n") <= 2


_names = st.text(min_size=1, max_size=300).filter(lambda s: "\0" not in s)
_oids = st.text("0123456789abcdef", min_size=40, max_size=40)


@given(_names, _names, _oids, _oids)
def test_the_state_file_name_belongs_to_its_branch_and_base(
    a: str, b: str, base_a: str, base_b: str
) -> None:
    """Any two (branch, base) pairs get two files, always one plain name in the state folder
    (a branch name is the user's text: slashes, `..`, control characters and all)."""
    root = Path("/repo")
    pa, pb = (
        default_path(root, base_a, f"refs/heads/{a}"),
        default_path(root, base_b, f"refs/heads/{b}"),
    )
    for p in (pa, pb):
        assert p.parent == root / STATE_DIR and p.suffix == ".json"
        assert p.name not in (".", "..") and "/" not in p.name
    assert (pa == pb) == ((a, base_a) == (b, base_b))


# ------------------------------------------------------------------ skips that were no decision


def test_the_kill_switch_leaves_nothing_behind(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    feature(repo)
    head = repo.head()
    monkeypatch.setenv("PHASE2_DISABLE_AUTORESOLVE", "1")
    for _ in range(2):
        code, out, _ = cli("resolve", "main", "--yes", repo=repo)
        assert code == 1 and repo.head() == head
        assert "2 safe plan(s) wait for a human until it is lifted" in out
    # degraded to manual while set: nothing logged, nothing modified
    assert log_lines(repo) == [] and repo.git("status", "--porcelain") == ""
    monkeypatch.delenv("PHASE2_DISABLE_AUTORESOLVE")
    code, out, _ = cli("resolve", "main", "--yes", repo=repo)
    assert "committed" in out and "nothing to do" not in out, out
    summary = diff_summary(repo, cli)
    assert summary["safe"] == 0 and summary["unresolved_noise"] == 0
    assert summary["unresolved_real"] == 1 and code == 1


def test_what_yes_leaves_is_not_a_skip(repo: TestRepo, cli: Cli) -> None:
    """After `--yes`, the plain run without a terminal lists what is left and what decides
    it, not `resumed: 3 of 3`, and never the advice just followed."""
    feature(repo)
    cli("resolve", "main", "--yes", repo=repo)
    code, out, _ = cli("resolve", "main", repo=repo)
    assert code == 1
    assert "resumed" not in out
    assert "eval/real.json (content)" in out and "(skipped)" not in out
    assert "--yes" not in out
    assert "phase2 approve PATH" in out and "`phase2 resolve main` reviews them" in out
    assert "1 real change(s) without a trusted approval" in out
    state = json.loads(next((repo.root / ".phase2" / "state").glob("*.json")).read_text())
    assert state["skipped"] == [] and len(state["processed"]) == 2


def test_a_plain_run_without_a_terminal_lists_the_plans(repo: TestRepo, cli: Cli) -> None:
    feature(repo)
    code, out, _ = cli("resolve", "main", repo=repo)
    assert code == 1
    for line in (
        "golden/a.json (json_ordering) (safe)",
        "snap/c.txt (line_endings) (safe)",
        "eval/real.json (content)",
        "`phase2 resolve --yes main` applies 2 safe plan(s)",
    ):
        assert line in out, out
    assert log_lines(repo) == []


# ------------------------------------------------------------------ the log


def test_reruns_add_nothing_to_the_log(repo: TestRepo, cli: Cli) -> None:
    feature(repo)
    cli("resolve", "main", "--yes", repo=repo)
    first = (repo.root / LOG).read_bytes()
    head = repo.head()
    for _ in range(2):
        code, out, _ = cli("resolve", "main", "--yes", repo=repo)
        assert code == 1 and "nothing to do" in out
    assert (repo.root / LOG).read_bytes() == first and repo.head() == head
    assert repo.git("status", "--porcelain") == ""
    assert [e["decision"] for e in log_lines(repo)] == ["auto-approve", "auto-approve"]


# ------------------------------------------------------------------ exit codes


def test_exit_code_follows_fail_on_as_diff_does(repo: TestRepo, cli: Cli) -> None:
    feature(repo)
    assert cli("resolve", "main", "--yes", "--fail-on", "never", "--no-commit", repo=repo)[0] == 0
    repo.git("checkout", "-q", "--", ".")
    code, _, _ = cli("resolve", "main", "--yes", "--restart", repo=repo)
    assert code == 1 == diff_summary(repo, cli)["exit_code"]
    # the noise is resolved: --fail-on noise has nothing to say, any still sees the real change
    assert cli("resolve", "main", "--yes", "--fail-on", "noise", repo=repo)[0] == 0
    assert cli("resolve", "main", "--yes", "--fail-on", "any", repo=repo)[0] == 1
    # a trusted approval of the real change: exit 0, as diff's
    assert cli("approve", "eval/real.json", "--base", "main", repo=repo)[0] == 0
    code, _, _ = cli("resolve", "main", "--yes", repo=repo)
    assert code == 0 == diff_summary(repo, cli)["exit_code"]


def test_kill_switch_exit_under_fail_on_noise(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    feature(repo)
    monkeypatch.setenv("PHASE2_DISABLE_AUTORESOLVE", "1")
    code, _, _ = cli("resolve", "main", "--yes", "--fail-on", "noise", repo=repo)
    assert code == 1  # the safe noise is still there, unresolved


# ------------------------------------------------------------------ the review on a terminal

pexpect = pytest.importorskip("pexpect")


def spawn(repo: TestRepo, *args: str, env: dict[str, str] | None = None) -> Any:
    env = {**{k: v for k, v in os.environ.items() if k not in ("CI",)}, **(env or {})}
    env.update({"TERM": "xterm", "COLUMNS": "120", "LINES": "40", "PAGER": "cat"})
    return pexpect.spawn(
        sys.executable,
        ["-m", "phase2_git", "resolve", "main", *args],
        cwd=str(repo.root),
        env=env,
        timeout=30,
        dimensions=(40, 120),
    )


def finish(child: Any) -> tuple[str, int]:
    child.expect(pexpect.EOF)
    text = child.before.decode("utf-8", "replace")
    child.close()
    return text, child.exitstatus


def test_quit_says_what_is_left_and_skips_point_at_revisit(repo: TestRepo) -> None:
    feature(repo)
    child = spawn(repo)
    child.expect(r"\[1/3\]")
    child.expect(r"\[q\]uit")
    child.send("s")
    child.expect(r"\[2/3\]")
    child.expect(r"\[q\]uit")
    child.send("q")
    text, code = finish(child)
    assert "2 mismatch(es) not yet reviewed. Resume with: phase2 resolve main" in text, text
    assert code == 1  # the real change is still there
    # skip the rest: the next run has nothing to ask, and says how to bring them back
    child = spawn(repo)
    child.expect(r"\[1/2\]")
    child.expect(r"\[q\]uit")
    child.send("S")
    text, code = finish(child)
    child = spawn(repo)
    text, code = finish(child)
    assert "every mismatch left was skipped earlier" in text, text
    assert "`phase2 resolve --revisit-skipped main` brings back 3 you skipped" in text
    assert "approved" not in text  # no table of zeros
    assert code == 1
    # the skips were a human's: they stay (unlike what --yes leaves), and are committed
    assert repo.git("status", "--porcelain") == ""
    assert [e["decision"] for e in log_lines(repo)] == ["skip"] * 3


def test_audit_answers_are_committed_and_the_view_is_capped(repo: TestRepo, cli: Cli) -> None:
    repo.write(".phase2/config.toml", "[policy]\nsample_rate = 1.0\n")
    repo.write("long.txt", b"".join(b"line %d\n" % i for i in range(80)))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    repo.write("long.txt", b"".join(b"line %d\r\n" % i for i in range(80)))
    repo.commit("crlf")
    assert cli("resolve", "main", "--yes", repo=repo)[0] == 0
    head = repo.head()
    child = spawn(repo, "--audit")
    child.expect(r"\[audit 1/1\]")
    child.expect("more lines")
    child.expect("a it was noise")
    child.send("a")
    text, code = finish(child)
    assert code == 0 and "1 audit(s) recorded" in text
    assert repo.head() != head and repo.git("status", "--porcelain") == ""
    assert [e["decision"] for e in log_lines(repo)] == ["auto-approve", "audit"]
    assert repo.git("show", f"HEAD:{LOG}").count("\n") == 2


def test_a_branch_reset_past_the_state_starts_over(repo: TestRepo, cli: Cli) -> None:
    feature(repo)
    cli("resolve", "main", "--yes", repo=repo)
    repo.git("reset", "-q", "--hard", "HEAD~1")  # the commit of the approvals is gone
    code, out, _ = cli("resolve", "main", "--yes", repo=repo)
    assert "review starts over" in out and "committed" in out, out
    assert code == 1 and diff_summary(repo, cli)["unresolved_noise"] == 0


def test_a_review_that_approves_everything_exits_0(repo: TestRepo, cli: Cli) -> None:
    """The exit code after a review is the comparison's once its commit is made: the real
    change approved by a human counts as `phase2 diff` counts it (a trusted approval)."""
    feature(repo)
    child = spawn(repo)
    for k in (1, 2, 3):
        child.expect(rf"\[{k}/3\]")
        child.expect(r"\[q\]uit")
        child.send("a")
    text, code = finish(child)
    assert "nothing left" in text, text
    assert code == 0 == diff_summary(repo, cli)["exit_code"]
    assert repo.git("status", "--porcelain") == ""


def test_the_kill_switch_turns_auto_approve_safe_off(repo: TestRepo) -> None:
    """`--auto-approve-safe` applies safe plans without asking: an auto-apply, which the kill
    switch stops while it is set (every plan is asked)."""
    feature(repo)
    child = spawn(repo, "--auto-approve-safe", env={"PHASE2_DISABLE_AUTORESOLVE": "1"})
    child.expect("--auto-approve-safe is off")
    child.expect(r"\[1/3\]")
    child.expect(r"\[q\]uit")
    child.send("q")
    _text, code = finish(child)
    assert code == 1 and log_lines(repo) == []
