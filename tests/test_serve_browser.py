"""``phase2 serve`` driven with the keyboard only, in Debian's chromium (Playwright), against
the terminal review (``phase2 resolve`` in a pty, pexpect) making the same choices on an
identical repository: the same commit tree, the same decisions in the log, the same state.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest

from tests.conftest import TestRepo
from tests.test_serve import _web
from tests.web_support import chromium_page, serve

pexpect = pytest.importorskip("pexpect")

# the choices, in the terminal's keys: approve the group of two identical reorderings,
# reject the line endings, skip the real change, undo that, approve it, approve every safe
# group left (the whitespace one), skip the last real change
KEYS = ["a", "r", "s", "u", "a", "A", "s"]


def build(repo: TestRepo) -> None:
    repo.write("a.json", b'{"a": 1, "b": 2}\n')
    repo.write("b.json", b'{"a": 1, "b": 2}\n')
    repo.write("c.txt", b"one\ntwo\n")
    repo.write("d.json", b'{"accuracy": 0.81}\n')
    repo.write("e.txt", b"Welcome to orders\n")
    repo.write("g.json", b'{"x": [1, 2]}\n')
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    repo.write("a.json", b'{"b": 2, "a": 1}\n')
    repo.write("b.json", b'{"b": 2, "a": 1}\n')
    repo.write("c.txt", b"one\r\ntwo\r\n")
    repo.write("d.json", b'{"accuracy": 0.79}\n')
    repo.write("e.txt", b"Welcome to Orders 2.0\n")
    repo.write("g.json", b'{\n  "x": [\n    1,\n    2\n  ]\n}\n')
    repo.commit("regen")


# what both reviews leave: the rejected line endings (noise) and the skipped real change, which
# --fail-on real (the default) counts: exit 1
LEFT = "left: 2 mismatch(es), 1 real change(s) without a trusted approval and 1 unresolved noise"


def terminal_review(repo: TestRepo) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update({"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40", "PAGER": "cat"})
    child = pexpect.spawn(
        sys.executable,
        ["-m", "phase2_git", "resolve", "main"],
        cwd=str(repo.root),
        env=env,
        timeout=60,
        dimensions=(40, 120),
    )
    for key in KEYS:
        child.expect(r"\[q\]uit")
        child.send(key)
    child.expect("phase2 resolve")  # the summary table: every group was decided
    child.expect_exact(LEFT)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1


def answered(page, n: int) -> None:
    """Wait until the page has drawn its n-th answer of the server (a selector: the page's
    CSP forbids the eval a JavaScript predicate would need)."""
    page.locator(f'body[data-ready="{n}"]').wait_for(state="attached")


def browser_review(repo: TestRepo, screenshot: str | None = None) -> str:
    with serve(repo.root, "main") as s, chromium_page(width=1280, height=860) as page:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(s.url)
        answers = 1
        answered(page, answers)
        assert page.locator("#progress").inner_text().startswith("[1/5]")
        for key in KEYS:
            page.keyboard.type(key)  # the key itself, as a person types it (A is Shift+a)
            answers += 1
            answered(page, answers)
            if key == "u":
                assert "undone: back to d.json" in page.locator("#messages").inner_text()
            if key == "A":
                assert "approved 1 safe group(s)" in page.locator("#messages").inner_text()
        assert "Every group is decided" in page.locator("#current").inner_text()
        assert [
            page.locator("#groups li").nth(i).get_attribute("class")
            for i in range(page.locator("#groups li").count())
        ] == ["approved", "rejected", "approved", "skipped"]
        if screenshot:
            page.keyboard.type("u")  # back to the last group, for a picture of a diff
            answered(page, answers + 1)
            page.screenshot(path=screenshot)
            page.keyboard.type("s")
            answers += 2
            answered(page, answers)
        page.keyboard.type("q")  # commit and stop
        answers += 1
        answered(page, answers)
        shown = page.locator("#messages").inner_text()
        assert errors == []
        code, out = s.stop(signal_it=False)
    assert code == 1, out
    assert LEFT in out
    commit = repo.head()
    assert f"commit {commit}" in shown and f"commit {commit}" in out
    return out


def tree_without_log(repo: TestRepo) -> list[str]:
    lines = repo.git("ls-tree", "-r", "HEAD").splitlines()
    return [line for line in lines if not line.endswith("\t.phase2/decisions.jsonl")]


def decisions(repo: TestRepo) -> list[tuple[Any, ...]]:
    """The log's decisions without what differs between two runs (ids, run, time)."""
    raw = repo.git("show", "HEAD:.phase2/decisions.jsonl")
    events = [json.loads(line) for line in raw.splitlines()]
    return [
        (
            e["mismatch_id"],
            e["path"],
            e["decision"],
            e["label"],
            e["plan_id"],
            e["action"],
            e["hashes"]["before"],
            e["hashes"]["after"],
            e.get("result"),
            e["ui"]["mode"],
            e["user"]["id"],
        )
        for e in events
    ]


