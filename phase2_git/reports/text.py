"""``--format text``: a readable table and a summary line (rich; plain when not a TTY)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO, Any

from phase2_git.core.changes import change_line
from phase2_git.core.sanitize import sanitize_line, sanitize_path
from phase2_git.reports.decisions import decision_state

_TYPE_STYLE = {True: "green", False: "red"}
_PIPED_WIDTH = 160  # piped output: fixed, so it is the same on every machine
_CHANGE_WIDTH = 60


def _side(label: str, spec: str) -> str:
    short = label[:12] if not label.startswith(":") else label
    return short if spec in (label, short) else f"{spec} ({short})"


def _verdict_cell(m: Mapping[str, Any]) -> str:
    if not m["equivalent"]:
        return "real"  # a rename's bytes are "equal", which says nothing about the change
    proved = [v["method"] for v in m["verdicts"] if v["equivalent"]]
    return f"noise: {', '.join(proved)}" if proved else "noise"


_MARK = {
    "verified": "approved",
    "unverified": "approved, unverified",
    "untrusted": "untrusted approval",
    "rejected": "rejected",
}


def _plan_cell(m: Mapping[str, Any]) -> str:
    plan = m["plan"]
    if m["resolved"]:
        return f"{plan['action']} (resolved)"
    state = decision_state(m)
    if state != "none":
        return f"{plan['action']} ({_MARK[state]})"
    first = plan.get("first")
    if first:  # a mixed file: its noise can be stripped before a human looks at the rest
        return f"{first['action']}{' (safe)' if first['safe'] else ''} + {plan['action']}"
    return f"{plan['action']}{' (safe)' if plan['safe'] else ''}"


def _change_cell(m: Mapping[str, Any]) -> str:
    """The first real change (``$.a: 1 → 2``), how many more, and the noise beside it: one
    short line, so a row stays one greppable line."""
    changes = m.get("changes")
    if not changes:
        return ""
    parts: list[str] = []
    rest = len(changes["real"]) - 1 + int(changes["more"])
    if rest > 0:
        parts.append(f"+{rest} more")
    if changes["noise"]:
        parts.append("noise: " + ", ".join(n["type"] for n in changes["noise"]))
    if changes["real"]:
        first = dict(changes["real"][0])
        line = change_line(first)
        over = len(" · ".join([line, *parts])) - _CHANGE_WIDTH
        path = first["path"]
        if over > 0 and path and len(path) > 12:
            # a deep path gives way first: its end (the key that changed) and the values stay
            first["path"] = "…" + path[min(len(path) - 12, over + 1) :]
            line = change_line(first)
        parts.insert(0, line)
    return sanitize_line(" · ".join(parts))


def summary_line(s: Mapping[str, Any]) -> str:
    verdict = "FAIL" if s["exit_code"] else "ok"
    return (
        f"{s['total']} mismatch(es): {s['noise']} noise ({s['safe']} safe to apply, "
        f"{s['resolved']} resolved), {s['real']} real ({s['unresolved_real']} unresolved) "
        f"· fail-on {s['fail_on']}: {verdict}" + (f" ({s['failing']})" if s["failing"] else "")
    )


def render(
    doc: Mapping[str, Any],
    *,
    base_spec: str,
    head_spec: str,
    config_source: str,
    file: IO[str],
    color: bool,
    notices: Sequence[str] = (),
) -> None:
    from rich.console import Console
    from rich.table import Table

    mismatches = doc["mismatches"]
    rows: list[tuple[list[str], str]] = []
    for m in mismatches:  # one pass: a large report decodes each mismatch once
        path = sanitize_path(m["path"])
        if m["old_path"]:
            path = f"{sanitize_path(m['old_path'])} → {path}"
        style = _TYPE_STYLE[bool(m["equivalent"])] if color else ""
        cells = [
            path,
            m["status"],
            m["artifact_type"],
            m["mismatch_type"],
            _verdict_cell(m),
            _plan_cell(m),
            _change_cell(m),
        ]
        rows.append((cells, style))
    # the CHANGE column only when a real change was taken apart: other runs keep their table,
    # and piped output grows by the column's width so that every row stays one line
    detail = any(cells[-1] for cells, _ in rows)
    piped_width = _PIPED_WIDTH + (_CHANGE_WIDTH + 2 if detail else 0)
    console = Console(
        file=file,
        no_color=not color,
        force_terminal=color,
        highlight=False,
        # cells are data: `[bold]x.json` is a file name, not markup, `:smile:` not an emoji
        markup=False,
        emoji=False,
        soft_wrap=False,
        width=None if color else piped_width,
    )
    console.print(
        f"phase2 diff: {_side(doc['base'], base_spec)} → {_side(doc['head'], head_spec)} · "
        f"config {doc['config_fingerprint'][:12]} ({config_source})",
        markup=False,
    )
    for notice in notices:
        console.print(f"note: {sanitize_line(notice)}", markup=False, style="yellow")
    if rows:
        table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
        table.add_column("PATH", overflow="fold", ratio=3)
        table.add_column("STATUS")
        table.add_column("ARTIFACT")
        table.add_column("TYPE")
        table.add_column("VERDICT", overflow="fold", ratio=2)
        table.add_column("PLAN", overflow="fold", ratio=2)
        if detail:
            table.add_column("CHANGE", no_wrap=True, overflow="ellipsis", max_width=_CHANGE_WIDTH)
        for cells, style in rows:
            table.add_row(*(cells if detail else cells[:-1]), style=style)
        console.print(table)
    else:
        console.print("no artifact differs")
    console.print(summary_line(doc["summary"]), markup=False, style="bold" if color else "")
