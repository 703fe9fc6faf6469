"""History lookups for the trust model: which commit added a decision line, and what git
says about that commit's committer and signature."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from phase2_git.core.trust import CommitFacts
from phase2_git.git.repo import GitRepo

LOG_FILE = ".phase2/decisions.jsonl"


def line_origin(repo: GitRepo, head: str, needle: str) -> str | None:
    """The oldest commit reachable from ``head`` whose change to the log added ``needle``."""
    out = repo.run_status(
        "log", "--format=%H", "--reverse", "-S", needle, "--fixed-strings", head, "--", LOG_FILE
    )
    if out.returncode != 0:
        return None
    for line in out.stdout.decode().split():
        return line
    return None


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
