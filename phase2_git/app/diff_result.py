"""What a diff found: :class:`DiffResult` (every mismatch, in memory) and :class:`DiffReport`
(a streamed run: counts and the mismatches' JSON in a spool). Apart from :mod:`phase2_git.app.diff`,
which makes them, so that the external judges (:mod:`phase2_git.app.external`) can take one
without importing the diff that calls them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from phase2_git.core.model import Mismatch
from phase2_git.core.summary import FailOn, Tally, summarize
from phase2_git.git.sides import Side
from phase2_git.store.config import Config

if TYPE_CHECKING:
    from phase2_git.reports.jsonout import MismatchSpool


class DiffResult:
    """What one diff found. A plain class, not a dataclass: the hook imports this module
    (see :mod:`phase2_git.core.model`)."""

    def __init__(
        self,
        base: Side,
        head: Side,
        config: Config,
        methods: tuple[str, ...],
        mismatches: list[Mismatch],
        shard: tuple[int, int] | None = None,
        notices: list[str] | None = None,
        judges: dict[str, dict[str, object]] | None = None,
    ) -> None:
        self.base = base
        self.head = head
        self.config = config
        self.methods = methods
        self.mismatches = mismatches
        self.shard = shard
        self.notices: list[str] = [] if notices is None else notices
        # what each external judge spent in this run (calls, tokens, cost): the metrics a cost
        # alert watches
        self.judges: dict[str, dict[str, object]] = {} if judges is None else judges

    def replaced(
        self,
        *,
        mismatches: list[Mismatch],
        notices: list[str],
        judges: dict[str, dict[str, object]] | None = None,
    ) -> DiffResult:
        """The same diff with the mismatches (and notices, and spending) a later judge
        produced."""
        return DiffResult(
            self.base,
            self.head,
            self.config,
            self.methods,
            mismatches,
            self.shard,
            notices,
            {**self.judges, **(judges or {})},
        )

    def summary(self, fail_on: FailOn) -> dict[str, object]:
        return summarize(self.mismatches, fail_on)

    def to_json(self, fail_on: FailOn) -> dict[str, object]:
        # encoded on demand: 25,000 mismatches held twice (objects and dicts) were half of a
        # large run's memory; the JSON writer and the report writers read it like a list
        from phase2_git.app.mismatch_dicts import MismatchDicts

        return _document(self, MismatchDicts(self.mismatches), self.summary(fail_on))


class DiffReport:
    """A finished run whose mismatches were encoded as they were made (:func:`stream_diff`).

    It holds the counts of the summary and the mismatches' JSON lines in a spool, never the
    mismatches themselves. Close it (or use it as a context manager) to drop the spool."""

    __slots__ = (
        "base",
        "config",
        "head",
        "judges",
        "methods",
        "mismatches",
        "notices",
        "shard",
        "tally",
    )

    def __init__(
        self,
        base: Side,
        head: Side,
        config: Config,
        methods: tuple[str, ...],
        mismatches: MismatchSpool,
        tally: Tally,
        shard: tuple[int, int] | None,
        notices: list[str],
        judges: dict[str, dict[str, object]] | None = None,
    ) -> None:
        self.base = base
        self.head = head
        self.config = config
        self.methods = methods
        self.mismatches = mismatches
        self.tally = tally
        self.shard = shard
        self.notices = notices
        self.judges: dict[str, dict[str, object]] = {} if judges is None else judges

    def summary(self, fail_on: FailOn) -> dict[str, object]:
        return self.tally.summary(fail_on)

    def to_json(self, fail_on: FailOn) -> dict[str, object]:
        """The ``Phase2Diff.v1`` document, key for key what ``DiffResult.to_json`` gives."""
        return _document(self, self.mismatches, self.summary(fail_on))

    def close(self) -> None:
        self.mismatches.close()

    def __enter__(self) -> DiffReport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _document(
    run: DiffResult | DiffReport, mismatches: Sequence[object], summary: dict[str, object]
) -> dict[str, object]:
    out: dict[str, object] = {
        "schema": "Phase2Diff.v1",
        "base": run.base.label,
        "head": run.head.label,
        "config_fingerprint": run.config.fingerprint,
        "methods": list(run.methods),
    }
    if run.shard is not None:
        out["shard"] = {"index": run.shard[0], "count": run.shard[1]}
    if run.notices:
        out["notices"] = list(run.notices)
    if run.judges:
        out["judges"] = {name: dict(spent) for name, spent in sorted(run.judges.items())}
    out["mismatches"] = mismatches
    out["summary"] = summary
    return out
