"""A mismatch taken apart: its real changes as data, the noise beside them, and noise
stripping that keeps the base's bytes (README: "Mixed changes"). Pure: text in, values out.

A regeneration rarely changes only noise or only content: a serializer upgrade re-indents
every file while a value changes, a generator that now writes CRLF also bumps a version.
:func:`analyse` lists what really changed (JSON paths or lines, before → after) and which kinds
of noise came with it; :func:`strip_json` / :func:`strip_text` rewrite the head so that it
keeps every real change and takes the base's bytes everywhere else.

How spans are found. Stripping edits the base's text at the changed places rather than
re-serialising it, so styles no serializer reproduces (compact arrays inside a pretty file,
``\\u`` escapes, aligned values, odd spacing) survive; that needs where each value sits in
the source. Libraries that give positions were considered: ``json-source-map`` walks the whole
document character by character in Python and is not a validating parser; ``tree-sitter-json``
is fast but brings two compiled dependencies to a pre-commit hook, and its error-tolerant
grammar is not the parser phase2 compares with (NaN, duplicate keys, deep nesting), so its
spans could belong to another document; the format-preserving editors (``json-source-edit``,
``jsonc-edit``, ``jsoncgx``) edit by path and are young or wrap a JavaScript parser. Here the
spans come from the standard library's own C scanner, the one :func:`jsonvalue.parse` uses
(``JSONDecoder.scan_once`` returns a value with the offset where it ends, ``scanstring`` a
key with its end), and only the containers on the way to a difference are walked member by
member in Python: a document with one changed leaf costs a few dozen C calls, not a Python
pass over every character, and the spans are those of exactly the document phase2 compared.
"""

# no `from __future__ import annotations`: NamedTuple fields stay cheap (see core/model.py)

import json
from collections import deque
from collections.abc import Callable, Hashable, Mapping, Sequence
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, Any, NamedTuple

from phase2_git.core import jsonvalue, whitespace
from phase2_git.core.jsonvalue import JNum, JObj, JValue
from phase2_git.core.model import (
    ChangeKind,
    Changes,
    NoiseFound,
    RealChange,
)
from phase2_git.core.patterns import lazy_pattern
from phase2_git.core.whitespace import WhitespaceRules

if TYPE_CHECKING:
    from phase2_git.core.jsonc import Scan

# Real changes listed per mismatch (the rest are counted), and places listed per noise kind:
# the list is copied into the JSON report, JUnit and the review for every content mismatch.
LISTED = 20
PLACES = 5
# A walk deeper than this compares the rest of the subtree as one value (the recursion stays
# far below the interpreter's limit; the result is the same, only less finely located).
_MAX_DEPTH = 200
# Text: lines compared with difflib once the common ends are trimmed; past this many lines
# on a side the middle is compared line by line (difflib is quadratic at worst).
_TEXT_WINDOW = 4000
# Text: a middle is aligned by difflib alone as well as on its unique lines (the fewer
# changes kept) while the product of its sides is at most this.
_PLAIN_COST = 500 * 500
# Array elements matched as a permutation ("moved") at most this many at once.
_MOVES = 64
# The middle two arrays of different lengths leave once their common ends are set aside (an
# element inserted or removed there, and another changed), or of equal lengths whose elements
# shifted, is aligned on the elements found once on each side (_aligned) up to this many
# elements a side; past it, elements pair index to index.
_ALIGN = 100_000
_ALIGN_LOOK = 256  # elements keyed first: fewer than a quarter of them distinct, no alignment


# The patterns are compiled on first use (the hook imports this module; a run compiles only
# those its files need), each by a cached function named after it.
_ws = lazy_pattern(r"[ \t\n\r]*")  # JSON whitespace, exactly what the parser skips
# a key (a JSON string, valid: the text parsed) and its colon: where the value starts
_key = lazy_pattern(r'"[^"\\]*(?:\\.[^"\\]*)*"[ \t\n\r]*:[ \t\n\r]*')
_after = lazy_pattern(r"[ \t\n\r]*([,}\]])[ \t\n\r]*")  # after a value: the separator


# (value, end) of the value at an offset, in C. Only the end is used: the text already parsed
# (jsonvalue.parse), so plain dicts, and numbers kept as text (no int() of a 5,000-digit
# literal), skip a value without a Python call per object
_SCAN = json.JSONDecoder(parse_int=str, parse_float=str).scan_once  # type: ignore[attr-defined]


_eol = lazy_pattern(r"\r\n|\r|\n")
_indented = lazy_pattern(r"\n([ \t]+)\S")
_key_sep = lazy_pattern(r'"[^"\\]*(?:\\.[^"\\]*)*"([ \t\r\n]*:[ \t\r\n]*)?')
_item_sep = lazy_pattern(r'"[^"\\]*(?:\\.[^"\\]*)*"|,([ \t]*)(?=[^ \t\r\n])')


Path = tuple[str | int, ...]


class Found:
    """A real change as the walk finds it: raw values and offsets (rendered later, and only
    for the first few)."""

    # a plain class, not a NamedTuple: never used as a tuple, and ~10x cheaper to define
    __slots__ = ("a_off", "after", "b_off", "before", "kind", "path", "source")

    def __init__(
        self,
        kind: ChangeKind,
        path: Path,
        before: object,
        after: object,
        b_off: int,
        a_off: int,
        source: Path | None = None,
    ) -> None:
        self.kind = kind
        self.path = path
        self.before = before  # a JValue (JSON) or a line (text); _NONE on the side that has none
        self.after = after
        self.b_off = b_off  # offset in the head text (line number)
        self.a_off = a_off  # offset in the base text
        self.source = source


_NONE = object()


class _NeedsText(Exception):
    """A walk of the values only met noise (a reordered key, a rewritten number): the
    document must be walked with its text, and the rest of this walk would be thrown away."""


# ------------------------------------------------------------------------------ spans


def _skip(text: str, i: int) -> int:
    """The offset of the first non-whitespace character at or after ``i``."""
    m = _ws().match(text, i)
    return m.end() if m is not None else i


class _Spans:
    """Where the members of one object or array sit in a text.

    ``seps[0]`` is the opening bracket, ``seps[i]`` the comma before member ``i``; a member
    starts at ``starts[i]`` (its key, for objects), its value runs ``vs[i]:ve[i]``; ``close``
    is the closing bracket. Glue: ``pre(i)`` the whitespace before member ``i``, ``post(i)``
    the whitespace after its value (before the comma, or the bracket for the last one)."""

    __slots__ = ("close", "seps", "starts", "ve", "vs")

    def __init__(self, text: str, at: int, obj: bool) -> None:
        seps = [at]
        starts: list[int] = []
        vs: list[int] = []
        ve: list[int] = []
        i = _skip(text, at + 1)
        # three C calls a member: the key with its colon, the value (scanned again by the
        # very scanner that parsed it), the separator; nothing here walks a value's inside
        key, after, scan = _key().match, _after().match, _SCAN
        if text[i] != ("}" if obj else "]"):
            while True:
                starts.append(i)
                if obj:
                    i = key(text, i).end()  # type: ignore[union-attr]
                vs.append(i)
                i = scan(text, i)[1]
                ve.append(i)
                m = after(text, i)
                j = m.start(1)  # type: ignore[union-attr]
                if text[j] != ",":
                    i = j
                    break
                seps.append(j)
                i = m.end()  # type: ignore[union-attr]
        self.seps, self.starts, self.vs, self.ve, self.close = seps, starts, vs, ve, i

    @property
    def n(self) -> int:
        return len(self.vs)

    def pre(self, text: str, i: int) -> str:
        return text[self.seps[i] + 1 : self.starts[i]]

    def post(self, text: str, i: int) -> str:
        end = self.seps[i + 1] if i + 1 < len(self.vs) else self.close
        return text[self.ve[i] : end]


def _deep_equal(x: JValue, y: JValue) -> bool:
    try:
        return type(x) is type(y) and bool(x == y)
    except RecursionError:
        return False


def _eol_counts(text: str) -> tuple[int, int, int]:
    crlf = text.count("\r\n")
    return crlf, text.count("\n") - crlf, text.count("\r") - crlf


_EOL_NAMES = {"\r\n": "CRLF", "\n": "LF", "\r": "CR"}


def eol_style(text: str) -> str:
    """``"\\n"``, ``"\\r\\n"``, ``"\\r"``, ``"mixed"`` or ``""`` (no line break)."""
    if "\r" not in text:  # the common case, one scan
        return "\n" if "\n" in text else ""
    crlf, lf, cr = _eol_counts(text)
    kinds = [(n, eol) for n, eol in ((crlf, "\r\n"), (lf, "\n"), (cr, "\r")) if n]
    if not kinds:
        return ""
    return kinds[0][1] if len(kinds) == 1 else "mixed"


def _dominant_eol(text: str) -> str:
    crlf, lf, cr = _eol_counts(text)
    best = max((crlf, "\r\n"), (lf, "\n"), (cr, "\r"))
    return best[1] if best[0] else ""


def _to_eol(text: str, eol: str) -> str:
    if eol == "\n":
        return _eol().sub("\n", text) if "\r" in text else text
    return _eol().sub(eol, text)


def _breaks(tail: str) -> int:
    return len(_eol().findall(tail))


def _eol_noise(a: str, b: str) -> tuple[str, str] | None:
    """The base's and head's line-ending styles when they differ (both have line breaks)."""
    if "\r" not in a and "\r" not in b:
        return None
    sa, sb = eol_style(a), eol_style(b)
    if sa and sb and sa != sb:
        return sa, sb
    return None


def _eol_name(style: str) -> str:
    return _EOL_NAMES.get(style, style)


# ------------------------------------------------------------------------------ style


class _Style:
    """How the base writes what it has, to write a value it does not have (used only when
    the head's formatting differs from the base's, so the head's text would carry noise)."""

    def __init__(self, text: str, root_pre: str | None) -> None:
        self.eol = _dominant_eol(text) or "\n"
        # a pretty-printed base: its root's members are one indentation step in
        self.unit = None if root_pre is None else (_indent_of(root_pre) or None)
        # the most common space around a colon (a member's own alignment is not the style)
        seen: dict[str, int] = {}
        for m in _key_sep().finditer(text):
            if m.group(1) is not None:
                seen[m.group(1)] = seen.get(m.group(1), 0) + 1
        mid = max(seen, key=lambda k: seen[k]) if seen else ": "
        self.mid = mid
        item = None
        for m in _item_sep().finditer(text):
            if m.group(1) is not None:
                item = m.group(1)
                break
        self.item = item if item is not None else (" " if mid.endswith(" ") else "")
        self.ascii = text.isascii() and "\\u" in text

    def string(self, s: str) -> str:
        import json

        try:
            return json.dumps(s, ensure_ascii=self.ascii)
        except UnicodeEncodeError:  # pragma: no cover - dumps escapes; kept for safety
            return json.dumps(s, ensure_ascii=True)

    def dump(self, value: JValue, indent: str | None) -> str:
        """``value`` as the base would write it at a line indented by ``indent`` (None: on
        one line, as the base writes an inline container)."""
        out: list[str] = []
        work: list[tuple[object, str | None, bool]] = [(value, indent, False)]
        while work:
            item, ind, literal = work.pop()
            if literal:
                out.append(item)  # type: ignore[arg-type]
                continue
            if isinstance(item, JNum):
                out.append(str(item))
            elif isinstance(item, (JObj, list)):
                is_obj = isinstance(item, JObj)
                opening, closing = ("{", "}") if is_obj else ("[", "]")
                if not item:
                    out.append(opening + closing)
                    continue
                pretty = ind is not None and self.unit is not None
                inner = (ind or "") + (self.unit or "") if pretty else None
                seq: list[tuple[object, str | None, bool]] = [(opening, None, True)]
                for k, member in enumerate(item):
                    glue = (self.eol + (inner or "")) if pretty else (self.item if k else "")
                    seq.append(("," + glue if k else glue, None, True))
                    if is_obj:
                        key, val = member
                        seq.append((self.string(key) + self.mid, None, True))
                    else:
                        val = member
                    seq.append((val, inner, False))
                seq.append(((self.eol + (ind or "") if pretty else "") + closing, None, True))
                work.extend(reversed(seq))
            elif isinstance(item, str):
                out.append(self.string(item))
            elif item is True:
                out.append("true")
            elif item is False:
                out.append("false")
            else:
                out.append("null")
        return "".join(out)


