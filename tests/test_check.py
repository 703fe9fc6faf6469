"""``phase2 check``: the pre-commit entry, on real repositories and real git hooks."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import Cli, TestRepo
from tests.hostile_support import run_phase2, untraced

ORDERED = b'{"a": 1, "b": 2}\n'
REORDERED = b'{"b": 2, "a": 1}\n'
REAL = b'{"a": 1, "b": 3}\n'


def check(cli: Cli, repo: TestRepo, *args: str) -> tuple[int, str]:
    code, out, err = cli("check", *args, repo=repo)
    assert err == "", err
    return code, out


@pytest.fixture
def base(repo: TestRepo) -> TestRepo:
    repo.write("data/a.json", ORDERED)
    repo.write("data/b.json", ORDERED)
    repo.write("notes.txt", "one\ntwo\n")
    repo.commit("base")
    return repo


def test_clean_index_passes(base: TestRepo, cli: Cli) -> None:
    assert check(cli, base) == (0, "")
    assert check(cli, base, "data/a.json", "notes.txt") == (0, "")


def test_staged_noise_fails_real_change_passes(base: TestRepo, cli: Cli) -> None:
    base.write("data/a.json", REORDERED)
    base.write("data/b.json", REAL)
    base.git("add", "-A")
    code, out = check(cli, base)
    assert code == 1
    assert "data/a.json: noise only (json_ordering): plan restore_base, safe to fix" in out
    assert "data/b.json" not in out
    # only the given files are checked
    assert check(cli, base, "data/b.json") == (0, "")
    code, out = check(cli, base, "data/a.json")
    assert code == 1 and out.count("data/a.json:") == 1
    # real changes fail only when a decision is required
    code, out = check(cli, base, "data/b.json", "--require-decision")
    assert code == 1
    assert "data/b.json: real change (content, modified) without a decision" in out
    assert "phase2 approve data/b.json" in out


def test_unstaged_noise_is_not_checked(base: TestRepo, cli: Cli) -> None:
    base.write("data/a.json", REORDERED)  # not staged: not what is being committed
    assert check(cli, base) == (0, "")


def test_files_filtered_through_artifact_globs(base: TestRepo, cli: Cli) -> None:
    base.write(
        ".phase2/config.toml", '[artifacts]\ninclude = ["data/**"]\nexclude = ["data/b.json"]\n'
    )
    base.write("notes.txt", "one\r\ntwo\r\n")
    base.write("data/b.json", REORDERED)
    base.write("data/a.json", REORDERED)
    base.git("add", "-A")
    code, out = check(cli, base, "notes.txt", "data/b.json", ".phase2/config.toml")
    assert (code, out) == (0, "")  # none of them is an artifact
    code, out = check(cli, base)
    assert code == 1 and "data/a.json" in out and "notes.txt" not in out and "b.json" not in out


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'{"ok": tru\n', "invalid JSON: Expecting value"),
        (b'{"a": 1, "a": 2}\n', "invalid JSON: duplicate key 'a'"),
        (b'{"a": [{"x": 1, "x": 1}]}\n', "invalid JSON: duplicate key 'x'"),
        (b'{"a": NaN}\n', "invalid JSON: NaN is not valid JSON"),
        (b'\xff{"a": 1}\n', "invalid JSON: not UTF-8"),
    ],
)
def test_malformed_json_fails(base: TestRepo, cli: Cli, content: bytes, needle: str) -> None:
    base.write("data/a.json", content)
    base.git("add", "-A")
    code, out = check(cli, base)
    assert code == 1 and f"data/a.json: {needle}" in out, out
    # a malformed artifact is a finding even when a decision is required: one line only
    code, out = check(cli, base, "--require-decision")
    assert out.count("data/a.json:") == 1


def test_malformed_json_already_committed_fails_when_given(base: TestRepo, cli: Cli) -> None:
    base.write("weird name [1].json", b"{")
    base.commit("broken")
    assert check(cli, base) == (0, "")  # nothing staged
    # not a regression: a file that never parsed is someone's template, not the hook's
    assert check(cli, base, "weird name [1].json", "data/a.json") == (0, "")
    # check-json semantics for `pre-commit run --all-files` on files declared strict JSON:
    # every given file is parsed
    base.write(".phase2/config.toml", '[artifacts]\nstrict_json = ["*.json"]\n')
    code, out = check(cli, base, "weird name [1].json", "data/a.json")
    assert code == 1 and "weird name [1].json: invalid JSON" in out


def test_fix_restores_base_bytes_and_never_commits(base: TestRepo, cli: Cli) -> None:
    head = base.head()
    index_before = base.git("ls-files", "-s")
    base.write("data/a.json", REORDERED)
    base.write("notes.txt", "one\r\ntwo\r\n")
    (base.root / "notes.txt").chmod(0o755)
    base.git("add", "-A")
    staged = base.git("ls-files", "-s")
    code, out = check(cli, base, "--fix")
    assert code == 1, out
    assert "data/a.json: fixed json_ordering noise (restore_base.v1)" in out
    assert "notes.txt: fixed line_endings noise (restore_base.v1)" in out
    assert base.read("data/a.json") == ORDERED
    assert base.read("notes.txt") == b"one\ntwo\n"
    assert stat.S_IMODE((base.root / "notes.txt").stat().st_mode) == 0o755
    # the hook only rewrites files: index and history untouched
    assert base.git("ls-files", "-s") == staged != index_before
    assert base.head() == head
    base.git("add", "-A")
    assert check(cli, base, "--fix") == (0, "")


def test_fix_of_many_files_runs_git_for_converted_ones_only(
    base: TestRepo, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A regeneration's fix: the files a checkout writes byte for byte get their new bytes
    as they are; only a file git converts (here ``eol=crlf``) asks git for its checkout form.
    A ``cat-file`` for every file made 3,000 staged files take 5 s. Counted in git's own
    trace of the commands it runs."""
    base.write(".gitattributes", "crlf/*.json text eol=crlf\n")
    base.write("crlf/c.json", ORDERED)
    names = [f"many/f{i:02d}.json" for i in range(30)]
    for name in names:
        base.write(name, ORDERED)
    base.commit("many")
    for name in names:
        base.write(name, REORDERED)
    base.write("crlf/c.json", REORDERED.replace(b"\n", b"\r\n"))  # what a checkout writes
    (base.root / "many/f00.json").chmod(0o600)
    base.git("add", "-A")
    trace = tmp_path / "git.trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    code, out = check(cli, base, "--fix")
    monkeypatch.delenv("GIT_TRACE")
    assert code == 1 and "phase2 check: 31 fixed (20 of 31 shown" in out, out
    assert all(base.read(name) == ORDERED for name in names)
    assert base.read("crlf/c.json") == ORDERED.replace(b"\n", b"\r\n")
    assert stat.S_IMODE((base.root / "many/f00.json").stat().st_mode) == 0o600
    ran = [line for line in trace.read_text().splitlines() if "git cat-file --filters" in line]
    assert len(ran) == 1 and "--path=crlf/c.json" in ran[0], ran
    base.git("add", "-A")
    assert check(cli, base, "--fix") == (0, "")