def state(repo: TestRepo) -> dict[str, Any]:
    (path,) = (repo.root / ".phase2" / "state").glob("*.json")
    data = json.loads(path.read_text())
    return {
        "processed": sorted(data["processed"]),
        "skipped": sorted(data["skipped"]),
        "pending": data["pending"],
        "stats": data["stats"],
        "commits": len(data["commits"]),
    }


def test_keyboard_review_in_the_browser_matches_the_terminal(make_repo):
    _web()
    terminal, browser = make_repo(name="terminal"), make_repo(name="browser")
    build(terminal)
    build(browser)
    # the same dates and identity: the two repositories hold the very same commits
    assert terminal.head() == browser.head()
    terminal_review(terminal)
    browser_review(browser)
    assert terminal.git("rev-parse", "HEAD^") == browser.git("rev-parse", "HEAD^")
    assert tree_without_log(terminal) == tree_without_log(browser)
    assert decisions(terminal) == decisions(browser)
    kinds = sorted((d[1], d[2]) for d in decisions(browser))
    assert kinds == [
        ("a.json", "approve"),
        ("b.json", "approve"),
        ("c.txt", "reject"),
        ("d.json", "approve"),
        ("e.txt", "skip"),
        ("g.json", "approve"),
    ]
    assert state(terminal) == state(browser)
    # the approved noise has the base's bytes again; the rejected line endings stay
    assert browser.read("a.json") == b'{"a": 1, "b": 2}\n'
    assert browser.read("c.txt") == b"one\r\ntwo\r\n"
    assert browser.read("g.json") == b'{"x": [1, 2]}\n'


def test_hostile_artifact_in_the_review_is_only_text(repo):
    """The review page draws the same way the report does: markup in a path or a file shows
    as characters, and nothing in it runs."""
    from tests.test_html_report import HOSTILE, HOSTILE_NAME

    _web()
    repo.write(HOSTILE_NAME, "plain\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    repo.write(HOSTILE_NAME, HOSTILE)
    repo.commit("hostile")
    with serve(repo.root, "main") as s, chromium_page() as page:
        page.goto(s.url)
        answered(page, 1)
        text = page.locator("body").inner_text()
        assert HOSTILE_NAME in text  # the path, as its characters
        assert "<script>window.__pwned·=·'script'</script>" in text
        assert "\\x1b[2J" in text
        assert page.evaluate("window.__pwned") is None
        assert page.locator("img, a, iframe, object, embed").count() == 0
        assert page.evaluate("document.scripts.length") == 1  # the page's own


def test_audit_queue_with_the_keyboard(repo):
    """Auto-approvals sampled for audit: t opens the queue, a says noise, r says real; the
    answers are audit decisions in the log, committed as `phase2 resolve --audit` commits
    them."""
    import subprocess

    _web()
    build(repo)
    (repo.root / ".phase2").mkdir(exist_ok=True)
    repo.write(".phase2/config.toml", "[policy]\nsample_rate = 1.0\n")
    repo.commit("config")
    config = ["--config", ".phase2/config.toml"]
    yes = subprocess.run(
        [sys.executable, "-m", "phase2_git", "resolve", "main", "--yes", *config],
        cwd=repo.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # the real changes (d.json, e.txt, the added config) wait for a human: --fail-on real's 1
    assert yes.returncode == 1, yes.stderr
    assert "left: 3 mismatch(es), 3 real change(s)" in yes.stdout
    sampled = yes.stdout.count("[sampled for audit]")
    before = repo.head()
    assert sampled >= 2
    with serve(repo.root, "main", *config) as s:
        with chromium_page() as page:
            page.goto(s.url)
            answered(page, 1)
            assert page.locator("#audit-toggle").inner_text().endswith(f": {sampled}")
            page.keyboard.type("t")
            queue = page.locator("#audits")
            assert queue.is_visible()
            assert f"{sampled} auto-approval(s) waiting" in queue.inner_text()
            page.keyboard.type("a")
            answered(page, 2)
            page.keyboard.type("r")
            answered(page, 3)
            assert f"{sampled - 2} auto-approval(s) waiting" in queue.inner_text()
            page.keyboard.type("t")  # back to the review
            assert page.locator("#current").is_visible()
        state = s.api("GET", "/api/state")
        assert len(state["audits"]) == sampled - 2
    # each answer is committed as it is given (the queue reads the committed log), the log
    # left with nothing uncommitted
    raw = repo.git("show", "HEAD:.phase2/decisions.jsonl")
    audits = [e for e in map(json.loads, raw.splitlines()) if e["decision"] == "audit"]
    assert [a["label"] for a in audits] == ["equivalent", "different"]
    assert all(a["refers_to"] for a in audits)
    assert repo.git("rev-list", "--count", f"{before}..HEAD").strip() == "2"
    assert repo.git("status", "--porcelain", "--", ".phase2/decisions.jsonl") == ""
