"""phase2's benchmark suite: every performance target, measured side by side.

    python bench/run.py                 # every row, full size (a few minutes)
    python bench/run.py --quick         # tiny sizes: checks the suite itself, not the targets
    python bench/run.py --only check    # one row (repeat or comma-separate for more)
    python bench/run.py --profile diff20k   # pyinstrument report of that row's phase2 command
    python bench/run.py --check         # exit 1 when a target fails (default: always 0)

Each row runs its phase2 command and its baseline alternately on this machine, in this run
(warm-up first, then ``--pairs`` pairs, medians): machines are shared and noisy, so a figure is
only ever a ratio of two things measured under the same noise. Synthetic repositories are built
deterministically (``bench/synth.py``) and cached under ``bench/out/`` by their parameters.
Results go to ``--out`` (default ``bench/out/results.json``) with the machine's description.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # run as a script: the sibling modules are not a package

import measure  # noqa: E402
import synth  # noqa: E402
from measure import Job, Series  # noqa: E402

ROOT = BENCH.parent
OUT = BENCH / "out"
MIB = 1024 * 1024
RESULTS_SCHEMA = "phase2-bench.v1"
MERGE_SHARDS = 4  # merge25k: the shard reports of the 100k diff it merges

# Row ids, in table order. `--only diff100k` selects both of its figures.
ROWS = (
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
)
SELECTORS = {
    "diff20k": ("diff20k",),
    "diff20k_mixed": ("diff20k_mixed",),
    "diff100k": ("diff100k_time", "diff100k_rss"),
    "diff100k_time": ("diff100k_time",),
    "diff100k_rss": ("diff100k_rss",),
    "rss20k": ("rss20k",),
    "check": ("check",),
    "check3k": ("check3k",),
    "text3k": ("text3k", "text3k_tty"),
    "text3k_tty": ("text3k_tty",),
    "resolve": ("resolve", "resolve_rss"),
    "resolve_rss": ("resolve_rss",),
    "judge": ("judge", "judge_results"),
    "judge_results": ("judge_results",),
    "merge25k": ("merge25k",),
}
PROFILE_ROWS = (
    "diff20k",
    "diff20k_mixed",
    "diff100k",
    "check",
    "check3k",
    "text3k",
    "text3k_tty",
    "resolve",
    "judge",
    "rss20k",
    "diff100k_rss",
    "merge25k",
)
MEMORY_ROWS = ("rss20k", "diff100k_rss")  # profiled with bench/memprofile.py (tracemalloc)

# Hook-path modules the issue names as never needed by `phase2 check` (plus their heavy
# relatives): the import-time section flags any that shows up.
HOOK_FORBIDDEN = (
    "rich",
    "pygments",
    "markdown_it",
    "jsonschema",
    "referencing",
    "junit_xml",
    "git",  # GitPython: `import git` alone loads its object and diff machinery
    "prometheus_client",
    "pydantic",  # typer >= 0.2x validates options through it: ~100 ms the hook never needs
    "pydantic_core",
    # stdlib the hook must not pay for (tests/test_check.py: SLOW_STDLIB)
    "dataclasses",
    "inspect",
    "argparse",
    "tempfile",
)


@dataclass(frozen=True)
class Sizes:
    diff_n: int
    diff_changed: int
    big_n: int
    big_changed: int
    resolve_n: int
    resolve_changed: int
    check_n: int
    check_files: int
    judge_items: int
    bootstrap: int
    diff_mixed: int  # of diff_changed, how many are mixed (a real edit with noise beside it)
    # check3k: staged regenerated files (noise, `check_many_real` of them real edits)
    check_many: int = 3_000
    check_many_real: int = 30
    text_mismatches: int = 3_000  # text3k: a repository where every artifact changed


FULL = Sizes(20_000, 5_000, 100_000, 25_000, 20_000, 5_000, 20_000, 3, 10_000, 2_000, 1_000)
# --quick: the same shapes (same 1:4 changed share, same 1:5 big/small ratio, same 1:5 mixed
# share) at sizes where process start-up dominates; its PASS/FAIL says nothing about the targets.
QUICK = Sizes(400, 100, 2_000, 500, 400, 100, 400, 3, 200, 200, 20, 100, 2, 100)
TTY_COLUMNS = 160  # text3k_tty: the pseudo-terminal's width (COLUMNS too)


def _label(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


# ==================================================================================== results


@dataclass
class Row:
    id: str
    figure: str
    target_text: str
    status: str = "missing"  # measured | missing | error | skipped
    reason: str | None = None
    measured: float | None = None
    baseline: float | None = None
    unit: str = "s"  # of measured and baseline: "s" or "MiB"
    baseline_what: str | None = None
    ratio: float | None = None
    limit: float | None = None
    limit_kind: str = "ratio"  # "ratio": ratio <= limit; "absolute": measured <= limit
    lower_bound: bool = False  # measured (and ratio) are at least this: the run was killed
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        if self.status != "measured" or self.limit is None:
            return None
        if self.lower_bound:
            return False  # the cap is far above every target: a killed run fails it
        value = self.ratio if self.limit_kind == "ratio" else self.measured
        return value is not None and value <= self.limit

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "figure": self.figure,
            "status": self.status,
            "reason": self.reason,
            "measured": _round(self.measured),
            "baseline": _round(self.baseline),
            "unit": self.unit,
            "baseline_what": self.baseline_what,
            "ratio": _round(self.ratio),
            "lower_bound": self.lower_bound,
            "target": {"kind": self.limit_kind, "max": self.limit, "text": self.target_text},
            "passed": self.passed,
            "details": self.details,
        }


@dataclass
class Outcome:
    m: Series
    b: Series | None
    timed_out: float | None = None  # the cap the measured command ran past


def set_time(row: Row, o: Outcome, what: str) -> None:
    """Fill a time row from an outcome; a timed-out run gives a lower bound that fails."""
    row.status, row.baseline_what = "measured", what
    row.baseline = o.b.seconds if o.b is not None else None
    if o.timed_out is not None:
        row.measured, row.lower_bound = o.timed_out, True
        row.reason = f"killed after {o.timed_out:.0f} s (--timeout): the figure is a lower bound"
    else:
        row.measured = o.m.seconds
    if row.baseline:
        row.ratio = row.measured / row.baseline


def set_rss(row: Row, o: Outcome, what: str) -> None:
    if o.timed_out is not None:
        row.status = "error"
        row.reason = f"no peak RSS: the command was killed after {o.timed_out:.0f} s"
        return
    row.status, row.baseline_what = "measured", what
    row.measured = o.m.peak_rss / MIB
    if o.b is not None:
        row.baseline = o.b.peak_rss / MIB
        row.ratio = o.m.peak_rss / o.b.peak_rss


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _fmt(value: float | None, unit: str, lower: bool = False) -> str:
    if value is None:
        return "—"
    text = f"{value:.1f} MiB" if unit == "MiB" else f"{value:.3f} s"
    return f"> {text}" if lower else text


def print_table(rows: Sequence[Row], out: Any = sys.stdout) -> None:
    header = ("row", "figure", "measured", "baseline", "ratio", "target", "result")
    lines = [header]
    for r in rows:
        result = {True: "PASS", False: "FAIL", None: r.status.upper()}[r.passed]
        lines.append(
            (
                r.id,
                r.figure,
                _fmt(r.measured, r.unit, r.lower_bound),
                _fmt(r.baseline, r.unit),
                "—" if r.ratio is None else f"{'> ' if r.lower_bound else ''}{r.ratio:.2f}×",
                r.target_text,
                result,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for k, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip(), file=out)
        if k == 0:
            print("  ".join("-" * w for w in widths), file=out)
    for r in rows:
        if r.status == "skipped":
            continue
        if r.reason and r.status != "measured":
            print(f"  {r.id}: {r.status}: {r.reason}", file=out)
        elif r.reason:
            print(f"  {r.id}: note: {r.reason}", file=out)


# ==================================================================================== context


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _bin(name: str) -> Path | None:
    """A console script of the running interpreter's environment first (a venv's ``bin``),
    then PATH: the suite measures what that environment installed."""
    here = Path(sys.executable).parent / name
    if here.is_file() and os.access(here, os.X_OK):
        return here
    found = shutil.which(name)
    return Path(found) if found else None


def phase2_argv() -> list[str]:
    # the console script, as pre-commit and users run it (its start-up is part of the figure)
    exe = _bin("phase2")
    return [str(exe)] if exe else [sys.executable, "-m", "phase2_git"]


def compile_package() -> None:
    """Write phase2_git's bytecode, as ``pip install`` does for every package it installs.

    An editable checkout under ``PYTHONDONTWRITEBYTECODE=1`` (``.ci/run`` sets it) has none, and
    each measured run would compile every module again: 40-60 ms that no installed phase2 pays
    and that the baselines (installed packages) never pay either. Forced: compileall calls a
    module's bytecode current when the source's mtime matches to the second, while the import
    system checks its size too, so a module edited in the second its bytecode was written was
    compiled again on every run (seen here: 8 ms of one run's start)."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("phase2_git")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        compileall.compile_dir(folder, quiet=1, force=True)


def ensure_tool(exe: str, package: str, *, install: bool) -> tuple[Path | None, str | None]:
    """The tool's path, pip-installing ``package`` into this interpreter when it is missing.
    ``(None, why)`` when it cannot be had (offline, externally managed environment)."""
    found = _bin(exe)
    if found or not install:
        return found, (None if found else f"{exe} is not installed (and --no-install was given)")
    log(f"installing {package} (baseline / profiler) into {sys.prefix}")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", package],
        capture_output=True,
        text=True,
        check=False,
    )
    found = _bin(exe)
    if found:
        return found, None
    return None, f"pip install {package} failed: {(proc.stderr or proc.stdout).strip()[-300:]}"


