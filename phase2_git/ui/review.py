"""The interactive review: one mismatch (or one group of identical ones) at a time, one key
per decision. The loop only chooses operations; :meth:`Session.apply` turns them into commits.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from phase2_git.app.resolve import ApplyResult, DecisionKind, Operation, Session
from phase2_git.core.model import Mismatch
from phase2_git.core.sanitize import sanitize_line, sanitize_path
from phase2_git.git import commit as gitc
from phase2_git.ui import diffview

if TYPE_CHECKING:
    from rich.console import Console


KEYS = "[a]pprove [r]eject [s]kip [d]iff [e]/[n] label [u]ndo [A]/[S] rest [q]uit [?]"
HELP = """\
  a  approve the plan: apply the transform, or accept the real change
  r  reject the plan (label: not what the plan claims)
  s  skip: decide later (--revisit-skipped brings it back)
  d  show the whole difference (paged)
  e  label equivalent (noise) without acting
  n  label different (real) without acting
  u  undo the last decision of this session
  A  approve every remaining safe plan, then go on with the rest
  S  skip everything that remains
  q  save and quit (approved transforms are committed)
  ?  this help"""

_STYLES = {
    "add": "green",
    "del": "red",
    "add-word": "bold black on green",
    "del-word": "bold black on red",
    "hunk": "cyan",
    "ctx": "",
    "meta": "dim",
}


class KeyReader:
    """One key press at a time from a TTY (cbreak: Ctrl-C still raises KeyboardInterrupt)."""

    def __init__(self, stream: IO[str]) -> None:
        self.fd = stream.fileno()

    def read(self) -> str:
        import termios
        import tty

        old = termios.tcgetattr(self.fd)
        try:
            # TCSANOW: the default (TCSAFLUSH) discards keys typed ahead of the prompt
            tty.setcbreak(self.fd, termios.TCSANOW)
            data = os.read(self.fd, 1)
            if data == b"\x1b":
                # an arrow or function key: swallow the rest of the sequence, it means nothing
                import select

                while select.select([self.fd], [], [], 0.02)[0]:
                    os.read(self.fd, 16)
                return "\x1b"
            if not data:
                raise EOFError
        finally:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, old)
        return data.decode("utf-8", "replace")


@dataclass
class Group:
    members: list[Mismatch]

    @property
    def first(self) -> Mismatch:
        return self.members[0]


@dataclass
class Tally:
    approved: int = 0
    rejected: int = 0
    skipped: int = 0
    labelled: int = 0
    sampled: int = 0
    history: list[tuple[int, int, str]] = field(default_factory=list)  # (group index, n, kind)


def read_contents(
    session: Session, ms: Sequence[Mismatch]
) -> Iterator[tuple[Mismatch, bytes | None, bytes | None]]:
    from phase2_git.git.blobs import read_blobs

    by_path = {m.path: m for m in ms}
    for change, before, after in read_blobs(
        session.repo, [m.change for m in ms], max_size=session.config.classify.max_file_size
    ):
        m = by_path[change.path]
        yield m, before.data if before else None, after.data if after else None


def build_groups(session: Session, todo: Sequence[Mismatch]) -> list[Group]:
    """Mismatches whose normalised difference is identical form one group, placed where its
    first path would be (the diff order is by path)."""
    groups: list[Group] = []
    index: dict[str, Group] = {}
    for m, before, after in read_contents(session, todo):
        sig = diffview.signature(m, before, after)
        if sig is not None and sig in index:
            index[sig].members.append(m)
            continue
        g = Group([m])
        groups.append(g)
        if sig is not None:
            index[sig] = g
    return groups


def _text(view: diffview.DiffView, color: bool) -> Any:
    from rich.text import Text

    t = Text()
    for s in view.structural:
        t.append(s + "\n", style="bold" if color else "")
    for line in view.lines:
        for seg in line:
            t.append(seg.text, style=_STYLES.get(seg.style, "") if color else "")
        t.append("\n")
    if view.hidden:
        t.append(
            f"… {view.hidden} more line{'s' if view.hidden != 1 else ''}, press d\n", style="dim"
        )
    return t


def show_item(
    console: Console, session: Session, k: int, total: int, group: Group, tally: Tally, color: bool
) -> None:
    m = group.first
    done = tally.approved + tally.rejected + tally.skipped
    console.rule(style="dim")
    console.print(
        f"[{k + 1}/{total}] done {done} · approved {tally.approved} · skipped {tally.skipped}",
        markup=False,
        style="dim" if color else "",
    )
    console.print(sanitize_path(m.path), markup=False, style="bold" if color else "")
    if m.change.old_path:
        console.print(f"  renamed from {sanitize_path(m.change.old_path)}", markup=False)
    if len(group.members) > 1:
        console.print(
            f"  and {len(group.members) - 1} more with the same difference:", markup=False
        )
        for other in group.members[1:11]:
            console.print(f"    {sanitize_path(other.path)}", markup=False)
        if len(group.members) > 11:
            console.print(f"    … {len(group.members) - 11} more", markup=False)
    safe = "safe" if m.plan.safe else "needs a human"
    console.print(
        f"  {m.artifact_type} · {m.mismatch_type} · plan {m.plan.action} ({safe}, "
        f"confidence {m.plan.confidence:.2f})",
        markup=False,
    )
    console.print(f"  why: {sanitize_line(m.detail)}; {sanitize_line(m.plan.reason)}", markup=False)
    yes = [f"{v.method} ✓ {v.score:.2f}" for v in m.verdicts if v.equivalent]
    no = [f"{v.method} ✗" for v in m.verdicts if not v.equivalent]
    verdicts = " · ".join(x for x in (", ".join(yes), ", ".join(no)) if x)
    if verdicts:
        console.print(f"  methods: {verdicts}", markup=False)
    tool = session.environ.get("PHASE2_DIFF_TOOL")
    before, after = _contents(session, m)
    if tool:
        _external(tool, m, before, after)
    else:
        console.print(_text(diffview.render(m, before, after), color))


def _contents(session: Session, m: Mismatch) -> tuple[bytes | None, bytes | None]:
    for _, before, after in read_contents(session, [m]):
        return before, after
    return None, None  # pragma: no cover


def _external(tool: str, m: Mismatch, before: bytes | None, after: bytes | None) -> None:
    """``PHASE2_DIFF_TOOL`` (e.g. ``delta --side-by-side``) gets the two sides as files."""
    with tempfile.TemporaryDirectory(prefix="phase2-difftool-") as tmp:
        suffix = Path(m.path).suffix
        a, b = Path(tmp) / f"base{suffix}", Path(tmp) / f"head{suffix}"
        a.write_bytes(before or b"")
        b.write_bytes(after or b"")
        with contextlib.suppress(OSError):
            subprocess.run([*shlex.split(tool), str(a), str(b)], check=False)


def _page(console: Console, session: Session, m: Mismatch, color: bool) -> None:
    before, after = _contents(session, m)
    with console.pager(styles=color):
        console.print(_text(diffview.render(m, before, after, full=True), color))


def _prompt(console: Console, color: bool) -> None:
    console.print(f"  {KEYS}  > ", markup=False, end="", style="bold" if color else "")


def _decide(session: Session, group: Group, kind: DecisionKind, label: str | None = None) -> int:
    # a human decided: nothing here is sampled for audit (only auto-approvals are)
    for m in group.members:
        session.record(Operation(m, kind, label=label))
    return len(group.members)


def summary(console: Console, tally: Tally, result: ApplyResult, color: bool) -> None:
    from rich.table import Table

    table = Table(title="phase2 resolve", show_header=True, header_style="bold" if color else "")
    for col in ("approved", "rejected", "skipped", "labelled", "committed", "sampled for audit"):
        table.add_column(col, justify="right")
    table.add_row(
        str(tally.approved),
        str(tally.rejected),
        str(tally.skipped),
        str(tally.labelled),
        str(len(result.applied)),
        str(tally.sampled),
    )
    console.print(table)
    for commit in result.commits:
        console.print(f"commit {commit}", markup=False)
    if result.logged and not result.commits:
        console.print(
            f"{result.logged} decision(s) logged in .phase2/decisions.jsonl", markup=False
        )
    for path in result.kept:
        console.print(f"left alone (your own changes): {sanitize_path(path)}", markup=False)


def _console(out: IO[str], color: bool) -> Console:
    from rich.console import Console

    is_tty = hasattr(out, "isatty") and out.isatty()
    return (
        Console(
            file=out,
            no_color=not color,
            force_terminal=color,
            highlight=False,
            markup=False,
            emoji=False,
        )
        if is_tty or color
        else Console(
            file=out,
            no_color=True,
            force_terminal=False,
            highlight=False,
            markup=False,
            emoji=False,
            width=120,
        )
    )


@dataclass(frozen=True)
class Action:
    """What one key asks of the review, as cargo-insta turns a key into an ``Operation``:
    :meth:`Review.apply` carries every action out, in one place."""

    kind: Literal["decide", "undo", "page", "approve_safe", "skip_rest", "quit", "help", "unknown"]
    decision: DecisionKind | None = None  # decide: what each mismatch of the group records
    counter: str = ""  # decide: the Tally field that counts it
    label: str | None = None  # decide with a label: the review stays on the group


ACTIONS: dict[str, Action] = {
    "a": Action("decide", "approve", "approved"),
    "r": Action("decide", "reject", "rejected"),
    "s": Action("decide", "skip", "skipped"),
    "e": Action("decide", "label", "labelled", "equivalent"),
    "n": Action("decide", "label", "labelled", "different"),
    "u": Action("undo"),
    "d": Action("page"),
    "A": Action("approve_safe"),
    "S": Action("skip_rest"),
    "q": Action("quit"),
    "?": Action("help"),
}
UNKNOWN = Action("unknown")


@dataclass
class Review:
    """The loop's state: the groups to show, the one shown, and what was decided."""

    session: Session
    console: Console
    color: bool
    groups: list[Group]
    tally: Tally
    k: int = 0  # the group asked about
    shown: int = -1  # the group on screen (-1: show it again)
    done: bool = False

    def run(self, keys: KeyReader) -> None:
        while not self.done and self.k < len(self.groups):
            if self.shown != self.k:
                group, total = self.groups[self.k], len(self.groups)
                show_item(self.console, self.session, self.k, total, group, self.tally, self.color)
                self.shown = self.k
            _prompt(self.console, self.color)
            key = keys.read()
            self.console.print(key if key.isprintable() else "", markup=False)
            self.apply(ACTIONS.get(key, UNKNOWN))

    def apply(self, action: Action) -> None:
        """Carry out one key's action: the only place the review's state changes."""
        say = self.console.print
        group = self.groups[self.k]
        match action.kind:
            case "decide":
                assert action.decision is not None  # every "decide" action names one
                n = _decide(self.session, group, action.decision, action.label)
                setattr(self.tally, action.counter, getattr(self.tally, action.counter) + n)
                self.tally.history.append((self.k, n, action.counter))
                if action.label is None:
                    self.k += 1
                else:
                    say(f"  labelled {action.label}", markup=False)
            case "undo":
                if not self.tally.history:
                    say("  nothing to undo", markup=False)
                    return
                self.k, n, counter = self.tally.history.pop()
                for _ in range(n):
                    self.session.undo_last()
                setattr(self.tally, counter, getattr(self.tally, counter) - n)
                say(
                    f"  undone: back to {sanitize_path(self.groups[self.k].first.path)}",
                    markup=False,
                )
                self.shown = -1
            case "page":
                _page(self.console, self.session, group.first, self.color)
                self.shown = -1
            case "approve_safe":
                remaining = self.groups[self.k :]
                keep = [g for g in remaining if not all(m.plan.safe for m in g.members)]
                for g in remaining:
                    if g not in keep:
                        self.tally.approved += _decide(self.session, g, "approve")
                say(f"  approved {len(remaining) - len(keep)} safe group(s)", markup=False)
                self.groups = self.groups[: self.k] + keep
                self.shown = -1
            case "skip_rest":
                for g in self.groups[self.k :]:
                    self.tally.skipped += _decide(self.session, g, "skip")
                self.done = True
            case "quit":
                self.done = True
            case "help":
                say(HELP, markup=False)
            case _:
                say("  unknown key: press ? for help", markup=False)


