"""The interactive review: one mismatch (or one group of the same kind of change) at a time,
one key per decision. The loop only chooses operations; :meth:`Session.apply` turns them into
commits.

An item fits the terminal: its header (progress, path, type, plan, reason) always shows, and
the diff is cut to the rows left, with a line saying how many were hidden (``d`` pages them).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from phase2_git.app.resolve import ApplyResult, DecisionKind, Operation, Session
from phase2_git.core.model import Mismatch, is_noise
from phase2_git.core.sanitize import sanitize_line, sanitize_path
from phase2_git.git.objects import read_blob
from phase2_git.ui import diffview
from phase2_git.ui.render import adopted_line

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


KEYS = "[a]pprove [r]eject [s]kip [d]iff [e]/[n] label [u]ndo [A]/[S] rest [q]uit [?]"
HELP = """\
  a  approve the plan: apply the transform, or accept the real change
  r  reject the plan (label: not what the plan claims)
  s  skip: decide later (--revisit-skipped brings it back)
  d  page the whole difference (less -R unless LESS or PAGER say otherwise)
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
    label: str = ""  # the kind of change in words (core.changes.kind_of_change)

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
    """Mismatches with the same kind of change (:func:`diffview.kind`: the same noise and the
    same real changes, with the same type and plan) form one group, placed where its first
    path would be (the diff order is by path)."""
    settings = session.config.classify
    groups: list[Group] = []
    index: dict[str, Group] = {}
    for m, before, after in read_contents(session, todo):
        kind = diffview.kind(m, before, after, settings)
        if kind is not None and kind.key in index:
            index[kind.key].members.append(m)
            continue
        g = Group([m], kind.label if kind is not None else "")
        groups.append(g)
        if kind is not None:
            index[kind.key] = g
    return groups


def _line(view_line: diffview.Line, color: bool) -> Text:
    from rich.text import Text

    t = Text()
    for seg in view_line:
        t.append(seg.text, style=_STYLES.get(seg.style, "") if color else "")
    return t


def _text(view: diffview.DiffView, color: bool) -> Text:
    """The whole view, uncut (the pager, the audit)."""
    from rich.text import Text

    t = Text()
    for s in view.structural:
        t.append(s + "\n", style="bold" if color else "")
    if view.structural_more:
        t.append(diffview.more_changes(view.structural_more) + "\n", style="dim" if color else "")
    if view.aside:
        t.append(view.aside + "\n", style="dim" if color else "")
    for line in view.lines:
        t.append_text(_line(line, color))
        t.append("\n")
    if view.hidden:
        t.append(diffview.hidden_line(view.hidden) + "\n", style="dim" if color else "")
    return t


def _plan(m: Mismatch) -> str:
    p = m.plan
    safe = "safe" if p.safe else "needs a human"
    own = f"{p.action} ({safe}, confidence {p.confidence:.2f})"
    if p.first is None:
        return f"plan {own}"
    first = "safe" if p.first.safe else "needs a human"
    return f"plan {p.first.action} ({first}), then {own}"


def _progress(k: int, total: int, tally: Tally) -> str:
    done = tally.approved + tally.rejected + tally.skipped
    return (
        f"[{k + 1}/{total}] done {done} · approved {tally.approved} · "
        f"rejected {tally.rejected} · skipped {tally.skipped}"
    )


# at most this many other paths of a group and real changes before "… N more"
_MEMBERS_SHOWN = 10
_CHANGES_SHOWN = 8


