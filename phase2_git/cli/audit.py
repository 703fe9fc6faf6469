"""``phase2 log``, ``phase2 verify``, ``phase2 revert``, ``phase2 approve``, ``phase2 reject``."""

from __future__ import annotations

import sys

import typer

from phase2_git.cli import app
from phase2_git.cli._common import Command, CommitConfigOpt, RepoOpt, TrustFromOpt
from phase2_git.errors import EXIT_FINDINGS, EXIT_OK


@app.command("log", cls=Command)
def log_cmd(
    path: str | None = typer.Option(
        None, "--path", help="Only decisions on this path or glob.", metavar="GLOB"
    ),
    decision: str | None = typer.Option(
        None, "--decision", help="Only this decision kind.", metavar="KIND"
    ),
    run_id: str | None = typer.Option(
        None, "--run", help="Only decisions of this run id.", metavar="RUN_ID"
    ),
    audit_pending: bool = typer.Option(
        False, "--audit-pending", help="Auto-approvals marked for audit and not yet audited."
    ),
    fmt: str = typer.Option(
        "text", "--format", "-f", help="text or json (one line each).", metavar="FORMAT"
    ),
    repo_path: RepoOpt = ".",
) -> None:
    """Show the decision log (.phase2/decisions.jsonl)."""
    from phase2_git.app.audit import log_at
    from phase2_git.ui.render import log_lines

    view = log_at(
        repo_path,
        fmt=fmt,
        path=path,
        decision=decision,
        run=run_id,
        pending_audit=audit_pending,
    )
    sys.stdout.writelines(log_lines(view, fmt))


@app.command("verify", cls=Command)
def verify_cmd(
    repo_path: RepoOpt = ".",
) -> int:
    """Check the decision log against its schema and against git history."""
    from phase2_git.app.audit import verify_at
    from phase2_git.ui.render import verification_lines

    result = verify_at(repo_path)
    sys.stdout.writelines(verification_lines(result))
    return EXIT_OK if result.ok else EXIT_FINDINGS


@app.command("revert", cls=Command)
def revert_cmd(
    decision_id: str = typer.Argument(
        ..., help="The decision whose transform to undo.", metavar="DECISION_ID"
    ),
    user: str | None = typer.Option(
        None, "--user", help="Decision author (default: git identity).", metavar="USER"
    ),
    role: str | None = typer.Option(None, "--role", help="Decision author's role.", metavar="ROLE"),
    repo_path: RepoOpt = ".",
) -> None:
    """Undo one transform with a new commit, after checking its result still holds."""
    from phase2_git.app.audit import revert_at
    from phase2_git.ui.render import reverted_line

    result = revert_at(repo_path, decision_id, user=user, role=role)
    sys.stdout.write(reverted_line(decision_id, result))


def _decision_command(decision: str, summary: str) -> None:
    """``approve`` and ``reject`` take the same options: one definition, registered twice."""

    def command(
        paths: list[str] = typer.Argument(
            ..., help=f"Artifact paths (or globs) to {decision}.", metavar="PATH"
        ),
        base: str | None = typer.Option(
            None, "--base", help="Base side (default as for resolve).", metavar="COMMIT"
        ),
        head: str = typer.Option(
            "HEAD", "--head", help="Head side: the checked-out branch.", metavar="COMMIT"
        ),
        no_commit: bool = typer.Option(False, "--no-commit", help="Log the decisions, no commit."),
        # the state options of resolve: the state file's own errors name them
        state_file: str | None = typer.Option(
            None, "--state-file", help="Resume state file.", metavar="FILE"
        ),
        restart: bool = typer.Option(False, "--restart", help="Ignore the state file, start over."),
        user: str | None = typer.Option(
            None, "--user", help="Decision author (default: git identity).", metavar="USER"
        ),
        role: str | None = typer.Option(
            None, "--role", help="Decision author's role.", metavar="ROLE"
        ),
        config: CommitConfigOpt = None,
        trust_from: TrustFromOpt = None,
        repo_path: str = typer.Option(
            ".", "-C", "--repo", help="Run in this repository.", metavar="DIR"
        ),
    ) -> None:
        from phase2_git.app.decide import DecideOptions, decide_at
        from phase2_git.ui.render import render_decided

        opts = DecideOptions(
            decision=decision,
            paths=tuple(paths),
            base=base,
            head=head,
            no_commit=no_commit,
            state_file=state_file,
            restart=restart,
            user=user,
            role=role,
            config=config,
            trust_from=trust_from,
            repo=repo_path,
        )
        render_decided(decision, decide_at(opts), sys.stdout)

    command.__doc__ = summary
    app.command(decision, cls=Command)(command)


_decision_command(
    "approve",
    "Approve the current mismatches of each PATH: apply their transform, or accept the change.",
)
_decision_command(
    "reject",
    "Reject the plans for each PATH (label: not what the plan claims); nothing is rewritten.",
)
