"""The shortcuts in telling whether two JSON texts are written alike (core/changes.py) and
where two texts first and last differ (core/jsonvalue.py): each answers exactly what the
plain way answers, over texts built from the characters the probes look for and edited in
one or a few places, as a regeneration edits them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import example, given, settings
from hypothesis import strategies as st

from phase2_git.core import changes, jsonvalue

# the probes' characters, and others: a probe may straddle an edit's edge
_CHARS = st.sampled_from(['"', '"', ":", " ", " ", ",", "\\", "u", "\n", "\t", "é", "a", "{"])
_TEXT = st.lists(_CHARS, max_size=120).map("".join)


@st.composite
def edited(draw: st.DrawFn) -> tuple[str, str]:
    """A text and a copy with up to three edits (replace, insert, delete a run)."""
    a = draw(_TEXT)
    b = a
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(b)))
        cut = draw(st.integers(0, min(4, len(b) - at)))
        b = b[:at] + draw(st.lists(_CHARS, max_size=4).map("".join)) + b[at + cut :]
    return a, b


@contextmanager
def windowed() -> Iterator[None]:
    """Texts of any size compared through their windows (not only past 8 KiB)."""
    was = changes._WINDOWED_FROM
    changes._WINDOWED_FROM = 0
    try:
        yield
    finally:
        changes._WINDOWED_FROM = was


def _prefix(a: str, b: str) -> int:
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return i


def _suffix(a: str, b: str, limit: int) -> int:
    i = 0
    while i < min(len(a), len(b), limit) and a[-1 - i] == b[-1 - i]:
        i += 1
    return i


@settings(max_examples=400)
@given(edited())
# a probe that straddles where the texts start to differ: '": ' on one side, '":' on the other
@example(('{"k": 1}', '{"k":1}'))
@example(('{"k":1}', '{"k": 1}'))
@example(("[1, 2]", "[1,2]"))
@example(('"a\\u00e9"', '"a\\x"'))
def test_the_style_shortcut_says_what_the_style_prints_say(pair: tuple[str, str]) -> None:
    a, b = pair
    whole = changes._style_print(a) != changes._style_print(b)
    assert changes._style_differs(a, b) == whole  # texts this short: the probes run whole
    with windowed():  # the windows, whatever the size
        assert changes._style_differs(a, b) == whole
        assert changes._style_differs(b, a) == whole
        # and with a long shared start and end (a probe straddling either edge of them)
        pad = '{"": "", ' * 3
        padded = changes._style_print(pad + a + pad) != changes._style_print(pad + b + pad)
        assert changes._style_differs(pad + a + pad, pad + b + pad) == padded


@settings(max_examples=400)
@given(edited(), st.integers(0, 130))
def test_common_ends_are_found_as_one_character_at_a_time_finds_them(
    pair: tuple[str, str], limit: int
) -> None:
    a, b = pair
    assert jsonvalue.common_prefix(a, b) == _prefix(a, b)
    assert jsonvalue.common_suffix(a, b, limit) == _suffix(a, b, limit)


def test_common_ends_past_a_block() -> None:
    # the comparison goes a block at a time, then bisects the block that differs
    block = jsonvalue._PREFIX_CHUNK
    base = "".join(chr(97 + i % 26) for i in range(3 * block + 17))
    for at in (0, 1, block - 1, block, block + 1, 2 * block + 5, len(base) - 1):
        head = base[:at] + "#" + base[at + 1 :]
        assert jsonvalue.common_prefix(base, head) == at
        assert jsonvalue.common_suffix(base, head, len(base)) == len(base) - at - 1
    assert jsonvalue.common_prefix(base, base + "x") == len(base)
    assert jsonvalue.common_suffix("x" + base, base, 10**9) == len(base)
    assert jsonvalue.common_suffix(base, base, 5) == 5


def test_a_reformatted_text_is_told_apart() -> None:
    compact = '{"a":1,"b":[1,2]}'
    spaced = '{"a": 1, "b": [1, 2]}'
    with windowed():
        assert changes._style_differs(compact, spaced)
        # one key added: the same writer, the counts differ, the style does not
        assert not changes._style_differs(spaced, '{"a": 1, "c": 3, "b": [1, 2]}')


def test_a_large_file_with_one_tight_colon_added_is_told_apart() -> None:
    # past _WINDOWED_FROM: one colon without its space, deep inside a large file
    rows = ",\n".join(f'  "k{i}": [{i}, {i + 1}]' for i in range(600))
    base = "{\n" + rows + "\n}\n"
    assert len(base) > changes._WINDOWED_FROM
    head = base.replace('"k300": ', '"k300":', 1)
    assert changes._style_differs(base, head)
    assert not changes._style_differs(base, base.replace("[300, 301]", "[300, 302]"))
