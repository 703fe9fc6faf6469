"""What phase2 prints and writes, under attack: huge numbers and keys (reports stay small),
paths that pose as other paths, paths that are pathspec magic to git, paths that are GitHub
workflow commands in a CI log, the Action's mismatch count, and hints that name options the
command has. Every case runs the real CLI on a real repository."""

from __future__ import annotations

import ast
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from phase2_git.core import jsonvalue
from phase2_git.core.sanitize import sanitize_path
from tests.conftest import Cli, TestRepo
from tests.hostile_support import record
from tests.test_action import pr_repo, run_action  # noqa: F401 - a fixture
from tests.test_github import parse_annotations
from tests.test_sanitize import unescape_path

ROOT = Path(__file__).resolve().parent.parent
PER_MISMATCH = 64 * 1024


def nbytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def write_raw(repo: TestRepo, name: str, data: bytes) -> None:
    # names may hold bytes that are not UTF-8: write them as the file system has them
    (repo.root / os.fsencode(name).decode("utf-8", "surrogateescape")).write_bytes(data)


# ---------------------------------------------------------------------------- item 8


def _huge_pair(repo: TestRepo, name: str, before: bytes, after: bytes) -> tuple[str, str]:
    repo.write(name, before)
    base = repo.commit("base")
    repo.write(name, after)
    head = repo.commit("regen")
    return base, head


def _reports(
    cli: Cli, repo: TestRepo, base: str, head: str, tmp: Path
) -> tuple[dict[str, Any], str, str, str, str]:
    junit, summary = tmp / "j.xml", tmp / "s.md"
    code, out, err = cli(
        "diff",
        base,
        head,
        "--format",
        "json",
        "--junit",
        str(junit),
        "--summary",
        str(summary),
        repo=repo,
    )
    assert code == 1, err
    doc = json.loads(out)
    _, text, _ = cli("diff", base, head, repo=repo)
    return doc, out, junit.read_text(), summary.read_text(), text


def _assert_small(doc: dict[str, Any], out: str, junit: str, md: str, text: str) -> None:
    n = len(doc["mismatches"])
    for line in out.splitlines():
        assert nbytes(line) < PER_MISMATCH, nbytes(line)
    for name, body in (("json", out), ("junit", junit), ("markdown", md), ("text", text)):
        assert nbytes(body) < PER_MISMATCH * max(n, 1), (name, nbytes(body))


