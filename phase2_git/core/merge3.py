"""Three-way merge of an artifact whose sides carry noise (``phase2 merge-driver``). Pure.

Two branches regenerate one snapshot: one with a new serializer (re-indented, keys reordered,
CRLF), the other with one real value changed. Git sees two whole-file edits and conflicts.
Here each side is first stripped of its noise against the ancestor
(:func:`changes.strip_json` / :func:`changes.strip_text`: the side's real changes written into
the ancestor's bytes), and only what is left is merged:

* no side has a real change: the ancestor (or, under the ``canonicalize`` noise strategy, the
  ancestor in canonical form);
* one side has: that side, stripped (its real change in the ancestor's style);
* both have, the same: that change;
* both have, JSON: merged at the key level (:func:`_merge_value`); paths that both sides
  changed, differently, are a conflict; the merged document is written into the ancestor's
  text by :func:`changes.strip_json` once more, so it keeps the ancestor's style;
* both have, text: merged line by line (:func:`_merge_lines`); hunks that overlap or touch
  are a conflict, as in ``git merge-file``.

Contract (property-tested, tests/test_merge3_props.py): an automatic resolution holds every
real change of both sides; the merge is deterministic, and symmetric in ours/theirs.
"""

# no `from __future__ import annotations`: NamedTuple fields stay cheap (see core/model.py)

import re
from decimal import localcontext
from typing import NamedTuple

from phase2_git.core import changes, jsonvalue, transforms
from phase2_git.core.jsonvalue import JObj, JValue
from phase2_git.core.settings import ClassifySettings, NoiseStrategy
from phase2_git.core.whitespace import JSON_TEXT, WhitespaceRules

# resolutions: which side the result is, or how it was built
OURS, THEIRS, BASE, CANONICAL, BOTH, STRUCTURAL, LINES = (
    "ours",
    "theirs",
    "base",
    "canonical",
    "both",
    "structural",
    "lines",
)
CONFLICT = "conflict"
MALFORMED = "malformed"
# Text: past this many differing lines in the middle of a side, the middle is one hunk
# (difflib is quadratic at worst); a conflict is then more likely, never a lost change.
_TEXT_WINDOW = 4000
# conflicting places named in a message
SHOWN = 10
# The key-level merge recurses; below this depth a subtree is one value (a conflict when both
# sides changed it), so a deep document never reaches the interpreter's recursion limit.
_MAX_DEPTH = 200

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")

Path = tuple[str | int, ...]


class Merge3(NamedTuple):
    """The outcome of one three-way merge."""

    data: bytes | None  # the resolution; None: no automatic resolution (a conflict)
    resolution: str  # one of the constants above
    conflicts: tuple[str, ...] = ()  # JSON paths / base line ranges both sides changed
    reason: str = ""  # one line: why there is no resolution, or what the resolution did
    # the sides with their noise stripped (for conflict markers in the ancestor's style);
    # None when a side could not be stripped (malformed)
    stripped: tuple[bytes, bytes] | None = None


class _Conflict(Exception):
    pass


def merge3(
    base: bytes,
    ours: bytes,
    theirs: bytes,
    *,
    artifact_type: str,
    rules: WhitespaceRules,
    settings: ClassifySettings,
    strategy: NoiseStrategy = "restore_base",
) -> Merge3:
    """Merge ``ours`` and ``theirs``, both descended from ``base``: see the module docstring.

    ``artifact_type`` is ``json`` or ``text``; ``rules`` are the artifact's whitespace rules
    (``classify.whitespace_rules``); ``strategy`` is the noise strategy for whitespace, used
    when neither side has a real change."""
    if artifact_type == "json":
        parsed = _parse_all(base, ours, theirs)
        if isinstance(parsed, str):
            return Merge3(None, MALFORMED, reason=parsed)
        if parsed is not None:
            return _merge_json(base, ours, theirs, parsed, settings, strategy)
        rules = rules if rules.outside_strings else JSON_TEXT
    return _merge_text(base, ours, theirs, rules, settings, strategy)


# ------------------------------------------------------------------------------ JSON


def _parse_all(base: bytes, ours: bytes, theirs: bytes) -> tuple[JValue, ...] | str | None:
    """The three documents; None when none of them is JSON (a JSONC/JSON5 file: merged as
    text); a one-line reason when some are and some are not."""
    out: list[JValue] = []
    bad: list[str] = []
    for name, data in (("base", base), ("ours", ours), ("theirs", theirs)):
        try:
            out.append(jsonvalue.parse(data))
        except jsonvalue.JsonInvalid as exc:
            bad.append(f"{name} is not valid JSON ({exc})")
    if not bad:
        return tuple(out)
    if len(bad) == 3:
        return None
    return "; ".join(bad)


