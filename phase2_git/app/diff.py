"""The main job: find, classify, judge and plan every artifact mismatch between two sides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from phase2_git.core.artifacts import ArtifactFilter, shard_of
from phase2_git.core.model import Mismatch
from phase2_git.core.pipeline import Settings, build_mismatch
from phase2_git.core.summary import FailOn, summarize
from phase2_git.git.blobs import read_blobs
from phase2_git.git.changes import changed_files
from phase2_git.git.repo import GitRepo
from phase2_git.git.sides import Side, resolve_side
from phase2_git.store.config import Config


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
    return DiffResult(base_side, head_side, config, selected, mismatches, shard)
