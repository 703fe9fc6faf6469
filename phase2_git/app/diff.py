"""The main job: find, classify, judge and plan every artifact mismatch between two sides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from phase2_git.core.approvals import attach
from phase2_git.core.artifacts import ArtifactFilter, shard_of
from phase2_git.core.model import Mismatch, is_noise
from phase2_git.core.pipeline import Settings, build_mismatch
from phase2_git.core.summary import FailOn, summarize
from phase2_git.git.blobs import read_blobs
from phase2_git.git.changes import changed_files
from phase2_git.git.repo import GitRepo
from phase2_git.git.sides import Side, resolve_side
from phase2_git.store.config import Config
from phase2_git.store.decisions import LOG_FILE, DecisionLog, parse_lines


@dataclass
class DiffResult:
    base: Side
    head: Side
    config: Config
    methods: tuple[str, ...]
    mismatches: list[Mismatch]
    shard: tuple[int, int] | None = None
    notices: list[str] = field(default_factory=list)

    def summary(self, fail_on: FailOn) -> dict[str, object]:
        return summarize(self.mismatches, fail_on)

    def to_json(self, fail_on: FailOn) -> dict[str, object]:
        out: dict[str, object] = {
            "schema": "Phase2Diff.v1",
            "base": self.base.label,
            "head": self.head.label,
            "config_fingerprint": self.config.fingerprint,
            "methods": list(self.methods),
        }
        if self.shard is not None:
            out["shard"] = {"index": self.shard[0], "count": self.shard[1]}
        if self.notices:
            out["notices"] = list(self.notices)
        out["mismatches"] = [m.to_json() for m in self.mismatches]
        out["summary"] = self.summary(fail_on)
        return out


def run_diff(
    repo: GitRepo,
    base: str,
    head: str,
    *,
    config: Config,
    methods: Sequence[str] | None = None,
    shard: tuple[int, int] | None = None,
    paths: Sequence[str] = (),
) -> DiffResult:
    """Compare two sides (commit-ish, ``:index`` or ``:worktree``) of ``repo``."""
    base_side = resolve_side(repo, base)
    head_side = resolve_side(repo, head)
    selected = tuple(methods) if methods else config.methods.enabled
    keep = ArtifactFilter(config.include, config.exclude)
    only = set(paths)
    changes = [
        c
        for c in changed_files(repo, base_side, head_side)
        if keep(c.path)
        and (not only or c.path in only or (c.old_path is not None and c.old_path in only))
        and (shard is None or shard_of(c.path, shard[1]) == shard[0])
    ]
    settings = Settings(config.classify, config.methods, config.policy)
    mismatches = [
        build_mismatch(change, before, after, settings, selected)
        for change, before, after in read_blobs(
            repo, changes, max_size=config.classify.max_file_size
        )
    ]
    mismatches.sort(key=lambda m: m.path)
    result = DiffResult(base_side, head_side, config, selected, mismatches, shard)
    if any(not is_noise(m.mismatch_type) for m in mismatches):
        events = [line.event for line in parse_lines(side_log(repo, head_side), LOG_FILE)]
        result.mismatches = attach(mismatches, events)
        if any(m.decision for m in result.mismatches):
            result.notices.append("approvals are unverified: the base side has no [trust] table")
    return result


def side_log(repo: GitRepo, side: Side) -> bytes:
    """The decision log as it is on a side: committed, staged, or in the working tree."""
    from phase2_git.git import commit as gitc

    if side.kind == "worktree":
        return DecisionLog(repo.root).read_bytes()
    if side.kind == "index":
        entry = gitc.index_entries(repo, [LOG_FILE]).get(LOG_FILE)
        return gitc.read_blob(repo, entry.oid) if entry is not None else b""
    if side.commit is None:
        return b""
    found = gitc.tree_entry(repo, side.commit, LOG_FILE)
    return gitc.read_blob(repo, found[1]) if found is not None else b""
