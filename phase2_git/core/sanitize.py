"""Make artifact-derived text safe to show (invariant 5: "The terminal is safe").

Everything that comes from an artifact -- its content, and also its path, which may hold
newlines and escape sequences -- passes through this module before it reaches a terminal, a
log, a JUnit body, Markdown or a GitHub annotation.

``sanitize_line`` is the core: it strips terminal escape sequences (CSI, OSC incl. OSC 8
hyperlinks and OSC 52 clipboard writes, DCS/SOS/PM/APC strings, other ESC sequences, and their
8-bit C1 forms) and shows every remaining control character visibly escaped:

* C0 controls except TAB (so also LF and CR), DEL and C1 controls -> ``\\xNN``
* Unicode bidi controls (Trojan Source), line/paragraph separators, the BOM / ZWNBSP and the
  noncharacters U+FFFE/U+FFFF -> ``\\uNNNN``
* lone surrogates: U+DC80..U+DCFF (invalid bytes decoded with ``surrogateescape``) -> ``\\xNN``
  of the original byte; any other surrogate -> ``\\uNNNN``

The output is therefore a single line, encodable as UTF-8, legal XML 1.0 character data, and a
fixed point: ``sanitize_line(sanitize_line(s)) == sanitize_line(s)``. Backslashes are left
alone, so a literal ``\\x1b`` in the input and an escaped ESC look the same; that ambiguity is
the price of idempotence and is harmless for content. Paths are different: a path names a
file, and two files must never look alike, so ``sanitize_path`` also doubles backslashes and
never strips anything: it is injective.

Artifact text also reaches CI logs, where GitHub's runner reads workflow commands out of the
output: a line that starts with ``::`` after leading whitespace (``::error::``,
``::stop-commands::``), and the legacy ``##[command]`` anywhere in a line. Both forms are
defused: the ``[`` of ``##[`` is shown escaped (``\\x5b``), and so is (``\\x3a``) a ``:`` that
begins the text after whitespace when another ``:`` follows it or nothing does (the text may
be followed by phase2's own ``: ``). In a path, every ``:`` that follows another is escaped
too, because a table may wrap a long path and start a line with what was its middle.

Escape sequences are only stripped when complete; an unterminated one (e.g. an OSC with no BEL
or ST) is shown with its introducer escaped, so nothing is hidden from the reviewer.

Pure functions, standard library only, cheap to import.
"""

from __future__ import annotations

import codecs
import re
from typing import NamedTuple

from phase2_git.core.patterns import lazy_pattern

__all__ = [
    "BINARY_PLACEHOLDER",
    "Excerpt",
    "decode_for_display",
    "escape_controls",
    "escape_path",
    "excerpt",
    "looks_binary",
    "markdown_escape",
    "sanitize_line",
    "sanitize_path",
    "shell_path",
    "workflow_command_escape",
    "xml_safe",
]

BINARY_PLACEHOLDER = "[binary content]"

_BINARY_SNIFF = 8000  # git's buffer_is_binary() looks for NUL in the first 8000 bytes
_ELLIPSIS = "\u2026"
_CR_SYMBOL = "\u240d"  # SYMBOL FOR CARRIAGE RETURN, shows a CRLF line ending
# Work per line is bounded: at most this many input characters (bytes, for bytes input) are
# scanned for a shown line, so a 50 MB line -- even one that is nothing but escape sequences --
# never becomes a 50 MB str or a 50 MB regex scan. What lies beyond is only counted.
_SCAN_BUDGET = 1 << 16
_COUNT_CHUNK = 1 << 20

