"""The guided review: ``phase2 resolve --guided`` in a pty and ``phase2 serve --guided`` in
chromium take the same steps (noise groups, mixed files, real changes, audits, labels), each
with its count and one sentence, over the review's own groups and keys."""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.conftest import TestRepo
from tests.test_serve import _web
from tests.test_serve_browser import answered, build
from tests.web_support import chromium_page, serve

pexpect = pytest.importorskip("pexpect")


def build_mixed(repo: TestRepo) -> None:
    """build()'s regeneration and a mixed file: re-indented and one value changed."""
    repo.write("h.json", b'{\n  "v": "10.1",\n  "w": 2\n}\n')
    build(repo)
    repo.write("h.json", b'{\n    "v": "10.3",\n    "w": 2\n}\n')
    repo.commit("regen mixed")


def test_guided_kinds_and_order():
    from phase2_git.ui.guided import ORDER, TITLES

    assert ORDER == ("noise", "mixed", "real")
    assert list(TITLES) == ["noise", "mixed", "real", "audits", "labels"]


def test_resolve_guided_in_a_terminal(repo):
    build_mixed(repo)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update({"TERM": "xterm-256color", "COLUMNS": "200", "LINES": "40", "PAGER": "cat"})
    child = pexpect.spawn(
        sys.executable,
        ["-m", "phase2_git", "resolve", "main", "--guided"],
        cwd=str(repo.root),
        env=env,
        timeout=60,
        dimensions=(40, 200),
    )
    child.expect("Guided review, in five steps:")
    child.expect(r"1\. Noise groups \(3 group\(s\), 4 file\(s\)\)")
    child.expect(r"2\. Mixed files \(1 group\(s\), 1 file\(s\)\)")
    child.expect(r"3\. Real changes, one by one \(2 group\(s\), 2 file\(s\)\)")
    child.expect(r"4\. Pending audits \(0 waiting\)")
    child.expect(r"5\. Labels the gate still needs \(200 needed\)")
    child.expect("Step 1: Noise groups")
    child.expect("a.json")
    child.expect(r"\[q\]uit")
    child.send("A")  # every safe noise group at once
    child.expect("approved 3 safe group")
    child.expect("Step 2: Mixed files")
    child.expect("h.json")
    child.expect(r"\[q\]uit")
    child.send("a")
    child.expect("Step 3: Real changes")
    child.expect("d.json")
    child.expect(r"\[q\]uit")
    child.send("r")
    child.expect("e.txt")
    child.expect(r"\[q\]uit")
    child.send("s")
    child.expect(r"Step 4: Pending audits \(0\)")
    # 4 noise approvals, the mixed approval and the rejection are labels: 200 - 6
    child.expect(r"Step 5: Labels the gate still needs \(194\)")
    # it ends as the plain review does: what is left (d.json rejected, e.txt skipped: two
    # real changes without an approval) and --fail-on real's exit code
    child.expect(r"left: 2 mismatch\(es\), 2 real change\(s\) without a trusted approval")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    raw = repo.git("show", "HEAD:.phase2/decisions.jsonl")
    got = sorted(
        (e["path"], e["decision"], e.get("step") or "") for e in map(json.loads, raw.splitlines())
    )
    # approving the mixed file records and commits its safe first step (strip_noise) too
    assert got == [
        ("a.json", "approve", ""),
        ("b.json", "approve", ""),
        ("c.txt", "approve", ""),
        ("d.json", "reject", ""),
        ("e.txt", "skip", ""),
        ("g.json", "approve", ""),
        ("h.json", "approve", ""),
        ("h.json", "approve", "first"),
    ]
    assert repo.read("h.json") == b'{\n  "v": "10.3",\n  "w": 2\n}\n'  # noise stripped


def test_serve_guided_in_the_browser(repo):
    _web()
    build_mixed(repo)
    with serve(repo.root, "main", "--guided") as s, chromium_page() as page:
        page.goto(s.url)
        answers = 1
        answered(page, answers)
        steps = page.locator("#steps li")
        assert steps.count() == 5
        texts = [steps.nth(i).inner_text() for i in range(5)]
        assert texts[0].startswith("1. Noise groups — 3 group(s), 4 file(s) left")
        assert texts[1].startswith("2. Mixed files — 1 group(s), 1 file(s) left")
        assert texts[2].startswith("3. Real changes, one by one — 2 group(s), 2 file(s) left")
        assert texts[3].startswith("4. Pending audits — 0 waiting")
        assert texts[4].startswith("5. Labels the gate still needs — 200 needed")
        assert all(len(t.splitlines()) >= 2 for t in texts)  # each explained

        def at() -> str:
            return str(page.locator("#steps li.at").get_attribute("data-step"))

        assert at() == "noise"
        for key, step in (("A", "mixed"), ("a", "real"), ("r", "real"), ("s", "labels")):
            page.keyboard.type(key)
            answers += 1
            answered(page, answers)
            assert at() == step, key
        page.keyboard.type("q")
        answers += 1
        answered(page, answers)
        # the decisions are in history now: the gate's labels count them
        assert "194 needed" in page.locator("#steps li").nth(4).inner_text()
        code, out = s.stop(signal_it=False)
    # the same end as resolve --guided: two real changes left, --fail-on real
    assert code == 1, out
    assert "left: 2 mismatch(es), 2 real change(s) without a trusted approval" in out
