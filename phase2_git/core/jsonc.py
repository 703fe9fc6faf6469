"""JSON with comments (JSONC: ``tsconfig.json``, VS Code settings, ``devcontainer.json``).

JSONC is JSON plus ``// line`` and ``/* block */`` comments and trailing commas before ``}``
or ``]``. :func:`blank` overwrites those with spaces (a comment's newlines kept), so every
other character stays where it was: the strict decoder of :mod:`phase2_git.core.jsonvalue`
then parses the result, with its exact numbers, duplicate-key tracking and error positions
(line and column) that still point into the file as written.

Hand-written rather than ``json5`` or ``commentjson``: those parse into Python floats and
dicts, losing the number text and duplicate keys phase2 compares, accept far more than JSONC
(single quotes, hex, NaN), and ``json5`` is slow on large files. The scanner below only has to
know where strings, comments and commas are.
"""

from __future__ import annotations

import re

from phase2_git.core import jsonvalue
from phase2_git.core.patterns import lazy_pattern
from phase2_git.core.values import Value

# The patterns are compiled on first use: the hook imports this module, and a run whose
# files hold no `/` needs none of them.

# the next interesting character outside a string: a quote, a comment start, a comma, a
# closing bracket, or another significant character (tracked for trailing commas)
_interesting = lazy_pattern(r'["/,\]}]|[^\s"/,\]}]+')
_string_end = lazy_pattern(r'(?:[^"\\\n]|\\.)*"', re.DOTALL)


class Scan(Value):
    # a Value, not a NamedTuple: never used as a tuple, and ~10x cheaper to define
    __slots__ = ("comment_at", "comments", "error", "text", "trailing_commas")

    def __init__(
        self,
        text: str,
        comments: tuple[str, ...],
        trailing_commas: int,
        error: str,
        comment_at: tuple[int, ...] = (),
    ) -> None:
        self.text = text  # comments and trailing commas blanked, every other character in place
        self.comments = comments  # each comment as written, in order
        self.comment_at = comment_at  # where each comment starts in the text
        self.trailing_commas = trailing_commas
        self.error = error  # "" or why the text is not JSONC (an unterminated comment)


def _blank(text: str) -> str:
    """Spaces for ``text``, its line breaks kept (positions and line numbers stay)."""
    return re.sub(r"[^\r\n]", " ", text)


def scan(text: str) -> Scan:
    """Comments and trailing commas of ``text`` found outside strings and blanked."""
    out: list[str] = []
    comments: list[str] = []
    starts: list[int] = []
    trailing = 0
    pos = 0
    n = len(text)
    comma = -1  # index in ``out`` of a comma not yet followed by a significant character
    interesting, string_end = _interesting(), _string_end()
    while True:
        found = interesting.search(text, pos)
        if found is None:
            out.append(text[pos:])
            break
        i = found.start()
        c = text[i]
        out.append(text[pos:i])
        if c == '"':
            end = string_end.match(text, i + 1)
            if end is None:  # an unterminated string: the decoder says where
                out.append(text[i:])
                break
            out.append(text[i : end.end()])
            pos = end.end()
            comma = -1
            continue
        if c == "/" and text.startswith("//", i):
            stop = text.find("\n", i)
            stop = n if stop == -1 else stop
            if text[stop - 1 : stop] == "\r":
                stop -= 1
            comments.append(text[i:stop])
            starts.append(i)
            out.append(" " * (stop - i))
            pos = stop
            continue
        if c == "/" and text.startswith("/*", i):
            stop = text.find("*/", i + 2)
            if stop == -1:
                line = text.count("\n", 0, i) + 1
                return Scan(text, tuple(comments), trailing, f"unterminated comment at line {line}")
            comments.append(text[i : stop + 2])
            starts.append(i)
            out.append(_blank(text[i : stop + 2]))
            pos = stop + 2
            continue
        if c in "]}" and comma >= 0:
            out[comma] = " "
            trailing += 1
        if c == ",":
            out.append(c)
            comma = len(out) - 1
        else:
            out.append(found.group())
            comma = -1
        pos = found.end()
    return Scan("".join(out), tuple(comments), trailing, "", tuple(starts))


def blank(text: str) -> str:
    """``text`` with its comments and trailing commas blanked (see :func:`scan`)."""
    return scan(text).text


def parse(data: bytes) -> jsonvalue.JValue:
    """Parse bytes as one JSONC document, or raise :class:`jsonvalue.JsonInvalid`."""
    try:
        text = jsonvalue.decode_text(data)
    except UnicodeDecodeError as exc:
        raise jsonvalue.JsonInvalid(f"not UTF-8 (byte {exc.start})") from None
    found = scan(text)
    if found.error:
        raise jsonvalue.JsonInvalid(found.error)
    return jsonvalue.parse_text(found.text)


# what has_comment looks for, in one C-speed match: everything that is neither a comment
# start nor a quote opening no whole string (strings skipped whole, unrolled so the engine
# does not try an alternative per character; the alternatives start differently, so the
# loop stops at the first stop and the optional group then always matches: no backtracking),
# then that stop, if any
_until_comment = lazy_pattern(
    r'(?:[^"/]+|"[^"\\\n]*(?:\\.[^"\\\n]*)*"|/(?![/*]))*(/[/*]|")?', re.DOTALL
)


def has_comment(data: bytes) -> bool:
    """Cheap sniff on the first bytes of a file: a comment outside strings, exactly when
    :func:`scan` finds one (a property test compares them). Every artifact with a JSON
    extension is sniffed, and a URL in a string puts a ``/`` in most of them: the scanner's
    Python loop over every token was 40% of a diff of real data."""
    if b"/" not in data:
        return False
    text = data.decode("utf-8", "replace")
    if "\\" not in text:
        # no escape anywhere: every quote opens or closes a string, so the even pieces
        # between quotes are the text outside strings (up to an unterminated string, past
        # which nothing counts: a marker there goes on to the match below). No comment
        # marker in them, no comment: that is every valid JSON file whose strings hold a
        # URL and no escape, answered by C calls alone (the match, one regex step per string,
        # cost more than parsing the file)
        outside = '"'.join(text.split('"')[0::2])
        if "//" not in outside and "/*" not in outside:
            return False
    found = _until_comment().match(text)  # always matches: everything it may take is optional
    assert found is not None
    stop = found.group(1)
    if stop == "//":
        return True
    if stop == "/*":
        # a block comment counts once it is closed (scan stops at one that is not)
        return text.find("*/", found.end()) != -1
    return False  # no comment, or an unterminated string first (scan stops there)