# Every character that is escaped; also every character that can start an escape sequence
# (ESC and the C1 introducers are inside the C0/C1 ranges).
_UNSAFE_CLASS = (
    r"[\x00-\x08\x0a-\x1f\x7f-\x9f"
    r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi controls (Trojan Source)
    r"\u2028\u2029"  # line / paragraph separator: a line break to str.splitlines and some UIs
    r"\ufeff\ufffe\uffff"  # BOM / ZWNBSP (invisible); XML-illegal noncharacters
    r"\ud800-\udfff]"  # lone surrogates (surrogateescape'd bytes or bad input)
)
# Payload of a control string (OSC/DCS/SOS/PM/APC): no C0 (except TAB), DEL or C1. Excluding
# them keeps matching linear (a payload never spans another introducer) and means a string
# interrupted by a control is not treated as one: its introducer is shown escaped instead.
_BODY = r"[^\x00-\x08\x0a-\x1f\x7f-\x9f]*"
_ST = r"(?:\x1b\\|\x9c)"
_CSI_TAIL = r"[0-?]*[ -/]*[@-~]"  # parameter bytes, intermediate bytes, final byte
# The pattern starts with a plain character class so the regex engine can skip clean text at
# C speed; the optional tail then recognises a whole sequence by looking back at its
# introducer. A match of length 1 is a lone unsafe character to escape; longer is a sequence.
_TOKEN = lazy_pattern(
    _UNSAFE_CLASS + r"(?:"
    r"(?<=\x1b)(?:"
    r"\[" + _CSI_TAIL + r"|"  # CSI
    r"\]" + _BODY + r"(?:\x07|" + _ST + r")|"  # OSC, ended by BEL or ST
    r"[PX^_]" + _BODY + _ST + r"|"  # DCS, SOS, PM, APC
    r"[ -/]+[0-~]|"  # nF: intermediates + final, e.g. ESC ( B
    r"[0-OQ-WYZ\\`-~]"  # other two-byte ESC sequences (Fp/Fe/Fs), not the string openers
    r")|"
    r"(?<=\x9b)" + _CSI_TAIL + r"|"  # 8-bit CSI
    r"(?<=\x9d)" + _BODY + r"(?:\x07|" + _ST + r")|"  # 8-bit OSC
    r"(?<=[\x90\x98\x9e\x9f])" + _BODY + _ST + r")?"  # 8-bit DCS, SOS, PM, APC
)
# a line that starts with ":" after blanks: the first line, or one after a LF. Two patterns,
# not one with re.MULTILINE's "^": that one is tried at every position (4x slower), while a
# pattern that starts with "\n" jumps from LF to LF
_FIRST_LINE_COLON = lazy_pattern(r"[^\S\n]*:")
_NEXT_LINE_COLON = lazy_pattern(r"\n[^\S\n]*:")
_XML_ILLEGAL = lazy_pattern(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_MARKDOWN_SPECIAL = lazy_pattern(r"[\\`*_{}\[\]()#!|~$&<>]")
_MARKDOWN_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _escape_char(ch: str) -> str:
    cp = ord(ch)
    if cp < 0xA0:
        return f"\\x{cp:02x}"
    if 0xDC80 <= cp <= 0xDCFF:  # surrogateescape: the original byte
        return f"\\x{cp - 0xDC00:02x}"
    return f"\\u{cp:04x}"


def _replace(m: re.Match[str]) -> str:
    if m.end() - m.start() > 1:
        return ""
    return _escape_char(m.group())


def looks_binary(data: bytes) -> bool:
    """True if a NUL byte occurs in the first 8000 bytes (git's rule)."""
    return b"\0" in data[:_BINARY_SNIFF]


def decode_for_display(data: bytes) -> str:
    """UTF-8 with ``surrogateescape``: invalid bytes survive and later show as ``\\xNN``.

    A leading BOM is kept (``sanitize_line`` shows it as ``\\ufeff``): it is a real difference.
    """
    return data.decode("utf-8", "surrogateescape")


# GitHub's runner takes a line for a workflow command when, after leading whitespace, it starts
# with "::", or when it holds the legacy "##[" anywhere (actions/runner ActionCommand.cs).
_V1_COMMAND = "##["
_V1_DEFUSED = "##\\x5b"
# ":root {" stays as it is; "::x", ":" and " :" (then "phase2's ": ...") would not
_LEADING_COLON = lazy_pattern(r"\s*:(?=:|\Z)")


def _defuse_line(text: str) -> str:
    """Text that may start a log line: no ``##[``, no leading ``::`` or lone ``:``."""
    if _V1_COMMAND in text:
        text = text.replace(_V1_COMMAND, _V1_DEFUSED)
    m = _LEADING_COLON().match(text) if ":" in text else None
    if m is not None:
        text = f"{text[: m.end() - 1]}\\x3a{text[m.end() :]}"
    return text


def _plain(text: str) -> bool:
    """True when ``text`` holds no unsafe character, at C speed: printable ASCII is exactly
    U+0020..U+007E, and every character of ``_UNSAFE_CLASS`` is a control or beyond ASCII.
    (The regular expressions cost far more per call on the short strings of a report.)"""
    return text.isascii() and text.isprintable()


def sanitize_line(text: str) -> str:
    """One line, safe for a terminal or a CI log; no truncation. See the module docstring."""
    if not _plain(text) and _TOKEN().search(text) is not None:
        text = _TOKEN().sub(_replace, text)
    return _defuse_line(text)


_UNSAFE_CHAR = lazy_pattern(_UNSAFE_CLASS)
# the same class without LF: multi-line text (a JUnit body) that holds none of these has no
# line sanitize_line would change but for a workflow command
_UNSAFE_BUT_LF = lazy_pattern(_UNSAFE_CLASS.replace(r"\x0a-\x1f", r"\x0b-\x1f", 1))
_PATH_CHAR = lazy_pattern(_UNSAFE_CLASS[:-1] + r"\\]")  # ... and the backslash


def _escape_path_char(m: re.Match[str]) -> str:
    ch = m.group()
    if ch == "\\":
        return "\\\\"
    if "\x80" <= ch <= "\x9f":
        # a C1 control: \u0085, so it never looks like the undecodable byte 0x85 (\x85)
        return f"\\u{ord(ch):04x}"
    return _escape_char(ch)


def escape_path(path: str) -> str:
    """A path shown injectively: backslash doubled, every unsafe character escaped.

    Escape sequences are escaped, never stripped (``evil\\x1b[2J.txt`` must not show as the
    ``evil.txt`` that may sit beside it), and a literal backslash is doubled, so a file whose
    name spells ``\\x1b`` and the one holding an ESC never look alike. For protocol
    fields that escape ``:`` themselves (a workflow command's ``file=``); shown anywhere else,
    a path goes through :func:`sanitize_path`.
    """
    if ("\\" not in path and _plain(path)) or _PATH_CHAR().search(path) is None:
        return path
    return _PATH_CHAR().sub(_escape_path_char, path)


def sanitize_path(path: str) -> str:
    """A path for a terminal, a log or a report: :func:`escape_path`, with workflow commands
    defused. Still injective: every escape decodes to one character, a backslash to ``\\\\``.

    Every ``::`` loses its second colon (``:\\x3a``), not only a leading one: a table that
    wraps a long path may start a line anywhere in it.
    """
    out = escape_path(path)
    if "::" in out:
        out = out.replace("::", ":\\x3a")
    return _defuse_line(out)


def shell_path(path: str) -> str:
    """A path as one shell word, for a command phase2 suggests (``phase2 approve PATH``).

    The name as it is when it holds nothing to escape, so the command can be pasted; else its
    :func:`sanitize_path` form, which shows what the file is without being its name. Never at
    the start of a line: a suggestion follows the command it completes.
    """
    import shlex

    if _V1_COMMAND not in path and _PATH_CHAR().search(path) is None:
        return shlex.quote(path)
    return shlex.quote(sanitize_path(path))


def escape_controls(text: str) -> str:
    """A message quoting names a user (or a hostile PR) chose: every unsafe character escaped,
    never stripped, workflow commands defused; backslashes kept (messages quote values that
    :func:`phase2_git.git.repo.quote_for_message` already escaped)."""
    if _UNSAFE_CHAR().search(text) is not None:
        text = _UNSAFE_CHAR().sub(lambda m: _escape_char(m.group()), text)
    return _defuse_line(text)


def _line_starts_with_colon(text: str) -> bool:
    return bool(_FIRST_LINE_COLON().match(text) or _NEXT_LINE_COLON().search(text))


def xml_safe(text: str) -> str:
    """Multi-line text for an XML body (JUnit): every line sanitised, lines kept.

    Characters illegal in XML 1.0 (C0 except TAB/LF/CR, U+FFFE/U+FFFF, lone surrogates) are
    shown escaped; so are escape sequences and the other controls, because JUnit bodies end up
    in CI logs and terminals too. CR is escaped (``\\x0d``) rather than left for XML parsers to
    normalise away. The result still needs the usual ``&``/``<`` escaping of an XML writer.
    """
    # every _TOKEN match starts with an unsafe character: without one but LF, each line is
    # left alone unless it carries a workflow command
    if (
        _UNSAFE_BUT_LF().search(text) is None
        and _V1_COMMAND not in text
        and not _line_starts_with_colon(text)
    ):
        return text
    out = "\n".join(sanitize_line(line) for line in text.split("\n"))
    # sanitize_line output is XML-legal by construction; keep a cheap belt-and-braces check.
    return _XML_ILLEGAL().sub(lambda m: _escape_char(m.group()), out)


def workflow_command_escape(text: str, *, property: bool = False) -> str:
    """Escape for a GitHub Actions workflow command (``::error file=PROP::DATA``).

    Data: ``%`` -> ``%25``, CR -> ``%0D``, LF -> ``%0A``. Property values additionally
    ``:`` -> ``%3A`` and ``,`` -> ``%2C``. This is protocol escaping only: sanitise artifact
    text (``sanitize_line`` / ``excerpt().render()``) first.
    """
    out = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property:
        out = out.replace(":", "%3A").replace(",", "%2C")
    return out


def _markdown_char(m: re.Match[str]) -> str:
    ch = m.group()
    return _MARKDOWN_ENTITIES.get(ch) or "\\" + ch


def markdown_escape(text: str, *, path: bool = False) -> str:
    """Sanitise, then escape Markdown/HTML-significant characters, for a table cell.

    ``&``, ``<``, ``>`` become entities (no raw HTML, no autolinks, no entity tricks); the other
    inline-significant ASCII punctuation (backslash, backtick, ``* _ { } [ ] ( ) # ! | ~ $``;
    ``$`` because GitHub renders ``$...$`` as math) is backslash-escaped. ``path``: sanitised
    as a path (:func:`sanitize_path`: escaped, never stripped), so two files never look alike.
    """
    shown = sanitize_path(text) if path else sanitize_line(text)
    return _MARKDOWN_SPECIAL().sub(_markdown_char, shown)


class Excerpt(NamedTuple):
    """A bounded, sanitised view of an artifact's content."""

    lines: tuple[str, ...]  # sanitised; each at most max_width characters plus a cut marker
    hidden_lines: int  # lines after the shown ones
    cut_lines: int  # shown lines that were truncated
    binary: bool

    def render(self, *, more_hint: str = "press d") -> str:
        """The lines joined by LF, then ``… N more lines, <more_hint>`` if lines are hidden."""
        out = "\n".join(self.lines)
        if self.hidden_lines:
            n = self.hidden_lines
            hint = f"{_ELLIPSIS} {n} more line{'' if n == 1 else 's'}"
            if more_hint:
                hint += ", " + sanitize_line(more_hint)
            out = f"{out}\n{hint}" if self.lines else hint
        return out


def _sanitize_bounded(text: str, pos: int, endpos: int, width: int) -> tuple[str, int]:
    """Sanitise ``text[pos:endpos]`` until ``width`` output characters.

    Returns the output and how far the input was consumed; an escape such as ``\\x00`` is never
    split. Stops scanning as soon as the width is reached, so huge lines cost nothing extra.
    """
    parts: list[str] = []
    room = width
    last = pos
    for m in _TOKEN().finditer(text, pos, endpos):
        start = m.start()
        if start - last > room:
            parts.append(text[last : last + room])
            return "".join(parts), last + room
        parts.append(text[last:start])
        room -= start - last
        rep = _replace(m)
        if len(rep) > room:
            return "".join(parts), start
        parts.append(rep)
        room -= len(rep)
        last = m.end()
    if endpos - last > room:
        parts.append(text[last : last + room])
        return "".join(parts), last + room
    parts.append(text[last:endpos])
    return "".join(parts), endpos


def _cut_marker(n: int) -> str:
    return f"{_ELLIPSIS} (+{n} char{'' if n == 1 else 's'})"


def _budget(width: int) -> int:
    return max(_SCAN_BUDGET, 64 * width)


def _render_line(text: str, pos: int, end: int, width: int) -> tuple[str, int]:
    """Sanitise the line ``text[pos:end]`` (without its LF); returns (shown, characters cut)."""
    cr = end > pos and text[end - 1] == "\r"
    body_end = end - 1 if cr else end
    shown, consumed = _sanitize_bounded(text, pos, min(body_end, pos + _budget(width)), width)
    if cr and consumed == body_end:
        if len(shown) < width:
            return shown + _CR_SYMBOL, 0
        return shown, 1
    return shown, end - consumed


def _count_chars(decoder: codecs.IncrementalDecoder, data: memoryview) -> int:
    n = 0
    for i in range(0, len(data), _COUNT_CHUNK):
        n += len(decoder.decode(data[i : i + _COUNT_CHUNK]))
    return n + len(decoder.decode(b"", final=True))


def _render_bytes_line(data: bytes, start: int, end: int, width: int) -> tuple[str, int]:
    """Like ``_render_line`` for ``data[start:end]``; a long line is decoded only up to the budget.

    The characters beyond it are counted with an incremental decoder, never held. Limitation: an
    escape sequence that starts in the shown part and is still open at the budget's end is shown
    escaped rather than stripped (safe either way).
    """
    budget = _budget(width)
    if end - start <= budget:
        text = data[start:end].decode("utf-8", "surrogateescape")
        return _render_line(text, 0, len(text), width)
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    text = decoder.decode(data[start : start + budget])
    shown, consumed = _sanitize_bounded(text, 0, len(text), width)
    rest = _count_chars(decoder, memoryview(data)[start + budget : end])
    return shown, len(text) - consumed + rest


def excerpt(data: bytes | str, *, max_lines: int = 50, max_width: int = 200) -> Excerpt:
    """At most ``max_lines`` sanitised lines of at most ``max_width`` characters each.

    Bytes with a NUL in the first 8000 bytes are binary: ``lines == ("[binary content]",)``.
    Lines are split on LF only; a CR that ends a line shows as ``␍``, any other CR as ``\\x0d``.
    Cut lines end with ``… (+N chars)`` (N counts the original characters not shown). Work and
    memory per line are bounded (a line is scanned for at most 64 Ki characters, or 64 *
    max_width; a line whose first 64 Ki characters are all stripped sequences shows as cut): the
    rest is only counted.
    """
    if max_lines < 0:
        raise ValueError(f"max_lines must be >= 0, got {max_lines}")
    if max_width < 1:
        raise ValueError(f"max_width must be >= 1, got {max_width}")
    if isinstance(data, bytes):
        if looks_binary(data):
            return Excerpt((BINARY_PLACEHOLDER,), 0, 0, True)
        return _excerpt_bytes(data, max_lines, max_width)
    return _excerpt_str(data, max_lines, max_width)


def _defused(shown: str, missing: int, width: int) -> tuple[str, int]:
    """``shown`` defused (workflow commands), still at most ``width`` characters: escaping a
    leading ``:`` or a ``##[`` lengthens the line, and the width is a promise to the caller."""
    defused = _defuse_line(shown)
    if len(defused) <= width:
        return defused, missing
    return defused[:width], missing + len(defused) - width


def _excerpt_str(data: str, max_lines: int, max_width: int) -> Excerpt:
    lines: list[str] = []
    cut = 0
    pos = 0
    size = len(data)
    while pos < size and len(lines) < max_lines:
        nl = data.find("\n", pos)
        end = size if nl < 0 else nl
        shown, missing = _render_line(data, pos, end, max_width)
        shown, missing = _defused(shown, missing, max_width)
        if missing:
            shown += _cut_marker(missing)
            cut += 1
        lines.append(shown)
        pos = end + 1
    hidden = 0
    if pos < size:
        hidden = data.count("\n", pos) + (0 if data.endswith("\n") else 1)
    return Excerpt(tuple(lines), hidden, cut, False)


def _excerpt_bytes(data: bytes, max_lines: int, max_width: int) -> Excerpt:
    lines: list[str] = []
    cut = 0
    pos = 0
    size = len(data)
    while pos < size and len(lines) < max_lines:
        nl = data.find(b"\n", pos)
        end = size if nl < 0 else nl
        shown, missing = _render_bytes_line(data, pos, end, max_width)
        shown, missing = _defused(shown, missing, max_width)
        if missing:
            shown += _cut_marker(missing)
            cut += 1
        lines.append(shown)
        pos = end + 1
    hidden = 0
    if pos < size:
        hidden = data.count(b"\n", pos) + (0 if data.endswith(b"\n") else 1)
    return Excerpt(tuple(lines), hidden, cut, False)
