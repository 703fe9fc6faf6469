"""JSON documents as phase2 compares them.

Python's ``json`` is permissive where an equivalence judge must not be, so parsing here is
deliberate about every corner the stdlib glosses over:

* numbers keep their source text (``JNum``): ``1`` and ``1.0`` compare equal as JSON numbers,
  but a rewrite never turns ``1.10`` into ``1.1``; comparison is exact (``Decimal``), so
  integers above 2**53 or 2**64 are neither rounded (as RFC 8785's IEEE-754 serialisation
  and orjson would) nor confused;
* ``true``/``false`` never equal ``1``/``0`` (Python's ``True == 1`` does);
* ``NaN``/``Infinity`` are not JSON (RFC 8259) and make the document invalid;
* duplicate keys are kept in order (``JObj`` is the list of pairs); a document with duplicate
  keys is only ever compared in order, never as a mapping, since which value wins is
  parser-defined;
* nesting deeper than the interpreter allows is an invalid document, not a crash; comparison
  walks iteratively so any parsed document can be compared.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, InvalidOperation, localcontext
from functools import partial
from typing import AnyStr, Union

from phase2_git.core.gcpause import paused_when_large
from phase2_git.core.values import Value

UTF8_BOM = b"\xef\xbb\xbf"


class JNum(str):
    """A JSON number, kept as its source text.

    Equal only to another number written the same way, never to a string: as a plain ``str``
    subclass, ``JNum("1") == "1"`` held, so every C-speed equality of two documents (tuples
    and lists compared element by element: :func:`deep_equal`, the analysis of mixed files,
    the three-way merge) took ``{"a": "1"}`` and ``{"a": 1}`` for the same document, and a
    string that became a number was noise with a safe plan that reverted it. The comparison
    below is a Python call per number where two documents differ in a subtree's text form
    (identical objects still compare without it); ``tests/test_compare_modes.py`` holds
    every equality to the walk's type rules."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JNum) and str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not (isinstance(other, JNum) and str.__eq__(self, other))

    __hash__ = str.__hash__  # equal numbers are equal strings: str's hash stays consistent

    def value(self) -> Decimal:
        return Decimal(self)

    @property
    def is_integer_literal(self) -> bool:
        # three `in` tests, not a generator over ".eE": asked of every number that differs
        return "." not in self and "e" not in self and "E" not in self


class JObj(tuple):  # type: ignore[type-arg]
    """A JSON object as the ordered tuple of its ``(key, value)`` pairs.

    The parser builds it directly (``object_pairs_hook=JObj``: a C call, no Python frame per
    object, which was a third of the parse); whether keys repeat is asked only where it
    matters (unordered comparisons, key sorting), and answered at C speed."""

    __slots__ = ()

    def keys_in_order(self) -> list[str]:
        return [k for k, _ in self]

    def has_duplicates(self) -> bool:
        return len(dict(self)) != len(self)


JValue = Union[  # noqa: UP007 - a recursive alias needs the runtime form
    JObj, list["JValue"], str, JNum, bool, None
]


# Number arithmetic runs in this context: the widest exponent range and no traps, so 1.5e999999999
# or 1e-999999999 neither raise (decimal.Overflow) nor underflow to 0 (which made a 6% change
# "within tolerance"); a literal beyond even this range becomes NaN and never compares equal.
NUMBERS = Context(prec=28, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[])


class JsonInvalid(ValueError):
    """The bytes are not a JSON document phase2 accepts."""


