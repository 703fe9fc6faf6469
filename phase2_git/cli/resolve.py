"""``phase2 resolve [BASE] [HEAD]``."""

from __future__ import annotations

import sys

import typer

from phase2_git.cli import app
from phase2_git.cli._common import (
    PATHSPEC_HELP,
    CommitConfigOpt,
    GuidedOpt,
    PathGlobOpt,
    PathspecCommand,
    RepoOpt,
    RestartOpt,
    ReviewBaseArg,
    ReviewHeadArg,
    RevisitSkippedOpt,
    RoleOpt,
    StateFileOpt,
    TrustFromOpt,
    UserOpt,
    can_prompt,
    pathspecs,
    use_color,
)


@app.command("resolve", cls=PathspecCommand, epilog=PATHSPEC_HELP)
def resolve_cmd(
    ctx: typer.Context,
    base: ReviewBaseArg = None,
    head: ReviewHeadArg = "HEAD",
    yes: bool = typer.Option(
        False,
        "--yes",
        "-y",
        help="Apply every safe plan the policy allows; leave the rest to a human.",
    ),
    auto_approve_safe: bool = typer.Option(
        False, "--auto-approve-safe", help="Apply safe plans without asking; ask for the rest."
    ),
    no_commit: bool = typer.Option(
        False, "--no-commit", help="Rewrite files and log decisions, but make no commit."
    ),
    state_file: StateFileOpt = None,
    restart: RestartOpt = False,
    revisit_skipped: RevisitSkippedOpt = False,
    path: PathGlobOpt = [],  # noqa: B006 - typer's default, never mutated
    audit: bool = typer.Option(False, "--audit", help="Review auto-approvals marked for audit."),
    guided: GuidedOpt = False,
    user: UserOpt = None,
    role: RoleOpt = None,
    fail_on: str = typer.Option(
        "real",
        "--fail-on",
        help="Exit 1 when what is left once the run is done holds: real, noise, any, never.",
        metavar="RULE",
    ),
    config: CommitConfigOpt = None,
    trust_from: TrustFromOpt = None,
    repo_path: RepoOpt = ".",
    no_color: bool = typer.Option(False, "--no-color", help="No colour, whatever the terminal."),
) -> int:
    """Review mismatches; approved transforms become commits, every decision is logged."""
    from phase2_git.ui.resolve import ResolveOptions, resolve_main

    opts = ResolveOptions(
        base=base,
        head=head,
        yes=yes,
        auto_approve_safe=auto_approve_safe,
        no_commit=no_commit,
        state_file=state_file,
        restart=restart,
        revisit_skipped=revisit_skipped,
        paths=(*path, *pathspecs(ctx)),  # --path and pathspecs: the same globs
        audit=audit,
        user=user,
        role=role,
        fail_on=fail_on,
        config=config,
        trust_from=trust_from,
        repo=repo_path,
        color=use_color(no_color),
        interactive=can_prompt(),
        guided=guided,
    )
    return resolve_main(opts, out=sys.stdout)