def _indent_of(glue: str) -> str | None:
    """The indentation of the line a member starts on, from the glue before it; None when
    the member is inline (on the line of what precedes it: its container is one line)."""
    cut = max(glue.rfind("\n"), glue.rfind("\r"))
    return None if cut < 0 else glue[cut + 1 :]


# ------------------------------------------------------------------------------ JSON walk

Pieces = list[str]


class _Walk:
    """One walk over both documents along their differences.

    ``emit``: also build the stripped head (the pieces of the result). ``fmt``: whether the
    head's formatting differs from the base's (known from a first, analysing walk): then a
    value only the head has is written in the base's style, else with the head's own bytes.
    """

    def __init__(
        self,
        a: str,
        b: str,
        rel_tol: float,
        abs_tol: float,
        *,
        emit: bool = False,
        fmt: bool = False,
        style: _Style | None = None,
    ) -> None:
        self.a, self.b = a, b
        self.rel_tol, self.abs_tol = rel_tol, abs_tol
        self.emit, self._fmt_known, self.style = emit, fmt, style
        # whether anything emitted depended on ``fmt`` (see fmt_known)
        self.fmt_read = False
        self.listed = LISTED
        # False: a walk of the parsed values only, no text (no spans, no formatting, no lines)
        self.spans = True
        # stop (_NeedsText) at the first reordered key or rewritten number: the caller walks
        # the text instead (analyse_json's first walk, of the values only)
        self.bail = False
        self.found: list[Found] = []
        self.n_real = 0
        self.fmt_at: list[Path] = []
        self.n_fmt = 0
        self._fmt_seen: set[Path] = set()
        self.order_at: list[Path] = []
        self.n_order = 0
        self.number_at: list[Path] = []
        self.n_number = 0

    @property
    def fmt_known(self) -> bool:
        """``fmt`` as the walk was given it. Every place whose output depends on it reads it
        here (the base's style is only ever read after it), so a walk that never read it
        emits the same pieces whatever it was given (strip_json's one walk)."""
        self.fmt_read = True
        return self._fmt_known

    # -- findings

    def _real(self, found: Found) -> None:
        self.n_real += 1
        if len(self.found) < self.listed:
            self.found.append(found)

    def _fmt(self, path: Path) -> None:
        if path in self._fmt_seen:  # several glues of one container: one place
            return
        self._fmt_seen.add(path)
        self.n_fmt += 1
        if len(self.fmt_at) < PLACES:
            self.fmt_at.append(path)

    def _order(self, path: Path) -> None:
        if self.bail:
            raise _NeedsText
        self.n_order += 1
        if len(self.order_at) < PLACES:
            self.order_at.append(path)

    def _number(self, path: Path) -> None:
        if self.bail:
            raise _NeedsText
        self.n_number += 1
        if len(self.number_at) < PLACES:
            self.number_at.append(path)

    def _glue(self, x: str, y: str, path: Path) -> None:
        if x != y:
            self._fmt(path)

    # -- equality that ignores noise

    def _same(self, x: JValue, y: JValue) -> bool:
        if _deep_equal(x, y):
            return True
        cmp = jsonvalue.compare(
            x, y, ordered=False, numbers="value", rel_tol=self.rel_tol, abs_tol=self.abs_tol
        )
        return cmp.equal

    def _numbers_close(self, x: JNum, y: JNum) -> bool:
        dx, dy = x.value(), y.value()
        if dx == dy:
            return True
        if x.is_integer_literal and y.is_integer_literal:
            return False  # tolerance is for float jitter: integers must match exactly
        tol = max(Decimal(repr(self.abs_tol)), Decimal(repr(self.rel_tol)) * max(abs(dx), abs(dy)))
        return bool(abs(dx - dy) <= tol)

    # -- the walk

    def new_text(self, y: JValue, b0: int, b1: int, indent: str | None) -> str:
        if not self.fmt_known or self.style is None:
            return self.b[b0:b1]
        return self.style.dump(y, indent)

    def node(
        self,
        x: JValue,
        y: JValue,
        a0: int,
        a1: int,
        b0: int,
        b1: int,
        path: Path,
        depth: int,
        indent: str | None,
    ) -> Pieces | None:
        """The pieces of the stripped value, or None when the value has no real change
        (then the base's text ``a[a0:a1]`` is the result)."""
        if _deep_equal(x, y):
            if self.spans and self.a[a0:a1] != self.b[b0:b1]:
                self._fmt(path)
            return None
        if isinstance(x, JNum) and isinstance(y, JNum):
            if self._numbers_close(x, y):
                self._number(path)
                return None
            return self._changed(x, y, a0, b0, b1, path, indent)
        both_obj = isinstance(x, JObj) and isinstance(y, JObj)
        both_list = isinstance(x, list) and isinstance(y, list)
        if (both_obj or both_list) and depth >= _MAX_DEPTH:
            if self._same(x, y):
                return None
            return self._changed(x, y, a0, b0, b1, path, indent)
        if both_obj:
            return self._object(x, y, a0, b0, b1, path, depth, indent)  # type: ignore[arg-type]
        if both_list:
            return self._array(x, y, a0, b0, b1, path, depth, indent)  # type: ignore[arg-type]
        return self._changed(x, y, a0, b0, b1, path, indent)

    def _changed(
        self, x: JValue, y: JValue, a0: int, b0: int, b1: int, path: Path, indent: str | None
    ) -> Pieces:
        self._real(Found("changed", path, x, y, b0, a0))
        if not self.emit:
            return []
        if isinstance(y, JNum):
            return [str(y)]  # a number keeps the head's text
        return [self.new_text(y, b0, b1, indent)]

    def _object(
        self,
        x: JObj,
        y: JObj,
        a0: int,
        b0: int,
        b1: int,
        path: Path,
        depth: int,
        indent: str | None,
    ) -> Pieces | None:
        kx = [k for k, _ in x]
        ky = [k for k, _ in y]
        # each side's key -> index map, built once: a key that repeats leaves it shorter than
        # the side (JObj.has_duplicates' test, without a second dict)
        ix = dict(zip(kx, range(len(kx))))
        iy = dict(zip(ky, range(len(ky))))
        if len(ix) != len(kx) or len(iy) != len(ky):
            if kx != ky:
                # which value a parser keeps is parser-defined: never pair them up by key
                return self._changed(x, y, a0, b0, b1, path, indent)
            pairs = [(i, i) for i in range(len(kx))]
            removed: list[int] = []
            added: list[int] = []
        else:
            pairs = [(i, iy[k]) for i, k in enumerate(kx) if k in iy]
            removed = [i for i, k in enumerate(kx) if k not in iy]
            added = [j for j, k in enumerate(ky) if k not in ix]
            if [j for _, j in pairs] != sorted(j for _, j in pairs):
                self._order(path)
        if not self.spans:
            vals = ([v for _, v in x], [v for _, v in y])
            return self._tree(vals, kx, ky, pairs, removed, added, (), path, depth)
        sa = _Spans(self.a, a0, True)
        sb = _Spans(self.b, b0, True)
        xs, ys = [v for _, v in x], [v for _, v in y]
        parts = (xs, ys, kx, ky)
        return self._container(y, parts, sa, sb, pairs, removed, added, (), path, depth, indent)

    def _array(
        self,
        x: list[JValue],
        y: list[JValue],
        a0: int,
        b0: int,
        b1: int,
        path: Path,
        depth: int,
        indent: str | None,
    ) -> Pieces | None:
        n, m = len(x), len(y)
        # the common ends: elements equal as written first, then equal but for noise (an
        # element the head kept as it was is never matched to one that merely looks alike)
        p = s = 0
        while p < n and p < m and _deep_equal(x[p], y[p]):
            p += 1
        aligning = n != m
        moved: list[tuple[int, int]] = []
        if aligning:
            # the whole start before the end: found end first, a run of equal elements the
            # strip writes from the base could be taken by the end on one strip and by the
            # start on the next (the strip's output aligned otherwise than the head: not
            # idempotent, [1.0, {"a":1}, {"a": 1}] against [1.0000000000001, {"a":1}])
            while p < n and p < m and self._same(x[p], y[p]):
                p += 1
            for same in (_deep_equal, self._same):
                while s < n - p and s < m - p and same(x[n - 1 - s], y[m - 1 - s]):
                    s += 1
        else:
            while s < n - p and _deep_equal(x[n - 1 - s], y[n - 1 - s]):
                s += 1
            # where an element keys otherwise than its counterpart (one removed and another
            # inserted, a sorted list shifted by one), the middle from the first to the last
            # such element is aligned as arrays of different lengths are; what keys alike on
            # either side of it pairs index to index, its differences the walk's to find.
            # Elsewhere the middle may be a permutation, and the noise pass (a walk of each
            # pair, then walked again below) finds where it starts and ends. Both bounds are
            # blind to noise, so the strip's output (written from the base where the head
            # differs by noise alone) splits where the head did. Equal but for noise means
            # keyed alike. The middle the noise pass leaves is first tried whole as a
            # permutation of exact copies (a long one only where _may_permute finds one
            # possible, which is what it proves), before the keys narrow it; there, elements
            # that moved with noise in them are found too (_moves), the keys deciding where
            # they are looked for as they decide the rest
            if n - p - s <= _MOVES or _may_permute(x, y, p, n - s):
                p, s = self._noise_ends(x, y, p, s)
                if 1 < n - p - s <= _MOVES:
                    moved = _permutation(x[p : n - s], y[p : n - s], p)
            # (from the ends the noise pass found, where it ran: the same first and last
            # element keyed otherwise, over fewer elements)
            q = n - s if moved else _key_differs(x, y, p, n - s)
            if q < n - s:
                aligning = True
                p = q
                while s < n - p and _keyed_alike(x[n - 1 - s], y[n - 1 - s]):
                    s += 1
        pairs = [(i, i) for i in range(p)]
        la, lb = n - s - p, m - s - p
        removed: list[int] = []
        added: list[int] = []
        if aligning and la == lb and 1 < la <= _MOVES and not moved:
            # the middle the keys left: elements that moved with their keys reordered or
            # their numbers rewritten are moves too (the strip writes them as the base did)
            moved = _moves(x[p : p + la], y[p : p + lb], p, self._same)
        if moved:
            pairs.extend(moved)
        else:
            aligned = None
            if aligning and min(la, lb) and max(la, lb) <= _ALIGN:
                aligned = _aligned(x[p : p + la], y[p : p + lb], p, or_by_index=n == m)
            if aligned is None:
                k = min(la, lb)
                aligned = (
                    [(p + d, p + d) for d in range(k)],
                    list(range(p + k, p + la)),
                    list(range(p + k, p + lb)),
                )
            pairs += aligned[0]
            removed, added = aligned[1], aligned[2]
        pairs.extend((n - s + d, m - s + d) for d in range(s))
        if not self.spans:
            moves = tuple((i, j) for i, j in moved if i != j)
            return self._tree((x, y), None, None, pairs, removed, added, moves, path, depth)
        sa = _Spans(self.a, a0, False)
        sb = _Spans(self.b, b0, False)
        shifted = tuple((i, j) for i, j in moved if i != j)
        parts = (x, y, None, None)
        return self._container(
            y, parts, sa, sb, pairs, removed, added, shifted, path, depth, indent
        )

    def _noise_ends(self, x: list[JValue], y: list[JValue], p: int, s: int) -> tuple[int, int]:
        """The common ends of two arrays of equal length, from ``p`` and ``s`` on, extended
        over the elements equal but for noise."""
        n = len(x)
        while p < n - s and self._same(x[p], y[p]):
            p += 1
        while s < n - p and self._same(x[n - 1 - s], y[n - 1 - s]):
            s += 1
        return p, s

    def _tree(
        self,
        vals: tuple[list[JValue], list[JValue]],
        keys: list[str] | None,
        yk: list[str] | None,
        pairs: list[tuple[int, int]],
        removed: list[int],
        added: list[int],
        moved: tuple[tuple[int, int], ...],
        path: Path,
        depth: int,
    ) -> Pieces | None:
        """:meth:`_container` without the text: the members' values only."""
        xs, ys = vals
        changed = False
        for i, j in pairs:
            if _deep_equal(xs[i], ys[j]):
                continue
            sub = (*path, keys[i]) if keys is not None else (*path, j)
            if self.node(xs[i], ys[j], -1, -1, -1, -1, sub, depth + 1, None) is not None:
                changed = True
        for i, j in moved:
            self._real(Found("moved", (*path, j), xs[i], ys[j], -1, -1, source=(*path, i)))
        for i in removed:
            key: str | int = keys[i] if keys is not None else i
            self._real(Found("removed", (*path, key), xs[i], _NONE, -1, -1))
        for j in added:
            key = yk[j] if yk is not None else j
            self._real(Found("added", (*path, key), _NONE, ys[j], -1, -1))
        return [] if changed or removed or added or moved else None

    def _container(
        self,
        y: JValue,
        parts: tuple[list[JValue], list[JValue], list[str] | None, list[str] | None],
        sa: _Spans,
        sb: _Spans,
        pairs: list[tuple[int, int]],
        removed: list[int],
        added: list[int],
        moved: tuple[tuple[int, int], ...],
        path: Path,
        depth: int,
        indent: str | None,
    ) -> Pieces | None:
        """An object's or array's members: ``parts`` are the base's and the head's values
        and (objects) keys, ``pairs`` the (base, head) indexes of the members both have."""
        a, b = self.a, self.b
        xs, ys, keys, yk = parts
        obj = keys is not None
        na, nb = sa.n, sb.n
        if na and nb:
            self._glue(sa.pre(a, 0), sb.pre(b, 0), path)
            self._glue(sa.post(a, na - 1), sb.post(b, nb - 1), path)

        def sub(i: int, j: int) -> Path:
            return (*path, keys[i]) if keys is not None else (*path, j)

        kids: dict[int, Pieces | None] = {}
        changed = False
        k, npairs = 0, len(pairs)
        while k < npairs:
            i, j = pairs[k]
            # a run of members equal in text form and next to each other on both sides: one
            # comparison of their whole text (keys, values and the glue between them) says
            # whether any of it was reformatted; only a run that was is looked at member by
            # member (most of a file with a real change is such a run, unchanged)
            e = k
            while (
                e < npairs
                and pairs[e][0] == i + e - k
                and pairs[e][1] == j + e - k
                and _deep_equal(xs[i + e - k], ys[j + e - k])
            ):
                e += 1
            if e > k:
                i2, j2 = i + e - k - 1, j + e - k - 1
                if (
                    a[sa.starts[i] : sa.ve[i2]] == b[sb.starts[j] : sb.ve[j2]]
                    and (not (i and j) or sa.pre(a, i) == sb.pre(b, j))
                    and (not (i2 < na - 1 and j2 < nb - 1) or sa.post(a, i2) == sb.post(b, j2))
                ):
                    k = e
                    continue
            else:
                e = k + 1
            for i, j in pairs[k:e]:
                if i and j:
                    self._glue(sa.pre(a, i), sb.pre(b, j), sub(i, j))
                if i < na - 1 and j < nb - 1:
                    self._glue(sa.post(a, i), sb.post(b, j), sub(i, j))
                if obj:
                    # the key as written (escapes) and the space around its colon
                    self._glue(a[sa.starts[i] : sa.vs[i]], b[sb.starts[j] : sb.vs[j]], sub(i, j))
                line = _indent_of(sa.pre(a, i)) if indent is not None else None
                kid = self.node(
                    xs[i], ys[j], sa.vs[i], sa.ve[i], sb.vs[j], sb.ve[j], sub(i, j), depth + 1, line
                )
                if kid is not None:
                    changed = True
                    kids[i] = kid
            k = e
        for i, j in moved:
            self._real(
                Found("moved", (*path, j), xs[i], ys[j], sb.vs[j], sa.vs[i], source=(*path, i))
            )
        if not removed and not added and not moved and not changed:
            return None
        if removed:
            # where a removal shows in the head: at what now follows it
            follows = _follows(removed, na, dict(pairs), sb.starts, sb.close)
            for i in removed:
                key: str | int = keys[i] if keys is not None else i
                self._real(Found("removed", (*path, key), xs[i], _NONE, follows[i], sa.starts[i]))
        if added:
            # where an addition goes in the base (the base's closing bracket was every
            # addition's base line, $[0] of a long array included): as the strip writes it,
            # an element before what follows it in the head, a key after the key the head
            # put before it (_emit: the base's key order)
            by_b = {j: i for i, j in pairs}
            if obj:
                precedes = _just_after(added, nb, by_b, sa.starts, sa.close)
            else:
                precedes = _follows(added, nb, by_b, sa.starts, sa.close)
            for j in added:
                key = yk[j] if yk is not None else j
                self._real(Found("added", (*path, key), _NONE, ys[j], sb.starts[j], precedes[j]))
        if not self.emit:
            return []
        if not nb:  # everything removed: the head's empty container (or the base's style)
            return ["{}" if obj else "[]"] if self.fmt_known else [b[sb.seps[0] : sb.close + 1]]
        if not na:  # nothing to keep from the base: the head's value, written as the base would
            start, end = sb.seps[0], sb.close + 1
            return [self.new_text(y, start, end, indent)]
        return self._emit(sa, sb, pairs, kids, xs, ys, yk, obj, indent)

    def _emit(
        self,
        sa: _Spans,
        sb: _Spans,
        pairs: list[tuple[int, int]],
        kids: dict[int, Pieces | None],
        xs: list[JValue],
        ys: list[JValue],
        yk: list[str] | None,
        obj: bool,
        indent: str | None,
    ) -> Pieces:
        a, b = self.a, self.b
        na, nb = sa.n, sb.n
        by_b = {j: i for i, j in pairs}
        # the result's members: the base's order for the ones both have (a permutation of
        # an array follows the head: array order is content), the head's new ones after the
        # member the head put before them
        order: list[tuple[int, int]] = []  # (base index or -1, head index)
        if obj:
            after: dict[int, list[int]] = {}
            last = -1
            for j in range(nb):
                if j in by_b:
                    last = by_b[j]
                else:
                    after.setdefault(last, []).append(j)
            order.extend((-1, j) for j in after.get(-1, ()))
            for i, j in sorted(pairs):
                order.append((i, j))
                order.extend((-1, jj) for jj in after.get(i, ()))
        else:
            order = [(by_b.get(j, -1), j) for j in range(nb)]

        pre0 = sa.pre(a, 0)
        if na >= 2:
            pre_other = sa.pre(a, 1)
        elif "\n" in pre0 or "\r" in pre0:
            pre_other = pre0
        elif not self.fmt_known and nb >= 2:
            pre_other = sb.pre(b, 1)
        else:
            pre_other = self.style.item if self.style is not None else " "
        if na >= 2:
            post_other = sa.post(a, 0)
        elif not self.fmt_known and nb >= 2:
            post_other = sb.post(b, 0)
        else:
            post_other = ""

        out: Pieces = ["{" if obj else "["]
        last_slot = len(order) - 1
        for slot, (i, j) in enumerate(order):
            if slot:
                out.append(",")
            if slot == 0:
                pre = pre0
            elif i > 0:
                pre = sa.pre(a, i)
            else:
                pre = pre_other
            out.append(pre)
            if i >= 0:
                out.append(a[sa.starts[i] : sa.vs[i]])  # key and colon (objects)
                kid = kids.get(i)
                if kid is None:
                    out.append(a[sa.vs[i] : sa.ve[i]])
                else:
                    out.extend(kid)
            elif not self.fmt_known or self.style is None:
                out.append(b[sb.starts[j] : sb.ve[j]])
            else:
                line = _indent_of(pre) if indent is not None else None
                if obj:
                    assert yk is not None
                    out.append(self.style.string(yk[j]) + self.style.mid)
                out.append(self.style.dump(ys[j], line))
            if slot < last_slot:
                out.append(sa.post(a, i) if 0 <= i < na - 1 else post_other)
        out.append(sa.post(a, na - 1))
        out.append("}" if obj else "]")
        return out