def _merge_json(
    base: bytes,
    ours: bytes,
    theirs: bytes,
    docs: tuple[JValue, ...],
    settings: ClassifySettings,
    strategy: NoiseStrategy,
) -> Merge3:
    rel, abs_ = settings.rel_tol, settings.abs_tol
    try:
        so = changes.strip_json(base, ours, rel_tol=rel, abs_tol=abs_)
        st = changes.strip_json(base, theirs, rel_tol=rel, abs_tol=abs_)
    except changes.StripError as exc:  # pragma: no cover - the three parsed above
        return Merge3(None, MALFORMED, reason=str(exc))
    stripped = (so, st)
    picked = _pick(base, so, st, stripped)
    if picked is not None:
        return picked
    if so == base and st == base:
        return _neutral(base, "json", JSON_TEXT, settings, strategy)
    b_doc, o_doc, t_doc = docs[0], jsonvalue.parse(so), jsonvalue.parse(st)
    merger = _JsonMerge(rel, abs_)
    with localcontext(jsonvalue.NUMBERS):
        merged = merger.value(b_doc, o_doc, t_doc, ())
    if merger.conflicts:
        paths = tuple(jsonvalue.json_path(p) for p in merger.conflicts)
        return Merge3(None, CONFLICT, paths, _both_changed(paths), stripped)
    text = jsonvalue.dumps_canonical(merged, indent=2, sort_keys=False)
    try:
        data = changes.strip_json(
            base, text.encode("utf-8", "surrogatepass"), rel_tol=rel, abs_tol=abs_
        )
    except changes.StripError as exc:  # pragma: no cover - text is a document we wrote
        return Merge3(None, MALFORMED, reason=f"cannot write the merged document: {exc}")
    return Merge3(data, STRUCTURAL, reason="real changes on both sides at different paths")


class _JsonMerge:
    """The key-level three-way merge of three parsed documents (sides already stripped)."""

    def __init__(self, rel_tol: float, abs_tol: float) -> None:
        self.rel_tol, self.abs_tol = rel_tol, abs_tol
        self.conflicts: list[Path] = []

    def same(self, x: JValue, y: JValue) -> bool:
        if type(x) is type(y) and _eq(x, y):
            return True
        return jsonvalue.compare(
            x, y, ordered=False, numbers="value", rel_tol=self.rel_tol, abs_tol=self.abs_tol
        ).equal

    def value(self, b: JValue, o: JValue, t: JValue, path: Path) -> JValue:
        if self.same(o, b):
            return t
        if self.same(t, b):
            return o
        if self.same(o, t):
            # both made the same change: one of them, the same whichever side is ours
            return o if _exact(o) <= _exact(t) else t
        if len(path) >= _MAX_DEPTH:
            pass  # deeper than the walk goes: the rest of the subtree is one value
        elif isinstance(b, JObj) and isinstance(o, JObj) and isinstance(t, JObj):
            if not (b.has_duplicates() or o.has_duplicates() or t.has_duplicates()):
                return self.obj(b, o, t, path)
        elif (
            isinstance(b, list)
            and isinstance(o, list)
            and isinstance(t, list)
            and len(b) == len(o) == len(t)  # one length: element by element, else one value
        ):
            return [self.value(x, y, z, (*path, i)) for i, (x, y, z) in enumerate(zip(b, o, t))]
        self.conflicts.append(path)
        return o

    def obj(self, b: JObj, o: JObj, t: JObj, path: Path) -> JObj:
        bd, od, td = dict(b), dict(o), dict(t)
        kept: dict[str, JValue] = {}
        for k, bv in b:
            sub = (*path, k)
            if k in od and k in td:
                kept[k] = self.value(bv, od[k], td[k], sub)
            elif (k in od or k in td) and not self.same(od[k] if k in od else td[k], bv):
                self.conflicts.append(sub)  # removed on one side, changed on the other
        # keys new on a side, grouped by the base key that side put before them (the
        # nearest one the result keeps; "" for the front)
        groups: dict[int, list[list[tuple[str, JValue]]]] = {}
        added_o = [k for k, _ in o if k not in bd]
        added_t = [k for k, _ in t if k not in bd]
        chosen: dict[str, JValue] = {}  # added on both: one value, whichever side is ours
        for k in sorted(set(added_o) & set(added_t)):
            if not self.same(od[k], td[k]):
                self.conflicts.append((*path, k))  # added on both sides, differently
            chosen[k] = od[k] if _exact(od[k]) <= _exact(td[k]) else td[k]
        order = [k for k, _ in b]
        for side, added in ((o, added_o), (t, added_t)):
            anchors = _anchors(side, bd, kept, order)
            values = dict(side)
            run: list[tuple[str, JValue]] = []
            last = None
            for k in added:
                at = anchors[k]
                if at != last and run:
                    groups.setdefault(last if last is not None else -1, []).append(run)
                    run = []
                last = at
                run.append((k, chosen.get(k, values[k])))
            if run:
                groups.setdefault(last if last is not None else -1, []).append(run)
        out: list[tuple[str, JValue]] = []
        seen: set[str] = set()

        def put_group(at: int) -> None:
            # two sides' runs at one place: ordered by their keys, so the result is the same
            # whichever side is ours
            for run in sorted(groups.get(at, []), key=lambda r: [k for k, _ in r]):
                for k, v in run:
                    if k not in seen:
                        seen.add(k)
                        out.append((k, v))

        put_group(-1)
        for i, k in enumerate(order):
            if k in kept:
                out.append((k, kept[k]))
                seen.add(k)
            put_group(i)
        return JObj(out)


