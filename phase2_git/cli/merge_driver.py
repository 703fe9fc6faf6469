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
    ancestor: str | None = typer.Argument(
        None, help="%O: the common ancestor's version.", metavar="ANCESTOR"
    ),
    current: str | None = typer.Argument(
        None, help="%A: ours; the merged result is written here.", metavar="CURRENT"
    ),
    other: str | None = typer.Argument(None, help="%B: theirs.", metavar="OTHER"),
    path: str | None = typer.Argument(
        None, help="%P: the path of the artifact in the repository.", metavar="PATH"
    ),
    marker_size: int = typer.Argument(
        7, help="%L: the conflict marker size.", min=1, max=999, metavar="MARKER_SIZE"
    ),
    finish: bool = typer.Option(
        False,
        "--finish",
        help="Move the merge decisions git is done with into .phase2/decisions.jsonl (the "
        "driver starts this itself; run it by hand after a rebase stopped for long).",
    ),
) -> int:
    """Merge an artifact for git once each side's noise is set aside (`phase2 init --merge-driver`
    registers it). Exit 0: merged into %A; 1: a conflict, with git's markers in %A."""
    from phase2_git.app.merge_driver import merge_driver

    if finish:
        from phase2_git.app.merge_driver import finish as finish_journal

        finish_journal()
        return 0
    if ancestor is None or current is None or other is None or path is None:
        from phase2_git.errors import UsageError

        raise UsageError("merge-driver expects %O %A %B %P [%L] (or --finish)")
    result = merge_driver(ancestor, current, other, path, marker_size)
    if result.message:
        sys.stderr.write(result.message + "\n")
    return result.code