def has_command(*words: str) -> bool:
    proc = subprocess.run(
        [*phase2_argv(), *words, "--help"], capture_output=True, env=synth.git_env(), check=False
    )
    return proc.returncode == 0


def machine() -> dict[str, Any]:
    def cmd(*argv: str, cwd: Path | None = None) -> str:
        try:
            return subprocess.run(
                argv, capture_output=True, text=True, cwd=cwd, check=False
            ).stdout.strip()
        except OSError:
            return ""

    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "nproc": affinity or os.cpu_count(),
        "cpu_count": os.cpu_count(),
        "cpu": cpu,
        "memory_bytes": mem,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "git": cmd("git", "--version").removeprefix("git version "),
        "phase2": cmd(*phase2_argv(), "--version"),
        "phase2_commit": cmd("git", "describe", "--always", "--dirty", "--abbrev=12", cwd=ROOT),
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


# ==================================================================================== the suite


class Suite:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sizes = QUICK if args.quick else FULL
        self.pairs: int = args.pairs
        self.env = synth.git_env()
        self.repos = OUT / "repos"
        self.tmp = OUT / "tmp" / str(os.getpid())  # per run: two runs never share files
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.phase2 = phase2_argv()
        compile_package()

    # ------------------------------------------------------------------ repositories

    def repo(self, profile: str, n: int, changed: int, mixed: int = 0) -> synth.BuiltRepo:
        spec = synth.RepoSpec(profile, n, changed, mixed=mixed)
        marker = self.repos / spec.key / ".git" / "phase2-bench.json"
        if not marker.exists():
            log(f"building {spec.key} (git fast-import, then repack) …")
        start = time.perf_counter()
        built = build_cached(spec, self.repos)
        if not marker.exists() or time.perf_counter() - start > 1:
            log(f"  ready in {time.perf_counter() - start:.1f}s: {built.path}")
        return built

    def diff_job(self, built: synth.BuiltRepo, tag: str) -> Job:
        return Job(
            name=f"phase2 diff ({tag})",
            argv=[*self.phase2, "diff", built.a, built.b, "--format", "json"],
            cwd=built.path,
            env=self.env,
            ok_codes=(0, 1),  # 1 = real changes found (the default --fail-on real)
            stdout=self.tmp / f"diff-{tag}.json",
        )

    def floor_job(self, built: synth.BuiltRepo, tag: str) -> Job:
        return Job(
            name=f"floor ({tag})",
            argv=[sys.executable, str(BENCH / "floor.py"), str(built.path), built.a, built.b],
            cwd=built.path,
            env=self.env,
            stdout=self.tmp / f"floor-{tag}.json",
        )

    def check_setup(self) -> tuple[synth.BuiltRepo, list[str]]:
        built = self.repo("mix", self.sizes.check_n, 0)
        files = synth.stage_edits(built.path, self.sizes.check_files)
        return built, files

    def check_many_setup(self) -> tuple[synth.BuiltRepo, list[str]]:
        """check3k's repository: the check row's shape with its own seed (the 3 files the
        check row stages must not sit beside 3,000 others), and a regeneration staged."""
        s = self.sizes
        spec = synth.RepoSpec("mix", s.check_n, 0, seed=1)
        if not (self.repos / spec.key / ".git" / "phase2-bench.json").exists():
            log(f"building {spec.key} (git fast-import, then repack) …")
        built = build_cached(spec, self.repos)
        files = synth.stage_regeneration(built, s.check_many, s.check_many_real)
        return built, files

    def text_repo(self) -> synth.BuiltRepo:
        n = self.sizes.text_mismatches
        return self.repo("mix", n, n)

    def text_job(self, built: synth.BuiltRepo, *, tty: bool) -> Job:
        """``phase2 diff A B --format text``: piped to a file, or on a pseudo-terminal
        ``TTY_COLUMNS`` wide with colour on (as a user's terminal has it), output discarded."""
        env = dict(self.env)
        if tty:
            env.pop("NO_COLOR", None)
            env.update(COLUMNS=str(TTY_COLUMNS), LINES="50", TERM="xterm-256color")
        tag = "tty" if tty else "piped"
        return Job(
            name=f"phase2 diff --format text ({tag})",
            argv=[*self.phase2, "diff", built.a, built.b, "--format", "text"],
            cwd=built.path,
            env=env,
            ok_codes=(0, 1),
            stdout=self.tmp / f"text-{tag}.txt",
            tty_columns=TTY_COLUMNS if tty else None,
        )

    def resolve_job(self, built: synth.BuiltRepo) -> Job:
        work = self.tmp / "resolve-copy"

        def fresh_copy() -> Path:
            # outside the timed region: a clean checkout of B that nothing has resolved yet,
            # with the index's stat data refreshed (a copy has new inode numbers, and git
            # would otherwise re-hash every file inside the measurement)
            if work.exists():
                shutil.rmtree(work)
            subprocess.run(["cp", "-a", str(built.path), str(work)], check=True)
            synth.git(work, "update-index", "-q", "--refresh")
            return work

        def drop(path: Path) -> None:
            shutil.rmtree(path, ignore_errors=True)

        return Job(
            name="phase2 resolve --yes",
            argv=[*self.phase2, "resolve", built.a, "--yes"],
            cwd=work,
            env=self.env,
            stdout=self.tmp / "resolve.out",
            prepare=fresh_copy,
            cleanup=drop,
        )

    def judge_setup(self) -> Path:
        items = self.sizes.judge_items
        path = self.repos / f"judge-i{items}-s0-v{synth.SYNTH_VERSION}"
        labels = path / ".phase2" / "labels.jsonl"
        if not labels.exists():
            log(f"building judge dataset ({items} labelled items) …")
            (path / ".phase2").mkdir(parents=True, exist_ok=True)
            synth.git(path, "init", "--quiet", "--initial-branch=main")
            synth.labels_dataset(labels, items)
        return path

    def judge_job(self, path: Path) -> Job:
        return Job(
            name="phase2 judge eval",
            argv=[
                *self.phase2,
                "judge",
                "eval",
                "--bootstrap",
                str(self.sizes.bootstrap),
                "--format",
                "json",
            ],
            cwd=path,
            env=self.env,
            stdout=self.tmp / "judge.json",
        )

    # ------------------------------------------------------------------ rows

    def run(self, selected: set[str]) -> list[Row]:
        s = self.sizes
        rows = {
            "diff20k": Row(
                "diff20k",
                f"phase2 diff A B --format json, {_label(s.diff_n)}/{_label(s.diff_changed)}",
                "≤ 2× floor",
                limit=2.0,
            ),
            "diff20k_mixed": Row(
                "diff20k_mixed",
                f"phase2 diff A B --format json, {_label(s.diff_n)}/{_label(s.diff_changed)}, "
                f"{_label(s.diff_mixed)} mixed",
                "≤ 2.5× floor",
                limit=2.5,
            ),
            "diff100k_time": Row(
                "diff100k_time",
                f"diff time, {_label(s.big_n)}/{_label(s.big_changed)} vs "
                f"{_label(s.diff_n)}/{_label(s.diff_changed)}",
                f"≤ 5× the {_label(s.diff_n)} run",
                limit=5.0,
            ),
            "diff100k_rss": Row(
                "diff100k_rss",
                f"diff peak RSS, {_label(s.big_n)} vs {_label(s.diff_n)}",
                f"≤ 1.5× the {_label(s.diff_n)} run",
                unit="MiB",
                limit=1.5,
            ),
            "rss20k": Row(
                "rss20k",
                f"diff peak RSS, {_label(s.diff_n)}/{_label(s.diff_changed)}",
                "≤ 80 MiB",
                unit="MiB",
                limit=80.0,
                limit_kind="absolute",
            ),
            "check": Row(
                "check",
                f"phase2 check, {s.check_files} staged files",
                "≤ 2× check-json",
                limit=2.0,
            ),
            "check3k": Row(
                "check3k",
                f"phase2 check, {_label(s.check_many)} staged files "
                f"({s.check_many_real} real edits)",
                "≤ 2× check-json",
                limit=2.0,
            ),
            "text3k": Row(
                "text3k",
                f"phase2 diff --format text piped, {_label(s.text_mismatches)} mismatches",
                "≤ 1.25× --format json",
                limit=1.25,
            ),
            "text3k_tty": Row(
                "text3k_tty",
                f"the same on a {TTY_COLUMNS}-column terminal (colour)",
                "≤ 1.25× --format json",
                limit=1.25,
            ),
            "resolve": Row(
                "resolve",
                f"phase2 resolve --yes, {_label(s.resolve_changed)} safe transforms",
                "≤ 2× phase2 diff",
                limit=2.0,
            ),
            "resolve_rss": Row(
                "resolve_rss",
                f"resolve --yes peak RSS, {_label(s.resolve_changed)} safe transforms",
                "≤ 80 MiB",
                unit="MiB",
                limit=80.0,
                limit_kind="absolute",
            ),
            "judge": Row(
                "judge",
                f"phase2 judge eval, {_label(s.judge_items)} items, {s.bootstrap} resamples",
                "≤ 2 s",
                limit=2.0,
                limit_kind="absolute",
            ),
            "judge_results": Row(
                "judge_results",
                f"judge eval --results (3 judges), {_label(s.judge_items)} items",
                "≤ 2 s",
                limit=2.0,
                limit_kind="absolute",
            ),
            "merge25k": Row(
                "merge25k",
                f"phase2 report merge, {MERGE_SHARDS} shards, {_label(s.big_changed)} mismatches "
                "→ JUnit, Prometheus, Markdown",
                "≤ 1.5 s",
                limit=1.5,
                limit_kind="absolute",
            ),
        }
        for rid, row in rows.items():
            if rid not in selected:
                row.status, row.reason = "skipped", "not selected (--only)"
        groups: list[tuple[tuple[str, ...], Callable[[dict[str, Row]], None]]] = [
            (("diff20k", "rss20k"), self.row_diff20k),
            (("diff20k_mixed",), self.row_diff20k_mixed),
            (("diff100k_time", "diff100k_rss"), self.row_diff100k),
            (("check",), self.row_check),
            (("check3k",), self.row_check3k),
            (("text3k",), self.row_text3k),
            (("text3k_tty",), self.row_text3k_tty),
            (("resolve", "resolve_rss"), self.row_resolve),
            (("judge",), self.row_judge),
            (("judge_results",), self.row_judge_results),
            (("merge25k",), self.row_merge25k),
        ]
        for ids, fn in groups:
            if not selected.intersection(ids):
                continue
            log(f"== {', '.join(i for i in ids if i in selected)}")
            try:
                fn(rows)
            except (measure.CommandFailed, RuntimeError, OSError, ValueError) as exc:
                for rid in ids:
                    if rid in selected and rows[rid].status != "measured":
                        rows[rid].status, rows[rid].reason = "error", str(exc)[:1000]
        return [rows[r] for r in ROWS]

    def alternate(self, measured: Job, baseline: Job | None) -> Outcome:
        """Alternate the two under the run cap. When the measured command blows the cap, the
        baseline is still measured alone: the row then reports a lower bound, not nothing."""
        cap = self.args.timeout
        measured = replace(measured, timeout=cap)
        baseline = replace(baseline, timeout=cap) if baseline is not None else None
        try:
            m, b = measure.alternate(measured, baseline, self.pairs, log=log)
            return Outcome(m, b)
        except measure.TimedOut as exc:
            if exc.job != measured.name:
                raise
            log(f"  {exc}; measuring the baseline alone")
        b = measure.alternate(baseline, None, self.pairs, log=log)[0] if baseline else None
        return Outcome(Series(), b, timed_out=cap)

    def row_diff20k(self, rows: dict[str, Row]) -> None:
        s = self.sizes
        built = self.repo("mix", s.diff_n, s.diff_changed)
        o = self.alternate(self.diff_job(built, "small"), self.floor_job(built, "small"))
        r = rows["diff20k"]
        set_time(r, o, "floor: diff-tree + one cat-file --batch + json.loads")
        r.details = {
            "phase2": o.m.to_json(),
            "floor": o.b.to_json() if o.b else None,
            "repo": str(built.path),
            "floor_work": _read_json(self.tmp / "floor-small.json"),
        }
        if o.timed_out is None:
            r.details.update(classification_check(self.tmp / "diff-small.json", built.expected))
            r.reason = r.details.get("classification_note")
        r = rows["rss20k"]
        set_rss(r, o, "floor's peak RSS (for scale; the target is absolute)")
        r.details = {"phase2_peak_rss_bytes": [x.peak_rss for x in o.m.samples]}

    def row_diff20k_mixed(self, rows: dict[str, Row]) -> None:
        """diff20k's repository shape where a fifth of the changed files are mixed: each of
        those gets its change list, its noise named and its strip_noise step planned (the
        transform runs and its result is checked), which no other file pays for."""
        s = self.sizes
        built = self.repo("mix", s.diff_n, s.diff_changed, s.diff_mixed)
        o = self.alternate(self.diff_job(built, "mixed"), self.floor_job(built, "mixed"))
        r = rows["diff20k_mixed"]
        set_time(r, o, "floor: diff-tree + one cat-file --batch + json.loads")
        r.details = {
            "phase2": o.m.to_json(),
            "floor": o.b.to_json() if o.b else None,
            "repo": str(built.path),
            "floor_work": _read_json(self.tmp / "floor-mixed.json"),
        }
        if o.timed_out is None:
            out = self.tmp / "diff-mixed.json"
            r.details.update(classification_check(out, built.expected))
            r.details.update(mixed_check(out, s.diff_mixed))
            notes = [r.details.get(k) for k in ("classification_note", "mixed_note")]
            r.reason = "; ".join(n for n in notes if n) or None

    def row_diff100k(self, rows: dict[str, Row]) -> None:
        s = self.sizes
        small = self.repo("mix", s.diff_n, s.diff_changed)
        big = self.repo("mix", s.big_n, s.big_changed)
        o = self.alternate(self.diff_job(big, "big"), self.diff_job(small, "small"))
        r = rows["diff100k_time"]
        set_time(r, o, f"phase2 diff on {_label(s.diff_n)}/{_label(s.diff_changed)}")
        r.details = {"big": o.m.to_json(), "small": o.b.to_json() if o.b else None}
        if o.timed_out is None:
            r.details.update(classification_check(self.tmp / "diff-big.json", big.expected))
            r.reason = r.details.get("classification_note")
        r = rows["diff100k_rss"]
        set_rss(r, o, f"phase2 diff peak RSS on {_label(s.diff_n)}")
        r.details = {
            "big": [x.peak_rss for x in o.m.samples],
            "small": [x.peak_rss for x in o.b.samples] if o.b else None,
        }

    def check_jobs(
        self,
        r: Row,
        setup: Callable[[], tuple[synth.BuiltRepo, list[str]]],
        tag: str,
        ok_codes: tuple[int, ...],
    ) -> tuple[synth.BuiltRepo, list[str], Job, Job] | None:
        """``phase2 check FILES`` and ``check-json FILES`` on the files ``setup`` stages, or
        None (with the row's reason) when either is unavailable."""
        if not has_command("check"):
            r.reason = "`phase2 check` is not available in this build"
            return None
        tool, why = ensure_tool("check-json", "pre-commit-hooks", install=not self.args.no_install)
        if tool is None:
            r.reason = f"baseline unavailable: {why}"
            return None
        built, files = setup()
        hook = Job(
            name="phase2 check",
            argv=[*self.phase2, "check", *files],
            cwd=built.path,
            env=self.env,
            ok_codes=ok_codes,
            stdout=self.tmp / f"{tag}.out",
        )
        base = Job(
            name="check-json",
            argv=[str(tool), *files],
            cwd=built.path,
            env=self.env,
            stdout=self.tmp / f"{tag}-json.out",
        )
        return built, files, hook, base

    def row_check(self, rows: dict[str, Row]) -> None:
        r = rows["check"]
        jobs = self.check_jobs(r, self.check_setup, "check", (0, 1))
        if jobs is None:
            return
        _, files, hook, base = jobs
        o = self.alternate(hook, base)
        set_time(r, o, "check-json (pre-commit-hooks) on the same files")
        r.details = {
            "phase2": o.m.to_json(),
            "check_json": o.b.to_json() if o.b else None,
            "files": files,
            "phase2_exit": o.m.samples[-1].returncode if o.m.samples else None,
            "repo_artifacts": self.sizes.check_n,
        }

    def row_check3k(self, rows: dict[str, Row]) -> None:
        """The check row at the size of a regeneration: one invocation with every file, as
        the check row runs it (pre-commit itself splits the list into command lines of at most
        128 KiB, and with `require_serial` runs them one after the other)."""
        r = rows["check3k"]
        # exit 1: the staged noise is a finding (exit 0 would mean nothing was checked)
        jobs = self.check_jobs(r, self.check_many_setup, "check3k", (1,))
        if jobs is None:
            return
        built, files, hook, base = jobs
        o = self.alternate(hook, base)
        set_time(r, o, "check-json (pre-commit-hooks) on the same files")
        r.details = {
            "phase2": o.m.to_json(),
            "check_json": o.b.to_json() if o.b else None,
            "files": len(files),
            "real_edits": self.sizes.check_many_real,
            "repo_artifacts": self.sizes.check_n,
        }
        if o.timed_out is None:
            last = (self.tmp / "check3k.out").read_text(errors="replace").strip()
            r.details["phase2_summary"] = last.splitlines()[-1] if last else ""
        # what any check that compares with HEAD must do, alternated with check-json too:
        # the floor on HEAD against the index's tree (the diff, HEAD's blobs through one
        # cat-file, each staged file read from the work tree and hashed to prove it is the
        # blob, json.loads of both sides). check-json reads one side and no git object.
        tree = synth.git(built.path, "write-tree").decode().strip()
        floor = Job(
            name="floor (HEAD vs the index's tree, staged files from the work tree)",
            argv=[
                sys.executable,
                str(BENCH / "floor.py"),
                str(built.path),
                "HEAD",
                tree,
                "--worktree",
            ],
            cwd=built.path,
            env=self.env,
            stdout=self.tmp / "floor-check3k.json",
        )
        f = self.alternate(floor, base)
        if f.timed_out is None and f.b is not None:
            ratio = f.m.seconds / f.b.seconds
            r.details.update(
                floor=f.m.to_json(), floor_check_json=f.b.to_json(), floor_ratio=round(ratio, 3)
            )
            r.reason = (
                f"the floor alone (diff, {len(files):,} HEAD blobs through cat-file, as many "
                f"staged files read and hashed, json.loads of each) is {ratio:.2f}× check-json"
            )
            if o.timed_out is None:  # phase2 against the floor, alternated with it as well
                p = self.alternate(hook, floor)
                if p.timed_out is None and p.b is not None:
                    over = p.m.seconds / p.b.seconds
                    r.details.update(
                        phase2_vs_floor=round(over, 3),
                        phase2_with_floor=p.m.to_json(),
                        floor_with_phase2=p.b.to_json(),
                    )
                    r.reason += f"; phase2 is {over:.2f}× the floor"

    def row_text3k(self, rows: dict[str, Row]) -> None:
        self._row_text(rows["text3k"], tty=False)

    def row_text3k_tty(self, rows: dict[str, Row]) -> None:
        self._row_text(rows["text3k_tty"], tty=True)

    def _row_text(self, r: Row, *, tty: bool) -> None:
        built = self.text_repo()
        o = self.alternate(self.text_job(built, tty=tty), self.diff_job(built, "text3k"))
        set_time(r, o, "phase2 diff A B --format json on the same sides")
        r.details = {
            "text": o.m.to_json(),
            "json": o.b.to_json() if o.b else None,
            "mismatches": self.sizes.text_mismatches,
        }
        if tty:
            r.details["columns"] = TTY_COLUMNS
        if o.timed_out is not None:
            return
        r.details.update(classification_check(self.tmp / "diff-text3k.json", built.expected))
        note = r.details.get("classification_note")
        if not tty:  # the piped table: a header, a row per mismatch, the summary line
            lines = (self.tmp / "text-piped.txt").read_text(errors="replace").splitlines()
            rows_out = len(lines) - 3
            r.details["text_rows"] = rows_out
            if rows_out != self.sizes.text_mismatches:
                note = f"{rows_out} text rows for {self.sizes.text_mismatches} mismatches"
        r.reason = note

    def row_resolve(self, rows: dict[str, Row]) -> None:
        r = rows["resolve"]
        if not has_command("resolve"):
            r.reason = "`phase2 resolve` is not available in this build"
            return
        s = self.sizes
        built = self.repo("safe", s.resolve_n, s.resolve_changed)
        o = self.alternate(self.resolve_job(built), self.diff_job(built, "safe"))
        set_time(r, o, "phase2 diff A B --format json on the same sides")
        r.details = {
            "resolve": o.m.to_json(),
            "diff": o.b.to_json() if o.b else None,
            "expected_transforms": s.resolve_changed,
        }
        # the same runs' peak RSS (the target is absolute; diff's is there for scale)
        set_rss(rows["resolve_rss"], o, "phase2 diff's peak RSS on the same sides (for scale)")
        rows["resolve_rss"].details = {"peak_rss_bytes": [x.peak_rss for x in o.m.samples]}
        if o.timed_out is not None:
            return
        out = (self.tmp / "resolve.out").read_text(errors="replace")
        applied = [int(x) for x in re.findall(r"committed \w+: (\d+) transform", out)]
        r.details.update(transforms_applied=sum(applied), commits=len(applied))
        if sum(applied) != s.resolve_changed:
            r.reason = (
                f"resolve applied {sum(applied)} transforms in {len(applied)} commit(s), "
                f"expected {s.resolve_changed}"
            )

    def row_judge(self, rows: dict[str, Row]) -> None:
        r = rows["judge"]
        if not has_command("judge", "eval"):
            r.reason = "`phase2 judge eval` is not available in this build"
            return
        path = self.judge_setup()
        o = self.alternate(self.judge_job(path), None)
        set_time(r, o, "")
        r.baseline_what = None
        r.details = {"judge": o.m.to_json(), "items": self.sizes.judge_items}
        result = _read_json(self.tmp / "judge.json")
        if result is not None:
            r.details["methods"] = sorted(_methods_of(result))

    def row_judge_results(self, rows: dict[str, Row]) -> None:
        """The external-judge path: verdicts come from a JudgeResult file (three judges of
        different quality), so the figure is parsing, matching and the bootstrap alone. The
        dataset is bench_judge.py's, so this row and that script time the same input."""
        r = rows["judge_results"]
        if not has_command("judge", "eval"):
            r.reason = "`phase2 judge eval` is not available in this build"
            return
        import bench_judge

        items = self.sizes.judge_items
        path = self.repos / f"judge-results-i{items}-v{synth.SYNTH_VERSION}"
        labels, results = path / "labels.jsonl", path / "results.jsonl"
        if not results.exists():
            log(f"building judge results dataset ({items} items, bench_judge.build) …")
            path.mkdir(parents=True, exist_ok=True)
            synth.git(path, "init", "--quiet", "--initial-branch=main")
            bench_judge.build(path, items)
        job = Job(
            name="phase2 judge eval --results",
            argv=[
                *self.phase2,
                *("judge", "eval", "--dataset", str(labels), "--results", str(results)),
                *("--bootstrap", str(self.sizes.bootstrap), "--format", "json"),
            ],
            cwd=path,
            env=self.env,
            stdout=self.tmp / "judge-results.json",
        )
        o = self.alternate(job, None)
        set_time(r, o, "")
        r.baseline_what = None
        r.details = {"judge": o.m.to_json(), "items": items}
        result = _read_json(self.tmp / "judge-results.json")
        if result is not None:
            r.details["methods"] = sorted(_methods_of(result))

    def merge_job(self, built: synth.BuiltRepo) -> Job:
        """``phase2 report merge`` of the ``--shard K/N`` reports of the big diff (diff100k's
        repository), writing JUnit, Prometheus and Markdown, and the merged JSON on stdout (its
        default). The shard reports are made once, here, outside the timed region, by the
        phase2 measured."""
        folder = self.tmp / "merge"
        folder.mkdir(parents=True, exist_ok=True)
        shards = [folder / f"shard-{k}.json" for k in range(1, MERGE_SHARDS + 1)]
        for k, out in enumerate(shards, start=1):
            if not out.exists():
                measure.run_once(
                    Job(
                        name=f"phase2 diff --shard {k}/{MERGE_SHARDS}",
                        argv=[
                            *(*self.phase2, "diff", built.a, built.b, "--format", "json"),
                            *("--shard", f"{k}/{MERGE_SHARDS}"),
                        ],
                        cwd=built.path,
                        env=self.env,
                        ok_codes=(0, 1),
                        stdout=out,
                    )
                )
        return Job(
            name="phase2 report merge",
            argv=[
                *(*self.phase2, "report", "merge", *map(str, shards)),
                *("--junit", str(folder / "merged.xml"), "--prom", str(folder / "merged.prom")),
                *("--summary", str(folder / "merged.md")),
            ],
            cwd=built.path,
            env=self.env,
            ok_codes=(0, 1),  # 1 = the merged run has real changes (the default --fail-on)
            stdout=folder / "merged.json",
        )

    def row_merge25k(self, rows: dict[str, Row]) -> None:
        r = rows["merge25k"]
        if not has_command("report", "merge"):
            r.reason = "`phase2 report merge` is not available in this build"
            return
        s = self.sizes
        built = self.repo("mix", s.big_n, s.big_changed)
        log(f"  shard reports: phase2 diff --shard K/{MERGE_SHARDS} (not timed)")
        job = self.merge_job(built)
        o = self.alternate(job, None)
        set_time(r, o, "")
        r.baseline_what = None
        r.details = {"merge": o.m.to_json(), "shards": MERGE_SHARDS, "repo": str(built.path)}
        merged = _read_json(self.tmp / "merge" / "merged.json")
        if o.timed_out is None:
            found = len(merged["mismatches"]) if isinstance(merged, dict) else None
            r.details["mismatches"] = found
            if found != s.big_changed:
                r.reason = f"the merged report has {found} mismatches, {s.big_changed} planned"

    # ------------------------------------------------------------------ import time

    def importtime(self) -> dict[str, Any]:
        """``python -X importtime -m phase2_git check f1 f2 f3``: what the hook path imports."""
        try:
            built, files = self.check_setup()
        except (RuntimeError, OSError) as exc:
            return {"status": "error", "reason": str(exc)}
        argv = [sys.executable, "-X", "importtime", "-m", "phase2_git", "check", *files]
        proc = None
        for _ in range(2):  # the first run may write __pycache__: report the second
            proc = subprocess.run(
                argv, cwd=built.path, env=self.env, capture_output=True, check=False
            )
        assert proc is not None
        return summarize_importtime(proc.stderr.decode(errors="replace"), proc.returncode)

    # ------------------------------------------------------------------ profiles

    def profile(self, row: str) -> dict[str, Any]:
        if row in MEMORY_ROWS:
            return self.memory_profile(row)
        tool, why = ensure_tool("pyinstrument", "pyinstrument", install=not self.args.no_install)
        if tool is None:
            return {"status": "missing", "reason": why}
        s = self.sizes
        job: Job
        if row == "diff20k":
            job = self.diff_job(self.repo("mix", s.diff_n, s.diff_changed), "small")
        elif row == "diff20k_mixed":
            built = self.repo("mix", s.diff_n, s.diff_changed, s.diff_mixed)
            job = self.diff_job(built, "mixed")
        elif row == "diff100k":
            job = self.diff_job(self.repo("mix", s.big_n, s.big_changed), "big")
        elif row == "check":
            built, files = self.check_setup()
            job = Job("phase2 check", [*self.phase2, "check", *files], built.path, self.env)
        elif row == "check3k":
            built, files = self.check_many_setup()
            job = Job("phase2 check", [*self.phase2, "check", *files], built.path, self.env)
        elif row in ("text3k", "text3k_tty"):
            job = self.text_job(self.text_repo(), tty=row == "text3k_tty")
        elif row == "resolve":
            job = self.resolve_job(self.repo("safe", s.resolve_n, s.resolve_changed))
        elif row == "merge25k":
            job = self.merge_job(self.repo("mix", s.big_n, s.big_changed))
        else:
            job = self.judge_job(self.judge_setup())
        cwd = job.prepare() if job.prepare else job.cwd
        stem = OUT / f"profile-{row}{'-quick' if self.args.quick else ''}"
        session = stem.with_suffix(".pyisession")
        args = list(job.argv[len(self.phase2) :])
        tty = None
        if job.tty_columns:  # the row's pseudo-terminal, drained as the measured runs' is
            import spawn

            tty = spawn.terminal({"columns": job.tty_columns, "lines": 50})
            tty[2].start()
        start = time.perf_counter()
        proc = subprocess.run(
            [
                *(sys.executable, "-m", "pyinstrument", "-r", "pyisession", "-o", str(session)),
                *("-m", "phase2_git", *args),
            ],
            cwd=cwd,
            env=job.env,
            stdout=subprocess.DEVNULL if tty is None else tty[1],
            stderr=subprocess.PIPE,
            check=False,
        )
        elapsed = time.perf_counter() - start
        if tty is not None:
            os.close(tty[1])
            tty[2].join(timeout=5)
            os.close(tty[0])
        if job.cleanup:
            job.cleanup(cwd)
        if not session.exists():
            return {"status": "error", "reason": proc.stderr.decode(errors="replace")[-800:]}
        reports = {}
        for renderer, suffix in (("html", ".html"), ("text", ".txt")):
            path = stem.with_suffix(suffix)
            subprocess.run(
                [sys.executable, "-m", "pyinstrument", "--load", str(session)]
                + ["-r", renderer, "-o", str(path)]
                + (["--no-color", "--unicode"] if renderer == "text" else []),
                check=True,
                env=self.env,
            )
            reports[renderer] = str(path)
        return {"status": "ok", "seconds": elapsed, "exit": proc.returncode, **reports}

    def memory_profile(self, row: str) -> dict[str, Any]:
        """What is alive at the peak of the row's diff (tracemalloc; see memprofile.py)."""
        s = self.sizes
        n, changed = (s.diff_n, s.diff_changed) if row == "rss20k" else (s.big_n, s.big_changed)
        built = self.repo("mix", n, changed)
        job = self.diff_job(built, row)
        report = OUT / f"memprofile-{row}{'-quick' if self.args.quick else ''}.txt"
        proc = subprocess.run(
            [
                *(sys.executable, str(BENCH / "memprofile.py"), str(report), "--"),
                *job.argv[len(self.phase2) :],
            ],
            cwd=built.path,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
        if not report.exists():
            return {"status": "error", "reason": proc.stderr.decode(errors="replace")[-800:]}
        return {"status": "ok", "text": str(report)}


def build_cached(spec: synth.RepoSpec, root: Path) -> synth.BuiltRepo:
    """``synth.build_repo`` into a private folder, then renamed into place: two suite runs
    (a smoke test beside a full run) never measure a repository the other is still writing."""
    final = root / spec.key
    if (final / ".git" / "phase2-bench.json").is_file():
        return synth.build_repo(spec, root)
    staging = root / f".build-{os.getpid()}"
    staging.mkdir(parents=True, exist_ok=True)
    built = synth.build_repo(spec, staging)
    try:
        if final.exists():
            shutil.rmtree(final)  # a half-built leftover: it has no marker
        built.path.rename(final)
    except OSError:
        if not (final / ".git" / "phase2-bench.json").is_file():
            raise
    shutil.rmtree(staging, ignore_errors=True)
    return synth.build_repo(spec, root)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def classification_check(path: Path, expected: dict[str, int]) -> dict[str, Any]:
    """Did phase2 report every synthetic change with the type it was built to have? A fast
    but wrong diff must not read as a good figure."""
    try:
        doc = json.loads(path.read_bytes())
        counts: dict[str, int] = {}
        for m in doc["mismatches"]:
            counts[m["mismatch_type"]] = counts.get(m["mismatch_type"], 0) + 1
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return {"classified": None, "classification_note": f"diff output unreadable: {exc}"}
    out: dict[str, Any] = {"classified": dict(sorted(counts.items())), "expected": expected}
    if counts != expected:
        out["classification_note"] = "phase2's mismatch types differ from the synthetic plan"
    return out


def mixed_check(path: Path, expected: int) -> dict[str, Any]:
    """Did phase2 take apart every mixed file: a change list with noise beside the real
    change, and a safe strip_noise first step?"""
    try:
        doc = json.loads(path.read_bytes())
        found = sum(
            1
            for m in doc["mismatches"]
            if m.get("changes", {}).get("noise")
            and m["changes"]["real"]
            and m["plan"].get("first", {}).get("safe")
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return {"mixed": None, "mixed_note": f"diff output unreadable: {exc}"}
    out: dict[str, Any] = {"mixed": found, "mixed_expected": expected}
    if found != expected:
        out["mixed_note"] = f"{found} mixed files with a safe first step, {expected} planned"
    return out


def _methods_of(result: Any) -> Iterator[str]:
    if isinstance(result, dict):
        methods = result.get("methods")
        if isinstance(methods, dict):
            yield from methods
        elif isinstance(methods, list):
            for m in methods:
                if isinstance(m, dict) and "method" in m:
                    yield str(m["method"])


def summarize_importtime(stderr: str, returncode: int) -> dict[str, Any]:
    """The top of ``-X importtime`` output: totals, the slowest top-level imports, every
    third-party package by its own import time, and any module the hook must not load."""
    entries: list[tuple[str, int, int, int]] = []  # name, self us, cumulative us, depth
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name_field = line[len("import time:") :].split("|", 2)
        name = name_field[1:]  # one space after the bar, then two per nesting level
        depth = (len(name) - len(name.lstrip(" "))) // 2
        entries.append((name.strip(), int(self_us), int(cum_us), depth))
    packages: dict[str, list[int]] = {}
    for name, self_us, _, _ in entries:
        top = name.split(".")[0]
        acc = packages.setdefault(top, [0, 0])
        acc[0] += self_us
        acc[1] += 1
    stdlib = set(getattr(sys, "stdlib_module_names", ()))
    third = {
        k: {"self_ms": round(v[0] / 1000, 2), "modules": v[1]}
        for k, v in sorted(packages.items(), key=lambda kv: -kv[1][0])
        if k not in stdlib and not k.startswith("_") and k != "phase2_git"
    }
    top_level = sorted((e for e in entries if e[3] == 0), key=lambda e: -e[2])[:12]
    forbidden = {k: third[k] for k in HOOK_FORBIDDEN if k in third}
    return {
        "status": "measured",
        "exit": returncode,
        "modules": len(entries),
        "total_ms": round(sum(e[1] for e in entries) / 1000, 1),
        "phase2_modules": sorted(e[0] for e in entries if e[0].startswith("phase2_git")),
        "top_level": [{"module": e[0], "cumulative_ms": round(e[2] / 1000, 2)} for e in top_level],
        "third_party": third,
        "forbidden_loaded": forbidden,
    }


def print_importtime(info: dict[str, Any]) -> None:
    print("\nimport time of the hook path: python -X importtime -m phase2_git check <3 files>")
    if info.get("status") != "measured":
        print(f"  {info.get('status')}: {info.get('reason')}")
        return
    print(
        f"  {info['modules']} modules, {info['total_ms']:.1f} ms of imports "
        f"({len(info['phase2_modules'])} phase2_git modules), exit {info['exit']}"
    )
    print("  slowest top-level imports (cumulative):")
    for e in info["top_level"][:8]:
        print(f"    {e['cumulative_ms']:8.1f} ms  {e['module']}")
    third = ", ".join(
        f"{k} {v['self_ms']:.1f} ms/{v['modules']}" for k, v in list(info["third_party"].items())
    )
    print(f"  third-party packages (own time/modules): {third or 'none'}")
    bad = info["forbidden_loaded"]
    verdict = ", ".join(bad) if bad else "none"
    print(f"  modules the hook does not need ({', '.join(HOOK_FORBIDDEN)}) loaded: {verdict}")


# ==================================================================================== main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python bench/run.py",
        description="phase2 benchmark suite: each row against its baseline, side by side.",
    )
    p.add_argument("--quick", action="store_true", help="tiny sizes (tests the suite itself)")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="ROW",
        help=f"run only these rows (repeat or comma-separate): {', '.join(SELECTORS)}",
    )
    p.add_argument("--pairs", type=int, default=5, help="measured pairs per row (default 5)")
    p.add_argument(
        "--out", type=Path, default=OUT / "results.json", help="results JSON (bench/out/…)"
    )
    p.add_argument(
        "--check", action="store_true", help="exit 1 if any selected row fails or is missing"
    )
    p.add_argument(
        "--profile",
        choices=PROFILE_ROWS,
        metavar="ROW",
        help=f"profile that row's phase2 command with pyinstrument ({', '.join(PROFILE_ROWS)})",
    )
    p.add_argument(
        "--no-install",
        action="store_true",
        help="never pip-install baselines/profilers (rows that need them report 'missing')",
    )
    p.add_argument("--no-importtime", action="store_true", help="skip the import-time section")
    p.add_argument(
        "--timeout",
        type=float,
        default=180.0,
        help="kill a run after this many seconds and report a failing lower bound (default 180)",
    )
    args = p.parse_args(argv)
    if args.pairs < 1:
        p.error("--pairs must be at least 1")
    selected: set[str] = set()
    for chunk in args.only:
        for name in filter(None, (x.strip() for x in chunk.split(","))):
            if name not in SELECTORS:
                p.error(f"unknown row '{name}': choose from {', '.join(SELECTORS)}")
            selected.update(SELECTORS[name])
    args.selected = selected or set(ROWS)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    suite = Suite(args)
    try:
        return _main(args, suite)
    finally:
        shutil.rmtree(suite.tmp, ignore_errors=True)


