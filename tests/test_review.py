"""The interactive review in a real pty (pexpect): keys, undo, resume, terminal safety."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TestRepo
from tests.hostile_support import run_phase2

pexpect = pytest.importorskip("pexpect")

HOSTILE = (
    b"title: \x1b]52;c;ZWNobyBwd25lZA==\x07 clipboard\n"
    b"link: \x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\\n"
    b"clear: \x1b[2J\x1b[H done\n"
    + b"long: "
    + b"x" * 10_000
    + b"\n"
    + b"".join(b"line %d\n" % i for i in range(80))
    + b"tail \x00 nul\n"
)


def build(repo: TestRepo) -> None:
    repo.write("a.json", b'{"a": 1, "b": 2}\n')
    repo.write("b.json", b'{"x": [1, 2]}\n')
    repo.write("c.txt", b"one\ntwo\n")
    repo.write("d.json", b'{"accuracy": 0.81}\n')
    repo.write("e.txt", b"safe\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    repo.write("a.json", b'{"b": 2, "a": 1}\n')
    repo.write("b.json", b'{\n  "x": [\n    1,\n    2\n  ]\n}\n')
    repo.write("c.txt", b"one\r\ntwo\r\n")
    repo.write("d.json", b'{"accuracy": 0.79}\n')
    repo.write("e.txt", HOSTILE)
    repo.commit("regen")


def spawn(repo: TestRepo, *args: str, color: bool = False) -> pexpect.spawn:  # type: ignore[name-defined]
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR")}
    env.update({"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40", "PAGER": "cat"})
    if not color:
        env["NO_COLOR"] = "1"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "phase2_git", "resolve", "main", *args],
        cwd=str(repo.root),
        env=env,
        timeout=30,
        dimensions=(40, 120),
    )
    child.logfile_read = open(repo.root.parent / f"pty-{len(args)}-{color}.log", "ab")
    return child


def log(repo: TestRepo) -> list[dict[str, Any]]:
    path = repo.root / ".phase2" / "decisions.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_keys_undo_redo_quit_and_resume(repo: TestRepo) -> None:
    build(repo)
    child = spawn(repo)
    child.expect(r"\[1/5\]")
    child.expect("a.json")
    child.expect("json_ordering")
    child.expect(r"keys moved")
    child.expect(r"\[q\]uit")
    child.send("a")
    child.expect(r"\[2/5\]")
    child.expect("b.json")
    child.expect(r"\[q\]uit")
    child.send("s")
    child.expect(r"\[3/5\]")
    child.expect(r"\[q\]uit")
    child.send("x")  # unknown keys re-prompt, nothing happens
    child.expect("unknown key")
    child.send("u")  # undo the skip: back to b.json
    child.expect("undone: back to b.json")
    child.expect(r"\[2/5\]")
    child.expect(r"\[q\]uit")
    child.send("a")  # redo as approve
    child.expect(r"\[3/5\]")
    child.expect("c.txt")
    child.expect("␍".encode())  # line-ending noise made visible
    child.expect(r"\[q\]uit")
    child.send("?")
    child.expect("undo the last decision")
    child.send("q")
    child.expect("approved")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1  # d.json, a real change, is left: --fail-on real
    decisions = [(e["path"], e["decision"]) for e in log(repo)]
    assert decisions == [("a.json", "approve"), ("b.json", "approve")]
    assert repo.git("log", "-1", "--format=%B").count("Phase2-Transform:") == 2
    assert repo.read("a.json") == b'{"a": 1, "b": 2}\n'
    # rerun: resumed at the first unprocessed item (the two approvals are gone from the diff)
    child = spawn(repo)
    child.expect(r"\[1/3\]")
    child.expect("c.txt")
    child.expect(r"\[q\]uit")
    child.send("r")
    child.expect(r"\[2/3\]")
    child.expect("d.json")
    child.expect(r"\$\.accuracy: 0\.81 → 0\.79".encode())
    child.expect(r"\[q\]uit")
    child.send("\x03")  # Ctrl-C: state saved, exit 130 with the resume command
    child.expect("Resume with: phase2 resolve main")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130 or child.signalstatus is None
    assert [e["decision"] for e in log(repo)][-1:] in (["approve"], ["reject"])
    child = spawn(repo)
    child.expect("resumed: 1 of 3")
    child.expect("d.json")
    child.expect(r"\[q\]uit")
    child.send("S")
    child.expect(pexpect.EOF)
    child.close()
    decisions = [(e["path"], e["decision"]) for e in log(repo)]
    assert ("c.txt", "reject") in decisions and ("d.json", "skip") in decisions
    assert ("e.txt", "skip") in decisions


@pytest.mark.parametrize("color", [False, True])
def test_hostile_content_never_reaches_the_terminal(repo: TestRepo, color: bool) -> None:
    build(repo)
    child = spawn(repo, "--path", "e.txt", color=color)
    child.expect("e.txt")
    child.expect(r"\[q\]uit")
    shown = child.before
    child.send("d")
    child.expect(r"\[q\]uit")
    paged = child.before
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    raw = (repo.root.parent / f"pty-2-{color}.log").read_bytes()
    for needle in (b"\x1b]52", b"\x1b]8;", b"\x1b[2J", b"\x00", b"\x07", b"ZWNobyBwd25lZA==\x07"):
        assert needle not in raw, needle
    if not color:
        assert b"\x1b" not in raw
    text = (shown + paged).decode("utf-8", "replace")
    assert "(+" in text and "chars)" in text  # the 10,000-character line is cut, visibly
    assert "more lines hidden: press d" in text  # the cut panel, with the hint
    assert "\\x00" in text  # the NUL is shown escaped


def test_piped_stdout_and_closed_stdin_never_prompt(repo: TestRepo) -> None:
    build(repo)
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR",)}
    proc = run_phase2(("resolve", "main"), cwd=repo.root, env=env)  # stdin: an empty pipe
    assert proc.code == 1  # real changes are left: --fail-on real
    assert b"\x1b" not in proc.out and b"\x1b" not in proc.err
    assert b"phase2 resolve --yes" in proc.out
    assert log(repo) == []
    # CI=true never prompts either, even on a terminal
    child = pexpect.spawn(
        sys.executable,
        ["-m", "phase2_git", "resolve", "main"],
        cwd=str(repo.root),
        env={**env, "CI": "true"},
        timeout=30,
    )
    child.expect("nothing was decided")
    child.expect(pexpect.EOF)


def test_auto_approve_safe_and_audit(repo: TestRepo) -> None:
    build(repo)
    (repo.root / ".phase2").mkdir(exist_ok=True)
    repo.write(".phase2/config.toml", "[policy]\nsample_rate = 1.0\n")
    repo.commit("config")
    # the branch's own configuration counts only when named (else main's is in force)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "phase2_git",
            "resolve",
            "main",
            "--yes",
            "--config",
            ".phase2/config.toml",
        ],
        cwd=repo.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr  # d.json, a real change, is left
    assert "[sampled for audit]" in proc.stdout
    child = spawn(repo, "--audit", "--config", ".phase2/config.toml")
    child.expect(r"\[audit 1/3\]")
    child.expect("a it was noise")
    child.send("a")
    child.expect(r"\[audit 2/3\]")
    child.expect("a it was noise")
    child.send("r")
    child.expect(r"\[audit 3/3\]")
    child.expect("a it was noise")
    child.send("q")
    child.expect("2 audit")
    child.expect(pexpect.EOF)
    audits = [e for e in log(repo) if e["decision"] == "audit"]
    assert [a["label"] for a in audits] == ["equivalent", "different"]
    assert all(a["refers_to"] for a in audits)


def test_grouping_identical_differences(repo: TestRepo) -> None:
    for i in range(5):
        repo.write(f"g/{i}.json", b'{"id": %d, "v": 1}\n' % i)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    for i in range(5):
        repo.write(f"g/{i}.json", b'{"id": %d, "v": 1, "schema": 2}\n' % i)
    repo.commit("regen: same change everywhere")
    child = spawn(repo)
    child.expect(r"\[1/1\]")
    child.expect("5 files, one decision")
    child.expect("and 4 more with the same kind of change")
    child.expect(r"\[q\]uit")
    child.send("a")
    child.expect(pexpect.EOF)
    approvals = [e for e in log(repo) if e["decision"] == "approve"]
    assert sorted(e["path"] for e in approvals) == [f"g/{i}.json" for i in range(5)]


def test_external_diff_tool(repo: TestRepo, tmp_path: Path) -> None:
    build(repo)
    marker = tmp_path / "called"
    tool = tmp_path / "tool.sh"
    tool.write_text(f'#!/bin/sh\necho TOOL "$1" "$2" > {marker}\n')
    tool.chmod(0o755)
    os.environ["PHASE2_DIFF_TOOL"] = str(tool)
    try:
        child = spawn(repo, "--path", "a.json")
        child.expect(r"\[q\]uit")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        del os.environ["PHASE2_DIFF_TOOL"]
    assert marker.read_text().startswith("TOOL ")


def test_help_key_and_the_end_say_what_labels_next_would(repo: TestRepo) -> None:
    build(repo)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    asked = run_phase2(("labels", "next"), cwd=repo.root, env=env)
    assert asked.code == 1  # no dataset yet: the gate needs labels
    first = asked.out.decode().splitlines()[1].strip().removeprefix("- ")
    child = spawn(repo, "--path", "a.json")
    child.expect(r"\[q\]uit")
    child.send("?")
    child.expect("this help")
    child.expect(f"labels: the gate still needs {re.escape(first)}")
    child.expect(r"phase2 labels next main HEAD ranks what to label next")
    child.expect(r"\[q\]uit")
    child.send("q")
    child.expect("approved")  # the summary, then the same two lines
    child.expect(f"labels: the gate still needs {re.escape(first)}")
    child.expect(r"count after `phase2 labels export`; phase2 labels next main HEAD")
    child.expect(pexpect.EOF)
    child.close()
    # a dataset that cannot be read is said there, naming the file; the review goes on
    (repo.root / ".phase2").mkdir(exist_ok=True)
    (repo.root / ".phase2" / "labels.jsonl").write_text("{not json\n")
    child = spawn(repo, "--path", "a.json")
    child.expect(r"\[q\]uit")
    child.send("?")
    child.expect(r"labels: \.phase2/labels\.jsonl:1")
    child.expect(r"\[q\]uit")
    child.send("a")
    child.expect("approved")
    child.expect(pexpect.EOF)
    child.close()
    assert [(e["path"], e["decision"]) for e in log(repo)] == [("a.json", "approve")]


def test_every_review_says_when_an_interrupted_runs_commit_was_taken_over() -> None:
    """An apply that found a killed run's commit landed (tests/test_faults.py forces that race
    for --yes) says so in the terminal review's summary and on the browser's page, with the
    words --yes prints."""
    import io

    from rich.console import Console

    from phase2_git.app.resolve import ApplyResult
    from phase2_git.ui.render import report_apply
    from phase2_git.ui.review import Tally, summary
    from phase2_git.ui.web import commit_messages

    landed = "c0ffee" + "0" * 34
    result = ApplyResult(commits=["a" * 40], applied=["x.json"], logged=1, adopted=landed)
    said = io.StringIO()
    report_apply(result, said)
    words = said.getvalue().splitlines()[0]
    assert words.startswith(f"the interrupted run's commit {landed[:12]} landed")

    out = io.StringIO()
    summary(Console(file=out, width=200), Tally(), result, color=False)
    assert words in out.getvalue().splitlines()

    assert commit_messages(result)[0] == words
    assert commit_messages(ApplyResult(commits=["b" * 40]))[0].startswith("commit bbbb")
    assert not any("interrupted" in m for m in commit_messages(ApplyResult()))
