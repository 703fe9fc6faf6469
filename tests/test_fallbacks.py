"""CPython internals phase2 uses for speed or start-up, each with a public fallback. On every
supported Python (.ci/run also runs these files on the oldest and the newest) the fast path
gives exactly what the public API gives, or is not taken."""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phase2_git.core import ids, model
from phase2_git.errors import UsageError
from phase2_git.reports import jsonout
from phase2_git.store.config import parse_toml

# strings as phase2 meets them: any code point, surrogate escapes of odd bytes in paths, and
# the "##[" a GitHub runner would read as a command
strings = st.text(st.characters(exclude_categories=())) | st.sampled_from(
    ["##[error]x", "\udcff", "é\n\t\x00", ""]
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | strings,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=300)
@given(json_values)
def test_json_encoder_fast_path_is_json_dumps(value: Any) -> None:
    """reports/jsonout.py calls json's C encoder directly (``c_make_encoder``, private)."""
    text = jsonout._enc(value)
    assert text == jsonout._dumps(value)
    assert json.loads(text) == value and "##[" not in text


# every field of a mismatch as its to_json() writes it: scores that round, -0.0, integers and
# non-finite floats the report refuses, odd strings, the rare parts (a decision, a first step,
# the changes)
scores = st.floats() | st.integers(-2, 2) | st.sampled_from([0.0, -0.0, 1.0, 0.1234565, 1e-300])
optional = st.none() | strings
verdicts = st.builds(model.Verdict, strings, st.booleans(), scores, strings)
transforms = st.none() | st.builds(model.Transform, strings, st.booleans())
steps = st.builds(
    model.Step,
    strings,
    strings,
    st.builds(model.Transform, strings, st.booleans()),
    st.booleans(),
    scores,
    strings,
    st.lists(strings, max_size=2).map(tuple),
)
plans = st.builds(
    model.Plan,
    strings,
    strings,
    transforms,
    st.booleans(),
    scores,
    strings,
    st.lists(strings, max_size=3).map(tuple),
    st.none() | steps,
)
real_changes = st.builds(
    model.RealChange,
    strings,
    optional,
    optional,
    optional,
    st.none() | st.integers(0, 9),
    st.none() | st.integers(0, 9),
    optional,
)
changes = st.builds(
    model.Changes,
    st.lists(real_changes, max_size=2).map(tuple),
    st.integers(0, 3),
    st.lists(
        st.builds(model.NoiseFound, strings, strings, st.lists(strings, max_size=2).map(tuple)),
        max_size=2,
    ).map(tuple),
)
mismatches = st.builds(
    model.Mismatch,
    strings,
    st.builds(model.Change, strings, strings, optional, optional, optional, strings, strings),
    strings,
    st.sampled_from(["whitespace", "content", "added", "json_ordering"]) | strings,
    strings,
    st.lists(verdicts, max_size=5).map(tuple),
    plans,
    st.booleans(),
    st.none() | st.dictionaries(strings, json_values, max_size=3),
    st.none() | changes,
)


@settings(max_examples=300)
@given(st.lists(mismatches, min_size=1, max_size=3))
def test_mismatch_encoder_writes_to_json_bytes(ms: list[model.Mismatch]) -> None:
    """reports/jsonout.encode_mismatch writes a mismatch's line without its dicts: the same
    bytes as encoding ``to_json()``, or the same refusal (a NaN or infinite score). Twice, and
    mismatches in a row: its cache of verdicts must never answer for another verdict."""
    for m in ms * 2:
        try:
            want = jsonout._enc(m.to_json())
        except ValueError:
            with pytest.raises(ValueError):
                jsonout.encode_mismatch(m)
            continue
        assert jsonout.encode_mismatch(m) == want


# paths and object ids as phase2 holds them: decoded from bytes, odd bytes as surrogate escapes
names = st.text() | st.binary().map(lambda b: b.decode("utf-8", "surrogateescape"))


@given(st.lists(names, max_size=4))
def test_ids_hash_is_hashlibs_sha256(parts: list[str]) -> None:
    """core/ids.py hashes with CPython's own ``_sha2`` (3.12+) or ``_sha256`` module."""
    want = hashlib.sha256()
    for part in parts:
        want.update(part.encode("utf-8", "surrogateescape") + b"\0")
    assert ids._digest(*parts) == want.hexdigest()


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"[a\n", "c.toml: invalid TOML: "),
        (b"a = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "c.toml: invalid TOML: "),
        (b"a = '\xff'\n", "c.toml: not UTF-8"),
    ],
)
def test_toml_parser_of_this_python(raw: bytes, error: str) -> None:
    """tomllib from 3.11, the tomli package before: the same tables, the same one-line errors
    (deep nesting included, where either may recurse)."""
    assert parse_toml(b'[a]\nb = [1, 2.5, "x"]\n', "c.toml") == {"a": {"b": [1, 2.5, "x"]}}
    with pytest.raises(UsageError) as exc:
        parse_toml(raw, "c.toml")
    assert str(exc.value).startswith(error) and "\n" not in str(exc.value)
    assert ("tomllib" in sys.modules) == (sys.version_info >= (3, 11))
