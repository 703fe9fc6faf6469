"""``--format text``: a readable table and a summary line (rich; plain when not a TTY)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO, Any

from phase2_git.core.sanitize import sanitize_line, sanitize_path

_TYPE_STYLE = {True: "green", False: "red"}


def _side(label: str, spec: str) -> str:
    short = label[:12] if not label.startswith(":") else label
    return short if spec in (label, short) else f"{spec} ({short})"


def _verdict_cell(m: Mapping[str, Any]) -> str:
    if not m["equivalent"]:
        return "real"  # a rename's bytes are "equal", which says nothing about the change
    proved = [v["method"] for v in m["verdicts"] if v["equivalent"]]
    return f"noise: {', '.join(proved)}" if proved else "noise"


def _plan_cell(m: Mapping[str, Any]) -> str:
    plan = m["plan"]
    if m["resolved"]:
        return f"{plan['action']} (resolved)"
    decision = m.get("decision")
    if decision:
        mark = "approved" if decision.get("trusted") else "untrusted approval"
        return f"{plan['action']} ({mark})"
    return f"{plan['action']}{' (safe)' if plan['safe'] else ''}"


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

    console = Console(
        file=file,
        no_color=not color,
        force_terminal=color,
        highlight=False,
        # cells are data: `[bold]x.json` is a file name, not markup, `:smile:` not an emoji
        markup=False,
        emoji=False,
        soft_wrap=False,
        width=None if color else 160,
    )
    console.print(
        f"phase2 diff: {_side(doc['base'], base_spec)} → {_side(doc['head'], head_spec)} · "
        f"config {doc['config_fingerprint'][:12]} ({config_source})",
        markup=False,
    )
    for notice in notices:
        console.print(f"note: {sanitize_line(notice)}", markup=False, style="yellow")
    mismatches = doc["mismatches"]
    if mismatches:
        table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
        table.add_column("PATH", overflow="fold", ratio=3)
        table.add_column("STATUS")
        table.add_column("ARTIFACT")
        table.add_column("TYPE")
        table.add_column("VERDICT", overflow="fold", ratio=2)
        table.add_column("PLAN", overflow="fold", ratio=2)
        for m in mismatches:
            path = sanitize_path(m["path"])
            if m["old_path"]:
                path = f"{sanitize_path(m['old_path'])} → {path}"
            style = _TYPE_STYLE[bool(m["equivalent"])] if color else ""
            table.add_row(
                path,
                m["status"],
                m["artifact_type"],
                m["mismatch_type"],
                _verdict_cell(m),
                _plan_cell(m),
                style=style,
            )
        console.print(table)
    else:
        console.print("no artifact differs")
    console.print(summary_line(doc["summary"]), markup=False, style="bold" if color else "")