def test_fix_canonicalize_strategy(base: TestRepo, cli: Cli) -> None:
    base.write(
        ".phase2/config.toml",
        '[noise.strategy]\njson_ordering = "canonicalize"\nwhitespace = "canonicalize"\n',
    )
    base.commit("config")
    base.write("data/a.json", b'{"b": 2,   "a": 1}\n')
    base.git("add", "-A")
    code, out = check(cli, base, "--fix", "data/a.json")
    # canonical formatting, the file's own key order (noise.json_sort_keys is false)
    assert code == 1 and "canonicalize_json.indent2.ordered.v1" in out, out
    assert base.read("data/a.json") == b'{\n  "b": 2,\n  "a": 1\n}\n'
    base.git("add", "-A")
    # already canonical: resolved, nothing left to fix
    assert check(cli, base, "data/a.json") == (0, "")


def test_fix_canonicalizes_a_converted_file_through_git(base: TestRepo, cli: Cli) -> None:
    """A transform's bytes for a file git converts (``eol=crlf``): stored as a blob, then
    written as a checkout writes that blob (CRLF), not as the transform made them (LF)."""
    base.write(
        ".phase2/config.toml",
        '[noise.strategy]\njson_ordering = "canonicalize"\nwhitespace = "canonicalize"\n',
    )
    base.write(".gitattributes", "crlf/*.json text eol=crlf\n")
    base.write("crlf/c.json", ORDERED)
    base.commit("config")
    base.write("crlf/c.json", b'{"b": 2,   "a": 1}\r\n')  # what a checkout writes
    base.git("add", "-A")
    code, out = check(cli, base, "--fix", "crlf/c.json")
    assert code == 1 and "canonicalize_json.indent2.ordered.v1" in out, out
    assert base.read("crlf/c.json") == b'{\r\n  "b": 2,\r\n  "a": 1\r\n}\r\n'
    base.git("add", "-A")
    assert base.git("cat-file", "-p", ":crlf/c.json").encode() == b'{\n  "b": 2,\n  "a": 1\n}\n'
    assert check(cli, base, "crlf/c.json") == (0, "")