def _anchors(
    side: JObj, bd: dict[str, JValue], kept: dict[str, JValue], order: list[str]
) -> dict[str, int]:
    """For each key ``side`` added: the index in the base's order of the base key it follows
    (the nearest preceding one the result keeps), -1 for the front."""
    index = {k: i for i, k in enumerate(order)}
    out: dict[str, int] = {}
    last = -1
    for k, _ in side:
        if k in bd:
            i = index[k]
            while i >= 0 and order[i] not in kept:
                i -= 1
            last = i
        else:
            out[k] = last
    return out


def _eq(x: object, y: object) -> bool:
    try:
        return bool(x == y)
    except RecursionError:  # pragma: no cover - deeper than the C stack: compared below
        return False


def _exact(v: JValue) -> str:
    """A total order on values for tie-breaks (never shown)."""
    return jsonvalue.dumps_canonical(v, indent=0, sort_keys=False)


# ------------------------------------------------------------------------------ text


def _merge_text(
    base: bytes,
    ours: bytes,
    theirs: bytes,
    rules: WhitespaceRules,
    settings: ClassifySettings,
    strategy: NoiseStrategy,
) -> Merge3:
    try:
        so = changes.strip_text(base, ours, rules)
        st = changes.strip_text(base, theirs, rules)
        texts = [jsonvalue.decode_text(x) for x in (base, so, st)]
    except (changes.StripError, UnicodeDecodeError) as exc:
        side = next(
            (n for n, d in (("base", base), ("ours", ours), ("theirs", theirs)) if not _utf8(d)),
            "a side",
        )
        return Merge3(None, MALFORMED, reason=f"{side} is not UTF-8 text ({exc})")
    stripped = (so, st)
    picked = _pick(base, so, st, stripped)
    if picked is not None:
        return picked
    if so == base and st == base:
        return _neutral(base, "text", rules, settings, strategy)
    lines = [_LINE.findall(t) for t in texts]
    merged, conflicts = _merge_lines(lines[0], lines[1], lines[2])
    if merged is None:
        return Merge3(None, CONFLICT, conflicts, _both_changed(conflicts), stripped)
    bom = jsonvalue.UTF8_BOM if base.startswith(jsonvalue.UTF8_BOM) else b""
    data = bom + "".join(merged).encode("utf-8", "surrogatepass")
    return Merge3(data, LINES, reason="real changes on both sides at different lines")


def _utf8(data: bytes) -> bool:
    try:
        jsonvalue.decode_text(data)
    except UnicodeDecodeError:
        return False
    return True


Hunk = tuple[int, int, list[str]]  # base lines [i1, i2) replaced by these


def _hunks(a: list[str], b: list[str]) -> list[Hunk]:
    n, m = len(a), len(b)
    p = 0
    while p < n and p < m and a[p] == b[p]:
        p += 1
    s = 0
    while s < n - p and s < m - p and a[n - 1 - s] == b[m - 1 - s]:
        s += 1
    mid_a, mid_b = a[p : n - s], b[p : m - s]
    if not mid_a and not mid_b:
        return []
    if not mid_a or not mid_b or len(mid_a) > _TEXT_WINDOW or len(mid_b) > _TEXT_WINDOW:
        return [(p, n - s, mid_b)]
    import difflib

    sm = difflib.SequenceMatcher(None, mid_a, mid_b, autojunk=False)
    return [
        (i1 + p, i2 + p, mid_b[j1:j2]) for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag != "equal"
    ]


