"""Attacks on the trust model's history lookup: a replayed decision id must not borrow a
reviewer's signature, and approvals that came in through merges are traced to the commit
that really introduced them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, TestRepo, require_tool
from tests.test_trust import ADA, MALLORY, as_user

LOG = ".phase2/decisions.jsonl"


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    require_tool("ssh-keygen")
    out = {}
    for who in ("ada", "mallory"):
        key = tmp_path / "keys" / who
        key.parent.mkdir(exist_ok=True)
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f", str(key)], check=True
        )
        out[who] = key
    return out


def trusted_base(repo: TestRepo, keys: dict[str, Path]) -> None:
    """main: Ada is the one reviewer, her SSH key listed, signatures required."""
    kind, key = (keys["ada"].parent / "ada.pub").read_text().split()[:2]
    repo.write(
        ".phase2/config.toml",
        '[trust]\nreviewers = ["Ada Reviewer <ada@example.com>"]\n'
        f'signing_keys = ["ada@example.com {kind} {key}"]\nrequire_signed = true\n',
    )
    repo.write("eval/real.json", b'{"accuracy": 0.81}\n')
    repo.write("eval/other.json", b'{"loss": 0.5}\n')
    repo.commit("base with trust")


def act_as(
    repo: TestRepo, monkeypatch: pytest.MonkeyPatch, who: tuple[str, str], key: Path | None
) -> None:
    """Commit as ``who``: signed with ``key`` (git signs phase2's own commits too), or not."""
    as_user(monkeypatch, who)
    if key is None:
        repo.git("config", "commit.gpgsign", "false")
        return
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingkey", str(key))
    repo.git("config", "commit.gpgsign", "true")


def diff_json(cli: Cli, repo: TestRepo, base: str, head: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli("diff", base, head, "--format", "json", "--fail-on", "real", repo=repo)
    assert err == "", err
    return code, json.loads(out)


def log_lines(repo: TestRepo) -> list[dict[str, Any]]:
    return [json.loads(line) for line in repo.read(LOG).decode().splitlines()]


def test_item1_a_replayed_decision_id_does_not_borrow_the_reviewers_signature(
    repo: TestRepo, cli: Cli, monkeypatch, keys
) -> None:
    trusted_base(repo, keys)
    # Ada reviews a change and approves it in a signed commit that lands on main
    act_as(repo, monkeypatch, ADA, keys["ada"])
    repo.git("checkout", "-q", "-b", "review")
    repo.write("eval/other.json", b'{"loss": 0.4}\n')
    repo.commit("lower loss")
    code, _, err = cli("approve", "eval/other.json", "--base", "main", repo=repo)
    assert code == 0, err
    assert "gpgsig -----BEGIN SSH SIGNATURE-----" in repo.git("cat-file", "commit", "HEAD")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "review")
    ada_id = log_lines(repo)[-1]["id"]
    # sanity: Ada's own approval is trusted
    code, doc = diff_json(cli, repo, "main~2", "main")
    assert code == 0, doc
    # Mallory changes the real artifact and appends an approval that reuses Ada's id
    act_as(repo, monkeypatch, MALLORY, None)
    repo.git("checkout", "-q", "-b", "attack")
    repo.write("eval/real.json", b'{"accuracy": 0.99}\n')
    repo.commit("better numbers")
    code, _, err = cli(
        "approve",
        "eval/real.json",
        "--base",
        "main",
        "--no-commit",
        "--user",
        "Ada Reviewer <ada@example.com>",
        repo=repo,
    )
    assert code == 0, err
    lines = repo.read(LOG).decode().splitlines()
    forged = json.loads(lines[-1])
    forged["id"] = ada_id
    lines[-1] = json.dumps(forged, separators=(",", ":"))
    repo.write(LOG, "\n".join(lines) + "\n")
    repo.commit("log the approval")
    assert "gpgsig" not in repo.git("cat-file", "commit", "HEAD")

    code, doc = diff_json(cli, repo, "main", "attack")
    assert code == 1, doc
    real = next(m for m in doc["mismatches"] if m["path"] == "eval/real.json")
    assert real["decision"]["trusted"] is False, real["decision"]
    assert ada_id in real["decision"]["why"] and "void" in real["decision"]["why"]
    assert any("untrusted approval of eval/real.json" in n for n in doc["notices"])
    assert any(ada_id in n and "void" in n for n in doc["notices"]), doc["notices"]
    # the text report says it too
    code, out, _ = cli("diff", "main", "attack", "--fail-on", "real", repo=repo)
    assert code == 1 and "untrusted approval of eval/real.json" in out

    code, out, _ = cli("verify", repo=repo)
    assert code == 1, out
    assert f"decision id {ada_id} is already on line" in out, out

    from tests.hostile_support import record

    record("attacks", "item1: decision-id replay", True)


def test_item1_a_verbatim_replay_of_an_approval_after_its_reject_stays_void(
    repo: TestRepo, cli: Cli, monkeypatch, keys
) -> None:
    """Copying a reviewer's whole approval line (same bytes, same id) after the reviewer
    rejected the change must not bring the approval back."""
    trusted_base(repo, keys)
    repo.git("checkout", "-q", "-b", "pr")
    act_as(repo, monkeypatch, MALLORY, None)
    repo.write("eval/real.json", b'{"accuracy": 0.99}\n')
    repo.commit("better numbers")
    act_as(repo, monkeypatch, ADA, keys["ada"])
    assert cli("approve", "eval/real.json", "--base", "main", repo=repo)[0] == 0
    approval = repo.read(LOG).decode().splitlines()[-1]
    assert diff_json(cli, repo, "main", "pr")[0] == 0
    assert cli("reject", "eval/real.json", "--base", "main", repo=repo)[0] == 0
    assert diff_json(cli, repo, "main", "pr")[0] == 1
    act_as(repo, monkeypatch, MALLORY, None)
    repo.write(LOG, repo.read(LOG) + approval.encode() + b"\n")
    repo.commit("replay")
    code, doc = diff_json(cli, repo, "main", "pr")
    assert code == 1, doc
    decision = doc["mismatches"][0]["decision"]
    assert decision["trusted"] is False and "void" in decision["why"], decision
    code, out, _ = cli("verify", repo=repo)
    assert code == 1 and "is already on line" in out, out

    from tests.hostile_support import record

    record("attacks", "item1: verbatim approval replay", True)


def test_item12c_an_approval_added_in_a_merge_commit_is_traced_to_the_merge(
    repo: TestRepo, cli: Cli, monkeypatch, keys
) -> None:
    trusted_base(repo, keys)
    repo.git("checkout", "-q", "-b", "pr")
    act_as(repo, monkeypatch, MALLORY, None)
    repo.write("eval/real.json", b'{"accuracy": 0.99}\n')
    repo.commit("better numbers")
    # Ada's approval line, made on the PR but not committed there
    act_as(repo, monkeypatch, ADA, keys["ada"])
    code, _, err = cli("approve", "eval/real.json", "--base", "main", "--no-commit", repo=repo)
    assert code == 0, err
    logged = repo.read(LOG)
    repo.git("checkout", "-q", "--", ".")
    repo.git("clean", "-qfd", ".phase2")
    # main moves on, then Ada merges the PR into it and logs the approval in the merge commit
    repo.git("checkout", "-q", "main")
    act_as(repo, monkeypatch, MALLORY, None)
    repo.write("eval/other.json", b'{"loss": 0.5, "note": 1}\n')
    repo.commit("main moves on")
    act_as(repo, monkeypatch, ADA, keys["ada"])
    repo.git("checkout", "-q", "-b", "merged")
    repo.git("merge", "-q", "--no-ff", "--no-commit", "pr")
    repo.write(LOG, logged)
    repo.git("add", LOG)
    repo.git("commit", "-q", "-m", "merge pr, approved")
    merge = repo.head()
    assert len(repo.git("log", "-1", "--format=%P").split()) == 2

    code, doc = diff_json(cli, repo, "main", "merged")
    assert code == 0, doc
    decision = next(m for m in doc["mismatches"] if m["path"] == "eval/real.json")["decision"]
    assert decision["trusted"] is True and merge[:12] in decision["why"], decision

    # the same approval in an unsigned merge by Mallory names that merge, not "not committed"
    act_as(repo, monkeypatch, MALLORY, None)
    repo.git("checkout", "-q", "-b", "evil", "main")
    repo.git("merge", "-q", "--no-ff", "--no-commit", "pr")
    repo.write(LOG, logged)
    repo.git("add", LOG)
    repo.git("commit", "-q", "-m", "merge pr")
    evil = repo.head()
    code, doc = diff_json(cli, repo, "main", "evil")
    assert code == 1, doc
    decision = next(m for m in doc["mismatches"] if m["path"] == "eval/real.json")["decision"]
    assert decision["trusted"] is False and evil[:12] in decision["why"], decision

    from tests.hostile_support import record

    record("attacks", "item12c: approval added in a merge commit", True)


def test_item12c_an_approval_merged_in_from_a_branch_is_the_branch_commits(
    repo: TestRepo, cli: Cli, monkeypatch, keys
) -> None:
    trusted_base(repo, keys)
    repo.git("checkout", "-q", "-b", "pr")
    act_as(repo, monkeypatch, MALLORY, None)
    repo.write("eval/real.json", b'{"accuracy": 0.99}\n')
    repo.commit("better numbers")
    # Ada approves on a branch of her own, signed
    act_as(repo, monkeypatch, ADA, keys["ada"])
    repo.git("checkout", "-q", "-b", "ada")
    assert cli("approve", "eval/real.json", "--base", "main", repo=repo)[0] == 0
    ada_commit = repo.head()
    # Mallory goes on on the PR and merges Ada's branch in an unsigned merge commit
    act_as(repo, monkeypatch, MALLORY, None)
    repo.git("checkout", "-q", "pr")
    repo.write("eval/other.json", b'{"loss":  0.5}\n')  # noise: needs no approval
    repo.commit("spacing")
    repo.git("merge", "-q", "--no-ff", "-m", "merge ada", "ada")
    assert len(repo.git("log", "-1", "--format=%P").split()) == 2
    code, doc = diff_json(cli, repo, "main", "pr")
    assert code == 0, doc
    decision = next(m for m in doc["mismatches"] if m["path"] == "eval/real.json")["decision"]
    assert decision["trusted"] is True and ada_commit[:12] in decision["why"], decision

    from tests.hostile_support import record

    record("attacks", "item12c: approval merged in from a branch", True)


def test_item1_a_repeated_id_is_void_without_a_trust_table_and_in_the_hook(
    repo: TestRepo, cli: Cli, monkeypatch
) -> None:
    """No [trust] table: approvals count unverified, but a repeated id still never counts.
    The pre-commit hook's --require-decision (a list of mismatches, not a stream) agrees."""
    repo.write("eval/real.json", b'{"accuracy": 0.81}\n')
    repo.write("eval/other.json", b'{"loss": 0.5}\n')
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "pr")
    repo.write("eval/other.json", b'{"loss": 0.4}\n')
    repo.commit("lower loss")
    assert cli("approve", "eval/other.json", "--base", "main", repo=repo)[0] == 0
    first_id = log_lines(repo)[-1]["id"]
    repo.write("eval/real.json", b'{"accuracy": 0.99}\n')
    repo.commit("better numbers")
    assert cli("approve", "eval/real.json", "--base", "main", "--no-commit", repo=repo)[0] == 0
    lines = repo.read(LOG).decode().splitlines()
    forged = json.loads(lines[-1])
    forged["id"] = first_id
    lines[-1] = json.dumps(forged, separators=(",", ":"))
    repo.write(LOG, "\n".join(lines) + "\n")
    repo.commit("log it")
    code, doc = diff_json(cli, repo, "main", "pr")
    assert code == 1, doc
    by_path = {m["path"]: m["decision"] for m in doc["mismatches"]}
    assert by_path["eval/other.json"]["trusted"] is True  # the first line still counts
    assert by_path["eval/real.json"]["trusted"] is False
    assert "repeated id is void" in by_path["eval/real.json"]["why"]
    assert any(first_id in n and "later lines are void" in n for n in doc["notices"])
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "main")
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "pr")
    code, out, _ = cli("check", "--require-decision", repo=repo)
    assert code == 1 and "eval/real.json" in out and "eval/other.json" not in out, out

    from tests.hostile_support import record

    record("attacks", "item1: repeated id without a trust table", True)


