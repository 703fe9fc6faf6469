"""What the CLI prints for people and for pipes: the text table, ``phase2 log``, pathspecs after
``--``, the hook's summary, the help pages and what the demo suggests. Real repositories, the
real CLI; a subprocess (or a pseudo-terminal) wherever a TTY, ``COLUMNS`` or a pipe matters."""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import Cli, TestRepo
from tests.hostile_support import hermetic_env, run_phase2

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()

# a path well past 50 characters: the old table cut it there, silently
LONG = "generated/" + "deeply_nested_folder/" * 4 + "a_rather_long_artifact_name.json"
ORDERED = b'{"a": 1, "b": 2}\n'
REORDERED = b'{"b": 2, "a": 1}\n'


@pytest.fixture
def regen(repo: TestRepo) -> TestRepo:
    """main → regen: noise and real changes, a long path, a rename, a mixed file."""
    repo.write(LONG, ORDERED)
    repo.write("css/site.json", ORDERED)
    repo.write("css/vendor/lib.json", ORDERED)
    repo.write("data/metrics.json", b'{"accuracy": 0.81, "cases": 412}\n')
    repo.write("old.txt", b"moved as is\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "regen")
    repo.write(LONG, REORDERED)
    repo.write("css/site.json", b'{\n    "a": 1,\n    "b": 3\n}\n')  # mixed: indent + real
    repo.write("css/vendor/lib.json", b'{"a": 1, "b": 2}\r\n')
    repo.write("data/metrics.json", b'{"accuracy": 0.79, "cases": 412}\n')
    (repo.root / "old.txt").rename(repo.root / "new.txt")
    repo.commit("regen")
    return repo


def _doc(cli: Cli, repo: TestRepo, *args: str) -> dict[str, object]:
    code, out, err = cli("diff", "--format", "json", *args, repo=repo)
    assert code in (0, 1), err
    doc: dict[str, object] = json.loads(out)
    return doc


def _paths(doc: dict[str, object]) -> list[str]:
    return [m["path"] for m in doc["mismatches"]]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- 1. text table


@pytest.mark.parametrize("columns", ["40", "300"])
def test_piped_table_is_one_line_a_row_whole_paths_no_trailing_spaces(
    regen: TestRepo, tmp_path: Path, columns: str
) -> None:
    env = hermetic_env(tmp_path / "home", COLUMNS=columns)
    res = run_phase2(["diff", "main", "regen"], cwd=regen.root, env=env)
    assert res.code == 1, res.err
    lines = res.out.decode().splitlines()
    header = next(i for i, ln in enumerate(lines) if ln.startswith("PATH "))
    rows = lines[header + 1 : -1]
    assert len(rows) == 5, lines  # one line a mismatch: nothing wrapped onto another line
    assert lines[-1].startswith("5 mismatch(es)")
    assert any(ln.startswith(LONG + " ") for ln in rows), rows  # the whole path
    assert "…" not in "\n".join(rows[:1] + [r for r in rows if r.startswith(LONG)])
    assert all(ln == ln.rstrip() for ln in lines), [ln for ln in lines if ln != ln.rstrip()]
    # columns line up: every row's STATUS starts where the header's does
    at = lines[header].index("STATUS")
    assert all(re.match(r"(modified|renamed|added|deleted) ", ln[at:]) for ln in rows), rows
    # awk sees the fields: path, status, artifact type, mismatch type
    fields = {ln.split()[0]: ln.split()[1:4] for ln in rows if not ln.startswith("old.txt")}
    assert fields[LONG] == ["modified", "json", "json_ordering"]
    assert fields["data/metrics.json"] == ["modified", "json", "content"]


def test_piped_table_is_the_same_whatever_the_width(regen: TestRepo, tmp_path: Path) -> None:
    outs = {
        run_phase2(
            ["diff", "main", "regen"], cwd=regen.root, env=hermetic_env(tmp_path / c, COLUMNS=c)
        ).out
        for c in ("20", "80", "500")
    }
    assert len(outs) == 1


def _tty(repo: TestRepo, columns: int, *args: str) -> list[str]:
    pexpect = pytest.importorskip("pexpect")
    env = hermetic_env(repo.root.parent / f"home-tty-{columns}", COLUMNS=str(columns))
    env["TERM"] = "xterm-256color"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "phase2_git", "diff", "main", "regen", *args],
        cwd=str(repo.root),
        env=env,
        timeout=60,
        dimensions=(50, columns),
        encoding="utf-8",
    )
    out = child.read()
    child.close()
    assert child.exitstatus == 1, out
    return [ln for ln in out.replace("\r\n", "\n").split("\n") if ln]


