"""Diff rendering for the review: structural JSON changes, visible noise, limits, grouping."""

from __future__ import annotations

import hashlib

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
