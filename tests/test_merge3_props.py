"""Property tests of the three-way merge (core/merge3.py) over random documents and random
edits on both sides, each side with its own random noise (re-indent and other formatting,
key reorder, CRLF, BOM, final newline, float jitter within tolerance):

(a) an automatic resolution holds every real change of both sides and nothing else: its
    changes against the base are exactly the union of the two sides' (computed here by an
    independent walk over plain ``json`` values);
(b) a side without a real change never causes a conflict: the result is the other side,
    stripped of its noise;
(c) deterministic, and symmetric: swapping ours and theirs gives the same bytes and the same
    conflicts;
(d) a conflict names at least one place.

The same for text, line by line, under the file's whitespace rules."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from phase2_git.core import changes, whitespace
from phase2_git.core.merge3 import Merge3, merge3
from phase2_git.core.settings import ClassifySettings
from phase2_git.core.whitespace import WhitespaceRules
from tests.test_mixed_props import PROPS, docs, dump, edit, jitter, reorder, styles, text

SETTINGS = ClassifySettings()  # rel_tol 1e-9: jitter is 1e-13
SWAP = {"ours": "theirs", "theirs": "ours"}


# ------------------------------------------------------------------------------ JSON

REMOVED = object()


def delta(b: Any, x: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    """Where ``x`` differs from ``b``: objects by key, arrays of one length element by
    element, anything else as one value; numbers within tolerance are equal."""
    if close(b, x):
        return {}
    if isinstance(b, dict) and isinstance(x, dict):
        out: dict[tuple[Any, ...], Any] = {}
        for k in b.keys() | x.keys():
            sub = (*path, k)
            if k not in x:
                out[sub] = REMOVED
            elif k not in b:
                out[sub] = x[k]
            else:
                out.update(delta(b[k], x[k], (*path, k)))
        return out
    if isinstance(b, list) and isinstance(x, list) and len(b) == len(x):
        out = {}
        for i, (y, z) in enumerate(zip(b, x)):
            out.update(delta(y, z, (*path, i)))
        return out
    return {path: x}


def close(x: Any, y: Any) -> bool:
    if x is REMOVED or y is REMOVED:
        return x is y
    if isinstance(x, bool) or isinstance(y, bool):
        return type(x) is type(y) and x == y
    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=0.0) if x != y else True
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(close(x[k], y[k]) for k in x)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(close(a, b) for a, b in zip(x, y))
    return type(x) is type(y) and x == y


def side(doc: Any, base_style: Any, base_final: bool, draw: st.DrawFn) -> tuple[bytes, bool]:
    """One side: 0 to 2 real edits of ``doc``, then its own noise; (bytes, has a real edit)."""
    rng = draw(st.randoms(use_true_random=False))
    out = doc
    n = draw(st.sampled_from([0, 1, 1, 2]))  # a side with no real edit: one case in four
    kinds = draw(
        st.lists(st.sampled_from(["leaf", "add", "remove", "append"]), min_size=n, max_size=n)
    )
    for kind in kinds:
        edited = edit(out, kind, rng)
        out = out if edited is None else edited
    real = not close(out, doc)
    noise = draw(st.sets(st.sampled_from(["style", "reorder", "crlf", "bom", "final", "jitter"])))
    if "reorder" in noise:
        out = reorder(out, rng)
    if "jitter" in noise:
        out = jitter(out)
    style = draw(styles) if "style" in noise else base_style
    text = dump(out, style) + ("\n" if base_final != ("final" in noise) else "")
    if "crlf" in noise:
        text = text.replace("\n", "\r\n")
    return ("\ufeff" if "bom" in noise else "").encode() + text.encode(), real


@st.composite
def json_merges(draw: st.DrawFn) -> tuple[bytes, bytes, bytes, bool, bool]:
    """(base, ours, theirs, ours has a real edit, theirs has one)."""
    # an artifact is an object at its root, most of the time; now and then anything
    doc = draw(st.dictionaries(text, docs, min_size=1, max_size=5) | docs)
    base_style = draw(styles)
    base_final = draw(st.booleans())
    base = (dump(doc, base_style) + ("\n" if base_final else "")).encode()
    ours, real_o = side(doc, base_style, base_final, draw)
    theirs, real_t = side(doc, base_style, base_final, draw)
    return base, ours, theirs, real_o, real_t


def merge_json(base: bytes, ours: bytes, theirs: bytes) -> Merge3:
    return merge3(
        base,
        ours,
        theirs,
        artifact_type="json",
        rules=whitespace.JSON_TEXT,
        settings=SETTINGS,
    )


def load(data: bytes) -> Any:
    return json.loads(data.decode("utf-8-sig"))


def assert_symmetric(m: Merge3, w: Merge3) -> None:
    assert m.data == w.data  # (c) the same bytes whichever side is ours
    assert sorted(m.conflicts) == sorted(w.conflicts)
    assert SWAP.get(m.resolution, m.resolution) == w.resolution


@PROPS
@given(json_merges())
def test_json_merge_keeps_every_real_change_of_both_sides(
    case: tuple[bytes, bytes, bytes, bool, bool],
) -> None:
    base, ours, theirs, real_o, real_t = case
    m = merge_json(base, ours, theirs)
    assert merge_json(base, ours, theirs) == m  # (c) deterministic
    assert_symmetric(m, merge_json(base, theirs, ours))
    b = load(base)
    want_o, want_t = delta(b, load(ours)), delta(b, load(theirs))
    assert bool(want_o) == real_o and bool(want_t) == real_t
    if m.data is None:
        assert m.resolution == "conflict" and m.conflicts  # (d)
        assert want_o and want_t  # (b) a conflict takes real changes on both sides
        return
    got = delta(b, load(m.data))
    # (a) exactly the union of the two sides' changes: none lost, none made up
    assert got.keys() == want_o.keys() | want_t.keys()
    for path, value in got.items():
        assert close(value, want_o.get(path, want_t.get(path))), path
    if not want_o:  # (b) the other side, without its noise
        assert m.data == changes.strip_json(base, theirs, rel_tol=SETTINGS.rel_tol)
    if not want_t:
        assert m.data == changes.strip_json(base, ours, rel_tol=SETTINGS.rel_tol)


@PROPS
@given(json_merges())
def test_a_merge_of_a_merge_is_stable(case: tuple[bytes, bytes, bytes, bool, bool]) -> None:
    """Merging the resolution again with either side changes nothing: the resolution
    already holds both, in the base's style."""
    base, ours, theirs, _, _ = case
    m = merge_json(base, ours, theirs)
    if m.data is None:
        return
    again = merge_json(base, m.data, ours)
    assert again.data == m.data


