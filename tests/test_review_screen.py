"""What one review item shows, in a real pty of a set size (pexpect): the real change of a
mixed file and its residual diff, groups by kind of change, an item cut to the terminal's
height, the pager's flags, both sides of a whitespace-only diff, and what ``r`` did."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sys
from typing import Any

import pytest

from tests.conftest import TestRepo

pexpect = pytest.importorskip("pexpect")

PROMPT = r"\[\?\]\s+> "
RULE = "─" * 20


def dump(doc: Any, indent: int = 2) -> bytes:
    return json.dumps(doc, indent=indent).encode() + b"\n"


def spawn(
    repo: TestRepo,
    *args: str,
    rows: int = 40,
    cols: int = 120,
    color: bool = False,
    env: dict[str, str] | None = None,
) -> Any:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CI", "NO_COLOR", "PAGER", "LESS", "MANPAGER", "COLUMNS", "LINES")
    }
    base.update({"TERM": "xterm-256color", "PAGER": "cat"})
    if not color:
        base["NO_COLOR"] = "1"
    base.update(env or {})
    base = {k: v for k, v in base.items() if v != "<unset>"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "phase2_git", "resolve", "main", *args],
        cwd=str(repo.root),
        env=base,
        timeout=90,  # generous: a loaded machine is slow, never wrong
        dimensions=(rows, cols),
        encoding="utf-8",
        codec_errors="replace",
    )
    child.logfile_read = io.StringIO()
    return child


def item(child: Any) -> str:
    """The text of the item on screen, from its rule to the prompt (inclusive)."""
    child.expect(PROMPT)
    text: str = (child.before + child.after).replace("\r\n", "\n")
    start = text.rfind(RULE)
    assert start >= 0, text
    # the rule's row starts at the line that holds it; anything said above it (a notice) too
    return text[text.rfind("\n", 0, start) + 1 :]


def screen_rows(text: str, cols: int) -> int:
    """Rows ``text`` takes on a terminal ``cols`` wide (long lines wrap)."""
    from rich.cells import cell_len

    return sum(max(1, -(-cell_len(line) // cols)) for line in text.split("\n"))


def finish(child: Any, key: str = "q") -> None:
    child.send(key)
    child.expect(pexpect.EOF)
    child.close()


def log(repo: TestRepo) -> list[dict[str, Any]]:
    path = repo.root / ".phase2" / "decisions.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def compat(name: str, versions: dict[str, str]) -> dict[str, Any]:
    return {
        "api": {
            name: {
                "__compat": {
                    "support": {b: {"version_added": v} for b, v in versions.items()},
                    "status": {"experimental": False, "standard_track": True, "deprecated": False},
                }
            }
        }
    }


BROWSERS = {"chrome": "42", "edge": "14", "firefox": "39", "opera": "29", "safari": "10.1"}


# ---------------------------------------------------------------------------- 1. mixed


def test_mixed_file_leads_with_its_changes_and_shows_the_residual_diff(repo: TestRepo) -> None:
    many: dict[str, dict[str, Any]] = {f"k{i:02d}": {"v": i, "w": "same"} for i in range(30)}
    repo.write("fetch.json", dump(compat("fetch", BROWSERS)))
    repo.write("many.json", dump(many))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "regen")
    repo.write("fetch.json", dump(compat("fetch", {**BROWSERS, "safari": "10.3"}), 4))
    repo.write("many.json", dump({k: {**v, "v": v["v"] + 100} for k, v in many.items()}, 4))
    repo.commit("regen: re-indented, one value bumped")

    paged = repo.root.parent / "paged.txt"
    child = spawn(repo, "--path", "fetch.json", env={"PAGER": f"cat > '{paged}'"})
    shown = item(child)
    child.send("d")
    item(child)
    finish(child)
    # d: the residual diff, then the whole difference with its noise made visible
    full = paged.read_text()
    residual, whole = full.split("── the whole difference, noise included ──")
    assert '+            "version_added": "10.3"' in residual
    assert '+········"fetch":·{' in whole
    assert '$.api.fetch.__compat.support.safari.version_added: "10.1" → "10.3"' in shown
    assert "noise set aside" in shown and "re-indented 2 spaces → 4 spaces" in shown
    # the residual diff: the one edited line, in the base's indentation, not 25 re-indented
    diff = [ln for ln in shown.split("\n") if ln.startswith(("+", "-"))]
    assert diff == [
        '-            "version_added": "10.1"',
        '+            "version_added": "10.3"',
    ], shown
    # the change list leads, the diff follows
    assert shown.index('→ "10.3"') < shown.index("noise set aside") < shown.index("@@")

    child = spawn(repo, "--path", "many.json")
    shown = item(child)
    finish(child)
    listed = re.findall(r"^\$\.k\d\d\.v: \d+ → \d+$", shown, re.M)
    assert 1 <= len(listed) < 30
    assert f"… +{30 - len(listed)} more changes" in shown
    assert listed[0] == "$.k00.v: 0 → 100"


# ---------------------------------------------------------------------------- 2. groups


def test_groups_by_kind_of_change_one_decision_each(repo: TestRepo) -> None:
    for i in range(12):  # each file its own content, all re-indented alike
        repo.write(f"a/{i:02d}.json", dump({"id": i, "name": f"case {i}", "tags": ["x"] * i}))
    for i in range(3):
        repo.write(f"b/{i}.txt", "".join(f"row {i}.{j}\n" for j in range(5 + i)))
    for name, extra in (("x", 1), ("y", 2)):  # the same bump in two files, both re-indented
        repo.write(f"d/{name}.json", dump({"version": "1", "extra": extra}))
    repo.write("e.json", dump({"accuracy": 0.81}))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "regen")
    for i in range(12):
        repo.write(f"a/{i:02d}.json", dump({"id": i, "name": f"case {i}", "tags": ["x"] * i}, 4))
    for i in range(3):
        repo.write(f"b/{i}.txt", "".join(f"row {i}.{j}\r\n" for j in range(5 + i)))
    for name, extra in (("x", 1), ("y", 2)):
        repo.write(f"d/{name}.json", dump({"version": "2", "extra": extra}, 4))
    repo.write("e.json", dump({"accuracy": 0.79}))
    repo.commit("regen")

    child = spawn(repo)
    shown = item(child)
    assert "[1/4]" in shown
    assert "12 files, one decision: re-indented 2 spaces → 4 spaces" in shown
    assert "and 11 more with the same kind of change" in shown
    child.send("a")
    shown = item(child)
    assert "[2/4]" in shown and "3 files, one decision: line endings LF → CRLF" in shown
    child.send("r")
    shown = item(child)
    assert "[3/4]" in shown
    assert '2 files, one decision: re-indented 2 spaces → 4 spaces · $.version: "1" → "2"' in (
        shown
    )
    child.send("s")
    shown = item(child)
    assert "[4/4]" in shown and "e.json" in shown
    finish(child)
    decided = {(e["path"], e["decision"]) for e in log(repo)}
    assert {p for p, d in decided if d == "approve"} == {f"a/{i:02d}.json" for i in range(12)}
    assert {p for p, d in decided if d == "reject"} == {f"b/{i}.txt" for i in range(3)}
    assert {p for p, d in decided if d == "skip"} == {"d/x.json", "d/y.json"}


# ---------------------------------------------------------------------------- 3. fit


@pytest.mark.parametrize(("rows", "cols"), [(40, 120), (24, 80)])
def test_an_item_taller_than_the_screen_fits_it(repo: TestRepo, rows: int, cols: int) -> None:
    doc = {f"key_{i:03d}": {"value": i, "label": f"item {i}"} for i in range(60)}
    for i in range(30):
        repo.write(f"golden/{i:02d}.json", dump({**doc, "id": i}))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "regen")
    for i in range(30):
        repo.write(f"golden/{i:02d}.json", dump({**doc, "id": i}, 4))
    repo.commit("regen: re-indented")

    child = spawn(repo, rows=rows, cols=cols)
    shown = item(child)
    finish(child)
    assert screen_rows(shown, cols) <= rows, shown
    # the header is whole
    for part in ("[1/1]", "golden/00.json", "json · whitespace · plan", "why:", "30 files"):
        assert part in shown, (part, shown)
    hidden = re.search(r"… (\d+) more lines hidden: press d to page the rest", shown)
    assert hidden is not None, shown
    diff = [ln for ln in shown.split("\n") if ln.startswith(("+", "-", "@@"))]
    assert diff, shown
    assert int(hidden.group(1)) > 50  # a 250-line diff: most of it is behind d
    assert "… " in shown and "more\n" in shown  # the 29 other paths, capped


# ---------------------------------------------------------------------------- 4. pager


def long_diff_repo(repo: TestRepo) -> None:
    repo.write("big.txt", "".join(f"alpha {i}\n" for i in range(120)))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "regen")
    repo.write("big.txt", "".join(f"ALPHA {i}\n" for i in range(120)))
    repo.commit("regen")


def test_pager_less_gets_raw_control_flags_when_less_is_unset(repo: TestRepo) -> None:
    if shutil.which("less") is None:
        pytest.skip("less not installed")
    long_diff_repo(repo)
    child = spawn(repo, color=True, env={"PAGER": "<unset>", "LESS": "<unset>"})
    item(child)
    child.send("d")
    child.expect("ALPHA 19")  # less shows the diff (it fills more than a screen)
    child.send("q")  # quit less
    item(child)  # back in the review, the item shown again
    finish(child)
    transcript = child.logfile_read.getvalue()
    assert "ESC[" not in transcript and "^[[" not in transcript  # escapes reached less as colour
    assert "\x1b[" in transcript


def test_pager_unknown_gets_no_escapes(repo: TestRepo) -> None:
    long_diff_repo(repo)
    paged = repo.root.parent / "paged.txt"
    child = spawn(repo, color=True, env={"PAGER": f"cat > '{paged}'"})
    item(child)
    child.send("d")
    item(child)
    finish(child)
    text = paged.read_text()
    assert "+ALPHA 119" in text and "-alpha 0" in text  # the whole diff, uncut
    assert "\x1b" not in text


# ---------------------------------------------------------------------------- 5. ws only


def test_whitespace_only_diffs_show_both_sides(repo: TestRepo) -> None:
    repo.write("crlf.txt", "".join(f"line {i}\n" for i in range(80)))
    repo.write("indent.txt", "".join(f"  item {i}\n" for i in range(80)))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "regen")
    repo.write("crlf.txt", "".join(f"line {i}\r\n" for i in range(80)))
    repo.write("indent.txt", "".join(f"    item {i}\n" for i in range(80)))
    repo.commit("regen")

    child = spawn(repo)
    shown = item(child)
    assert "crlf.txt" in shown
    assert "-line·0\n+line·0␍\n-line·1\n+line·1␍" in shown, shown
    child.send("s")
    shown = item(child)
    assert "indent.txt" in shown
    assert "-··item·0\n+····item·0\n" in shown, shown
    finish(child)


# ---------------------------------------------------------------------------- 6. reject


def test_reject_says_what_it_did_and_is_counted(repo: TestRepo) -> None:
    repo.write("a.json", dump({"a": 1, "b": 2}))
    repo.write("b.json", dump({"accuracy": 0.81}))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "regen")
    repo.write("a.json", dump({"b": 2, "a": 1}))
    repo.write("b.json", dump({"accuracy": 0.79}))
    repo.commit("regen")

    child = spawn(repo)
    shown = item(child)
    assert "[1/2] done 0 · approved 0 · rejected 0 · skipped 0" in shown
    child.send("r")
    shown = item(child)
    assert "✗ rejected a.json: nothing is rewritten (restore_base not applied)" in shown
    assert "[2/2] done 1 · approved 0 · rejected 1 · skipped 0" in shown
    child.send("r")
    child.expect("✗ rejected b.json: the change stays unapproved")
    # the rejected real change and the rejected noise are left: --fail-on real says exit 1
    child.expect("left: 2 mismatch")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert [(e["path"], e["decision"], e["label"]) for e in log(repo)] == [
        ("a.json", "reject", "different"),
        ("b.json", "reject", "different"),
    ]
    assert repo.read("a.json") == dump({"b": 2, "a": 1})  # nothing rewritten


def test_pager_flags_for_less_and_others() -> None:
    from phase2_git.ui.review import pager

    path = os.environ.get("PATH", "")
    cmd, env, raw = pager({"PATH": path, "PAGER": "less"})
    assert cmd == "less" and env["LESS"] == "-FRX" and raw
    # the user's LESS wins: kept as it is, and escapes only when it has -R / -r
    for less, expect in (("-S", False), ("-SR", True), ("FRX", True), ("-r", True), ("-x4", False)):
        cmd, env, raw = pager({"PATH": path, "PAGER": "less", "LESS": less})
        assert env["LESS"] == less and raw is expect, less
    cmd, env, raw = pager({"PATH": path, "PAGER": "/usr/bin/less -R", "LESS": "-S"})
    assert raw
    cmd, env, raw = pager({"PATH": path, "PAGER": "less --RAW-CONTROL-CHARS", "LESS": ""})
    assert raw
    cmd, env, raw = pager({"PATH": path, "PAGER": "more"})
    assert cmd == "more" and "LESS" not in env and not raw
    cmd, env, raw = pager({"PATH": "/nonexistent"})  # no PAGER, no less: printed in place
    assert cmd is None