def _may_permute(x: list[JValue], y: list[JValue], lo: int, hi: int) -> bool:
    """False when no middle left by the noise pass in ``[lo, hi)`` of two arrays of equal
    length can be a :func:`_permutation` of two or more elements; True when one may be.

    Such a middle starts and ends where the noise pass stopped, so its first and last head
    elements differ from the base elements at their own indexes, and each equals (as
    written) a base element of the middle at another index, fewer than ``_MOVES`` places
    away: two distinct ``j`` where ``y[j]`` equals such an ``x[i]``. The base elements that
    near are kept in a window, by :func:`_shape` (equal values have equal shapes), and the
    head element's candidates checked for equality; a search that grows past a check for
    every fourth element answers True, and the noise pass runs as it always did (GeoJSON
    features all start with ``"type": "Feature"``: the search gives up in 0.011 s for
    30,000 of them, 1% of their walk). On an array of 100,000 records whose keys are
    reordered it takes 0.09 s, where the noise pass it spares took 0.4 s a walk; on a
    million floats that all moved within tolerance, 0.5 s where the pass took nearly 4 s."""
    window: dict[object, list[int]] = {}  # shape -> the indexes of the window's elements
    shapes: deque[object] = deque()  # the window's shapes, in index order

    def enter(i: int) -> None:
        key = _shape(x[i])
        shapes.append(key)
        at = window.get(key)
        if at is None:
            window[key] = [i]
        else:
            at.append(i)

    top = min(hi, lo + _MOVES)  # the window holds x[i] for |i - j| < _MOVES
    for i in range(lo, top):
        enter(i)
    budget = (hi - lo) // 4 + 2 * _MOVES
    found = 0
    for j in range(lo, hi):
        if j > lo:
            if top < hi:
                enter(top)
                top += 1
            if j - _MOVES >= lo:  # the oldest leaves: first in its shape's list
                key = shapes.popleft()
                at = window[key]
                del at[0]
                if not at:
                    del window[key]
        yj = y[j]
        if _deep_equal(x[j], yj):
            continue
        for i in window.get(_shape(yj), ()):
            budget -= 1
            if budget < 0:
                return True
            if i != j and _deep_equal(x[i], yj):
                found += 1
                if found > 1:
                    return True
                break
    return False


def _shape(v: JValue) -> object:
    """A key that equal values share: a scalar itself (a number and a string of the same text
    are different keys, as they are different values), else the container's kind, size and
    first member (its key and, when it is a scalar, its value)."""
    if isinstance(v, JObj):
        if not v:
            return ("{", 0)
        key, first = v[0]
        return ("{", len(v), key, first if isinstance(first, str) else type(first))
    if isinstance(v, list):
        return ("[", len(v))
    return v


def _follows(
    alone: list[int], n: int, other: Mapping[int, int], starts: list[int], close: int
) -> dict[int, int]:
    """For each of ``alone`` (members only this side has, of its ``n``), the offset on the
    other side of what follows it there: the start of the next member both have (``other``:
    this side's index -> the other's, whose members start at ``starts``), else ``close``."""
    out: dict[int, int] = {}
    lone = set(alone)
    nxt = close
    for k in range(n - 1, -1, -1):
        if k in lone:
            out[k] = nxt
        elif k in other:
            nxt = starts[other[k]]
    return out


def _just_after(
    alone: list[int], n: int, other: Mapping[int, int], starts: list[int], close: int
) -> dict[int, int]:
    """For each of ``alone`` (members only this side has, of its ``n``), the offset on the
    other side just after the member both have that comes before it on this side (``other``:
    this side's index -> the other's, whose members start at ``starts``): where the next
    member there starts, else ``close``. Before any: the first member's start."""
    out: dict[int, int] = {}
    lone = set(alone)
    last = -1
    for k in range(n):
        if k in lone:
            out[k] = starts[last + 1] if last + 1 < len(starts) else close
        elif k in other:
            last = other[k]
    return out


