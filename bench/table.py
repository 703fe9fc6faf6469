"""The README's performance table, rendered from a ``bench/run.py`` results file.

    python bench/table.py [bench/out/results.json]

Prints the Markdown table the README's "Performance" section holds, one line a row, from the
figures the run measured (nothing is typed in by hand), then one line on the run: when, where,
how loaded the machine was, how many pairs a row.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# what the README calls each row, and its baseline (the run's own figures fill the rest)
LABELS: dict[str, tuple[str, str]] = {
    "diff20k": ("`phase2 diff A B --format json`, 20,000 artifacts, 5,000 changed", "batch floor"),
    "diff20k_mixed": (
        "the same, 1,000 of the changed files mixed (noise and a real edit)",
        "batch floor",
    ),
    "diff100k_time": ("the same at 100,000 / 25,000", "20k run"),
    "diff100k_rss": ("peak RSS at 100,000 / 25,000", "20k run"),
    "rss20k": ("peak RSS at 20,000 / 5,000", ""),
    "check": ("`phase2 check` on 3 staged files (the hook)", "`check-json`"),
    "check3k": ("`phase2 check` on 3,000 staged files (a regeneration)", "`check-json`"),
    "text3k": ("`phase2 diff --format text`, piped, 3,000 mismatches", "`--format json`"),
    "text3k_tty": ("the same on a 160-column terminal, colour", "`--format json`"),
    "resolve": ("`phase2 resolve --yes`, 5,000 safe transforms", "`phase2 diff`"),
    "resolve_rss": ("peak RSS of that `resolve --yes`", ""),
    "judge": ("`phase2 judge eval`, 10,000 items, 2,000 resamples (methods run)", ""),
    "judge_results": ("`phase2 judge eval --results`, 10,000 items", ""),
    "merge25k": (
        "`phase2 report merge`, 4 shards, 25,000 mismatches → JUnit, Prometheus, Markdown "
        "(JSON on stdout)",
        "",
    ),
}


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    return f"{value:.2f} s" if value >= 1 else f"{value:.3f} s"


def _target(row: dict[str, Any]) -> str:
    text = str(row["target"]["text"])
    return text.replace("floor", "the batch floor") if "floor" in text else text


def line(row: dict[str, Any]) -> str:
    figure, base_name = LABELS.get(row["id"], (row["figure"], ""))
    unit = row["unit"]
    measured = _value(row["measured"], unit)
    if row.get("lower_bound"):
        measured = f"> {measured}"
    baseline = "—"
    if row["baseline"] is not None and (base_name or row["target"]["kind"] == "ratio"):
        baseline = f"{base_name} {_value(row['baseline'], unit)}".strip()
    ratio = f"{row['ratio']:.2f}×" if row["ratio"] is not None and base_name else "—"
    passed = row["passed"]
    verdict = "pass" if passed else ("**fail**" if passed is False else row["status"])
    return f"| {figure} | {measured} | {baseline} | {ratio} | {_target(row)} | {verdict} |"


def render(results: dict[str, Any]) -> str:
    out = [
        "| figure | measured | baseline | ratio | target | |",
        "|---|---:|---:|---:|---|---|",
    ]
    out += [line(row) for row in results["rows"]]
    m = results["machine"]
    load = m.get("loadavg") or [None]
    end = m.get("loadavg_end") or [None]
    out.append("")
    out.append(
        f"Run {results['generated_at']}, {results['duration_seconds']} s, {results['pairs']} "
        f"pairs a row; {m['nproc']} cores ({m['cpu']}), Python {m['python']}, git {m['git']}, "
        f"{m.get('phase2_commit', '?')}; load average {load[0]:.1f} at the start, "
        f"{end[0]:.1f} at the end."
    )
    return "\n".join(out)


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else Path(__file__).parent / "out" / "results.json"
    print(render(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