def test_terminal_table_fits_and_cuts_other_columns_before_the_path(regen: TestRepo) -> None:
    width = len(LONG) + 60  # room for the path and a little of the rest
    lines = _tty(regen, width)
    header = next(i for i, ln in enumerate(lines) if ln.startswith("PATH "))
    rows = lines[header + 1 : -1]
    assert len(rows) == 5, lines
    assert all(len(ln) <= width for ln in lines[header:-1]), lines
    assert any(ln.startswith(LONG + " ") for ln in rows), rows  # the path is whole
    assert "…" in "\n".join(rows)  # what was cut says so


def test_terminal_table_too_narrow_for_the_path_shows_its_end(regen: TestRepo) -> None:
    lines = _tty(regen, 60)
    row = next(ln for ln in lines if ln.startswith("…") and "_name.json" in ln)
    shown = row.split()[0][1:]
    assert len(shown) >= 8 and LONG.endswith(shown), row  # cut, with an ellipsis, end kept
    assert all(len(ln) <= 60 for ln in lines[1:-1]), lines


# ---------------------------------------------------------------------------- 2. phase2 log


def test_log_columns_line_up(regen: TestRepo, cli: Cli) -> None:
    code, _, err = cli("resolve", "main", "--yes", repo=regen)
    assert code in (0, 1), err
    code, out, _ = cli("log", repo=regen)
    assert code == 0
    rows = [ln for ln in out.splitlines() if " dec_" in ln]
    assert len(rows) >= 3
    assert len({len(p) for p in _log_paths(rows)}) > 1  # paths of different lengths
    # the user column (and the id after it) starts at the same offset on every row
    assert len({ln.index("Test User") for ln in rows}) == 1, rows
    assert len({ln.index(" dec_") for ln in rows}) == 1, rows
    assert all(ln == ln.rstrip() for ln in out.splitlines())


def _log_paths(rows: list[str]) -> list[str]:
    return [ln[57:].split("  ")[0] for ln in rows]


# ---------------------------------------------------------------------------- 3. pathspecs


def test_diff_takes_pathspecs_after_double_dash(regen: TestRepo, cli: Cli) -> None:
    everything = _paths(_doc(cli, regen, "main", "regen"))
    assert len(everything) == 5
    assert _paths(_doc(cli, regen, "main", "regen", "--", "css/**")) == [
        "css/site.json",
        "css/vendor/lib.json",
    ]
    # several, a negation, '.', './', a rename by either name
    assert _paths(_doc(cli, regen, "main", "regen", "--", "css/**", "!css/vendor/**")) == [
        "css/site.json"
    ]
    assert _paths(_doc(cli, regen, "main", "regen", "--", "!css/**")) == [
        p for p in everything if not p.startswith("css/")
    ]
    assert _paths(_doc(cli, regen, "main", "regen", "--", ".")) == everything
    assert _paths(_doc(cli, regen, "main", "regen", "--", "./data/*.json")) == ["data/metrics.json"]
    assert _paths(_doc(cli, regen, "main", "regen", "--", "old.txt")) == ["new.txt"]
    # text output too, and the exit code follows what is left
    code, out, _ = cli("diff", "main", "regen", "--", "css/vendor/**", repo=regen)
    assert code == 0 and "css/vendor/lib.json" in out and "css/site.json" not in out