def _anchors(ka: Sequence[Hashable], kb: Sequence[Hashable]) -> list[tuple[int, int]]:
    """Patience diff's anchors: of the keys that occur once in ``ka`` and once in ``kb``, the
    longest run in the same order on both sides, as (index in ``ka``, index in ``kb``) pairs.
    A sort (n log n) and one pass, however the keys are spread."""
    from bisect import bisect_left
    from collections import Counter

    once_a, once_b = Counter(ka), Counter(kb)
    at_b = {k: j for j, k in enumerate(kb) if once_b[k] == 1}
    candidates = [(i, at_b[k]) for i, k in enumerate(ka) if once_a[k] == 1 and k in at_b]
    if not candidates:
        return []
    # the longest run of candidates increasing on both sides (patience sorting)
    tails: list[int] = []  # tails[r]: the smallest head index that ends a run of r + 1
    ends: list[int] = []  # the candidate that ends it
    back: list[int] = []  # each candidate's predecessor in its run (-1: none)
    for c, (_, j) in enumerate(candidates):
        r = bisect_left(tails, j)
        if r == len(tails):
            tails.append(j)
            ends.append(c)
        else:
            tails[r] = j
            ends[r] = c
        back.append(ends[r - 1] if r else -1)
    anchors: list[tuple[int, int]] = []
    c = ends[-1]
    while c >= 0:
        anchors.append(candidates[c])
        c = back[c]
    anchors.reverse()
    return anchors


def _aligned(
    xs: Sequence[JValue], ys: Sequence[JValue], offset: int, *, or_by_index: bool = False
) -> tuple[list[tuple[int, int]], list[int], list[int]] | None:
    """(pairs, removed, added) of two arrays' middles, aligned on the elements whose
    :func:`_align_key` occurs once on each side (patience diff's anchors: the longest run of
    them in the same order on both sides); between two anchors the elements pair index to
    index, as the whole middle did before. Paired index to index throughout, an element
    inserted at ``$[0]`` beside another change made every element in between read as changed
    (a record's every field). None (the caller pairs by index) when no element anchors, or
    (``or_by_index``: middles of equal length) when pairing by index leaves no more elements
    keyed unlike their counterparts than the alignment's removals, additions and unlike pairs
    together (two strings that traded places, one of them edited, read as two changes, not as
    two removals and two additions).

    Not difflib: its longest match scans the whole middle again for every run it finds, and
    evenly spaced changes (every second record edited, one inserted) made it quadratic
    (16,000 elements: 11.5 s). This is a sort of the anchors (n log n) and one pass."""
    # keys by hash, so that 100,000 elements hold as many ints (two keys that collide, one
    # chance in 2**64, pair two elements the walk then reads as changed, as every pair was);
    # an array whose first elements key alike (numbers all do) has nothing to anchor on
    head = [hash(_align_key(v)) for v in xs[:_ALIGN_LOOK]]
    if len(head) == _ALIGN_LOOK and len(set(head)) * 4 < _ALIGN_LOOK:
        return None
    ka = head + [hash(_align_key(v)) for v in xs[_ALIGN_LOOK:]]
    kb = [hash(_align_key(v)) for v in ys]
    anchors = _anchors(ka, kb)
    if not anchors:
        return None
    pairs: list[tuple[int, int]] = []
    removed: list[int] = []
    added: list[int] = []
    i0 = j0 = 0
    for i1, j1 in [*anchors, (len(xs), len(ys))]:
        k = min(i1 - i0, j1 - j0)  # the gap before this anchor: index to index
        pairs += [(offset + i0 + d, offset + j0 + d) for d in range(k)]
        removed += range(offset + i0 + k, offset + i1)
        added += range(offset + j0 + k, offset + j1)
        if i1 < len(xs):
            pairs.append((offset + i1, offset + j1))
        i0, j0 = i1 + 1, j1 + 1
    if or_by_index:
        unlike = sum(ka[i - offset] != kb[j - offset] for i, j in pairs)
        if len(removed) + len(added) + unlike >= sum(a != b for a, b in zip(ka, kb)):
            return None
    return pairs, removed, added


# how deep an element's key looks (below it, a container is its kind and size), and how many
# of its members at most: past that the element keys as its shape alone, so keying a middle
# costs at most this much a side however large its elements (one element holding 100,000
# records added 1.3 s to a walk that looked at one of them)
_KEY_DEPTH = 2
_KEY_MEMBERS = 256


class _KeyTooLarge(Exception):
    pass


def _align_key(v: JValue) -> object:
    """What aligning an array's elements compares: the element with its keys sorted (unless
    a key repeats), its strings, literals and shape, down to :data:`_KEY_DEPTH` levels and at
    most :data:`_KEY_MEMBERS` members, but never its numbers' text. Blind to whatever a strip
    may rewrite (key order, a number's text within tolerance), so the strip's own output
    aligns as the head did: a key that saw the base's ``1.0`` where the head wrote
    ``1.0000000000001`` matched other elements on the next strip, and the strip was not
    idempotent. A number change is the walk's to find; two elements that key alike are paired
    and walked, as every pair was before."""
    budget = [_KEY_MEMBERS]
    try:
        return _key_of(v, _KEY_DEPTH, budget)
    except _KeyTooLarge:
        return _key_of(v, 0, budget)


def _key_of(v: JValue, depth: int, budget: list[int]) -> object:
    if isinstance(v, str):
        # a string is its own key (no other key is a str); a number (JNum, its text kept in
        # a str) keys as every number does
        return _NUMBER_KEY if isinstance(v, JNum) else v
    if isinstance(v, (JObj, list)):
        obj = isinstance(v, JObj)
        if not depth:
            return ("{#" if obj else "[#", len(v))
        budget[0] -= len(v)
        if budget[0] < 0:
            raise _KeyTooLarge
        if isinstance(v, JObj):
            items = [(k, _key_of(x, depth - 1, budget)) for k, x in v]
            return ("{", tuple(items if v.has_duplicates() else sorted(items, key=_first)))
        return ("[", *(_key_of(x, depth - 1, budget) for x in v))
    return v  # True, False, None: no other key is a bare int (True == 1) or 0 (False == 0)


_NUMBER_KEY = ("#",)


def _key_differs(x: list[JValue], y: list[JValue], lo: int, hi: int) -> int:
    """The first index of ``[lo, hi)`` where the elements of two arrays of equal length have
    different :func:`_align_key` s (``hi``: none). Blind to noise as the key is. Most such
    pairs are written alike member by member (a number jittered, keys in the same order):
    :func:`_alike` tells so without building either key."""
    for i in range(lo, hi):
        if not _keyed_alike(x[i], y[i]):
            return i
    return hi


def _keyed_alike(a: JValue, b: JValue) -> bool:
    """``_align_key(a) == _align_key(b)``, most often without building either (:func:`_alike`)."""
    return _alike(a, b, _KEY_DEPTH, [_KEY_MEMBERS]) or _align_key(a) == _align_key(b)


def _alike(a: JValue, b: JValue, depth: int, budget: list[int]) -> bool:
    """Whether ``a`` and ``b`` have equal :func:`_align_key` s, found by walking both side by
    side instead of building either: the same down to the key's depth but for their numbers'
    text and the order of an object's keys (in order where a key repeats, as the key keeps
    them). Past the key's budget of members, False (the keys may still be equal)."""
    if isinstance(a, str):
        return isinstance(b, JNum) if isinstance(a, JNum) else type(b) is str and a == b
    if not isinstance(a, (JObj, list)):
        return type(a) is type(b) and a == b  # True, False, None
    if type(b) is not type(a) or len(a) != len(b):
        return False
    other: Any = b  # the same container type as ``a``
    if not depth:
        return True
    budget[0] -= len(a)
    if budget[0] < 0:
        return False
    if not isinstance(a, JObj):
        return all(_alike(va, vb, depth - 1, budget) for va, vb in zip(a, other))
    theirs = dict(other)
    if len(theirs) == len(a) and not a.has_duplicates():
        # no key repeats: the keys sort the members, whatever order each side has
        return all(k in theirs and _alike(v, theirs[k], depth - 1, budget) for k, v in a)
    return all(
        ka == kb and _alike(va, vb, depth - 1, budget) for (ka, va), (kb, vb) in zip(a, other)
    )


def _first(item: tuple[str, object]) -> str:
    return item[0]


def _stays(
    xs: list[JValue], ys: list[JValue], offset: int, same: Callable[[JValue, JValue], bool]
) -> tuple[list[tuple[int, int]], list[int]]:
    """The pairs of the elements ``same`` as the one at their own index, and the indexes of
    the others (those a permutation must place)."""
    out: list[tuple[int, int]] = []
    others: list[int] = []
    for j, (x, y) in enumerate(zip(xs, ys)):
        if same(x, y):
            out.append((offset + j, offset + j))
        else:
            others.append(j)
    return out, others


def _permutation(xs: list[JValue], ys: list[JValue], offset: int) -> list[tuple[int, int]]:
    """Pairs (base index, head index) when ``ys`` is ``xs`` reordered (equal elements, by
    text form), else []. An element equal to the one at its own index stays there (as in
    :func:`_noisy_permutation`: two equal elements written in different spacing keep their
    places, whichever of the two found the moves)."""
    out, free = _stays(xs, ys, offset, _deep_equal)
    for j in list(free):
        y = ys[j]
        for k, i in enumerate(free):
            if _deep_equal(xs[i], y):
                out.append((offset + i, offset + j))
                del free[k]
                break
        else:
            return []
    return out


def _moves(
    xs: list[JValue], ys: list[JValue], offset: int, same: Callable[[JValue, JValue], bool]
) -> list[tuple[int, int]]:
    """The permutation of two middles: :func:`_noisy_permutation` when every element is
    small enough for its key to hold it whole (a comparison of two costs at most what a key
    does, and 64 elements compare at most 64 x 64 times), else :func:`_permutation` of exact
    copies, as large elements always were (62 lists of 2,000 floats reversed with jitter took
    2.1 s against 0.85 s). Which one runs depends on the elements' shapes alone: the strip's
    output takes the same one."""
    if all(_bounded(v, _KEY_DEPTH, [_KEY_MEMBERS]) for v in (*xs, *ys)):
        return _noisy_permutation(xs, ys, offset, same)
    return _permutation(xs, ys, offset)


def _bounded(v: JValue, depth: int, budget: list[int]) -> bool:
    """Whether ``v`` holds no container deeper than ``depth`` levels and, with what it holds,
    at most the budget's members (:func:`_align_key` s bounds)."""
    if not isinstance(v, (JObj, list)):
        return True
    budget[0] -= len(v)
    if not depth or budget[0] < 0:
        return not v and budget[0] >= 0
    return all(
        _bounded(m, depth - 1, budget) for m in (v if isinstance(v, list) else (x for _, x in v))
    )


def _noisy_permutation(
    xs: list[JValue], ys: list[JValue], offset: int, same: Callable[[JValue, JValue], bool]
) -> list[tuple[int, int]]:
    """:func:`_permutation` of elements that may carry noise (``same``: equal but for it). An
    element the same as the one at its own index stays there; each other one is paired with
    a free element that keys alike, the first equal as written if there is one, else the
    first the same. Pairs (base index, head index), else [].

    So the strip's output, where a moved element is written as the base wrote it, pairs as
    the head did: the elements that stayed are still the same as their own; a moved one is
    now equal as written to the one it was paired with (taking the first that was the same,
    as a tolerance is not transitive, ``1.0000000016`` met ``1.0000000008`` and the output's
    ``1.0000000008`` met ``1.0`` first: the second strip wrote it elsewhere)."""
    out, moving = _stays(xs, ys, offset, same)
    free = list(moving)
    keys = {i: _align_key(xs[i]) for i in free}
    for j in moving:
        y, key = ys[j], _align_key(ys[j])
        alike = [k for k, i in enumerate(free) if keys[i] == key]
        found = next((k for k in alike if _deep_equal(xs[free[k]], y)), None)
        if found is None:
            found = next((k for k in alike if same(xs[free[k]], y)), None)
        if found is None:
            return []
        out.append((offset + free[found], offset + j))
        del free[found]
    return out


class _Docs:
    # a plain class, not a NamedTuple: never used as a tuple, and ~10x cheaper to define
    __slots__ = ("a", "a_bom", "b", "b_bom", "eol")

    def __init__(
        self, a: str, b: str, a_bom: bool, b_bom: bool, eol: tuple[str, str] | None
    ) -> None:
        self.a = a  # the base's text (no BOM)
        self.b = b  # the head's text (no BOM), line endings as the base's where theirs differ
        self.a_bom = a_bom
        self.b_bom = b_bom
        self.eol = eol  # (base, head) line-ending styles when they differ


