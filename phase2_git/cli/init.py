"""``phase2 init``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import typer

from phase2_git.cli import app
from phase2_git.cli._common import Command, RepoOpt

if TYPE_CHECKING:
    from phase2_git.app.merge_driver import Registered


@app.command("init", cls=Command)
def init_cmd(
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
    merge_driver: bool = typer.Option(
        False,
        "--merge-driver",
        help="Also register `phase2 merge-driver` in the repository's git config and "
        "add merge=phase2 lines to .gitattributes for the artifact globs.",
    ),
    repo_path: RepoOpt = ".",
) -> None:
    """Write .phase2/config.toml and .phase2/.gitignore; print the hook and Action snippets."""
    from phase2_git.app.init import init_at
    from phase2_git.ui.render import init_lines

    result = init_at(repo_path, force=force, merge_driver=merge_driver)
    sys.stdout.writelines(init_lines(result))
    if result.merge_driver is not None:
        sys.stdout.writelines(_merge_driver_lines(result.merge_driver))


def _merge_driver_lines(reg: Registered) -> Iterator[str]:
    """What ``--merge-driver`` set and wrote, and what it found already there."""
    yield "Merge driver:\n"
    for key in reg.config:
        yield f"  set {key} in .git/config\n"
    for key in reg.config_kept:
        yield f"  kept {key} (already set)\n"
    for line in reg.attributes:
        yield f"  wrote .gitattributes: {line}\n"
    for line in reg.attributes_kept:
        yield f"  kept .gitattributes: {line} (already there)\n"
    if not reg.attributes and not reg.attributes_kept:
        yield "  no artifact glob fits .gitattributes: add `<glob> merge=phase2` lines by hand\n"
    yield "  commit .gitattributes; each clone runs `phase2 init --merge-driver` once\n"
