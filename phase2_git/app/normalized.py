"""Line endings git itself normalised: a change ``git add`` made, not noise to take back.

Where a file's attributes (``text``, ``text=auto``, ``eol``, the old ``crlf``) or
``core.autocrlf`` make ``git add`` store LF for CRLF
(:func:`~phase2_git.git.worktree.normalizes_line_endings`), the base's CRLFs cannot be stored
again: ``git add`` turns them into LF. A repository that adds ``* text=auto`` and runs ``git
add --renormalize .`` makes exactly such a change, file after file. The hook does not call it
noise (it would block that commit for good) and ``resolve`` does not write the CRLFs back (it
would undo the renormalisation in a commit of its own). The attributes asked are the working
tree's: the hook's user's own repository, or the branch ``resolve`` commits on (in the
Action's opt-in ``apply``, a pull request's head from the repository itself, never a fork's),
where they can only make phase2 write less.

A diff whose head is the index or the working tree (:func:`told`, :func:`marked`) reports
such a mismatch as git's: a line-ending change is resolved, and a mixed file is its real
change alone, with no strip planned. So the hook, which is such a diff, passes it, and
``phase2 diff --staged`` says why. Between two commits (CI, ``resolve``) nothing is marked:
there ``resolve`` only refuses to write the CRLFs back (:func:`normalized_by_git`).
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterator, Mapping, Sequence

from phase2_git.core.model import Blob, Change, Mismatch
from phase2_git.core.pipeline import PairCheck
from phase2_git.git.repo import GitRepo

REASON = (
    "line endings git normalises here ({what}): its CRLFs cannot be stored again, "
    "`git add` makes them LF"
)


def line_endings_only(m: Mismatch) -> bool:
    """Noise of line endings alone: the whole change, or beside a real one."""
    if m.mismatch_type == "line_endings":
        return True
    changes = m.changes
    return m.strips_safely and changes is not None and changes.noise_types() == ("line_endings",)


def made_by_git(m: Mismatch, before: Blob | None, after: Blob | None) -> bool:
    """The pair's line-ending change is what ``git add`` makes of the base where git
    normalises line endings (whether it does there is the attributes' to say): asked where
    the pair is read (:class:`~phase2_git.core.pipeline.PairCheck`), so that only those
    paths' attributes are asked of git, and their blobs not read again."""
    if not line_endings_only(m) or before is None or after is None:
        return False
    if before.data is None or after.data is None:
        return False
    return _normalized(m, before.data, after.data)


def normalized_by_git(
    repo: GitRepo,
    mismatches: Sequence[Mismatch],
    *,
    attrs: Mapping[str, Mapping[str, str]] | None = None,
    crlf: str | None = None,
    made: Collection[str] | None = None,
) -> dict[str, str]:
    """``path -> what normalises it`` for those of ``mismatches`` whose line-ending change is
    git's own: the head is the base with every CRLF made LF, or a mixed file whose only
    noise is its line endings has none left in its head. ``attrs`` (the paths'
    :data:`~phase2_git.git.worktree.LINE_ENDING_ATTRIBUTES` or more) and ``crlf``
    (``core.autocrlf``): when git was asked already. ``made``: the paths whose pairs
    :func:`made_by_git` said so of, where they were read (no blob is read here then)."""
    eol = [m for m in mismatches if line_endings_only(m) and m.change.before and m.change.after]
    if made is not None:
        eol = [m for m in eol if m.path in made]
    if not eol:
        return {}
    # tempfile, dataclasses and more: not on the path of a hook run without such a change
    from phase2_git.git import worktree

    missing = [m.path for m in eol if attrs is None or m.path not in attrs]
    known = dict(attrs or {})
    if missing:
        known.update(worktree.attributes(repo, missing, worktree.LINE_ENDING_ATTRIBUTES))
    crlf = worktree.autocrlf(repo) if crlf is None else crlf
    asked = [m for m in eol if worktree.normalizes_line_endings(known.get(m.path, {}), crlf)]
    hits = asked if made is not None else _made_in_blobs(repo, asked)
    return {
        m.path: ", ".join(worktree.conversions(known.get(m.path, {}), crlf)) or "core.autocrlf"
        for m in hits
    }


def _made_in_blobs(repo: GitRepo, mismatches: list[Mismatch]) -> Iterator[Mismatch]:
    """Those of ``mismatches`` whose blobs say :func:`_normalized`. A renormalising commit
    changes every text file: their blobs are read by one git a chunk (a git a blob took 13 s
    for 3,000 files), a chunk at a time in memory."""
    from phase2_git.git.objects import read_objects

    for at in range(0, len(mismatches), _CHUNK):
        chunk = mismatches[at : at + _CHUNK]
        oids = [str(oid) for m in chunk for oid in (m.change.before, m.change.after)]
        blobs = read_objects(repo, oids, max_size=sys.maxsize)
        for m in chunk:
            a, b = blobs.get(str(m.change.before)), blobs.get(str(m.change.after))
            if a is None or b is None or a.data is None or b.data is None:
                continue
            if _normalized(m, a.data, b.data):
                yield m


_CHUNK = 256


def _normalized(m: Mismatch, before: bytes, after: bytes) -> bool:
    """``after`` is what ``git add`` stores of ``before``: every CRLF made LF, or (a mixed
    file, whose real change stays) no CRLF left."""
    if b"\r\n" not in before:
        return False
    if m.mismatch_type == "line_endings":
        return before.replace(b"\r\n", b"\n") == after
    return b"\r\n" not in after


# mismatches held, at most, while the attributes of the line-ending ones among them wait
_HELD = 4096


def told(check: PairCheck | None, made: set[str]) -> PairCheck:
    """``check`` (or no question at all) with :func:`made_by_git` asked beside it, where each
    pair is read: ``made`` gets the paths it said so of, before their mismatches come out."""
    ask = check.ask if check is not None else None
    answer = check.answer if check is not None else None

    def both(m: Mismatch, before: Blob | None, after: Blob | None) -> object:
        return (ask(m, before, after) if ask is not None else None), made_by_git(m, before, after)

    def back(change: Change, value: object) -> None:
        assert isinstance(value, tuple)
        inner, by_git = value
        if by_git:
            made.add(change.path)
        if answer is not None:
            answer(change, inner)

    return PairCheck(both, back, strips=check.strips if check is not None else False)


def marked(repo: GitRepo, mismatches: Iterator[Mismatch], made: set[str]) -> Iterator[Mismatch]:
    """``mismatches`` in their order, those whose line endings git normalised (``made``, and
    the attributes say so) marked as git's (:func:`as_normalized`). From the first such
    mismatch on, the run is held until :data:`_CHUNK` of them are, or :data:`_HELD`
    mismatches in all, and their attributes are asked of git at once."""
    held: list[Mismatch] = []
    asked: list[Mismatch] = []
    for m in mismatches:
        if m.path in made:  # made_by_git said so: a line-ending change, git's own
            asked.append(m)
        if not asked:
            yield m
            continue
        held.append(m)
        if len(asked) >= _CHUNK or len(held) >= _HELD:
            yield from _released(repo, held, asked, made)
            held, asked = [], []
    if held:
        yield from _released(repo, held, asked, made)


def _released(
    repo: GitRepo, held: list[Mismatch], asked: list[Mismatch], made: set[str]
) -> Iterator[Mismatch]:
    found = normalized_by_git(repo, asked, made=made)
    for m in held:
        what = found.get(m.path)
        yield m if what is None else as_normalized(m, what)


def as_normalized(m: Mismatch, what: str) -> Mismatch:
    """``m``, its line-ending change git's own (``what`` normalises it): resolved, or (a
    mixed file) a real change with no strip planned."""
    note = f"line endings git normalises here ({what})"
    if m.mismatch_type == "line_endings":
        return m._replace(resolved=True, detail=f"{m.detail}; {note}: nothing to undo")
    reason = f"a real change needs a human decision; its {note} are not noise"
    return m._replace(plan=m.plan._replace(first=None, reason=reason))
