"""Which whitespace differences are noise, per kind of text file (README: "Whitespace").

Whitespace carries meaning in many formats: indentation nests YAML mappings and Python blocks,
a Makefile recipe starts with a tab, two trailing spaces are a Markdown line break, a blank line
ends a paragraph, a space inside a CSV field is part of the field. A text change is
``whitespace`` noise only when the two sides are equal once the differences this table calls
noise for the file's format are normalised; any other whitespace difference is ``content``.

Line endings (CRLF/CR), a leading UTF-8 byte order mark and the newlines at the end of the file
are noise in every format (they are also their own mismatch types). JSON documents that parse
are not decided here: for them formatting between tokens is never meaningful and strings are
compared by value (``core.classify``); a file with a JSON extension that does not parse is
compared as JSON-ish tokens (:data:`JSON_TEXT`).
"""

# no `from __future__ import annotations`: NamedTuple fields stay cheap (see core/model.py)

import posixpath
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from phase2_git.core.jsonvalue import UTF8_BOM, decode_text
from phase2_git.core.patterns import lazy_pattern

# What the line-level rules call whitespace: space and tab. Other characters str.isspace()
# accepts (NBSP, U+2028, form feed, the ASCII separators 0x1C-0x1F …) stay content: a no-break
# space is not a space to a reader, and U+2028 is a line break to JavaScript.
_BLANK = " \t"


class WhitespaceRules(NamedTuple):
    """One row of the table: which whitespace differences are noise for a kind of file."""

    format: str  # shown in details: "YAML", "Python", "plain text" …
    # spaces and tabs at the end of a line, except after a backslash (a line continuation in
    # shell, Python, C, make and TOML: backslash-space escapes a space and ends it)
    trailing: bool = False
    # spaces and tabs before the first character of a non-blank line
    indent: bool = False
    # the width and kind (space or tab) of runs of spaces and tabs between two characters
    inner: bool = False
    # lines holding nothing (after the rules above) added or removed
    blank_lines: bool = False
    # lines joined or split: only together with every rule above, as the text's tokens
    line_breaks: bool = False
    # every whitespace outside string literals (JSON that does not parse: NaN, comments …)
    outside_strings: bool = False

    @property
    def tokens_only(self) -> bool:
        """The comparison is of tokens, not lines (see :func:`key`)."""
        return self.line_breaks or self.outside_strings


# Only the final newline(s), line endings and a BOM are noise.
STRICT = WhitespaceRules("")
# Trailing whitespace is noise too.
TRAILING = WhitespaceRules("", trailing=True)
# Every whitespace difference is noise: the same tokens in the same order.
ANY = WhitespaceRules(
    "", trailing=True, indent=True, inner=True, blank_lines=True, line_breaks=True
)

