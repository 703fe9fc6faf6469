"""The figures of the README's "Reliability" section (issue 7), from a real run.

Runs the hostile-input, parser, fault and concurrency suites (slow tests included) with a
ledger that every case writes one line to, then every fuzz target in ``tests/fuzz/`` for a
number of executions, and prints the table::

    python bench/reliability.py                      # full run (a few minutes)
    python bench/reliability.py --fuzz-runs 2000 --kill-trials 4   # a quick look

Writes ``bench/out/reliability.json`` (and the fuzzers' crash files, if any, under
``bench/out/fuzz/<parser>/``). Exit 1 when any case was not handled or a fuzzer crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SUITES = [
    "tests/test_hostile.py",
    "tests/test_parsers_hostile.py",
    "tests/test_fault_matrix.py",
    # the attack review's regressions: each reproduces an attack or a loss through the CLI
    "tests/test_attack_trust.py",
    "tests/test_attack_config.py",
    "tests/test_attack_dataloss.py",
    "tests/test_attack_indent.py",
    "tests/test_attack_output.py",
]
FUZZ = {
    "json": "core.jsonvalue.parse (artifacts)",
    "config": "config.toml",
    "state": "state file",
    "decisions": "decisions.jsonl",
    "labels": "labels.jsonl",
    "results": "judge results",
}
ROWS = {
    "hostile": "hostile artifacts × commands and report writers",
    "parsers": "hostile config / state / decisions / labels / results / reports / arguments",
    "faults": "fault points injected (disk full, read-only, locks, corruption, SIGKILL)",
    "concurrency": "concurrent-writer trials (commit between plan and apply, racing runs)",
    "attacks": "attack-review regressions (trust, configuration, data loss, whitespace, output)",
}


def run_suites(kill_trials: int, concurrent_trials: int) -> tuple[dict[str, Counter[str]], dict]:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory(prefix="phase2-reliability-") as tmp:
        ledger = Path(tmp) / "ledger.jsonl"
        junit = Path(tmp) / "junit.xml"
        env = dict(os.environ)
        env.update(
            PHASE2_RELIABILITY_LEDGER=str(ledger),
            PHASE2_KILL_TRIALS=str(kill_trials),
            PHASE2_CONCURRENT_TRIALS=str(concurrent_trials),
        )
        t0 = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             f"--junitxml={junit}", *SUITES],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        seconds = time.monotonic() - t0
        counts: dict[str, Counter[str]] = {}
        if ledger.exists():
            for line in ledger.read_text().splitlines():
                item = json.loads(line)
                c = counts.setdefault(item["suite"], Counter())
                c["tried"] += 1
                c["handled"] += int(bool(item["ok"]))
        tail = proc.stdout.strip().splitlines()[-1:] if proc.stdout.strip() else []
        tests = {
            "exit_code": proc.returncode,
            "summary": tail[0] if tail else "",
            "seconds": round(seconds, 1),
        }
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-4000:])
    return counts, tests


def run_fuzzer(name: str, runs: int, max_seconds: int) -> dict[str, object]:
    folder = OUT / "fuzz" / name
    if folder.exists():
        shutil.rmtree(folder)
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    seeds = ROOT / "tests" / "data" / "hostile" / "seeds" / name
    for seed in sorted(seeds.iterdir()) if seeds.is_dir() else []:
        shutil.copy(seed, corpus / seed.name)
    script = ROOT / "tests" / "fuzz" / f"fuzz_{name}.py"
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(script), f"-atheris_runs={runs}", f"-max_total_time={max_seconds}",
         f"-artifact_prefix={folder}/", "-max_len=4096", str(corpus)],
        cwd=folder, capture_output=True, text=True, check=False, timeout=max_seconds + 300,
    )  # fmt: skip
    log = proc.stdout + proc.stderr
    (folder / "log.txt").write_text(log)
    done = re.findall(r"Done (\d+) (?:runs )?in", log)
    crashes = sorted(p.name for p in folder.glob("crash-*"))
    crashed = proc.returncode != 0
    return {
        "parser": FUZZ[name],
        "engine": "hypothesis fallback" if "hypothesis fallback" in log else "atheris",
        "executions": int(done[-1]) if done else _executions_before_crash(log),
        "crashes": max(len(crashes), int(crashed)),
        "crash_files": crashes,
        "seconds": round(time.monotonic() - t0, 1),
    }


def _executions_before_crash(log: str) -> int:
    found = re.findall(r"#(\d+)\s", log)
    return int(found[-1]) if found else 0


def table(counts: dict[str, Counter[str]], fuzz: dict[str, dict[str, object]]) -> str:  # type: ignore[type-arg]
    lines = [
        "| what | tried | handled |",
        "|---|---:|---:|",
    ]
    for key, label in ROWS.items():
        c = counts.get(key, Counter())
        lines.append(f"| {label} | {c['tried']} | {c['handled']} |")
    lines += ["", "| fuzz target (engine) | executions | crashes found |", "|---|---:|---:|"]
    for f in fuzz.values():
        lines.append(f"| {f['parser']} ({f['engine']}) | {f['executions']:,} | {f['crashes']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fuzz-runs", type=int, default=50_000, help="executions per fuzz target")
    ap.add_argument("--fuzz-seconds", type=int, default=120, help="time cap per fuzz target")
    ap.add_argument("--kill-trials", type=int, default=12, help="SIGKILL trials")
    ap.add_argument("--concurrent-trials", type=int, default=4, help="racing-writer trials")
    ap.add_argument("--no-suites", action="store_true", help="only the fuzzers")
    args = ap.parse_args(argv)

    counts, tests = ({}, {}) if args.no_suites else run_suites(args.kill_trials,
                                                               args.concurrent_trials)  # fmt: skip
    fuzz = {name: run_fuzzer(name, args.fuzz_runs, args.fuzz_seconds) for name in FUZZ}
    report = {
        "suites": {k: dict(v) for k, v in counts.items()},
        "tests": tests,
        "fuzz": fuzz,
        "python": sys.version.split()[0],
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "reliability.json").write_text(json.dumps(report, indent=2) + "\n")
    print(table(counts, fuzz))
    if tests:
        print(f"\ntests: {tests['summary']} ({tests['seconds']} s)")
    bad = any(c["tried"] != c["handled"] for c in counts.values()) or any(
        f["crashes"] for f in fuzz.values()
    )
    return 1 if bad or tests.get("exit_code") else 0


if __name__ == "__main__":
    sys.exit(main())
