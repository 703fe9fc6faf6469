"""Fuzz the judge results reader (JudgeResult JSONL): accepted scores are finite, in [0, 1].
See _harness.py."""

from __future__ import annotations

import math

import _harness


def setup() -> _harness.Target:
    from phase2_git.errors import UsageError
    from phase2_git.store import labels

    def target(data: bytes) -> None:
        try:
            results = labels.parse_results(data, "results.jsonl")
        except UsageError as exc:
            assert "\n" not in str(exc)
            return
        for r in results:
            assert r.score is None or (math.isfinite(r.score) and 0 <= r.score <= 1), r

    return target


if __name__ == "__main__":
    _harness.main("results", setup)
