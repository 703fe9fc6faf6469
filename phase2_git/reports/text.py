"""``--format text``: a table, one row a mismatch, and a summary line.

Piped, plain text written row by row (nothing wraps, nothing is cut); on a terminal, the
same rows fitted to its width, coloured through rich."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any, cast

from phase2_git.core.changes import change_line
from phase2_git.core.sanitize import sanitize_line, sanitize_path
from phase2_git.reports.decisions import decision_state
from phase2_git.reports.jsonout import MismatchSpool, encode_value

_TYPE_STYLE = {True: "green", False: "red"}
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


# column headers; CHANGE only when some real change was taken apart
_HEADERS = ("PATH", "STATUS", "ARTIFACT", "TYPE", "VERDICT", "PLAN", "CHANGE")
# on a terminal too narrow for the table, the columns give way in this order: the path last
_GIVE_WAY = (6, 5, 4, 3, 2, 1, 0)
# how far the columns give way, in turn: the others to their header's width, then the path
# to this many cells; on a narrower terminal still, all of them further
_FLOORS = ((16, None), (8, 3))
_GAP = "  "


def _cells(m: Mapping[str, Any]) -> list[str]:
    path = sanitize_path(m["path"])
    if m["old_path"]:
        path = f"{sanitize_path(m['old_path'])} → {path}"
    return [
        path,
        m["status"],
        m["artifact_type"],
        m["mismatch_type"],
        _verdict_cell(m),
        _plan_cell(m),
        _change_cell(m),
    ]


def _fit(widths: list[int], room: int) -> list[int]:
    """Column widths that fit ``room`` cells: the last columns give way first, each down to
    its header's width, the path last; then, if that is not enough, all of them further.
    Never below the last floors: a terminal that narrow wraps the row rather than hide it."""
    fitted = list(widths)
    over = sum(fitted) + len(_GAP) * (len(fitted) - 1) - room
    for path_floor, other_floor in _FLOORS:
        for i in _GIVE_WAY:
            if over <= 0:
                return fitted
            if i >= len(fitted):
                continue
            if i == 0:
                floor = path_floor
            else:
                floor = len(_HEADERS[i]) if other_floor is None else other_floor
            cut = min(over, max(0, fitted[i] - floor))
            fitted[i] -= cut
            over -= cut
    return fitted


def _cells_wide(cell: str) -> int:
    """How many terminal cells ``cell`` takes: its length when it is printable ASCII (every
    row of a generated tree, nearly always), else rich's measure (wide and combining
    characters)."""
    if cell.isascii() and cell.isprintable():
        return len(cell)
    from rich.cells import cell_len

    return cell_len(cell)


def _cut(cell: str, width: int, *, keep_end: bool) -> str:
    """``cell`` in at most ``width`` cells, an ellipsis where it was cut (a path keeps its
    end: the file name)."""
    if _cells_wide(cell) <= width:
        return cell  # nearly every cell: no import statement on this path (a row has seven)
    if cell.isascii() and cell.isprintable():  # one cell a character: a slice
        keep = max(0, width - 1)
        if keep_end:
            return "…" + (cell[-keep:] if keep else "")
        return cell[:keep] + "…"
    from rich.cells import cell_len

    chars = list(reversed(cell)) if keep_end else list(cell)
    kept: list[str] = []
    used = 1  # the ellipsis
    for ch in chars:
        used += cell_len(ch)
        if used > width:
            break
        kept.append(ch)
    return "…" + "".join(reversed(kept)) if keep_end else "".join(kept) + "…"


def _line(cells: Sequence[str], widths: Sequence[int], *, cut: bool) -> str:
    """One row: each cell padded to its column (cut to it with an ellipsis when ``cut``),
    no trailing spaces."""
    parts = []
    for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
        if cell.isascii() and cell.isprintable():  # a cell a character: measured by len
            if len(cell) >= width:
                # one cut to the column fills it exactly, with its ellipsis
                parts.append(_cut(cell, width, keep_end=i == 0) if cut else cell)
            else:
                parts.append(cell.ljust(width))
            continue
        if cut:
            cell = _cut(cell, width, keep_end=i == 0)
        parts.append(cell + " " * max(0, width - _cells_wide(cell)))
    return _GAP.join(parts).rstrip(" ")


class Widths:
    """The first pass of :func:`render`: the widest cell of each column and whether any row
    has a change to show. ``phase2 diff`` makes it while it encodes the mismatches.

    Each row's cells are kept too, as they are made, in a spool (memory, then an anonymous
    temporary file past a megabyte: flat memory with the rows): the second pass writes them
    from there instead of decoding every mismatch again and making its cells a second time."""

    _BATCH = 256

    def __init__(self) -> None:
        self.widths = [len(h) for h in _HEADERS]
        self.detail = False
        self.rows = 0
        self._kept = MismatchSpool()
        self._batch: list[str] = []

    def add(self, m: Mapping[str, Any]) -> None:
        cells = _cells(m)
        self.detail = self.detail or bool(cells[-1])
        self.widths = [max(w, _cells_wide(c)) for w, c in zip(self.widths, cells, strict=True)]
        self.rows += 1
        self._batch.append(encode_value([*cells, bool(m["equivalent"])]))
        if len(self._batch) >= self._BATCH:
            self._kept.add_lines(self._batch)
            self._batch = []

    def kept(self) -> Iterator[tuple[list[str], bool]]:
        """Each row's cells and whether its mismatch is noise, in the order added."""
        if self._batch:
            self._kept.add_lines(self._batch)
            self._batch = []
        for row in self._kept:
            cells = cast("list[Any]", row)
            yield cells[:-1], bool(cells[-1])

    def close(self) -> None:
        self._kept.close()


