"""init, demo, methods, version and help, in-process through the real entry point."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from phase2_git.store.config import DEFAULT_TOML, DEFAULTS, load, parse_toml, resolve
from tests.conftest import Cli, TestRepo


def test_init_writes_config_and_gitignore_then_keeps_them(repo: TestRepo, cli: Cli) -> None:
    code, out, _ = cli("init", repo=repo)
    assert code == 0
    assert "wrote .phase2/config.toml" in out and "wrote .phase2/.gitignore" in out
    assert "phase2-check" in out and "fetch-depth: 0" in out
    assert (repo.root / ".phase2/.gitignore").read_text().splitlines()[1:] == [
        "state/",
        "lock",
        "lock.*.tmp",
        "cache/",
    ]
    # the commented defaults are the defaults: same fingerprint as no configuration at all
    assert load(repo.root).fingerprint == resolve({}, "defaults").fingerprint
    code, out, _ = cli("init", repo=repo)
    assert code == 0 and "kept .phase2/config.toml" in out
    code, out, _ = cli("init", "--force", repo=repo)
    assert "wrote .phase2/config.toml" in out


def test_default_toml_lists_every_default() -> None:
    assert parse_toml(DEFAULT_TOML.encode(), "DEFAULT_TOML").keys() == DEFAULTS.keys()


def test_demo_builds_a_repository_and_shows_every_noise_type(
    cli, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    code, out, _ = cli("demo")
    assert code == 0
    for kind in (
        "bom",
        "line_endings",
        "trailing_newline",
        "whitespace",
        "json_ordering",
        "numeric_precision",
        "content",
        "binary",
        "added",
        "deleted",
        "renamed",
    ):
        assert kind in out, kind
    assert "Demo repository:" in out
    code, out, _ = cli("demo", "--format", "json")
    doc = json.loads(out)
    assert doc["summary"]["noise"] == 6 and doc["summary"]["real"] == 8
    code, out, _ = cli("demo", "--format", "markdown")
    assert out.startswith("## phase2:")


def test_methods_version_and_help(cli: Cli) -> None:
    code, out, _ = cli("methods")
    assert code == 0 and "canonical_json" in out and "statistical" in out
    code, out, _ = cli("--version")
    assert code == 0 and out.startswith("phase2 ")
    code, out, _ = cli()
    assert code == 0 and "Commands" in out
    code, _, err = cli("nosuchcommand")
    assert code == 2 and err.startswith("phase2: error:") and err.count("\n") == 1


def test_hook_path_usage_errors_and_dash_names(repo: TestRepo, cli: Cli) -> None:
    repo.write("a.json", "{}\n")
    repo.commit("base")
    code, _, err = cli("check", "--bogus", repo=repo)
    assert code == 2 and err.startswith("phase2: error:") and err.count("\n") == 1
    # pre-commit passes file names as they are: one that starts with a dash is still a file
    repo.write("-rf.json", '{"b": 1, "a": 2}\n')
    repo.git("add", "--", "-rf.json")
    code, out, _ = cli("check", "-rf.json", repo=repo)
    assert code == 0, out


def _full_app(args: list[str]) -> int:
    """``phase2 ARGS`` through the app with every command registered."""
    import typer

    from phase2_git.cli import app
    from phase2_git.funnel import run

    return run(
        lambda: app(args=args, prog_name="phase2", standalone_mode=False),
        interrupts=(typer.Abort,),
    )


def test_a_command_alone_answers_as_the_full_app(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each run builds only the command it names (cli._app_for): its help, a subcommand's
    help and a bad option read exactly as they do from the app with every command."""
    import typer.main

    from phase2_git.cli import COMMANDS, app, main

    groups = {g.name: g for g in app.registered_groups}
    argvs = []
    for name in COMMANDS:
        argvs += [[name, "--help"], [name, "--no-such-option"]]
        if name in groups:
            group = groups[name].typer_instance
            assert group is not None
            sub = typer.main.get_command(group)
            for subname in getattr(sub, "commands", {}):
                argvs.append([name, subname, "--help"])
    assert any(len(a) == 3 for a in argvs)  # the groups' subcommands were reached
    for argv in argvs:
        alone = main(argv), capsys.readouterr()
        full = _full_app(argv), capsys.readouterr()
        assert alone == full, argv
