"""core/jsonvalue.compare_modes answers four comparisons in one walk; each answer must be the
one :func:`jsonvalue.compare` gives in its own mode, to the last field (where, reason and the
largest relative difference seen), on any pair of parsed documents: duplicate keys, keys
reordered, numbers rewritten, jittered or changed, values and types replaced, keys and
elements added or removed, at any depth."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from phase2_git.core import classify, jsonvalue
from phase2_git.core.jsonvalue import JNum, JObj
from phase2_git.core.whitespace import JSON_TEXT

keys = st.sampled_from(["a", "b", "c", "id", "x y", "é", ""])
numbers = st.sampled_from(
    ["0", "1", "-1", "1.0", "1.5", "0.1", "2.5e3", "1e-300", "123456789012345678901", "-0"]
).map(JNum)
leaves = st.none() | st.booleans() | st.sampled_from(["", "s", "t", "1"]) | numbers
documents = st.recursive(
    leaves,
    lambda kids: (
        st.lists(kids, max_size=4) | st.lists(st.tuples(keys, kids), max_size=4).map(JObj)
    ),  # duplicate keys included
    max_leaves=16,
)
TOLERANCES = [(0.0, 0.0), (1e-9, 0.0), (0.0, 1e-6), (1e-3, 1e-12), (0.5, 0.0)]


def _number(n: JNum, rng: random.Random) -> JNum:
    value = Decimal(n)
    how = rng.choice(["same value", "jitter", "far", "integer"])
    if how == "same value":
        point = "" if "." in n else ".0"
        return JNum(rng.choice([f"{value:E}", f"{value:f}", str(value) + point]))
    if how == "jitter":
        return JNum(repr(float(value) * (1 + rng.choice([1e-13, 1e-7, 1e-2])) or 1e-300))
    if how == "far":
        return JNum(repr(float(value) + 7.25))
    return JNum(str(int(value) + 1) if not n.is_integer_literal else str(int(n) * 2 + 1))


def mutate(doc: Any, rng: random.Random, rate: float) -> Any:
    """``doc`` with random edits, each node touched with probability ``rate``."""
    touch = rng.random() < rate
    if isinstance(doc, JObj):
        pairs = [(k, mutate(v, rng, rate)) for k, v in doc]
        if touch:
            how = rng.choice(["reorder", "add", "remove", "rename", "duplicate", "type"])
            if how == "reorder":
                rng.shuffle(pairs)
            elif how == "add":
                pairs.insert(rng.randint(0, len(pairs)), ("new", JNum("1")))
            elif how == "remove" and pairs:
                pairs.pop(rng.randrange(len(pairs)))
            elif how == "rename" and pairs:
                i = rng.randrange(len(pairs))
                pairs[i] = ("renamed", pairs[i][1])
            elif how == "duplicate" and pairs:
                pairs.append(pairs[rng.randrange(len(pairs))])
            elif how == "type":
                return [v for _, v in pairs]
        return JObj(pairs)
    if isinstance(doc, list):
        items = [mutate(v, rng, rate) for v in doc]
        if touch:
            if rng.random() < 0.5:
                items.append(None)
            elif items:
                items.pop()
        return items
    if not touch:
        return doc
    if isinstance(doc, JNum):
        return _number(doc, rng)
    return rng.choice([None, True, False, "s", "changed", JNum("1"), []])


@settings(max_examples=600, deadline=None)
@given(documents, st.randoms(use_true_random=False), st.sampled_from([0.0, 0.1, 0.3, 1.0]))
def test_one_walk_answers_as_four(a: Any, rng: random.Random, rate: float) -> None:
    b = mutate(a, rng, rate)
    for rel, abs_ in TOLERANCES:
        modes = jsonvalue.compare_modes(a, b, rel_tol=rel, abs_tol=abs_)
        assert modes.ordered_text == jsonvalue.compare(a, b, ordered=True, numbers="text")
        assert modes.ordered_value == jsonvalue.compare(a, b, ordered=True, numbers="value")
        assert modes.unordered_value == jsonvalue.compare(a, b, ordered=False, numbers="value")
        assert modes.unordered_close == jsonvalue.compare(
            a, b, ordered=False, numbers="value", rel_tol=rel, abs_tol=abs_
        )


def typed(v: Any) -> Any:
    """An oracle for equality that cannot confuse types: each value tagged with its kind."""
    if isinstance(v, JObj):
        return ("object", tuple((k, typed(x)) for k, x in v))
    if isinstance(v, list):
        return ("array", tuple(typed(x) for x in v))
    if isinstance(v, JNum):
        return ("number", str(v))
    if isinstance(v, str):
        return ("string", v)
    return ("literal", repr(v))


def twin(doc: Any, rng: random.Random) -> Any:
    """``doc`` with some numbers written as strings of the same text, and the reverse."""
    if isinstance(doc, JObj):
        return JObj((k, twin(v, rng)) for k, v in doc)
    if isinstance(doc, list):
        return [twin(v, rng) for v in doc]
    if isinstance(doc, JNum) and rng.random() < 0.3:
        return str(doc)
    if type(doc) is str and doc and doc.lstrip("-").replace(".", "", 1).isdigit():
        return JNum(doc) if rng.random() < 0.3 else doc
    return doc


@settings(max_examples=400, deadline=None)
@given(documents, st.randoms(use_true_random=False))
def test_equality_never_takes_a_string_for_the_number_it_spells(a: Any, rng: random.Random) -> None:
    """``deep_equal`` (and every ``==`` over documents) agrees with the typed oracle; the
    walk in every mode finds a string that became a number, or the reverse."""
    b = twin(a, rng)
    same = typed(a) == typed(b)
    assert jsonvalue.deep_equal(a, b) == same
    assert (a == b) == same
    modes = jsonvalue.compare_modes(a, b, rel_tol=0.5, abs_tol=0.0)
    for found in (modes.ordered_text, modes.ordered_value, modes.unordered_value):
        assert found.equal == same
    assert modes.unordered_close.equal == same


def test_a_number_is_equal_only_to_a_number_written_the_same_way() -> None:
    one = JNum("1")
    assert one == JNum("1") and not one != JNum("1")
    assert one != "1" and "1" != one and not one == "1" and not "1" == one
    assert one != JNum("1.0") and one != 1 and one != True  # noqa: E712
    assert {one: 1}.get(JNum("1")) == 1 and "1" not in {one} and hash(one) == hash("1")
    assert JObj([("a", "1")]) != JObj([("a", one)]) and ["1"] != [one]


def test_a_pair_walks_once_for_the_classification() -> None:
    """The classification of a float jitter asks three modes: one walk answers them (and the
    ``numeric`` method's question after it, at the classification's tolerance)."""
    base = b'{"m": {"f1": 0.25, "loss": 1.5}, "n": [1, 2]}'
    head = b'{"m": {"f1": 0.2500000000001, "loss": 1.5}, "n": [1, 2]}'
    pair = classify.Pair.of(base, head, "json", rules=JSON_TEXT, tolerance=(1e-9, 0.0))
    walks = 0
    real = jsonvalue.compare_modes

    def counted(*args: Any, **kw: Any) -> jsonvalue.Modes:
        nonlocal walks
        walks += 1
        return real(*args, **kw)

    jsonvalue.compare_modes = counted
    try:
        text = pair.compare(ordered=True, numbers="text")
        close = pair.compare(ordered=False, numbers="value", rel_tol=1e-9)
        exact = pair.compare(ordered=False, numbers="value")
    finally:
        jsonvalue.compare_modes = real
    assert walks == 1
    assert text is not None and not text.equal and text.where == "$.m.f1"
    assert exact is not None and not exact.equal and exact.where == "$.m.f1"
    assert close is not None and close.equal and 0 < close.max_rel_diff < 1e-9