def _texts(a_data: bytes, b_data: bytes) -> _Docs:
    a = jsonvalue.decode_text(a_data)
    b = jsonvalue.decode_text(b_data)
    eol = _eol_noise(a, b)
    if eol is not None:
        b = _to_eol(b, _dominant_eol(a))
    bom = jsonvalue.UTF8_BOM
    return _Docs(a, b, a_data.startswith(bom), b_data.startswith(bom), eol)


class _JsonResult:
    # a plain class, not a NamedTuple: never used as a tuple, and ~10x cheaper to define
    __slots__ = ("docs", "final_newline", "lead_tail_fmt", "pieces", "spans", "walk")

    def __init__(
        self,
        walk: _Walk,
        docs: _Docs,
        pieces: Pieces | None,
        spans: tuple[int, int, int, int],
        lead_tail_fmt: bool,
        final_newline: str | None,
    ) -> None:
        self.walk = walk
        self.docs = docs
        self.pieces = pieces
        self.spans = spans
        self.lead_tail_fmt = lead_tail_fmt
        self.final_newline = final_newline


def _walk_json(
    docs: _Docs,
    a_doc: JValue,
    b_doc: JValue,
    rel_tol: float,
    abs_tol: float,
    *,
    emit: bool = False,
    fmt: bool = False,
    listed: int = LISTED,
    spans: bool = True,
    bail: bool = False,
) -> _JsonResult:
    a, b = docs.a, docs.b
    a0, b0 = _skip(a, 0), _skip(b, 0)
    a1, b1 = len(a.rstrip(" \t\n\r")), len(b.rstrip(" \t\n\r"))
    style: _Style | None = None
    if emit and fmt:
        root_pre = None
        if isinstance(a_doc, (JObj, list)) and a_doc:
            root_pre = _Spans(a, a0, isinstance(a_doc, JObj)).pre(a, 0)
        style = _Style(a, root_pre)
    walk = _Walk(a, b, rel_tol, abs_tol, emit=emit, fmt=fmt, style=style)
    walk.listed = listed
    walk.spans = spans
    walk.bail = bail
    indent = "" if ("\n" in a[a0:a1] or "\r" in a[a0:a1]) else None
    with localcontext(jsonvalue.NUMBERS):
        pieces = walk.node(a_doc, b_doc, a0, a1, b0, b1, (), 0, indent)
    lead_tail_fmt = a[:a0] != b[:b0]
    ta, tb = a[a1:], b[b1:]
    final: str | None = None
    if ta != tb:
        final = _final_detail(ta, tb)
        if _eol().sub("", ta) != _eol().sub("", tb):
            lead_tail_fmt = True  # spaces after the document
    return _JsonResult(walk, docs, pieces, (a0, a1, b0, b1), lead_tail_fmt, final)


def _final_detail(ta: str, tb: str) -> str | None:
    na, nb = _breaks(ta), _breaks(tb)
    if na == nb:
        return None
    if not na:
        return "final newline added"
    if not nb:
        return "final newline removed"
    return f"final newlines {na} → {nb}"


# ------------------------------------------------------------------------------ results


def _value_text(v: object) -> str | None:
    if v is _NONE:
        return None
    if isinstance(v, JNum):
        return str(v)
    if isinstance(v, str):
        return _dumps_str(v)
    if isinstance(v, (JObj, list)):
        return _compact(v)
    return "true" if v is True else "false" if v is False else "null"


def _dumps_str(s: str) -> str:
    import json

    return json.dumps(s, ensure_ascii=False)


def _compact(v: JValue, budget: int = jsonvalue.SHOWN) -> str:
    """A container as one line of JSON, cut after about ``budget`` characters (…)."""
    out: list[str] = []
    size = 0
    work: list[tuple[object, bool]] = [(v, False)]
    while work and size <= budget:
        item, literal = work.pop()
        if literal:
            text = str(item)
        elif isinstance(item, JObj):
            if not item:
                text = "{}"
            else:
                seq: list[tuple[object, bool]] = [("{", True)]
                for k, (key, val) in enumerate(item):
                    seq.append(((", " if k else "") + _dumps_str(key) + ": ", True))
                    seq.append((val, False))
                seq.append(("}", True))
                work.extend(reversed(seq))
                continue
        elif isinstance(item, list):
            if not item:
                text = "[]"
            else:
                seq = [("[", True)]
                for k, val in enumerate(item):
                    if k:
                        seq.append((", ", True))
                    seq.append((val, False))
                seq.append(("]", True))
                work.extend(reversed(seq))
                continue
        else:
            text = _value_text(item) or ""
        out.append(text)
        size += len(text)
    shown = "".join(out)
    if work or len(shown) > budget:
        return shown[:budget] + "\u2026"
    return shown


def _shown(before: str | None, after: str | None) -> tuple[str | None, str | None]:
    if before is not None and after is not None:
        return jsonvalue.shorten_pair(before, after)
    return (
        None if before is None else jsonvalue.shorten(before),
        None if after is None else jsonvalue.shorten(after),
    )


class _Lines:
    """Line numbers of offsets in a text, counted once per listed change."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sep = "\r" if "\r" in text and eol_style(text) == "\r" else "\n"

    def at(self, offset: int) -> int | None:
        return self.text.count(self.sep, 0, offset) + 1 if offset >= 0 else None


def _real_changes(walk: _Walk, docs: _Docs) -> tuple[RealChange, ...]:
    lines_b, lines_a = _Lines(docs.b), _Lines(docs.a)
    out = []
    for f in sorted(walk.found, key=lambda f: (f.b_off, f.a_off)):  # in the head's order
        before, after = _shown(_value_text(f.before), _value_text(f.after))
        out.append(
            RealChange(
                f.kind,
                jsonvalue.json_path(f.path),
                before,
                after,
                lines_b.at(f.b_off),
                lines_a.at(f.a_off),
                None if f.source is None else jsonvalue.json_path(f.source),
            )
        )
    return tuple(out)


def _indent_name(text: str) -> str:
    found = _indented().search(text.replace("\r", ""))
    if found is None:
        return "one line" if "\n" not in text.strip() else "no indentation"
    unit = found.group(1)
    if set(unit) == {" "}:
        return f"{len(unit)} space{'s' if len(unit) != 1 else ''}"
    if set(unit) == {"\t"}:
        return "tabs" if len(unit) > 1 else "tab"
    return repr(unit)


def _places(paths: list[Path], n: int) -> tuple[tuple[str, ...], int]:
    return tuple(jsonvalue.json_path(p) for p in paths), n - len(paths)


def _noise(result: _JsonResult) -> tuple[NoiseFound, ...]:
    walk, docs = result.walk, result.docs
    out: list[NoiseFound] = []
    if docs.a_bom != docs.b_bom:
        out.append(NoiseFound("bom", f"byte order mark {'added' if docs.b_bom else 'removed'}"))
    if docs.eol is not None:
        a, b = (_eol_name(s) for s in docs.eol)
        out.append(NoiseFound("line_endings", f"line endings {a} → {b}"))
    if result.final_newline is not None:
        out.append(NoiseFound("trailing_newline", result.final_newline))
    if walk.n_fmt or result.lead_tail_fmt:
        ia, ib = _indent_name(docs.a), _indent_name(docs.b)
        detail = f"re-indented {ia} → {ib}" if ia != ib else "formatting (spacing, line breaks)"
        at, more = _places(walk.fmt_at, walk.n_fmt)
        out.append(NoiseFound("whitespace", detail, at, more))
    if walk.n_order:
        at, more = _places(walk.order_at, walk.n_order)
        shown = ", ".join(at) + (f" and {more} more" if more else "")
        out.append(NoiseFound("json_ordering", f"keys reordered in {shown}", at, more))
    if walk.n_number:
        at, more = _places(walk.number_at, walk.n_number)
        out.append(
            NoiseFound(
                "numeric_precision", "numbers within tolerance or written differently", at, more
            )
        )
    return tuple(out)


def analyse_json(
    a_data: bytes,
    b_data: bytes,
    a_doc: JValue,
    b_doc: JValue,
    *,
    rel_tol: float = 0.0,
    abs_tol: float = 0.0,
    keep_strip: bool = False,
    jsonc: "tuple[Scan, Scan] | None" = None,
) -> Changes | None:
    """The real changes and the noise of two JSON documents (their bytes and parsed values).

    ``jsonc``: both sides are JSONC, and these their scans (:func:`phase2_git.core.jsonc.scan`).
    The documents are walked with their comments and trailing commas blanked (every other
    character, and so every line, where it was), so a re-indented ``tsconfig.json`` with one
    value changed lists that value by its path, and the re-indent as noise, instead of every
    line; a comment added, removed or edited is a real change of its own (path None, its
    lines), as its classification says. Never stripped: JSONC is not rewritten.

    ``keep_strip``: the caller is about to strip this pair (``resolve --yes``, ``check
    --fix``). The walk that reads the text then emits the stripped head as it goes, and
    :func:`strip_json`, asked next for exactly these bytes, returns it without walking the
    documents again (:class:`_KeptStrip`).

    None only if the sides' text cannot be walked again (cannot happen for documents that
    :func:`jsonvalue.parse` accepted; kept so that a diff never fails on an artifact)."""
    if jsonc is not None:
        a_scan, b_scan = jsonc
        values = analyse_json(
            _blanked(a_data, a_scan),
            _blanked(b_data, b_scan),
            a_doc,
            b_doc,
            rel_tol=rel_tol,
            abs_tol=abs_tol,
        )
        return _with_comments(values, a_scan, b_scan)
    if keep_strip:
        _KEPT.clear()
    try:
        docs = _texts(a_data, b_data)
        # the text is walked (spans: formatting noise, every change's line) only where the
        # formatting may differ; a clean real change costs a walk of the parsed values
        # (line endings are told from the bytes, but a CRLF head's lines are found in its text)
        spans = docs.eol is not None or _style_differs(docs.a, docs.b)
        try:
            # without its text, the walk stops at the first reordered key or rewritten
            # number: the whole of it was thrown away then (a 19 MB file with every record's
            # keys reordered walked its 100,000 records twice)
            emit = keep_strip and spans
            result = _walk_json(
                docs, a_doc, b_doc, rel_tol, abs_tol, emit=emit, spans=spans, bail=not spans
            )
        except _NeedsText:
            # a mixed file after all: walked again with its text, for every change's line
            spans, emit = True, keep_strip
            result = _walk_json(docs, a_doc, b_doc, rel_tol, abs_tol, emit=emit)
    except (ValueError, IndexError, StopIteration, RecursionError, UnicodeDecodeError):
        return None
    walk = result.walk
    real = _real_changes(walk, result.docs)
    if not spans and walk.n_real == 1:
        # one change and the same formatting: the texts first differ at it
        at = jsonvalue.common_prefix(docs.a, docs.b)
        line = docs.b.count("\n", 0, at) + 1
        real = (real[0]._replace(line=line, base_line=docs.a.count("\n", 0, at) + 1),)
    found = Changes(real, walk.n_real - len(walk.found), _noise(result))
    if emit and found.mixed:  # only a mixed file has a strip planned (policy.first_step)
        # emitting the pieces changed nothing the walk found: this was strip_json's own first
        # walk, finished here as strip_json finishes it (a failure leaves strip_json to fail)
        try:
            stripped = _finish_strip(a_data, docs, a_doc, b_doc, result, rel_tol, abs_tol)
        except (ValueError, IndexError, StopIteration, RecursionError):  # pragma: no cover
            return found
        _KEPT.keep(a_data, b_data, rel_tol, abs_tol, stripped)
    return found


def _with_comments(values: Changes | None, a: "Scan", b: "Scan") -> Changes | None:
    """The changes of two JSONC documents walked with their comments blanked, and the
    comments that differ, in the order of the lines."""
    notes = _comment_changes(a, b)
    if values is None or not notes:
        return values
    real = sorted(
        (*values.real, *notes),
        key=lambda c: c.line if c.line is not None else c.base_line or 0,
    )
    return Changes(tuple(real[:LISTED]), values.more + max(0, len(real) - LISTED), values.noise)


def _blanked(data: bytes, found: "Scan") -> bytes:
    """A JSONC file's bytes with its comments and trailing commas blanked (its BOM kept)."""
    text = found.text.encode("utf-8", "surrogatepass")
    return jsonvalue.UTF8_BOM + text if data.startswith(jsonvalue.UTF8_BOM) else text


