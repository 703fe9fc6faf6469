"""Markdown report: ``--format markdown``, ``--summary PATH`` and the GitHub step summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from phase2_git.core.changes import change_lines
from phase2_git.core.sanitize import markdown_escape
from phase2_git.reports.decisions import APPROVED_CELL, decision_state, rejector

_MAX_ROWS = 500  # keeps a step summary far below GitHub's 1 MiB cap
_CHANGES_SHOWN = 3  # real changes in a row's cell; the JSON report has the list


def _cell(text: str) -> str:
    return markdown_escape(text)


def _path(path: str) -> str:
    # escaped, never stripped: `csi\x1b[2J.txt` must not show as the `csi.txt` beside it
    return markdown_escape(path, path=True)


def _change_cell(m: Mapping[str, Any]) -> str:
    """The real change itself (``$.path: old → new``, the first few) and the kinds of noise
    that came with it: what a reviewer needs, not the churn of a whole-file diff."""
    changes = m.get("changes")
    if not changes:
        return ""
    lines = change_lines(changes, _CHANGES_SHOWN)
    if changes["noise"]:
        lines.append("noise beside it: " + ", ".join(n["type"] for n in changes["noise"]))
    return "<br>".join(_cell(_cut(line)) for line in lines)


def _cut(line: str, width: int = 160) -> str:
    # a change names a path of up to 512 characters: a row stays readable, the summary small
    return line if len(line) <= width else line[: width - 1] + "…"


def _side(label: str) -> str:
    return label[:12] if not label.startswith(":") else label


def render(doc: Mapping[str, Any], *, link_base: str | None = None) -> str:
    """Render a Phase2Diff document. ``link_base`` (e.g. a blob URL prefix) links paths."""
    s = doc["summary"]
    mismatches: Sequence[Mapping[str, Any]] = doc["mismatches"]
    verdict = "FAIL" if s["exit_code"] else "PASS"
    lines = [
        f"## phase2: {s['real']} real change(s), {s['noise']} noise — {verdict}",
        "",
        f"base `{_side(doc['base'])}` → head `{_side(doc['head'])}` · "
        f"config `{doc['config_fingerprint'][:12]}` · fail-on `{s['fail_on']}` "
        f"({s['failing']} failing)",
        "",
    ]
    for notice in doc.get("notices", []):
        lines += [f"> {_cell(notice)}", ""]
    if not mismatches:
        lines += ["No artifact differs.", ""]
        return "\n".join(lines)
    lines += ["| mismatch type | count |", "| --- | ---: |"]
    lines += [f"| {k} | {v} |" for k, v in s["by_mismatch_type"].items()]
    lines.append("")

    def path_cell(m: Mapping[str, Any]) -> str:
        p = _path(m["path"])
        if link_base:
            from urllib.parse import quote

            return f"[{p}]({link_base}{quote(m['path'])})"
        return p

    real = [m for m in mismatches if not m["equivalent"]]
    noise = [m for m in mismatches if m["equivalent"]]
    if real:
        lines += [
            f"### Real changes ({len(real)})",
            "",
            "| path | status | type | plan | approved | change |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for m in real[:_MAX_ROWS]:
            approved = APPROVED_CELL[decision_state(m)]
            plan = m["plan"]["action"]
            first = m["plan"].get("first")
            if first:
                plan = f"{first['action']}{' (safe)' if first['safe'] else ''}, then {plan}"
            lines.append(
                f"| {path_cell(m)} | {m['status']} | {m['mismatch_type']} "
                f"| {plan} | {approved} | {_change_cell(m)} |"
            )
        if len(real) > _MAX_ROWS:
            lines.append(f"| … {len(real) - _MAX_ROWS} more | | | | | |")
        lines.append("")
    if noise:
        lines += [
            "<details>",
            f"<summary>Noise ({len(noise)})</summary>",
            "",
            "| path | type | plan | safe |",
            "| --- | --- | --- | --- |",
        ]
        for m in noise[:_MAX_ROWS]:
            if m["resolved"]:
                safe = "resolved"
            elif decision_state(m) == "rejected":
                safe = _cell(f"rejected by {rejector(m)}")
            else:
                safe = "yes" if m["plan"]["safe"] else "no"
            lines.append(
                f"| {path_cell(m)} | {m['mismatch_type']} | {m['plan']['action']} | {safe} |"
            )
        if len(noise) > _MAX_ROWS:
            lines.append(f"| … {len(noise) - _MAX_ROWS} more | | | |")
        lines += ["", "</details>", ""]
    return "\n".join(lines)
