"""The shortcuts that make ``phase2 check`` on thousands of staged files, the text table on a
terminal and the sniff of every JSON artifact fast: each must answer exactly what the slow
way answers.

* ``repo_relative_all`` resolves each folder once instead of each file's: the same
  repository-relative paths (and the same refusals) as resolving one by one, symlinked
  folders and odd spellings (``./``, ``..``, ``//``, a trailing slash) included.
* ``_clean_json`` proves a document clean with the stdlib's C scanner: whenever it says
  clean, the full parser finds no problem, in JSON or JSONC mode.
* On a terminal, a printable line is written between the escape codes rich gives its style,
  without rich's per-line rendering: byte for byte what ``Console.print`` writes.
* ``jsonc.has_comment`` finds a comment outside strings with one regex search, or, in text
  without a backslash, rules one out from the pieces between quotes: exactly when the JSONC
  scanner finds one.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phase2_git.app.check import _clean_json, _json_problem, _relative, repo_relative_all
from phase2_git.errors import UsageError
from phase2_git.reports import text

# ------------------------------------------------------------------------- repo_relative_all


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``top/repo`` with folders, a symlink to a folder inside, one to a folder outside, and
    ``top/alias`` a symlink to the repository itself."""
    top = tmp_path_factory.mktemp("rel")
    root = top / "repo"
    (root / "a" / "b").mkdir(parents=True)
    (top / "outside").mkdir()
    os.symlink(top / "outside", root / "out")
    os.symlink(root / "a", root / "in")
    os.symlink(root, top / "alias")
    return top


COMPONENTS = st.sampled_from(["a", "b", "in", "out", "repo", "alias", ".", "..", "", "x.json"])


def _one_by_one(root: Path, cwd: Path, name: str) -> str:
    try:
        return _relative(root.resolve(), root, cwd, name)
    except UsageError as exc:
        return f"refused: {exc}"


def _together(root: Path, cwd: Path, names: list[str]) -> list[str]:
    out = []
    for name in names:  # one at a time too: a refusal stops the whole call
        try:
            out.append(repo_relative_all(root, cwd, [name])[0])
        except UsageError as exc:
            out.append(f"refused: {exc}")
    return out


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(st.lists(COMPONENTS, min_size=1, max_size=5), min_size=1, max_size=8),
    where=st.sampled_from(["repo", "repo/a", "alias", "alias/a", "repo/in"]),
    absolute=st.booleans(),
)
def test_folders_resolved_once_give_the_same_paths(
    tree: Path, names: list[list[str]], where: str, absolute: bool
) -> None:
    root, cwd = tree / "repo", tree / where
    spelled = ["/".join(parts) for parts in names]
    if absolute:
        spelled = [str(cwd / s) if s else s for s in spelled]
    spelled = [s for s in spelled if s]  # an empty argument is no file name
    expected = [_one_by_one(root, cwd, s) for s in spelled]
    assert _together(root, cwd, spelled) == expected
    if not any(e.startswith("refused") for e in expected):
        assert repo_relative_all(root, cwd, spelled) == expected  # one call, the folder cache


def test_a_regeneration_folder_resolves_to_its_repository_paths(tree: Path) -> None:
    root = tree / "repo"
    names = [f"a/b/case-{i}.json" for i in range(50)] + ["in/b/x.json", "x.json"]
    got = repo_relative_all(root, tree / "alias", names)
    assert got == [f"a/b/case-{i}.json" for i in range(50)] + ["a/b/x.json", "x.json"]
    with pytest.raises(UsageError, match="not inside the repository"):
        repo_relative_all(root, root, ["a/x.json", "out/x.json"])


# ------------------------------------------------------------------------- _clean_json

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(st.tuples(st.sampled_from(["a", "b", "é", ""]), inner), max_size=4)
    ),
    max_leaves=20,
)


def _dump(value: object) -> str:
    """JSON text of ``value``, where a list of pairs is an object that may repeat a key."""
    if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
        return "{" + ", ".join(f"{json.dumps(k)}: {_dump(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dump(v) for v in value) + "]"
    if isinstance(value, tuple):
        return _dump(list(value))
    return json.dumps(value)


