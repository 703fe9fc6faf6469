"""Who runs a command: the author a decision records."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from phase2_git.core.env import in_ci
from phase2_git.git.repo import GitRepo


@dataclass(frozen=True)
class Identity:
    id: str
    role: str


def identity(
    repo: GitRepo,
    user: str | None,
    role: str | None = None,
    environ: Mapping[str, str] = os.environ,
    *,
    default_role: str = "developer",
) -> Identity:
    """``--user``/``--role`` first, then PHASE2_USER/PHASE2_ROLE, then git's committer identity
    (``git var``: exactly the identity git will write into the commit). Without a role: ``ci``
    in CI, else ``default_role`` (a breaker reset is a maintainer's act)."""
    uid = user or environ.get("PHASE2_USER")
    if not uid:
        proc = repo.run_status("var", "GIT_COMMITTER_IDENT")
        ident = proc.stdout.decode("utf-8", "replace").strip()
        uid = ident.rsplit(">", 1)[0] + ">" if ">" in ident else (environ.get("USER") or "unknown")
    r = role or environ.get("PHASE2_ROLE") or ("ci" if in_ci(environ) else default_role)
    return Identity(uid[:256], r[:64])
