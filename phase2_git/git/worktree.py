"""What makes a working-tree file unsafe to rewrite, and what an interrupted rewrite left.

phase2 rewrites a file only when it holds what git stores: its clean hash (what ``git add``
would store) is the blob being replaced. That is not enough when git converts on the way in:
a clean filter that drops a notebook's ``"outputs"``, CRLF line endings that ``text``/``eol``
or ``core.autocrlf`` turn into LF, a ``working-tree-encoding``, an expanded ``$Id$``. The file
then holds bytes git does not store, which a rewrite would destroy and nothing could bring
back. :func:`hidden_bytes` is the one check every command that writes working-tree files asks
(``resolve``, ``check --fix``, ``revert``, and the sync after every commit):

* a ``filter`` or ``working-tree-encoding`` attribute: never rewritten, whatever the bytes
  (filters are external programs, and their round trip is theirs to define);
* any other conversion: rewritten only when the file's bytes are the blob's own, or exactly
  what a checkout of the blob writes. Then git holds every byte of it.

:func:`torn` recognises what an interrupted rewrite leaves, so a rerun can finish the rewrite
instead of taking the remains for the user's own edit.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from phase2_git.git.repo import GitRepo

# Attributes under which a checkout may write other bytes than the blob's (eol conversion,
# $Id$ expansion, smudge filters, re-encoding); ``crlf`` is the old name of ``text``.
CONVERSION_ATTRIBUTES = ("text", "crlf", "eol", "ident", "filter", "working-tree-encoding")
# the attributes under which phase2 never rewrites a file
NEVER = ("filter", "working-tree-encoding")
AUTOCRLF_OFF = ("", "false", "no", "off", "0")
_UNSET = frozenset(("unspecified", "unset"))


class Hidden(NamedTuple):
    """A file a rewrite would take bytes from that git does not store."""

    path: str
    what: str  # the attribute (or setting) responsible: "filter=strip", "text=auto", …
    always: bool  # an attribute in NEVER: refused whatever the file holds

    @property
    def reason(self) -> str:
        if self.always:
            return (
                f"{self.what} attribute: git stores this file converted, and a rewrite would "
                "lose what the conversion leaves out: never rewritten"
            )
        return (
            f"it holds bytes git does not store ({self.what}), which a rewrite would lose: "
            "not rewritten"
        )


def autocrlf(repo: GitRepo) -> str:
    """``core.autocrlf`` as git would read it, lower case ('' when unset)."""
    return (repo.config_get("core.autocrlf") or "").strip().lower()


_NONE: Mapping[str, str] = MappingProxyType({})  # a path none of the attributes is set for


def attributes(
    repo: GitRepo, paths: Sequence[str], names: Sequence[str]
) -> dict[str, Mapping[str, str]]:
    """``git check-attr`` for many paths in one call: ``path -> {name: value}`` for every one
    of ``paths``, holding only the attributes that are not ``unspecified`` (a name missing is
    unspecified, as every reader takes it). Most paths have none: they share one empty,
    read-only mapping (a dict of six "unspecified" per path was 4 MB for 5,000 paths, alive
    all through a resolve)."""
    if not paths:
        return {}
    data = b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths)
    out = repo.run("check-attr", "-z", "--stdin", *names, input=data).split(b"\0")
    specified: dict[str, dict[str, str]] = {}
    names_of = {os.fsencode(p): p for p in paths}
    fields = iter(out)
    for raw, attr, value in zip(fields, fields, fields):
        if value != b"unspecified":
            path = names_of.get(raw) or os.fsdecode(raw)
            specified.setdefault(path, {})[attr.decode()] = value.decode()
    result: dict[str, Mapping[str, str]] = dict.fromkeys(paths, _NONE)
    result.update(specified)
    return result


def conversions(attrs: Mapping[str, str], crlf: str) -> list[str]:
    """What converts this file between the working tree and git (``name=value`` of each
    attribute, ``core.autocrlf=…``), given its :data:`CONVERSION_ATTRIBUTES`."""
    out = []
    for name in ("text", "crlf", "eol", "ident"):
        value = attrs.get(name, "unspecified")
        if value not in _UNSET:
            out.append(name if value == "set" else f"{name}={value}")
    binary = "unset" in (attrs.get("text"), attrs.get("crlf"))
    eol_named = any(w.partition("=")[0] in ("text", "crlf", "eol") for w in out)
    if crlf not in AUTOCRLF_OFF and not binary and not eol_named:
        out.append(f"core.autocrlf={crlf}")
    return out


# the attributes :func:`normalizes_line_endings` reads
LINE_ENDING_ATTRIBUTES = ("text", "crlf", "eol")


def normalizes_line_endings(attrs: Mapping[str, str], crlf: str) -> bool:
    """``git add`` stores this file with its CRLFs turned into LF, given its
    :data:`LINE_ENDING_ATTRIBUTES` and ``core.autocrlf`` (:func:`autocrlf`): ``text`` set or
    ``auto``, the old ``crlf`` set or ``input``, an ``eol``, or with none of them
    ``core.autocrlf`` true or input; never under ``-text`` (or ``-crlf``, ``text`` unspecified),
    which makes the file binary. (``text=auto`` leaves a file alone whose blob in the index
    holds CRLFs: that is what ``git add --renormalize`` overrides.)"""
    text = attrs.get("text", "unspecified")
    old = attrs.get("crlf", "unspecified")
    if text == "unset" or (text == "unspecified" and old == "unset"):
        return False
    if text in ("set", "auto") or old in ("set", "input"):
        return True
    if attrs.get("eol", "unspecified") in ("lf", "crlf"):
        return True
    return crlf in ("true", "input")


def never_rewritten(attrs: Mapping[str, str]) -> str | None:
    """``name=value`` of the attribute in :data:`NEVER` this file carries, or None."""
    for name in NEVER:
        value = attrs.get(name, "unspecified")
        if value not in _UNSET:
            return f"{name}={value}"
    return None


def hidden_bytes(
    repo: GitRepo,
    files: Mapping[str, str | None],
    *,
    attrs: Mapping[str, Mapping[str, str]] | None = None,
    crlf: str | None = None,
) -> dict[str, Hidden]:
    """Those of ``files`` (path -> the blob its file holds, by clean hash) whose working-tree
    bytes git does not all store. ``attrs``: their :data:`CONVERSION_ATTRIBUTES`, if git was
    asked already; ``crlf``: :func:`autocrlf`, likewise. Files nothing converts cost nothing
    but that; the others are read, and only those that differ from their blob are compared
    with a checkout of it (one ``checkout-index`` for all, into a temporary folder)."""
    if not files:
        return {}
    known: Mapping[str, Mapping[str, str]] = attrs or {}
    missing = [p for p in files if p not in known]
    if missing:
        known = {**known, **attributes(repo, missing, CONVERSION_ATTRIBUTES)}
    crlf = autocrlf(repo) if crlf is None else crlf
    plain = crlf in AUTOCRLF_OFF  # then a file without attributes converts nothing
    out: dict[str, Hidden] = {}
    compare: dict[str, tuple[str, str]] = {}  # path -> (blob, what converts it)
    for path, oid in files.items():
        a = known.get(path, {})
        if plain and _UNSET.issuperset(a.values()):
            continue  # the common case, 5,000 times in a large resolve: kept cheap
        never = never_rewritten(a)
        if never is not None:
            out[path] = Hidden(path, never, True)
            continue
        what = conversions(a, crlf)
        if what and oid is not None:
            compare[path] = (oid, ", ".join(what))
    if not compare:
        return out
    from phase2_git.git.paths import beyond_symlinks, blob_id

    top = os.fspath(repo.root)
    refused = beyond_symlinks(repo.root, list(compare))
    held: dict[str, bytes] = {}
    for path, (oid, _) in compare.items():
        data = None if path in refused else read_regular(f"{top}/{path}")
        if data is not None and blob_id(repo, data) != oid:
            held[path] = data  # not the blob's bytes: are they what a checkout writes?
    if held:
        forms = checkout_forms(repo, [(p, compare[p][0]) for p in held])
        for path, data in held.items():
            if forms.get(path) != data:
                out[path] = Hidden(path, compare[path][1], False)
    return out


def read_regular(path: str) -> bytes | None:
    """The bytes of a regular file (never through a symlink), or None."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def checkout_forms(repo: GitRepo, entries: Sequence[tuple[str, str]]) -> dict[str, bytes]:
    """``path -> bytes`` a checkout of blob ``oid`` at ``path`` writes (eol, autocrlf,
    ``ident``; the attributes of :data:`NEVER` are the caller's to leave out), written by
    ``checkout-index`` into a temporary folder through a temporary index: the user's files
    and index are untouched. (``cat-file --batch --filters`` cannot serve: its header gives
    the unconverted size.)"""
    if not entries:
        return {}
    with tempfile.TemporaryDirectory(prefix="phase2-forms-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        info = b"".join(
            f"100644 {oid}\t".encode() + path.encode("utf-8", "surrogateescape") + b"\0"
            for path, oid in entries
        )
        repo.run("update-index", "-z", "--index-info", input=info, env=env)
        names = b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p, _ in entries)
        out = f"{tmp}/w/"
        repo.run("checkout-index", "-f", "-z", "--stdin", f"--prefix={out}", input=names, env=env)
        forms: dict[str, bytes] = {}
        for path, _ in entries:
            data = read_regular(out + path)
            if data is not None:
                forms[path] = data
        return forms