@settings(max_examples=400)
@given(
    value=JSON_VALUES,
    damage=st.sampled_from(["", "NaN", "Infinity", "/* c */", ",", "}", "\ufeff", "\xff"]),
    at=st.integers(min_value=0, max_value=200),
)
def test_clean_means_the_full_parse_finds_nothing(value: object, damage: str, at: int) -> None:
    doc = _dump(value)
    doc = doc[:at] + damage + doc[at:] if damage else doc
    data = doc.encode("utf-8", "surrogatepass") if damage != "\xff" else doc.encode("latin-1")
    if _clean_json(data):
        assert _json_problem(data) is None
        assert _json_problem(data, comments=True) is None
    elif not damage:
        # what the shortcut declines, the full parse decides: a repeated key, nothing else
        problem = _json_problem(data)
        assert problem is None or problem.startswith("duplicate key"), problem


def test_clean_json_declines_what_check_json_refuses() -> None:
    assert _clean_json(b'{"a": [1, {"b": 2.50}], "c": "\\u00e9"}\n')
    assert _clean_json(b"\xef\xbb\xbf[1]")  # a BOM, as the full parse reads it
    for bad in (b'{"a": 1, "a": 2}', b"[NaN]", b"[1,]", b"\xff", b"[" * 100_000):
        assert not _clean_json(bad)
        assert _json_problem(bad) is not None


# ------------------------------------------------------------------------- terminal lines


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@settings(max_examples=300)
@given(
    line=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=60),
    style=st.sampled_from(["", "green", "red", "bold", "yellow"]),
    color=st.booleans(),
    term=st.sampled_from(["xterm-256color", "dumb", "xterm"]),
)
def test_a_terminal_line_is_what_rich_prints(line: str, style: str, color: bool, term: str) -> None:
    from rich.console import Console

    def console(file: io.StringIO) -> Console:
        return Console(
            file=file,
            no_color=not color,
            force_terminal=color or None,
            highlight=False,
            markup=False,
            emoji=False,
            width=100,
            _environ={"TERM": term},
        )

    by_rich = _Terminal()
    console(by_rich).print(line, style=style or None, soft_wrap=True)
    if line.isprintable():  # the lines render() writes itself; the rest go through rich
        before, after = text._style_codes(console(_Terminal()), style)
        assert f"{before}{line}{after}\n" == by_rich.getvalue()


def _doc(rows: int) -> dict[str, object]:
    mismatch: dict[str, object] = {
        "path": "dir/é/a.json",
        "old_path": None,
        "status": "modified",
        "artifact_type": "json",
        "mismatch_type": "content",
        "equivalent": False,
        "verdicts": [],
        "resolved": False,
        "plan": {"action": "review", "safe": False},
        "changes": {
            "real": [{"path": "$.a", "kind": "changed", "before": "1", "after": "2"}],
            "noise": [{"type": "whitespace"}],
            "more": 0,
        },
    }
    summary = {
        "exit_code": 1,
        "total": rows,
        "noise": 0,
        "safe": 0,
        "resolved": 0,
        "real": rows,
        "unresolved_real": rows,
        "fail_on": "real",
        "failing": f"{rows} real",
    }
    ms = [{**mismatch, "path": f"dir/é/{'x' * (k % 70)}{k}.json"} for k in range(rows)]
    return {
        "mismatches": ms,
        "base": "a" * 40,
        "head": ":worktree",
        "config_fingerprint": "f" * 40,
        "summary": summary,
    }


@pytest.mark.parametrize("color", [True, False])
def test_a_terminal_table_keeps_its_rows_order_and_width(
    monkeypatch: pytest.MonkeyPatch, color: bool
) -> None:
    """Lines written directly and lines through rich (a notice with a tab) keep their order:
    the direct ones wait in a buffer that is flushed before rich writes."""
    monkeypatch.setenv("COLUMNS", "90")
    monkeypatch.setenv("TERM", "xterm-256color")
    out = _Terminal()
    text.render(
        _doc(600),  # more rows than one buffer holds
        base_spec="main",
        head_spec=":worktree",
        config_source="default",
        file=out,
        color=color,
        notices=["plain", "tab\there", "plain again"],
    )
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 + 3 + 1 + 600 + 1  # title, notices, header, rows, summary
    plain = [line.replace("\x1b[33m", "").replace("\x1b[0m", "") for line in lines[1:4]]
    assert plain == ["note: plain", "note: tab\there".expandtabs(8), "note: plain again"]
    assert ("\x1b[31m" in out.getvalue()) is color  # real rows in red, on a colour terminal
    rows = lines[5:-1]
    if not color:  # the rows fit the terminal (the summary line is never cut)
        assert all(len(line) <= 90 for line in rows), rows
    # every row in its place: the path keeps its end (the file name) when it is cut
    assert all(f"{k}.json" in row for k, row in enumerate(rows)), rows[:3]


