"""A self-contained HTML report: ``phase2 diff --html PATH`` and ``phase2 report merge --html``.

One file, no external URL: it opens from ``file://`` and as a CI artifact. The page shell (the
summary counts, the notices) is rendered by Jinja2 with autoescape; the mismatches travel as
JSON inside a ``<script type="application/json">`` whose ``<``, ``>`` and ``&`` are ``\\u``
escapes, and the page's own script builds the list and each mismatch's detail from it with
``textContent`` only (never ``innerHTML``), a page at a time and a detail when it is opened:
thousands of mismatches stay usable. A strict Content-Security-Policy meta tag allows exactly
the page's one script and one style (by hash): an artifact full of ``<script>``, ``onerror=``
or ``javascript:`` links renders as text, and nothing it holds can run. Every artifact-derived
string also passes :mod:`phase2_git.core.sanitize` (terminal escapes show as ``\\x1b``).

The file stays proportional to what it shows: at most ``MAX_ROWS`` mismatches are listed and
``MAX_DIFFS`` carry a side-by-side diff of at most ``DIFF_ROWS`` rows, like the caps of the
Markdown and JUnit reports.

Jinja2 is an optional dependency (the ``web`` extra): :func:`require` says how to install it.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from phase2_git.core.changes import change_line, common_ends
from phase2_git.core.model import is_noise
from phase2_git.core.sanitize import (
    BINARY_PLACEHOLDER,
    escape_controls,
    looks_binary,
    sanitize_line,
    sanitize_path,
)
from phase2_git.errors import UsageError

INSTALL = "pip install 'phase2-git[web]'"
MAX_ROWS = 10_000  # mismatches listed; the JSON report has every one
MAX_DIFFS = 200  # mismatches whose blobs are read for a side-by-side diff
DIFF_ROWS = 400  # rows of one side-by-side diff
CONTEXT = 2  # unchanged lines kept around a change
WIDTH = 300  # characters of one cell
# difflib is quadratic at worst: after trimming the common ends, at most this many lines of
# each side are compared (the diff shows DIFF_ROWS rows anyway)
_WINDOW = 1000

Blobs = Mapping[str, tuple[bytes | None, bytes | None, bool]]
"""mismatch id → (before, after, truncated): the contents a diff is made of."""


def require(what: str) -> None:
    """Raise a usage error (exit 2) naming the install command when Jinja2 is missing."""
    try:
        import jinja2  # noqa: F401
    except ImportError:
        raise UsageError(f"{what} needs the web extra: {INSTALL}") from None


# ------------------------------------------------------------------------- side-by-side


def _visible(text: str) -> str:
    """A cell's text: sanitised (escape sequences as ``\\x1b``), whitespace made visible."""
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    cr = text.endswith("\r")
    if cr:
        text = text[:-1]
    shown = escape_controls(text).replace(" ", "·").replace("\t", "→")
    if len(shown) > WIDTH:
        shown = shown[:WIDTH] + f"… (+{len(shown) - WIDTH} chars)"
    return ("␗" if bom else "") + shown + ("␍" if cr else "")


def _plain(text: str) -> str:
    # every control character shown as \xNN, never stripped: a reviewer sees the escape
    shown = escape_controls(text)
    return shown if len(shown) <= WIDTH else shown[:WIDTH] + f"… (+{len(shown) - WIDTH} chars)"


def _lines(data: bytes) -> list[str]:
    # LF only: a CR stays at the end of its line and shows as ␍
    text = data.decode("utf-8", "surrogateescape")
    if not text:
        return []
    parts = text.split("\n")
    if parts[-1] == "":
        parts.pop()
    else:
        parts[-1] += "\x00"  # marks "no newline at end of file", shown as ⊘
    return parts


def _norm(line: str) -> str:
    """A line as the whitespace noise kinds see it: no BOM, no CR, runs of blanks as one."""
    return " ".join(line.lstrip("\ufeff").rstrip("\x00").split())


