"""History lookups for the trust model: which commit added a decision line, and what git
says about that commit's committer and signature."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection
from pathlib import Path

from phase2_git.core.trust import CommitFacts
from phase2_git.git.repo import GitRepo

LOG_FILE = ".phase2/decisions.jsonl"


# more separate line ranges than this and one blame of the whole file is the cheaper call
_MAX_RANGES = 2000


def line_origins(repo: GitRepo, head: str, wanted: Collection[bytes]) -> dict[bytes, str | None]:
    """For each line of ``wanted`` (exact bytes, without the newline and a CR before it: a
    checkout with ``core.autocrlf`` adds one) that the log holds at ``head``:
    the commit that introduced that line there, or None when history traces it to another
    file. Lines the log does not hold at ``head`` are left out (not committed).

    It is git blame, once per run: a line present in a merge but in none of its parents is the
    merge's; a line merged in from a branch is that branch commit's; a line copied or moved
    to a new place is the copier's. Nothing is matched by a decision id, which any line can
    claim. Only the first occurrence of a line is traced (a repeat also repeats its id)."""
    if not wanted:
        return {}
    proc = repo.run_status("cat-file", "blob", f"{head}:{LOG_FILE}")
    if proc.returncode != 0:
        return {}
    first: dict[bytes, int] = {}
    for n, raw in enumerate(proc.stdout.split(b"\n"), start=1):
        line = raw.removesuffix(b"\r")
        if line in wanted and line not in first:
            first[line] = n
    if not first:
        return {}
    ranges: list[list[int]] = []
    for n in sorted(first.values()):
        if ranges and ranges[-1][1] == n - 1:
            ranges[-1][1] = n
        else:
            ranges.append([n, n])
    limits = [] if len(ranges) > _MAX_RANGES else [f"-L{a},{b}" for a, b in ranges]
    out = repo.run(
        "blame",
        "--incremental",
        # exact bytes: no textconv filter, and no revisions skipped (blame.ignoreRevsFile
        # could name a file of the PR's and hand its lines to an earlier commit)
        "--no-textconv",
        "--ignore-revs-file=",
        *limits,
        head,
        "--",
        LOG_FILE,
    )
    origin = _parse_incremental(out)
    return {line: origin.get(n) for line, n in first.items() if n in origin}


def _parse_incremental(out: bytes) -> dict[int, str | None]:
    """Final line number -> commit, from ``git blame --incremental`` (each group: a header
    ``<commit> <orig line> <final line> <count>``, details, and a ``filename`` line)."""
    origin: dict[int, str | None] = {}
    group: tuple[str, int, int] | None = None
    for row in out.split(b"\n"):
        if group is None:
            head = row.split(b" ")
            if len(head) == 4 and all(p.isdigit() for p in head[1:]):
                group = head[0].decode("ascii", "replace"), int(head[2]), int(head[3])
            continue
        if row.startswith(b"filename "):
            commit, start, count = group
            # blame follows a whole-file rename: a line from another file was never added
            # to this log by any commit (no reviewer approved it here)
            who = commit if row[len(b"filename ") :] == LOG_FILE.encode() else None
            for n in range(start, start + count):
                origin[n] = who
            group = None
    return origin


def commit_facts(repo: GitRepo, commit: str, allowed_signers: str) -> CommitFacts:
    """Committer and signature status, SSH signatures checked against ``allowed_signers``
    (written to a temp file: the base side's keys, never the user's own configuration)."""
    with tempfile.TemporaryDirectory(prefix="phase2-trust-") as tmp:
        signers = Path(tmp) / "allowed_signers"
        signers.write_text(allowed_signers or "# no SSH keys listed\n")
        out = repo.run(
            "-c",
            f"gpg.ssh.allowedSignersFile={signers}",
            "log",
            "-1",
            "--format=%cn <%ce>%x00%G?%x00%GS%x00%GF",
            commit,
            "--",
        )
    parts = os.fsdecode(out).rstrip("\n").split("\0")
    parts += [""] * (4 - len(parts))
    return CommitFacts(commit, parts[0], parts[1] or "N", parts[2], parts[3])


def log_rewrite(repo: GitRepo, base: str | None, head: str) -> str | None:
    """The first commit in ``base..head`` (all of ``head``'s history without ``base``) whose
    change to the decision log removes or changes a line, against any of its parents; None
    when every commit only added lines.

    The log is append-only: deleting a reviewer's later ``reject`` would bring their earlier
    ``approve`` back, and no single line of it would look foreign. A merge that keeps both
    parents' lines, in either order, only adds lines against each parent (a parent's lines
    are a subsequence of the result, so a minimal diff never deletes)."""
    if repo.run_status("rev-parse", "--verify", "-q", f"{head}^{{commit}}").returncode != 0:
        return None  # an unborn branch: no history to check
    rev = f"{base}..{head}" if base else head
    # -m: merges against each parent; -U0: only the changed lines; --no-renames: a log moved
    # in from another file is not its history
    out = repo.run(
        "log", "-m", "-p", "-U0", "--no-renames", "--no-ext-diff", "--no-textconv",
        "--format=%x00%H", rev, "--", LOG_FILE,
    )  # fmt: skip
    commit: str | None = None
    in_hunk = False  # "--- a/…" in a header names a file; in a hunk it removes "-- …"
    for raw in out.split(b"\n"):
        if raw.startswith(b"\0"):
            commit, in_hunk = raw[1:].decode("ascii", "replace"), False
        elif raw.startswith(b"diff --git "):
            in_hunk = False
        elif raw.startswith(b"@@"):
            in_hunk = True
        elif in_hunk and raw.startswith(b"-"):
            return commit
    return None