def _merge_lines(
    base: list[str], ours: list[str], theirs: list[str]
) -> tuple[list[str] | None, tuple[str, ...]]:
    """diff3 over lines: each side's hunks against the base; hunks of the two sides that
    overlap or touch are a conflict unless they are the same edit.

    Written out rather than calling ``git merge-file``: core stays pure (no process), and
    the property tests run it thousands of times; conflict markers are git's own
    (the driver calls ``git merge-file`` for those)."""
    tagged = sorted(
        [(h[0], h[1], 0, h[2]) for h in _hunks(base, ours)]
        + [(h[0], h[1], 1, h[2]) for h in _hunks(base, theirs)],
        key=lambda h: (h[0], h[1], h[2]),
    )
    # clusters of hunks that overlap or touch, in base order
    clusters: list[list[tuple[int, int, int, list[str]]]] = []
    end = -1
    for h in tagged:
        if clusters and h[0] <= end:
            clusters[-1].append(h)
            end = max(end, h[1])
        else:
            clusters.append([h])
            end = h[1]
    out: list[str] = []
    conflicts: list[str] = []
    pos = 0
    for cluster in clusters:
        sides = {h[2] for h in cluster}
        i1 = min(h[0] for h in cluster)
        i2 = max(h[1] for h in cluster)
        out.extend(base[pos:i1])
        if len(sides) == 1:  # one side's hunks, in order
            _apply(out, base, i1, cluster)
        else:
            mine = [h for h in cluster if h[2] == 0]
            yours = [h for h in cluster if h[2] == 1]
            if [(h[0], h[1], h[3]) for h in mine] == [(h[0], h[1], h[3]) for h in yours]:
                _apply(out, base, i1, mine)
            else:
                conflicts.append(_lines_at(i1, i2))
        pos = i2
    out.extend(base[pos:])
    if conflicts:
        return None, tuple(conflicts)
    return out, ()


def _apply(
    out: list[str], base: list[str], start: int, hunks: list[tuple[int, int, int, list[str]]]
) -> None:
    pos = start
    for i1, i2, _, lines in hunks:
        out.extend(base[pos:i1])
        out.extend(lines)
        pos = i2


def _lines_at(i1: int, i2: int) -> str:
    if i2 <= i1:
        return f"after line {i1}" if i1 else "at the start"
    return f"line {i1 + 1}" if i2 == i1 + 1 else f"lines {i1 + 1}-{i2}"


# ------------------------------------------------------------------------------ shared


def _pick(base: bytes, so: bytes, st: bytes, stripped: tuple[bytes, bytes]) -> Merge3 | None:
    """The resolution when at most one side has a real change, or both the same one."""
    real_o, real_t = so != base, st != base
    if real_o and not real_t:
        return Merge3(so, OURS, reason="only ours has a real change", stripped=stripped)
    if real_t and not real_o:
        return Merge3(st, THEIRS, reason="only theirs has a real change", stripped=stripped)
    if real_o and so == st:
        return Merge3(so, BOTH, reason="the same real change on both sides", stripped=stripped)
    return None


def _neutral(
    base: bytes,
    artifact_type: str,
    rules: WhitespaceRules,
    settings: ClassifySettings,
    strategy: NoiseStrategy,
) -> Merge3:
    """Neither side has a real change: the ancestor, or its canonical form under the
    ``canonicalize`` strategy (when the artifact has one)."""
    why = "only noise on both sides"
    if strategy == "canonicalize":
        spec = transforms.canonicalizer(
            "whitespace",
            artifact_type,
            settings.json_indent,
            rules,
            sort_keys=settings.json_sort_keys,
        )
        if spec is not None and spec.fn is not None:
            try:
                return Merge3(spec.fn(base), CANONICAL, reason=why + ": the base, canonical")
            except transforms.TransformError:
                pass
    return Merge3(base, BASE, reason=why + ": the base")


def _both_changed(places: tuple[str, ...]) -> str:
    shown = ", ".join(places[:SHOWN])
    more = f" and {len(places) - SHOWN} more" if len(places) > SHOWN else ""
    return f"both sides changed {shown}{more}"