def _approve_safe_first(
    session: Session, console: Console, tally: Tally, todo: list[Mismatch]
) -> list[Mismatch]:
    """``--auto-approve-safe``: approve every safe plan before the review; the rest is left."""
    rest = []
    for n, m in enumerate(todo, start=1):
        if m.plan.safe:
            tally.approved += _decide(session, Group([m]), "approve")
            if console.is_terminal:
                console.print(f"\rauto-approving safe plans: {n}/{len(todo)}", end="", markup=False)
        else:
            rest.append(m)
    if console.is_terminal and len(rest) != len(todo):
        console.print()
    return rest


def review(
    session: Session,
    out: IO[str],
    *,
    color: bool,
    audit: bool = False,
    auto_approve_safe: bool = False,
    resume: str = "phase2 resolve",
    keys: KeyReader | None = None,
) -> int:
    """The interactive review of ``session`` (``--audit``: of the auto-approvals waiting for
    an audit); ``resume`` is the command an interrupted review is taken up with."""
    console = _console(out, color)
    keys = keys or KeyReader(sys.stdin)
    if audit:
        return audit_review(session, console, keys, color)
    tally = Tally()
    try:
        todo = session.todo()
        if auto_approve_safe:
            todo = _approve_safe_first(session, console, tally, todo)
        Review(session, console, color, build_groups(session, todo), tally).run(keys)
        tally.sampled = session.state.stats.get("sampled", 0)
        result = session.apply()
    except KeyboardInterrupt:
        console.print()
        console.print(
            f"interrupted: {tally.approved + tally.rejected + tally.skipped} decision(s) saved. "
            f"Resume with: {resume}",
            markup=False,
        )
        return 130
    summary(console, tally, result, color)
    return 0


