"""``phase2 demo``."""

from __future__ import annotations

import sys

import typer

from phase2_git.cli import app
from phase2_git.cli._common import run, use_color


@app.command("demo")
def demo_cmd(
    fmt: str = typer.Option("text", "--format", "-f", help="text, json or markdown."),
    no_color: bool = typer.Option(False, "--no-color", help="No colour, whatever the terminal."),
) -> None:
    """Build a throwaway repository with regenerated artifacts and run the main job on it."""

    def go() -> None:
        from phase2_git.app.demo import demo
        from phase2_git.reports import jsonout, markdown
        from phase2_git.reports import text as textout

        out = demo()
        doc = out.result.to_json("real")
        if fmt == "json":
            jsonout.write(doc, sys.stdout)
            return
        if fmt == "markdown":
            sys.stdout.write(markdown.render(doc))
            return
        textout.render(
            doc,
            base_spec="main",
            head_spec="regen",
            config_source="defaults",
            file=sys.stdout,
            color=use_color(no_color),
        )
        typer.echo(
            f"\nDemo repository: {out.path}\n"
            f"Try:  cd {out.path} && phase2 diff main regen --format json\n"
            "      (the noise rows are safe to resolve; the real ones need a human)"
        )

    run(go)