# Formats phase2 knows, by lower-cased extension, and by file name for extension-less ones.
# Everything else is plain text: trailing whitespace is noise, any other whitespace is content.
TABLE: tuple[tuple[WhitespaceRules, tuple[str, ...]], ...] = (
    # indentation nests blocks; strings keep every space; backslash-space ends a continuation
    (STRICT._replace(format="Python"), (".py", ".pyi", ".pyw", ".pyx")),
    # indentation nests mappings; block scalars keep trailing spaces and blank lines
    (STRICT._replace(format="YAML"), (".yaml", ".yml")),
    # a recipe line starts with a tab; a variable keeps the trailing spaces of its value
    (
        STRICT._replace(format="Makefile"),
        (".mk", ".mak", "makefile", "gnumakefile", "makefile.in", "makefile.am"),
    ),
    # two trailing spaces break a line; indentation makes code blocks and nested lists; a
    # blank line ends a paragraph; code spans keep their spaces
    (STRICT._replace(format="Markdown"), (".md", ".markdown", ".mdown", ".mkd", ".mdx")),
    # every byte of a context, added or removed line is part of the patched file
    (STRICT._replace(format="diff"), (".diff", ".patch")),
    # a space belongs to its field (RFC 4180 §2), a tab separates TSV fields, a line is a row
    (STRICT._replace(format="CSV/TSV"), (".csv", ".tsv", ".tab", ".psv")),
    # here-documents keep trailing spaces
    (STRICT._replace(format="shell"), (".sh", ".bash", ".zsh", ".ksh")),
    # multi-line strings keep trailing spaces
    (STRICT._replace(format="TOML"), (".toml",)),
    # a value keeps its trailing spaces (java.util.Properties)
    (STRICT._replace(format="Java properties"), (".properties",)),
    # docutils strips trailing whitespace from every input line; indentation and blank lines
    # structure the document
    (TRAILING._replace(format="reStructuredText"), (".rst",)),
)
_BY_KEY: dict[str, WhitespaceRules] = {key: rules for rules, keys in TABLE for key in keys}
DEFAULT = TRAILING._replace(format="plain text")
INSIGNIFICANT = ANY._replace(format="files declared whitespace-insignificant")
# An artifact with a JSON extension whose sides do not both parse (NaN, comments, JSON5 …):
# formatting between tokens is still never meaningful, whitespace inside a string still is.
JSON_TEXT = WhitespaceRules("JSON", outside_strings=True)


# whitespace, or a token: a string literal ('…' too: JSON5), a punctuator, a run of the rest
# (compiled on first use, as every pattern of this module: the hook imports it, and most runs
# need neither)
_json_lex = lazy_pattern(
    r"(\s+)|(\"[^\"\\]*(?:\\.[^\"\\]*)*\"|'[^'\\]*(?:\\.[^'\\]*)*'|[{}\[\]:,]|[^\s{}\[\]:,\"']+)",
    re.DOTALL,
)


def json_tokens(text: str) -> list[str]:
    """JSON-ish tokens: string literals whole (their whitespace kept), whitespace between
    tokens dropped; from an unterminated string on, the rest is one token, compared as is
    but for its line endings and final newlines. No JSON string holds a raw line break, so
    those are the file's, noise in every format as the classification has them (a file that
    ends inside a string was called ``trailing_newline`` when only its final newline went,
    and this method said the sides differ)."""
    out: list[str] = []
    pos = 0
    for found in _json_lex().finditer(text):
        if found.start() != pos:  # an unterminated string: nothing matched at pos
            break
        if found.group(2) is not None:
            out.append(found.group(2))
        pos = found.end()
    if pos < len(text):
        out.append(text[pos:].replace("\r\n", "\n").replace("\r", "\n").rstrip("\n"))
    return out


def rules_for(
    path: str, insignificant: Sequence[str] = (), json_extensions: Sequence[str] = ()
) -> WhitespaceRules:
    """The whitespace rules of an artifact: by the user's ``noise.whitespace_insignificant``
    patterns first, then by file name, then by extension (``json_extensions``: JSON_TEXT);
    ``DEFAULT`` for any other text."""
    if insignificant and _matches(tuple(insignificant), path):
        return INSIGNIFICANT
    name = posixpath.basename(path).lower()
    ext = posixpath.splitext(name)[1]
    if ext and ext in json_extensions:
        return JSON_TEXT
    found = _BY_KEY.get(name) or _BY_KEY.get(ext)
    return found if found is not None else DEFAULT


@lru_cache(maxsize=8)
def _spec(patterns: tuple[str, ...]) -> object:
    import pathspec  # only with patterns configured: off the default hook path

    return pathspec.GitIgnoreSpec.from_lines(patterns)


def _matches(patterns: tuple[str, ...], path: str) -> bool:
    return bool(_spec(patterns).match_file(path))  # type: ignore[attr-defined]


# a line's whole run of trailing spaces and tabs, unless a backslash comes before it: a
# backslash-space is an escaped space, a backslash-newline a continuation: never noise
_trailing = lazy_pattern(r"(?<![\\ \t])[ \t]+$", re.MULTILINE)


