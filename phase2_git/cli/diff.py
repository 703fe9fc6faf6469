"""``phase2 diff [BASE] [HEAD]``."""

from __future__ import annotations

import sys

import typer

from phase2_git.cli import app
from phase2_git.cli._common import (
    PATHSPEC_HELP,
    AnnotationsOpt,
    HtmlOpt,
    JunitOpt,
    PathspecCommand,
    PromOpt,
    RepoOpt,
    StepSummaryOpt,
    SummaryOpt,
    pathspecs,
    use_color,
)


@app.command("diff", cls=PathspecCommand, epilog=PATHSPEC_HELP)
def diff(
    ctx: typer.Context,
    base: str | None = typer.Argument(None, help="Base side (default HEAD).", metavar="BASE"),
    head: str | None = typer.Argument(
        None,
        help="Head side: a commit-ish, :index or :worktree (default :worktree).",
        metavar="HEAD",
    ),
    staged: bool = typer.Option(False, "--staged", "--cached", help="Compare HEAD with :index."),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="text, json or markdown.", metavar="FORMAT"
    ),
    methods: str | None = typer.Option(
        None,
        "--methods",
        "-m",
        help="Methods to run, e.g. 'exact,canonical_json'.",
        metavar="METHODS",
    ),
    fail_on: str | None = typer.Option(
        None,
        "--fail-on",
        help="Exit 1 on: real (default), noise, any, never.",
        metavar="RULE",
    ),
    summary: SummaryOpt = None,
    junit: JunitOpt = None,
    prom: PromOpt = None,
    annotations: AnnotationsOpt = None,
    step_summary: StepSummaryOpt = None,
    html: HtmlOpt = None,
    shard: str | None = typer.Option(
        None, "--shard", help="Only shard K of N (K/N).", metavar="K/N"
    ),
    config: str | None = typer.Option(
        None,
        "--config",
        help="Configuration file to use (default: the working tree's; the base commit's when "
        "both sides are commits).",
        metavar="FILE",
    ),
    trust_from: str | None = typer.Option(
        None,
        "--trust-from",
        help="Commit whose [trust], [judge] and gate files count, and on two commits its "
        "configuration (default: the base side). CI: the target branch's tip.",
        metavar="COMMIT",
    ),
    repo_path: RepoOpt = ".",
    no_color: bool = typer.Option(False, "--no-color", help="No colour, whatever the terminal."),
) -> int:
    """Find, classify, judge and plan every artifact mismatch between BASE and HEAD.

    BASE defaults to HEAD and HEAD to the working tree: `phase2 diff` alone shows what you
    have not committed yet; `phase2 diff main HEAD` what a branch changed."""
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
        pathspecs=pathspecs(ctx),
    )
    return diff_main(opts, sys.stdout)
