"""Classification, methods and plans on bytes (pure core; the git side has its own tests)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from phase2_git.core.classify import classify, text_numbers_close
from phase2_git.core.model import Blob, Change, Status
from phase2_git.core.pipeline import Settings, build_mismatch
from phase2_git.core.settings import (
    DEFAULT_METHODS,
    ClassifySettings,
    MethodSettings,
    PolicySettings,
)

SETTINGS = Settings(ClassifySettings(), MethodSettings(), PolicySettings())


def oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def blob(data: bytes, mode: str = "100644", limit: int | None = None) -> Blob:
    keep = data if limit is None or len(data) <= limit else None
    return Blob(oid(data), len(data), keep, data[:8000], mode)


def modified(path: str, a: bytes, b: bytes, **kw: str) -> tuple[Change, Blob, Blob]:
    ba, bb = blob(a, kw.get("mode_a", "100644")), blob(b, kw.get("mode_b", "100644"))
    change = Change("modified", path, None, ba.oid, bb.oid, ba.mode, bb.mode)
    return change, ba, bb


CASES = [
    # (path, before, after, artifact_type, mismatch_type)
    ("a.json", b'{"a": 1}\n', b'\xef\xbb\xbf{"a": 1}\n', "json", "bom"),
    ("a.json", b'{"a": 1,\n "b": 2}\n', b'{"a": 1,\r\n "b": 2}\r\n', "json", "line_endings"),
    ("a.json", b'{"a": 1}', b'{"a": 1}\n', "json", "trailing_newline"),
    (
        "a.json",
        b'{"a": 1, "b": [1, 2]}\n',
        b'{\n  "a": 1,\n  "b": [\n    1,\n    2\n  ]\n}\n',
        "json",
        "whitespace",
    ),
    ("a.json", b'{"a": 1, "b": 2}\n', b'{"b": 2, "a": 1}\n', "json", "json_ordering"),
    ("a.json", b'{"a": 1, "b": 2}\n', b'{\n "b": 2,\n "a": 1\n}', "json", "json_ordering"),
    ("a.json", b'{"a": 0.1}\n', b'{"a": 0.10000000000000001}\n', "json", "numeric_precision"),
    ("a.json", b'{"a": 1}\n', b'{"a": 1.0}\n', "json", "numeric_precision"),
    ("a.json", b'{"a": 0.1}\n', b'{"a": 0.2}\n', "json", "content"),
    ("a.json", b'{"a": 1}\n', b'{"a": true}\n', "json", "content"),
    # a string that became the number it spelled (and back) is a change of type, at any depth
    ("a.json", b'{"a": "1"}\n', b'{"a": 1}\n', "json", "content"),
    ("a.json", b'{"a": 1.5}\n', b'{"a":  "1.5"}\n', "json", "content"),
    ("a.json", b'{"a": "2", "b": 1}\n', b'{"b": 1, "a": 2}\n', "json", "content"),
    ("a.json", b'{"a": [{"v": "0"}]}', b'{"a": [{"v": 0}]}\n', "json", "content"),
    ("a.json", b'["1e3"]', b"[\n  1e3\n]", "json", "content"),
    ("a.json", b'{"a": "x y"}\n', b'{"a": "x  y"}\n', "json", "content"),
    ("a.json", b'{"a": 1}\n', b'{"a": 1\n', "json", "content"),
    ("a.json", b'{"a": 1, "a": 2}\n', b'{"a": 2, "a": 1}\n', "json", "content"),
    ("a.json", b'{"a": 1, "a": 2}\n', b'{"a": 1,  "a": 2}\n', "json", "whitespace"),
    ("a.json", b'{"a": NaN}\n', b'{"a":  NaN}\n', "json", "whitespace"),
    (
        "a.json",
        b'{"n": 18446744073709551616}\n',
        b'{"n": 18446744073709551617}\n',
        "json",
        "content",
    ),
    # inner runs of spaces are content in plain text (tables, string literals); trailing is noise
    ("a.txt", b"hello world\n", b"hello   world\n", "text", "content"),
    ("a.txt", b"hello world\n", b"hello world   \n", "text", "whitespace"),
    ("a.txt", b"a\nb\n", b"a\r\nb\r\n", "text", "line_endings"),
    ("a.txt", b"x = 1.0000000000001\n", b"x = 1.0000000000002\n", "text", "numeric_precision"),
    ("a.txt", b"x = 1.5\n", b"x = 2.5\n", "text", "content"),
    ("a.txt", b"acc 0.50\n", b"acc 0.5\n", "text", "numeric_precision"),
    # dotted runs are versions, addresses, dates: compared as written, never as floats
    ("a.txt", b"requests==2.10.0\n", b"requests==2.1.0\n", "text", "content"),
    ("a.txt", b"host 10.0.0.10\n", b"host 10.0.0.1\n", "text", "content"),
    ("a.txt", b"on 2024.10.05\n", b"on 2024.1.05\n", "text", "content"),
    ("a.txt", b"took 1.50.\n", b"took 1.5.\n", "text", "numeric_precision"),
    # two groups after a version's operator or prefix: a release, not a float
    ("a.txt", b"numpy>=1.20\n", b"numpy>=1.2\n", "text", "content"),
    ("a.txt", b"django==3.10\n", b"django==3.1\n", "text", "content"),
    ("a.txt", b'"lodash": "^4.10"\n', b'"lodash": "^4.1"\n', "text", "content"),
    ("a.txt", b"tag v1.10\n", b"tag v1.1\n", "text", "content"),
    ("a.txt", b"p<0.050 x=0.50\n", b"p<0.05 x=0.5\n", "text", "numeric_precision"),
    ("a.txt", b"dev0.50\n", b"dev0.5\n", "text", "numeric_precision"),
    ("a.txt", b"ab\n", b"a b\n", "text", "content"),
    ("a.txt", b"caf\xe9\n", b"caf\xe9 \n", "text", "content"),
    ("a.bin", b"\x00\x01", b"\x00\x02", "binary", "binary"),
    ("noext", b'{"a": 1, "b": 2}', b'{"b": 2, "a": 1}', "json", "json_ordering"),
    ("a.csv", b"\xef\xbb\xbfa\r\nb", b"a\nb\n", "text", "whitespace"),
]


@pytest.mark.parametrize(("path", "a", "b", "art", "expected"), CASES)
def test_classification_table(path: str, a: bytes, b: bytes, art: str, expected: str) -> None:
    change, ba, bb = modified(path, a, b)
    m = build_mismatch(change, ba, bb, SETTINGS, DEFAULT_METHODS)
    assert (m.artifact_type, m.mismatch_type) == (art, expected), m.detail
    assert m.equivalent == (expected not in ("content", "binary"))


def test_noise_plans_are_safe_and_restore_base_by_default() -> None:
    change, ba, bb = modified("a.json", b'{"a": 1, "b": 2}\n', b'{"b": 2, "a": 1}\n')
    m = build_mismatch(change, ba, bb, SETTINGS, DEFAULT_METHODS)
    assert m.plan.action == "restore_base"
    assert m.plan.safe and m.plan.confidence == 1.0
    assert "canonical_json" in m.plan.justified_by
    assert m.plan.plan_id.startswith("plan_")


def test_numeric_precision_is_noise_but_not_auto_applied_by_default() -> None:
    change, ba, bb = modified("a.json", b'{"a": 0.1}\n', b'{"a": 0.10000000000000001}\n')
    m = build_mismatch(change, ba, bb, SETTINGS, DEFAULT_METHODS)
    assert m.equivalent and not m.plan.safe
    assert "not in auto_apply_types" in m.plan.reason


def test_real_change_is_manual() -> None:
    change, ba, bb = modified("a.json", b'{"a": 1}\n', b'{"a": 2}\n')
    m = build_mismatch(change, ba, bb, SETTINGS, DEFAULT_METHODS)
    assert m.plan.action == "manual" and not m.plan.safe


def test_without_a_deterministic_proof_a_noise_plan_is_not_safe() -> None:
    change, ba, bb = modified("a.json", b'{"a": 1, "b": 2}\n', b'{"b": 2, "a": 1}\n')
    m = build_mismatch(change, ba, bb, SETTINGS, ("exact",))
    assert m.mismatch_type == "json_ordering"
    assert not m.plan.safe
    assert "no deterministic method" in m.plan.reason


def test_statistical_judge_alone_is_a_shadow_verdict() -> None:
    change, ba, bb = modified(
        "a.txt",
        b"the quick brown fox\n" * 20,
        b"the quick brown fox\n" * 19 + b"the quick brown cat\n",
    )
    m = build_mismatch(change, ba, bb, SETTINGS, ("exact", "cosine_similarity"))
    assert m.mismatch_type == "content"
    assert m.plan.action == "restore_base" and not m.plan.safe
    assert "shadow" in m.plan.reason
    gated = Settings(
        SETTINGS.classify,
        SETTINGS.methods,
        PolicySettings(
            auto_apply_types=("content",), gated_methods=frozenset({"cosine_similarity"})
        ),
    )
    m2 = build_mismatch(change, ba, bb, gated, ("exact", "cosine_similarity"))
    assert m2.plan.safe


def test_canonicalize_strategy_flags_only_non_canonical_heads() -> None:
    policy = PolicySettings(noise_strategy={"json_ordering": "canonicalize"})
    settings = Settings(SETTINGS.classify, SETTINGS.methods, policy)
    canonical = b'{\n  "a": 1,\n  "b": 2\n}\n'
    change, ba, bb = modified("a.json", b'{"b": 2, "a": 1}\n', canonical)
    m = build_mismatch(change, ba, bb, settings, DEFAULT_METHODS)
    assert m.mismatch_type == "json_ordering"
    assert m.plan.action == "canonicalize_json" and m.resolved
    change, ba, bb = modified("a.json", canonical, b'{"b": 2, "a": 1}\n')
    m = build_mismatch(change, ba, bb, settings, DEFAULT_METHODS)
    assert m.plan.action == "canonicalize_json" and not m.resolved and m.plan.safe


@pytest.mark.parametrize(
    ("status", "mtype", "action"),
    [("added", "added", "accept_change"), ("deleted", "deleted", "accept_change")],
)
def test_added_and_deleted(status: Status, mtype: str, action: str) -> None:
    b = blob(b"{}\n")
    before, after = (None, b) if status == "added" else (b, None)
    change = Change(
        status,
        "x.json",
        None,
        before and before.oid,
        after and after.oid,
        "100644" if before else "000000",
        "100644" if after else "000000",
    )
    m = build_mismatch(change, before, after, SETTINGS, DEFAULT_METHODS)
    assert (m.mismatch_type, m.plan.action, m.verdicts) == (mtype, action, ())


def test_rename_and_mode() -> None:
    b = blob(b"same\n")
    renamed = Change("renamed", "new.txt", "old.txt", b.oid, b.oid, "100644", "100644", 100)
    assert classify(renamed, b, b, ClassifySettings()).mismatch_type == "renamed"
    exe = Blob(b.oid, b.size, b.data, b.head, "100755")
    mode = Change("mode", "x.sh", None, b.oid, b.oid, "100644", "100755")
    assert classify(mode, b, exe, ClassifySettings()).mismatch_type == "mode"
    # a rename that also changes content takes that change's type
    _, ba, bb = modified("new.json", b'{"a":1,"b":2}', b'{"b":2,"a":1}')
    moved = Change("renamed", "new.json", "old.json", ba.oid, bb.oid, "100644", "100644", 80)
    assert build_mismatch(moved, ba, bb, SETTINGS, DEFAULT_METHODS).mismatch_type == "json_ordering"


def test_special_artifacts_are_never_parsed() -> None:
    lfs_a = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"a" * 64 + b"\nsize 10\n"
    lfs_b = lfs_a.replace(b"a" * 64, b"b" * 64)
    change, ba, bb = modified("big.json", lfs_a, lfs_b)
    m = build_mismatch(change, ba, bb, SETTINGS, DEFAULT_METHODS)
    assert (m.artifact_type, m.mismatch_type, m.plan.action) == ("lfs_pointer", "content", "manual")
    change, ba, bb = modified("link", b"target-a", b"target-b", mode_a="120000", mode_b="120000")
    m = build_mismatch(change, ba, bb, SETTINGS, DEFAULT_METHODS)
    assert (m.artifact_type, m.mismatch_type) == ("symlink", "content")
    sub_a, sub_b = b"Subproject commit " + b"1" * 40, b"Subproject commit " + b"2" * 40
    change, ba, bb = modified("sub", sub_a, sub_b, mode_a="160000", mode_b="160000")
    m = build_mismatch(change, ba, bb, SETTINGS, DEFAULT_METHODS)
    assert (m.artifact_type, m.mismatch_type) == ("submodule", "content")


def test_large_files_are_compared_by_hash_only() -> None:
    a, b = b'{"a": 1}' + b" " * 100, b'{"a": 1}' + b"\n" * 100
    ba, bb = blob(a, limit=50), blob(b, limit=50)
    change = Change("modified", "big.json", None, ba.oid, bb.oid, "100644", "100644")
    m = build_mismatch(change, ba, bb, SETTINGS, DEFAULT_METHODS)
    assert m.mismatch_type == "content"
    assert "compared by hash" in m.detail
    assert [v.equivalent for v in m.verdicts] == [False] * len(DEFAULT_METHODS)


def test_deep_json_does_not_crash() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    change, ba, bb = modified("deep.json", deep, deep + b"\n ")
    m = build_mismatch(change, ba, bb, SETTINGS, DEFAULT_METHODS)
    assert m.mismatch_type == "trailing_newline" or m.mismatch_type == "whitespace"
    change, ba, bb = modified("deep.json", deep, b"[" * 100_000 + b"1" + b"]" * 100_000)
    assert build_mismatch(change, ba, bb, SETTINGS, DEFAULT_METHODS).mismatch_type == "content"


_dotted = st.lists(st.integers(0, 120), min_size=3, max_size=4).map(
    lambda xs: ".".join(map(str, xs))
)


@settings(max_examples=300, deadline=None)
@given(
    _dotted,
    _dotted,
    st.sampled_from(["v", "pkg==", "host ", "", "at "]),
    st.sampled_from(["", ",", ";"]),
)
def test_a_dotted_run_is_never_close_to_another(a: str, b: str, before: str, after: str) -> None:
    """A version, an address or a date (three or more dotted groups) is compared as written,
    however close its groups are as floats, even within a tolerance of 50%."""
    loose = ClassifySettings(rel_tol=0.5, abs_tol=1.0)
    close, _ = text_numbers_close([f"{before}{a}{after}"], [f"{before}{b}{after}"], loose)
    assert close == (a == b)


_release = st.tuples(st.integers(0, 30), st.integers(0, 120)).map(lambda t: f"{t[0]}.{t[1]}")


@settings(max_examples=300, deadline=None)
@given(
    _release,
    _release,
    st.sampled_from(["pkg==", "pkg>=", "pkg<=", "pkg~=", "pkg!=", "^", "~", "~>", "@", "v", "V"]),
)
def test_a_release_after_a_version_mark_is_compared_as_written(a: str, b: str, mark: str) -> None:
    """Two groups after a version's operator or prefix are a release (1.20 is not 1.2), even
    within a tolerance of 50%; the same text elsewhere is a float (``x=1.20`` is ``x=1.2``)."""
    loose = ClassifySettings(rel_tol=0.5, abs_tol=1.0)
    close, _ = text_numbers_close([f"{mark}{a}"], [f"{mark}{b}"], loose)
    assert close == (a == b)
    floats, _ = text_numbers_close([f"x={a}0"], [f"x={a}"], loose)
    assert floats


# tokens made of the characters numbers, version marks and their lookbehind are made of
_chars = list("0123456789.+-eEvVa=<>~^@,;x")
_token = st.text(alphabet=st.sampled_from(_chars), max_size=30)


@st.composite
def _edited(draw: st.DrawFn) -> tuple[str, str]:
    """A token and the same with a character or two inserted, removed or replaced."""
    x = draw(st.text(alphabet=st.sampled_from(_chars), max_size=12))
    y = x
    for _ in range(draw(st.integers(1, 2))):
        at = draw(st.integers(0, len(y)))
        new = draw(st.sampled_from(_chars))
        y = draw(
            st.sampled_from(
                [y[:at] + new + y[at:], y[:at] + y[at + 1 :], y[:at] + new + y[at + 1 :]]
            )
        )
    return x, y


@settings(max_examples=1500, deadline=None)
@given(_token, _edited(), _token, st.sampled_from([(0.0, 0.0), (0.01, 0.0), (0.5, 1.0)]))
# cut with less than a version mark's worth of text before the number (``v84`` read as ``84``,
# ``7e19e`` as ``19e``), each took another verdict or another largest difference
@example("=~-><V51@=9791.-^x,-0x~1+vv84", ("", ".1"), ",24v>549.4e8a,.+6@-Ea-.38xE", (0.01, 0.0))
@example("V0aVa>48,5;4xV7e1", ("", "9"), "e<VE36^21-", (0.0, 0.0))
def test_a_long_token_is_compared_by_what_differs_in_it(
    shared_start: str, edit: tuple[str, str], shared_end: str, tol: tuple[float, float]
) -> None:
    """A token of a whole minified file is split on numbers only where the sides differ (cut
    where no number runs across, a version mark's worth of text kept before the first
    number): the verdict and the largest difference are those of the whole tokens."""
    from phase2_git.core import classify as c

    loose = ClassifySettings(rel_tol=tol[0], abs_tol=tol[1])
    x, y = edit
    a, b = [shared_start + x + shared_end], [shared_start + y + shared_end]
    whole = text_numbers_close(a, b, loose)
    kept = c._TRIM_FROM
    c._TRIM_FROM = 0
    try:
        trimmed = text_numbers_close(a, b, loose)
    finally:
        c._TRIM_FROM = kept
    assert trimmed == whole


def test_a_one_byte_edit_at_the_end_of_a_40_mb_line_is_not_split_whole() -> None:
    """Found on the hostile corpus: a 40 MB line of escapes with numbers every few bytes and
    one sequence appended took 15 s and a gigabyte (millions of split parts, twice);
    the parts are now those of the end that differs."""
    from phase2_git.core import classify as c

    line = "x\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\x1b[H" * 1_000_000
    a, b = line, line + "\x1b]8;;https://evil\x07"
    ma, mb = c._differing_middle(a, b)
    assert len(ma) < 100 and len(mb) < 100
    assert text_numbers_close([a], [b], ClassifySettings(rel_tol=0.5)) == (False, 0.0)
    jitter = line + "w=0.1000001"
    assert text_numbers_close([line + "w=0.1"], [jitter], ClassifySettings(rel_tol=0.01))[0]
