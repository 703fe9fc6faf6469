"""Who runs a command: the author a decision records.

One definition for every command that records a decision (``resolve``, ``approve``,
``reject``, ``revert``, audits and labels in the review, ``gate --reset-breaker``): the same
person gets the same id and role whichever command they run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from phase2_git.core.env import in_ci
from phase2_git.git.repo import GitRepo

DEFAULT_ROLE = "developer"  # outside CI, when neither --role nor PHASE2_ROLE names one
CI_ROLE = "ci"  # in CI (core.env.in_ci), when neither names one


@dataclass(frozen=True)
class Identity:
    id: str
    role: str


def identity(
    repo: GitRepo,
    user: str | None,
    role: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Identity:
    """``--user``/``--role`` first, then PHASE2_USER/PHASE2_ROLE, then git's committer identity
    (``git var``: exactly the identity git will write into the commit). Without a role:
    ``ci`` in CI, else ``developer``, for every command alike. A role is a label on the
    decision, not a permission: who may approve is the ``[trust]`` table's business."""
    uid = user or environ.get("PHASE2_USER")
    if not uid:
        proc = repo.run_status("var", "GIT_COMMITTER_IDENT")
        ident = proc.stdout.decode("utf-8", "replace").strip()
        uid = ident.rsplit(">", 1)[0] + ">" if ">" in ident else (environ.get("USER") or "unknown")
    r = role or environ.get("PHASE2_ROLE") or (CI_ROLE if in_ci(environ) else DEFAULT_ROLE)
    return Identity(uid[:256], r[:64])
