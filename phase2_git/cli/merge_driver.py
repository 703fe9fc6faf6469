"""``phase2 merge-driver``: git's merge driver for artifacts.

The console script sends it to the lean path in :mod:`phase2_git.hook` (git starts it once
per conflicting artifact); this command is the same call, for ``--help`` and in-process runs.
"""

from __future__ import annotations

import sys

import typer

from phase2_git.cli import app
from phase2_git.cli._common import Command


@app.command("merge-driver", cls=Command)
def merge_driver_cmd(
    ancestor: str = typer.Argument(
        ..., help="%O: the common ancestor's version.", metavar="ANCESTOR"
    ),
    current: str = typer.Argument(
        ..., help="%A: ours; the merged result is written here.", metavar="CURRENT"
    ),
    other: str = typer.Argument(..., help="%B: theirs.", metavar="OTHER"),
    path: str = typer.Argument(
        ..., help="%P: the path of the artifact in the repository.", metavar="PATH"
    ),
    marker_size: int = typer.Argument(
        7, help="%L: the conflict marker size.", min=1, max=999, metavar="MARKER_SIZE"
    ),
) -> int:
    """Merge an artifact for git once each side's noise is set aside (`phase2 init --merge-driver`
    registers it). Exit 0: merged into %A; 1: a conflict, with git's markers in %A."""
    from phase2_git.app.merge_driver import merge_driver

    result = merge_driver(ancestor, current, other, path, marker_size)
    if result.message:
        sys.stderr.write(result.message + "\n")
    return result.code
