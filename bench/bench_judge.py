"""Time ``phase2 judge eval`` on 10,000 labelled items with 2,000 bootstrap resamples (issue 8).

Two runs, each through the real command line (``phase2_git.cli.main``) in a throwaway repo:

* ``results``: a JudgeResult file with three methods' verdicts (the external-judge path);
* ``run``: phase2 runs the default methods plus cosine_similarity on the embedded content.

Usage: ``python bench/bench_judge.py [--items 10000] [--bootstrap 2000] [--budget 2.0]``.
Exits 1 when a run takes longer than the budget (seconds).

This is the quick in-process loop for working on ``core/evaluation.py`` and ``app/judge.py``
(no interpreter start-up, best of N). The suite's figures come from ``bench/run.py`` (rows
``judge`` and ``judge_results``, the whole command in a subprocess, as a user waits for it);
its ``judge_results`` row reuses :func:`build` so both time the same input.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TYPES = ("json_ordering", "whitespace", "line_endings", "content", "numeric_precision")


def build(root: Path, n: int) -> tuple[Path, Path]:
    rng = random.Random(8)
    labels, results = [], []
    for i in range(n):
        mtype = TYPES[i % len(TYPES)]
        eq = rng.random() < 0.6
        doc = {"id": i, "name": f"case-{i}", "score": round(rng.random(), 6), "tags": ["a", "b"]}
        before = json.dumps(doc, indent=2) + "\n"
        if mtype == "json_ordering":
            after = json.dumps(dict(reversed(list(doc.items()))), indent=2) + "\n"
        elif mtype == "whitespace":
            after = json.dumps(doc) + "\n"
        elif mtype == "line_endings":
            after = before.replace("\n", "\r\n")
        elif mtype == "numeric_precision":
            after = before.replace(str(doc["score"]), f"{doc['score']:.4e}")
        else:
            after = before.replace(f"case-{i}", f"case-{i + 1}")
        if not eq and mtype != "content":
            after = after.replace('"a"', '"z"')
        iid = f"mis_{i:012x}"
        labels.append(
            {
                "id": iid,
                "path": f"golden/{i}.json",
                "artifact_type": "json",
                "mismatch_type": mtype,
                "label": "equivalent" if eq else "different",
                "before": before,
                "after": after,
            }
        )
        for method, agree in (("judge_a", 0.95), ("judge_b", 0.85), ("judge_c", 0.7)):
            pred = eq if rng.random() < agree else not eq
            results.append(
                {
                    "id": iid,
                    "method": method,
                    "predicted": "equivalent" if pred else "different",
                    "score": round(rng.random(), 4),
                }
            )
    d, r = root / "labels.jsonl", root / "results.jsonl"
    d.write_text("".join(json.dumps(x) + "\n" for x in labels), encoding="utf-8")
    r.write_text("".join(json.dumps(x) + "\n" for x in results), encoding="utf-8")
    return d, r


def timed(args: list[str]) -> tuple[float, int]:
    from phase2_git.cli import main

    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = main(args)
    return time.perf_counter() - start, code


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--bootstrap", type=int, default=2000)
    ap.add_argument("--budget", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=3)
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
        d, r = build(root, opts.items)
        common = ["judge", "eval", "-C", str(root), "--dataset", str(d), "--format", "json",
                  "--bootstrap", str(opts.bootstrap)]  # fmt: skip
        runs = {
            "results (3 methods)": [*common, "--results", str(r)],
            "run (5 default methods + cosine)": [
                *common,
                "--methods",
                "exact,whitespace,line_endings,canonical_json,numeric,cosine_similarity",
            ],
        }
        worst = 0.0
        for name, args in runs.items():
            best = min(timed(args)[0] for _ in range(opts.repeat))
            worst = max(worst, best)
            print(
                f"{name:<34} {opts.items} items, {opts.bootstrap} resamples: {best:.2f} s "
                f"(best of {opts.repeat})"
            )
    print(f"python {sys.version.split()[0]}; budget {opts.budget:.1f} s")
    return 0 if worst <= opts.budget else 1


if __name__ == "__main__":
    sys.exit(main())