def _comment_changes(a: "Scan", b: "Scan") -> list[RealChange]:
    """The comments of two JSONC texts that differ, in order: edited, added or removed (the
    lists aligned as lines of text are, :func:`_opcodes`)."""
    if a.comments == b.comments:
        return []
    lines_a, lines_b = _Lines(a.text), _Lines(b.text)
    ca, cb = a.comments, b.comments
    out: list[RealChange] = []
    for op, i1, i2, j1, j2 in _opcodes(list(ca), list(cb)):
        if op == "equal":
            continue
        k = min(i2 - i1, j2 - j1) if op == "replace" else 0
        for d in range(k):
            i, j = i1 + d, j1 + d
            if ca[i] != cb[j]:
                x, y = _shown(ca[i], cb[j])
                at_b, at_a = lines_b.at(b.comment_at[j]), lines_a.at(a.comment_at[i])
                out.append(RealChange("changed", None, x, y, at_b, at_a))
        for i in range(i1 + k, i2):
            shown, _ = _shown(ca[i], None)
            out.append(RealChange("removed", None, shown, None, None, lines_a.at(a.comment_at[i])))
        for j in range(j1 + k, j2):
            _, shown = _shown(None, cb[j])
            out.append(RealChange("added", None, None, shown, lines_b.at(b.comment_at[j]), None))
    return out


# How a text is written, from a few C-speed probes: its indentation unit, its line endings,
# the space after a colon and a comma (or none), escapes, ASCII-only. A serializer's switch
# (indent width or tabs, compact or pretty, separators, CRLF, ensure_ascii) changes it,
# members added or removed do not. Where it is the same on both sides, a content mismatch is
# compared without its text: a reformatting confined to part of a file (one object
# re-indented by hand) is then not told apart from the real change around it, and shows as
# part of a clean real change for review as a whole.
_unit = lazy_pattern(r"\n([ \t]+)")


def _style_print(text: str) -> tuple[object, ...]:
    unit = _unit().search(text)
    return (
        unit.group(1) if unit is not None else None,
        "\n" in text,
        _tight(text),
        '" :' in text,
        ", " in text,
        "\\u" in text,
        text.isascii(),
    )


_LONGEST = 3  # the longest string _style_print counts
# below this many characters of the two texts together, the probes are cheaper run whole
_WINDOWED_FROM = 1 << 13


def _tight(text: str, end: int | None = None) -> bool:
    """A colon with no space after it: more ``":`` than ``": ``. ``end``: only the ``":``
    that end before it count (a window of a text, whose next character is not in it)."""
    return text.count('":', 0, end if end is not None else len(text)) != text.count('": ')


def _style_differs(a: str, b: str) -> bool:
    """``_style_print(a) != _style_print(b)``, without scanning what two large texts share.

    A regenerated file with a real change is mostly its base: the texts agree up to some
    point and from some point on. _style_print counts strings that cannot overlap themselves,
    so a text's count is the count in what both share plus the count in its own window
    between those points (widened past them by the longest string's length, where one may
    straddle them; a ``":`` counted only where the character after it is in the window).
    A probe found in both windows or in neither is therefore in both texts or in neither;
    one found in a single window is run on both whole texts (``in`` stops at the first it
    finds). Texts that share little cost what the probes cost whole. (On
    mdn/browser-compat-data's files the probes were a seventh of a worker's time: five scans
    of every side.)"""
    if len(a) + len(b) < _WINDOWED_FROM:
        return _style_print(a) != _style_print(b)
    ua, ub = _unit().search(a), _unit().search(b)
    if (ua.group(1) if ua else None) != (ub.group(1) if ub else None):
        return True
    if ("\n" in a) != ("\n" in b) or a.isascii() != b.isascii():
        return True
    p = jsonvalue.common_prefix(a, b)
    q = jsonvalue.common_suffix(a, b, min(len(a), len(b)) - p)
    lo = max(0, p - _LONGEST)
    cut = q - _LONGEST  # characters after each window: the same, at each text's end
    wa = a[lo : len(a) - max(0, cut)]
    wb = b[lo : len(b) - max(0, cut)]
    end_a, end_b = (len(wa) - 1, len(wb) - 1) if cut > 0 else (None, None)
    if _tight(wa, end_a) != _tight(wb, end_b) and _tight(a) != _tight(b):
        return True
    for probe in ('" :', ", ", "\\u"):
        if (probe in wa) != (probe in wb) and (probe in a) != (probe in b):
            return True
    return False


class StripError(ValueError):
    """The sides cannot be stripped (not JSON, not UTF-8)."""


def strip_json(
    a_data: bytes, b_data: bytes, *, rel_tol: float = 0.0, abs_tol: float = 0.0
) -> bytes:
    """The head ``b_data`` with its noise replaced by the base ``a_data``'s bytes.

    Contract (property-tested, tests/test_mixed_props.py):

    * the result is the head's document: canonical JSON equal to the head, numbers within
      ``rel_tol``/``abs_tol`` (a real change is never lost);
    * it carries none of the head's noise: the base's BOM, line endings, final newline,
      indentation, spacing and string escapes wherever the value is the base's, the base's
      key order for keys on both sides (a new key after the key the head put before it), the
      base's number text where the head's number is within tolerance;
    * idempotent: ``strip_json(a, strip_json(a, b)) == strip_json(a, b)``;
    * a head without noise comes back byte for byte, a head that is only noise comes back as
      the base: ``strip_json(a, b) == a`` exactly when ``b`` is ``a``'s document.

    Values only the head has are written with the head's bytes when its formatting agrees
    with the base's, else as the base writes (its indentation, separators, escapes).
    """
    kept = _KEPT.take(a_data, b_data, rel_tol, abs_tol)
    if kept is not None:
        return kept  # the analysis of this very pair walked it already (analyse_json)
    try:
        a_doc, b_doc = jsonvalue.parse(a_data), jsonvalue.parse(b_data)
        docs = _texts(a_data, b_data)
    except (jsonvalue.JsonInvalid, UnicodeDecodeError) as exc:
        raise StripError(f"not JSON on both sides: {exc}") from None
    try:
        result = _walk_json(docs, a_doc, b_doc, rel_tol, abs_tol, emit=True)
        return _finish_strip(a_data, docs, a_doc, b_doc, result, rel_tol, abs_tol)
    except (ValueError, IndexError, StopIteration, RecursionError) as exc:  # pragma: no cover
        raise StripError(f"cannot walk the documents: {exc}") from None


def _finish_strip(
    a_data: bytes,
    docs: _Docs,
    a_doc: JValue,
    b_doc: JValue,
    result: _JsonResult,
    rel_tol: float,
    abs_tol: float,
) -> bytes:
    """The stripped head from an emitting walk's ``result``.

    That one walk emits the result as if the head were written as the base is; whether it is
    (fmt) is known only at the end of a walk, and matters only where a value only the head
    has, or an emptied container, is written: then, and only if the head's formatting
    differs, the walk runs again knowing it (a first walk just to learn it took half of
    stripping a 19 MB file with its records' keys reordered)."""
    if result.pieces is None:
        return a_data  # only noise: the base itself
    if result.walk.fmt_read and (result.walk.n_fmt or result.lead_tail_fmt):
        result = _walk_json(docs, a_doc, b_doc, rel_tol, abs_tol, emit=True, fmt=True)
    assert result.pieces is not None
    a0, a1, _, _ = result.spans
    text = docs.a[:a0] + "".join(result.pieces) + docs.a[a1:]
    return (jsonvalue.UTF8_BOM if docs.a_bom else b"") + text.encode("utf-8", "surrogatepass")


