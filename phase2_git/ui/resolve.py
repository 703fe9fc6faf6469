"""``phase2 resolve``: pick the path (``--yes``, interactive review, or a plan listing when no
one can be asked), drive the session and report what happened. The engine, which decides
nothing on its own but ``--yes``'s policy, is :mod:`phase2_git.app.resolve`; the interactive
loop is :mod:`phase2_git.ui.review`."""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Protocol

from phase2_git.app.resolve import ApplyResult, Operation, Session, open_session
from phase2_git.core.gcpause import gc_paused
from phase2_git.core.model import Mismatch, is_noise
from phase2_git.core.sanitize import sanitize_line, sanitize_path
from phase2_git.core.summary import FAIL_ON, FailOn, failing, is_approved, summarize
from phase2_git.errors import UsageError
from phase2_git.git.repo import GitRepo
from phase2_git.store.gate import KILL_SWITCH_ENV
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


class SessionOptions(Protocol):
    """What a review (``resolve``, ``serve``) opens its session from."""

    @property
    def repo(self) -> str: ...
    @property
    def base(self) -> str | None: ...
    @property
    def head(self) -> str: ...
    @property
    def config(self) -> str | None: ...
    @property
    def trust_from(self) -> str | None: ...
    @property
    def state_file(self) -> str | None: ...
    @property
    def restart(self) -> bool: ...
    @property
    def revisit_skipped(self) -> bool: ...
    @property
    def user(self) -> str | None: ...
    @property
    def role(self) -> str | None: ...
    @property
    def paths(self) -> tuple[str, ...]: ...


@contextlib.contextmanager
def review_session(
    opts: SessionOptions,
    out: IO[str],
    *,
    ui_mode: str,
    rich: bool,
    environ: Mapping[str, str],
    no_commit: bool = False,
) -> Iterator[Session]:
    """The session of a review in the terminal or the browser: the repository ``opts.repo``,
    its sides, state file and reviewer as the options give them, narrowed to ``opts.paths``,
    its header written to ``out``."""
    repo = GitRepo.discover(opts.repo)
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
        ui_mode=ui_mode,
        rich=rich,
        no_commit=no_commit,
        environ=environ,
    ) as session:
        _filter_paths(session, opts.paths)
        header(session, out)
        yield session


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


def run_yes(session: Session, opts: ResolveOptions, out: IO[str]) -> ApplyResult:
    with gc_paused():
        return _run_yes(session, opts, out)


def _run_yes(session: Session, opts: ResolveOptions, out: IO[str]) -> ApplyResult:
    todo = session.todo()
    session.replayable()  # --yes decides as a pure function of its inputs
    # the strips --yes would record, run in one batch: a refused one is skipped, not recorded
    session.prepare_strips([m for m in todo if m.strips_safely])
    recorded = 0
    for m in todo:
        op: Operation = session.auto_operation(m)
        # a skip of --yes leaves the plan to a human: printed, neither logged nor remembered
        recorded += session.record_auto(op)
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
    if not recorded and not result.commits and not result.logged:
        out.write("nothing to do: --yes has nothing new to apply\n")
    return result


def _suffix(session: Session, m: Mismatch) -> str:
    if is_approved(m):
        return " (approved)"
    if m.id in session.state.skipped:
        return " (skipped)"
    if session.state.is_processed(m.id):
        return " (decided, not yet applied)"
    if m.strips_safely:
        return " (its noise: strip_noise, safe)"  # a mixed file: --yes strips it
    return " (safe)" if m.plan.safe else ""


def list_plans(session: Session, out: IO[str], opts: ResolveOptions | None = None) -> None:
    """No one to ask (CI, or no TTY on stdin): show the plans and how to act on them."""
    opts = opts or ResolveOptions(base=None)
    for m in session.mismatches:
        out.write(
            f"{m.plan.action:<22} {sanitize_path(m.path)} ({m.mismatch_type})"
            f"{_suffix(session, m)}\n"
        )
    out.write("not a terminal: nothing was decided\n")
    say_left(session, opts, session.mismatches, out)


def say_left(
    session: Session, opts: ResolveOptions, standing: Sequence[Mismatch], out: IO[str]
) -> None:
    """What is left to decide, and what would decide it: never advice just followed."""
    left = [m for m in standing if failing(m, "any")]
    if not left:
        out.write("nothing left: every mismatch is resolved or has a trusted approval\n")
        return
    real = sum(1 for m in left if not is_noise(m.mismatch_type))
    skipped = set(session.state.skipped)
    n_skipped = sum(1 for m in left if m.id in skipped)
    undecided = [m for m in left if not session.state.is_processed(m.id)]
    auto = [m for m in undecided if session.auto_operation(m).decision == "auto-approve"]
    # a mixed file's safe first step (strip_noise) waits for the switch like a safe plan
    safe_waiting = [m for m in undecided if m.plan.safe or m.strips_safely]
    out.write(
        f"left: {len(left)} mismatch(es), {real} real change(s) without a trusted approval "
        f"and {len(left) - real} unresolved noise\n"
    )
    again = command(opts)
    if auto:
        out.write(f"  `{command(opts, '--yes')}` applies {len(auto)} safe plan(s)\n")
    elif safe_waiting and session.kill_switch:
        out.write(
            f"  {KILL_SWITCH_ENV} is set: {len(safe_waiting)} safe plan(s) wait for a human "
            "until it is lifted\n"
        )
    out.write(
        f"  on a terminal, `{again}` reviews them; `phase2 approve PATH` / `phase2 reject PATH` "
        "decide one without a terminal\n"
    )
    if n_skipped:
        out.write(f"  `{command(opts, '--revisit-skipped')}` brings back {n_skipped} you skipped\n")


