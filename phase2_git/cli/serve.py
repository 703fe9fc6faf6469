"""``phase2 serve [BASE] [HEAD]``: the review of ``phase2 resolve`` in a local web page."""

from __future__ import annotations

import os
import sys

import typer

from phase2_git.cli import app
from phase2_git.cli._common import (
    Command,
    CommitConfigOpt,
    GuidedOpt,
    PathGlobOpt,
    RepoOpt,
    RestartOpt,
    ReviewBaseArg,
    ReviewHeadArg,
    RevisitSkippedOpt,
    RoleOpt,
    StateFileOpt,
    TrustFromOpt,
    UserOpt,
)


@app.command("serve", cls=Command)
def serve_cmd(
    base: ReviewBaseArg = None,
    head: ReviewHeadArg = "HEAD",
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        help="Address to listen on (loopback only, unless --allow-remote).",
        metavar="ADDRESS",
    ),
    port: int = typer.Option(
        0, "--port", help="Port to listen on (default: a random free one).", metavar="PORT"
    ),
    allow_remote: bool = typer.Option(
        False, "--allow-remote", help="Allow a --host that is not a loopback address (warns)."
    ),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a browser."),
    state_file: StateFileOpt = None,
    restart: RestartOpt = False,
    revisit_skipped: RevisitSkippedOpt = False,
    path: PathGlobOpt = [],  # noqa: B006 - typer's default, never mutated
    guided: GuidedOpt = False,
    user: UserOpt = None,
    role: RoleOpt = None,
    fail_on: str = typer.Option(
        "real",
        "--fail-on",
        help="Exit 1 when what is left once the review ends holds: real, noise, any, never.",
        metavar="RULE",
    ),
    config: CommitConfigOpt = None,
    trust_from: TrustFromOpt = None,
    repo_path: RepoOpt = ".",
) -> int:
    """Review in the browser: the same session, state, log and commit as `phase2 resolve`.

    Prints a URL with a secret token (http://127.0.0.1:PORT/?token=...); only requests that
    carry it, to that address, are served. Needs the web extra: pip install 'phase2-git[web]'.
    """
    from phase2_git.ui.web import ServeOptions, serve_main

    opts = ServeOptions(
        base=base,
        head=head,
        host=host,
        port=port,
        allow_remote=allow_remote,
        open_browser=not no_browser,
        state_file=state_file,
        restart=restart,
        revisit_skipped=revisit_skipped,
        paths=tuple(path),
        user=user,
        role=role,
        config=config,
        trust_from=trust_from,
        repo=repo_path,
        guided=guided,
        fail_on=fail_on,
    )
    return serve_main(opts, out=sys.stdout, environ=os.environ)