def torn(data: bytes, old: bytes, new: bytes) -> bool:
    """Whether ``data`` is what a rewrite of a file from ``old`` to ``new`` leaves when it is
    stopped part-way, and neither of the two: a prefix of ``new`` (a file created anew and cut
    short, empty included), or ``new``'s first bytes over ``old`` (an overwrite in place
    stopped before it finished, or before the file was cut to length). Such a file holds no
    byte that is not in ``old`` or ``new``: rewriting it loses nothing."""
    if data in (old, new):
        return False
    if new.startswith(data):
        return True
    if len(data) != len(old):
        return False
    from phase2_git.core.jsonvalue import common_prefix

    done = common_prefix(data, new)
    return data[done:] == old[done:]


def torn_files(repo: GitRepo, files: Sequence[tuple[str, str, str]]) -> set[str]:
    """Those of ``files`` (path, old blob, new blob) that an interrupted rewrite from the one
    to the other left :func:`torn`, as a checkout of each would write it, or removed (a
    checkout replaces a file by removing it first). Files under an attribute of :data:`NEVER`
    are never taken for torn: phase2 does not write them."""
    if not files:
        return set()
    top = os.fspath(repo.root)
    attrs = attributes(repo, [p for p, _, _ in files], NEVER)
    found: set[str] = set()
    present: dict[str, tuple[bytes, str, str]] = {}
    for path, old, new in files:
        if never_rewritten(attrs.get(path, {})) is not None:
            continue
        data = read_regular(f"{top}/{path}")
        if data is not None:
            present[path] = (data, old, new)
        elif not os.path.lexists(f"{top}/{path}"):
            found.add(path)
    if present:
        olds = checkout_forms(repo, [(p, old) for p, (_, old, _) in present.items()])
        news = checkout_forms(repo, [(p, new) for p, (_, _, new) in present.items()])
        for path, (data, _, _) in present.items():
            old_bytes, new_bytes = olds.get(path), news.get(path)
            if old_bytes is not None and new_bytes is not None and torn(data, old_bytes, new_bytes):
                found.add(path)
    return found
