"""``phase2 report merge FILE…``: one report from the JSON outputs of sharded runs."""

from __future__ import annotations

import sys

import typer

from phase2_git.cli import app
from phase2_git.cli._common import (
    AnnotationsOpt,
    Command,
    Group,
    HtmlOpt,
    JunitOpt,
    PromOpt,
    StepSummaryOpt,
    SummaryOpt,
    use_color,
)

report_app = typer.Typer(
    cls=Group,
    name="report",
    help="Work with phase2's JSON reports.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(report_app, name="report")


@report_app.command(
    "merge", cls=Command, short_help="Merge the JSON reports of sharded runs into one."
)
def merge_cmd(
    files: list[str] = typer.Argument(
        ...,
        help="JSON outputs of `phase2 diff --shard K/N --format json`, one per shard.",
        metavar="FILE",
    ),
    fmt: str = typer.Option(
        "json", "--format", "-f", help="json (default), text or markdown.", metavar="FORMAT"
    ),
    fail_on: str | None = typer.Option(
        None,
        "--fail-on",
        help="Exit 1 on: real, noise, any, never (default: the shards' rule).",
        metavar="RULE",
    ),
    junit: JunitOpt = None,
    prom: PromOpt = None,
    summary: SummaryOpt = None,
    annotations: AnnotationsOpt = None,
    step_summary: StepSummaryOpt = None,
    html: HtmlOpt = None,
    repo_path: str | None = typer.Option(
        None,
        "-C",
        "--repo",
        help="Repository holding the blobs, for JUnit diff excerpts (default: the current one, "
        "if any).",
        metavar="DIR",
    ),
    no_color: bool = typer.Option(False, "--no-color", help="No colour, whatever the terminal."),
) -> int:
    """Merge shard outputs into the report the unsharded run gives; re-emit CI outputs.

    The shards must share base, head, configuration fingerprint and methods, and cover every
    shard of the run exactly once. Prometheus' run duration is the merge's own.
    """
    from phase2_git.app.merge import CiOutputs

    if html:
        from phase2_git.reports.html import require

        require("--html")
    from phase2_git.app.report import MergeOptions, merge_main

    opts = MergeOptions(
        files=tuple(files),
        fmt=fmt,
        fail_on=fail_on,
        ci=CiOutputs(junit, prom, summary, annotations, step_summary, html),
        repo=repo_path,
        color=use_color(no_color),
    )
    return merge_main(opts, sys.stdout)
