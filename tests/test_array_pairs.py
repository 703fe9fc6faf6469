"""How a JSON walk pairs two arrays of equal length (core/changes.py: ``_Walk._array``).

Equal lengths pair index to index unless an element keys otherwise than its counterpart
(the middle from the first to the last such one is aligned, as arrays of different lengths
are, where that lists fewer elements) or the middle left between the common ends is a small
permutation of the base's elements (reported as moves). Finding those ends under noise
(``_Walk._same``: a walk of each pair, walked again afterwards) is skipped where
``_may_permute`` proves that no such middle can exist. These tests hold the walk with that
proof to the walk without it (the noise pass always run), keep the permutation found, and
hold the side-by-side check of keys to the keys."""

from __future__ import annotations

import json
import random
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phase2_git.core import changes, jsonvalue

REL_TOL = 1e-9
PROPS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _walked(a: bytes, b: bytes) -> tuple[Any, ...]:
    """What the walks give: the change list (kinds, paths, values) and noise, and the strip."""
    found = changes.analyse_json(a, b, jsonvalue.parse(a), jsonvalue.parse(b), rel_tol=REL_TOL)
    assert found is not None
    real = [(c.kind, c.path, c.source, c.before, c.after) for c in found.real]
    return real, found.total, found.noise, changes.strip_json(a, b, rel_tol=REL_TOL)


def _both_ways(a: bytes, b: bytes, moves: int) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    with mock.patch.object(changes, "_MOVES", moves):
        proved = _walked(a, b)
        with mock.patch.object(changes, "_may_permute", lambda *args: True):
            always = _walked(a, b)
    return proved, always


# elements alike enough to meet each other: records whose keys a regeneration may reorder,
# numbers a float may jitter, a string and a number with the same text
_POOL: list[Any] = [
    {"id": 1, "v": "a"},
    {"id": 2, "v": "b"},
    {"id": 3, "v": [1, 2]},
    1,
    "1",
    1.5,
    None,
    [1, {"k": 2}],
]


