"""Property tests: every transform is idempotent and keeps the artifact equivalent under the
method that justifies it (invariant 3); the JSON parser never crashes on any input."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phase2_git.core import jsonvalue, transforms, whitespace
from phase2_git.core.classify import Pair
from phase2_git.core.methods import METHODS, MethodInput
from phase2_git.core.model import Blob
from phase2_git.core.settings import ClassifySettings, MethodSettings
from phase2_git.core.whitespace import WhitespaceRules

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_docs = st.recursive(
    json_scalars,
    lambda kids: (
        st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=8), kids, max_size=5)
    ),
    max_leaves=30,
)


def dumps_any(doc: object, indent: int | None, sort: bool) -> bytes:
    return json.dumps(doc, indent=indent, sort_keys=sort, ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )


text_bytes = st.text().map(lambda s: s.encode("utf-8", "surrogatepass")) | st.binary(max_size=200)


def verdict(
    method: str, a: bytes, b: bytes, art: str = "text", rules: WhitespaceRules = whitespace.ANY
) -> bool:
    blob_a = Blob("a", len(a), a, a[:8000])
    blob_b = Blob("b", len(b), b, b[:8000])
    pair = Pair.of(a, b, art, rules=rules)  # type: ignore[arg-type]
    m = MethodInput(blob_a, blob_b, pair, ClassifySettings(), MethodSettings())
    return METHODS[method].fn(m).equivalent


SIMPLE = [
    (transforms.t_strip_bom, None),
    (transforms.t_normalize_line_endings, "line_endings"),
    (transforms.t_final_newline, "whitespace"),
]


@pytest.mark.parametrize(("fn", "method"), SIMPLE)
@given(data=text_bytes)
def test_byte_transforms_idempotent_and_equivalent(fn, method, data: bytes) -> None:
    once = fn(data)
    assert fn(once) == once
    if method is not None and b"\0" not in data:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            if method == "whitespace":
                return
        assert verdict(method, data, once)


@given(st.text())
def test_normalize_whitespace(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    try:
        once = transforms.t_normalize_whitespace(data)
    except transforms.TransformError:
        # only undecodable input is refused
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        return
    assert transforms.t_normalize_whitespace(once) == once
    assert verdict("whitespace", data, once)
    assert b"\r" not in once and not once.startswith(b"\xef\xbb\xbf")


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=150)
@given(doc=json_docs, indent=st.sampled_from([None, 1, 2, 4]), sort=st.booleans())
def test_canonicalize_json(doc: object, indent: int | None, sort: bool) -> None:
    data = dumps_any(doc, indent, sort)
    fn = transforms.make_canonicalize_json(2)
    once = fn(data)
    assert fn(once) == once
    assert verdict("canonical_json", data, once, "json")
    # numbers keep their text: the multiset of number literals is unchanged
    assert jsonvalue.compare(
        jsonvalue.parse(data), jsonvalue.parse(once), ordered=False, numbers="text"
    ).equal


def test_canonicalize_keeps_number_text_and_refuses_duplicates() -> None:
    fn = transforms.make_canonicalize_json(2)
    assert fn(b'{"b": 1.10, "a": 1e400}') == b'{\n  "a": 1e400,\n  "b": 1.10\n}\n'
    with pytest.raises(transforms.TransformError):
        fn(b'{"a": 1, "a": 2}')
    with pytest.raises(transforms.TransformError):
        fn(b'{"a": NaN}')


def test_canonical_key_order_is_utf16() -> None:
    # RFC 8785: U+1F600 (surrogates D83D…) sorts before U+FB33 in UTF-16, after it in code points
    fn = transforms.make_canonicalize_json(0)
    out = fn('{"\ufb33": 1, "\U0001f600": 2}'.encode())
    assert out.decode().index("\U0001f600") < out.decode().index("\ufb33")


def test_restore_base() -> None:
    assert transforms.apply(transforms.RESTORE_BASE, b"base", b"head") == b"base"


@given(st.binary(max_size=300))
def test_parse_never_crashes_on_bytes(data: bytes) -> None:
    try:
        jsonvalue.parse(data)
    except jsonvalue.JsonInvalid:
        pass


@given(doc=json_docs)
def test_parse_roundtrip_compare(doc: object) -> None:
    a = jsonvalue.parse(dumps_any(doc, None, False))
    b = jsonvalue.parse(dumps_any(doc, 2, True))
    assert jsonvalue.compare(a, b, ordered=False).equal


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (b"1", b"1.0", True),
        (b"1", b"true", False),
        (b"0", b"false", False),
        (b'"1"', b"1", False),
        (b"null", b"0", False),
        (b"[1, 2]", b"[2, 1]", False),
        (b'{"a": [1]}', b'{"a": 1}', False),
        (b"1e400", b"1E+400", True),
        (b"-0", b"0", True),
        (b"18446744073709551616", b"18446744073709551616.0", True),
    ],
)
def test_json_number_semantics(a: bytes, b: bytes, equal: bool) -> None:
    assert jsonvalue.compare(jsonvalue.parse(a), jsonvalue.parse(b), ordered=False).equal is equal


@pytest.mark.parametrize(
    "bad",
    [b'{"a": NaN}', b"[Infinity]", b"[-Infinity]", b"\xff\xfe{}", b"[" * 100_000, b"", b"{} {}"],
)
def test_invalid_json(bad: bytes) -> None:
    with pytest.raises(jsonvalue.JsonInvalid):
        jsonvalue.parse(bad)


@given(st.binary(max_size=300))
def test_ids_sha256_is_hashlibs(data: bytes) -> None:
    """ids uses CPython's built-in sha256 to keep OpenSSL's import off the hook: same digest."""
    import hashlib

    from phase2_git.core.ids import sha256

    assert sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    h = sha256()
    h.update(data)
    h.update(b"\0")
    assert h.hexdigest() == hashlib.sha256(data + b"\0").hexdigest()
