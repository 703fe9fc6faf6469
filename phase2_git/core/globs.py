"""gitignore-style patterns, matched against repository paths of files.

Hand-written on purpose for the common patterns: ``pathspec`` (which implements git's
wildmatch in full) costs some 15 ms of imports, and the pre-commit hook matches the default
artifact patterns on every commit. A pattern this module does not translate (a negation ``!``,
a backslash escape, trailing spaces, a comment) sends the whole list to ``pathspec``;
``tests/test_defaults.py`` checks the translation against ``pathspec`` on generated patterns.

The rules (gitignore's, for files): a pattern without a slash (a trailing one aside) matches a
file or folder name at any depth; with one it is anchored at the top (a leading slash is
dropped); ``*`` and ``?`` never match ``/``; ``**/`` is any number of folders, a final ``/**``
everything inside; a trailing slash matches folders only; a pattern that matches a folder
matches every file under it. A newline is an ordinary character (pathspec's regexes do not
cross one; git does, and ``tests/test_defaults.py`` asks ``git check-ignore``).
"""

# no `from __future__ import annotations`: the hook imports this module

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

Matcher = Callable[[str], bool]

_FALLBACK = object()


def _segment(seg: str) -> str | None:
    """One path segment as a regex (None: not translated here)."""
    out: list[str] = []
    i, n = 0, len(seg)
    while i < n:
        c = seg[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            if j < n and seg[j] in "!^":
                j += 1
            if j < n and seg[j] == "]":
                j += 1
            while j < n and seg[j] != "]":
                j += 1
            if j >= n:
                return None  # an unterminated class: git's reading is subtle, leave it
            body = seg[i + 1 : j]
            if "[" in body or "\\" in body or "/" in body:
                return None  # [:alpha:] classes, escapes: pathspec knows them
            negate = body[:1] in ("!", "^")
            if negate:
                body = body[1:]
            body = body.replace("\\", "\\\\").replace("^", "\\^").replace("[", "\\[")
            if body.startswith("]"):
                body = "\\]" + body[1:]
            out.append(f"(?!/)[{'^' if negate else ''}{body}]")
            i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _translate(pattern: str) -> tuple[str, bool] | object:
    """``(regex, folders_only)``; None for a pattern that matches nothing (blank);
    ``_FALLBACK`` for one this module leaves to pathspec."""
    if not pattern.strip():
        return None
    if pattern[0] in "!#" or "\\" in pattern or pattern.endswith((" ", "\t")):
        return _FALLBACK
    folders_only = pattern.endswith("/")
    body = pattern[:-1] if folders_only else pattern
    if not body or body.endswith("/") or "//" in body:
        return _FALLBACK
    anchored = "/" in body
    if body.startswith("/"):
        body = body[1:]
        if not body:
            return _FALLBACK
    segs = body.split("/")
    if folders_only and segs[-1] == "**":
        return _FALLBACK  # "a/**/": pathspec reads it as "a/**"
    rx = "" if anchored else "(?:.*/)?"
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        if seg == "**":
            rx += ".*" if last else "(?:.*/)?"
            continue
        if "**" in seg and seg.strip("*") == "":
            return _FALLBACK  # "***": pathspec's reading
        part = _segment(seg)
        if part is None:
            return _FALLBACK
        rx += part if last else part + "/"
    return rx, folders_only


def _never(path: str) -> bool:
    return False


@lru_cache(maxsize=32)
def compile_patterns(patterns: tuple[str, ...]) -> Matcher:
    """A predicate: does some pattern of the list match the file ``path``."""
    files: list[str] = []
    folders: list[str] = []
    for pattern in patterns:
        found = _translate(pattern)
        if found is _FALLBACK:
            return _pathspec(patterns)
        if not isinstance(found, tuple):
            continue  # a blank line
        rx, folders_only = found
        (folders if folders_only else files).append(rx)
    if not files and not folders:
        return _never
    if not any(c in p for p in patterns for c in "*?["):
        return _literal(patterns)
    # one C call a path: a file pattern matches the path or one of its folders (then the
    # path goes on past a slash), a folder pattern only a folder. A newline is a character
    # like any other in a path, as git's wildmatch reads it (DOTALL: `.` crosses it too)
    either = [f"(?:{'|'.join(files)})(?:/.*)?"] if files else []
    either += [f"(?:{'|'.join(folders)})/.*"] if folders else []
    rx = re.compile("|".join(either), re.DOTALL)

    def match(path: str) -> bool:
        return rx.fullmatch(path) is not None

    return match


def _literal(patterns: Sequence[str]) -> Matcher:
    """The matcher of patterns without a wildcard (the default ``hand_written`` list): set
    lookups and prefix tests, no regex to compile, which took 1.5 ms of every hook run."""
    exact: set[str] = set()  # anchored file patterns: the path, or a folder from the top
    prefixes: list[str] = []  # anchored: what a path inside starts with
    names: set[str] = set()  # unanchored file patterns: any component
    folder_names: set[str] = set()  # unanchored folder patterns: any folder
    for pattern in patterns:
        if not pattern.strip():
            continue
        folders_only = pattern.endswith("/")
        body = pattern[:-1] if folders_only else pattern
        if "/" in body:
            body = body.removeprefix("/")
            prefixes.append(body + "/")
            if not folders_only:
                exact.add(body)
        else:
            (folder_names if folders_only else names).add(body)
    starts = tuple(prefixes)

    def match(path: str) -> bool:
        if path in exact or (starts and path.startswith(starts)):
            return True
        if names or folder_names:
            parts = path.split("/")
            if names and not names.isdisjoint(parts):
                return True
            if folder_names and not folder_names.isdisjoint(parts[:-1]):
                return True
        return False

    return match


def _pathspec(patterns: Sequence[str]) -> Matcher:
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(patterns)

    def match(path: str) -> bool:
        return bool(spec.match_file(path))

    return match


def matches(patterns: Sequence[str], path: str) -> bool:
    return compile_patterns(tuple(patterns))(path)
