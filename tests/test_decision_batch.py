"""Validating many decisions at once (``decisions.validate_all``) accepts exactly what checking
each whole event against the schema accepts (jsonschema, the reference).

``validate_all`` skips a value that is the very object an earlier event of the batch held under
the same key (or a string it held there, or an array item checked before), and checks the
schema per property, with its ``not``-``anyOf`` patterns merged into one: these tests give it
batches whose events share objects, then mutate one event anywhere (the shared objects too, the
way a bug would), and compare with the reference on every event."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from phase2_git.errors import UsageError
from phase2_git.store import decisions, schemas
from tests.test_schemas import SAMPLE_EVENT, json_values, paths

REFERENCE = Draft202012Validator(schemas.load_schema(decisions.SCHEMA))


def batch_accepts(events: list[dict[str, Any]]) -> bool:
    try:
        decisions.validate_all(events)
    except UsageError:
        return False
    return True


def sharing_batch(n: int) -> list[dict[str, Any]]:
    """``n`` events as ``resolve --yes`` makes them: user, ui, transform and a verdict are one
    object in all of them; ids, paths and hashes their own."""
    base = copy.deepcopy(SAMPLE_EVENT)
    shared = {k: base[k] for k in ("user", "ui", "transform")}
    verdict = base["methods"][0]
    out = []
    for i in range(n):
        ev = copy.deepcopy(base)
        ev.update(shared)
        ev["methods"] = [verdict, {"method": "numeric", "equivalent": True, "score": 1.0}]
        ev["id"] = f"dec_{i:016x}"
        ev["path"] = f"golden/{i}.json"
        ev["hashes"] = {"before": f"{i:040x}", "after": f"{i + 1:040x}"}
        out.append(ev)
    return out


def test_a_sharing_batch_is_valid() -> None:
    events = sharing_batch(5)
    assert all(REFERENCE.is_valid(e) for e in events)
    decisions.validate_all(events)


def test_an_array_item_that_is_none_is_checked() -> None:
    """A verdict that is ``null``: no earlier item of the batch, so checked (the batch took
    the id it had never seen for one it had, since a missing key read as None)."""
    ev = copy.deepcopy(SAMPLE_EVENT)
    ev["methods"] = [None]
    assert not REFERENCE.is_valid(ev)
    assert not batch_accepts([ev])
    assert not batch_accepts([copy.deepcopy(SAMPLE_EVENT), ev])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    value=json_values,
    drop=st.booleans(),
    n=st.integers(1, 4),
    share=st.booleans(),
)
def test_batch_agrees_with_the_reference(
    data: st.DataObject, value: Any, drop: bool, n: int, share: bool
) -> None:
    events = sharing_batch(n) if share else [copy.deepcopy(SAMPLE_EVENT) for _ in range(n)]
    target = events[data.draw(st.integers(0, n - 1))]
    where = data.draw(st.sampled_from(paths(target)[1:]))
    parent: Any = target
    for key in where[:-1]:
        parent = parent[key]
    if drop and isinstance(parent, dict):
        del parent[where[-1]]
    elif drop and isinstance(parent, list):
        parent.append(parent[where[-1]])  # the same item twice
    else:
        parent[where[-1]] = value
    expected = all(REFERENCE.is_valid(e) for e in events)
    assert batch_accepts(events) == expected, (where, value)


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "../x", "a/../b", "a/..", "..", ".git", "a/.git/b", "a/.git", "a\0b", "a/..b"],
)
def test_the_merged_path_patterns_mean_the_same(path: str) -> None:
    """safePath's four ``not``-``anyOf`` patterns, checked as one alternation."""
    ev = copy.deepcopy(SAMPLE_EVENT)
    ev["path"] = path
    assert batch_accepts([ev]) == REFERENCE.is_valid(ev)
    assert batch_accepts([copy.deepcopy(SAMPLE_EVENT), ev]) == REFERENCE.is_valid(ev)


def test_a_string_checked_under_one_key_is_checked_again_under_another() -> None:
    ev = copy.deepcopy(SAMPLE_EVENT)
    bad = copy.deepcopy(SAMPLE_EVENT)
    bad["id"] = ev["path"]  # a string that passed as a path is no decision id
    with pytest.raises(UsageError, match="id"):
        decisions.validate_all([ev, bad])


def test_an_error_names_the_key() -> None:
    events = sharing_batch(3)
    events[2]["hashes"] = {"before": "nothex", "after": None}
    with pytest.raises(UsageError, match=r"\.phase2/decisions\.jsonl: hashes\.before: "):
        decisions.validate_all(events)


def test_merged_patterns_leave_flags_and_back_references_alone() -> None:
    flagged = {"not": {"anyOf": [{"pattern": "(?i)a"}, {"pattern": "b"}]}}
    assert decisions._merged_patterns(flagged) == flagged
    backref = {"not": {"anyOf": [{"pattern": "(a)\\1"}, {"pattern": "b"}]}}
    assert decisions._merged_patterns(backref) == backref
    plain = {"not": {"anyOf": [{"pattern": "^/"}, {"pattern": "x"}]}}
    assert decisions._merged_patterns(plain) == {"not": {"pattern": "(?:^/)|(?:x)"}}


def test_appended_blocks_are_the_appended_content_and_validate_first() -> None:
    existing = decisions.encode(SAMPLE_EVENT)
    events = sharing_batch(1100)  # three blocks of up to 512 lines
    blocks = decisions.appended_blocks(existing, events)
    joined = b"".join(blocks)
    assert joined == decisions.appended_content(existing, events)
    assert joined == existing + b"".join(decisions.encode(e) for e in events)
    assert len(list(decisions.appended_blocks(existing, events))) == 1 + 3
    assert b"".join(decisions.appended_blocks(b"", [])) == b""
    # refused before a block is handed out: a caller writing blocks out writes none
    events[1099]["hashes"] = {"before": "nothex", "after": None}
    with pytest.raises(UsageError, match="hashes"):
        decisions.appended_blocks(existing, events)
    with pytest.raises(UsageError, match="truncated"):
        decisions.appended_blocks(existing[:-1], sharing_batch(1))