def test_item1_a_committed_approval_counts_for_a_worktree_head(
    repo: TestRepo, cli: Cli, monkeypatch, keys
) -> None:
    """Tracing by the line's bytes still finds a committed approval when the head side is the
    working tree (its log read from disk, its lines looked up in HEAD's history), and a line
    only on disk is not committed."""
    trusted_base(repo, keys)
    repo.git("checkout", "-q", "-b", "pr")
    act_as(repo, monkeypatch, MALLORY, None)
    repo.write("eval/real.json", b'{"accuracy": 0.99}\n')
    repo.commit("better numbers")
    act_as(repo, monkeypatch, ADA, keys["ada"])
    assert cli("approve", "eval/real.json", "--base", "main", repo=repo)[0] == 0
    code, doc = diff_json(cli, repo, "main", ":worktree")
    assert code == 0, doc
    assert doc["mismatches"][0]["decision"]["trusted"] is True
    # a new change, approved on disk only
    act_as(repo, monkeypatch, MALLORY, None)
    repo.write("eval/real.json", b'{"accuracy": 1.0}\n')
    repo.commit("even better")
    act_as(repo, monkeypatch, ADA, keys["ada"])
    code, _, err = cli("approve", "eval/real.json", "--base", "main", "--no-commit", repo=repo)
    assert code == 0, err
    code, doc = diff_json(cli, repo, "main", ":worktree")
    assert code == 1, doc
    assert "not committed" in doc["mismatches"][0]["decision"]["why"]


