"""``phase2 check [FILES…]``: the pre-commit hooks ``phase2-check`` and ``phase2-fix``.

The hook path: keep imports inside the command body and free of rich, jsonschema, junit_xml,
prometheus_client and GitPython (tests/test_check.py asserts it).
"""

from __future__ import annotations

import typer

from phase2_git.cli import app
from phase2_git.cli._common import run


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
) -> None:
    """Fail when a staged artifact carries noise or is malformed JSON; --fix repairs the noise."""

    def go() -> int:
        from pathlib import Path

        from phase2_git.app.check import run_check
        from phase2_git.core.sanitize import sanitize_path
        from phase2_git.git.repo import GitRepo
        from phase2_git.store.config import load

        repo = GitRepo.discover(repo_path)
        cfg = load(repo.root, config)
        result = run_check(
            repo,
            files or [],
            config=cfg,
            fix=fix,
            require_decision=require_decision,
            cwd=Path(repo_path).absolute(),
        )
        for f in result.findings:
            typer.echo(f"{sanitize_path(f.path)}: {f.message}")
        counts: dict[str, int] = {}
        for f in result.findings:
            counts[f.kind] = counts.get(f.kind, 0) + 1
        if counts:
            shown = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
            hint = ""
            if "noise" in counts and not fix:
                hint = " · `phase2 check --fix` (hook phase2-fix) applies the safe transforms"
            if "fixed" in counts:
                hint = " · files were rewritten: review and `git add` them"
            typer.echo(f"phase2 check: {shown}{hint}")
        return result.exit_code

    raise typer.Exit(run(go))