class _KeptStrip:
    """The stripped head of the last pair :func:`analyse_json` walked with ``keep_strip``,
    until :func:`strip_json` takes it for that very pair (same bytes, same tolerance).

    ``resolve --yes`` and ``check --fix`` strip a mixed file right after its analysis, in the
    same process (a worker, or a serial run): the analysis's walk of the text, with its
    pieces emitted, is strip_json's own walk, so the file is walked once where it was walked
    twice (a 19 MB file with every record's keys reordered: 7.0 s, of which 2.9 s were the
    second walk and its parse). One pair only: whatever the caller does not take is dropped
    by the next analysis that keeps its strip. The bytes are compared whole (memcmp: a few
    milliseconds for 19 MB), never by identity."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held: tuple[bytes, bytes, float, float, bytes] | None = None

    def keep(self, a: bytes, b: bytes, rel_tol: float, abs_tol: float, out: bytes) -> None:
        self._held = (a, b, rel_tol, abs_tol, out)

    def clear(self) -> None:
        self._held = None

    def take(self, a: bytes, b: bytes, rel_tol: float, abs_tol: float) -> bytes | None:
        held = self._held
        if held is None or held[2:4] != (rel_tol, abs_tol) or held[0] != a or held[1] != b:
            return None
        self._held = None
        return held[4]


_KEPT = _KeptStrip()


def forget_kept_strip() -> None:
    """Drop the strip :func:`analyse_json` kept, if any: its caller will not strip that pair
    (a plan the policy does not call safe), and its bytes need not outlive it."""
    _KEPT.clear()


# ------------------------------------------------------------------------------ text


class _TextLines:
    # a plain class, not a NamedTuple: never used as a tuple, and ~10x cheaper to define
    __slots__ = ("eols", "lines", "normal", "tail")

    def __init__(self, lines: list[str], eols: list[str], tail: str, normal: list[str]) -> None:
        self.lines = lines  # body lines without their line break
        self.eols = eols  # the break after each line ("" after the last)
        self.tail = tail  # the line breaks that end the text
        self.normal = normal  # each line with its noise normalised


def _split(text: str, rules: WhitespaceRules) -> _TextLines:
    """The lines of ``text``, each also with the whitespace ``rules`` call noise normalised.

    Lines are matched one to one: where every whitespace is noise (``tokens_only``), a line
    is its tokens, and lines joined, split or blank are left to the whole file's token
    comparison; JSON that does not parse keeps each line's whitespace (it may be inside a
    string)."""
    body = text.rstrip("\r\n")
    tail = text[len(body) :]
    parts = _eol().split(body) if body else []
    eols = [*_eol().findall(body), ""] if body else []
    if not parts:
        return _TextLines([], [], tail, [])
    if rules.outside_strings:
        normal = parts
    elif rules.tokens_only:
        normal = [" ".join(p.split()) for p in parts]
    elif rules.trailing or rules.indent or rules.inner:
        normal = whitespace.normal_text("\n".join(parts), rules).split("\n")
        normal += [""] * (len(parts) - len(normal))  # whitespace-only last lines went
    else:
        normal = parts
    return _TextLines(parts, eols, tail, normal)


Op = tuple[str, int, int, int, int]


def _lines_opcodes(la: _TextLines, lb: _TextLines) -> list[Op]:
    """Opcodes of two texts' lines: ``equal`` blocks hold lines that are equal once the noise
    is normalised. Lines equal byte for byte are aligned first, and only the rest by their
    normal forms: a line the head kept as it was is never paired with another that merely
    looks alike (no churn on an edit-only head). Two texts whose lines are all equal once
    normalised are one equal block: aligned byte for byte first, ``:`` and ``  :`` against
    ``  :`` and ``    :`` paired the two ``  :`` and called the other two a removal and an
    addition, and a head that was only noise was not stripped back to the base.

    A strip's output holds more lines equal to the base's than its head did, so it may align
    otherwise: :func:`strip_text` checks that it strips to itself, and where it does not,
    strips by :func:`_normal_opcodes`, which cannot differ so."""
    if la.normal == lb.normal:
        return [("equal", 0, len(la.lines), 0, len(lb.lines))]
    out: list[Op] = []
    for tag, i1, i2, j1, j2 in _anchored_opcodes(la.lines, lb.lines):
        if tag == "equal" or la.normal is la.lines:
            out.append((tag, i1, i2, j1, j2))
            continue
        for t, x1, x2, y1, y2 in _anchored_opcodes(la.normal[i1:i2], lb.normal[j1:j2]):
            out.append((t, x1 + i1, x2 + i1, y1 + j1, y2 + j1))
    return out


def _normal_opcodes(la: _TextLines, lb: _TextLines) -> list[Op]:
    """Opcodes of two texts' lines aligned by their normal forms alone, so that a strip's
    output (whose normal forms are the head's) aligns as the head did; where a run of lines
    that look alike lets a block of changes sit in more than one place, it sits where the
    most lines pair with one equal byte for byte (:func:`_slide`)."""
    if la.normal == lb.normal:
        return [("equal", 0, len(la.lines), 0, len(lb.lines))]
    ops = _anchored_opcodes(la.normal, lb.normal)
    if la.normal is la.lines:
        return ops
    return _slide(ops, la, lb)


def _anchored_opcodes(na: list[str], nb: list[str]) -> list[Op]:
    """The opcodes of two texts' lines that list the fewer changes of two alignments:
    difflib's on the whole middle (:func:`_opcodes`, where :data:`_PLAIN_COST` calls it
    cheap), and one anchored on the lines found once on each side in the same order
    (:func:`_anchors`), with :func:`_opcodes` in the gaps between them. difflib takes the
    longest run of equal lines first wherever it is: a section moved down past an edited
    block kept the section and called the whole block removed and added again
    (mledoze/countries' README: 121 changes where there are 40), and a middle past its window
    was one block of changes (20,000 lines with 40 edits: 19,501). Anchors alone lose a line
    moved past lines that repeat (a title moved below three ``-`` lines: 6 changes, not 2).
    Both depend on the lines given alone (aligning normal forms, a strip's output aligns as
    its head did)."""
    n, m = len(na), len(nb)
    p, s = common_ends(na, nb)
    mid_a, mid_b = na[p : n - s], nb[p : m - s]
    if len(mid_a) <= 1 or len(mid_b) <= 1:
        return _opcodes(na, nb)  # at most one pair to find: both alignments find it
    anchors = _anchors(mid_a, mid_b)
    if not anchors:
        return _opcodes(na, nb)
    # the plain alignment too where it is cheap (a middle of a few hundred lines, where a
    # line moved past repeated lines is met); past that, difflib may cost up to the product
    # of the middles, and each call on a 3,000-line middle of alternating edits took 0.35 s
    plain = _opcodes(na, nb) if len(mid_a) * len(mid_b) <= _PLAIN_COST else None
    gaps = []  # (i0, i, j0, j): the lines before each anchor, and after the last
    i0 = j0 = p
    for i, j in [*((i + p, j + p) for i, j in anchors), (n - s, m - s)]:
        if i > i0 or j > j0:
            gaps.append((i0, i, j0, j))
        i0, j0 = i + 1, j + 1
    # difflib in a gap costs up to the product of its sides: the gaps share one window's
    # worth (its worst case, as one middle had it), the smallest first; past it, a gap pairs
    # its lines index to index (:func:`_by_index`)
    budget = _TEXT_WINDOW * _TEXT_WINDOW
    windows: dict[int, int] = {}
    costs = {g: _gap_cost(na, nb, gap) for g, gap in enumerate(gaps) if not _narrow(gap)}
    for g in sorted(costs, key=costs.__getitem__):
        windows[g] = _TEXT_WINDOW if costs[g] <= budget else 0
        budget -= costs[g] if costs[g] <= budget else 0
    anchored: list[Op] = []
    run_i = run_j = 0  # where the equal run since the last block that is not equal starts
    for g, (i0, i, j0, j) in enumerate(gaps):
        if _narrow(gaps[g]):  # a line or none each side (most gaps): no alignment to search
            if i - i0 == j - j0 == 1 and na[i0] == nb[j0]:
                continue
            gap_ops: list[Op] = [(_tag(i0, i, j0, j), 0, i - i0, 0, j - j0)]
        else:
            gap_ops = _opcodes(na[i0:i], nb[j0:j], windows[g])
        for t, x1, x2, y1, y2 in gap_ops:
            if t == "equal":
                continue  # what lies between the other blocks is equal, one to one
            x1, x2, y1, y2 = x1 + i0, x2 + i0, y1 + j0, y2 + j0
            if x1 > run_i:
                anchored.append(("equal", run_i, x1, run_j, y1))
            anchored.append((t, x1, x2, y1, y2))
            run_i, run_j = x2, y2
    if n > run_i:
        anchored.append(("equal", run_i, n, run_j, m))
    if plain is not None and _listed(plain) <= _listed(anchored):
        return plain
    return anchored


def _narrow(gap: tuple[int, int, int, int]) -> bool:
    i0, i, j0, j = gap
    return i - i0 <= 1 and j - j0 <= 1


def _gap_cost(na: list[str], nb: list[str], gap: tuple[int, int, int, int]) -> int:
    """What difflib may cost on a gap: the product of its sides once their common ends are
    set aside (what :func:`_opcodes` gives it)."""
    i0, i, j0, j = gap
    a, b = na[i0:i], nb[j0:j]
    p, s = common_ends(a, b)
    return (len(a) - p - s) * (len(b) - p - s)


def _listed(ops: list[Op]) -> int:
    """How many line changes ``ops`` list (a block of changes: its longer side)."""
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")


def _slide(ops: list[Op], la: _TextLines, lb: _TextLines) -> list[Op]:
    """``ops`` with each added or removed block moved, within the lines that look alike
    around it, to where the most of the pairs it moves are equal byte for byte (in place
    on a tie, else the nearest place, up before down). A block of changes longer on one
    side moves the lines it has over, from its start up or from its end down: a line
    removed beside an edit could pair the edit's neighbour with one that merely looks
    like it.

    An equal run between two such blocks is shared between them, half each, so that no
    pair depends on two choices: what a block can do depends on the normal forms alone, and
    the place it takes pairs every line it can move exactly when that is possible. A strip's
    output pairs every line exactly where the head was placed, so its own slide keeps
    exact pairs and the strip gives it back unchanged."""

    def movable(k: int) -> bool:  # lines over on one side
        return (
            0 <= k < len(ops)
            and ops[k][0] != "equal"
            and ops[k][2] - ops[k][1] != ops[k][4] - ops[k][3]
        )

    blocks: list[Op] = []  # the blocks that are not equal, where they end up
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal":
            continue
        if not movable(k):
            blocks.append((tag, i1, i2, j1, j2))
            continue
        up = down = 0
        if k and ops[k - 1][0] == "equal":
            run = ops[k - 1][2] - ops[k - 1][1]
            up = run - run // 2 if movable(k - 2) else run
        if k + 1 < len(ops) and ops[k + 1][0] == "equal":
            run = ops[k + 1][2] - ops[k + 1][1]
            down = run // 2 if movable(k + 2) else run
        # the side with lines over (x: its lines, start..end the block) and the other (y)
        removed = i2 - i1 > j2 - j1
        if removed:
            xs, xn, ys, start, end, y_start, y_end = la.lines, la.normal, lb.lines, i1, i2, j1, j2
        else:
            xs, xn, ys, start, end, y_start, y_end = lb.lines, lb.normal, la.lines, j1, j2, i1, i2
        d = (end - start) - (y_end - y_start)  # the lines over
        best, gain = 0, 0
        # up: the lines over taken from the block's start, [lo, hi), moved up by t; the other
        # side's line at - t pairs with hi - t, not lo - t
        lo, hi, at = start, start + d, y_start
        delta = 0
        t = 1
        while t <= up and xn[lo - t] == xn[hi - t]:
            y = ys[at - t]
            delta += (y == xs[hi - t]) - (y == xs[lo - t])
            if delta > gain:
                best, gain = -t, delta
            t += 1
        # down: taken from its end and moved down by t; the line at + t - 1 pairs with lo + t - 1
        lo, hi, at = end - d, end, y_end
        delta = 0
        t = 1
        while t <= down and xn[lo + t - 1] == xn[hi + t - 1]:
            y = ys[at + t - 1]
            delta += (y == xs[lo + t - 1]) - (y == xs[hi + t - 1])
            if delta > gain or (delta == gain and gain > 0 and best < 0 and t < -best):
                best, gain = t, delta
            t += 1
        if not best:
            blocks.append((tag, i1, i2, j1, j2))
            continue
        if best < 0:  # the lines over first, then what pairs one to one
            t = -best
            over = (start - t, start - t + d, y_start - t, y_start - t)
            rest = (start + d, end, y_start, y_end)
        else:
            t = best
            rest = (start, end - d, y_start, y_end)
            over = (end - d + t, end + t, y_end + t, y_end + t)
        for x1, x2, y1, y2 in (over, rest) if best < 0 else (rest, over):
            if x1 == x2 and y1 == y2:
                continue
            if removed:
                blocks.append((_tag(x1, x2, y1, y2), x1, x2, y1, y2))
            else:
                blocks.append((_tag(y1, y2, x1, x2), y1, y2, x1, x2))
    # the lines between the blocks pair one to one
    out: list[Op] = []
    i = j = 0
    for tag, i1, i2, j1, j2 in [*blocks, ("equal", len(la.lines), 0, len(lb.lines), 0)]:
        if i1 > i:
            out.append(("equal", i, i1, j, j1))
        if tag != "equal":
            out.append((tag, i1, i2, j1, j2))
        i, j = i2, j2
    return out


def _tag(i1: int, i2: int, j1: int, j2: int) -> str:
    return "delete" if j1 == j2 else "insert" if i1 == i2 else "replace"


def common_ends(a: list[str], b: list[str]) -> tuple[int, int]:
    """How many lines ``a`` and ``b`` share at their start, and then at their end (never
    counting a line twice): what every line diff trims before it compares the rest."""
    n, m = len(a), len(b)
    p = 0
    while p < n and p < m and a[p] == b[p]:
        p += 1
    s = 0
    while s < n - p and s < m - p and a[n - 1 - s] == b[m - 1 - s]:
        s += 1
    return p, s


def _opcodes(na: list[str], nb: list[str], window: int = _TEXT_WINDOW) -> list[Op]:
    """difflib's opcodes of ``na`` and ``nb`` once their common ends are set aside, where
    both middles hold at most ``window`` lines; past it, :func:`_by_index`."""
    n, m = len(na), len(nb)
    p, s = common_ends(na, nb)
    ops: list[Op] = []
    if p:
        ops.append(("equal", 0, p, 0, p))
    mid_a, mid_b = na[p : n - s], nb[p : m - s]
    if mid_a or mid_b:
        if mid_a and mid_b and len(mid_a) <= window and len(mid_b) <= window:
            import difflib

            sm = difflib.SequenceMatcher(None, mid_a, mid_b, autojunk=False)
            for tag, i1, i2, j1, j2 in sm.get_opcodes():
                ops.append((tag, i1 + p, i2 + p, j1 + p, j2 + p))
        else:
            ops += _by_index(mid_a, mid_b, p)
    if s:
        ops.append(("equal", n - s, n, m - s, m))
    return [op for op in ops if op[1] != op[2] or op[3] != op[4]]


def _by_index(a: list[str], b: list[str], at: int) -> list[Op]:
    """Opcodes pairing ``a`` and ``b`` (both starting at line ``at``) index to index, the
    lines one side has over at the end: linear, where difflib would cost too much. Equal
    pairs are equal blocks (one block of changes listed every line of a long middle)."""
    from itertools import groupby

    k = min(len(a), len(b))
    ops: list[Op] = []
    i = 0
    for same, run in groupby(a[x] == b[x] for x in range(k)):
        r = sum(1 for _ in run)
        ops.append(("equal" if same else "replace", at + i, at + i + r, at + i, at + i + r))
        i += r
    if len(a) > k or len(b) > k:
        ops.append(("replace", at + k, at + len(a), at + k, at + len(b)))
    return ops


def _text_walk(
    a_data: bytes, b_data: bytes, rules: WhitespaceRules, *, exact: bool = True
) -> tuple[_TextLines, _TextLines, list[Op], str, str]:
    """Both texts decoded, split and aligned: exact lines first (:func:`_lines_opcodes`, what
    the analysis reports), or (``exact=False``) by normal forms alone (:func:`_normal_opcodes`,
    the strip's fallback)."""
    a = jsonvalue.decode_text(a_data)
    b = jsonvalue.decode_text(b_data)
    la, lb = _split(a, rules), _split(b, rules)
    return la, lb, (_lines_opcodes if exact else _normal_opcodes)(la, lb), a, b


def analyse_text(a_data: bytes, b_data: bytes, rules: WhitespaceRules) -> Changes | None:
    """The changed lines of two texts once the whitespace ``rules`` call noise, line endings,
    a BOM and the final newlines are set aside, and which of those noises are present. None
    when a side is not UTF-8."""
    try:
        la, lb, ops, a, b = _text_walk(a_data, b_data, rules)
    except UnicodeDecodeError:
        return None
    found: list[RealChange] = []
    n_real = 0
    ws_at: list[str] = []
    n_ws = 0

    def add(kind: ChangeKind, i: int | None, j: int | None, at_a: int, at_b: int) -> None:
        nonlocal n_real
        n_real += 1
        if len(found) >= LISTED:
            return
        before = la.lines[i] if i is not None else None
        after = lb.lines[j] if j is not None else None
        x, y = _shown(before, after)
        found.append(RealChange(kind, None, x, y, at_b + 1, at_a + 1))

    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            if la.lines[i1:i2] != lb.lines[j1:j2]:
                for d in range(i2 - i1):
                    if la.lines[i1 + d] != lb.lines[j1 + d]:
                        n_ws += 1
                        if len(ws_at) < PLACES:
                            ws_at.append(f"line {j1 + d + 1}")
            continue
        k = min(i2 - i1, j2 - j1)
        for d in range(k):
            add("changed", i1 + d, j1 + d, i1 + d, j1 + d)
        for i in range(i1 + k, i2):
            add("removed", i, None, i, j1 + k)
        for j in range(j1 + k, j2):
            add("added", None, j, i1 + k, j)
    noise: list[NoiseFound] = []
    a_bom, b_bom = a_data.startswith(jsonvalue.UTF8_BOM), b_data.startswith(jsonvalue.UTF8_BOM)
    if a_bom != b_bom:
        noise.append(NoiseFound("bom", f"byte order mark {'added' if b_bom else 'removed'}"))
    eol = _eol_noise(a, b)
    if eol is not None:
        x, y = (_eol_name(s) for s in eol)
        noise.append(NoiseFound("line_endings", f"line endings {x} → {y}"))
    final = _final_detail(la.tail, lb.tail)
    if final is not None:
        noise.append(NoiseFound("trailing_newline", final))
    if n_ws:
        fmt = rules.format or "this file"
        noise.append(
            NoiseFound(
                "whitespace", f"whitespace that is noise in {fmt}", tuple(ws_at), n_ws - len(ws_at)
            )
        )
    return Changes(tuple(found), n_real - len(found), tuple(noise))


def strip_text(a_data: bytes, b_data: bytes, rules: WhitespaceRules) -> bytes:
    """The head ``b_data`` with every line that equals a base line, once the whitespace
    ``rules`` call noise is set aside, taken from the base ``a_data`` byte for byte; the
    base's BOM, line endings and final newlines.

    Contract (property-tested): the result equals the head under ``rules`` (the same
    :func:`whitespace.key` as the head's, so every real line change is kept); idempotent; a
    head without noise comes back byte for byte; a head that is only noise comes back as the
    base. Lines are matched one to one: lines joined, split, or blank lines added are real
    here even where ``rules`` would call them noise (the whole file's classification does).

    Idempotent by construction: a strip aligned as :func:`analyse_text` aligns (exact lines
    first) is repeated on its own output until that comes back unchanged, which it nearly
    always does at once. Where it does not within a few rounds, the head is stripped by the
    alignment of normal forms (:func:`_normal_opcodes`, which strips its own output to
    itself), and that output settled the same way. Either way what is returned strips to
    itself: a settled output settles at once, and an unsettled one takes the same path again
    (the rounds are the same, and the normal-form strip of that output is that output).
    """
    try:
        first = _strip_once(a_data, b_data, rules, exact=True)
    except UnicodeDecodeError:
        raise StripError("not UTF-8: lines cannot be compared") from None
    settled = _settle(a_data, b_data, first, rules)
    if settled is not None:
        return settled
    out = _strip_once(a_data, b_data, rules, exact=False)
    again = _settle(a_data, out, _strip_once(a_data, out, rules, exact=True), rules)
    return out if again is None else again


_SETTLE_ROUNDS = 3


def _settle(a_data: bytes, head: bytes, out: bytes, rules: WhitespaceRules) -> bytes | None:
    """The first of ``head`` and its repeated strips (``out`` the first of them) that strips
    to itself, within :data:`_SETTLE_ROUNDS`; None when none does."""
    for _ in range(_SETTLE_ROUNDS):
        if out == head:
            return head
        head, out = out, _strip_once(a_data, out, rules, exact=True)
    return None


def _strip_once(a_data: bytes, b_data: bytes, rules: WhitespaceRules, *, exact: bool) -> bytes:
    la, lb, ops, a, b = _text_walk(a_data, b_data, rules, exact=exact)
    if all(tag == "equal" for tag, *_ in ops) and len(la.lines) == len(lb.lines):
        return a_data  # only noise: the base itself
    eol_a = _dominant_eol(a)
    convert = _eol_noise(a, b) is not None and bool(eol_a)
    typical = eol_a or _dominant_eol(b) or "\n"
    lines: list[str] = []
    eols: list[str] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            lines.extend(la.lines[i1:i2])
            eols.extend(la.eols[i1:i2])
        else:
            lines.extend(lb.lines[j1:j2])
            eols.extend(eol_a if convert else e for e in lb.eols[j1:j2])
    if lines and not lines[-1] and lb.lines:
        # an empty base line paired with the head's last (which holds blanks: a text's last
        # line is never empty) would end the text with a line break, read back as its end
        lines[-1] = lb.lines[-1]
    out: list[str] = []
    last = ""  # the line break written last
    for k, line in enumerate(lines):
        out.append(line)
        if k < len(lines) - 1:
            eol = eols[k] or typical
            if eol == "\r" and not lines[k + 1] and (eols[k + 1] or typical).startswith("\n"):
                # a base's lone CR before an empty line that ends in LF reads back as one
                # CRLF: the empty line, a real change, would be lost
                eol = "\n" if typical == "\r" else typical
            if last == "\r" and not line and eol == "\n":
                # the same seen from the empty line, whose break the line above wrote
                # as a lone CR: a CRLF joins neither the break before it nor the one after
                eol = "\r\n"
            out.append(eol)
            last = eol
    tail = la.tail
    if lines and not tail and lb.tail and not la.lines:
        tail = lb.tail  # pragma: no cover - an empty base has no final newline to keep
    text = "".join(out) + tail
    bom = a_data.startswith(jsonvalue.UTF8_BOM)
    data = text.encode("utf-8", "surrogatepass")
    if not bom and data.startswith(jsonvalue.UTF8_BOM):  # pragma: no cover - U+FEFF first
        return data
    return (jsonvalue.UTF8_BOM if bom else b"") + data


# ------------------------------------------------------------------------------ showing


def change_line(entry: Mapping[str, Any]) -> str:
    """One real change of a report (``changes.real[i]`` of the JSON form, already
    sanitised) as a line: ``$.a.b: 1 → 2``, ``+ $.c: {…}``, ``- $.d: 3``, ``$.e[4]: moved
    from $.e[1]``; text: ``line 12: old → new``, ``+ line 13: new``, ``- line 9: old``."""
    kind = entry["kind"]
    where = entry["path"] if entry["path"] is not None else None
    if where is None:
        line = entry["line"] if kind != "removed" else entry["base_line"]
        where = f"line {line}"
    before, after = entry["before"], entry["after"]
    if kind == "added":
        return f"+ {where}: {after}"
    if kind == "removed":
        return f"- {where}: {before}"
    if kind == "moved":
        return f"{where}: moved from {entry.get('from')}"
    return f"{where}: {before} → {after}"


def change_lines(changes: Mapping[str, Any], limit: int = LISTED) -> list[str]:
    """The first ``limit`` real changes as lines, and ``… N more`` for the rest."""
    real = changes["real"]
    out = [change_line(c) for c in real[:limit]]
    rest = len(real) - len(out) + int(changes["more"])
    if rest:
        out.append(f"… {rest} more change{'s' if rest != 1 else ''}")
    return out


def noise_line(changes: Mapping[str, Any]) -> str:
    """``noise beside it: re-indented 2 spaces → 4 spaces; line endings LF → CRLF`` (empty
    when there is none)."""
    details = [n["detail"] for n in changes["noise"]]
    return f"noise beside it: {'; '.join(details)}" if details else ""


def is_mixed(m: Mapping[str, Any]) -> bool:
    """A report's mismatch (JSON form) carries a real change and noise beside it."""
    c = m.get("changes")
    return c is not None and bool(c["noise"]) and bool(c["real"] or c["more"])


# ------------------------------------------------------------------------------ grouping

_EXACT_LIMIT = 10_000  # real changes compared exactly for grouping; past this, alone


class KindOfChange(NamedTuple):
    """What happened to an artifact, for grouping a review: ``label`` for people (``re-indented
    2 spaces → 4 spaces``, ``line endings LF → CRLF``, ``keys reordered`` and the first real
    changes), ``key`` equal for two artifacts exactly when the same thing happened to them:
    the same kinds of noise, and the same real changes at the same paths with the same values
    (compared whole, never as cut for display; text: the same lines changed, wherever)."""

    label: str
    key: str


def _noise_kind(n: NoiseFound) -> str:
    # what happened, not where: 51 files re-indented alike are one group
    if n.type == "json_ordering":
        return "keys reordered"
    if n.type == "numeric_precision":
        return "numbers within tolerance"
    if n.type == "whitespace" and n.detail.startswith("whitespace that is noise in"):
        return "whitespace that the format ignores"
    return n.detail


def _exact(v: object) -> str:
    """A value written so that two values are equal exactly when they are (a number and a
    string of the same digits differ; raises RecursionError when too deep)."""
    if v is _NONE:
        return "-"
    if isinstance(v, JNum):
        return "n" + str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, JObj):
        return "{" + ",".join(json.dumps(k) + ":" + _exact(x) for k, x in v) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_exact(x) for x in v) + "]"
    return "true" if v is True else "false" if v is False else "null"