# ------------------------------------------------------------------------------ text

RULES = [whitespace.DEFAULT, whitespace.STRICT._replace(format="YAML"), whitespace.INSIGNIFICANT]
line = st.text(alphabet=st.sampled_from(list("ab #\t:")), max_size=6)


def text_side(lines: list[str], final: bool, rules: WhitespaceRules, draw: st.DrawFn) -> Any:
    """(bytes, the edit as (kind, at, new line) or None, whether its noise is noise)."""
    head = list(lines)
    kind = draw(st.sampled_from(["none", "change", "add", "remove"]))
    at = draw(st.integers(min_value=0, max_value=len(lines) - 1))
    new = draw(st.sampled_from(["NEW", "OTHER", "x y"]))
    if kind == "change":
        head[at] = head[at] + new
    elif kind == "add":
        head.insert(at, new)
    elif kind == "remove":
        del head[at]
    edited = "\n".join(head) + ("\n" if final else "")
    noise = draw(st.sets(st.sampled_from(["trailing", "crlf", "bom", "final", "indent"])))
    if "trailing" in noise:
        head = [h + " \t" for h in head]
    if "indent" in noise:
        head = ["  " + h for h in head]
    text = "\n".join(head) + ("\n" if final != ("final" in noise) else "")
    if "crlf" in noise:
        text = text.replace("\n", "\r\n")
    clean = whitespace.key(text, rules) == whitespace.key(edited, rules)
    data = ("\ufeff" if "bom" in noise else "").encode() + text.encode()
    return data, (None if kind == "none" else (kind, at, new)), clean


def applied(lines: list[str], edits: list[tuple[str, int, str]]) -> list[str]:
    out = list(lines)
    for kind, at, new in sorted(edits, key=lambda e: -e[1]):
        if kind == "change":
            out[at] = out[at] + new
        elif kind == "add":
            out.insert(at, new)
        else:
            del out[at]
    return out


@st.composite
def text_merges(draw: st.DrawFn) -> Any:
    rules = draw(st.sampled_from(RULES))
    # lines told apart under every rule: removing one of two equal lines is one edit, whichever
    # a side meant, so the model below could not say which
    lines = draw(
        st.lists(
            line.filter(lambda s: s.strip(" \t") != ""),
            min_size=1,
            max_size=8,
            unique_by=lambda s: " ".join(s.split()),
        )
    )
    final = draw(st.booleans())
    base = "\n".join(lines) + ("\n" if final else "")
    ours = text_side(lines, final, rules, draw)
    theirs = text_side(lines, final, rules, draw)
    return rules, lines, final, base.encode(), ours, theirs


def merge_text(base: bytes, ours: bytes, theirs: bytes, rules: WhitespaceRules) -> Merge3:
    return merge3(base, ours, theirs, artifact_type="text", rules=rules, settings=SETTINGS)


