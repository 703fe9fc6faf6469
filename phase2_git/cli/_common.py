"""Helpers shared by the commands: colour and terminal detection, the CI output options."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import IO, Annotated

import typer

from phase2_git.core.env import in_ci


def use_color(
    no_color: bool, stream: IO[str] | None = None, environ: Mapping[str, str] = os.environ
) -> bool:
    """Colour only on a TTY, and never with ``--no-color`` or ``NO_COLOR`` (any value)."""
    if no_color or "NO_COLOR" in environ:
        return False
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def can_prompt(environ: Mapping[str, str] = os.environ, stdin: IO[str] | None = None) -> bool:
    """``CI=true`` or no TTY on stdin: never prompt (invariant 7, docs/architecture.md)."""
    if in_ci(environ):
        return False
    stdin = stdin or sys.stdin
    try:
        return stdin is not None and stdin.isatty()
    except (AttributeError, ValueError):
        return False


# the CI outputs that `diff` and `report merge` both write: declared once
SummaryOpt = Annotated[str | None, typer.Option("--summary", help="Write a Markdown report here.")]
HtmlOpt = Annotated[
    str | None,
    typer.Option("--html", help="Write a self-contained HTML report here (needs the web extra)."),
]
JunitOpt = Annotated[str | None, typer.Option("--junit", help="Write JUnit XML here.")]
PromOpt = Annotated[
    str | None, typer.Option("--prom", help="Write Prometheus textfile metrics here.")
]
AnnotationsOpt = Annotated[
    bool | None,
    typer.Option(
        "--annotations/--no-annotations",
        help="Emit GitHub workflow-command annotations (default: under GitHub Actions).",
    ),
]
StepSummaryOpt = Annotated[
    bool | None,
    typer.Option(
        "--step-summary/--no-step-summary",
        help="Append the report to $GITHUB_STEP_SUMMARY (default: under GitHub Actions).",
    ),
]

# resolve, approve and reject read the base commit's configuration and trust: declared once
CommitConfigOpt = Annotated[
    str | None,
    typer.Option("--config", help="Configuration file to use (default: the base commit's)."),
]
TrustFromOpt = Annotated[
    str | None,
    typer.Option(
        "--trust-from",
        help="Commit whose configuration, [trust], [judge] and gate files count (default: "
        "the base).",
    ),
]
