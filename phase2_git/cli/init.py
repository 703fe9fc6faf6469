"""``phase2 init``."""

from __future__ import annotations

import sys

import typer

from phase2_git.cli import app
from phase2_git.cli._common import Command


@app.command("init", cls=Command)
def init_cmd(
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
    repo_path: str = typer.Option(
        ".", "-C", "--repo", help="Run in this repository.", metavar="DIR"
    ),
) -> None:
    """Write .phase2/config.toml and .phase2/.gitignore; print the hook and Action snippets."""
    from phase2_git.app.init import init_at
    from phase2_git.ui.render import init_lines

    sys.stdout.writelines(init_lines(init_at(repo_path, force=force)))