def test_pathspecs_without_sides_leave_base_and_head_at_their_defaults(
    regen: TestRepo, cli: Cli
) -> None:
    regen.write("css/site.json", ORDERED)
    regen.write("data/metrics.json", b"{}\n")
    doc = _doc(cli, regen, "--", "css/**")
    assert doc["base"] == regen.head() and doc["head"] == ":worktree"
    assert _paths(doc) == ["css/site.json"]
    # an option's value may be `--`: it is not the separator
    code, _, err = cli("diff", "--config", "--", "--", "css/**", repo=regen)
    assert code == 2 and "--: cannot read" in err, err


def test_an_empty_pathspec_is_a_usage_error(regen: TestRepo, cli: Cli) -> None:
    code, _, err = cli("diff", "main", "regen", "--", "", repo=regen)
    assert code == 2 and "empty string is not a pathspec" in err and err.count("\n") == 1


def test_resolve_takes_pathspecs(regen: TestRepo, cli: Cli) -> None:
    code, out, err = cli(
        "resolve", "main", "--yes", "--no-commit", "--", "generated/**", repo=regen
    )
    assert code in (0, 1), err
    assert LONG in out and "css/" not in out and "data/metrics.json" not in out
    assert regen.read(LONG) == ORDERED  # the noise it was given was undone
    assert regen.read("css/vendor/lib.json") == b'{"a": 1, "b": 2}\r\n'  # the rest left alone


def test_check_takes_pathspecs_hook_and_typer_alike(regen: TestRepo, cli: Cli) -> None:
    regen.git("checkout", "-q", "main")
    regen.write(LONG, REORDERED)
    regen.write("css/vendor/lib.json", b'{"a": 1, "b": 2}\r\n')
    regen.git("add", "-A")
    code, out, _ = cli("check", repo=regen)
    assert code == 1 and LONG in out and "css/vendor/lib.json" in out
    code, out, _ = cli("check", "--", "css/**", repo=regen)  # the hook's own parser
    assert code == 1 and "css/vendor/lib.json" in out and LONG not in out
    code, out, _ = cli("check", "--", "data/**", repo=regen)
    assert (code, out) == (0, "")
    # files and pathspecs: the files the pathspecs match
    code, out, _ = cli("check", LONG, "css/vendor/lib.json", "--", "generated/**", repo=regen)
    assert code == 1 and LONG in out and "css/" not in out
    # after `--`, a name that exists is a file, as it always was; a folder is a pathspec
    code, out, _ = cli("check", "--", "css/vendor/lib.json", repo=regen)
    assert code == 1 and "css/vendor/lib.json" in out and LONG not in out
    code, out, _ = cli("check", "--", "css", repo=regen)
    assert code == 1 and "css/vendor/lib.json" in out and LONG not in out
    from phase2_git.cli import main as typer_main

    assert typer_main(["check", "-C", str(regen.root), "--", "data/**"]) == 0


_VALUE = st.sampled_from(["a", "--", "-x", "x=y"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.sampled_from(["--config", "-C", "--repo"]), _VALUE).map(list),
            st.sampled_from([["--fix"], ["f.json"], ["--config=--"], ["-C--"]]),
        ),
        max_size=5,
    ),
    st.lists(st.sampled_from(["css/**", "--", "-f", "--fix", "x"]), max_size=3),
)
def test_split_at_double_dash_as_click_reads_options(
    tokens: list[list[str]], specs: list[str]
) -> None:
    """The separator is the first ``--`` that is not an option's value, in the hook's parser
    and in the typer command alike."""
    import typer.main

    from phase2_git.cli import app
    from phase2_git.cli._common import PATHSPECS
    from phase2_git.hook import parse

    argv = [t for group in tokens for t in group] + ["--", *specs]
    command = typer.main.get_command(app).commands["check"]  # type: ignore[attr-defined]
    ctx = command.make_context("check", list(argv))
    assert ctx.meta[PATHSPECS] == tuple(specs)
    got = parse(argv)
    assert got.pathspecs == tuple(specs)
    assert got.files == list(ctx.params["files"] or [])
    assert (got.config, got.repo_path) == (ctx.params["config"], ctx.params["repo_path"])


