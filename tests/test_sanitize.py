"""Invariant 5: the terminal is safe (docs/architecture.md, Invariants)."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from xml.sax.saxutils import escape as xml_escape

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from phase2_git.core import sanitize
from phase2_git.core.sanitize import (
    BINARY_PLACEHOLDER,
    Excerpt,
    decode_for_display,
    excerpt,
    looks_binary,
    markdown_escape,
    sanitize_line,
    sanitize_path,
    workflow_command_escape,
    xml_safe,
)
from tests.conftest import growth

BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)]
C1 = [chr(c) for c in range(0x80, 0xA0)]


def forbidden(text: str, *, allow_newline: bool = False) -> list[str]:
    """Characters that must never reach a terminal."""
    bad = []
    for ch in text:
        cp = ord(ch)
        if ch == "\t" or (allow_newline and ch == "\n"):
            continue
        if (
            cp < 0x20
            or cp == 0x7F
            or 0x80 <= cp <= 0x9F
            or ch in BIDI
            or ch in "\u2028\u2029\ufeff"
            or 0xD800 <= cp <= 0xDFFF
        ):
            bad.append(ch)
    return bad


# ---------------------------------------------------------------------------- sanitize_line

SANITIZE_CASES = [
    ("plain", "plain", "plain"),
    ("non-ascii kept", "héllo 日本 😀 ∑", "héllo 日本 😀 ∑"),
    ("tab kept", "a\tb", "a\tb"),
    ("osc52 bel", "a\x1b]52;c;ZWNobw==\x07b", "ab"),
    ("osc52 st", "\x1b]52;c;ZWNobw==\x1b\\x", "x"),
    ("osc8 hyperlink", "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"),
    ("osc title 8-bit st", "\x1b]0;title\x9cx", "x"),
    ("osc 8-bit introducer", "\x9d0;title\x07x", "x"),
    ("osc unterminated shown", "\x1b]52;c;AAAA", "\\x1b]52;c;AAAA"),
    ("osc interrupted shown", "\x1b]0;t\x00x", "\\x1b]0;t\\x00x"),
    ("csi 2J", "\x1b[2J", ""),
    ("csi sgr", "\x1b[1;31mred\x1b[0m", "red"),
    ("csi private", "\x1b[?25l\x1b[?1049h", ""),
    ("csi 8-bit", "\x9b2J", ""),
    ("csi 8-bit sgr", "\x9b31mred", "red"),
    ("csi incomplete", "\x1b[31", "\\x1b[31"),
    ("dcs", "\x1bPq#0;2;0;0;0\x1b\\x", "x"),
    ("dcs 8-bit", "\x90payload\x9cx", "x"),
    ("sos pm apc", "\x1bXa\x1b\\\x1b^b\x1b\\\x1b_c\x9c", ""),
    ("apc 8-bit", "\x9fpayload\x1b\\", ""),
    ("charset", "\x1b(Bx", "x"),
    ("save/restore/reset", "\x1b7\x1b8\x1bc\x1b=", ""),
    ("lone esc", "a\x1b", "a\\x1b"),
    ("esc before non-ascii", "\x1bé", "\\x1bé"),
    ("esc rebuilt by stripping", "\x1b\x1b[31m[31m", "\\x1b[31m"),
    ("bel", "ding\x07", "ding\\x07"),
    ("nul", "a\x00b", "a\\x00b"),
    ("del", "\x7f", "\\x7f"),
    ("backspace", "abc\x08\x08\x08xyz", "abc\\x08\\x08\\x08xyz"),
    ("lf", "a\nb", "a\\x0ab"),
    ("cr overwrite", "safe\rEVIL", "safe\\x0dEVIL"),
    ("c1 nel", "a\x85b", "a\\x85b"),
    ("c1 st alone", "\x9c", "\\x9c"),
    ("bidi override", "x = 1 \u202e// \u2066y\u2069", "x = 1 \\u202e// \\u2066y\\u2069"),
    ("bidi marks", "\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),
    ("line separators", "a\u2028b\u2029", "a\\u2028b\\u2029"),
    ("bom", "\ufeffx", "\\ufeffx"),
    ("noncharacters", "\ufffe\uffff", "\\ufffe\\uffff"),
    ("surrogateescape byte", "\udcff\udc80", "\\xff\\x80"),
    ("other lone surrogate", "\ud800\udc00", "\\ud800\\udc00"),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [c[1:] for c in SANITIZE_CASES], ids=[c[0] for c in SANITIZE_CASES]
)
def test_sanitize_line(raw: str, expected: str) -> None:
    assert sanitize_line(raw) == expected
    assert sanitize_line(expected) == expected


@pytest.mark.parametrize("ch", [chr(c) for c in range(0x20) if c != 9] + ["\x7f", *C1])
def test_every_control_escaped(ch: str) -> None:
    assert sanitize_line(ch) == f"\\x{ord(ch):02x}"


@pytest.mark.parametrize("ch", BIDI)
def test_every_bidi_control_escaped(ch: str) -> None:
    assert sanitize_line(ch) == f"\\u{ord(ch):04x}"


def test_invalid_utf8_bytes_shown_as_hex() -> None:
    assert sanitize_line(decode_for_display(b"ok\xff\xfe\xc3(")) == "ok\\xff\\xfe\\xc3("


def test_decode_keeps_bom_visible() -> None:
    text = decode_for_display(b"\xef\xbb\xbfkey: 1")
    assert text == "\ufeffkey: 1"
    assert sanitize_line(text) == "\\ufeffkey: 1"


def test_sanitize_path() -> None:
    assert sanitize_path("dir/evil\nname\x1b[2J.json") == "dir/evil\\x0aname\\x1b[2J.json"
    assert sanitize_path("ok/ä.json") == "ok/ä.json"


def test_looks_binary() -> None:
    assert looks_binary(b"a\x00b")
    assert not looks_binary(b"text\n")
    assert not looks_binary(b"")
    assert looks_binary(b"x" * 7999 + b"\x00")
    assert not looks_binary(b"x" * 8000 + b"\x00")


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "\x9d" * n,
        lambda n: "\x1b]" * n,
        lambda n: "\x1b[" + "1" * n,
        lambda n: "\x00" * n,
    ],
    ids=["c1", "osc", "csi", "nul"],
)
def test_sanitize_long_hostile_inputs_are_linear(make: Callable[[int], str]) -> None:
    # Patterns that would make a naive regex quadratic: ten times the input, about ten times
    # the time (quadratic: a hundred)
    assert growth(sanitize_line, make(20_000), make(200_000)) < 30
    assert not forbidden(sanitize_line(make(200_000)))


# ---------------------------------------------------------------------------- excerpt


def test_excerpt_short_text() -> None:
    ex = excerpt("a\nb\x1b[31mc\n")
    assert ex == Excerpt(("a", "bc"), 0, 0, False)
    assert ex.render() == "a\nbc"


def test_excerpt_empty_and_blank_lines() -> None:
    assert excerpt(b"") == Excerpt((), 0, 0, False)
    assert excerpt("\n") == Excerpt(("",), 0, 0, False)
    assert excerpt("a\n\nb") == Excerpt(("a", "", "b"), 0, 0, False)


def test_excerpt_hides_lines_after_max_lines() -> None:
    data = "".join(f"line {i}\n" for i in range(362))
    ex = excerpt(data)
    assert len(ex.lines) == 50
    assert ex.lines[-1] == "line 49"
    assert ex.hidden_lines == 312
    rendered = ex.render()
    assert rendered.endswith("\nline 49\n… 312 more lines, press d")
    assert ex.render(more_hint="").endswith("\n… 312 more lines")
    assert excerpt("a\nb", max_lines=1).render() == "a\n… 1 more line, press d"


def test_excerpt_exactly_max_lines_has_no_hint() -> None:
    ex = excerpt("x\n" * 50)
    assert (len(ex.lines), ex.hidden_lines) == (50, 0)
    assert "more line" not in ex.render()
    assert excerpt("x\n" * 50 + "y").hidden_lines == 1


def test_excerpt_max_lines_zero() -> None:
    ex = excerpt("a\nb\n", max_lines=0)
    assert ex == Excerpt((), 2, 0, False)
    assert ex.render(more_hint="") == "… 2 more lines"


def test_excerpt_hint_is_sanitized() -> None:
    assert excerpt("a\nb", max_lines=1).render(more_hint="\x1b[2Jx\n") == "a\n… 1 more line, x\\x0a"


def test_excerpt_cuts_long_line() -> None:
    ex = excerpt("x" * 10_000)
    assert ex.lines == ("x" * 200 + "… (+9800 chars)",)
    assert ex.cut_lines == 1
    assert excerpt("x" * 201).lines == ("x" * 200 + "… (+1 char)",)
    assert excerpt("x" * 200) == Excerpt(("x" * 200,), 0, 0, False)


@pytest.mark.parametrize("kind", [str, bytes])
def test_excerpt_width_counts_sanitized_chars(kind: type) -> None:
    def conv(s: str) -> str | bytes:
        return s if kind is str else s.encode("utf-8", "surrogateescape")

    # Stripped sequences take no width; an escape is never split at the edge.
    assert excerpt(conv("\x1b[31m" * 100 + "y" * 10), max_width=10).lines == ("y" * 10,)
    assert excerpt(conv("a" * 199 + "\x01b"), max_width=200).lines == ("a" * 199 + "… (+2 chars)",)
    assert excerpt(conv("a" * 195 + "\x01b"), max_width=200).lines == ("a" * 195 + "\\x01b",)
    # A trailing stripped sequence is not a cut.
    assert excerpt(conv("a" * 200 + "\x1b[0m")).lines == ("a" * 200,)


def test_excerpt_crlf_shows_symbol() -> None:
    assert excerpt(b"a\r\nb\r\n").lines == ("a␍", "b␍")
    assert excerpt("a\rb\n").lines == ("a\\x0db",)
    assert excerpt("\r").lines == ("␍",)
    assert excerpt("x" * 200 + "\r").lines == ("x" * 200 + "… (+1 char)",)


def test_excerpt_binary() -> None:
    ex = excerpt(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 1000)
    assert ex == Excerpt((BINARY_PLACEHOLDER,), 0, 0, True)
    assert ex.render() == "[binary content]"
    late_nul = excerpt(b"x" * 8000 + b"\x00")
    assert not late_nul.binary
    assert late_nul.lines[0].endswith("… (+7801 chars)")
    assert excerpt("text with \x00 nul").lines == ("text with \\x00 nul",)


def test_excerpt_invalid_utf8() -> None:
    assert excerpt(b"\xff\xfe ok\n\xc3").lines == ("\\xff\\xfe ok", "\\xc3")


@pytest.mark.parametrize("kind", [str, bytes])
def test_excerpt_50mb_single_line_is_fast(kind: type) -> None:
    def line(n: int) -> str | bytes:
        return "é" * n if kind is str else "é".encode() * n

    data = line(25_000_000)
    ex = excerpt(data)
    assert ex.lines == ("é" * 200 + "… (+24999800 chars)",)
    assert (ex.hidden_lines, ex.cut_lines) == (0, 1)
    assert growth(excerpt, line(2_500_000), data) < 30  # at most linear in the line's length


def test_excerpt_10m_lines_is_fast() -> None:
    data = b"0123456789\n" * 10_000_000
    ex = excerpt(data)
    assert len(ex.lines) == 50
    assert ex.hidden_lines == 9_999_950
    assert growth(excerpt, b"0123456789\n" * 1_000_000, data) < 30  # linear in the lines


@pytest.mark.parametrize("kind", [str, bytes])
def test_excerpt_bounds_work_on_invisible_lines(kind: type) -> None:
    # 50 MB of nothing but stripped sequences: scanned only up to the budget, the rest counted.
    def invisible(n: int) -> str | bytes:
        raw = "\x1b[0m" * n + "visible"
        return raw if kind is str else raw.encode()

    data = invisible(12_500_000)
    ex = excerpt(data)
    assert ex.cut_lines == 1
    assert ex.lines[0].startswith("… (+")
    assert growth(excerpt, invisible(1_250_000), data) < 30
    # Sequences within the budget are stripped and the visible text still shown.
    raw = "\x1b[0m" * 10_000 + "visible" + "z" * 1_000_000
    data = raw if kind is str else raw.encode()
    assert excerpt(data).lines == ("visible" + "z" * 193 + "… (+999807 chars)",)


def test_excerpt_long_line_multibyte_and_invalid_counted() -> None:
    data = "€".encode() * 100_000 + b"\xff" + "ü".encode() * 10
    ex = excerpt(data, max_width=5)
    # 100_000 + 1 + 10 characters, 5 shown
    assert ex.lines == ("€" * 5 + "… (+100006 chars)",)


def test_excerpt_rejects_bad_limits() -> None:
    with pytest.raises(ValueError, match="max_width"):
        excerpt("x", max_width=0)
    with pytest.raises(ValueError, match="max_lines"):
        excerpt("x", max_lines=-1)


# ---------------------------------------------------------------------------- other outputs


@pytest.mark.parametrize(
    ("raw", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("50% done", "50%25 done", "50%25 done"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("file:1,2", "file:1,2", "file%3A1%2C2"),
        ("%0A", "%250A", "%250A"),
    ],
)
def test_workflow_command_escape(raw: str, data: str, prop: str) -> None:
    assert workflow_command_escape(raw) == data
    assert workflow_command_escape(raw, property=True) == prop


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain text", "plain text"),
        ("a|b", "a\\|b"),
        ("`code` *em* _em_ ~s~", "\\`code\\` \\*em\\* \\_em\\_ \\~s\\~"),
        ("[x](http://e)", "\\[x\\]\\(http://e\\)"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert\\(1\\)&gt;"),
        ("&amp; #1 !x $x$", "&amp;amp; \\#1 \\!x \\$x\\$"),
        ("back\\slash", "back\\\\slash"),
        ("new\nline\x1b[31m", "new\\\\x0aline"),
    ],
)
def test_markdown_escape(raw: str, expected: str) -> None:
    assert markdown_escape(raw) == expected


def test_xml_safe_examples() -> None:
    assert xml_safe("ok\nline2\tx") == "ok\nline2\tx"
    assert xml_safe("a\x00b\x0bc\x1b[2Jd\r\n") == "a\\x00b\\x0bcd\\x0d\n"
    assert xml_safe("\ufffe\udcff\ud800") == "\\ufffe\\xff\\ud800"


def test_import_is_light() -> None:
    code = (
        "import sys; import phase2_git.core.sanitize; "
        "heavy = {'rich', 'typer', 'git', 'jsonschema', 'junit_xml', 'hypothesis'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------- properties

# Text biased towards escape-sequence pieces, so sequence parsing is exercised, not just chars.
PIECES = [
    "\x1b", "[", "]", "P", "X", "^", "_", "\\", "\x07", "\x9b", "\x9c", "\x9d", "\x90", ";",
    "0", "2J", "m", "(", "B", "8;;", "52;c;", "a", "é", "\n", "\r", "\t", "\x00", "\x7f",
    "\u202e", "\u2066", "\udcff", "\ud800", "\ufeff", "\u2028", "\x85",
]  # fmt: skip
hostile_text = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
any_text = st.one_of(st.text(), hostile_text)
any_bytes = st.one_of(st.binary(), hostile_text.map(lambda s: s.encode("utf-8", "surrogatepass")))
CUT_MARKER = re.compile(r"… \(\+\d+ chars?\)$")
PROPS = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@PROPS
@given(any_text)
def test_prop_sanitize_line_is_safe_and_idempotent(text: str) -> None:
    out = sanitize_line(text)
    assert not forbidden(out)
    assert "\n" not in out
    assert len(out.splitlines()) <= 1
    out.encode("utf-8")  # no surrogates left
    assert sanitize_line(out) == out
    # a path is escaped, never stripped, just as safe, and shown injectively: two paths
    # never look alike (so it is not idempotent: its backslashes are doubled)
    path = sanitize_path(text)
    assert not forbidden(path) and "\n" not in path
    assert unescape_path(path) == text


_PATH_ESCAPE = re.compile(r"\\(?:\\|x([0-9a-f]{2})|u([0-9a-f]{4}))")


def unescape_path(shown: str) -> str:
    """The inverse of sanitize_path: every backslash starts an escape."""

    def one(m: re.Match[str]) -> str:
        if m.group(1):
            code = int(m.group(1), 16)
            return chr(code if code < 0x80 else 0xDC00 + code)  # \x80-\xff: undecodable bytes
        if m.group(2):
            return chr(int(m.group(2), 16))
        return "\\"

    assert "\\" not in _PATH_ESCAPE.sub("", shown), shown
    return _PATH_ESCAPE.sub(one, shown)


@PROPS
@given(any_bytes)
def test_prop_sanitize_decoded_bytes_is_safe(data: bytes) -> None:
    out = sanitize_line(decode_for_display(data))
    assert not forbidden(out)
    assert sanitize_line(out) == out


@PROPS
@given(
    st.one_of(any_text, any_bytes),
    st.integers(min_value=0, max_value=8),
    st.integers(min_value=1, max_value=30),
)
@example(":", 1, 1)  # a defused leading colon (\x3a) is longer than the colon
@example(b"##[x", 1, 3)
def test_prop_excerpt_render_is_safe_and_bounded(
    data: str | bytes, max_lines: int, max_width: int
) -> None:
    ex = excerpt(data, max_lines=max_lines, max_width=max_width)
    rendered = ex.render()
    assert not forbidden(rendered, allow_newline=True)
    assert not forbidden(ex.render(more_hint="\x1b]52;c;x\x07\n"), allow_newline=True)
    rendered.encode("utf-8")
    if ex.binary:
        assert ex.lines == (BINARY_PLACEHOLDER,)
        return
    assert len(ex.lines) <= max_lines
    # LF only between lines: the rendered text splits back into exactly the lines (+ hint).
    shown = rendered.split("\n") if ex.lines or ex.hidden_lines else []
    assert shown or rendered == ""
    assert shown[: len(ex.lines)] == list(ex.lines)
    assert len(shown) == len(ex.lines) + (1 if ex.hidden_lines else 0)
    cut = 0
    for line in ex.lines:
        assert "\n" not in line
        m = CUT_MARKER.search(line)
        if m:
            cut += 1
            line = line[: m.start()]
        assert len(line) <= max_width
    assert ex.cut_lines == cut


@PROPS
@given(any_text.filter(lambda s: "\x00" not in s))
def test_prop_excerpt_matches_sanitize_line(text: str) -> None:
    """Without limits biting, excerpt shows exactly sanitize_line of each line."""
    raw_lines = text.split("\n")
    if text.endswith("\n"):
        raw_lines.pop()
    if text == "":
        raw_lines = []
    expected = tuple(
        sanitize_line(r[:-1]) + "␍" if r.endswith("\r") else sanitize_line(r) for r in raw_lines
    )
    ex = excerpt(text, max_lines=10_000, max_width=100_000)
    assert ex == Excerpt(expected, 0, 0, False)
    encoded = text.encode("utf-8", "surrogatepass")
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        assert excerpt(encoded, max_lines=10_000, max_width=100_000) == ex


@PROPS
@given(any_bytes, st.integers(min_value=1, max_value=20), st.integers(min_value=1, max_value=30))
def test_prop_excerpt_bytes_matches_decoded_str(data: bytes, max_lines: int, width: int) -> None:
    if looks_binary(data):
        assert excerpt(data).lines == (BINARY_PLACEHOLDER,)
        return
    assert excerpt(data, max_lines=max_lines, max_width=width) == excerpt(
        decode_for_display(data), max_lines=max_lines, max_width=width
    )


@PROPS
@given(any_text)
def test_prop_xml_safe_parses(text: str) -> None:
    safe = xml_safe(text)
    root = ET.fromstring(f"<failure>{xml_escape(safe)}</failure>")
    assert (root.text or "") == safe
    assert not forbidden(safe, allow_newline=True)
    assert xml_safe(safe) == safe


@PROPS
@given(st.lists(st.one_of(any_text, st.text(alphabet="ab :#[\t\u00a0\u2192"))))
def test_prop_xml_safe_is_sanitize_line_of_every_line(lines: list[str]) -> None:
    """The fast path (nothing to escape but line breaks) returns what the slow one does."""
    text = "\n".join(lines)
    assert xml_safe(text) == "\n".join(sanitize_line(line) for line in text.split("\n"))


@PROPS
@given(any_text, st.booleans())
def test_prop_workflow_command_escape_round_trips(text: str, prop: bool) -> None:
    out = workflow_command_escape(text, property=prop)
    assert "\r" not in out and "\n" not in out
    if prop:
        assert ":" not in out and "," not in out
    back = out.replace("%2C", ",").replace("%3A", ":").replace("%0A", "\n").replace("%0D", "\r")
    assert back.replace("%25", "%") == text


@PROPS
@given(any_text)
def test_prop_markdown_escape_leaves_nothing_active(text: str) -> None:
    out = markdown_escape(text)
    assert not forbidden(out)
    # Drop backslash-escaped pairs; no active character may remain.
    i, rest = 0, []
    while i < len(out):
        if out[i] == "\\":
            i += 2
            continue
        rest.append(out[i])
        i += 1
    assert not set("".join(rest)) & set("|`*_[]<>#~$!(){}\\")


# the fast paths: what they skip is what the regular expressions would find nothing in
ascii_text = st.text(alphabet=st.characters(max_codepoint=0x7F))


@PROPS
@given(st.one_of(any_text, ascii_text, st.text(alphabet=st.characters(max_codepoint=0xFF))))
def test_prop_plain_text_holds_nothing_to_escape(text: str) -> None:
    if sanitize._plain(text):
        assert sanitize._TOKEN().search(text) is None
        assert sanitize._UNSAFE_CHAR().search(text) is None
        assert all(c == "\\" for c in sanitize._PATH_CHAR().findall(text))
    # and it is no rarer than that: only a TAB (never escaped) takes the regular way for nothing
    clean = text.isascii() and "\t" not in text and sanitize._UNSAFE_CHAR().search(text) is None
    assert sanitize._plain(text) == clean


@PROPS
@given(st.lists(st.one_of(any_text, st.text(alphabet=" \t\n\x0b\x1c\x85\u2028:ab"))).map("\n".join))
def test_prop_line_starting_with_a_colon_is_the_multiline_pattern(text: str) -> None:
    multiline = re.compile(r"^[^\S\n]*:", re.MULTILINE)
    assert sanitize._line_starts_with_colon(text) == (multiline.search(text) is not None)
