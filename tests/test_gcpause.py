"""The collector paused around large documents: what the pause promises (the collector's
state restored, nesting, exceptions), and that a large parse or pair really runs without a
collection while a small one is left alone. Collections are observed through
``gc.callbacks``, the interpreter's own report of each one."""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from phase2_git.core import jsonvalue, pipeline
from phase2_git.core.gcpause import PAUSE_FROM, gc_paused
from phase2_git.core.model import Blob, Change
from phase2_git.core.pipeline import Settings, build_mismatch
from phase2_git.core.settings import (
    DEFAULT_METHODS,
    ClassifySettings,
    MethodSettings,
    PolicySettings,
)

SETTINGS = Settings(ClassifySettings(), MethodSettings(), PolicySettings())


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@contextmanager
def collections() -> Iterator[list[int]]:
    """The generations of the collections that start inside the block."""
    seen: list[int] = []

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(note)
    try:
        yield seen
    finally:
        gc.callbacks.remove(note)


def document(rows: int) -> bytes:
    """Pretty-printed JSON of ``rows`` records, the shape of a regenerated data file."""
    data = [
        {"id": i, "name": f"item-{i}", "score": i / 7, "tags": ["a", "b"][: i % 2 + 1]}
        for i in range(rows)
    ]
    return json.dumps(data, indent=2).encode() + b"\n"


LARGE = document(2_000)
SMALL = document(3)


def test_sizes_straddle_the_threshold() -> None:
    assert len(SMALL) < PAUSE_FROM // 2 and len(LARGE) > PAUSE_FROM


def test_pause_restores_the_collector() -> None:
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block is still running
    assert gc.isenabled()


def test_pause_restores_the_collector_after_an_exception() -> None:
    with pytest.raises(ZeroDivisionError), gc_paused():
        _ = 1 / 0
    assert gc.isenabled()


def test_pause_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_a_large_parse_runs_without_a_collection() -> None:
    text = LARGE.decode()
    with collections() as control:
        plain = jsonvalue._DECODER.decode(text)  # the same parser, the collector on
    assert len(control) > 2, "a parse of this size sets off collections: the test saw none"
    with collections() as seen:
        value = jsonvalue.parse_text(text)
    # none while it parses; once the collector is back, the young objects it made are looked
    # at once, by the first allocation after (inside this block or not: a tracer allocates)
    assert len(seen) <= 1
    assert value == plain
    assert gc.isenabled()


def test_a_large_invalid_document_restores_the_collector() -> None:
    with pytest.raises(jsonvalue.JsonInvalid):
        jsonvalue.parse_text(LARGE.decode()[:-3])
    assert gc.isenabled()


def test_a_small_parse_is_left_as_it_is() -> None:
    # the collector stays on: a pause costs more than a small document's collections
    states: list[bool] = []
    decoder = jsonvalue._DECODER
    original: Callable[..., object] = decoder.decode

    def spy(text: str) -> object:
        states.append(gc.isenabled())
        return original(text)

    decoder.decode = spy  # type: ignore[method-assign,assignment]
    try:
        jsonvalue.parse_text(SMALL.decode())
        jsonvalue.parse_text(LARGE.decode())
    finally:
        del decoder.decode
    assert states == [True, False]


def _blob(data: bytes) -> Blob:
    oid = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    return Blob(oid, len(data), data, data[:8000], "100644")


def _pair(base: bytes, head: bytes) -> tuple[Change, Blob, Blob]:
    a, b = _blob(base), _blob(head)
    return Change("modified", "data/rows.json", None, a.oid, b.oid, "100644", "100644"), a, b


def test_a_large_pair_is_built_without_a_collection() -> None:
    # keys reordered in every record and one value changed: both documents are walked whole
    rows = json.loads(LARGE)
    rows[1000]["score"] = -1
    head = json.dumps([dict(reversed(r.items())) for r in rows], indent=2).encode() + b"\n"
    change, a, b = _pair(LARGE, head)
    with collections() as control:
        expected = pipeline._build(change, a, b, SETTINGS, DEFAULT_METHODS)
    assert len(control) > 2, "building this pair sets off collections: the test saw none"
    with collections() as seen:
        m = build_mismatch(change, a, b, SETTINGS, DEFAULT_METHODS)
    assert len(seen) <= 1  # none while it builds; at most the one after (see above)
    assert m == expected
    assert m.changes is not None and m.changes.mixed  # the walk ran: reordering, one change
    assert gc.isenabled()


def test_a_large_strip_runs_without_a_collection() -> None:
    # resolve and `check --fix` strip the noise of a mixed pair: two more walks of both
    # documents (the strip, then its proof), which the diff's pause does not cover
    from phase2_git.core import changes, transforms
    from phase2_git.core.whitespace import rules_for

    rows = json.loads(LARGE)
    rows[1000]["score"] = -1
    head = json.dumps([dict(reversed(r.items())) for r in rows], indent=2).encode() + b"\n"
    settings, rules = ClassifySettings(), rules_for("data/rows.json")
    with collections() as control:
        expected = changes.strip_json(
            LARGE, head, rel_tol=settings.rel_tol, abs_tol=settings.abs_tol
        )
        assert transforms.stripped_proof(expected, head, rules, settings) is not None
    assert len(control) > 2, "stripping this pair sets off collections: the test saw none"
    spec = transforms.strip_noise("json", rules, settings)
    with collections() as seen:
        out = transforms.apply(spec, LARGE, head)
    assert len(seen) <= 1  # none while it strips; at most the one after (see above)
    assert out == expected
    assert json.loads(out)[1000]["score"] == -1  # the real change is kept
    assert out.startswith(LARGE[:100])  # the base's key order comes back
    assert gc.isenabled()