# ---------------------------------------------------------------------------- 4. hook summary


def test_hook_caps_its_lines_and_ends_with_counts_and_the_command(repo: TestRepo, cli: Cli) -> None:
    from phase2_git.app.precommit import SHOWN

    n = SHOWN + 25
    for k in range(n):
        repo.write(f"data/f{k:03}.json", ORDERED)
    repo.write("data/zz_broken.json", b'{"ok": true}\n')
    repo.commit("base")
    for k in range(n):
        repo.write(f"data/f{k:03}.json", REORDERED)
    repo.write("data/zz_broken.json", b'{"ok": true,\n')  # malformed, last in path order
    repo.git("add", "-A")
    code, out, _ = cli("check", repo=repo)
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == SHOWN + 1, lines
    assert any(ln.startswith("data/zz_broken.json:") for ln in lines)  # the worst is shown
    summary = lines[-1]
    assert summary.startswith("phase2 check: ") and f"{n} noise" in summary
    assert "1 malformed" in summary and f"{SHOWN} of {n + 1} shown" in summary
    assert "`phase2 check --fix`" in summary
    # a handful of findings is listed in full, as before
    repo.git("reset", "-q", "--hard")
    for k in range(3):
        repo.write(f"data/f{k:03}.json", REORDERED)
    repo.git("add", "-A")
    code, out, _ = cli("check", repo=repo)
    assert code == 1 and len(out.splitlines()) == 4 and "shown" not in out


# ---------------------------------------------------------------------------- 5. help


def _all_commands() -> list[list[str]]:
    import typer.main

    from phase2_git.cli import app

    found: list[list[str]] = []
    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        found.append([name])
        for sub in getattr(command, "commands", {}):
            found.append([name, sub])
    return found


@pytest.mark.parametrize("columns", ["80", "200"])
def test_root_help_lists_commands_in_the_order_a_user_meets_them(
    tmp_path: Path, columns: str
) -> None:
    from phase2_git.cli import COMMANDS

    env = hermetic_env(tmp_path / "home", COLUMNS=columns)
    res = run_phase2(["--help"], cwd=tmp_path, env=env)
    assert res.code == 0, res.err
    text = res.out.decode()
    listed = text.split("Commands:\n", 1)[1]
    rows = [ln.split(None, 1) for ln in listed.splitlines() if ln.startswith("  ")]
    order = [
        "demo", "init", "diff", "check", "resolve", "serve", "approve", "reject", "log", "verify",
        "revert", "merge-driver", "labels", "judge", "gate", "report", "methods",
    ]  # fmt: skip
    assert [r[0] for r in rows] == order
    assert {r[0]: r[1] for r in rows} == COMMANDS  # whole, never cut
    assert "…" not in text and "..." not in listed


def test_every_help_page_reads_without_type_names_or_cuts(cli: Cli) -> None:
    commands = _all_commands()
    assert len(commands) > 15
    for words in commands:
        code, out, err = cli(*words, "--help")
        assert code == 0, (words, err)
        for bad in ("<list[", "<str>", "<int>", "<float>", "…", "[["):
            assert bad not in out, (words, bad, out)
        assert not re.search(r"\w\.\.\.\s*$", out, re.M) or "Commands:" not in out, out
        assert all(ln == ln.rstrip() for ln in out.splitlines() if ln.strip()), (words, out)
        # each option that takes a value names it: `--config FILE`, never a bare type
        for m in re.finditer(r"^  (?:-\w, )?(--[\w-]+) (\S+)", out, re.M):
            assert m.group(2).isupper() or m.group(2).startswith("/"), (words, m.group(0))
    code, out, _ = cli("diff", "--help")
    assert "[BASE] [HEAD] [-- PATHSPEC...]" in out and "--config FILE" in out