def test_fix_refuses_files_with_unstaged_edits(base: TestRepo, cli: Cli) -> None:
    base.write("data/a.json", REORDERED)
    base.write("data/b.json", REORDERED)
    base.git("add", "-A")
    base.write("data/a.json", b'{"b": 2, "a": 1, "mine": true}\n')  # the user's own edit
    code, out = check(cli, base, "--fix")
    assert code == 3
    assert "data/a.json: refused: the working-tree file differs" in out
    assert base.read("data/a.json") == b'{"b": 2, "a": 1, "mine": true}\n'
    assert base.read("data/b.json") == ORDERED  # the other file was still fixed


def test_fix_refuses_a_symlink_in_the_working_tree(base: TestRepo, cli: Cli) -> None:
    base.write("data/a.json", REORDERED)
    base.git("add", "-A")
    (base.root / "data/a.json").unlink()
    os.symlink("b.json", base.root / "data/a.json")
    code, out = check(cli, base, "--fix")
    assert code == 3 and "not a regular file" in out
    assert (base.root / "data/a.json").is_symlink()


@pytest.mark.parametrize(
    ("env", "config", "needle"),
    [
        ({"PHASE2_DISABLE_AUTORESOLVE": "1"}, None, "PHASE2_DISABLE_AUTORESOLVE is set"),
        ({"PHASE2_DISABLE_AUTORESOLVE": "please"}, None, "PHASE2_DISABLE_AUTORESOLVE is set"),
        ({}, '[policy]\nmode = "manual"\n', "policy mode is 'manual'"),
        ({}, "[policy]\nauto_apply_types = []\n", "not in auto_apply_types"),
    ],
)
def test_fix_respects_policy_and_kill_switch(
    base: TestRepo, cli: Cli, monkeypatch, env, config, needle
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    if config:
        base.write(".phase2/config.toml", config)
    base.write("data/a.json", REORDERED)
    base.git("add", "data/a.json")
    code, out = check(cli, base, "--fix")
    assert code == 1 and needle in out and "not fixed" in out
    assert base.read("data/a.json") == REORDERED


def test_git_index_file_is_honoured(base: TestRepo, cli: Cli, monkeypatch) -> None:
    alt = base.root.parent / "alt-index"
    base.write("data/a.json", REORDERED)
    env = dict(os.environ, GIT_INDEX_FILE=str(alt))
    subprocess.run(["git", "read-tree", "HEAD"], cwd=base.root, env=env, check=True)
    subprocess.run(["git", "add", "data/a.json"], cwd=base.root, env=env, check=True)
    assert check(cli, base) == (0, "")  # the default index has nothing staged
    monkeypatch.setenv("GIT_INDEX_FILE", str(alt))
    code, out = check(cli, base)
    assert code == 1 and "data/a.json: noise only" in out


def _install_hook(repo: TestRepo, *args: str) -> None:
    hook = repo.root / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    extra = " ".join(args)
    hook.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m phase2_git check {extra}\n')
    hook.chmod(0o755)


@pytest.mark.parametrize("how", ["commit -a", "commit <path>", "commit"])
def test_real_git_hook_sees_the_index_git_commits(base: TestRepo, how: str) -> None:
    # git hands the hook a temporary index (index.lock under -a, next-index-*.lock for paths)
    _install_hook(base)
    base.write("data/a.json", REORDERED)
    args = {"commit -a": ["-a"], "commit <path>": ["--", "data/a.json"], "commit": []}[how]
    if how == "commit":
        base.git("add", "data/a.json")
    head = base.head()
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "noise", *args], cwd=base.root, capture_output=True, text=True
    )
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "data/a.json: noise only (json_ordering)" in proc.stdout + proc.stderr
    assert base.head() == head
    # a real change goes through
    base.write("data/a.json", REAL)
    base.git("add", "data/a.json")
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "real", *args], cwd=base.root, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert base.head() != head


