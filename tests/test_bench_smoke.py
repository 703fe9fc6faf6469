"""The benchmark suite runs end to end and writes a results file every row is accounted for in.

It runs ``bench/run.py --quick --pairs 1`` (tiny repositories; the figures say nothing about
the targets, which only the full run checks) so that a change to the product or to the suite
that breaks a row shows up here, not on the day someone needs the numbers. ``--no-install``:
a test must not reach a package registry, so a missing ``check-json`` makes that row an
explicit "missing", which is allowed here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile_support import untraced

pytestmark = pytest.mark.slow  # each runs the benchmark scripts end to end: 10-20 s
ROOT = Path(__file__).resolve().parent.parent
# the scripts start phase2 over a hundred times: what they run is measured by the other tests,
# and under coverage's tracer (0.17 s to start, two to three times slower) this took twice as
# long
ENV = untraced(os.environ)
ROWS = [
    "diff20k",
    "diff20k_mixed",
    "diff100k_time",
    "diff100k_rss",
    "rss20k",
    "check",
    "check3k",
    "text3k",
    "text3k_tty",
    "resolve",
    "resolve_rss",
    "judge",
    "judge_results",
    "merge25k",
]


def test_quick_run_writes_every_row(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--quick",
            "--pairs",
            "1",
            "--no-install",
            "--timeout",
            "60",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env=ENV,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(out.read_text())

    assert results["schema"] == "phase2-bench.v1"
    assert results["quick"] is True and results["pairs"] == 1
    machine = results["machine"]
    for key in ("nproc", "python", "git"):
        assert machine[key], key

    assert [r["id"] for r in results["rows"]] == ROWS
    for row in results["rows"]:
        assert row["target"]["max"] > 0 and row["target"]["text"], row["id"]
        if row["status"] == "measured":
            assert isinstance(row["measured"], (int, float)) and row["measured"] > 0, row
            assert isinstance(row["passed"], bool), row
            if row["target"]["kind"] == "ratio":
                assert isinstance(row["baseline"], (int, float)) and row["baseline"] > 0, row
                assert isinstance(row["ratio"], (int, float)) and row["ratio"] > 0, row
        else:
            # a row that could not be measured says so and why; never a made-up number
            assert row["status"] in ("missing", "error"), row
            assert isinstance(row["reason"], str) and row["reason"], row
            assert row["measured"] is None and row["passed"] is None, row

    # each timed command's CPU time beside its wall time: how many cores it kept busy
    diff = next(r for r in results["rows"] if r["id"] == "diff20k")
    assert diff["status"] == "measured", diff
    phase2 = diff["details"]["phase2"]
    assert phase2["median_cpu_seconds"] > 0 and len(phase2["cpu_seconds"]) == 1, phase2
    assert "busy: phase2 diff" in proc.stdout + proc.stderr

    imports = results["importtime"]
    assert imports["status"] == "measured", imports
    assert imports["modules"] > 0 and isinstance(imports["forbidden_loaded"], dict)

    # the table is printed with a verdict for every row
    for rid in ROWS:
        assert rid in proc.stdout

    # and the README's table renders from the same file, one line a row
    table = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "table.py"), str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [x for x in table.splitlines() if x.startswith("| ") and "---" not in x]
    assert len(lines) == 1 + len(ROWS), table
    assert all(
        x.endswith(("| pass |", "| **fail** |", "| missing |", "| error |")) for x in lines[1:]
    )


def test_shard_script_splits_the_diff_without_losing_a_mismatch(tmp_path: Path) -> None:
    """bench/shards.py (the README's "Scaling past one machine"): every mismatch of the
    unsharded run lands in exactly one shard, and the shard reports merge."""
    out = tmp_path / "shards.json"
    script = str(ROOT / "bench" / "shards.py")
    proc = subprocess.run(
        [sys.executable, script, "--quick", "--runs", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env=ENV,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(out.read_text())
    assert results["shards_cover_the_diff"] is True
    assert len(results["per_shard"]) == results["shards"] == 4
    assert all(s["mismatches"] > 0 and s["seconds"] > 0 for s in results["per_shard"])
    assert results["merge_s"] > 0 and results["unsharded_s"] > 0
