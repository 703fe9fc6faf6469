"""``phase2 log``, ``phase2 verify``, ``phase2 revert``, ``phase2 approve``, ``phase2 reject``."""

from __future__ import annotations

import json
import sys

import typer

from phase2_git.cli import app
from phase2_git.cli._common import run


@app.command("log")
def log_cmd(
    path: str | None = typer.Option(None, "--path", help="Only decisions on this path or glob."),
    decision: str | None = typer.Option(None, "--decision", help="Only this decision kind."),
    run_id: str | None = typer.Option(None, "--run", help="Only decisions of this run id."),
    audit_pending: bool = typer.Option(
        False, "--audit-pending", help="Auto-approvals marked for audit and not yet audited."
    ),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json (one line each)."),
    repo_path: str = typer.Option(".", "-C", "--repo", help="Run in this repository."),
) -> None:
    """Show the decision log (.phase2/decisions.jsonl)."""

    def go() -> None:
        from phase2_git.app.audit import filter_log
        from phase2_git.core.sanitize import sanitize_path
        from phase2_git.errors import UsageError
        from phase2_git.git.repo import GitRepo
        from phase2_git.reports.jsonout import defused
        from phase2_git.store.decisions import DecisionLog

        if fmt not in ("text", "json"):
            raise UsageError(f"--format must be text or json, got '{fmt}'")
        repo = GitRepo.discover(repo_path)
        events = list(DecisionLog(repo.root).events())
        chosen = filter_log(
            events, path=path, decision=decision, run=run_id, pending_audit=audit_pending
        )
        for e in chosen:
            if fmt == "json":
                sys.stdout.write(defused(json.dumps(e, ensure_ascii=True)) + "\n")
                continue
            extra = " [audit pending]" if e.get("audit") == "pending" else ""
            sys.stdout.write(
                f"{e['ts'][:19]}  {e['decision']:<12} {e['action']:<22} "
                f"{sanitize_path(e['path'])}  {sanitize_path(e['user']['id'])}  "
                f"{sanitize_path(e['id'])}{extra}\n"
            )
        if fmt == "text":
            sys.stdout.write(f"{len(chosen)} of {len(events)} decision(s)\n")

    run(go)


@app.command("verify")
def verify_cmd(
    repo_path: str = typer.Option(".", "-C", "--repo", help="Run in this repository."),
) -> None:
    """Check the decision log against its schema and against git history."""

    def go() -> int:
        from phase2_git.app.audit import verify
        from phase2_git.core.sanitize import escape_controls
        from phase2_git.git.repo import GitRepo

        result = verify(GitRepo.discover(repo_path))
        for problem in result.problems:
            # problems quote the log's own lines: a PR wrote them
            sys.stdout.write(f"problem: {escape_controls(problem)}\n")
        state = "ok" if result.ok else f"{len(result.problems)} problem(s)"
        sys.stdout.write(
            f"verified {result.checked} decision(s), {result.transforms} transform(s): {state}\n"
        )
        return 0 if result.ok else 1

    raise typer.Exit(run(go))


@app.command("revert")
def revert_cmd(
    decision_id: str = typer.Argument(..., help="The decision whose transform to undo."),
    user: str | None = typer.Option(
        None, "--user", help="Decision author (default: git identity)."
    ),
    role: str | None = typer.Option(None, "--role", help="Decision author's role."),
    repo_path: str = typer.Option(".", "-C", "--repo", help="Run in this repository."),
) -> None:
    """Undo one transform with a new commit, after checking its result still holds."""

    def go() -> None:
        from phase2_git.app.audit import revert
        from phase2_git.app.resolve import identity
        from phase2_git.core.sanitize import sanitize_path
        from phase2_git.git.repo import GitRepo

        repo = GitRepo.discover(repo_path)
        result = revert(repo, decision_id, identity(repo, user, role))
        typer.echo(
            f"reverted {decision_id}: {sanitize_path(result.path)} restored to "
            f"{result.restored[:12]} in commit {result.commit[:12]}"
        )

    run(go)


def _decide(
    decision: str,
    paths: list[str],
    base: str | None,
    head: str,
    no_commit: bool,
    state_file: str | None,
    restart: bool,
    user: str | None,
    role: str | None,
    config: str | None,
    trust_from: str | None,
    repo_path: str,
) -> None:
    def go() -> None:
        from phase2_git.app.decide import decide
        from phase2_git.app.resolve_cli import report_apply
        from phase2_git.core.sanitize import sanitize_path
        from phase2_git.git.repo import GitRepo

        repo = GitRepo.discover(repo_path)
        result = decide(
            repo,
            decision,
            paths,
            config_path=config,
            trust_from=trust_from,
            base=base,
            head=head,
            no_commit=no_commit,
            state_file=state_file,
            restart=restart,
            user=user,
            role=role,
        )
        for notice in result.notices:
            typer.echo(f"note: {notice}")
        for m in result.decided:
            typer.echo(
                f"{decision:<8} {m.plan.action:<22} {sanitize_path(m.path)} ({m.mismatch_type})"
            )
        report_apply(result.applied, sys.stdout)

    run(go)


def _decision_command(decision: str, summary: str) -> None:
    """``approve`` and ``reject`` take the same options: one definition, registered twice."""

    def command(
        paths: list[str] = typer.Argument(..., help=f"Artifact paths (or globs) to {decision}."),
        base: str | None = typer.Option(None, "--base", help="Base side (default as for resolve)."),
        head: str = typer.Option("HEAD", "--head", help="Head side: the checked-out branch."),
        no_commit: bool = typer.Option(False, "--no-commit", help="Log the decisions, no commit."),
        # the state options of resolve: the state file's own errors name them
        state_file: str | None = typer.Option(None, "--state-file", help="Resume state file."),
        restart: bool = typer.Option(False, "--restart", help="Ignore the state file, start over."),
        user: str | None = typer.Option(
            None, "--user", help="Decision author (default: git identity)."
        ),
        role: str | None = typer.Option(None, "--role", help="Decision author's role."),
        config: str | None = typer.Option(
            None, "--config", help="Configuration file to use (default: the base commit's)."
        ),
        trust_from: str | None = typer.Option(
            None,
            "--trust-from",
            help="Commit whose configuration, [trust], [judge] and gate files count (default: "
            "the base).",
        ),
        repo_path: str = typer.Option(".", "-C", "--repo", help="Run in this repository."),
    ) -> None:
        _decide(
            decision,
            paths,
            base,
            head,
            no_commit,
            state_file,
            restart,
            user,
            role,
            config,
            trust_from,
            repo_path,
        )

    command.__doc__ = summary
    app.command(decision)(command)


_decision_command(
    "approve",
    "Approve the current mismatches of PATHS: apply their transform, or accept the change.",
)
_decision_command(
    "reject", "Reject the plans for PATHS (label: not what the plan claims); nothing is rewritten."
)
