"""Diff rendering for the review: structural JSON changes, visible noise, limits, grouping."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from phase2_git.core import jsonvalue
from phase2_git.core.model import Blob, Change
from phase2_git.core.pipeline import Settings, build_mismatch
from phase2_git.core.settings import (
    DEFAULT_METHODS,
    ClassifySettings,
    MethodSettings,
    PolicySettings,
)
from phase2_git.ui import diffview

SETTINGS = Settings(ClassifySettings(), MethodSettings(), PolicySettings())


def mismatch(path: str, a: bytes, b: bytes):
    def blob(d: bytes) -> Blob:
        return Blob(hashlib.sha1(d).hexdigest(), len(d), d, d[:8000])

    ba, bb = blob(a), blob(b)
    change = Change("modified", path, None, ba.oid, bb.oid, "100644", "100644")
    return build_mismatch(change, ba, bb, SETTINGS, DEFAULT_METHODS)


def test_json_structural_changes() -> None:
    a = jsonvalue.parse(b'{"items": [{"price": 1.0}], "gone": 1, "k": {"x": 1, "y": 2}}')
    b = jsonvalue.parse(b'{"items": [{"price": 1.5}, 2], "new": true, "k": {"y": 2, "x": 1}}')
    changes = diffview.json_changes(a, b)
    assert "$.items[0].price: 1.0 → 1.5" in changes
    assert "+ $.items[1]: 2" in changes
    assert "- $.gone: 1" in changes and "+ $.new: true" in changes
    assert "$.k: keys moved: x, y → y, x" in changes


def test_text_view_makes_noise_visible_and_highlights_words() -> None:
    m = mismatch("a.txt", b"one two\n", b"one  two\r\n")
    plain = diffview.render(m, b"one two\n", b"one  two\r\n").plain()
    assert "one··two␍" in plain
    m = mismatch("b.txt", b"alpha beta gamma\n", b"alpha BETA gamma\n")
    view = diffview.render(m, b"alpha beta gamma\n", b"alpha BETA gamma\n")
    words = [seg for line in view.lines for seg in line if seg.style.endswith("-word")]
    assert [w.text for w in words] == ["beta", "BETA"]
    m = mismatch("c.txt", b"x\n", b"x")
    assert "no final newline" in diffview.render(m, b"x\n", b"x").plain()


def test_limits_binary_and_escapes() -> None:
    big_a = b"".join(b"line %d\n" % i for i in range(200))
    big_b = b"".join(b"LINE %d\n" % i for i in range(200))
    m = mismatch("big.txt", big_a, big_b)
    view = diffview.render(m, big_a, big_b)
    assert len(view.lines) == diffview.MAX_LINES and view.hidden > 0
    assert "more lines hidden: press d to page the rest" in view.plain()
    assert len(diffview.render(m, big_a, big_b, full=True).lines) > diffview.MAX_LINES
    m = mismatch("x.bin", b"\0a", b"\0b")
    assert "[binary content]" in diffview.render(m, b"\0a", b"\0b").plain()
    evil = b"\x1b]52;c;ZWNobw==\x07ok " + b"y" * 500 + b"\n"
    m = mismatch("e.txt", b"ok\n", evil)
    shown = diffview.render(m, b"ok\n", evil).plain()
    assert "\x1b" not in shown and "\x07" not in shown and "(+" in shown


def test_numeric_view_and_signature_groups_identical_changes() -> None:
    m = mismatch("n.json", b'{"a": 0.1}\n', b'{"a": 0.10000000000000001}\n')
    assert (
        "numbers:" in diffview.render(m, b'{"a": 0.1}\n', b'{"a": 0.10000000000000001}\n').plain()
    )
    one = mismatch("g/1.json", b'{"id": 1}\n', b'{"id": 1, "v": 2}\n')
    two = mismatch("g/2.json", b'{"id": 2}\n', b'{"id": 2, "v": 2}\n')
    other = mismatch("g/3.json", b'{"id": 3}\n', b'{"id": 3, "v": 3}\n')
    sig = diffview.signature
    assert sig(one, b'{"id": 1}\n', b'{"id": 1, "v": 2}\n') == sig(
        two, b'{"id": 2}\n', b'{"id": 2, "v": 2}\n'
    )
    assert sig(one, b'{"id": 1}\n', b'{"id": 1, "v": 2}\n') != sig(
        other, b'{"id": 3}\n', b'{"id": 3, "v": 3}\n'
    )
    assert sig(one, None, b"x") is None


def test_meaningful_whitespace_is_shown_too() -> None:
    """A YAML key moved out of its mapping is a real change made of whitespace alone: the
    view must show the indentation, or the reader sees two equal lines."""
    before, after = (
        b"server:\n  admin: false\n  debug: false\n",
        b"server:\n  admin: false\ndebug: false\n",
    )
    m = mismatch("c.yaml", before, after)
    assert m.mismatch_type == "content"
    plain = diffview.render(m, before, after).plain()
    assert "-··debug:·false" in plain and "+debug:·false" in plain


def test_content_view_lists_changes_and_shows_the_residual_diff() -> None:
    before = b'{\n  "a": {\n    "x": 1,\n    "y": "10.1"\n  },\n  "b": [\n    1,\n    2\n  ]\n}\n'
    after = before.replace(b"\n  ", b"\n    ").replace(b'"10.1"', b'"10.3"')
    after = after.replace(b"\n", b"\r\n")
    m = mismatch("c.json", before, after)
    assert m.mismatch_type == "content" and m.changes is not None and m.changes.mixed
    view = diffview.render(m, before, after, settings=SETTINGS.classify)
    assert view.structural == ('$.a.y: "10.1" → "10.3"',)
    assert view.aside.startswith("noise set aside")
    assert "re-indented" in view.aside and "CRLF" in view.aside
    changed = [ln for ln in view.plain().splitlines() if ln.startswith(("+", "-"))]
    assert changed == ['-    "y": "10.1"', '+    "y": "10.3"']  # the base's indentation
    # d: the residual diff, then the whole difference with its noise
    full = diffview.render(m, before, after, full=True, settings=SETTINGS.classify).plain()
    assert "the whole difference, noise included" in full
    assert full.count("␍") >= 9
    # without the configuration the whole difference shows, and says so
    plain = diffview.render(m, before, after)
    assert "shown too" in plain.aside and plain.total > 2


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", " a", "a ", "\t", ""]), max_size=12),
    st.lists(st.sampled_from(["a", "b", " a", "a ", "\t", ""]), max_size=12),
)
def test_paired_diff_has_the_same_lines_and_alternates(xs: list[str], ys: list[str]) -> None:
    before = "".join(x + "\n" for x in xs).encode()
    after = "".join(y + "\n" for y in ys).encode()

    def texts(paired: bool) -> list[str]:
        return [
            "".join(s.text for s in line)
            for line in diffview.text_diff(before, after, ws=True, paired=paired)
        ]

    paired, grouped = texts(True), texts(False)
    assert sorted(paired) == sorted(grouped)  # the same lines, in another order
    # every line of a whitespace-only block comes with its new form right after it
    for i, line in enumerate(paired):
        if line.startswith("-") and i + 1 < len(paired) and paired[i + 1].startswith("+"):
            old, new = line[1:], paired[i + 1][1:]
            assert old != new


def test_crlf_only_view_shows_both_sides_within_the_panel() -> None:
    before = b"".join(b"line %d\n" % i for i in range(80))
    after = before.replace(b"\n", b"\r\n")
    m = mismatch("r.txt", before, after)
    assert m.mismatch_type == "line_endings"
    view = diffview.render(m, before, after)
    shown = [ln for ln in view.plain().splitlines() if ln.startswith(("+", "-"))]
    assert shown[:4] == ["-line·0", "+line·0␍", "-line·1", "+line·1␍"]
    assert abs(sum(ln[0] == "+" for ln in shown) - sum(ln[0] == "-" for ln in shown)) <= 1


def test_kind_groups_what_happened_alike_with_the_same_plan() -> None:
    def kind(path: str, a: bytes, b: bytes) -> diffview.Kind:
        found = diffview.kind(mismatch(path, a, b), a, b, SETTINGS.classify)
        assert found is not None
        return found

    docs = [b'{"id": %d, "tags": [%s]}' % (i, b", ".join([b"1"] * i)) for i in range(4)]

    def pretty(d: bytes, indent: int) -> bytes:
        return json.dumps(json.loads(d), indent=indent).encode() + b"\n"

    kinds = [kind(f"{i}.json", pretty(d, 2), pretty(d, 4)) for i, d in enumerate(docs)]
    assert len({k.key for k in kinds}) == 1
    assert kinds[0].label == "re-indented 2 spaces → 4 spaces"
    crlf = kind("c.json", pretty(docs[0], 2), pretty(docs[0], 2).replace(b"\n", b"\r\n"))
    assert crlf.key != kinds[0].key and crlf.label == "line endings LF → CRLF"
    # binary, added and deleted mismatches stand alone
    assert (
        diffview.kind(mismatch("x.bin", b"\0a", b"\0b"), b"\0a", b"\0b", SETTINGS.classify) is None
    )
    assert diffview.kind(mismatch("n.txt", b"a\n", b"b\n"), None, b"b\n", SETTINGS.classify) is None
