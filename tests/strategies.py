"""Hypothesis strategies for hostile input: text and bytes that try to break a
terminal, a parser or a path check. Shared by tests/test_parsers_hostile.py and the
hypothesis fallback of tests/fuzz/.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

ESCAPES = (
    "\x1b]52;c;ZWNobyBwd25lZA==\x07",  # OSC 52 clipboard write
    "\x1b]8;;https://evil.example/\x1b\\",  # OSC 8 hyperlink
    "\x1b[2J",  # CSI clear screen
    "\x1b[31m",
    "\x1bP1$r\x1b\\",  # DCS
    "\x9b2J",  # 8-bit CSI
    "\x9d0;title\x07",  # 8-bit OSC
    "\x1b]0;unterminated",
    "\u202e",  # bidi override
    "\u2028",
    "\ufeff",
)
NASTY_CHARS = st.sampled_from(
    ["\x00", "\x07", "\x08", "\n", "\r", "\t", "\x7f", "\x85", "\ud800", "\udcff", "\uffff", "\\"]
)
TRAVERSALS = (
    "../../.bashrc",
    "/etc/passwd",
    "..",
    "a/../../b",
    ".git/config",
    ".git/HEAD",
    "a/.git/hooks/pre-commit",
    "./../x",
    "x/\x00/y",
    "/",
)


@st.composite
def hostile_text(draw: st.DrawFn, max_size: int = 80) -> str:
    """Printable text interleaved with escape sequences, controls, surrogates and bidi marks."""
    parts = draw(
        st.lists(
            st.one_of(
                st.text(max_size=12),
                st.sampled_from(ESCAPES),
                NASTY_CHARS,
                st.characters(codec=None, categories=("Cc", "Cf", "Cs", "Zl", "Zp")),
            ),
            max_size=max(1, max_size // 8),
        )
    )
    return "".join(parts)[:max_size]


@st.composite
def hostile_bytes(draw: st.DrawFn, max_size: int = 200) -> bytes:
    """Bytes: invalid UTF-8, BOMs (UTF-8/16/32), NUL, escapes, CR."""
    parts = draw(
        st.lists(
            st.one_of(
                st.binary(max_size=16),
                st.sampled_from(
                    [
                        b"\xef\xbb\xbf",
                        b"\xff\xfe",
                        b"\xfe\xff",
                        b"\x00\x00\xfe\xff",
                        b"\xc3\x28",
                        b"\xed\xa0\x80",
                        b"\xf4\x90\x80\x80",
                        b"\r",
                        b"\x00",
                        b"\x1b[2J",
                    ]
                ),
                hostile_text(max_size=16).map(lambda s: s.encode("utf-8", "surrogatepass")),
            ),
            max_size=max(1, max_size // 8),
        )
    )
    return b"".join(parts)[:max_size]


def hostile_paths() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(TRAVERSALS),
        st.builds(lambda a, b: f"{a}/{b}", st.sampled_from(TRAVERSALS), hostile_text(12)),
        hostile_text(40),
    )


NUMBER_TOKENS = (
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "1e999999999",
    "1.5e-999999999",
    "1" + "0" * 5000,
    "-0",
    "0.1e1",
    "1E+2",
    "01",
    "1.",
    ".5",
)


def json_values(max_leaves: int = 20) -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        hostile_text(24),
    )
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(hostile_text(8), children, max_size=4),
        ),
        max_leaves=max_leaves,
    )


@st.composite
def hostile_json(draw: st.DrawFn) -> bytes:
    """A JSON-ish document: valid JSON, or one mutated with what strict parsers must refuse
    (NaN, huge exponents, duplicate keys, deep nesting, truncation, invalid UTF-8)."""
    doc = json.dumps(draw(json_values()), ensure_ascii=draw(st.booleans()))
    kind = draw(st.sampled_from(["valid", "number", "dup", "deep", "cut", "bytes"]))
    if kind == "number":
        doc = f'{{"x": {draw(st.sampled_from(NUMBER_TOKENS))}, "y": {doc}}}'
    elif kind == "dup":
        doc = f'{{"a": {doc}, "a": 1}}'
    elif kind == "deep":
        depth = draw(st.sampled_from([10, 900, 1100, 5000, 100_000]))
        doc = "[" * depth + doc + "]" * depth
    elif kind == "cut" and doc:
        doc = doc[: draw(st.integers(0, len(doc) - 1))]
    data = doc.encode("utf-8", "surrogatepass")
    if kind == "bytes":
        data = draw(hostile_bytes()) + data
    return data


def mutate_object(obj: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``obj`` with one key replaced by a hostile value (or removed, or a hostile key added)."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        out = dict(obj)
        key = draw(st.sampled_from(sorted(obj)))
        how = draw(st.sampled_from(["value", "path", "drop", "extra"]))
        if how == "value":
            out[key] = draw(st.one_of(json_values(6), hostile_text()))
        elif how == "path":
            out[key] = draw(hostile_paths())
        elif how == "drop":
            del out[key]
        else:
            out[draw(hostile_text(10))] = draw(json_values(3))
        return out

    return build()