def audit_review(session: Session, console: Console, keys: KeyReader, color: bool) -> int:
    """``--audit``: walk the auto-approvals marked for audit; the answers become labels."""
    from phase2_git.app.audit import audit_pending, record_audit
    from phase2_git.store.decisions import DecisionLog

    log = DecisionLog(session.repo.root)
    pending = audit_pending(list(log.events()))
    if not pending:
        console.print("no auto-approval is waiting for an audit", markup=False)
        return 0
    answered = 0
    try:
        for k, target in enumerate(pending):
            console.rule(style="dim")
            console.print(
                f"[audit {k + 1}/{len(pending)}] {sanitize_path(target['path'])} · "
                f"{sanitize_line(str(target.get('mismatch_type', '?')))} · "
                f"{target['action']} ({target['id']})",
                markup=False,
            )
            before = (
                gitc.read_blob(session.repo, target["hashes"]["after"])
                if target["hashes"]["after"]
                else b""
            )
            after = gitc.read_blob(session.repo, target["result"]) if target.get("result") else b""
            # the panel's 50-line cap, as in the review (there is no `d` here: the rest is in
            # the commit the trailer names)
            lines = list(diffview.text_diff(before, after, ws=True))
            shown = tuple(lines[: diffview.MAX_LINES])
            console.print(_text(diffview.DiffView(shown, 0), color))
            if len(lines) > len(shown):
                console.print(f"… {len(lines) - len(shown)} more lines not shown", markup=False)
            while True:
                console.print(
                    "  a it was noise (confirm) · r it was a real change · s skip · q quit  > ",
                    markup=False,
                    end="",
                )
                key = keys.read()
                console.print(key if key.isprintable() else "", markup=False)
                if key in ("a", "r", "s", "q"):
                    break
                console.print("  unknown key", markup=False)
            if key == "q":
                break
            if key == "s":
                continue
            record_audit(session, target, "equivalent" if key == "a" else "different")
            answered += 1
    except KeyboardInterrupt:
        console.print()
        session.apply()  # committed like every decision
        console.print(f"interrupted: {answered} audit(s) saved", markup=False)
        return 130
    result = session.apply()  # committed like every decision
    console.print(f"{answered} audit(s) recorded", markup=False)
    for commit in result.commits:
        console.print(f"commit {commit}", markup=False)
    return 0