def test_pre_push_refs_give_the_sides(base: TestRepo, cli: Cli, monkeypatch) -> None:
    first = base.head()
    base.write("data/a.json", REORDERED)
    second = base.commit("noise")
    assert check(cli, base) == (0, "")  # HEAD vs index: nothing
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", first)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", second)
    code, out = check(cli, base, "data/a.json")
    assert code == 1 and "data/a.json: noise only" in out
    # a new branch: pre-commit gives an all-zero from-ref; fall back to HEAD vs the index
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "0" * 40)
    assert check(cli, base, "data/a.json") == (0, "")


def test_files_relative_to_the_repo_option(base: TestRepo, cli: Cli) -> None:
    base.write("data/a.json", REORDERED)
    base.git("add", "-A")
    code, out, _ = cli("check", "a.json", repo=base.root / "data")
    assert code == 1 and "data/a.json: noise only" in out
    code, _, err = cli("check", "/etc/hostname", repo=base)
    assert code == 2 and err.startswith("phase2: error: /etc/hostname: not inside the repository")


def test_bad_config_is_a_usage_error(base: TestRepo, cli: Cli) -> None:
    base.write(".phase2/config.toml", "[policy\n")
    code, out, err = cli("check", repo=base)
    assert code == 2 and out == "" and err.count("\n") == 1 and "invalid TOML" in err