def _reject_constant(name: str) -> object:
    raise JsonInvalid(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(
    object_pairs_hook=JObj,
    parse_float=JNum,
    parse_int=JNum,
    parse_constant=_reject_constant,
)


def decode_text(data: bytes) -> str:
    """UTF-8 without a leading BOM; raises ``UnicodeDecodeError``."""
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    return data.decode("utf-8")


def parse(data: bytes) -> JValue:
    """Parse bytes as one JSON document, or raise :class:`JsonInvalid` with a short reason."""
    try:
        text = decode_text(data)
    except UnicodeDecodeError as exc:
        raise JsonInvalid(f"not UTF-8 (byte {exc.start})") from None
    return parse_text(text)


def parse_text(text: str) -> JValue:
    """:func:`parse` of text already decoded.

    The cyclic garbage collector is paused while the parser runs: a document is a tree of
    new containers (a JObj and its pair tuples per object, a list per array) with no cycle
    among them, and every collection the allocations set off walked the tree built so far
    again. Measured: a 92 KB document parsed 4x faster with the collector paused, a 19 MB
    one 5.7x (1.1 -> 0.19 s). A document of a few KB is parsed as it is (its collections are
    few and short): :data:`~phase2_git.core.gcpause.PAUSE_FROM`."""
    try:
        value: JValue = paused_when_large(len(text), _DECODER.decode, text)
    except JsonInvalid:
        raise
    except json.JSONDecodeError as exc:
        raise JsonInvalid(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise JsonInvalid("nested too deeply") from None
    return value


def looks_like_json(data: bytes) -> bool:
    """Cheap sniff: the first non-blank byte opens an object or an array."""
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    stripped = data[:4096].lstrip()
    return stripped[:1] in (b"{", b"[")


# A difference names numbers and keys, and a document can hold a 15 MB number or key: a detail
# shows at most about this many of their characters (its first and last ones, or the window
# around the first character that differs), and says how many it left out. The detail is
# copied into every method's verdict, the JSON report, JUnit and the review.
SHOWN = 64
WHERE_SHOWN = 512  # a JSON path: keys are cut to SHOWN each, and a deep path keeps its ends
_ELLIPSIS = "\u2026"
_PREFIX_CHUNK = 1 << 12


def _cut(n: int) -> str:
    return f"{_ELLIPSIS}[{n} chars]{_ELLIPSIS}"


def shorten(text: str, width: int = SHOWN) -> str:
    """``text`` itself when it is at most ``width`` characters, else its first and last
    ``width // 2`` characters around the count of those left out."""
    if len(text) <= width:
        return text
    half = max(width // 2, 1)
    return f"{text[:half]}{_cut(len(text) - 2 * half)}{text[-half:]}"


def common_prefix(a: AnyStr, b: AnyStr) -> int:
    """The length of the longest common prefix of ``a`` and ``b``."""
    return _agreeing(min(len(a), len(b)), lambda i, j: a[i:j] == b[i:j])


def common_suffix(a: str, b: str, limit: int) -> int:
    """The length, at most ``limit``, of the longest common suffix of ``a`` and ``b``."""
    la, lb = len(a), len(b)
    return _agreeing(min(la, lb, limit), lambda i, j: a[la - j : la - i] == b[lb - j : lb - i])


def _agreeing(n: int, same: Callable[[int, int], bool]) -> int:
    """How far, up to ``n``, two texts agree, where ``same(i, j)`` compares their characters
    ``i`` to ``j`` from the end they are read from: a block at a time (a 15 MB number at C
    speed), then the first block that differs by bisection (its characters one by one took up
    to 100 us a file of 6 KB; bisection takes 12 steps)."""
    i = 0
    while i < n:
        j = min(n, i + _PREFIX_CHUNK)
        if not same(i, j):
            break
        i = j
    hi = min(n, i + _PREFIX_CHUNK)
    while i < hi:  # the texts agree up to i, and differ before hi unless hi is n
        mid = (i + hi + 1) // 2
        if same(i, mid):
            i = mid
        else:
            hi = mid - 1
    return i


def _window(text: str, start: int, width: int) -> str:
    end = min(len(text), start + width)
    head = SHOWN // 8  # the first digits say the magnitude, the sign, the opening quote
    if start <= head:
        start = 0
    shown = text[start:end]
    if start:
        shown = f"{text[:head]}{_cut(start - head)}{shown}"
    if end < len(text):
        shown = f"{shown}{_ELLIPSIS}[{len(text) - end} chars]"
    return shown


def shorten_pair(a: str, b: str, width: int = SHOWN) -> tuple[str, str]:
    """Two long texts that differ, each cut to the same window around their first difference
    (a few characters before it), so the change stays visible however long they are."""
    if len(a) <= width and len(b) <= width:
        return a, b
    start = max(0, common_prefix(a, b) - width // 4)
    return _window(a, start, width), _window(b, start, width)


def _change(x: str, y: str) -> str:
    a, b = shorten_pair(x, y)
    return f"{a} → {b}"


class Comparison(Value):
    # a Value, not a NamedTuple: never used as a tuple, and ~10x cheaper to define
    __slots__ = ("equal", "max_rel_diff", "reason", "where")

    def __init__(self, equal: bool, max_rel_diff: float, where: str = "", reason: str = "") -> None:
        self.equal = equal
        # largest relative difference between two numbers that compared unequal as text
        self.max_rel_diff = max_rel_diff
        # JSONPath-like location of the first difference that decided ``equal=False``
        self.where = where
        self.reason = reason


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if key.isidentifier():
        return f"{parent}.{shorten(key)}"
    return f"{parent}[{shorten(json.dumps(key))}]"


def json_path(keys: Sequence[str | int]) -> str:
    """``$.a.b[3]`` for a list of keys and indexes: keys cut to ``SHOWN`` characters each, a
    deep path to its ends (``WHERE_SHOWN``), as :func:`compare` names a difference."""
    out = "$"
    for key in keys:
        out = _path(out, key)
    if len(out) <= WHERE_SHOWN:
        return out
    head = WHERE_SHOWN // 4
    tail = WHERE_SHOWN - head
    return f"{out[:head]}{_cut(len(out) - head - tail)}{out[-tail:]}"


def _rel_diff(a: Decimal, b: Decimal) -> float:
    scale = max(abs(a), abs(b))
    if scale == 0:
        return 0.0
    try:
        return float(abs(a - b) / scale)
    except (InvalidOperation, OverflowError):  # pragma: no cover - Decimal context limits
        return float("inf")


def compare(
    a: JValue,
    b: JValue,
    *,
    ordered: bool,
    numbers: str = "value",
    rel_tol: float = 0.0,
    abs_tol: float = 0.0,
) -> Comparison:
    """Compare two parsed documents.

    ``ordered``: objects must list the same keys in the same order (else as mappings).
    ``numbers``: ``"text"`` compares number literals as written, ``"value"`` as numbers,
    equal when within ``rel_tol`` (relative) or ``abs_tol`` (absolute).
    """
    with localcontext(NUMBERS):
        return _compare(a, b, ordered=ordered, numbers=numbers, rel_tol=rel_tol, abs_tol=abs_tol)


def deep_equal(x: JValue, y: JValue) -> bool:
    """C-speed structural equality of text forms (tuples and lists compare element-wise).

    Text-equal implies equal in every mode (same keys in the same order, same number
    literals), so an equal subtree is skipped whole. Deep documents exceed the C recursion
    limit: then we simply do not know, and the walk descends.
    """
    try:
        return type(x) is type(y) and bool(x == y)
    except RecursionError:
        return False


def _where(trail: list[tuple[int, str | int]], i: int) -> str:
    """The path of entry ``i`` of a walk's ``trail`` (parent index, key): paths are built
    only for the difference that is reported, by walking back to the root."""
    keys: list[str | int] = []
    while i > 0:
        i, key = trail[i]
        keys.append(key)
    return json_path(keys[::-1])


_SHORTCUT_DEPTH = 64  # below this, a subtree's own equality test is cheap relative to its walk


def _compare(
    a: JValue, b: JValue, *, ordered: bool, numbers: str, rel_tol: float, abs_tol: float
) -> Comparison:
    max_rel = 0.0
    tol_rel = Decimal(repr(rel_tol))
    tol_abs = Decimal(repr(abs_tol))
    # paths are built only for the difference that is reported: each stack entry points into
    # ``trail`` (parent index, key), which is walked back on failure
    trail: list[tuple[int, str | int]] = [(-1, "")]
    where = partial(_where, trail)

    if deep_equal(a, b):
        return Comparison(True, max_rel)
    stack: list[tuple[JValue, JValue, int, int]] = [(a, b, 0, 0)]
    while stack:
        x, y, at, depth = stack.pop()
        shallow = depth + 1 < _SHORTCUT_DEPTH  # an equal child is not pushed (_compare_modes)
        if isinstance(x, JNum) or isinstance(y, JNum):
            if not (isinstance(x, JNum) and isinstance(y, JNum)):
                return Comparison(False, max_rel, where(at), "type differs")
            if x == y:
                continue
            if numbers == "text":
                return Comparison(False, max_rel, where(at), _change(x, y))
            dx, dy = x.value(), y.value()
            if dx == dy:
                continue
            if x.is_integer_literal and y.is_integer_literal:
                # tolerance is for float jitter: integers (counts, ids) must match exactly
                return Comparison(False, max_rel, where(at), _change(x, y))
            rel = _rel_diff(dx, dy)
            max_rel = max(max_rel, rel)
            if abs(dx - dy) <= max(tol_abs, tol_rel * max(abs(dx), abs(dy))):
                continue
            return Comparison(False, max_rel, where(at), _change(x, y))
        if isinstance(x, JObj) or isinstance(y, JObj):
            if not (isinstance(x, JObj) and isinstance(y, JObj)):
                return Comparison(False, max_rel, where(at), "type differs")
            if len(x) != len(y):
                return Comparison(False, max_rel, where(at), "keys differ")
            ymap = None if ordered else dict(y)
            if ymap is None or len(ymap) != len(y) or x.has_duplicates():
                for (kx, vx), (ky, vy) in zip(x, y):
                    if kx != ky:
                        what = "key order differs" if ordered else "duplicate keys"
                        a, b = shorten_pair(repr(kx), repr(ky))
                        return Comparison(False, max_rel, where(at), f"{what} ({a} vs {b})")
                    if shallow and deep_equal(vx, vy):
                        continue
                    trail.append((at, kx))
                    stack.append((vx, vy, len(trail) - 1, depth + 1))
                continue
            for kx, vx in x:
                if kx not in ymap:
                    trail.append((at, kx))
                    return Comparison(False, max_rel, where(len(trail) - 1), "key removed")
                vy = ymap[kx]
                if shallow and deep_equal(vx, vy):
                    continue
                trail.append((at, kx))
                stack.append((vx, vy, len(trail) - 1, depth + 1))
            continue
        if isinstance(x, list) or isinstance(y, list):
            if not (isinstance(x, list) and isinstance(y, list)):
                return Comparison(False, max_rel, where(at), "type differs")
            if len(x) != len(y):
                return Comparison(False, max_rel, where(at), f"length {len(x)} → {len(y)}")
            for i, (vx, vy) in enumerate(zip(x, y)):
                if shallow and deep_equal(vx, vy):
                    continue
                trail.append((at, i))
                stack.append((vx, vy, len(trail) - 1, depth + 1))
            continue
        # str, bool, None: identity of type matters (True is not 1, "1" is not 1)
        if type(x) is not type(y) or x != y:
            return Comparison(False, max_rel, where(at), "value differs")
    return Comparison(True, max_rel)


class Modes(Value):
    """The four comparisons a classification asks of one pair, from :func:`compare_modes`."""

    __slots__ = ("ordered_text", "ordered_value", "unordered_close", "unordered_value")

    def __init__(
        self,
        ordered_text: Comparison,
        ordered_value: Comparison,
        unordered_value: Comparison,
        unordered_close: Comparison,
    ) -> None:
        self.ordered_text = ordered_text
        self.ordered_value = ordered_value
        self.unordered_value = unordered_value
        self.unordered_close = unordered_close


def compare_modes(a: JValue, b: JValue, *, rel_tol: float, abs_tol: float) -> Modes:
    """:func:`compare` in four modes in one walk: ordered with numbers as text, ordered and
    unordered with numbers as values, and unordered within ``rel_tol``/``abs_tol``.

    A classification asks all four of most pairs it walks (a float jitter took three full
    walks). Every mode visits the same nodes in the same order until it stops, so each
    answer is the first difference its own mode finds along the one walk, with the largest
    relative difference seen by then; the walk ends where the most lenient mode (within
    tolerance) stops, since whatever stops it stops the others at or before it. The
    property tests hold it to four calls of :func:`compare`."""
    with localcontext(NUMBERS):
        return _compare_modes(a, b, rel_tol=rel_tol, abs_tol=abs_tol)


def _compare_modes(a: JValue, b: JValue, *, rel_tol: float, abs_tol: float) -> Modes:
    max_rel = 0.0
    tol_rel = Decimal(repr(rel_tol))
    tol_abs = Decimal(repr(abs_tol))
    trail: list[tuple[int, str | int]] = [(-1, "")]
    where = partial(_where, trail)
    # the first difference of the modes that have stopped (None: not yet)
    o_text: Comparison | None = None
    o_value: Comparison | None = None
    u_value: Comparison | None = None

    def stop(found: Comparison) -> Modes:
        # a difference every mode sees: each keeps the one it met first (a mode that has not
        # stopped yet has seen no two numbers differ, so ``found``'s largest difference is 0)
        return Modes(o_text or found, o_value or found, u_value or found, found)

    if deep_equal(a, b):
        equal = Comparison(True, 0.0)
        return Modes(equal, equal, equal, equal)
    stack: list[tuple[JValue, JValue, int, int]] = [(a, b, 0, 0)]
    while stack:
        x, y, at, depth = stack.pop()
        # a child equal to its counterpart is never pushed: most of a document with one
        # difference is equal subtrees, and each cost a push, a pop and a trail entry
        shallow = depth + 1 < _SHORTCUT_DEPTH
        if isinstance(x, JNum) or isinstance(y, JNum):
            if not (isinstance(x, JNum) and isinstance(y, JNum)):
                return stop(Comparison(False, max_rel, where(at), "type differs"))
            if x == y:
                continue
            if o_text is None:
                o_text = Comparison(False, 0.0, where(at), _change(x, y))
            dx, dy = x.value(), y.value()
            if dx == dy:
                continue
            if x.is_integer_literal and y.is_integer_literal:
                return stop(Comparison(False, max_rel, where(at), _change(x, y)))
            max_rel = max(max_rel, _rel_diff(dx, dy))
            if o_value is None or u_value is None:
                differs = Comparison(False, max_rel, where(at), _change(x, y))
                o_value = o_value or differs
                u_value = u_value or differs
            if abs(dx - dy) <= max(tol_abs, tol_rel * max(abs(dx), abs(dy))):
                continue
            return stop(Comparison(False, max_rel, where(at), _change(x, y)))
        if isinstance(x, JObj) or isinstance(y, JObj):
            if not (isinstance(x, JObj) and isinstance(y, JObj)):
                return stop(Comparison(False, max_rel, where(at), "type differs"))
            if len(x) != len(y):
                return stop(Comparison(False, max_rel, where(at), "keys differ"))
            if o_text is None or o_value is None:
                for (kx, _), (ky, _) in zip(x, y):
                    if kx != ky:
                        a_, b_ = shorten_pair(repr(kx), repr(ky))
                        why = f"key order differs ({a_} vs {b_})"
                        o_value = o_value or Comparison(False, max_rel, where(at), why)
                        o_text = o_text or Comparison(False, 0.0, where(at), why)
                        break
            ymap = dict(y)
            if len(ymap) != len(y) or x.has_duplicates():
                for (kx, vx), (ky, vy) in zip(x, y):
                    if kx != ky:
                        a_, b_ = shorten_pair(repr(kx), repr(ky))
                        return stop(
                            Comparison(False, max_rel, where(at), f"duplicate keys ({a_} vs {b_})")
                        )
                    if shallow and deep_equal(vx, vy):
                        continue
                    trail.append((at, kx))
                    stack.append((vx, vy, len(trail) - 1, depth + 1))
                continue
            for kx, vx in x:
                if kx not in ymap:
                    trail.append((at, kx))
                    return stop(Comparison(False, max_rel, where(len(trail) - 1), "key removed"))
                vy = ymap[kx]
                if shallow and deep_equal(vx, vy):
                    continue
                trail.append((at, kx))
                stack.append((vx, vy, len(trail) - 1, depth + 1))
            continue
        if isinstance(x, list) or isinstance(y, list):
            if not (isinstance(x, list) and isinstance(y, list)):
                return stop(Comparison(False, max_rel, where(at), "type differs"))
            if len(x) != len(y):
                return stop(Comparison(False, max_rel, where(at), f"length {len(x)} → {len(y)}"))
            for i, (vx, vy) in enumerate(zip(x, y)):
                if shallow and deep_equal(vx, vy):
                    continue
                trail.append((at, i))
                stack.append((vx, vy, len(trail) - 1, depth + 1))
            continue
        if type(x) is not type(y) or x != y:
            return stop(Comparison(False, max_rel, where(at), "value differs"))
    equal = Comparison(True, 0.0)
    return Modes(o_text or equal, o_value or equal, u_value or equal, Comparison(True, max_rel))


def utf16_key(key: str) -> bytes:
    """RFC 8785 §3.2.3 orders object keys by their UTF-16 code units."""
    return key.encode("utf-16-be", "surrogatepass")


def _dump_str(s: str) -> str:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        # a lone surrogate cannot be written as UTF-8: keep it as a \u escape
        return json.dumps(s, ensure_ascii=True)
    return json.dumps(s, ensure_ascii=False)


def dumps_canonical(value: JValue, *, indent: int = 2, sort_keys: bool = True) -> str:
    """Fixed indent, numbers as written, trailing newline; keys sorted (RFC 8785 order) with
    ``sort_keys``, else in the document's order.

    With ``sort_keys``, raises :class:`JsonInvalid` for documents with duplicate keys:
    sorting them would silently change which value a parser keeps.
    """
    out: list[str] = []
    pad = " " * indent

    # iterative emitter: a document that parsed may still be deeper than our stack allows
    work: list[tuple[str, object, int]] = [("value", value, 0)]
    while work:
        kind, item, depth = work.pop()
        if kind == "text":
            out.append(item)  # type: ignore[arg-type]
            continue
        if isinstance(item, JNum):
            out.append(str(item))
        elif isinstance(item, JObj):
            if sort_keys and item.has_duplicates():
                raise JsonInvalid("duplicate keys: refusing to reorder")
            if not item:
                out.append("{}")
                continue
            inner = "\n" + pad * (depth + 1)
            pairs = sorted(item, key=lambda kv: utf16_key(kv[0])) if sort_keys else list(item)
            seq: list[tuple[str, object, int]] = [("text", "{", 0)]
            for i, (k, v) in enumerate(pairs):
                sep = "," if i else ""
                seq.append(("text", f"{sep}{inner}{_dump_str(k)}: ", 0))
                seq.append(("value", v, depth + 1))
            seq.append(("text", "\n" + pad * depth + "}", 0))
            work.extend(reversed(seq))
        elif isinstance(item, list):
            if not item:
                out.append("[]")
                continue
            inner = "\n" + pad * (depth + 1)
            seq = [("text", "[", 0)]
            for i, v in enumerate(item):
                sep = "," if i else ""
                seq.append(("text", f"{sep}{inner}", 0))
                seq.append(("value", v, depth + 1))
            seq.append(("text", "\n" + pad * depth + "]", 0))
            work.extend(reversed(seq))
        elif isinstance(item, str):
            out.append(_dump_str(item))
        elif item is True:
            out.append("true")
        elif item is False:
            out.append("false")
        else:
            out.append("null")
    out.append("\n")
    return "".join(out)
