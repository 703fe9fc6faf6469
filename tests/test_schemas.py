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

_VERDICT = {"method": "exact", "equivalent": False, "score": 0.0, "detail": "bytes differ"}
_STEP_TRANSFORM = {"id": "strip_noise.v1", "idempotent": True}
SAMPLE_DIFF: dict[str, Any] = {
    "schema": "Phase2Diff.v1",
    "base": "1" * 40,
    "head": ":worktree",
    "config_fingerprint": "2" * 64,
    "methods": ["exact", "canonical_json"],
    "shard": {"index": 1, "count": 2},
    "notices": ["a notice"],
    "judges": {
        "llm": {
            "calls": 1,
            "input_tokens": 2,
            "output_tokens": 3,
            "cost": 0.5,
            "cache_hits": 0,
            "errors": 0,
        }
    },
    "mismatches": [
        {
            "id": "mis_0123456789ab",
            "path": "a.json",
            "old_path": None,
            "status": "modified",
            "artifact_type": "json",
            "mismatch_type": "content",
            "equivalent": False,
            "detail": "values differ",
            "verdicts": [_VERDICT, {**_VERDICT, "method": "canonical_json", "score": 0.5}],
            "plan": {
                "plan_id": "plan_0123456789ab",
                "action": "manual",
                "transform": None,
                "safe": False,
                "confidence": 1.0,
                "reason": "a real change",
                "justified_by": ["exact"],
                "first": {
                    "plan_id": "plan_ba9876543210",
                    "action": "strip_noise",
                    "transform": _STEP_TRANSFORM,
                    "safe": True,
                    "confidence": 1.0,
                    "reason": "noise beside it",
                    "justified_by": ["canonical_json"],
                },
            },
            "hashes": {"before": "3" * 40, "after": "4" * 64},
            "modes": {"before": "100644", "after": "100644"},
            "resolved": False,
            "decision": {"id": "dec_0123456789abcdef", "decision": "approve", "trusted": True},
            "changes": {
                "real": [
                    {
                        "kind": "changed",
                        "path": "$.a",
                        "before": "1",
                        "after": "2",
                        "line": 2,
                        "base_line": None,
                    }
                ],
                "more": 0,
                "noise": [{"type": "json_ordering", "detail": "keys moved", "at": ["$"]}],
            },
        }
    ],
    "summary": {
        "total": 1,
        "noise": 0,
        "real": 1,
        "safe": 0,
        "resolved": 0,
        "approved": 1,
        "unresolved_real": 0,
        "unresolved_noise": 0,
        "by_mismatch_type": {"content": 1},
        "by_artifact_type": {"json": 1},
        "by_status": {"modified": 1},
        "fail_on": "real",
        "failing": 0,
        "exit_code": 0,
    },
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


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), value=json_values, drop=st.booleans())
def test_mutated_diff_reports_agree(data: st.DataObject, value: Any, drop: bool) -> None:
    """The fast validator compiles Phase2Diff with its references inlined
    (``schemas.inline_refs``); jsonschema reads the schema as written. Every place a reference
    stood (items, properties, a reference beside a description) is mutated here."""
    assert schemas.is_valid(SAMPLE_DIFF, "Phase2Diff.v1")
    doc = copy.deepcopy(SAMPLE_DIFF)
    where = data.draw(st.sampled_from(paths(doc)[1:]))
    parent: Any = doc
    for key in where[:-1]:
        parent = parent[key]
    if drop and isinstance(parent, dict):
        del parent[where[-1]]
    elif drop and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[where[-1]]))  # one more item of the same array
    else:
        parent[where[-1]] = value
    agree(doc, "Phase2Diff.v1")


@pytest.mark.parametrize("name", NAMES)
def test_every_schema_inlines_to_one_without_local_references(name: str) -> None:
    """None of the shipped schemas refers to itself: inlined, the compiled validator makes no
    call per array item (the mutation tests check it still means the same)."""
    inlined = schemas.inline_refs(schemas.load_schema(name))
    body = {k: v for k, v in inlined.items() if k != "$defs"}
    assert "#/$defs/" not in json.dumps(body)
    Draft202012Validator.check_schema(inlined)


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


def test_const_becomes_a_one_value_enum_and_names_stay_names() -> None:
    """The fast validator compiles ``const`` as ``enum`` (fastjsonschema cannot compile it
    without detailed exceptions): a property named "const" and data are left alone."""
    schema = {
        "properties": {
            "const": {"const": [3, 5]},
            "kind": {"const": "a", "enum": ["a", "b"], "default": {"const": 1}},
        },
        "examples": [{"const": 2}],
        "dependentRequired": {"const": ["kind"]},
    }
    assert schemas.const_as_enum(schema) == {
        "properties": {
            "const": {"enum": [[3, 5]]},
            "kind": {"enum": ["a", "b"], "default": {"const": 1}, "allOf": [{"enum": ["a"]}]},
        },
        "examples": [{"const": 2}],
        "dependentRequired": {"const": ["kind"]},
    }


def _tag(name: str) -> str | None:
    tag = schemas.load_schema(name).get("properties", {}).get("schema", {}).get("const")
    return tag if isinstance(tag, str) else None


@pytest.mark.parametrize("name", [n for n in NAMES if _tag(n)])
def test_every_schema_tag_is_checked(name: str) -> None:
    """Each document's ``schema`` tag is a ``const``: another value is refused by both."""
    tag = _tag(name)
    assert tag is not None
    for instance in ({"schema": tag}, {"schema": tag + "x"}, {"schema": tag.lower()}):
        agree(instance, name)


def test_a_real_document_with_another_schema_tag_is_refused() -> None:
    assert schemas.is_valid(SAMPLE_DIFF, "Phase2Diff.v1")
    other = copy.deepcopy(SAMPLE_DIFF) | {"schema": "Phase2Diff.v2"}
    assert not schemas.is_valid(other, "Phase2Diff.v1")
    agree(other, "Phase2Diff.v1")
    event = copy.deepcopy(SAMPLE_EVENT) | {"schema": "ResolutionDecision.v2"}
    assert not schemas.is_valid(event, "ResolutionDecision.v1")