LEAN_PROBE = """
import json, sys
from phase2_git.entry import main  # what the console script and `python -m phase2_git` run
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""
HEAVY = (
    "rich",
    "jsonschema",
    "fastjsonschema",
    "junit_xml",
    "prometheus_client",
    "git",
    "typer",
    "pydantic",
    "rfc8785",
)


def _modules_after_check(repo: TestRepo, *args: str) -> tuple[int, set[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", LEAN_PROBE, "check", *args],
        cwd=repo.root,
        capture_output=True,
        text=True,
        check=False,
    )
    last = proc.stdout.strip().splitlines()[-1]
    data = json.loads(last)
    return data["code"], {m.split(".")[0] for m in data["modules"]}


def test_hook_path_stays_lean(base: TestRepo) -> None:
    base.write("data/a.json", REORDERED)
    base.write("data/b.json", b"{")
    base.git("add", "-A")
    for args in ((), ("data/a.json", "notes.txt"), ("--fix",)):
        code, top = _modules_after_check(base, *args)
        assert code == 1
        assert not top & set(HEAVY), top & set(HEAVY)


# What a clean hook run does not load: each costs the hook 1-10 ms of start-up (bench/: the
# `check` row), and each has a reason to be off the path (see the modules that avoid them).
SLOW_STDLIB = ("dataclasses", "inspect", "argparse", "tempfile", "tomllib", "copy", "datetime")


def test_clean_hook_run_skips_slow_imports(base: TestRepo) -> None:
    base.write("data/a.json", b'{"a": 2, "b": [1, 2.5]}\n')  # a real change: passes
    base.git("add", "-A")
    # without coverage's subprocess hook, which itself imports much of this list
    env = untraced(os.environ)
    proc = subprocess.run(
        [sys.executable, "-c", LEAN_PROBE, "check", "data/a.json"],
        cwd=base.root,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    loaded = set(data["modules"])
    assert data["code"] == 0
    assert not loaded & set(SLOW_STDLIB), loaded & set(SLOW_STDLIB)
    assert "phase2_git.core.sanitize" not in loaded  # only output needs it
    # the judges outside core (statistical methods only), the writers, the JSON document's list
    off_path = {
        "phase2_git.app.external",
        "phase2_git.files",
        "phase2_git.store.atomic",
        "phase2_git.app.mismatch_dicts",
    }
    assert not loaded & off_path, loaded & off_path
    builtin_sha = any(importlib.util.find_spec(m) for m in ("_sha2", "_sha256"))
    if builtin_sha:  # OpenSSL's libcrypto: ids use CPython's own sha256 (core/ids.py)
        assert "_hashlib" not in loaded


PROCESS_PROBE = """
import gc, json, sys
from phase2_git.entry import main
code = main()  # no arguments: sys.argv, as the console script and `python -m phase2_git` run
print(json.dumps({"code": code, "gc": gc.isenabled(), "frozen": gc.get_freeze_count()}))
"""


def test_hook_process_output_and_collector(base: TestRepo, cli: Cli) -> None:
    """As its own process the hook keeps the garbage collector off its imports and freezes
    what lives until exit (phase2_git/entry.py): the same output and exit code as in-process,
    and the collector back on for the checking."""
    base.write("data/a.json", REORDERED)
    base.write("data/b.json", b"{")
    base.git("add", "-A")
    for args in ((), ("data/a.json", "notes.txt"), ("--fix",)):
        proc = subprocess.run(
            [sys.executable, "-c", PROCESS_PROBE, "check", *args],
            cwd=base.root,
            capture_output=True,
            text=True,
            check=False,
        )
        *lines, last = proc.stdout.splitlines()
        data = json.loads(last)
        assert data["gc"] is True and data["frozen"] > 0, data
        base.write("data/a.json", REORDERED)  # --fix rewrote it: the next run sees it again
        code, out, err = cli("check", *args, repo=base)
        assert (data["code"], "".join(f"{line}\n" for line in lines)) == (code, out), args
        assert proc.stderr == err, args


def test_not_an_artifact_needs_no_diff(base: TestRepo, cli: Cli) -> None:
    base.write(".phase2/config.toml", '[artifacts]\ninclude = ["data/**"]\n')
    # with nothing to check, check does not even compare the sides: a broken ref would not matter
    assert check(cli, base, "notes.txt") == (0, "")


def test_help_lists_check(cli: Cli) -> None:
    code, out, _ = cli("check", "--help")
    assert code == 0 and "--fix" in out and "--require-decision" in out


def test_check_in_subprocess_no_traceback(base: TestRepo) -> None:
    proc = run_phase2(("check", "nope/../../outside.json"), cwd=base.root, env=dict(os.environ))
    assert proc.code == 2 and b"Traceback" not in proc.err
    assert Path(base.root).exists()


def test_typer_check_command_gives_what_the_hook_path_gives(
    base: TestRepo, cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    """``phase2 check`` takes the hook's lean path (phase2_git/entry.py, what the tests above
    run); the typer command of the same name, behind ``phase2_git.cli.main``, must agree."""
    from phase2_git.cli import main as typer_main

    base.write("data/a.json", REORDERED)
    base.write("data/b.json", b"{")
    base.git("add", "-A")
    for args in ((), ("data/a.json", "notes.txt"), ("--require-decision",)):
        hook = cli("check", *args, repo=base)
        typer = (typer_main(["check", "-C", str(base.root), *args]), *capsys.readouterr())
        assert hook == typer, args
        assert hook.code == 1 and hook.out, args


def test_hook_parser_and_typer_command_accept_the_same_options() -> None:
    """The hook parses ``check`` without typer (start-up time); the two must not drift."""
    import typer.main

    from phase2_git.cli import app
    from phase2_git.hook import FLAGS, VALUED

    command = typer.main.get_command(app).commands["check"]  # type: ignore[attr-defined]
    typer_opts = {
        opt: (p.name, bool(getattr(p, "is_flag", False)))
        for p in command.params
        for opt in getattr(p, "opts", [])
        if opt.startswith("-") and opt not in ("-h", "--help")
    }
    hook_opts = {opt: (dest, True) for opt, dest in FLAGS.items()}
    hook_opts |= {opt: (dest, False) for opt, dest in VALUED.items()}
    assert typer_opts == hook_opts


_WORD = st.text(alphabet="abc./_ =", min_size=1, max_size=6).filter(lambda w: w.strip() == w)
_TOKENS = st.one_of(
    st.sampled_from([["--fix"], ["--require-decision"]]),
    st.tuples(st.sampled_from(["--config", "-C", "--repo"]), _WORD).map(list),
    st.tuples(st.sampled_from(["--config=", "-C", "--repo="]), _WORD).map(lambda t: ["".join(t)]),
    _WORD.map(lambda w: [w]),  # a file
)


@functools.cache
def _typer_check_command() -> Any:
    import typer.main

    from phase2_git.cli import app

    return typer.main.get_command(app).commands["check"]  # type: ignore[attr-defined]


@settings(max_examples=200, deadline=None)
@given(st.lists(_TOKENS, max_size=8), st.lists(_WORD.map(lambda w: "-" + w), max_size=2))
def test_hook_parser_reads_arguments_as_the_typer_command_does(
    tokens: list[list[str]], after_dashes: list[str]
) -> None:
    """The hook's hand-written parser against click's own parsing of the typer command."""
    from phase2_git.hook import parse

    argv = [t for group in tokens for t in group]
    if after_dashes:
        argv += ["--", *after_dashes]
    command = _typer_check_command()
    want = command.make_context("check", list(argv)).params
    got = parse(argv)
    assert got.files == list(want["files"] or [])
    assert (got.fix, got.require_decision) == (want["fix"], want["require_decision"])
    assert (got.config, got.repo_path) == (want["config"], want["repo_path"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--config"], "option --config requires a value"),
        (["-C"], "option -C requires a value"),
        (["--fixx"], "no such option: --fixx"),
        (["--fix=yes"], "no such option: --fix=yes"),
    ],
)
def test_hook_parser_refuses_what_click_refuses(
    argv: list[str], message: str, tmp_path: Path, cli: Cli
) -> None:
    code, _, err = cli("check", *argv, repo=tmp_path)  # the hook's own parser reads it
    assert code == 2
    assert err.startswith("phase2: error: ") and message in err and err.count("\n") == 1


def test_hook_errors_are_sanitised_like_the_cli(base: TestRepo, cli: Cli) -> None:
    """The hook's own error funnel quotes a hostile --config path as the typer CLI does."""
    hostile = "cfg\x1b]0;owned\x07\n.toml"
    code, _, err = cli("check", "--config", hostile, repo=base)
    assert code == 2
    assert err.startswith("phase2: error: ") and err.count("\n") == 1
    assert "\x1b" not in err and "\x07" not in err and "\\x1b" in err