# ---------------------------------------------------------------------------- 6. first contact


def test_demo_ends_with_commands_that_work_there(tmp_path: Path, cli: Cli) -> None:
    from phase2_git.app.demo import PLAIN_DIFF, TRY

    env = hermetic_env(tmp_path / "home", TMPDIR=str(tmp_path))
    res = run_phase2(["demo"], cwd=tmp_path, env=env)
    assert res.code == 0, res.err
    out = res.out.decode()
    where = Path(re.search(r"^Demo repository: (.+)$", out, re.M).group(1))  # type: ignore[union-attr]
    assert where.parent == tmp_path and (where / ".git").exists()
    width = max(len(c) for c, _ in TRY)
    for command, what in TRY:
        line = f"  {command:<{width}}  {what}"
        assert line in out.splitlines(), line
        assert line in README, line  # the README shows what the demo prints
    assert out.rstrip().endswith(PLAIN_DIFF)
    # every suggestion runs there, in the order given, and does what its line says
    outputs = {}
    for command, _ in TRY:
        argv = shlex.split(command)
        assert argv[0] == "phase2"
        code, text, err = cli(*argv[1:], repo=where)
        assert code in (0, 1), (command, err)
        assert not err, (command, err)
        outputs[command] = text
    assert "noise:" in outputs["phase2 diff main regen"]
    assert "real" in outputs["phase2 diff main regen"]
    globbed = outputs["phase2 diff main regen -- 'golden/**'"]
    assert "golden/" in globbed and "snapshots/" not in globbed and "eval/" not in globbed
    assert outputs["phase2 diff main regen --format markdown"].startswith("## phase2")
    assert "committed" in outputs["phase2 resolve main --yes"]
    assert "auto-approve" in outputs["phase2 log"]
    left = outputs["phase2 diff main"]
    assert "golden/service.json" not in left and "eval/results.json" in left
    # plain `phase2 diff` there is HEAD against the working tree, as the demo says
    code, text, _ = cli("diff", repo=where)
    assert code == 0 and "no artifact differs" in text


def test_readme_quick_start_uses_a_virtual_environment_or_pipx() -> None:
    start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "python3 -m venv .venv" in start and "pipx install ." in start
    assert "externally-managed-environment" in start


def test_readme_documents_the_forms_that_work_before_a_release() -> None:
    data = Path(__file__).parent / "data"
    local_hook = (data / "pre-commit-local.snippet.yaml").read_text()
    local_action = (data / "workflow-local.snippet.yml").read_text()
    assert local_hook in README and local_action in README
    import yaml

    hooks = yaml.safe_load(local_hook)["repos"][0]
    assert hooks["repo"] == "local"
    manifest = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    for hook in hooks["hooks"]:
        assert hook["language"] == "system"
        assert hook["entry"] == manifest[hook["id"]]["entry"]
        assert hook["require_serial"] is True
    steps = yaml.safe_load(local_action)["jobs"]["artifacts"]["steps"]
    ours = next(s for s in steps if s.get("id") == "phase2")
    checkout = next(s for s in steps if s.get("with", {}).get("repository"))
    assert ours["uses"] == "./" + checkout["with"]["path"]
    assert re.fullmatch(r"[0-9a-f]{40}", checkout["with"]["ref"])
    action_inputs = set(yaml.safe_load((ROOT / "action.yml").read_text())["inputs"])
    assert set(ours.get("with", {})) <= action_inputs