def test_item1_a_line_laundered_through_a_rename_is_not_the_reviewers(
    repo: TestRepo, cli: Cli, monkeypatch, keys
) -> None:
    """git blame follows a whole-file rename: a line the reviewer committed in another file
    (a draft, never in the log) must not become a trusted approval when the PR deletes the
    log and renames that file into its place."""
    trusted_base(repo, keys)
    repo.git("checkout", "-q", "-b", "pr")
    act_as(repo, monkeypatch, MALLORY, None)
    repo.write("eval/real.json", b'{"accuracy": 0.99}\n')
    repo.commit("better numbers")
    act_as(repo, monkeypatch, ADA, keys["ada"])
    assert cli("approve", "eval/real.json", "--base", "main", "--no-commit", repo=repo)[0] == 0
    (repo.root / "drafts").mkdir()
    (repo.root / LOG).rename(repo.root / "drafts/approvals.jsonl")
    repo.commit("draft, not an approval")
    assert "gpgsig" in repo.git("cat-file", "commit", "HEAD")
    act_as(repo, monkeypatch, MALLORY, None)
    repo.git("rm", "-q", "--ignore-unmatch", LOG)
    repo.commit("no log")
    repo.git("mv", "drafts/approvals.jsonl", LOG)
    repo.commit("the draft is the log now")
    code, doc = diff_json(cli, repo, "main", "pr")
    assert code == 1, doc
    decision = doc["mismatches"][0]["decision"]
    assert decision["trusted"] is False and "another file" in decision["why"], decision


