"""``phase2 resolve``: pick the path (``--yes``, interactive review, or a plan listing when no
one can be asked), drive the session and report what happened. The engine, which decides
nothing on its own but ``--yes``'s policy, is :mod:`phase2_git.app.resolve`; the interactive
loop is :mod:`phase2_git.ui.review`."""

from __future__ import annotations

import contextlib
import gc
import os
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO

from phase2_git.app.resolve import ApplyResult, Operation, Session, open_session
from phase2_git.core.sanitize import sanitize_line, sanitize_path
from phase2_git.core.summary import FAIL_ON, failing
from phase2_git.errors import UsageError
from phase2_git.git.repo import GitRepo
from phase2_git.ui.render import report_apply


@dataclass(frozen=True)
class ResolveOptions:
    base: str | None
    head: str = "HEAD"
    yes: bool = False
    auto_approve_safe: bool = False
    no_commit: bool = False
    state_file: str | None = None
    restart: bool = False
    revisit_skipped: bool = False
    paths: tuple[str, ...] = ()
    audit: bool = False
    user: str | None = None
    role: str | None = None
    fail_on: str = "real"
    config: str | None = None
    trust_from: str | None = None
    repo: str = "."
    color: bool = False
    interactive: bool = False
    guided: bool = False


def _filter_paths(session: Session, globs: tuple[str, ...]) -> None:
    if not globs:
        return
    from phase2_git.core.artifacts import ArtifactFilter

    keep = ArtifactFilter(list(globs), [])
    session.diff.mismatches = [m for m in session.mismatches if keep(m.path)]


def header(session: Session, out: IO[str]) -> None:
    base = session.diff.base
    out.write(
        f"phase2 resolve: {session.base_description} ({(base.commit or base.tree)[:12]}) → "
        f"{session.branch.name} ({session.branch.commit[:12]})\n"
    )
    for notice in session.notices:
        out.write(f"note: {sanitize_line(notice)}\n")
    if session.state.resumed and session.already_done:
        out.write(
            f"resumed: {session.already_done} of {len(session.mismatches)} mismatch(es) already "
            f"processed (state {session.state.path.name})\n"
        )


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while thousands of decisions are built and applied:
    they make hundreds of thousands of dicts and lists and no cycles, and each full collection
    walked every object of the diff too (about 50 ms of a 5,000-transform run). Reference
    counting frees everything as usual."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def run_yes(session: Session, opts: ResolveOptions, out: IO[str]) -> ApplyResult:
    with gc_paused():
        return _run_yes(session, opts, out)


def _run_yes(session: Session, opts: ResolveOptions, out: IO[str]) -> ApplyResult:
    todo = session.todo()
    session.replayable()  # --yes decides as a pure function of its inputs
    for m in todo:
        op: Operation = session.auto_operation(m)
        session.record(op, save=False)
        extra = " [sampled for audit]" if op.audit == "pending" else ""
        reason = (
            f": {sanitize_line(op.reason)}"
            if op.decision in ("skip", "shadow") and op.reason
            else ""
        )
        if op.step is not None and op.decision == "auto-approve":
            reason = ": noise stripped, the real change waits for review"
        out.write(
            f"{op.decision:<12} {op.action:<22} {sanitize_path(m.path)} "
            f"({m.mismatch_type}){extra}{reason}\n"
        )
    # no save here: apply() saves before its first effect (a 5,000-event state file is
    # written once, not twice)
    result = session.apply(no_commit=opts.no_commit)
    report_apply(result, out)
    if not todo and not result.commits:
        out.write("nothing to do: every mismatch is already decided\n")
    return result


def list_plans(session: Session, out: IO[str]) -> None:
    """No one to ask (CI, or no TTY on stdin): show the plans and how to act on them."""
    for m in session.todo():
        safe = " (safe)" if m.plan.safe else ""
        first = m.plan.first
        if first is not None and first.safe and m.plan.transform is None:
            safe = " (its noise: strip_noise, safe)"  # a mixed file: --yes strips it
        out.write(f"{m.plan.action:<22} {sanitize_path(m.path)} ({m.mismatch_type}){safe}\n")
    out.write(
        "not a terminal: nothing was decided. Run `phase2 resolve --yes` to apply the safe "
        "plans, or `phase2 approve PATH` / `phase2 reject PATH` for the rest\n"
    )


def resolve_main(
    opts: ResolveOptions, *, out: IO[str], environ: Mapping[str, str] = os.environ
) -> int:
    if opts.fail_on not in FAIL_ON:
        raise UsageError(f"--fail-on must be one of {', '.join(FAIL_ON)}, got '{opts.fail_on}'")
    repo = GitRepo.discover(opts.repo)
    mode = "yes" if opts.yes else ("audit" if opts.audit else "interactive")
    with open_session(
        repo,
        opts.base,
        opts.head,
        config_path=opts.config,
        trust_from=opts.trust_from,
        state_file=opts.state_file,
        restart=opts.restart,
        revisit_skipped=opts.revisit_skipped,
        user=opts.user,
        role=opts.role,
        ui_mode=mode,
        rich=opts.color,
        no_commit=opts.no_commit,
        environ=environ,
    ) as session:
        _filter_paths(session, opts.paths)
        header(session, out)
        if opts.yes:
            run_yes(session, opts, out)
            return 0
        if not opts.interactive:
            list_plans(session, out)
            rule = opts.fail_on
            return 1 if any(failing(m, rule) for m in session.todo()) else 0
        if opts.guided and not opts.audit:
            from phase2_git.ui.guided import guided_review

            return guided_review(session, out, color=opts.color, resume=resume_command(opts))
        from phase2_git.ui.review import review

        if opts.auto_approve_safe:
            # mixed files: their safe first step (strip_noise) is applied without asking too;
            # their real changes are reviewed
            session.record_first_steps()
        return review(
            session,
            out,
            color=opts.color,
            audit=opts.audit,
            auto_approve_safe=opts.auto_approve_safe,
            resume=resume_command(opts),
        )


def resume_command(opts: ResolveOptions) -> str:
    """The command that takes an interrupted review up where it stopped."""
    parts = ["phase2", "resolve"]
    if opts.base:
        parts.append(opts.base)
    if opts.head != "HEAD":
        parts.append(opts.head)
    if opts.state_file:
        parts += ["--state-file", opts.state_file]
    if opts.guided:
        parts.append("--guided")
    return " ".join(shlex.quote(p) for p in parts)
