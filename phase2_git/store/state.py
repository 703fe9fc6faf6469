"""Resume state: ``.phase2/state/<branch>-<base commit>-<hash>.json``
(``schemas/Phase2State.v1.json``).

One file per branch the commits go to and base *commit* compared, never per name as typed:
``main...HEAD`` on two branches are two comparisons, and a decision made on one never counts on
the other. The run's own commits move the branch, so the head is not in the name; ``head``
records the branch's commit at the last save, and a branch that no longer holds it (reset,
rebased) starts over. Processed items are tracked by mismatch id, which is bound to content.
Only what a human decided, or a decision still waiting to be applied, is kept: what ``--yes``
leaves to a human is not a decision and is never marked. Rewritten atomically after every
decision.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phase2_git.core.ids import sha256  # not hashlib: see core/ids.py
from phase2_git.errors import UsageError
from phase2_git.store import schemas
from phase2_git.store.atomic import atomic_write_text
from phase2_git.store.decisions import now_ts

STATE_DIR = ".phase2/state"
SCHEMA = "Phase2State.v1"


def default_path(root: Path, base_commit: str, branch_ref: str) -> Path:
    """The state of comparing ``base_commit`` with the branch ``branch_ref`` (refs/heads/...)."""
    raw = f"{branch_ref}\0{base_commit}"
    name = branch_ref.removeprefix("refs/heads/")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:64]
    digest = sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return root / STATE_DIR / f"{slug}-{base_commit[:12]}-{digest}.json"


def new_run_id() -> str:
    import secrets

    return "run_" + secrets.token_hex(6)


@dataclass
class State:
    path: Path
    run_id: str
    base_spec: str
    head_spec: str
    config_fingerprint: str
    base: str | None = None
    branch: str | None = None  # refs/heads/<name>: the branch the commits go to
    head: str | None = None  # the branch's commit when last saved
    started_at: str = field(default_factory=now_ts)
    processed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    unsynced: dict[str, Any] | None = None
    commits: list[str] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    resumed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "run_id": self.run_id,
            "base_spec": self.base_spec,
            "head_spec": self.head_spec,
            "base": self.base,
            "branch": self.branch,
            "head": self.head,
            "config_fingerprint": self.config_fingerprint,
            "started_at": self.started_at,
            "updated_at": now_ts(),
            "processed": self.processed,
            "skipped": self.skipped,
            "pending": self.pending,
            "unsynced": self.unsynced,
            "commits": self.commits,
            "stats": self.stats,
        }

    def save(self) -> None:
        # compact: C encoder, and the file is rewritten after every interactive decision
        data = json.dumps(self.to_json(), ensure_ascii=True, separators=(",", ":"))
        atomic_write_text(self.path, data + "\n")

    def bump(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n

    def __post_init__(self) -> None:
        self._seen = set(self.processed)

    def is_processed(self, mismatch_id: str) -> bool:
        return mismatch_id in self._seen

    def mark(self, mismatch_id: str, *, skipped: bool = False) -> None:
        if mismatch_id not in self._seen:
            self._seen.add(mismatch_id)
            self.processed.append(mismatch_id)
        if skipped and mismatch_id not in self.skipped:
            self.skipped.append(mismatch_id)

    def unmark(self, mismatch_id: str) -> None:
        """``u`` in the review: the mismatch is undecided again."""
        if mismatch_id in self._seen:
            self._seen.discard(mismatch_id)
            self.processed.remove(mismatch_id)
        if mismatch_id in self.skipped:
            self.skipped.remove(mismatch_id)

    def forget_skipped(self) -> int:
        """``--revisit-skipped``: skipped mismatches count as unprocessed again."""
        skipped = set(self.skipped)
        self.processed = [m for m in self.processed if m not in skipped]
        self._seen = set(self.processed)
        n = len(self.skipped)
        self.skipped = []
        return n


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def load(
    path: Path,
    root: Path,
    *,
    base_spec: str,
    head_spec: str,
    base: str,
    branch: str,
    config_fingerprint: str,
    restart: bool = False,
) -> State:
    """Load the state for this base commit and branch, or start a new one.

    A file written for another base commit, another branch or another configuration is
    refused (exit 2) unless ``restart`` (only ``--state-file`` can name one: the default file
    is named after both); a malformed one is refused naming the file.
    """
    shown = _display(path, root)
    fresh = State(path, new_run_id(), base_spec, head_spec, config_fingerprint, base, branch)
    if restart or not path.exists():
        return fresh
    try:
        data = schemas.loads_strict(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"{shown}: not UTF-8 (use --restart to start over)") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise UsageError(f"{shown}: not a valid state file ({exc}); use --restart") from None
    try:
        schemas.check(data, SCHEMA, shown)
    except UsageError as exc:
        raise UsageError(exc.message, hint="use --restart to start over") from None
    # a file from before these fields were written (none of the default names) says nothing
    # of them: only what it says is checked
    was_base, was_branch = data.get("base"), data.get("branch")
    if (was_base is not None and was_base != base) or (
        was_branch is not None and was_branch != branch
    ):
        was = str(was_branch or "?").removeprefix("refs/heads/")
        raise UsageError(
            f"{shown} was written for {data['base_spec']} ({str(was_base or '?')[:12]}) and "
            f"branch {was}, not {base_spec} ({base[:12]}) and branch "
            f"{branch.removeprefix('refs/heads/')}",
            hint="use --restart to start over, or --state-file to pick another file",
        )
    if data["config_fingerprint"] != config_fingerprint:
        raise UsageError(
            f"{shown} was written under another configuration "
            f"({data['config_fingerprint'][:12]}, now {config_fingerprint[:12]})",
            hint="use --restart to review again under the new configuration",
        )
    return State(
        path=path,
        run_id=data["run_id"],
        base_spec=base_spec,
        head_spec=head_spec,
        config_fingerprint=config_fingerprint,
        base=base,
        branch=branch,
        head=data.get("head"),
        started_at=data["started_at"],
        processed=list(data["processed"]),
        skipped=list(data.get("skipped", [])),
        pending=list(data["pending"]),
        unsynced=data.get("unsynced"),
        commits=list(data["commits"]),
        stats=dict(data["stats"]),
        resumed=True,
    )
