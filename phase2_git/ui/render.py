"""What the smaller commands print: plain text from their app results, data in, text out.

Everything a repository or a pull request wrote (paths, user ids, decision ids, the log's own
lines) is sanitised here, on its way to the terminal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from phase2_git.core.sanitize import escape_controls, sanitize_path

if TYPE_CHECKING:
    from phase2_git.app.audit import LogView, RevertResult, Verification
    from phase2_git.app.decide import DecideResult
    from phase2_git.app.demo import DemoResult
    from phase2_git.app.init import InitResult
    from phase2_git.app.resolve import ApplyResult


def log_lines(view: LogView, fmt: str) -> Iterator[str]:
    """``phase2 log``: one line a decision (``json``: the event itself, defused), then, as
    text, how many were shown. As text the path and user columns are padded to their widest
    cell, so the columns after them line up; no line ends in spaces."""
    from phase2_git.reports.jsonout import defused

    if fmt == "json":
        for e in view.chosen:
            yield defused(json.dumps(e, ensure_ascii=True)) + "\n"
        return
    from rich.cells import cell_len  # terminal cells: a wide character takes two

    rows = [(e, sanitize_path(e["path"]), sanitize_path(e["user"]["id"])) for e in view.chosen]
    path_w = max((cell_len(path) for _, path, _ in rows), default=0)
    user_w = max((cell_len(user) for _, _, user in rows), default=0)
    for e, path, user in rows:
        extra = " [audit pending]" if e.get("audit") == "pending" else ""
        yield (
            f"{e['ts'][:19]}  {e['decision']:<12} {e['action']:<22} "
            f"{path}{' ' * (path_w - cell_len(path))}  {user}{' ' * (user_w - cell_len(user))}  "
            f"{sanitize_path(e['id'])}{extra}\n"
        )
    yield f"{len(view.chosen)} of {view.total} decision(s)\n"


def verification_lines(result: Verification) -> Iterator[str]:
    """``phase2 verify``: each problem, then the count."""
    for problem in result.problems:
        # problems quote the log's own lines: a PR wrote them
        yield f"problem: {escape_controls(problem)}\n"
    state = "ok" if result.ok else f"{len(result.problems)} problem(s)"
    yield f"verified {result.checked} decision(s), {result.transforms} transform(s): {state}\n"


def reverted_line(decision_id: str, result: RevertResult) -> str:
    """``phase2 revert``: what was restored, in which commit."""
    return (
        f"reverted {decision_id}: {sanitize_path(result.path)} restored to "
        f"{result.restored[:12]} in commit {result.commit[:12]}\n"
    )


def adopted_line(result: ApplyResult) -> str | None:
    """What an apply step says when an interrupted run's commit landed while it worked (its
    own move was refused, that commit taken over: app/resolve.py), else None. Every way a
    review commits says it: ``--yes``, the terminal review, the browser's."""
    if not result.adopted:
        return None
    return (
        f"the interrupted run's commit {result.adopted[:12]} landed while this run worked: "
        "its files and index were brought up to it"
    )


def report_apply(result: ApplyResult, out: IO[str]) -> None:
    """What an apply step did: commits, decisions logged, files rewritten or left alone."""
    adopted = adopted_line(result)
    if adopted is not None:
        out.write(adopted + "\n")
    for commit in result.commits:
        out.write(
            f"committed {commit[:12]}: {len(result.applied)} transform(s), "
            f"{result.logged} decision(s) logged with it\n"
        )
    if not result.commits and result.logged:
        out.write(
            f"logged {result.logged} decision(s) in .phase2/decisions.jsonl (not committed)\n"
        )
    if not result.commits and result.applied:
        out.write(f"rewrote {len(result.applied)} file(s) in the working tree (not committed)\n")
    for path in result.kept:
        out.write(f"left alone (your own changes): {sanitize_path(path)}\n")


def render_decided(decision: str, result: DecideResult, out: IO[str]) -> None:
    """``phase2 approve`` / ``reject``: the notices, each decided mismatch, what was applied."""
    for notice in result.notices:
        out.write(f"note: {notice}\n")
    for m in result.decided:
        out.write(
            f"{decision:<8} {m.plan.action:<22} {sanitize_path(m.path)} ({m.mismatch_type})\n"
        )
    report_apply(result.applied, out)


def init_lines(result: InitResult) -> Iterator[str]:
    """``phase2 init``: what was written or kept, then the snippets to add."""
    from phase2_git.app.init import ACTION_SNIPPET, PRE_COMMIT_SNIPPET

    for rel in result.written:
        yield f"wrote {rel}\n"
    for rel in result.kept:
        yield f"kept {rel} (exists; --force overwrites)\n"
    yield "\nAdd the pre-commit hook:\n\n"
    yield PRE_COMMIT_SNIPPET + "\n"
    yield "Check pull requests:\n\n"
    yield ACTION_SNIPPET + "\n"


def methods_lines() -> Iterator[str]:
    """``phase2 methods``: each equivalence method, its kind, its description."""
    from phase2_git.core.methods import METHODS
    from phase2_git.core.settings import DEFAULT_METHODS

    width = max(len(n) for n in METHODS)
    for name, m in METHODS.items():
        kind = "deterministic" if m.deterministic else "statistical"
        default = " (default)" if name in DEFAULT_METHODS else ""
        yield f"{name:<{width}}  {kind:<13}  {m.description}{default}\n"


def render_demo(demo: DemoResult, fmt: str, out: IO[str], *, color: bool) -> None:
    """``phase2 demo``: the report of the demo run, and, as text, where to try it."""
    from phase2_git.reports.formats import render_document

    doc = demo.result.to_json("real")
    render_document(
        doc, fmt, out, base_spec="main", head_spec="regen", config_source="defaults", color=color
    )
    if fmt in ("json", "markdown"):
        return
    import shlex

    from phase2_git.app.demo import PLAIN_DIFF, TRY

    width = max(len(cmd) for cmd, _ in TRY)
    out.write(f"\nDemo repository: {demo.path}\nTry there (cd {shlex.quote(str(demo.path))}):\n")
    for cmd, what in TRY:
        out.write(f"  {cmd:<{width}}  {what}\n")
    out.write(f"{PLAIN_DIFF}\n")