def render(
    doc: Mapping[str, Any],
    *,
    base_spec: str,
    head_spec: str,
    config_source: str,
    file: IO[str],
    color: bool,
    notices: Sequence[str] = (),
    measured: Widths | None = None,
) -> None:
    """The table, row by row, in two passes over ``doc["mismatches"]`` (a list or a spool):
    the first measures the columns, the second writes; memory stays flat with the rows.
    ``measured``: that first pass, already made from these very mismatches.

    Piped, every row is one line, padded to the widest cell of each column and never cut:
    ``grep`` and ``awk`` see whole rows and whole paths. On a terminal the table fits its
    width: the last columns give way first, with an ellipsis, the path last."""
    mismatches = doc["mismatches"]
    if measured is None:
        measured = Widths()
        for m in mismatches:  # first pass: the widths (and each row's cells, spooled)
            measured.add(m)
    assert measured.rows == len(mismatches), "the widths were measured on other rows"
    try:
        _render(doc, measured, base_spec, head_spec, config_source, file, color, notices)
    finally:
        measured.close()


def _render(
    doc: Mapping[str, Any],
    measured: Widths,
    base_spec: str,
    head_spec: str,
    config_source: str,
    file: IO[str],
    color: bool,
    notices: Sequence[str],
) -> None:
    widths, detail = measured.widths, measured.detail
    columns = len(_HEADERS) if detail else len(_HEADERS) - 1
    widths = widths[:columns]
    terminal = color or is_terminal(file)
    console = None
    if terminal:
        from rich.console import Console

        console = Console(
            file=file,
            no_color=not color,
            force_terminal=color or None,
            highlight=False,
            # cells are data: `[bold]x.json` is a file name, not markup, `:smile:` not an emoji
            markup=False,
            emoji=False,
        )
        widths = _fit(widths, console.width)

    styled: dict[str, tuple[str, str]] = {}  # style -> (before, after) as rich writes it
    pending: list[str] = []  # terminal lines not written yet: one write per screenful or so

    def emit(line: str, style: str = "") -> None:
        if console is None:
            file.write(line + "\n")
        elif line.isprintable():
            # what console.print(line, style=…, soft_wrap=True) writes, without rich's
            # per-call rendering (segments, a Text, a flush): half of a 3,000-row table's
            # time on a terminal. A line without tabs or control characters (rich expands
            # the one and strips some of the others) is written as it is, between the escape
            # codes rich itself gives the style on this console.
            if style not in styled:
                styled[style] = _style_codes(console, style)
            before, after = styled[style]
            pending.append(f"{before}{line}{after}\n")
            if len(pending) >= 256:
                flush()
        else:
            flush()  # a tab or a control character: rich's own way
            # soft_wrap: rich neither wraps nor crops; the line already fits
            console.print(line, style=style or None, soft_wrap=True)

    def flush() -> None:
        if pending:
            file.write("".join(pending))
            file.flush()  # rich flushes after every print: a terminal shows rows as they come
            pending.clear()

    emit(
        sanitize_line(
            f"phase2 diff: {_side(doc['base'], base_spec)} → {_side(doc['head'], head_spec)} · "
            f"config {doc['config_fingerprint'][:12]} ({config_source})"
        )
    )
    for notice in notices:
        emit(f"note: {sanitize_line(notice)}", "yellow" if color else "")
    if measured.rows:
        emit(_line(_HEADERS[:columns], widths, cut=terminal), "bold" if color else "")
        for cells, equivalent in measured.kept():  # second pass: one row at a time
            style = _TYPE_STYLE[equivalent] if color else ""
            emit(_line(cells[:columns], widths, cut=terminal), style)
    else:
        emit("no artifact differs")
    emit(summary_line(doc["summary"]), "bold" if color else "")
    flush()


def _style_codes(console: Any, style: str) -> tuple[str, str]:
    """The text rich writes before and after a line in ``style`` on ``console`` (its colour
    system, ``no_color``, a dumb terminal: all as rich decides), found by printing a marker."""
    if not style:
        return "", ""
    with console.capture() as captured:
        console.print("x", style=style, soft_wrap=True)
    before, _, after = captured.get().partition("x")
    return before, after.removesuffix("\n")


def is_terminal(file: IO[str]) -> bool:
    """Whether the table goes to a terminal (a stream that cannot say is not one)."""
    try:
        return file.isatty()
    except (AttributeError, ValueError):
        return False