# --------------------------------------------------------------- the JSONC comment sniff

_JSONC_ALPHABET = st.sampled_from(['"', "\\", "/", "*", "\n", "\r", " ", "a", ",", "}", "{", ":"])


@given(st.lists(_JSONC_ALPHABET, max_size=60).map("".join))
def test_the_comment_sniff_agrees_with_the_scanner(text: str) -> None:
    """jsonc.has_comment (one regex search) says exactly what scan(...).comments says."""
    from phase2_git.core import jsonc

    assert jsonc.has_comment(text.encode()) == bool(jsonc.scan(text).comments)


# no backslash: the sniff's split on quotes decides whenever no marker is outside strings
_UNESCAPED = st.sampled_from(['"', '"', "/", "/", "*", "\n", " ", "a", ":", "}"])


@given(st.lists(_UNESCAPED, max_size=80).map("".join))
def test_the_comment_sniff_without_escapes_agrees_with_the_scanner(text: str) -> None:
    from phase2_git.core import jsonc

    assert jsonc.has_comment(text.encode()) == bool(jsonc.scan(text).comments)


@pytest.mark.parametrize(
    ("text", "comment"),
    [
        ('{"url": "https://example.org/a"}', False),  # markers inside strings only
        ('{"a": "x\n" // after a raw line break in a string: the scan ended there\n}', False),
        ('{"a": "open\n, "b": "// after an unterminated string"}', False),
        ('{"a": 1} /* unclosed', False),
        ('{"a": 1} /* closed */', True),
        ('"// inside" // outside', True),
    ],
)
def test_the_comment_sniff_on_urls_and_unterminated_strings(text: str, comment: bool) -> None:
    from phase2_git.core import jsonc

    assert jsonc.has_comment(text.encode()) is comment
    assert bool(jsonc.scan(text).comments) is comment


@given(st.text(max_size=200))
def test_the_comment_sniff_agrees_on_any_text(text: str) -> None:
    from phase2_git.core import jsonc

    data = text.encode("utf-8", "surrogatepass")
    decoded = data.decode("utf-8", "replace")
    assert jsonc.has_comment(data) == bool(jsonc.scan(decoded).comments)


# ------------------------------------------- the text table measured while the rows are made


def test_the_table_measured_while_encoding_is_the_two_pass_table(repo: Any, cli: Any) -> None:
    """``phase2 diff --format text`` measures its columns as the mismatches are encoded and
    reads them back once: the table is the one the two-pass render makes of the same report."""
    wide = "a-very-long-folder-name/" * 3
    for i in range(12):
        repo.write(f"{wide}case-{i}.json", json.dumps({"k": i, "v": [1, 2]}, indent=2) + "\n")
    repo.commit("base")
    for i in range(12):
        doc = {"v": [1, 2], "k": i} if i % 3 else {"k": i + 100, "v": [1, 2, 3]}
        repo.write(f"{wide}case-{i}.json", json.dumps(doc, indent=4 if i % 2 else 2) + "\n")
    repo.commit("regenerated")
    code, table, _ = cli("diff", "HEAD~1", "HEAD", "--format", "text", repo=repo)
    code_json, out, _ = cli("diff", "HEAD~1", "HEAD", "--format", "json", repo=repo)
    assert code == code_json == 1
    doc = json.loads(out)
    buffer = io.StringIO()
    text.render(
        doc, base_spec="HEAD~1", head_spec="HEAD", config_source="x", file=buffer, color=False
    )
    # the first line names the configuration's source; the table is the rest
    assert table.splitlines()[1:] == buffer.getvalue().splitlines()[1:]
    assert len(table.splitlines()) == 12 + 3  # header, column names, 12 rows, summary
