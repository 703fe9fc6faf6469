"""The fast validator (fastjsonschema) and the reference one (jsonschema) agree.

phase2 accepts or rejects with the compiled validator and words errors with jsonschema; the two
must never disagree on what is valid. Instances: every shipped schema's real documents made by
the product, then mutated by hypothesis (values swapped for other JSON values, keys dropped or
added)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from phase2_git.errors import UsageError
from phase2_git.store import schemas

ROOT = Path(__file__).parent.parent
NAMES = sorted(p.stem for p in (ROOT / "schemas").glob("*.json"))

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(
        ["../x", "/etc/passwd", "a/.git/b", "mis_0123456789ab", "0" * 40, "dec_" + "1" * 16]
    ),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3)
    ),
    max_leaves=8,
)

SAMPLE_EVENT: dict[str, Any] = {
    "schema": "ResolutionDecision.v1",
    "id": "dec_0123456789abcdef",
    "ts": "2026-11-27T08:00:00.000Z",
    "run_id": "run_0123456789ab",
    "env": "local",
    "mismatch_id": "mis_0123456789ab",
    "plan_id": "plan_0123456789ab",
    "action": "restore_base",
    "decision": "auto-approve",
    "user": {"id": "Ada <ada@example.com>", "role": "developer"},
    "ui": {"rich": False, "version": "0.1.0", "mode": "yes"},
    "config_fingerprint": "a" * 64,
    "transform": {"id": "restore_base.v1", "idempotent": True},
    "hashes": {"before": "1" * 40, "after": "2" * 40},
    "path": "golden/a.json",
    "label": "equivalent",
    "commit": None,
    "methods": [{"method": "exact", "equivalent": False, "score": 0.0, "detail": "x"}],
}
SAMPLE_CONFIG: dict[str, Any] = {
    "policy": {"mode": "auto", "sample_rate": 0.1},
    "artifacts": {"include": ["**"]},
}


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += paths(v, (*prefix, i))
    return out


def agree(instance: Any, name: str) -> None:
    reference = Draft202012Validator(schemas.load_schema(name)).is_valid(instance)
    assert schemas.is_valid(instance, name) == reference, (
        name,
        json.dumps(instance, default=str)[:300],
    )


@pytest.mark.parametrize("name", NAMES)
def test_every_schema_compiles_and_agrees_on_empty_and_garbage(name: str) -> None:
    instance: object
    for instance in ({}, [], None, "x", 1, {"schema": name}):
        agree(instance, name)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), value=json_values, drop=st.booleans())
def test_mutated_decisions_and_configs_agree(data: st.DataObject, value: Any, drop: bool) -> None:
    for name, sample in (("ResolutionDecision.v1", SAMPLE_EVENT), ("Config.v1", SAMPLE_CONFIG)):
        doc = copy.deepcopy(sample)
        where = data.draw(st.sampled_from(paths(doc)[1:]))
        parent: Any = doc
        for key in where[:-1]:
            parent = parent[key]
        if drop and isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent[where[-1]] = value
        agree(doc, name)
        agree(sample, name)


@pytest.mark.parametrize(
    "key",
    ["id", "mismatch_id", "run_id", "config_fingerprint"],
)
def test_a_final_newline_does_not_pass_an_anchored_pattern(key: str) -> None:
    """JSON Schema's ``$`` is ECMA-262's: ``"dec_…\\n"`` is not an id, though Python's ``$``
    matches before a final newline. Such a value in a PR's decision log would reach git."""
    event = copy.deepcopy(SAMPLE_EVENT)
    assert schemas.is_valid(event, "ResolutionDecision.v1")
    event[key] = event[key] + "\n"
    assert not schemas.is_valid(event, "ResolutionDecision.v1")
    assert not Draft202012Validator(schemas.load_schema("ResolutionDecision.v1")).is_valid(event)
    with pytest.raises(UsageError):
        schemas.check(event, "ResolutionDecision.v1", ".phase2/decisions.jsonl:1")
    hashes = copy.deepcopy(SAMPLE_EVENT)
    hashes["hashes"]["before"] = "1" * 40 + "\n"
    assert not schemas.is_valid(hashes, "ResolutionDecision.v1")


def test_only_an_unescaped_final_dollar_is_anchored() -> None:
    assert schemas._anchor("^a$") == "^a\\Z"
    assert schemas._anchor("^a\\$") == "^a\\$"
    assert schemas._anchor("^a\\\\$") == "^a\\\\\\Z"
    assert schemas._anchor("(^|/)x(/|$)") == "(^|/)x(/|$)"
