"""Resolution as commits: ``resolve --yes``, the audit log, verify, revert, locks, refusals."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import Cli, TestRepo
from tests.hostile_support import run_phase2

ROOT = Path(__file__).parent.parent
DECISION = Draft202012Validator(
    json.loads((ROOT / "schemas" / "ResolutionDecision.v1.json").read_text())
)


def log_lines(repo: TestRepo) -> list[dict[str, Any]]:
    path = repo.root / ".phase2" / "decisions.jsonl"
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for line in lines:
        errors = list(DECISION.iter_errors(line))
        assert not errors, errors[0]
    return lines


def feature_repo(repo: TestRepo) -> None:
    """main holds reviewed artifacts; branch `feat` regenerates them (noise + real)."""
    repo.write("golden/a.json", b'{"a": 1, "b": [1, 2]}\n')
    repo.write("golden/b.json", b'{"x": "y"}\n')
    repo.write("snap/c.txt", b"one\ntwo\n")
    repo.write("snap/d.txt", b"keep\n")
    repo.write("eval/real.json", b'{"accuracy": 0.81}\n')
    repo.write("src/unrelated.py", b"print('hi')\n")
    repo.write("src/staged.py", b"x = 1\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    repo.write("golden/a.json", b'{"b": [1, 2], "a": 1}\n')  # json_ordering
    repo.write("golden/b.json", b'{\n  "x": "y"\n}\n')  # whitespace
    repo.write("snap/c.txt", b"one\r\ntwo\r\n")  # line_endings
    repo.write("snap/d.txt", b"keep")  # trailing_newline
    repo.write("eval/real.json", b'{"accuracy": 0.79}\n')  # real
    repo.commit("regen")


def user_edits(repo: TestRepo) -> None:
    repo.write("src/staged.py", b"x = 2\n")
    repo.git("add", "src/staged.py")
    repo.write("src/unrelated.py", b"print('edited')\n")
    repo.write("notes.txt", b"untracked\n")


def snapshot(repo: TestRepo) -> dict[str, object]:
    return {
        "status": repo.git("status", "--porcelain", "--untracked-files=all"),
        "staged": repo.read("src/staged.py"),
        "unrelated": repo.read("src/unrelated.py"),
        "notes": repo.read("notes.txt"),
        "index_staged": repo.git("ls-files", "-s", "src/staged.py"),
    }


def test_yes_commits_safe_transforms_and_keeps_everything_else(repo: TestRepo, cli: Cli) -> None:
    feature_repo(repo)
    user_edits(repo)
    before = snapshot(repo)
    head_before = repo.head()
    code, out, err = cli("resolve", "main", "--yes", repo=repo)
    # the real change is left without an approval: --fail-on real, as `phase2 diff` says
    assert (code, err) == (1, ""), err
    assert "committed" in out
    assert snapshot(repo) == before
    assert repo.git("rev-parse", "HEAD~1").strip() == head_before
    # the noise is gone from history, the real change stays
    for path, data in {
        "golden/a.json": b'{"a": 1, "b": [1, 2]}\n',
        "golden/b.json": b'{"x": "y"}\n',
        "snap/c.txt": b"one\ntwo\n",
        "snap/d.txt": b"keep\n",
    }.items():
        assert repo.git("show", f"HEAD:{path}").encode() == data
        assert repo.read(path) == data
    assert repo.read("eval/real.json") == b'{"accuracy": 0.79}\n'
    lines = log_lines(repo)
    # what --yes leaves to a human is no decision: only what it did is logged
    assert sorted(e["decision"] for e in lines) == ["auto-approve"] * 4
    # the log is committed with the transforms, and the trailers carry the hashes
    message = repo.git("log", "-1", "--format=%B")
    assert message.count("Phase2-Transform: dec_") == 4
    assert repo.git("show", "HEAD:.phase2/decisions.jsonl").count("\n") == 4
    # a second run changes nothing
    code, out, _ = cli("resolve", "main", "--yes", repo=repo)
    assert code == 1 and "nothing to do" in out
    assert repo.git("rev-list", "--count", "HEAD").strip() == "3"
    assert snapshot(repo) == before
    # diff shows no safe noise left
    code, out, _ = cli("diff", "main", "HEAD", "--format", "json", repo=repo)
    doc = json.loads(out)
    assert [m["path"] for m in doc["mismatches"]] == ["eval/real.json"]
    assert repo.git("fsck", "--no-progress", "--no-dangling").strip() == ""


def test_verify_passes_then_fails_on_tampering(repo: TestRepo, cli: Cli) -> None:
    feature_repo(repo)
    cli("resolve", "main", "--yes", repo=repo)
    code, out, _ = cli("verify", repo=repo)
    assert code == 0 and "verified 4 decision(s), 4 transform(s): ok" in out
    log = repo.root / ".phase2" / "decisions.jsonl"
    original = log.read_text()
    first = next(json.loads(x) for x in original.splitlines() if "result" in json.loads(x))
    for field in ("result", "before"):
        lines = [json.loads(x) for x in original.splitlines()]
        target = next(e for e in lines if e["id"] == first["id"])
        if field == "result":
            target["result"] = "0" * len(first["result"])
        else:
            target["hashes"]["before"] = "0" * len(first["result"])
        log.write_text("".join(json.dumps(e) + "\n" for e in lines))
        code, out, _ = cli("verify", repo=repo)
        assert code == 1, field
        assert "hashes differ from commit" in out or "restore_base" in out
    # a referenced commit that no longer exists
    log.write_text(original)
    revert_id = first["id"]
    assert cli("revert", revert_id, repo=repo)[0] == 0
    assert cli("verify", repo=repo)[0] == 0
    lines = log.read_text().splitlines()
    revert_line = json.loads(lines[-1])
    assert revert_line["decision"] == "revert" and revert_line["commit"]
    revert_line["commit"] = "1" * len(revert_line["commit"])
    lines[-1] = json.dumps(revert_line)
    log.write_text("\n".join(lines) + "\n")
    code, out, _ = cli("verify", repo=repo)
    assert code == 1 and "does not exist" in out
    # an unparseable line is listed too
    log.write_text(original + "{not json\n")
    code, out, _ = cli("verify", repo=repo)
    assert code == 1 and "decisions.jsonl:5: not JSON" in out


def test_kill_switch_and_shadow_mode_commit_nothing(repo: TestRepo, cli: Cli, monkeypatch) -> None:
    feature_repo(repo)
    head = repo.head()
    monkeypatch.setenv("PHASE2_DISABLE_AUTORESOLVE", "1")
    code, out, _ = cli("resolve", "main", "--yes", repo=repo)
    assert code == 1 and repo.head() == head
    assert "PHASE2_DISABLE_AUTORESOLVE is set" in out
    # the kill switch degrades to manual while it is set and leaves nothing behind
    assert log_lines(repo) == []
    assert repo.git("status", "--porcelain") == ""
    monkeypatch.delenv("PHASE2_DISABLE_AUTORESOLVE")
    repo.git("checkout", "-q", "--", ".")
    repo.write(".phase2/config.toml", '[policy]\nmode = "shadow"\n')
    repo.commit("shadow config")
    head = repo.head()
    # the branch's own configuration counts only when named (else main's is in force)
    own = str(repo.root / ".phase2/config.toml")
    code, out, err = cli("resolve", "main", "--yes", "--restart", "--config", own, repo=repo)
    assert code == 1, err
    # the shadows are committed (never left modified), the branch keeps its files
    assert code == 1 and repo.git("diff", "--name-only", head, "HEAD").split() == [
        ".phase2/decisions.jsonl"
    ]
    decisions = [e["decision"] for e in log_lines(repo)]
    assert decisions.count("shadow") == 4
    assert "policy mode is shadow" in out
    # a rerun with nothing new adds nothing
    shadowed = repo.head()
    code, out, _ = cli("resolve", "main", "--yes", "--config", own, repo=repo)
    assert code == 1 and repo.head() == shadowed and len(log_lines(repo)) == 4


def test_sampled_auto_approvals_are_marked_for_audit(repo: TestRepo, cli: Cli) -> None:
    feature_repo(repo)
    repo.write(".phase2/config.toml", "[policy]\nsample_rate = 1.0\n")
    repo.commit("audit all")
    own = str(repo.root / ".phase2/config.toml")
    code, _, err = cli("resolve", "main", "--yes", "--config", own, repo=repo)
    assert code == 1, err  # the real change is left
    approvals = [e for e in log_lines(repo) if e["decision"] == "auto-approve"]
    assert approvals and all(e["audit"] == "pending" for e in approvals)
    code, out, _ = cli("log", "--audit-pending", repo=repo)
    assert code == 0 and f"{len(approvals)} of" in out


def test_revert_restores_and_refuses_when_file_moved_on(repo: TestRepo, cli: Cli) -> None:
    feature_repo(repo)
    cli("resolve", "main", "--yes", repo=repo)
    dec = next(e for e in log_lines(repo) if e["path"] == "golden/a.json")
    code, _out, err = cli("revert", dec["id"], repo=repo)
    assert code == 0, err
    assert repo.read("golden/a.json") == b'{"b": [1, 2], "a": 1}\n'
    assert repo.git("status", "--porcelain") == ""
    # the file moved on since another transform: revert refuses with exit 3
    dec_b = next(e for e in log_lines(repo) if e["path"] == "golden/b.json")
    repo.write("golden/b.json", b'{"x": "z"}\n')
    repo.commit("later change")
    code, _, err = cli("revert", dec_b["id"], repo=repo)
    assert code == 3 and "moved on" in err and err.count("\n") == 1
    code, _, err = cli("revert", "dec_0000000000000000", repo=repo)
    assert code == 2 and "no decision" in err


def test_approve_and_reject_scriptable(repo: TestRepo, cli: Cli) -> None:
    feature_repo(repo)
    code, out, err = cli("approve", "eval/real.json", "--base", "main", repo=repo)
    assert code == 0, err
    assert repo.git("log", "-1", "--format=%s").strip() == "phase2: approve eval/real.json"
    code, out, _ = cli("diff", "main", "HEAD", "--format", "json", repo=repo)
    real = next(m for m in json.loads(out)["mismatches"] if m["path"] == "eval/real.json")
    assert real["decision"]["decision"] == "approve"
    assert json.loads(out)["summary"]["unresolved_real"] == 0
    # a new change to the same artifact needs a new decision (bound to content)
    repo.write("eval/real.json", b'{"accuracy": 0.5}\n')
    repo.commit("again")
    code, out, _ = cli("diff", "main", "HEAD", "--format", "json", repo=repo)
    assert json.loads(out)["summary"]["unresolved_real"] == 1
    code, _, err = cli("reject", "golden/a.json", "--base", "main", repo=repo)
    assert code == 0, err
    assert log_lines(repo)[-1]["label"] == "different"
    code, _, err = cli("approve", "nope.json", "--base", "main", repo=repo)
    assert code == 2 and "no mismatch for 'nope.json'" in err


def test_refusals(repo: TestRepo, cli: Cli) -> None:
    feature_repo(repo)
    # the user's own edit on a path phase2 would rewrite
    repo.write("golden/a.json", b'{"b": [1, 2], "a": 1, "c": 3}\n')
    code, _, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 3 and "golden/a.json" in err and "uncommitted changes" in err
    repo.git("checkout", "-q", "--", "golden/a.json")
    # git's index lock
    lock = repo.root / ".git" / "index.lock"
    lock.write_text("")
    code, _, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 3 and "index is locked" in err
    lock.unlink()
    # phase2's own lock, held by a live process
    holder = repo.root / ".phase2" / "lock"
    holder.parent.mkdir(exist_ok=True)
    holder.write_text(
        json.dumps(
            {
                "pid": os.getpid(),
                "host": os.uname().nodename,
                "since": "now",
                "command": "phase2 resolve",
            }
        )
    )
    code, _, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 3 and f"pid {os.getpid()}" in err
    holder.unlink()
    # detached HEAD
    repo.git("checkout", "-q", "--detach")
    code, _, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 3 and "detached" in err
    repo.git("checkout", "-q", "feat")
    # a merge in progress
    (repo.root / ".git" / "MERGE_HEAD").write_text(repo.head() + "\n")
    code, _, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 3 and "merge is in progress" in err
    (repo.root / ".git" / "MERGE_HEAD").unlink()
    assert repo.git("status", "--porcelain") == ""


def test_state_file_for_other_config_is_refused(repo: TestRepo, cli: Cli) -> None:
    feature_repo(repo)
    repo.git("config", "core.autocrlf", "false")
    monkey_state = repo.root / "state.json"
    code, _, _ = cli("resolve", "main", "--yes", "--state-file", str(monkey_state), repo=repo)
    assert code == 1  # the real change is left
    other = repo.write(".phase2/config.toml", "[policy]\nmin_confidence = 0.5\n")
    # resolve compares two commits: a working-tree configuration counts only when named
    code, _, err = cli(
        "resolve",
        "main",
        "--yes",
        "--state-file",
        str(monkey_state),
        "--config",
        str(other),
        repo=repo,
    )
    assert code == 2 and "another configuration" in err and "--restart" in err
    monkey_state.write_text("{broken")
    code, _, err = cli("resolve", "main", "--yes", "--state-file", str(monkey_state), repo=repo)
    assert code == 2 and "not a valid state file" in err


def test_concurrent_resolve_second_exits_3(repo: TestRepo) -> None:
    """A review waiting for a key holds the lock: a second run meanwhile is refused (exit 3)
    and names the holder. (An interactive first run makes the overlap certain, not a race.)"""
    pexpect = pytest.importorskip("pexpect")
    feature_repo(repo)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    first = pexpect.spawn(
        sys.executable,
        ["-m", "phase2_git", "resolve", "main"],
        cwd=str(repo.root),
        env=env,
        timeout=30,
    )
    first.expect(r"\[q\]uit")
    second = run_phase2(("resolve", "main", "--yes"), cwd=repo.root, env=dict(os.environ))
    first.send("q")
    first.expect(pexpect.EOF)
    assert second.code == 3
    assert f"pid {first.pid}".encode() in second.err and b"holds .phase2/lock" in second.err
    assert second.err.count(b"\n") == 1


def test_unborn_branch_is_refused(make_repo, cli: Cli) -> None:
    repo = make_repo()
    repo.write("a.json", "{}")
    code, _, err = cli("resolve", "HEAD", "--yes", repo=repo)
    assert code in (2, 3)
    assert "phase2: error:" in err


def test_crlf_worktree_follows_the_transform(repo: TestRepo, cli: Cli) -> None:
    repo.git("config", "core.autocrlf", "true")
    repo.write("a.json", b'{"a": 1, "b": 2}\r\n')
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    repo.write("a.json", b'{"b": 2, "a": 1}\r\n')
    repo.commit("regen")
    code, _, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 0, err
    # committed in repository form (LF), checked out in working-tree form (CRLF)
    assert repo.git("show", "HEAD:a.json") == '{"a": 1, "b": 2}\n'
    assert repo.read("a.json") == b'{"a": 1, "b": 2}\r\n'
    assert repo.git("status", "--porcelain") == ""


def test_sha256_repository(make_repo, cli: Cli) -> None:
    repo = make_repo(object_format="sha256")
    feature_repo(repo)
    code, _, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 1, err  # the real change is left
    assert len(log_lines(repo)[0]["hashes"]["after"]) == 64
    assert cli("verify", repo=repo)[0] == 0


def test_canonicalize_strategy_commits_canonical_json(repo: TestRepo, cli: Cli) -> None:
    repo.write(".phase2/config.toml", '[noise.strategy]\njson_ordering = "canonicalize"\n')
    repo.write("a.json", b'{"b": 1.10, "a": 1}\n')
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    repo.write("a.json", b'{"a": 1, "b": 1.10}')
    repo.commit("regen")
    code, _, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 0, err
    assert repo.read("a.json") == b'{\n  "a": 1,\n  "b": 1.10\n}\n'
    code, out, _ = cli("diff", "main", "HEAD", "--format", "json", "--fail-on", "noise", repo=repo)
    assert code == 0 and json.loads(out)["mismatches"][0]["resolved"] is True


def test_a_committed_state_file_is_never_trusted(repo: TestRepo, cli: Cli) -> None:
    feature_repo(repo)
    # a pull request commits a state file claiming every mismatch is already decided
    code, _, _ = cli("resolve", "main", "--yes", "--no-commit", repo=repo)
    assert code == 1  # the real change is left
    state = next((repo.root / ".phase2" / "state").glob("*.json"))
    repo.git("checkout", "-q", "--", ".")
    repo.git("add", "-f", str(state.relative_to(repo.root)))
    (repo.root / ".phase2" / "decisions.jsonl").unlink()
    repo.commit("sneak a state file in")
    code, out, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 1, err  # the real change is left
    assert "is tracked by git: ignored" in out
    assert "committed" in out


def test_rewrite_checks_asked_during_the_diff_fall_back_when_they_cannot_serve(
    repo: TestRepo, cli: Cli
) -> None:
    """The user's-edits check uses git's answers gathered while the diff ran only when they
    cover every path; a failed or partial answer is asked again, and refuses just the same."""
    from phase2_git.app import resolve as engine
    from phase2_git.errors import RefusedError
    from phase2_git.git.background import Background
    from phase2_git.git.repo import GitRepo
    from phase2_git.store.config import load

    feature_repo(repo)
    git = GitRepo.discover(repo.root)
    assert engine._facts_while_diffing(git, ":index", "HEAD", no_commit=False) is None
    asked = engine._facts_while_diffing(git, "main", "feat", no_commit=False)
    assert asked is not None
    facts = asked.result()
    assert {"golden/a.json", "eval/real.json"} <= facts.paths
    assert facts.hashes["golden/a.json"] == facts.entries["golden/a.json"].oid

    def failed() -> engine.RewriteFacts:
        raise RuntimeError("git went away")

    partial = engine.RewriteFacts(frozenset({"golden/a.json"}), {}, {}, {})
    with engine.open_session(git, "main", config=load(repo.root)) as session:
        repo.write("golden/b.json", b'{"x": "mine"}\n')  # the user's own edit, meanwhile
        for hint in (Background(failed), Background(lambda: partial)):
            with pytest.raises(RefusedError, match="uncommitted changes of your own"):
                engine._check_rewritable(session, no_commit=False, asked=hint)
    code, _, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 3 and "golden/b.json" in err


def test_branch_blobs_come_from_the_diff_until_the_branch_moves(repo: TestRepo) -> None:
    from phase2_git.app import resolve as engine
    from phase2_git.git.repo import GitRepo
    from phase2_git.store.config import load

    feature_repo(repo)
    git = GitRepo.discover(repo.root)
    with engine.open_session(git, "main", config=load(repo.root)) as session:
        paths = ["golden/a.json", "src/unrelated.py"]  # a mismatch, and a path the diff lacks
        before = session._branch_entries(paths)
        assert before == {p: repo.git("rev-parse", f"HEAD:{p}").strip() for p in paths}
        for m in session.todo():
            session.record(session.auto_operation(m))
        assert session.apply().commits
        # the diff is about the commit before: the branch's own tree answers now
        after = session._branch_entries(paths)
        assert after["golden/a.json"] == repo.git("rev-parse", "main:golden/a.json").strip()
    # a state file from before the log's entry was recorded: the files still follow
    assert engine.sync_all(git, [], None) == []
    assert repo.git("status", "--porcelain") == ""


class Killed(BaseException):
    """A kill at one precise point: the stack unwinds, nothing after it runs."""


@pytest.mark.parametrize("where", ["before-move", "after-move"])
def test_yes_killed_around_the_branch_move_resumes_to_the_same_end(
    repo: TestRepo, capsys, cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str
) -> None:
    """``--yes`` saves the state before its branch moves without its own decisions (they are
    replayable): killed before the move, the rerun decides them again with the same ids;
    killed after it, the rerun finishes the sync and marks them from the commit."""
    import shutil

    from phase2_git.app import resolve as engine
    from phase2_git.git import commit as gitc
    from tests.test_faults import end_state

    feature_repo(repo)
    clean = tmp_path / "clean"
    shutil.copytree(repo.root, clean, symlinks=True)
    assert cli("resolve", "main", "--yes", repo=clean).code == 1  # the real change is left
    expected = end_state(clean)

    def kill(*_args: object, **_kw: object) -> None:
        raise Killed

    if where == "before-move":
        monkeypatch.setattr(gitc, "move_branch", kill)
    else:
        monkeypatch.setattr(engine, "sync_all", kill)
    head = repo.head()
    with pytest.raises(Killed):
        cli("resolve", "main", "--yes", repo=repo)
    monkeypatch.undo()
    state_file = next((repo.root / ".phase2" / "state").glob("*.json"))
    saved = json.loads(state_file.read_text())
    # the save before the move: the commit to finish, none of the run's own decisions
    assert saved["unsynced"]["commit"] and saved["pending"] == [] and saved["processed"] == []
    assert (repo.head() == head) == (where == "before-move")
    capsys.readouterr()
    code, _, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 1, err  # the real change is left
    assert end_state(repo.root) == expected
    resumed = json.loads(state_file.read_text())
    # what --yes left to a human is not marked: only the four auto-approvals
    assert resumed["unsynced"] is None and len(resumed["processed"]) == 4
    assert resumed["stats"]["events"] == 4 and "skip" not in resumed["stats"]


def test_resolve_does_not_write_back_crlfs_git_normalised(repo: TestRepo, cli: Cli) -> None:
    """A branch that adds ``* text=auto`` and renormalises: ``resolve --yes`` committed the
    base's CRLFs back, undoing the renormalisation in a commit of its own (found on
    datasets/country-codes, whose history holds that commit). They are skipped with the
    reason; other noise is applied as ever, and so is a CRLF change git does not make
    (``-text``)."""
    repo.write("data/a.csv", b"x,y\r\n1,2\r\n")
    repo.write("data/b.csv", b"x,y\r\n1,2\r\n")
    repo.write("data/raw.csv", b"x,y\r\n")
    repo.write("data/c.json", b'{"a": 1, "b": 2}\n')
    repo.commit("legacy")
    repo.git("checkout", "-q", "-b", "feat")
    repo.write(".gitattributes", "* text=auto eol=lf\ndata/raw.csv -text\n")
    repo.write("data/b.csv", b"x,y\n1,3\n")  # renormalised, and a real edit
    repo.write("data/raw.csv", b"x,y\n")
    repo.write("data/c.json", b'{"b": 2, "a": 1}\n')
    repo.git("add", "-A")
    repo.git("add", "--renormalize", ".")
    repo.commit("renormalise")
    code, out, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 1, err  # data/b.csv's edit is a real change left to a human
    for path in ("data/a.csv", "data/b.csv"):
        assert f"{path} (" in out and "line endings git normalises here (text=auto, eol=lf)" in out
        assert b"\r" not in repo.git("cat-file", "blob", f"HEAD:{path}").encode(), path
    assert repo.git("cat-file", "blob", "HEAD:data/raw.csv") == "x,y\r\n"
    assert repo.git("cat-file", "blob", "HEAD:data/c.json") == '{"a": 1, "b": 2}\n'
    assert repo.git("status", "--porcelain") == ""
