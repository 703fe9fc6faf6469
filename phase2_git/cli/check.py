"""``phase2 check [FILES…]``: the pre-commit hooks ``phase2-check`` and ``phase2-fix``.

The hook path: keep imports inside the command body and free of rich, jsonschema, junit_xml,
prometheus_client and GitPython (tests/test_check.py asserts it).
"""

from __future__ import annotations

import typer

from phase2_git.cli import app
from phase2_git.cli._common import PATHSPEC_HELP, PathspecCommand, pathspecs


@app.command("check", cls=PathspecCommand, epilog=PATHSPEC_HELP)
def check_cmd(
    ctx: typer.Context,
    files: list[str] | None = typer.Argument(
        None, help="Files to check (default: every staged artifact).", metavar="FILE"
    ),
    fix: bool = typer.Option(
        False, "--fix", help="Rewrite noisy files with their safe transform (exit 1 if any)."
    ),
    require_decision: bool = typer.Option(
        False, "--require-decision", help="Also fail on real changes without an approval."
    ),
    config: str | None = typer.Option(
        None, "--config", help="Configuration file to use.", metavar="FILE"
    ),
    repo_path: str = typer.Option(
        ".",
        "-C",
        "--repo",
        help="Run in this repository (FILES are relative to it).",
        metavar="DIR",
    ),
) -> int:
    """Fail when a staged artifact carries noise or is malformed JSON; --fix repairs the noise."""
    from phase2_git.app.precommit import check_command

    return check_command(
        files or [],
        pathspecs=pathspecs(ctx),
        fix=fix,
        require_decision=require_decision,
        config=config,
        repo_path=repo_path,
        write=typer.echo,
    )