def _variant(value: Any, rng: random.Random) -> Any:
    """``value`` with noise: keys reordered, a float jittered within tolerance."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _variant(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_variant(v, rng) for v in value]
    if isinstance(value, float):
        return value * (1 + 1e-12)
    return value


@st.composite
def arrays(draw: st.DrawFn) -> tuple[bytes, bytes]:
    n = draw(st.integers(min_value=2, max_value=12))
    base = [draw(st.sampled_from(_POOL)) for _ in range(n)]
    rng = draw(st.randoms(use_true_random=False))
    head = [_variant(v, rng) if draw(st.booleans()) else v for v in base]
    for _ in range(draw(st.integers(min_value=0, max_value=2))):  # a swap: moves, perhaps
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        head[i], head[j] = head[j], head[i]
    for _ in range(draw(st.integers(min_value=0, max_value=2))):  # a real change
        head[draw(st.integers(0, n - 1))] = draw(st.sampled_from(_POOL))
    indent = draw(st.sampled_from([None, 2]))
    return json.dumps(base, indent=indent).encode(), json.dumps(head, indent=2).encode()


@PROPS
@given(arrays(), st.integers(min_value=2, max_value=4))
def test_the_proof_changes_nothing_the_walk_gives(case: tuple[bytes, bytes], moves: int) -> None:
    # a small bound on moves lets arrays of a few elements take the skip and still meet
    # permutations the bound admits
    a, b = case
    proved, always = _both_ways(a, b, moves)
    assert proved == always


def test_a_permutation_among_reordered_records_is_still_found() -> None:
    base = [{"id": i, "name": f"n{i}", "score": i / 8} for i in range(200)]
    head = [dict(reversed(r.items())) for r in base]  # every record's keys reordered
    head[100], head[101] = base[101], base[100]  # two records swapped, written as the base's
    a, b = json.dumps(base, indent=2).encode(), json.dumps(head, indent=2).encode()
    proved, always = _both_ways(a, b, changes._MOVES)
    assert proved == always
    real, total, _, stripped = proved
    assert total == 2
    assert [(kind, path, source) for kind, path, source, _, _ in real] == [
        ("moved", "$[100]", "$[101]"),
        ("moved", "$[101]", "$[100]"),
    ]
    assert json.loads(stripped) == json.loads(b)


def _records() -> tuple[list[Any], list[Any], str]:
    base = [{"id": i, "name": f"n{i}", "score": i / 8} for i in range(200)]
    head = [dict(reversed(r.items())) for r in base]
    head[150]["name"] = "changed"
    return base, head, "$[150].name"


def _floats() -> tuple[list[Any], list[Any], str]:
    base = [i / 7 for i in range(2000)]
    head = [v * (1 + 1e-12) for v in base]  # every number moved within tolerance
    head[1500] = -1.0
    return base, head, "$[1500]"


@pytest.mark.parametrize("case", [_records, _floats], ids=["reordered records", "floats"])
def test_an_array_with_one_change_skips_the_noise_pass(case: Any) -> None:
    base, head, changed = case()
    a, b = json.dumps(base, indent=2).encode(), json.dumps(head, indent=2).encode()
    calls: list[int] = []
    real_same = changes._Walk._same

    def counted(self: Any, x: Any, y: Any) -> bool:
        calls.append(1)
        return real_same(self, x, y)

    with mock.patch.object(changes._Walk, "_same", counted):
        proved = _walked(a, b)
    with mock.patch.object(changes, "_may_permute", lambda *args: True):
        always = _walked(a, b)
    assert proved == always
    assert not calls  # each element walked once, not compared first
    real, total, noise, _ = proved
    assert total == 1 and real[0][:2] == ("changed", changed)
    assert noise


def _moves(base: list[Any], head: list[Any]) -> list[tuple[str, str]]:
    """The kinds and paths of the changes the walk lists, the same with the check and without
    it (``_MOVES`` as shipped)."""
    a, b = json.dumps(base, indent=1).encode(), json.dumps(head, indent=1).encode()
    proved, always = _both_ways(a, b, changes._MOVES)
    assert proved == always
    return [(kind, path) for kind, path, *_ in proved[0]]


def test_a_number_and_a_string_of_the_same_text_are_told_apart() -> None:
    # the number 1 and the string "1" share a shape (and a repr): swapped among reordered
    # records, they are still the two moves the noise pass finds, never one element changed
    # into the other
    base: list[Any] = [{"id": i, "name": f"n{i}"} for i in range(100)]
    base[50:50] = [1, "1"]
    head: list[Any] = [dict(reversed(r.items())) if isinstance(r, dict) else r for r in base]
    head[50], head[51] = "1", 1
    assert _moves(base, head) == [("moved", "$[50]"), ("moved", "$[51]")]


def test_elements_that_all_look_alike_give_the_search_up() -> None:
    # every feature starts with "type": "Feature": each head element's candidates are all its
    # neighbours, the bounded search gives up, and the noise pass runs as it always did
    base: list[dict[str, Any]] = [
        {"type": "Feature", "properties": {"name": f"n{i}", "pop": i}, "geometry": None}
        for i in range(300)
    ]
    head = [{**f, "properties": dict(reversed(f["properties"].items()))} for f in base]
    assert changes._may_permute(
        jsonvalue.parse(json.dumps(base).encode()),  # type: ignore[arg-type]
        jsonvalue.parse(json.dumps(head).encode()),  # type: ignore[arg-type]
        0,
        300,
    )
    head[120], head[121] = base[121], base[120]
    assert _moves(base, head) == [("moved", "$[120]"), ("moved", "$[121]")]


_KEYED = st.recursive(
    st.none()
    | st.booleans()
    | st.sampled_from(["a", "1", ""])
    | st.integers(-3, 3)
    | st.floats(-2, 2, allow_nan=False),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.sampled_from("abc"), kids),
    max_leaves=12,
)


@PROPS
@given(_KEYED, _KEYED, st.randoms(use_true_random=False), st.booleans())
def test_alike_is_the_keys_being_equal(x: Any, y: Any, rng: random.Random, noisy: bool) -> None:
    """``_alike`` (the side-by-side walk the equal-length check takes first) says two
    elements key alike only where their keys are equal, and says so of an element and any
    noise of it (keys reordered, a number jittered) within the key's budget."""
    if noisy:
        y = _variant(x, rng)
    a, b = (jsonvalue.parse(json.dumps(v).encode()) for v in (x, y))
    alike = changes._alike(a, b, changes._KEY_DEPTH, [changes._KEY_MEMBERS])
    assert not alike or changes._align_key(a) == changes._align_key(b)
    if noisy:
        assert changes._align_key(a) == changes._align_key(b)
        within = changes._align_key(a) == changes._key_of(a, changes._KEY_DEPTH, [10**9])
        assert alike or not within


def test_an_object_that_repeats_a_key_keys_its_members_in_order() -> None:
    repeated = jsonvalue.parse(b'{"a": 1, "a": "x"}')
    swapped = jsonvalue.parse(b'{"a": "x", "a": 1}')
    assert not changes._alike(repeated, swapped, changes._KEY_DEPTH, [changes._KEY_MEMBERS])
    assert changes._align_key(repeated) != changes._align_key(swapped)
    assert changes._alike(repeated, repeated, changes._KEY_DEPTH, [changes._KEY_MEMBERS])