def _cell(line: str, *, ws: bool) -> str:
    eof = line.endswith("\x00")
    if eof:
        line = line[:-1]
    shown = _visible(line) if ws else _plain(line.rstrip("\r"))
    return shown + (" ⊘ no newline at end of file" if eof else "")


def _marked(a: str, b: str, *, noisy: bool = False) -> tuple[list[str], list[str]]:
    """Two cells as [before-the-change, the change, after it]: the middle is highlighted.
    ``noisy``: a re-indentation is noise, so the mark starts after each line's indentation."""
    if noisy:
        ia, ib = len(a) - len(a.lstrip("·→")), len(b) - len(b.lstrip("·→"))
        left, right = _marked(a[ia:], b[ib:])
        return [a[:ia] + left[0], *left[1:]], [b[:ib] + right[0], *right[1:]]
    n = min(len(a), len(b))
    pre = 0
    while pre < n and a[pre] == b[pre]:
        pre += 1
    post = 0
    while post < n - pre and a[-1 - post] == b[-1 - post]:
        post += 1
    return (
        [a[:pre], a[pre : len(a) - post], a[len(a) - post :]],
        [b[:pre], b[pre : len(b) - post], b[len(b) - post :]],
    )


def _joined(c: Any) -> Any:
    return "".join(c) if isinstance(c, list) else c


Row = list[Any]  # [kind, left line no, left cell, right line no, right cell]


