"""Line endings git itself normalised: a change ``git add`` made, not noise to take back.

Where a file's attributes (``text``, ``text=auto``, ``eol``, the old ``crlf``) or
``core.autocrlf`` make ``git add`` store LF for CRLF
(:func:`~phase2_git.git.worktree.normalizes_line_endings`), the base's CRLFs cannot be stored
again: ``git add`` turns them into LF. A repository that adds ``* text=auto`` and runs ``git
add --renormalize .`` makes exactly such a change, file after file. The hook does not call it
noise (it would block that commit for good) and ``resolve`` does not write the CRLFs back (it
would undo the renormalisation in a commit of its own). The attributes asked are the working
tree's: both run on their user's own repository.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from phase2_git.core.model import Mismatch
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


def normalized_by_git(
    repo: GitRepo,
    mismatches: Sequence[Mismatch],
    *,
    attrs: Mapping[str, Mapping[str, str]] | None = None,
    crlf: str | None = None,
) -> dict[str, str]:
    """``path -> what normalises it`` for those of ``mismatches`` whose line-ending change is
    git's own: the head is the base with every CRLF made LF, or a mixed file whose only
    noise is its line endings has none left in its head. ``attrs`` (the paths'
    :data:`~phase2_git.git.worktree.LINE_ENDING_ATTRIBUTES` or more) and ``crlf``
    (``core.autocrlf``): when git was asked already."""
    eol = [m for m in mismatches if line_endings_only(m) and m.change.before and m.change.after]
    if not eol:
        return {}
    # tempfile, dataclasses and more: not on the path of a hook run without such a change
    from phase2_git.git import worktree
    from phase2_git.git.objects import read_blob

    missing = [m.path for m in eol if attrs is None or m.path not in attrs]
    known = dict(attrs or {})
    if missing:
        known.update(worktree.attributes(repo, missing, worktree.LINE_ENDING_ATTRIBUTES))
    crlf = worktree.autocrlf(repo) if crlf is None else crlf
    out: dict[str, str] = {}
    for m in eol:
        a = known.get(m.path, {})
        if not worktree.normalizes_line_endings(a, crlf):
            continue
        before = read_blob(repo, str(m.change.before))
        after = read_blob(repo, str(m.change.after))
        if b"\r\n" not in before:
            continue
        if m.mismatch_type == "line_endings":
            normalized = before.replace(b"\r\n", b"\n") == after
        else:
            normalized = b"\r\n" not in after
        if normalized:
            out[m.path] = ", ".join(worktree.conversions(a, crlf)) or "core.autocrlf"
    return out