def test_item1_repeat_notices_are_bounded() -> None:
    from phase2_git.core.approvals import repeat_notices, repeated_ids

    ids = [(n, f"dec_{n % 20:016x}") for n in range(1, 1001)]
    repeats = repeated_ids(ids)
    assert repeats[21] == 1 and 1 not in repeats and len(repeats) == 980
    notices = repeat_notices(repeats, dict(ids), ".phase2/decisions.jsonl")
    assert len(notices) == 11 and notices[-1].startswith("… and 10 more")
    assert "(line 1, then 21, 41, 61, 81, 101, …)" in notices[0]


def test_item1_deleting_a_reviewers_reject_does_not_bring_the_approval_back(
    repo: TestRepo, cli: Cli, monkeypatch, keys
) -> None:
    """The log is append-only: Ada approves, then rejects; Mallory deletes the reject line in
    her own commit. Every remaining line is Ada's, but the approval must not count."""
    trusted_base(repo, keys)
    repo.git("checkout", "-q", "-b", "pr")
    act_as(repo, monkeypatch, MALLORY, None)
    repo.write("eval/real.json", b'{"accuracy": 0.99}\n')
    repo.commit("better numbers")
    act_as(repo, monkeypatch, ADA, keys["ada"])
    assert cli("approve", "eval/real.json", "--base", "main", repo=repo)[0] == 0
    assert cli("reject", "eval/real.json", "--base", "main", repo=repo)[0] == 0
    assert diff_json(cli, repo, "main", "pr")[0] == 1
    act_as(repo, monkeypatch, MALLORY, None)
    lines = repo.read(LOG).decode().splitlines(keepends=True)
    assert json.loads(lines[-1])["decision"] == "reject"
    repo.write(LOG, "".join(lines[:-1]))
    repo.commit("tidy the log")
    dropped = repo.head()
    code, doc = diff_json(cli, repo, "main", "pr")
    assert code == 1, doc
    decision = doc["mismatches"][0]["decision"]
    assert decision["trusted"] is False and "rewritten" in decision["why"], decision
    assert any(dropped[:12] in n and "append-only" in n for n in doc["notices"]), doc["notices"]
    code, out, _ = cli("verify", repo=repo)
    assert code == 1 and dropped[:12] in out, out
    # the same deletion left uncommitted on a working-tree head counts for nothing either
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.write(LOG, "".join(lines[:-1]))
    code, out, _ = cli("diff", "main", "--format", "json", "--fail-on", "real", repo=repo)
    doc = json.loads(out)
    assert code == 1 and any("does not keep the committed lines" in n for n in doc["notices"])

    from tests.hostile_support import record

    record("attacks", "item1: reject deleted from the log", True)