def side_by_side(
    before: bytes | None, after: bytes | None, *, noisy: bool, all_noise: bool = False
) -> list[Row]:
    """Rows of a side-by-side diff. ``kind`` is ``ctx``, ``real`` (a changed pair), ``noise``
    (a pair equal but for whitespace, line endings or a BOM, when the mismatch carries
    noise), ``add``, ``del``, ``gap`` (unchanged lines left out: the count in the left cell)
    or ``cut`` (the diff stops: the rows left out in the left cell). A cell is a string, or
    ``[pre, changed, post]`` for a changed pair. When the mismatch carries noise the lines
    are matched as the noise kinds see them (re-indented lines pair up as noise, so the real
    change stands alone); ``all_noise`` (a mismatch proved equivalent): every changed row is
    noise, however the lines were re-flowed."""
    a = _lines(before) if before is not None else []
    b = _lines(after) if after is not None else []
    start, tail = common_ends(a, b)
    full: list[Row] = []
    for i in range(max(0, start - CONTEXT), start):
        full.append(["ctx", i + 1, _cell(a[i], ws=False), i + 1, _cell(b[i], ws=False)])
    a_mid, b_mid = a[start : len(a) - tail], b[start : len(b) - tail]
    cut = max(len(a_mid), len(b_mid)) > _WINDOW
    a_win, b_win = a_mid[:_WINDOW], b_mid[:_WINDOW]
    keys_a = [_norm(x) for x in a_win] if noisy else a_win
    keys_b = [_norm(x) for x in b_win] if noisy else b_win
    matcher = difflib.SequenceMatcher(None, keys_a, keys_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                ia, jb = start + i1 + k, start + j1 + k
                if a[ia] == b[jb]:
                    full.append(
                        ["ctx", ia + 1, _cell(a[ia], ws=False), jb + 1, _cell(b[jb], ws=False)]
                    )
                else:  # equal as the noise kinds see it
                    full.append(
                        ["noise", ia + 1, _cell(a[ia], ws=True), jb + 1, _cell(b[jb], ws=True)]
                    )
            continue
        pairs = min(i2 - i1, j2 - j1)
        for k in range(pairs):
            ia, jb = start + i1 + k, start + j1 + k
            left, right = _marked(_cell(a[ia], ws=True), _cell(b[jb], ws=True), noisy=noisy)
            full.append(["real", ia + 1, left, jb + 1, right])
        for k in range(pairs, i2 - i1):
            ia = start + i1 + k
            full.append(["del", ia + 1, _cell(a[ia], ws=True), None, ""])
        for k in range(pairs, j2 - j1):
            jb = start + j1 + k
            full.append(["add", None, "", jb + 1, _cell(b[jb], ws=True)])
    if cut:
        full.append(["cut", max(len(a_mid), len(b_mid)) - _WINDOW, "", None, ""])
    for k in range(min(tail, CONTEXT)):
        ia, jb = len(a) - tail + k, len(b) - tail + k
        full.append(["ctx", ia + 1, _cell(a[ia], ws=False), jb + 1, _cell(b[jb], ws=False)])
    rows = _collapse(full, skipped_before=max(0, start - CONTEXT))
    if tail > CONTEXT:
        rows.append(["gap", tail - CONTEXT, "", None, ""])
    if all_noise:
        rows = [
            ["noise", r[1], _joined(r[2]), r[3], _joined(r[4])]
            if r[0] in ("real", "add", "del")
            else r
            for r in rows
        ]
    if len(rows) > DIFF_ROWS:
        extra = len(rows) - DIFF_ROWS
        rows = [*rows[:DIFF_ROWS], ["cut", extra, "", None, ""]]
    return rows


def _collapse(full: list[Row], *, skipped_before: int) -> list[Row]:
    """Runs of unchanged rows longer than ``2 * CONTEXT + 1`` become a ``gap`` row between
    ``CONTEXT`` rows on each side."""
    rows: list[Row] = [["gap", skipped_before, "", None, ""]] if skipped_before else []
    i = 0
    while i < len(full):
        if full[i][0] != "ctx":
            rows.append(full[i])
            i += 1
            continue
        j = i
        while j < len(full) and full[j][0] == "ctx":
            j += 1
        run = full[i:j]
        if len(run) > 2 * CONTEXT + 1:
            rows += [*run[:CONTEXT], ["gap", len(run) - 2 * CONTEXT, "", None, ""]]
            rows += run[-CONTEXT:]
        else:
            rows += run
        i = j
    return rows


def diff_of(
    before: bytes | None, after: bytes | None, truncated: bool, *, noisy: bool, all_noise: bool
) -> Any:
    """The ``diff`` of a mismatch in the page's data: rows, or a one-line note."""
    if truncated:
        return "larger than artifacts.max_file_size: compared by hash only"
    if (before is not None and looks_binary(before)) or (after is not None and looks_binary(after)):
        return BINARY_PLACEHOLDER
    if before == after:
        return "no content difference: only the file mode changed"
    return side_by_side(before, after, noisy=noisy, all_noise=all_noise)


# ------------------------------------------------------------------------------- the page


def _state(m: Mapping[str, Any]) -> str:
    if is_noise(m["mismatch_type"]):
        if m["resolved"]:
            return "resolved"
        return "safe" if m["plan"]["safe"] else "unresolved"
    d = m.get("decision") or {}
    if d.get("trusted"):
        return "approved"
    return "untrusted approval" if d else "unresolved"


def _plan(m: Mapping[str, Any]) -> str:
    plan = m["plan"]
    text: str = plan["action"] + (" (safe)" if plan["safe"] else "")
    first = plan.get("first")
    if first:
        text = f"{first['action']}{' (safe)' if first['safe'] else ''}, then {text}"
    return text


def _changes(m: Mapping[str, Any]) -> dict[str, Any] | None:
    c = m.get("changes")
    if not c:
        return None
    rest = len(c["real"]) + int(c["more"])
    return {
        "real": [
            {
                "kind": r["kind"],
                "where": _plain(r["path"] if r["path"] is not None else f"line {r['line']}"),
                "line": _plain(change_line(r)),
            }
            for r in c["real"]
        ],
        "more": rest - len(c["real"]),
        "noise": [
            {"type": n["type"], "detail": _plain(n["detail"]), "at": [_plain(p) for p in n["at"]]}
            for n in c["noise"]
        ],
    }


def item(m: Mapping[str, Any], fail_on: str, diff: Any) -> dict[str, Any]:
    """One mismatch (its ``Phase2Diff.v1`` form) as the pages show it: every string from an
    artifact sanitised; ``diff`` is what :func:`diff_of` made, or None."""
    from phase2_git.reports.junit import case_state

    return {
        "id": m["id"],
        "path": sanitize_path(m["path"]),
        "old_path": sanitize_path(m["old_path"]) if m.get("old_path") else None,
        "status": m["status"],
        "artifact": m["artifact_type"],
        "type": m["mismatch_type"],
        "verdict": "noise" if m["equivalent"] else "real",
        "state": _state(m),
        "failing": case_state(m, fail_on) == "failure",
        "plan": _plan(m),
        "reason": _plain(m["plan"]["reason"]),
        "detail": _plain(m["detail"]),
        "changes": _changes(m),
        "diff": diff,
    }


def embed_json(value: object) -> str:
    """JSON that may sit inside a ``<script>`` element: ``<``, ``>`` and ``&`` as ``\\u``
    escapes, so no ``</script>`` or ``<!--`` an artifact holds can end or change it."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def asset(name: str) -> str:
    """A file of the pages (templates/): a script, a style sheet."""
    return (resources.files("phase2_git.reports") / "templates" / name).read_text("utf-8")


def csp_hash(text: str) -> str:
    """The Content-Security-Policy source (``'sha256-…'``) that allows exactly this inline
    script or style."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


_SIDE = re.compile(r"^[0-9a-f]{40,64}$")


def _side(label: str) -> str:
    return label[:12] if _SIDE.match(label) else sanitize_line(label)


def render(doc: Mapping[str, Any], *, blobs: Blobs | None = None) -> str:
    """The page for a ``Phase2Diff.v1`` document; ``blobs`` gives the contents of the
    mismatches that get a side-by-side diff (at most ``MAX_DIFFS`` of them are used)."""
    require("--html")
    import jinja2
    from markupsafe import Markup

    s = doc["summary"]
    mismatches: Sequence[Mapping[str, Any]] = doc["mismatches"]
    fail_on = s["fail_on"]
    items = []
    diffs = 0
    for m in mismatches[:MAX_ROWS]:
        diff: Any = None
        if blobs is not None and m["id"] in blobs and diffs < MAX_DIFFS:
            before, after, truncated = blobs[m["id"]]
            noisy = bool(m["equivalent"] or (m.get("changes") or {}).get("noise"))
            diff = diff_of(before, after, truncated, noisy=noisy, all_noise=m["equivalent"])
            diffs += 1
        items.append(item(m, fail_on, diff))
    script, style = asset("diff.js") + asset("report.js"), asset("report.css")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("phase2_git.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    page = env.get_template("report.html.j2")
    return page.render(
        title=f"phase2: {s['real']} real, {s['noise']} noise",
        verdict="FAIL" if s["exit_code"] else "PASS",
        summary=s,
        base=_side(doc["base"]),
        head=_side(doc["head"]),
        config=doc["config_fingerprint"][:12],
        notices=[sanitize_line(n) for n in doc.get("notices", [])],
        listed=len(items),
        total=len(mismatches),
        diffs_cap=MAX_DIFFS,
        data=Markup(embed_json({"items": items})),
        script=Markup(script),
        style=Markup(style),
        script_hash=csp_hash(script),
        style_hash=csp_hash(style),
    )


def wanted_blobs(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The mismatches whose contents a page shows side by side: the first ``MAX_DIFFS``, real
    changes first (a reviewer opens those), then noise."""
    listed = list(doc["mismatches"][:MAX_ROWS])
    real = [m for m in listed if not m["equivalent"]]
    noise = [m for m in listed if m["equivalent"]]
    return [*real, *noise][:MAX_DIFFS]
