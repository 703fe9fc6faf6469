"""``phase2 demo``."""

from __future__ import annotations

import sys

import typer

from phase2_git.cli import app
from phase2_git.cli._common import Command, use_color


@app.command("demo", cls=Command)
def demo_cmd(
    fmt: str = typer.Option(
        "text", "--format", "-f", help="text, json or markdown.", metavar="FORMAT"
    ),
    no_color: bool = typer.Option(False, "--no-color", help="No colour, whatever the terminal."),
) -> None:
    """Build a throwaway repository with regenerated artifacts and run the main job on it."""
    from phase2_git.app.demo import demo
    from phase2_git.ui.render import render_demo

    render_demo(demo(), fmt, sys.stdout, color=use_color(no_color))