def show_item(
    console: Console,
    session: Session,
    k: int,
    total: int,
    group: Group,
    tally: Tally,
    color: bool,
    notice: Sequence[str] = (),
) -> None:
    """One item, cut to the terminal's height: the header whole, then as much of the
    change list and of the diff as the rows left hold."""
    from rich.text import Text

    m = group.first
    width, height = console.width, console.height
    bold, dim = ("bold", "dim") if color else ("", "")

    def rows(t: Text) -> int:
        return len(t.wrap(console, width)) if t.plain else 1

    def capped(text: str, most: int, style: str = "") -> Text:
        """A line of phase2's own words (a reason, a kind) cut to ``most`` rows."""
        t = Text(text, style=style)
        if rows(t) > most:
            t.truncate(width * most - 1, overflow="ellipsis")
        return t

    top = [Text(n) for n in notice]
    top.append(Text(_progress(k, total, tally), style=dim))
    if len(group.members) > 1:
        kind = group.label or "the same difference"
        top.append(capped(f"{len(group.members)} files, one decision: {kind}", 2, bold))
    top.append(Text(sanitize_path(m.path), style=bold))
    if m.change.old_path:
        top.append(Text(f"  renamed from {sanitize_path(m.change.old_path)}"))
    middle = [Text(f"  {m.artifact_type} · {m.mismatch_type} · {_plan(m)}")]
    middle.append(capped(f"  why: {sanitize_line(m.detail)}; {sanitize_line(m.plan.reason)}", 3))
    yes = [f"{v.method} ✓ {v.score:.2f}" for v in m.verdicts if v.equivalent]
    no = [f"{v.method} ✗" for v in m.verdicts if not v.equivalent]
    verdicts = " · ".join(x for x in (", ".join(yes), ", ".join(no)) if x)
    if verdicts:
        middle.append(capped(f"  methods: {verdicts}", 2))
    prompt_rows = rows(Text(_PROMPT))
    # the rule, the header, a blank line and the prompt always show; the rest share the rows
    avail = height - 1 - sum(rows(t) for t in top + middle) - 1 - prompt_rows

    others = group.members[1:]
    members: list[Text] = []
    if others:
        n = min(len(others), _MEMBERS_SHOWN, max(1, avail // 5))
        members.append(Text(f"  and {len(others)} more with the same kind of change:"))
        members += [Text(f"    {sanitize_path(o.path)}") for o in others[:n]]
        if len(others) > n:
            members.append(Text(f"    … {len(others) - n} more"))
    avail -= sum(rows(t) for t in members)

    tool = session.environ.get("PHASE2_DIFF_TOOL")
    before, after = _contents(session, m)
    console.rule(style=dim)
    for t in top + members + middle:
        console.print(t)
    if tool:
        _external(tool, m, before, after)
        return
    view = diffview.render(m, before, after, settings=session.config.classify)
    body: list[Text] = []
    listed = len(view.structural)
    n = listed if listed + view.structural_more <= _CHANGES_SHOWN else _CHANGES_SHOWN - 1
    n = min(n, max(1, avail // 4))
    body += [Text(s, style=bold) for s in view.structural[:n]]
    if listed + view.structural_more > n:
        body.append(Text(diffview.more_changes(listed - n + view.structural_more), style=dim))
    if view.aside:
        body.append(Text(view.aside, style=dim))
    avail -= sum(rows(t) for t in body)
    lines = [_line(line, color) for line in view.lines]
    shown = 0
    for i, t in enumerate(lines):
        last = i == len(lines) - 1 and not view.hidden
        r = rows(t)
        if avail - r - (0 if last else 1) < 0:
            break
        body.append(t)
        avail -= r
        shown += 1
    if shown < view.total:
        body.append(Text(diffview.hidden_line(view.total - shown), style=dim))
    out = Text("\n").join(body)
    console.print(out)
    console.print()


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


def pager(environ: Mapping[str, str]) -> tuple[str | None, dict[str, str], bool]:
    """The pager to run (``PAGER``, a shell command as git and pydoc run it, else ``less``;
    None: none found), its environment, and whether it shows colour escapes as colours.

    ``less`` without ``-R`` shows an escape as the text ``ESC[32m``: unless the user set
    ``LESS``, the pager's own environment gets ``LESS=-FRX`` (colours, quit when the diff fits
    one screen, no screen clearing) as git gives it. Any other pager, or a ``less`` the user
    configured without ``-R``, gets the diff without escapes. ``pydoc.pager``, which rich's
    pager uses, runs ``less`` without flags and takes no environment: hence this.
    """
    env = dict(environ)
    cmd = environ.get("PAGER")
    if cmd is None or not cmd.strip():
        found = shutil.which("less", path=environ.get("PATH"))
        if found is None:
            return None, env, False
        cmd = "less"
    try:
        argv = shlex.split(cmd)
    except ValueError:
        return None, env, False
    if not argv or Path(argv[0]).name != "less":
        return cmd, env, False
    if "LESS" not in environ:
        env["LESS"] = "-FRX"
    flags = [*shlex.split(env.get("LESS", "")), *argv[1:]]
    raw = any(
        f.lower() == "--raw-control-chars" or (not f.startswith("--") and _short_raw(f))
        for f in flags
    )
    return cmd, env, raw


def _short_raw(flag: str) -> bool:
    """A cluster of short options (``-FRX``, ``FRX``, ``-R``) that holds ``-R`` or ``-r``; the
    letters that take a value (``-P``, ``-x``…) end the cluster."""
    for ch in flag.lstrip("-"):
        if ch in "Rr":
            return True
        if ch in "bhjkoOpPtTxyz#":
            return False
    return False


def _page(console: Console, session: Session, m: Mismatch, color: bool) -> None:
    before, after = _contents(session, m)
    view = diffview.render(m, before, after, full=True, settings=session.config.classify)
    cmd, env, raw = pager(session.environ)
    styled = color and raw
    with console.capture() as captured:
        console.print(_text(view, styled), markup=False, highlight=False)
    text = captured.get()
    if not styled:
        from rich.text import Text

        text = Text.from_ansi(text).plain if "\x1b" in text else text
    if cmd is None:
        console.print(_text(view, color))
        return
    try:
        proc = subprocess.Popen(
            cmd,
            shell=True,
            stdin=subprocess.PIPE,
            env=env,
            # the terminal's encoding, as the review itself writes (not the locale's)
            encoding=getattr(console.file, "encoding", None) or "utf-8",
            errors="backslashreplace",
        )
    except OSError as exc:
        console.print(f"  the pager failed: {exc.strerror}", markup=False)
        console.print(_text(view, color))
        return
    try:
        assert proc.stdin is not None
        with proc.stdin as pipe:
            pipe.write(text)
    except (OSError, KeyboardInterrupt):
        pass  # the pager was quit before reading everything
    while True:
        try:
            proc.wait()
            break
        except KeyboardInterrupt:
            pass  # Ctrl-C belongs to the pager while it runs (as pydoc does)


_PROMPT = f"  {KEYS}  > "


def _prompt(console: Console, color: bool) -> None:
    console.print(_PROMPT, markup=False, end="", style="bold" if color else "")


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
    adopted = adopted_line(result)
    if adopted is not None:
        console.print(adopted, markup=False)
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

    notice: list[str] = field(default_factory=list)  # said at the top of the next item
    # the labels-next lines the help key adds (read when asked: the dataset may change)
    hint: Callable[[], list[str]] = list

    def run(self, keys: KeyReader) -> None:
        while not self.done and self.k < len(self.groups):
            if self.shown != self.k:
                self.show()
                self.shown = self.k
            _prompt(self.console, self.color)
            key = keys.read()
            self.console.print(key if key.isprintable() else "", markup=False)
            self.apply(ACTIONS.get(key, UNKNOWN))
        for line in self.notice:  # the last item's feedback: no item follows to carry it
            self.console.print(line, markup=False)
        self.notice = []

    def show(self) -> None:
        """The group asked about, with the feedback of the last key (``notice``) above it."""
        show_item(
            self.console,
            self.session,
            self.k,
            len(self.groups),
            self.groups[self.k],
            self.tally,
            self.color,
            self.notice,
        )
        self.notice = []

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
                if action.decision == "reject":
                    self.notice.append(rejected_line(group))
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
                self.notice.append(
                    f"  undone: back to {sanitize_path(self.groups[self.k].first.path)}"
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
                self.notice.append(f"  approved {len(remaining) - len(keep)} safe group(s)")
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
                for line in self.hint():
                    say(line, markup=False)
            case _:
                say("  unknown key: press ? for help", markup=False)


def rejected_line(group: Group) -> str:
    """What ``r`` did, in one line: what was rejected and what follows from it."""
    m = group.first
    what = (
        sanitize_path(m.path)
        if len(group.members) == 1
        else f"{len(group.members)} files ({group.label or 'the same difference'})"
    )
    if is_noise(m.mismatch_type):
        then = (
            f"nothing is rewritten ({m.plan.action} not applied); logged as a real change, "
            "label different"
        )
    else:
        then = (
            "the change stays unapproved: --fail-on real still counts it; "
            "logged with label different"
        )
    return f"  ✗ rejected {what}: {then} (u undoes it)"


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
    base: str | None = None,
) -> int:
    """The interactive review of ``session`` (``--audit``: of the auto-approvals waiting for
    an audit); ``resume`` is the command an interrupted review is taken up with, ``base`` the
    BASE it was given (the labels-next hint names it; else the base commit)."""
    console = _console(out, color)
    keys = keys or KeyReader(sys.stdin)
    if audit:
        return audit_review(session, console, keys, color)
    tally = Tally()

    def hint() -> list[str]:
        return labels_hint(session, base)

    def loop() -> None:
        todo = session.todo()
        if auto_approve_safe:
            todo = _approve_safe_first(session, console, tally, todo)
        groups = build_groups(session, todo)
        Review(session, console, color, groups, tally, hint=hint).run(keys)

    result = run_and_apply(session, console, tally, resume, loop)
    if result is None:
        return 130
    summary(console, tally, result, color)
    for line in hint():
        console.print(line, markup=False)
    return 0


def labels_hint(session: Session, base: str | None) -> list[str]:
    """What ``phase2 labels next`` would say about this comparison, in two lines."""
    from phase2_git.app.label_next import review_hint

    side = session.diff.base
    shown = base if base is not None else (side.commit or side.tree or "")[:12]
    types = (m.mismatch_type for m in session.mismatches)
    return review_hint(session.repo.root, session.config, types, shown, "HEAD")


def run_and_apply(
    session: Session, console: Console, tally: Tally, resume: str, loop: Callable[[], None]
) -> ApplyResult | None:
    """Run a review ``loop`` (the plain one, the guided one), then the session's one apply
    step. None when Ctrl-C stopped it: said, with the command that resumes (every decision made
    is in the state file)."""
    try:
        loop()
        tally.sampled = session.state.stats.get("sampled", 0)
        return session.apply()
    except KeyboardInterrupt:
        console.print()
        console.print(
            f"interrupted: {tally.approved + tally.rejected + tally.skipped} decision(s) saved. "
            f"Resume with: {resume}",
            markup=False,
        )
        return None


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
                read_blob(session.repo, target["hashes"]["after"])
                if target["hashes"]["after"]
                else b""
            )
            after = read_blob(session.repo, target["result"]) if target.get("result") else b""
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