def kind_of_change(
    before: bytes,
    after: bytes,
    artifact_type: str,
    rules: WhitespaceRules,
    *,
    rel_tol: float = 0.0,
    abs_tol: float = 0.0,
) -> KindOfChange | None:
    """The kind of change between two sides of a modified artifact (noise-only or mixed),
    or None when it cannot be told (not UTF-8, too many changes to compare): then the
    artifact is decided alone. Group by it together with the mismatch type and the plan."""
    from phase2_git.core.ids import short_hash

    parts: list[str] = []
    noise: tuple[NoiseFound, ...]
    shown: list[str] = []
    total = 0
    docs = None
    if artifact_type == "json":
        try:
            docs = jsonvalue.parse(before), jsonvalue.parse(after)
        except jsonvalue.JsonInvalid:
            docs = None
    try:
        if docs is not None:
            texts = _texts(before, after)
            result = _walk_json(texts, docs[0], docs[1], rel_tol, abs_tol, listed=_EXACT_LIMIT)
            walk = result.walk
            if walk.n_real > len(walk.found):
                return None
            noise = _noise(result)
            for f in sorted(walk.found, key=lambda f: (f.b_off, f.a_off)):
                src = "" if f.source is None else repr(f.source)
                parts.append(f"{f.kind}\0{f.path!r}\0{src}\0{_exact(f.before)}\0{_exact(f.after)}")
            total = walk.n_real
            shown = [change_line(c.to_json()) for c in _real_changes(walk, texts)[:3]]
        else:
            la, lb, ops, _, _ = _text_walk(before, after, rules)
            found = analyse_text(before, after, rules)
            if found is None:  # pragma: no cover - _text_walk already decoded both
                return None
            noise = found.noise
            for tag, i1, i2, j1, j2 in ops:
                if tag != "equal":
                    parts.append(f"{tag}\0" + "\n".join(la.lines[i1:i2]))
                    parts.append("\n".join(lb.lines[j1:j2]))
            total = found.total
            shown = [change_line(c.to_json()) for c in found.real[:3]]
    except (UnicodeDecodeError, RecursionError, ValueError):
        return None
    kinds = [_noise_kind(n) for n in noise]
    label = "; ".join(kinds)
    if total:
        more = f" (+{total - len(shown)} more)" if total > len(shown) else ""
        label = (label + " · " if label else "") + "; ".join(shown) + more
    key = short_hash("\0".join(kinds), "\1".join(parts), length=64)
    return KindOfChange(label or "no difference", key)