def resolve_main(
    opts: ResolveOptions, *, out: IO[str], environ: Mapping[str, str] = os.environ
) -> int:
    if opts.fail_on not in FAIL_ON:
        raise UsageError(f"--fail-on must be one of {', '.join(FAIL_ON)}, got '{opts.fail_on}'")
    rule = opts.fail_on  # narrowed to FailOn by the test above
    mode = "yes" if opts.yes else ("audit" if opts.audit else "interactive")
    with review_session(
        opts, out, ui_mode=mode, rich=opts.color, environ=environ, no_commit=opts.no_commit
    ) as session:
        opened_at = session.branch.commit
        if opts.yes:
            # an interrupted review's approvals and rejects, still pending, are committed by
            # this run too: they change verdicts, so what is left is compared again
            resumed = any(
                p["event"]["decision"] in ("approve", "reject") for p in session.state.pending
            )
            result = run_yes(session, opts, out)
            standing = _standing(session, opts, opened_at, None if resumed else result.applied)
            say_left(session, opts, standing, out)
            return exit_code(standing, rule)
        if not opts.interactive:
            list_plans(session, out, opts)
            return exit_code(session.mismatches, rule)
        if opts.guided and not opts.audit:
            from phase2_git.ui.guided import guided_review

            code = guided_review(session, out, color=opts.color, resume=resume_command(opts))
            if code != 0:
                return code
            return finish(session, opts, opened_at, out)
        from phase2_git.ui.review import review

        if not opts.audit and not session.todo():
            # nothing to ask: no review, no table of zeros
            if any(m.id in session.state.skipped for m in session.mismatches):
                out.write("nothing to review: every mismatch left was skipped earlier\n")
            else:
                out.write("nothing to review: every mismatch is decided\n")
            say_left(session, opts, session.mismatches, out)
            return exit_code(session.mismatches, rule)
        auto_approve_safe = opts.auto_approve_safe
        if auto_approve_safe and (session.kill_switch or session.breaker()):
            # --auto-approve-safe is an auto-apply: off while the switch or the breaker is
            auto_approve_safe = False
            out.write("note: --auto-approve-safe is off: every plan is asked\n")
        if auto_approve_safe:
            # mixed files: their safe first step (strip_noise) is applied without asking too;
            # their real changes are reviewed
            session.record_first_steps()
        code = review(
            session,
            out,
            color=opts.color,
            audit=opts.audit,
            auto_approve_safe=auto_approve_safe,
            resume=resume_command(opts),
            base=opts.base,
        )
        if code != 0 or opts.audit:
            return code
        return finish(session, opts, opened_at, out)


def finish(
    session: Session,
    opts: ResolveOptions,
    opened_at: str,
    out: IO[str],
    *,
    resume: str | None = None,
) -> int:
    """How every review ends (terminal, guided, browser): what was not reviewed and the
    command that resumes it, what is left, and the exit code ``--fail-on`` gives it.
    ``opened_at``: the branch's commit when the session opened."""
    rule = opts.fail_on
    if rule not in FAIL_ON:  # pragma: no cover - checked before the session opens
        raise UsageError(f"--fail-on must be one of {', '.join(FAIL_ON)}, got '{rule}'")
    standing = _standing(session, opts, opened_at, None)
    undecided = [m for m in session.todo() if m in standing]
    if undecided:
        out.write(
            f"{len(undecided)} mismatch(es) not yet reviewed. Resume with: "
            f"{resume or resume_command(opts)}\n"
        )
    say_left(session, opts, standing, out)
    return exit_code(standing, rule)


def _standing(
    session: Session, opts: ResolveOptions, since: str, applied: Sequence[str] | None
) -> list[Mismatch]:
    standing = session.standing(since, applied)
    if opts.paths:
        from phase2_git.core.artifacts import ArtifactFilter

        keep = ArtifactFilter(list(opts.paths), [])
        standing = [m for m in standing if keep(m.path)]
    return standing


def exit_code(standing: Sequence[Mismatch], rule: FailOn) -> int:
    """``--fail-on`` over what the comparison holds after the run, as ``phase2 diff`` counts
    it (:func:`phase2_git.core.summary.summarize`)."""
    code = summarize(standing, rule)["exit_code"]
    assert isinstance(code, int)
    return code


def command(opts: ResolveOptions, *flags: str, verb: str = "resolve") -> str:
    """``phase2 resolve`` (or ``verb``: ``serve``) with ``flags`` and the sides as this run
    was given them."""
    parts = ["phase2", verb, *flags]
    if opts.base:
        parts.append(opts.base)
    if opts.head != "HEAD":
        parts.append(opts.head)
    if opts.state_file:
        parts += ["--state-file", opts.state_file]
    if opts.guided:
        parts.append("--guided")
    return " ".join(shlex.quote(p) for p in parts)


def resume_command(opts: ResolveOptions) -> str:
    """The command that takes an interrupted review up where it stopped."""
    return command(opts)