def _main(args: argparse.Namespace, suite: Suite) -> int:
    if args.profile:
        info = suite.profile(args.profile)
        print(json.dumps(info, indent=2))
        if info.get("text"):
            text = Path(info["text"]).read_text(errors="replace").splitlines()
            print("\n".join(text[:60]))
        return 0 if info.get("status") == "ok" else 1

    started = dt.datetime.now(dt.timezone.utc)
    mach = machine()
    log(
        f"phase2 bench: {'quick' if args.quick else 'full'} sizes, {args.pairs} pairs, "
        f"{mach['nproc']} cpu, python {mach['python']}, git {mach['git']}"
    )
    rows = suite.run(args.selected)
    imports = None if args.no_importtime else suite.importtime()
    mach["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    results = {
        "schema": RESULTS_SCHEMA,
        "generated_at": started.isoformat(timespec="seconds"),
        "duration_seconds": round((dt.datetime.now(dt.timezone.utc) - started).total_seconds()),
        "quick": args.quick,
        "pairs": args.pairs,
        "sizes": vars(suite.sizes),
        "command": {"phase2": suite.phase2},
        "machine": mach,
        "rss_method": "os.wait4 rusage of each measured child (ru_maxrss: max of the process "
        "and the children it reaped)",
        "rows": [r.to_json() for r in rows],
        "importtime": imports,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(args.out)

    print()
    if args.quick:
        print("--quick: tiny sizes; PASS/FAIL below says nothing about the issue's targets")
    print_table(rows)
    if imports is not None:
        print_importtime(imports)
    print(f"\nresults: {args.out}")
    if args.check:
        chosen = [r for r in rows if r.id in args.selected]
        return 0 if all(r.passed for r in chosen) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
