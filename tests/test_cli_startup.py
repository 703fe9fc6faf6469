"""Start-up of the command line: pydantic stays out, and the shortcut that keeps it out
coerces exactly as typer's own path does (cli/_common.py ``skip_pydantic``)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import typer
import typer.main
from typer._coercion import build_runtime_param

from phase2_git.cli import app
from phase2_git.cli._common import skip_pydantic

SAMPLES: tuple[Any, ...] = (
    "x",
    "",
    " spaced out ",
    "ünïcödé/päth.json",
    "--looks-like-an-option",
    "123",
    "true",
    True,
    False,
    ("a", "b c"),
    ["only"],
    (),
    None,
    7,
)


def _commands() -> list[tuple[str, Any, typer.Context]]:
    root = typer.main.get_command(app)
    out: list[tuple[str, Any, typer.Context]] = []

    def walk(name: str, cmd: Any, parent: typer.Context | None) -> None:
        ctx = typer.Context(cmd, info_name=name, parent=parent)
        out.append((name, cmd, ctx))
        if hasattr(cmd, "list_commands"):  # a group (typer's own click)
            for sub in cmd.list_commands(ctx):
                found = cmd.get_command(ctx, sub)
                assert found is not None
                walk(f"{name} {sub}", found, ctx)

    walk("phase2", root, None)
    return out


def _outcome(runtime: Any, value: Any, param: Any, ctx: typer.Context) -> tuple[str, Any]:
    try:
        return "ok", runtime.coerce(value, param=param, ctx=ctx)
    except Exception as exc:  # the refusal must be the same, whatever it is
        return "refused", type(exc).__name__


def test_every_plain_parameter_coerces_as_typer_does() -> None:
    checked = 0
    for name, cmd, ctx in _commands():
        params = cmd.get_params(ctx)
        skip_pydantic(params)
        for param in params:
            shortcut = getattr(param, "_runtime_param", None)
            if shortcut is None:
                continue  # not a plain annotation: typer's own path
            public = build_runtime_param(param.type_descriptor)
            for value in SAMPLES:
                got = _outcome(shortcut, value, param, ctx)
                want = _outcome(public, value, param, ctx)
                assert got == want, (name, param.name, value)
                assert type(got[1]) is type(want[1]), (name, param.name, value)
            checked += 1
    assert checked > 100  # every command's str, bool and list[str] parameters


def test_other_annotations_keep_typers_path() -> None:
    kept = []
    for _, cmd, ctx in _commands():
        params = cmd.get_params(ctx)
        skip_pydantic(params)
        kept += [p for p in params if getattr(p, "_runtime_param", None) is None]
    annotations = {p.type_descriptor.annotation for p in kept if hasattr(p, "type_descriptor")}
    assert int in annotations  # e.g. `--bootstrap`: pydantic still validates numbers


@pytest.mark.parametrize(
    "argv",
    [
        ["diff", "HEAD", "HEAD", "--format", "json"],
        ["report", "merge", "--help"],
        ["labels", "--help"],
        ["--version"],
    ],
)
def test_commands_start_without_pydantic(repo: Any, argv: list[str]) -> None:
    code = (
        "import sys\n"
        "from phase2_git.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('PYDANTIC=%s' % ('pydantic' in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=repo.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "PYDANTIC=False" in proc.stderr, proc.stderr


def test_a_number_option_still_validates(repo: Any, cli: Any) -> None:
    code, _out, err = cli("judge", "eval", "--bootstrap", "many", repo=repo)
    assert code == 2
    assert "bootstrap" in err


def test_a_diff_of_two_commits_never_loads_the_commit_writer(repo: Any) -> None:
    """``phase2 diff A B`` reads its configuration, gates and decision log through
    git/objects.py: git/commit.py (and the hashlib, tempfile and threads it brings, 9 ms)
    is for the commands that write commits."""
    repo.write("out/a.json", '{"a": 1}\n')
    repo.commit("base")
    repo.write("out/a.json", '{"a": 2}\n')
    repo.commit("head")
    code = (
        "import sys\n"
        "from phase2_git.cli import main\n"
        "rc = main(sys.argv[1:])\n"
        "sys.stderr.write('RC=%s COMMIT=%s' % (rc, 'phase2_git.git.commit' in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "diff", "HEAD~1", "HEAD", "--format", "json"],
        cwd=repo.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "RC=1 COMMIT=False" in proc.stderr, proc.stderr
    assert '"mismatch_type":"content"' in proc.stdout