def test_item1_merges_that_keep_both_sides_lines_are_append_only(
    repo: TestRepo, cli: Cli, monkeypatch, keys
) -> None:
    """Both branches append to the log; the merge keeps both sets in either order: no rewrite."""
    trusted_base(repo, keys)
    act_as(repo, monkeypatch, ADA, keys["ada"])
    repo.git("checkout", "-q", "-b", "pr")
    repo.write("eval/real.json", b'{"accuracy": 0.99}\n')
    repo.commit("better numbers")
    assert cli("approve", "eval/real.json", "--base", "main", repo=repo)[0] == 0
    ours = repo.read(LOG)
    repo.git("checkout", "-q", "main")
    repo.write("eval/other.json", b'{"loss": 0.4}\n')
    repo.commit("lower loss")
    assert cli("approve", "eval/other.json", "--base", "main~1", repo=repo)[0] == 0
    theirs = repo.read(LOG)
    base = repo.git("merge-base", "main", "pr").strip()
    repo.git("checkout", "-q", "pr")
    repo.git("merge", "-q", "--no-ff", "--no-commit", "main", check=False)
    repo.write(LOG, theirs + ours)  # main's lines first, then the PR's
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "merge main")
    _, doc = diff_json(cli, repo, base, "pr")
    assert not any("rewritten" in n for n in doc.get("notices", [])), doc.get("notices")
    decision = next(m for m in doc["mismatches"] if m["path"] == "eval/real.json")["decision"]
    assert decision["trusted"] is True, decision
