"""``phase2 init``."""

from __future__ import annotations

import typer

from phase2_git.cli import app
from phase2_git.cli._common import run


@app.command("init")
def init_cmd(
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
    repo_path: str = typer.Option(".", "-C", "--repo", help="Run in this repository."),
) -> None:
    """Write .phase2/config.toml and .phase2/.gitignore; print the hook and Action snippets."""

    def go() -> None:
        from phase2_git.app.init import ACTION_SNIPPET, PRE_COMMIT_SNIPPET, init
        from phase2_git.git.repo import GitRepo

        repo = GitRepo.discover(repo_path)
        result = init(repo.root, force=force)
        for rel in result.written:
            typer.echo(f"wrote {rel}")
        for rel in result.kept:
            typer.echo(f"kept {rel} (exists; --force overwrites)")
        typer.echo("\nAdd the pre-commit hook:\n")
        typer.echo(PRE_COMMIT_SNIPPET)
        typer.echo("Check pull requests:\n")
        typer.echo(ACTION_SNIPPET)

    run(go)