# ------------------------------------------------------------ line endings git normalises


def _legacy_crlf(repo: TestRepo) -> None:
    """Files committed with CRLF before the repository had a ``.gitattributes``."""
    repo.write("data/a.json", b'{"a": 1,\r\n "b": 2}\r\n')
    repo.write("notes.txt", b"one\r\ntwo\r\n")
    repo.write("raw.txt", b"k\r\n")
    repo.commit("legacy")


def test_the_renormalising_commit_is_not_noise(repo: TestRepo, cli: Cli) -> None:
    """``* text=auto eol=lf`` added and ``git add --renormalize .``: git itself made the
    CRLFs LF, which neither ``git add`` nor ``--fix`` can undo; the hook blocked that commit
    for good. A file git does not convert (``-text``) whose CRLFs were dropped by hand is
    still noise."""
    _legacy_crlf(repo)
    repo.write(".gitattributes", "* text=auto eol=lf\nraw.txt -text\n")
    repo.git("add", ".gitattributes")
    repo.git("add", "--renormalize", ".")
    repo.write("raw.txt", b"k\n")
    repo.git("add", "raw.txt")
    assert check(cli, repo, "data/a.json", "notes.txt") == (0, "")
    assert check(cli, repo, "--fix", "data/a.json", "notes.txt") == (0, "")
    code, out = check(cli, repo)
    assert code == 1
    assert out.splitlines()[0].startswith("raw.txt: noise only (line_endings)")
    assert "data/a.json" not in out and "notes.txt" not in out


