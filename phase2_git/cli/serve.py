"""``phase2 serve [BASE] [HEAD]``: the review of ``phase2 resolve`` in a local web page."""

from __future__ import annotations

import os
import sys

import typer

from phase2_git.cli import app
from phase2_git.cli._common import Command, CommitConfigOpt, TrustFromOpt


@app.command("serve", cls=Command)
def serve_cmd(
    base: str | None = typer.Argument(
        None,
        help="Base side (default: merge base with the upstream, origin/HEAD, main or master).",
        metavar="BASE",
    ),
    head: str = typer.Argument("HEAD", help="Head side: the checked-out branch.", metavar="HEAD"),
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
    state_file: str | None = typer.Option(
        None, "--state-file", help="Resume state file.", metavar="FILE"
    ),
    restart: bool = typer.Option(False, "--restart", help="Ignore the state file, start over."),
    revisit_skipped: bool = typer.Option(
        False, "--revisit-skipped", help="Bring skipped mismatches back."
    ),
    path: list[str] = typer.Option(
        [], "--path", help="Only artifacts matching this glob.", metavar="GLOB"
    ),
    guided: bool = typer.Option(
        False, "--guided", help="Review step by step: noise, mixed, real, audits, labels."
    ),
    user: str | None = typer.Option(
        None, "--user", help="Decision author (default: git identity).", metavar="USER"
    ),
    role: str | None = typer.Option(
        None, "--role", help="Their role (default: ci in CI, else developer).", metavar="ROLE"
    ),
    fail_on: str = typer.Option(
        "real",
        "--fail-on",
        help="Exit 1 when what is left once the review ends holds: real, noise, any, never.",
        metavar="RULE",
    ),
    config: CommitConfigOpt = None,
    trust_from: TrustFromOpt = None,
    repo_path: str = typer.Option(
        ".", "-C", "--repo", help="Run in this repository.", metavar="DIR"
    ),
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