# ---------------------------------------------------------------------------- the table's parts


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=40), st.integers(min_value=2, max_value=50), st.booleans())
def test_cut_fits_and_says_so(cell: str, width: int, keep_end: bool) -> None:
    from rich.cells import cell_len

    from phase2_git.reports.text import _cut

    out = _cut(cell, width, keep_end=keep_end)
    if cell_len(cell) <= width:
        assert out == cell
    else:
        assert cell_len(out) <= width
        if keep_end:
            assert out.startswith("…") and cell.endswith(out[1:])
        else:
            assert out.endswith("…") and cell.startswith(out[:-1])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=120), min_size=6, max_size=7),
    st.integers(min_value=10, max_value=400),
)
def test_fit_cuts_the_other_columns_before_the_path(widths: list[int], room: int) -> None:
    from phase2_git.reports.text import _GAP, _HEADERS, _fit

    widths = [max(w, len(h)) for w, h in zip(widths, _HEADERS, strict=False)]
    fitted = _fit(widths, room)
    assert all(0 < f <= w for f, w in zip(fitted, widths, strict=True))
    total = sum(fitted) + len(_GAP) * (len(fitted) - 1)
    if sum(widths) + len(_GAP) * (len(widths) - 1) <= room:
        assert fitted == widths  # nothing cut when it fits
    elif fitted[0] < widths[0]:
        # the path gave way only once every other column was at its header's width
        assert all(f <= len(_HEADERS[i]) for i, f in enumerate(fitted) if i)
    if total > room:  # too narrow even for the floors: every column is at its last one
        assert fitted[0] == min(widths[0], 8)
        assert all(f == min(w, 3) for f, w in zip(fitted[1:], widths[1:], strict=True))


def test_rows_are_written_as_they_are_read() -> None:
    """One pass over the mismatches measures the columns and spools each row's cells; the
    second writes each row as it reads it back from the spool, which goes to a temporary
    file past a megabyte: nothing holds the rows (memory flat with their number)."""
    import io
    from collections.abc import Iterator, Sequence
    from typing import Any

    from phase2_git.reports import text

    reads: list[int] = []

    class Spool(Sequence[dict[str, Any]]):
        def __init__(self, n: int) -> None:
            self.n = n

        def __len__(self) -> int:
            return self.n

        def __getitem__(self, i: Any) -> Any:
            raise AssertionError("read in order only")

        def __iter__(self) -> Iterator[dict[str, Any]]:
            for k in range(self.n):
                reads.append(k)
                yield {
                    "path": f"p{k}.json", "old_path": None, "status": "modified",
                    "artifact_type": "json", "mismatch_type": "whitespace", "equivalent": True,
                    "verdicts": [{"method": "exact", "equivalent": True}],
                    "plan": {"action": "restore_base", "safe": True}, "resolved": False,
                }  # fmt: skip

    written: list[int] = []

    class Out(io.StringIO):
        def write(self, s: str) -> int:
            written.append(len(reads))
            return super().write(s)

    summary = {
        "exit_code": 0, "total": 1000, "noise": 1000, "safe": 1000, "resolved": 0, "real": 0,
        "unresolved_real": 0, "fail_on": "real", "failing": 0,
    }  # fmt: skip
    doc: dict[str, Any] = {"base": "a", "head": "b", "config_fingerprint": "f" * 12}
    doc.update(mismatches=Spool(1000), summary=summary)
    out = Out()
    text.render(doc, base_spec="a", head_spec="b", config_source="x", file=out, color=False)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1000 + 3
    row = "p1.json modified json whitespace noise: exact restore_base (safe)"
    assert lines[3].split() == row.split()
    assert reads == list(range(1000))  # the mismatches were read once, in order
    assert all(w == 1000 for w in written)  # the rows were written from the spool
    # the rows of a large table wait in a temporary file, not in memory
    widths = text.Widths()
    for m in Spool(20_000):
        widths.add(m)
    assert widths._kept._spilled
    assert sum(1 for _ in widths.kept()) == 20_000
    widths.close()
