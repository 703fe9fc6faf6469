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

from phase2_git.core import ids
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
