"""Showing a difference well: the reviewer must see *why* phase2 classified it so.

Text gets a unified diff with word-level highlighting and visible whitespace (``·`` space,
``→`` tab, ``␍`` carriage return, ``␗`` byte order mark; a whitespace-only difference pairs
each old line with its new one, so both sides show however short the panel); JSON a
structural diff first; numbers their largest relative difference; binary only sizes and
hashes. A ``content`` mismatch leads with its real changes (``core.changes``) and shows the
*residual* diff: the base against the head with its noise stripped (``strip_noise``), so a
re-indented file with one edited value shows that value, not every line. Every character that
comes from an artifact passes :mod:`phase2_git.core.sanitize` first (invariant 5).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from phase2_git.core import jsonvalue
from phase2_git.core.model import Mismatch, is_noise
from phase2_git.core.sanitize import BINARY_PLACEHOLDER, looks_binary, sanitize_line
from phase2_git.core.settings import ClassifySettings

MAX_LINES = 50
MAX_WIDTH = 200
_SIGNATURE_LIMIT = 10_000
_WORD = re.compile(r"\s+|\w+|[^\w\s]")

Style = str  # "add", "del", "ctx", "hunk", "meta", "add-word", "del-word", "ws"


@dataclass(frozen=True)
class Segment:
    text: str
    style: Style = ""


Line = tuple[Segment, ...]


@dataclass(frozen=True)
class DiffView:
    lines: tuple[Line, ...]
    hidden: int  # lines not shown (see "press d")
    structural: tuple[str, ...] = ()  # the real changes (or the JSON structural diff)
    structural_more: int = 0  # changes beyond ``structural`` (counted, not listed)
    aside: str = ""  # which noise was set aside: ``lines`` are then the residual diff

    @property
    def total(self) -> int:
        """Lines of the diff, shown or not."""
        return len(self.lines) + self.hidden

    def plain(self) -> str:
        out = list(self.structural)
        if self.structural_more:
            out.append(more_changes(self.structural_more))
        if self.aside:
            out.append(self.aside)
        out += ["".join(seg.text for seg in line) for line in self.lines]
        if self.hidden:
            out.append(hidden_line(self.hidden))
        return "\n".join(out)


def hidden_line(n: int) -> str:
    """What a cut diff says it left out, and how to see it."""
    return f"… {n} more line{'s' if n != 1 else ''} hidden: press d to page the rest"


def more_changes(n: int) -> str:
    return f"… +{n} more change{'s' if n != 1 else ''}"


def visible_ws(text: str) -> str:
    """Make whitespace noise visible. Input is already sanitised."""
    return text.replace("\ufeff", "␗").replace("\\ufeff", "␗").replace(" ", "·").replace("\t", "→")


def _decode_lines(data: bytes) -> list[tuple[str, bool]]:
    """``(line, ends_with_newline)`` pairs; a CRLF line keeps its ``\r`` to show as ``␍``."""
    text = data.decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
        return [(line, True) for line in lines]
    return [(line, True) for line in lines[:-1]] + [(lines[-1], False)]


def _show(item: tuple[str, bool], ws: bool) -> str:
    line, eol = item
    no_eol = not eol
    cr = line.endswith("\r")
    if cr:
        line = line[:-1]
    bom = line.startswith("\ufeff")
    if bom:
        line = line[1:]
    shown = sanitize_line(line)
    if ws:
        shown = visible_ws(shown)
    if len(shown) > MAX_WIDTH:
        shown = shown[:MAX_WIDTH] + f"… (+{len(shown) - MAX_WIDTH} chars)"
    return (
        ("␗" if bom else "")
        + shown
        + ("␍" if cr else "")
        + (" ⏎̸ (no final newline)" if no_eol else "")
    )


def _word_pair(old: str, new: str) -> tuple[Line, Line]:
    a, b = _WORD.findall(old), _WORD.findall(new)
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    left: list[Segment] = [Segment("-", "del")]
    right: list[Segment] = [Segment("+", "add")]
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            left.append(Segment("".join(a[i1:i2]), "del"))
            right.append(Segment("".join(b[j1:j2]), "add"))
            continue
        if i2 > i1:
            left.append(Segment("".join(a[i1:i2]), "del-word"))
        if j2 > j1:
            right.append(Segment("".join(b[j1:j2]), "add-word"))
    return tuple(left), tuple(right)


def text_diff(
    before: bytes, after: bytes, *, ws: bool, context: int = 3, paired: bool | None = None
) -> Iterator[Line]:
    """A unified diff, line by line. ``paired`` (default: ``ws``) shows a replaced line's old
    and new forms one after the other: in a whitespace-only difference (CRLF, re-indented)
    every line of a block is replaced, and git's order (all ``-`` lines, then all ``+``)
    would fill a capped panel with one side only."""
    paired = ws if paired is None else paired
    a = [_show(x, ws) for x in _decode_lines(before)]
    b = [_show(x, ws) for x in _decode_lines(after)]
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for group in sm.get_grouped_opcodes(context):
        i1, j1 = group[0][1], group[0][3]
        i2, j2 = group[-1][2], group[-1][4]
        yield (Segment(f"@@ -{i1 + 1},{i2 - i1} +{j1 + 1},{j2 - j1} @@", "hunk"),)
        for op, x1, x2, y1, y2 in group:
            if op == "equal":
                for line in a[x1:x2]:
                    yield (Segment(" " + line, "ctx"),)
                continue
            olds, news = a[x1:x2], b[y1:y2]
            if op == "replace" and len(olds) == len(news):
                pairs = [_word_pair(o, n) for o, n in zip(olds, news)]
                if paired:
                    for left, right in pairs:
                        yield left
                        yield right
                    continue
                for left, _ in pairs:
                    yield left
                for _, right in pairs:
                    yield right
                continue
            for line in olds:
                yield (Segment("-" + line, "del"),)
            for line in news:
                yield (Segment("+" + line, "add"),)


def _fmt(v: jsonvalue.JValue, shown: bool = True) -> str:
    if isinstance(v, jsonvalue.JObj):
        return "{…}" if v else "{}"
    if isinstance(v, list):
        return "[…]" if v else "[]"
    if isinstance(v, jsonvalue.JNum):
        return jsonvalue.shorten(v) if shown else str(v)
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if not shown:
        return repr(v)
    text = sanitize_line(v)
    return '"' + (text[:60] + "…" if len(text) > 60 else text) + '"'


def _change(x: jsonvalue.JValue, y: jsonvalue.JValue, shown: bool) -> str:
    if shown and isinstance(x, jsonvalue.JNum) and isinstance(y, jsonvalue.JNum):
        a, b = jsonvalue.shorten_pair(x, y)  # the digits that changed, however long the number
        return f"{a} → {b}"
    return f"{_fmt(x, shown)} → {_fmt(y, shown)}"


def json_changes(
    a: jsonvalue.JValue, b: jsonvalue.JValue, limit: int = 200, *, shown: bool = True
) -> list[str]:
    """``$.items[3].price: 1.0 → 1.5``, keys added/removed, keys moved (iterative walk).

    ``shown``: lines for a reviewer, sanitised, long numbers, keys and strings cut. Without it
    the lines are exact (for :func:`signature`: differences that only look alike once cut
    must never be grouped and decided as one).
    """
    out: list[str] = []
    stack: list[tuple[jsonvalue.JValue, jsonvalue.JValue, str]] = [(a, b, "$")]

    def at(where: str) -> str:
        return sanitize_line(jsonvalue.shorten(where, jsonvalue.WHERE_SHOWN)) if shown else where

    def child(where: str, key: str) -> str:
        return _child(where, jsonvalue.shorten(key) if shown else key)

    while stack and len(out) < limit:
        x, y, where = stack.pop()
        if isinstance(x, jsonvalue.JObj) and isinstance(y, jsonvalue.JObj):
            kx, ky = x.keys_in_order(), y.keys_in_order()
            if not x.has_duplicates() and not y.has_duplicates():
                sx, sy = set(kx), set(ky)
                common = [k for k in kx if k in sy]
                moved = [k for k in ky if k in sx]
                if common != moved:
                    out.append(
                        f"{at(where)}: keys moved: {_keys(common, shown)} → {_keys(moved, shown)}"
                    )
                dx, dy = dict(x), dict(y)
                for k in kx:
                    if k not in dy:
                        out.append(f"- {at(child(where, k))}: {_fmt(dx[k], shown)}")
                for k in ky:
                    if k not in dx:
                        out.append(f"+ {at(child(where, k))}: {_fmt(dy[k], shown)}")
                for k in reversed(common):
                    stack.append((dx[k], dy[k], child(where, k)))
                continue
        if isinstance(x, list) and isinstance(y, list):
            n = min(len(x), len(y))
            for i in range(len(y) - 1, n - 1, -1):
                out.append(f"+ {at(where)}[{i}]: {_fmt(y[i], shown)}")
            for i in range(len(x) - 1, n - 1, -1):
                out.append(f"- {at(where)}[{i}]: {_fmt(x[i], shown)}")
            for i in range(n - 1, -1, -1):
                stack.append((x[i], y[i], f"{where}[{i}]"))
            continue
        same = type(x) is type(y) and x == y
        if isinstance(x, jsonvalue.JNum) and isinstance(y, jsonvalue.JNum):
            same = x == y
        if not same:
            out.append(f"{at(where)}: {_change(x, y, shown)}")
    return out


def _keys(keys: Sequence[str], shown: bool = True) -> str:
    if not shown:
        return repr(list(keys))
    text = ", ".join(sanitize_line(jsonvalue.shorten(k)) for k in keys[:8])
    return text + ("…" if len(keys) > 8 else "")


def _child(where: str, key: str) -> str:
    return f"{where}.{key}" if key.isidentifier() else f"{where}[{key!r}]"


def render(
    m: Mismatch,
    before: bytes | None,
    after: bytes | None,
    *,
    full: bool = False,
    settings: ClassifySettings | None = None,
) -> DiffView:
    """The view of one mismatch; ``full`` lifts the 50-line limit (the ``d`` key).

    With ``settings`` (the configuration in force), a ``content`` mismatch whose noise can be
    stripped shows the residual diff, and ``full`` adds the whole difference after it."""
    limit = 10**9 if full else MAX_LINES
    if (
        m.artifact_type in ("binary", "submodule", "lfs_pointer")
        or (before is not None and looks_binary(before))
        or (after is not None and looks_binary(after))
    ):
        size_a = len(before) if before is not None else "-"
        size_b = len(after) if after is not None else "-"
        sizes = f"{size_a} → {size_b} bytes"
        oid_b, oid_a = (m.change.before or "-")[:12], (m.change.after or "-")[:12]
        shown = f"{BINARY_PLACEHOLDER}: {sizes}, {oid_b} → {oid_a}"
        return DiffView(((Segment(shown, "meta"),),), 0)
    structural: list[str] = []
    more = 0
    aside = ""
    shown_after = after
    if m.changes is not None and m.mismatch_type == "content":
        from phase2_git.core.changes import change_line

        structural = [change_line(c.to_json()) for c in m.changes.real]
        more = m.changes.more
        if m.changes.noise:
            details = "; ".join(sanitize_line(n.detail) for n in m.changes.noise)
            residual = _residual(m, before, after, settings)
            if isinstance(residual, bytes):
                shown_after = residual
                aside = f"noise set aside (d shows it too): {details}"
            else:
                aside = f"noise beside it, shown too ({residual}): {details}"
    elif m.artifact_type == "json" and before is not None and after is not None:
        try:
            structural = json_changes(jsonvalue.parse(before), jsonvalue.parse(after))
        except jsonvalue.JsonInvalid:
            structural = []
        if m.mismatch_type == "numeric_precision":
            detail = sanitize_line(m.detail)
            structural.insert(0, f"numbers: {detail}")
    a, b = before or b"", shown_after or b""
    ws = (
        is_noise(m.mismatch_type) and m.mismatch_type not in ("json_ordering", "numeric_precision")
    ) or _whitespace_only(before, shown_after)
    lines = list(_limited(text_diff(a, b, ws=ws), limit + 1))
    hidden = 0
    if len(lines) > limit:
        total = sum(1 for _ in text_diff(a, b, ws=ws))
        hidden = total - limit
        lines = lines[:limit]
    if full and shown_after is not after:
        # whitespace made visible: the noise is what this part adds to the residual diff
        lines.append((Segment("── the whole difference, noise included ──", "meta"),))
        lines.extend(text_diff(before or b"", after or b"", ws=True))
    if len(structural) > limit:
        more += len(structural) - limit
        structural = structural[:limit]
    return DiffView(tuple(lines), hidden, tuple(structural), more, aside)


def _residual(
    m: Mismatch, before: bytes | None, after: bytes | None, settings: ClassifySettings | None
) -> bytes | str:
    """The head with its noise stripped (``strip_noise``), or why it could not be."""
    if settings is None:
        return "no configuration to strip it with"
    if before is None or after is None:
        return "one side is missing"
    from phase2_git.core import transforms
    from phase2_git.core.classify import whitespace_rules

    spec = transforms.strip_noise(m.artifact_type, whitespace_rules(m.path, settings), settings)
    try:
        return transforms.apply(spec, before, after)
    except transforms.TransformError as exc:
        return sanitize_line(str(exc))


def _whitespace_only(before: bytes | None, after: bytes | None) -> bool:
    """Whether only whitespace differs: noise, or a real change where the file's format gives
    whitespace meaning (YAML indentation): either way the reader must see it."""
    if before is None or after is None:
        return False
    return b"".join(before.split()) == b"".join(after.split())


def _limited(it: Iterator[Line], n: int) -> Iterator[Line]:
    for i, line in enumerate(it):
        if i >= n:
            return
        yield line


def signature(m: Mismatch, before: bytes | None, after: bytes | None) -> str | None:
    """What "the same difference" means for grouping: the changed lines only, or the JSON
    changes, with the type and plan. None when the mismatch should stand alone."""
    import hashlib

    if before is None or after is None or m.mismatch_type == "binary":
        return None
    parts: Sequence[str]
    if m.artifact_type == "json":
        try:
            docs = jsonvalue.parse(before), jsonvalue.parse(after)
            parts = json_changes(*docs, limit=_SIGNATURE_LIMIT, shown=False)
        except jsonvalue.JsonInvalid:
            parts = []
        if len(parts) >= _SIGNATURE_LIMIT:
            return None  # too many to tell apart cheaply: decided alone
    else:
        parts = []
    if not parts:
        a = before.decode("utf-8", "surrogateescape").splitlines(keepends=True)
        b = after.decode("utf-8", "surrogateescape").splitlines(keepends=True)
        parts = [
            line
            for line in difflib.unified_diff(a, b, n=0, lineterm="")
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
    h = hashlib.sha256(f"{m.mismatch_type}\0{m.plan.action}\0".encode())
    for p in parts:
        h.update(p.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()


@dataclass(frozen=True)
class Kind:
    """What grouping a review by kind of change needs: ``key`` equal for mismatches decided
    as one, ``label`` the kind in words."""

    key: str
    label: str


def kind(
    m: Mismatch, before: bytes | None, after: bytes | None, settings: ClassifySettings
) -> Kind | None:
    """The kind of change of ``m`` (:func:`phase2_git.core.changes.kind_of_change`: 51 files
    re-indented alike are one kind whatever their content), with its type and plan; when
    the kind cannot be told, the identical difference (:func:`signature`). None: alone."""
    if (
        before is None
        or after is None
        or m.artifact_type in ("binary", "submodule", "lfs_pointer")
        or m.mismatch_type == "binary"
        or looks_binary(before)
        or looks_binary(after)
    ):
        return None
    from phase2_git.core.changes import kind_of_change
    from phase2_git.core.classify import whitespace_rules

    p = m.plan
    head = "\0".join(
        (
            m.mismatch_type,
            m.artifact_type,
            p.action,
            p.transform.id if p.transform else "",
            p.first.transform.id if p.first else "",
            str(p.safe),
        )
    )
    found = kind_of_change(
        before,
        after,
        m.artifact_type,
        whitespace_rules(m.path, settings),
        rel_tol=settings.rel_tol,
        abs_tol=settings.abs_tol,
    )
    if found is not None:
        return Kind(f"{head}\0kind\0{found.key}", sanitize_line(found.label))
    sig = signature(m, before, after)
    return None if sig is None else Kind(f"{head}\0same\0{sig}", "the same difference")
