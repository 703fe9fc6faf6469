"""``phase2 diff [BASE] [HEAD]``."""

from __future__ import annotations

import sys

import typer

from phase2_git.cli import app
from phase2_git.cli._common import (
    AnnotationsOpt,
    HtmlOpt,
    JunitOpt,
    PromOpt,
    StepSummaryOpt,
    SummaryOpt,
    use_color,
)


@app.command()
def diff(
    base: str | None = typer.Argument(None, help="Base side (default HEAD)."),
    head: str | None = typer.Argument(
        None, help="Head side: a commit-ish, :index or :worktree (default :worktree)."
    ),
    staged: bool = typer.Option(False, "--staged", "--cached", help="Compare HEAD with :index."),
    fmt: str | None = typer.Option(None, "--format", "-f", help="text, json or markdown."),
    methods: str | None = typer.Option(
        None, "--methods", "-m", help="Methods to run, e.g. 'exact,canonical_json'."
    ),
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Exit 1 on: real (default), noise, any, never."
    ),
    summary: SummaryOpt = None,
    junit: JunitOpt = None,
    prom: PromOpt = None,
    annotations: AnnotationsOpt = None,
    step_summary: StepSummaryOpt = None,
    html: HtmlOpt = None,
    shard: str | None = typer.Option(None, "--shard", help="Only shard K of N (K/N)."),
    config: str | None = typer.Option(
        None,
        "--config",
        help="Configuration file to use (default: the working tree's; the base commit's when "
        "both sides are commits).",
    ),
    trust_from: str | None = typer.Option(
        None,
        "--trust-from",
        help="Commit whose [trust], [judge] and gate files count, and on two commits its "
        "configuration (default: the base side). CI: the target branch's tip.",
    ),
    repo_path: str = typer.Option(".", "-C", "--repo", help="Run in this repository."),
    no_color: bool = typer.Option(False, "--no-color", help="No colour, whatever the terminal."),
) -> int:
    """Find, classify, judge and plan every artifact mismatch between BASE and HEAD."""
    from phase2_git.app.merge import CiOutputs

    if html:
        from phase2_git.reports.html import require

        require("--html")
    from phase2_git.app.report import DiffOptions, diff_main

    opts = DiffOptions(
        base=base,
        head=head,
        staged=staged,
        fmt=fmt,
        methods=methods,
        fail_on=fail_on,
        ci=CiOutputs(junit, prom, summary, annotations, step_summary, html),
        shard=shard,
        config=config,
        trust_from=trust_from,
        repo=repo_path,
        color=use_color(no_color),
    )
    return diff_main(opts, sys.stdout)
