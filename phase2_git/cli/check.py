"""``phase2 check [FILES…]``: the pre-commit hooks ``phase2-check`` and ``phase2-fix``.

The hook path: keep imports inside the command body and free of rich, jsonschema, junit_xml,
prometheus_client and GitPython (tests/test_check.py asserts it).
"""

from __future__ import annotations

import typer

from phase2_git.cli import app


@app.command("check")
def check_cmd(
    files: list[str] | None = typer.Argument(
        None, help="Files to check (default: every staged artifact)."
    ),
    fix: bool = typer.Option(
        False, "--fix", help="Rewrite noisy files with their safe transform (exit 1 if any)."
    ),
    require_decision: bool = typer.Option(
        False, "--require-decision", help="Also fail on real changes without an approval."
    ),
    config: str | None = typer.Option(None, "--config", help="Configuration file to use."),
    repo_path: str = typer.Option(
        ".", "-C", "--repo", help="Run in this repository (FILES are relative to it)."
    ),
) -> int:
    """Fail when a staged artifact carries noise or is malformed JSON; --fix repairs the noise."""
    from phase2_git.app.precommit import check_command

    return check_command(
        files or [],
        fix=fix,
        require_decision=require_decision,
        config=config,
        repo_path=repo_path,
        write=typer.echo,
    )
