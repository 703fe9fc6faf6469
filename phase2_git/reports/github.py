"""GitHub Actions: workflow-command annotations, ``$GITHUB_OUTPUT`` values, the step summary.

Pure renderers; the app layer decides when (``GITHUB_ACTIONS=true``) and where to write.
References: GitHub's "Workflow commands for GitHub Actions" (escaping, multiline outputs,
step summary) and its annotation limits (10 errors, 10 warnings and 10 notices per step).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from phase2_git.core.changes import change_line
from phase2_git.core.model import is_noise
from phase2_git.core.sanitize import (
    escape_path,
    sanitize_line,
    shell_path,
    workflow_command_escape,
)
from phase2_git.reports.decisions import decision_state, rejected_by, rejector

MAX_ANNOTATIONS = 10  # GitHub shows at most 10 annotations of a kind per step
STEP_SUMMARY_LIMIT = 1024 * 1024  # GitHub rejects a step summary over 1 MiB
_TRUNCATED = (
    "\n\n> phase2: report truncated to fit the step summary (1 MiB); the full report is in "
    "the summary file and the JUnit report.\n"
)


def _prop(text: str) -> str:
    # properties are paths and titles: escaped, never stripped; ``:`` and ``,`` become %3A and
    # %2C here, so a path keeps its colons and GitHub can still find the file
    return workflow_command_escape(escape_path(text), property=True)


def _data(text: str) -> str:
    return workflow_command_escape(sanitize_line(text))


def _command(kind: str, message: str, **props: str) -> str:
    shown = ",".join(f"{k}={_prop(v)}" for k, v in props.items())
    return f"::{kind}{' ' + shown if shown else ''}::{_data(message)}"


def _approved(m: Mapping[str, Any]) -> bool:
    d = m.get("decision") or {}
    return bool(d.get("trusted")) and d.get("decision") == "approve"


def annotation_lines(doc: Mapping[str, Any], *, limit: int = MAX_ANNOTATIONS) -> list[str]:
    """``::error`` lines for unresolved real changes, ``::notice`` lines for unresolved noise.

    At most ``limit`` of each kind: when there are more, the last slot is a pointer to the job
    summary instead (an 11th annotation would be dropped by GitHub, pointer included).
    """
    real: list[Mapping[str, Any]] = []
    noise: list[Mapping[str, Any]] = []
    for m in doc["mismatches"]:
        if is_noise(m["mismatch_type"]):
            if not m["resolved"]:
                noise.append(m)
        elif not _approved(m):
            real.append(m)
    lines: list[str] = []
    for kind, items, describe in (
        ("error", real, _real_message),
        ("notice", noise, _noise_message),
    ):
        shown = items if len(items) <= limit else items[: max(limit - 1, 0)]
        for m in shown:
            where = {"file": m["path"]}
            line = _first_line(m)
            if line is not None:
                where["line"] = str(line)  # the head file's line of the first real change
            title = f"phase2: {m['mismatch_type']}"
            lines.append(_command(kind, describe(m), **where, title=title))
        if len(items) > len(shown):
            rest = len(items) - len(shown)
            what = "real changes" if kind == "error" else "noise-only changes"
            lines.append(
                _command(
                    kind,
                    f"{rest} more {what} are not annotated: see the job summary",
                    title="phase2: more in the job summary",
                )
            )
    return lines


def _first_line(m: Mapping[str, Any]) -> int | None:
    changes = m.get("changes")
    if not changes or not changes["real"]:
        return None
    line = changes["real"][0]["line"]
    return line if isinstance(line, int) and line >= 1 else None


def _real_message(m: Mapping[str, Any]) -> str:
    what = f"{m['status']} {m['artifact_type']} artifact: a real change ({m['mismatch_type']})"
    state = decision_state(m)
    why = " (its approval is not trusted)" if state == "untrusted" else rejected_by(m)
    out = f"{what} needs a decision{why}: phase2 approve {shell_path(m['path'])}"
    changes = m.get("changes")
    if changes and changes["real"]:
        first = change_line(changes["real"][0])
        rest = len(changes["real"]) - 1 + int(changes["more"])
        out += f" · {first}" + (f" (and {rest} more)" if rest else "")
    if changes and changes["noise"]:
        kinds = ", ".join(n["type"] for n in changes["noise"])
        first_step = m["plan"].get("first")
        out += f" · noise beside it ({kinds})"
        if first_step and first_step["safe"]:
            out += f": {first_step['transform']['id']} strips it safely"
    return out


def _noise_message(m: Mapping[str, Any]) -> str:
    plan = m["plan"]
    if decision_state(m) == "rejected":
        safe = f"rejected by {rejector(m)}: not to be applied, needs a human"
    else:
        safe = "safe to apply" if plan["safe"] else "needs a human"
    return f"noise only ({m['mismatch_type']}): plan {plan['action']}, {safe}"


def output_block(
    values: Mapping[str, str], *, token: Callable[[], str] = lambda: secrets.token_hex(16)
) -> str:
    """``$GITHUB_OUTPUT`` lines: every value in the multiline form with a random delimiter.

    A random delimiter cannot be forged by a value (a path may hold newlines), and a value
    that happens to contain it gets a fresh one.
    """
    out: list[str] = []
    for name, value in values.items():
        delim = f"ghadelimiter_{token()}"
        while delim in value:
            delim = f"ghadelimiter_{token()}"
        out.append(f"{name}<<{delim}\n{value}\n{delim}\n")
    return "".join(out)


def fit_step_summary(markdown: str, *, used: int = 0, limit: int = STEP_SUMMARY_LIMIT) -> str:
    """``markdown`` cut (on a line boundary, with a note) so the step summary stays under
    ``limit`` bytes given the ``used`` bytes it already holds."""
    room = limit - used
    data = markdown.encode("utf-8")
    if len(data) <= room:
        return markdown
    note = _TRUNCATED.encode("utf-8")
    budget = room - len(note) - len(b"\n</details>\n")
    if budget <= 0:
        return ""
    cut = data[:budget]
    nl = cut.rfind(b"\n")
    text = cut[: nl + 1 if nl >= 0 else 0].decode("utf-8", "ignore")
    if text.count("<details>") > text.count("</details>"):
        text += "\n</details>\n"  # keep the HTML block closed, or the rest of the page folds
    return text + _TRUNCATED


def outputs(doc: Mapping[str, Any], paths: Mapping[str, str | None]) -> dict[str, str]:
    """The action's outputs: counts from the summary and the report paths (empty when off)."""
    s = doc["summary"]
    values = {
        "total": str(s["total"]),
        "real": str(s["real"]),
        "noise": str(s["noise"]),
        "unresolved_real": str(s["unresolved_real"]),
        "unresolved_noise": str(s["unresolved_noise"]),
        "safe": str(s["safe"]),
        "failing": str(s["failing"]),
        "exit_code": str(s["exit_code"]),
    }
    for name, path in paths.items():
        values[name] = path or ""
    return values


def link_base(environ: Mapping[str, str], head: str) -> str | None:
    """Blob URL prefix for links in the summary, when the head side is a commit on GitHub."""
    server = environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repo = environ.get("GITHUB_REPOSITORY")
    if not repo or head.startswith(":"):
        return None
    return f"{server}/{repo}/blob/{head}/"


def linkable(paths: Sequence[str]) -> bool:
    """Paths with undecodable bytes cannot be URL-quoted: render the summary without links."""
    try:
        for p in paths:
            p.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