def _collapse_inner(line: str) -> str:
    body = line.lstrip(_BLANK)
    lead = line[: len(line) - len(body)]
    core = body.rstrip(_BLANK)
    tail = body[len(core) :]
    out: list[str] = []
    run = False
    for ch in core:
        if ch in _BLANK:
            run = True
            continue
        if run:
            out.append(" ")
            run = False
        out.append(ch)
    return lead + "".join(out) + tail


def normal_text(text: str, rules: WhitespaceRules) -> str:
    """``text`` (BOM already removed) with LF line endings, the differences ``rules`` call
    noise normalised, and no newline at the end. Not for ``rules.tokens_only``: there the
    tokens are the whole comparison."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if rules.trailing and (" \n" in text or "\t\n" in text or text.endswith((" ", "\t"))):
        text = _trailing().sub("", text)  # one pass over the text, not a call per line
    if rules.indent or rules.inner or rules.blank_lines:
        lines = text.split("\n")
        if rules.indent:
            lines = [line.lstrip(_BLANK) for line in lines]
        if rules.inner:
            lines = [_collapse_inner(line) for line in lines]
        if rules.blank_lines:
            lines = [line for line in lines if line]
        text = "\n".join(lines)
    return text.rstrip("\n")


def normal_lines(text: str, rules: WhitespaceRules) -> list[str]:
    """The lines of :func:`normal_text` (none for an empty text)."""
    normal = normal_text(text, rules)
    return normal.split("\n") if normal else []


def key(text: str, rules: WhitespaceRules) -> str | tuple[str, ...]:
    """Two texts are ``whitespace`` noise of each other under ``rules`` iff their keys are
    equal (``text`` without the BOM, as :func:`jsonvalue.decode_text` gives it): the token
    tuple where ``rules.tokens_only``, else the normalised lines joined."""
    if rules.outside_strings:  # line endings are noise in every format, strings included
        return tuple(json_tokens(text.replace("\r\n", "\n").replace("\r", "\n")))
    if rules.tokens_only:
        return tuple(text.split())
    return normal_text(text, rules)


def normalize(data: bytes, rules: WhitespaceRules) -> bytes:
    """The canonical bytes of ``data`` under ``rules`` (not for ``tokens_only``): LF line
    endings, the noise normalised, exactly one final newline. Raises ``UnicodeDecodeError``.

    ``key(normalize(x)) == key(x)`` and ``normalize(normalize(x)) == normalize(x)``.
    """
    body = normal_text(decode_text(data), rules)
    out = (body + "\n").encode("utf-8") if body else b""
    # a second U+FEFF is content; written first it would read back as the BOM, which is not
    return UTF8_BOM + out if out.startswith(UTF8_BOM) else out


def describe(a: str, b: str, rules: WhitespaceRules) -> str:
    """Where and how two texts with the same tokens differ beyond what ``rules`` calls noise,
    e.g. ``indentation changed at line 3``."""
    if rules.outside_strings:
        return "whitespace inside a string literal changed"
    la, lb = normal_lines(a, rules), normal_lines(b, rules)
    n = 0
    while n < len(la) and n < len(lb) and la[n] == lb[n]:
        n += 1
    where = f"line {n + 1}"
    if n < len(la) and n < len(lb):
        x, y = la[n], lb[n]
        if x.split() == y.split():
            if _indent(x) != _indent(y):
                return f"indentation changed at {where}"
            if x[len(x.rstrip(_BLANK)) :] != y[len(y.rstrip(_BLANK)) :]:
                if x.rstrip(_BLANK).endswith("\\"):
                    return f"whitespace after a line-ending backslash changed at {where}"
                return f"trailing whitespace changed at {where}"
            return f"whitespace inside {where} changed"
        if not x.strip() or not y.strip():
            return f"blank line added or removed at {where}"
    else:
        rest = la[n:] or lb[n:]
        if all(not line.strip() for line in rest):
            return f"blank line added or removed at {where}"
    return f"lines joined or split at {where}"


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]