def test_item8_huge_number_whose_last_digit_changes(
    repo: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    digits = "7" * 3_000_000
    base, head = _huge_pair(
        repo, "metrics.json", b'{"x": %s0}\n' % digits.encode(), b'{"x": %s1}\n' % digits.encode()
    )
    doc, out, junit, md, text = _reports(cli, repo, base, head, tmp_path)
    _assert_small(doc, out, junit, md, text)
    (m,) = doc["mismatches"]
    assert m["mismatch_type"] == "content"
    # still says what changed: the last digits of both sides, where, and how much was cut
    found = re.fullmatch(r"(.*) → (.*) at \$\.x", m["detail"])
    assert found, m["detail"]
    before, after = found.groups()
    assert before.endswith("7770") and after.endswith("7771"), m["detail"]
    assert before.startswith("7777") and "chars]" in before
    assert all(nbytes(v["detail"]) < 1024 for v in m["verdicts"])
    assert "7770 → " in junit and m["detail"] in junit.replace("&gt;", ">")
    record("attacks", "item8: a 3 MB number whose last digit changes: reports stay small", True)


def test_item8_huge_number_changed_in_the_middle_shows_the_change(
    repo: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    left, right = "1" * 1_000_000, "2" * 1_000_000
    base, head = _huge_pair(
        repo,
        "m.json",
        b'{"x": %s3%s}\n' % (left.encode(), right.encode()),
        b'{"x": %s4%s}\n' % (left.encode(), right.encode()),
    )
    doc, out, junit, md, text = _reports(cli, repo, base, head, tmp_path)
    _assert_small(doc, out, junit, md, text)
    detail = doc["mismatches"][0]["detail"]
    before, after = detail.rsplit(" at ", 1)[0].split(" → ")
    # the window sits on the first difference: the 3 and the 4 are both shown
    assert "1113222" in before and "1114222" in after, detail
    record("attacks", "item8: a 2 MB number changed in its middle: the change is shown", True)


def test_item8_huge_key_whose_last_character_changes(
    repo: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    key = "k" * 3_000_000
    base, head = _huge_pair(
        repo, "keys.json", b'{"%s0": 1}\n' % key.encode(), b'{"%s1": 1}\n' % key.encode()
    )
    doc, out, junit, md, text = _reports(cli, repo, base, head, tmp_path)
    _assert_small(doc, out, junit, md, text)
    detail = doc["mismatches"][0]["detail"]
    assert detail.startswith("key removed at $.kkkk") and detail.endswith("kkk0"), detail
    record("attacks", "item8: a 3 MB key whose last character changes: reports stay small", True)


def test_item8_deep_path_of_long_keys_and_duplicate_key_order(
    repo: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    # 200 levels of 10 kB keys: the JSON path alone would be 2 MB
    keys = [f"{'q' * 10_000}{i}" for i in range(200)]

    def nest(leaf: bytes) -> bytes:
        out = leaf
        for k in reversed(keys):
            out = b'{"%s": %s}' % (k.encode(), out)
        return out + b"\n"

    base, head = _huge_pair(repo, "deep.json", nest(b"1"), nest(b"2"))
    dup = "d" * 500_000
    repo.write("dup.json", f'{{"{dup}A": 1, "{dup}B": 2, "{dup}A": 3}}\n')
    base2 = repo.commit("dup base")
    repo.write("dup.json", f'{{"{dup}B": 2, "{dup}A": 1, "{dup}A": 3}}\n')
    head2 = repo.commit("dup regen")
    doc, out, junit, md, text = _reports(cli, repo, base, head, tmp_path)
    _assert_small(doc, out, junit, md, text)
    detail = doc["mismatches"][0]["detail"]
    assert detail.startswith("1 → 2 at $.qqq") and detail.endswith("qqq199"), detail
    assert nbytes(detail) <= jsonvalue.WHERE_SHOWN + 64
    doc, out, junit, md, text = _reports(cli, repo, base2, head2, tmp_path)
    _assert_small(doc, out, junit, md, text)
    detail = doc["mismatches"][0]["detail"]
    assert "dddA'" in detail and "dddB'" in detail and nbytes(detail) < 1024, detail
    record("attacks", "item8: deep paths of long keys and duplicate keys stay small", True)


def test_item8_review_view_is_bounded_and_grouping_stays_exact(repo: TestRepo) -> None:
    """The terminal review shows the cut form; grouping ("the same difference in 40 files")
    compares exact values, so two changes that only look alike once cut stay apart."""
    from phase2_git.ui import diffview

    digits = "5" * 200_000
    a = jsonvalue.parse(b'{"x": %s0}' % digits.encode())
    b = jsonvalue.parse(b'{"x": %s1}' % digits.encode())
    (line,) = diffview.json_changes(a, b)
    before, after = line.removeprefix("$.x: ").split(" → ")
    assert len(line) < 512 and before.endswith("5550") and after.endswith("5551"), line
    c = jsonvalue.parse(b'{"x": %s2}' % digits.encode())
    s = "s" * 100
    assert diffview.json_changes(a, b, shown=False) != diffview.json_changes(a, c, shown=False)
    # strings cut at 60 characters for the reviewer must not make two changes "the same"
    x, y, z = (jsonvalue.parse(f'{{"k": "{s}{t}"}}'.encode()) for t in "123")
    assert diffview.json_changes(x, y) == diffview.json_changes(x, z)  # they look alike
    assert diffview.json_changes(x, y, shown=False) != diffview.json_changes(x, z, shown=False)
    record("attacks", "item8: review view bounded; grouping compares exact values", True)


# ---------------------------------------------------------------------------- item 9

# names that pose as one another once stripped, unescaped or rendered as markup/emoji; all
# get the same change so that every other column of a report is identical
LOOKALIKES = [
    "csi\x1b[2J.txt",
    "csi.txt",
    "lit\x1b.txt",
    "lit\\x1b.txt",
    "[bold]b.txt",
    "b.txt",
    ":smile:.txt",
    "\U0001f604.txt",
    "c1\x85.txt",
    "c1\udc85.txt",  # the undecodable byte 0x85
    "c1\\x85.txt",
    "c1\\u0085.txt",
    "osc\x1b]8;;x\x07.txt",
    "osc.txt",
    "bidi\u202eexe.txt",
    "bidi\\u202eexe.txt",
]


@pytest.fixture
def lookalike_repo(repo: TestRepo) -> TestRepo:
    for name in LOOKALIKES:
        write_raw(repo, name, b"one\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "regen")
    for name in LOOKALIKES:
        write_raw(repo, name, b"two\n")
    repo.commit("regen")
    return repo


def _distinct(rows: Iterable[str], what: str) -> None:
    rows = list(rows)
    assert len(rows) == len(LOOKALIKES), (what, rows)
    assert len(set(rows)) == len(rows), (what, sorted(rows))


def _table_rows(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("PATH"))
    return [line.rstrip() for line in lines[start + 1 :] if "modified" in line]


def test_item9_no_two_paths_render_alike_in_any_report(
    lookalike_repo: TestRepo,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = lookalike_repo
    step_summary = tmp_path / "step.md"
    step_summary.touch()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    junit, summary = tmp_path / "j.xml", tmp_path / "s.md"
    code, out, err = cli(
        "diff",
        "main",
        "regen",
        "--junit",
        str(junit),
        "--summary",
        str(summary),
        "--annotations",
        "--step-summary",
        repo=repo,
    )
    assert code == 1, err
    # text: the table
    _distinct(_table_rows(out), "text")
    assert "[bold]b.txt" in out and ":smile:.txt" in out and "\U0001f604.txt" in out
    # markdown: --summary, the step summary and --format markdown
    step_md = step_summary.read_text()
    _, md_out, _ = cli("diff", "main", "regen", "--format", "markdown", repo=repo)
    for name, md in (("summary", summary.read_text()), ("step summary", step_md), ("md", md_out)):
        _distinct([ln for ln in md.splitlines() if ln.startswith("| ") and "modified" in ln], name)
        assert "csi\\\\x1b\\[2J.txt" in md, name  # shown escaped, never stripped
    # annotations: message and file property (GitHub shows 10 a step: the rest of them too)
    from phase2_git.reports import github

    assert len(parse_annotations(err)) == 10
    _, report, _ = cli("diff", "main", "regen", "--format", "json", repo=repo)
    found = parse_annotations("\n".join(github.annotation_lines(json.loads(report), limit=99)))
    _distinct([msg for _, _, msg in found], "annotation message")
    _distinct([props["file"] for _, props, _ in found], "annotation file")
    # JUnit: names and files
    cases = ET.parse(junit).getroot().iter("testcase")
    names = [(str(c.get("name")), str(c.get("file"))) for c in cases]
    _distinct([n for n, _ in names], "junit name")
    _distinct([f for _, f in names], "junit file")
    # each rendering decodes back to its own name
    shown = {unescape_path(sanitize_path(p)) for p in LOOKALIKES}
    assert shown == {os.fsdecode(os.fsencode(p)) for p in LOOKALIKES}
    record("attacks", "item9: look-alike paths render distinctly in every report", True)


def test_item9_resolve_log_check_and_approve_keep_paths_apart(
    lookalike_repo: TestRepo, cli: Cli
) -> None:
    repo = lookalike_repo
    code, out, err = cli("resolve", "main", "--yes", repo=repo)
    assert code in (0, 1), err  # 1 when a real change is left (--fail-on real)
    _distinct([ln for ln in out.splitlines() if ln.startswith("skip")], "resolve --yes")
    # what --yes leaves to a human is not logged: a human's decisions put the paths there
    code, _, err = cli("reject", *LOOKALIKES, "--base", "main", repo=repo)
    assert code == 0, err
    code, out, _ = cli("log", repo=repo)
    rows = [ln for ln in out.splitlines() if " dec_" in ln]
    # ts, decision, action, then the path: everything but the path (and the id) is equal
    _distinct([ln[57:].rsplit("  ", 2)[0] for ln in rows], "log")
    # the hook, given the staged files
    for name in LOOKALIKES:
        write_raw(repo, name, b"three\n")
    repo.git("add", "-A")
    code, out, _ = cli("check", "--require-decision", repo=repo)
    assert code == 1
    _distinct([ln for ln in out.splitlines() if "without a decision" in ln], "check")
    # the review's console takes paths as text, never as markup or emoji codes
    import io

    from phase2_git.ui.review import _console

    buf = io.StringIO()
    _console(buf, False).print(sanitize_path("[bold]x:smile:.txt"))
    assert buf.getvalue() == "[bold]x:smile:.txt\n"
    record("attacks", "item9: resolve, log, check and the review keep look-alikes apart", True)


# ---------------------------------------------------------------------------- item 10

MAGIC = [":odd.json", ":(top)x.json", "*.json", ":(exclude)a.json", ":!b.json", "a.json"]
ORDERED = b'{"a": 1, "b": 2}\n'
REORDERED = b'{"b": 2, "a": 1}\n'


@pytest.mark.parametrize("pathspec_env", [None, "GIT_ICASE_PATHSPECS", "GIT_GLOB_PATHSPECS"])
def test_item10_pathspec_magic_names_resolve_verify_revert(
    repo: TestRepo,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    pathspec_env: str | None,
) -> None:
    if pathspec_env:  # a user's global pathspec setting must neither break nor widen anything
        monkeypatch.setenv(pathspec_env, "1")
    for name in MAGIC:
        repo.write(name, ORDERED)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "regen")
    for name in MAGIC:
        repo.write(name, REORDERED)
    repo.commit("regen")
    code, out, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 0, err
    assert out.count("auto-approve") == len(MAGIC), out
    assert all(repo.read(n) == ORDERED for n in MAGIC)
    code, out, err = cli("verify", repo=repo)
    assert code == 0 and f"{len(MAGIC)} transform(s): ok" in out, out + err
    code, out, _ = cli("log", "--format", "json", repo=repo)
    ids = [json.loads(line)["id"] for line in out.splitlines()]
    for dec in ids:
        code, out, err = cli("revert", dec, repo=repo)
        assert code == 0, err
    assert all(repo.read(n) == REORDERED for n in MAGIC)
    assert repo.git("status", "--porcelain") == ""
    code, out, err = cli("verify", repo=repo)
    assert code == 0 and "problem" not in out, out + err
    record("attacks", f"item10: pathspec-magic names, {pathspec_env or 'plain env'}", True)


# ---------------------------------------------------------------------------- item 11

COMMANDS = [
    "::error title=x::fake.json",
    " ::warning::spaced.json",
    "\u3000::notice::ideographic-space.json",
    "::stop-commands::tok.json",
    ":",
    " :",
    "##[error]legacy.json",
    "x##[stop-commands]tok.json",
    # a long name the text table wraps: its middle must not start a line with "::"
    " ".join(["w" * 50] * 4) + " ::error::wrapped.json",
]


def _line_starts(text: str) -> Iterator[str]:
    for line in text.split("\n"):
        # the runner trims leading white space (.NET's definition, close to str.isspace)
        yield line.lstrip()


_OURS = re.compile(r"::(error|notice) (file=[^,:]*,)?(line=[0-9]+,)?title=phase2%3A [^,:]*::")


def _assert_no_forged_command(text: str, where: str, *, ours: bool = False) -> None:
    for line in _line_starts(text):
        own = _OURS.match(line) if ours else None
        if own:
            # phase2's own annotation: kind, escaped properties, then the message. The runner
            # takes it as such, so "##[" in its file property is never read as a command
            assert "##[" not in line[own.end() :], (where, line)
            continue
        assert not line.startswith("::"), (where, line)
        assert "##[" not in line, (where, line)


@pytest.fixture
def command_repo(repo: TestRepo) -> TestRepo:
    for name in COMMANDS:
        repo.write(name, ORDERED)
    repo.write("real.json", ORDERED)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "regen")
    for name in COMMANDS:
        repo.write(name, REORDERED)
    repo.write("real.json", b'{"a": 2}\n')
    repo.git("add", "-A")
    return repo


def test_item11_no_output_line_is_a_workflow_command(
    command_repo: TestRepo,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    repo = command_repo
    runs: list[tuple[str, str, str]] = []

    def go(*args: str, code: int | None = None) -> tuple[str, str]:
        got, out, err = cli(*args, repo=repo)
        if code is not None:
            assert got == code, (args, got, out, err)
        runs.append((" ".join(args), out, err))
        return out, err

    go("check", code=1)
    go("check", "--require-decision", code=1)
    go("check", "--fix", code=1)
    repo.git("add", "-A")  # what --fix wrote ...
    for name in COMMANDS:  # ... back to noise for the commands below
        repo.write(name, REORDERED)
    repo.git("add", "-A")
    go("diff", "--staged")
    go("diff", "--staged", "--format", "markdown")
    out, _ = go("diff", "--staged", "--format", "json")
    doc = json.loads(out)
    assert {m["path"] for m in doc["mismatches"]} == {*COMMANDS, "real.json"}
    regen = repo.commit("regen")
    go("diff", "main", "regen")
    go("resolve", "main", "--yes", code=1)  # real.json is left to a human: --fail-on real
    go("log")
    out, _ = go("log", "--format", "json")
    # what --yes leaves to a human (real.json) is no decision: not logged
    assert {json.loads(line)["path"] for line in out.splitlines()} == {*COMMANDS}
    go("verify", code=0)
    go("approve", "real.json", "--base", "main", code=0)
    dec = json.loads(out.splitlines()[0])["id"]
    go("revert", dec, code=0)
    # errors quote what the user typed: a ref, a path
    go("diff", "##[error]ref", code=2)
    go("approve", "::error::nope.json", "--base", "main", code=2)
    for args, out, err in runs:
        _assert_no_forged_command(out, f"{args}: stdout")
        _assert_no_forged_command(err, f"{args}: stderr")
    # with annotations on, phase2's own lines are the only ones, and they escape what they quote
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, err = cli("diff", "main", regen, "--annotations", repo=repo)
    assert code == 1, err
    _assert_no_forged_command(out, "annotations: stdout")
    _assert_no_forged_command(err, "annotations: stderr", ours=True)
    found = parse_annotations(err)
    assert len(found) == len(COMMANDS) + 1, err
    # properties are escaped per GitHub's rules (% \r \n : ,): the runner reads the real path
    assert {props["file"] for _, props, _ in found} == {*COMMANDS, "real.json"}
    record("attacks", "item11: no output line is a forged workflow command", True)


def test_item11_annotation_properties_escape_per_github_rules() -> None:
    from phase2_git.reports import github

    path = "a%b,c:d\re\nf::g##[h].json"
    doc = {
        "mismatches": [
            {
                "path": path,
                "mismatch_type": "content",
                "artifact_type": "json",
                "status": "modified",
                "resolved": False,
                "decision": None,
                "plan": {"action": "manual", "safe": False},
            }
        ]
    }
    (line,) = github.annotation_lines(doc)
    props = line.split("::")[1]
    assert props.startswith("error file=a%25b%2Cc%3Ad\\x0de\\x0af%3A%3Ag##[h].json,")
    assert props.endswith(",title=phase2%3A content")
    message = line.split("::", 2)[2]
    assert "%" not in message.replace("%25", "") and "\n" not in line and "\r" not in line
    ((kind, parsed, _),) = parse_annotations(line)
    assert kind == "error"
    assert parsed["file"] == "a%b,c:d\\x0de\\x0af::g##[h].json"
    record("attacks", "item11: annotation properties escaped per GitHub's rules", True)


# ---------------------------------------------------------------------------- item 12a


@pytest.mark.slow
def test_item12a_action_logs_the_real_mismatch_count(
    pr_repo: dict[str, Any],  # noqa: F811
    venv: Path,
    tmp_path: Path,
) -> None:
    repo: TestRepo = pr_repo["repo"]
    run = run_action(repo.root, tmp_path, venv, event_name="pull_request", event=pr_repo["event"])
    assert run.outputs["total"] == "2", run.log
    assert re.search(r"^phase2: 2 mismatch\(es\); report in ", run.logs["diff"], re.M), run.log
    record("attacks", "item12a: the Action logs the real mismatch count", True)


# ---------------------------------------------------------------------------- item 12b


def _command_options() -> dict[str, set[str]]:
    """Every command path (``resolve``, ``labels export``) and its option names."""
    from phase2_git.cli import app

    out: dict[str, set[str]] = {}

    def walk(cmd: Any, name: str) -> None:
        opts = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
        out[name] = opts | {"--help", "-h"}
        for sub_name, sub in getattr(cmd, "commands", {}).items():  # typer vendors click
            walk(sub, f"{name} {sub_name}".strip())

    walk(typer.main.get_command(app), "")
    return out


def _literals(node: ast.AST) -> Iterator[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            yield sub.value
        elif isinstance(sub, ast.JoinedStr):  # an f-string: its text, {…} as one word
            yield "".join(str(v.value) if isinstance(v, ast.Constant) else "X" for v in sub.values)


def _messages(tree: ast.AST) -> Iterator[str]:
    """The text of every error phase2 raises: its message and its hint."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name.endswith("Error") and name[:1].isupper():
                for arg in (*node.args, *(k.value for k in node.keywords)):
                    yield from _literals(arg)


_SUGGESTION = re.compile(r"phase2 ([a-z][a-z-]*(?: [a-z][a-z-]*)?)([^`'\"()]*)")
_OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z-]*)")


def test_item12b_every_command_hint_names_options_that_exist() -> None:
    options = _command_options()
    everywhere = set().union(*options.values())
    suggested = hinted = 0
    for source in sorted((ROOT / "phase2_git").rglob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        # a command line phase2 suggests: its options are that command's
        for text in _literals(tree):
            for m in _SUGGESTION.finditer(text):
                words = m.group(1)
                cmd = words if words in options else words.split()[0]
                if cmd not in options:
                    continue  # "phase2 check: …" is a heading, not a command line
                for opt in _OPTION.findall(m.group(2)):
                    suggested += 1
                    assert opt in options[cmd], f"{source.name}: `phase2 {cmd}` has no {opt}"
        # an error or its hint naming an option: some command has it
        for text in _messages(tree):
            if "git " in text:
                continue  # quotes a git command line, whose options are git's
            for opt in _OPTION.findall(text):
                hinted += 1
                assert opt in everywhere, f"{source.name}: no command has {opt}: {text!r}"
    assert suggested >= 5 and hinted >= 10, (suggested, hinted)
    record("attacks", "item12b: every suggested command line names options it has", True)


def test_item12b_state_file_hints_work_for_approve_and_reject(repo: TestRepo, cli: Cli) -> None:
    repo.write("a.json", ORDERED)
    repo.write("b.json", ORDERED)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "regen")
    repo.write("a.json", REORDERED)
    repo.write("b.json", b'{"a": 3}\n')
    repo.commit("regen")
    code, _, err = cli("resolve", "main", repo=repo)  # not a terminal: lists, saves state
    assert code == 1, err
    (state,) = (repo.root / ".phase2" / "state").iterdir()
    for command in ("approve", "reject", "resolve"):
        state.write_text("garbage")
        args = [command, "b.json", "--base", "main"] if command != "resolve" else [command, "main"]
        code, _, err = cli(*args, repo=repo)
        assert code == 2 and "--restart" in err, err
        hinted = set(_OPTION.findall(err))
        helped = _command_options()[command]
        assert hinted <= helped, (command, hinted - helped)
        code, _, err = cli(*args, "--restart", "--no-commit", repo=repo)
        assert code in (0, 1) and "error" not in err, err
    record("attacks", "item12b: the state file's hints name options approve/reject have", True)