def test_a_real_edit_in_the_renormalising_commit_is_a_real_change(repo: TestRepo, cli: Cli) -> None:
    """Renormalised and edited: the line endings are git's, the edit a real change, which
    passes alone. ``--fix`` wrote the base's CRLFs back around the edit, and ``git add`` took
    them out again: the hook failed on every commit."""
    _legacy_crlf(repo)
    repo.write(".gitattributes", "* text=auto eol=lf\n")
    repo.write("notes.txt", b"one\nTWO\n")
    repo.git("add", "-A")
    repo.git("add", "--renormalize", ".")
    assert check(cli, repo) == (0, "")
    assert check(cli, repo, "--fix") == (0, "")
    assert repo.read("notes.txt") == b"one\nTWO\n"
    code, out = check(cli, repo, "--require-decision")
    assert code == 1 and out.startswith("notes.txt: real change (content, modified)"), out


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_renormalised_tree_passes_whatever_its_size(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    """Every text file of a repository renormalised at once, told where each pair is read
    (by the diff's workers too), and one of them that git did not convert (``-text``, its
    CRLFs dropped by hand) still found among them."""
    from phase2_git.app import diff, forking

    monkeypatch.setattr(diff, "PARALLEL_FROM", 100)
    monkeypatch.setenv(forking.ENV, workers)
    n = 261
    for i in range(n):
        repo.write(f"d/{i:03}.txt", b"%d\r\n" % i)
    repo.commit("legacy")
    repo.write(".gitattributes", "* text=auto\nd/200.txt -text\n")
    repo.write("d/200.txt", b"200\n")
    repo.git("add", "-A")
    repo.git("add", "--renormalize", ".")
    code, out = check(cli, repo)
    assert code == 1 and [line.split(":")[0] for line in out.splitlines()[:-1]] == ["d/200.txt"]


def test_the_diff_of_the_index_says_the_line_endings_are_git_s(repo: TestRepo, cli: Cli) -> None:
    """``phase2 diff --staged`` (the hook's own diff) reports a renormalised file resolved,
    and why, and a renormalised file with a real edit as that real change with no strip
    planned; between two commits nothing is marked (CI: the head may be a stranger's)."""
    _legacy_crlf(repo)
    repo.write(".gitattributes", "* text=auto eol=lf\nraw.txt -text\n")
    repo.write("notes.txt", b"one\nTWO\n")
    repo.write("raw.txt", b"k\n")
    repo.git("add", "-A")
    repo.git("add", "--renormalize", ".")
    code, out, err = cli("diff", "--staged", "--format", "json", "--fail-on", "noise", repo=repo)
    doc = json.loads(out)
    by = {m["path"]: m for m in doc["mismatches"]}
    a = by["data/a.json"]
    assert a["mismatch_type"] == "line_endings" and a["resolved"] is True
    assert "line endings git normalises here (text=auto, eol=lf)" in a["detail"]
    notes = by["notes.txt"]
    assert notes["mismatch_type"] == "content" and "first" not in notes["plan"]
    assert "line endings git normalises here" in notes["plan"]["reason"]
    raw = by["raw.txt"]
    assert raw["resolved"] is False and raw["plan"]["action"] == "restore_base"
    assert doc["summary"]["unresolved_noise"] == 1 and code == 1, err
    repo.commit("renormalised")
    code, out, _ = cli("diff", "HEAD~1", "HEAD", "--format", "json", repo=repo)
    between = {m["path"]: m for m in json.loads(out)["mismatches"]}
    assert between["data/a.json"]["resolved"] is False
    assert "first" in between["notes.txt"]["plan"]


def test_core_autocrlf_normalises_as_the_attributes_do(repo: TestRepo, cli: Cli) -> None:
    _legacy_crlf(repo)
    repo.git("config", "core.autocrlf", "input")
    repo.git("add", "--renormalize", ".")
    assert check(cli, repo) == (0, "")


def test_crlf_staged_past_the_attributes_is_still_noise(repo: TestRepo, cli: Cli) -> None:
    """Only the base with every CRLF made LF is git's doing: a head that gained CRLFs (staged
    with plumbing, past the attributes), or lost a lone CR, is noise as before."""
    repo.write(".gitattributes", "* text=auto\n")
    repo.write("notes.txt", b"one\ntwo\n")
    repo.write("old.txt", b"one\rtwo\r")
    repo.commit("base")
    oid = repo.git("hash-object", "-w", "--no-filters", "--stdin", input=b"one\r\ntwo\r\n")
    repo.git("update-index", "--cacheinfo", f"100644,{oid.strip()},notes.txt")
    repo.write("old.txt", b"one\ntwo\n")
    repo.git("add", "old.txt")
    code, out = check(cli, repo)
    assert code == 1
    assert [line.split(":")[0] for line in out.splitlines()[:2]] == ["notes.txt", "old.txt"]


@pytest.mark.parametrize(
    "attributes, autocrlf",
    [
        ("", "false"),
        ("", "true"),
        ("", "input"),
        ("* text", "false"),
        ("* text=auto", "false"),
        ("* -text", "true"),
        ("* eol=lf", "false"),
        ("* eol=crlf", "false"),
        ("* -text eol=lf", "false"),
        ("* crlf", "false"),
        ("* -crlf", "true"),
        ("* crlf=input", "false"),
        ("* text=auto -crlf", "false"),
        ("* binary", "true"),
    ],
)
def test_normalizes_line_endings_says_what_git_add_stores(
    repo: TestRepo, attributes: str, autocrlf: str
) -> None:
    """Asked of git itself: a new file with CRLFs, added under these attributes and setting,
    is stored with LF exactly when :func:`normalizes_line_endings` says so."""
    from phase2_git.git import worktree
    from phase2_git.git.repo import GitRepo

    repo.write(".gitattributes", attributes + "\n")
    repo.git("config", "core.autocrlf", autocrlf)
    repo.write("f.txt", b"one\r\ntwo\r\n")
    repo.git("add", "f.txt")
    stored = repo.git("cat-file", "blob", ":f.txt").encode()
    git = GitRepo.discover(str(repo.root))
    attrs = worktree.attributes(git, ["f.txt"], worktree.LINE_ENDING_ATTRIBUTES)["f.txt"]
    said = worktree.normalizes_line_endings(attrs, worktree.autocrlf(git))
    assert said == (stored == b"one\ntwo\n"), (attrs, stored)