@PROPS
@given(text_merges())
def test_text_merge_keeps_every_real_change_of_both_sides(case: Any) -> None:
    rules, lines, final, base, (ours, e_o, clean_o), (theirs, e_t, clean_t) = case
    m = merge_text(base, ours, theirs, rules)
    assert merge_text(base, ours, theirs, rules) == m  # (c)
    assert_symmetric(m, merge_text(base, theirs, ours, rules))
    key = whitespace.key

    def k(data: bytes) -> object:
        return key(data.decode("utf-8-sig"), rules)

    real_o, real_t = k(ours) != k(base), k(theirs) != k(base)
    if m.data is None:
        assert m.conflicts and real_o and real_t  # (b), (d)
        return
    if not real_o:
        assert k(m.data) == k(theirs)
    if not real_t:
        assert k(m.data) == k(ours)
    edits = [e for e in (e_o, e_t) if e is not None]
    apart = len(edits) < 2 or edits[0][1] != edits[1][1]
    if clean_o and clean_t and apart:
        # (a) both edits, each where its side made it
        want = "\n".join(applied(lines, edits)) + ("\n" if final else "")
        assert k(m.data) == key(want, rules)


def test_text_edits_apart_merge_and_edits_together_conflict() -> None:
    base = b"a\nb\nc\nd\ne\n"
    m = merge_text(base, b"A\r\nb\r\nc\r\nd\r\ne\r\n", b"a\nb\nc\nd\nE\n", whitespace.DEFAULT)
    assert m.resolution == "lines" and m.data == b"A\nb\nc\nd\nE\n"
    m = merge_text(base, b"a\nB\nc\nd\ne\n", b"a\nb  \nC\nd\ne\n", whitespace.DEFAULT)
    assert m.data is None and m.conflicts == ("lines 2-3",)
    # YAML: indentation is real, so a re-indent is a change of every line
    yaml = whitespace.rules_for("x.yaml")
    m = merge_text(b"a: 1\nb: 2\n", b"  a: 1\n  b: 2\n", b"a: 1\nb: 3\n", yaml)
    assert m.data is None


def test_json_paths_both_sides_changed_are_named() -> None:
    base = b'{"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2]}'
    ours = b'{\n  "a": 2,\n  "b": {"c": 5, "d": 3},\n  "e": [1, 2, 3]\n}\n'
    theirs = b'{"a": 3, "b": {"c": 6, "d": 4}, "e": [0, 2]}'
    m = merge_json(base, ours, theirs)
    assert m.resolution == "conflict"
    assert m.conflicts == ("$.a", "$.b.c", "$.e")
    assert m.reason == "both sides changed $.a, $.b.c, $.e"


def test_a_malformed_side_is_a_reason_not_a_merge() -> None:
    m = merge_json(b'{"a": 1}', b'{"a": 2', b'{"a": 1, "b": 2}')
    assert m.data is None and m.resolution == "malformed"
    assert m.reason.startswith("ours is not valid JSON")


def test_noise_on_both_sides_gives_the_base_or_its_canonical_form() -> None:
    base = b'{"b": 1,  "a": [1,2]}\n'
    ours = b'{\n    "b": 1,\n    "a": [1, 2]\n}'
    theirs = b'{"a":[1,2],"b":1}\r\n'
    assert merge_json(base, ours, theirs).data == base
    m = merge3(
        base,
        ours,
        theirs,
        artifact_type="json",
        rules=whitespace.JSON_TEXT,
        settings=SETTINGS,
        strategy="canonicalize",
    )
    assert m.resolution == "canonical"
    assert m.data == b'{\n  "b": 1,\n  "a": [\n    1,\n    2\n  ]\n}\n'


def test_keys_added_at_one_place_on_both_sides_keep_each_sides_order() -> None:
    base = b'{\n  "a": 1,\n  "z": 2\n}\n'
    ours = b'{\n  "a": 1,\n  "y": 0,\n  "c": 0,\n  "z": 2\n}\n'
    theirs = b'{"a": 1, "b": 0, "z": 2}'
    m = merge_json(base, ours, theirs)
    assert m.data == b'{\n  "a": 1,\n  "b": 0,\n  "y": 0,\n  "c": 0,\n  "z": 2\n}\n'
    assert merge_json(base, theirs, ours).data == m.data


def test_a_deep_document_merges_down_to_a_depth_then_as_one_value() -> None:
    def nest(n: int, leaf: Any) -> Any:
        return {"a": nest(n - 1, leaf), "b": 0} if n else leaf

    base = json.dumps(nest(230, 1)).encode()
    ours = json.dumps(nest(230, 2)).encode()
    theirs = json.dumps({**nest(230, 1), "b": 1}).encode()
    m = merge_json(base, ours, theirs)
    assert m.resolution == "structural" and load(m.data or b"") == {**nest(230, 2), "b": 1}
    deep = json.dumps({**nest(230, 3), "b": 1}).encode()
    m = merge_json(base, ours, deep)
    assert m.resolution == "conflict" and len(m.conflicts) == 1
    assert m.conflicts[0].startswith("$.a.a.a")
