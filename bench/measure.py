"""Timing and peak memory of one command, and side-by-side alternation of two commands.

Peak RSS comes from ``os.wait4`` on the measured child itself. The kernel hands back that
child's own rusage, whose ``ru_maxrss`` is the larger of the child's peak and the peaks of the
children it reaped (``git cat-file`` and friends): exactly "the peak of this command". The
alternatives were worse: ``getrusage(RUSAGE_CHILDREN)`` in this process is a running maximum
over every child ever reaped, so a small run after a big one reads as the big one (its deltas
are meaningless); ``/usr/bin/time -f %M`` reports the same number but is GNU-only, costs an
extra exec in the timed region and is missing on macOS and slim images.

The command is started, timed and reaped by ``spawn.py``, a small process of its own: a
child's ``ru_maxrss`` starts from the high-water mark of whoever spawned it (``exec`` folds
it in), and this suite grows as it reads results, which would put a floor of its own size
under every figure.

Machines here are shared and noisy, so a figure is never one run: a warm-up of each command
first (page cache, ``__pycache__``), then ``pairs`` pairs, the order inside a pair flipping
each time so that drift (a neighbour's build starting) hits both sides alike, and the median
of each side.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# ru_maxrss is KiB on Linux, bytes on macOS
_RSS_UNIT = 1 if sys.platform == "darwin" else 1024


class CommandFailed(RuntimeError):
    pass


class TimedOut(RuntimeError):
    """A run passed the time cap: the figure is a lower bound, not a measurement."""

    def __init__(self, job: str, limit: float) -> None:
        super().__init__(f"{job}: still running after {limit:.0f} s (killed)")
        self.job = job
        self.limit = limit


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_rss: int  # bytes
    returncode: int
    # user + system seconds of the command and the processes it waited for (its workers,
    # git): divided by ``seconds``, the cores it kept busy
    cpu_seconds: float = 0.0


@dataclass(frozen=True)
class Job:
    """One command to measure. ``prepare`` runs before each run, outside the timed region
    (a fresh repository copy for ``resolve``), and returns the directory to run in."""

    name: str
    argv: Sequence[str]
    cwd: Path
    env: Mapping[str, str]
    ok_codes: tuple[int, ...] = (0,)
    stdout: Path | None = None
    prepare: Callable[[], Path] | None = None
    cleanup: Callable[[Path], None] | None = None
    timeout: float | None = None  # seconds; past it the run is killed and TimedOut raised
    # stdout a pseudo-terminal of this many columns (output discarded) instead of a file
    tty_columns: int | None = None


_SPAWN = Path(__file__).with_name("spawn.py")


def run_once(job: Job) -> Sample:
    cwd = job.prepare() if job.prepare is not None else job.cwd
    out_path = job.stdout or Path(os.devnull)
    err_path = (job.stdout or Path(os.devnull)).with_suffix(".err") if job.stdout else out_path
    request = {
        "argv": list(job.argv),
        "cwd": str(cwd),
        "env": dict(job.env),
        "stdout": str(out_path),
        "stderr": str(err_path),
        "timeout": job.timeout,
        "pty": {"columns": job.tty_columns, "lines": 50} if job.tty_columns else None,
    }
    try:
        # spawn.py starts the command from a small process and times it there: its peak RSS
        # is then the command's own, never this suite's (see spawn.py)
        proc = subprocess.run(
            [sys.executable, "-I", "-S", str(_SPAWN)],
            input=json.dumps(request).encode(),
            stdout=subprocess.PIPE,
            check=False,
        )
        if proc.returncode != 0:
            raise CommandFailed(f"{job.name}: the bench's spawner failed (exit {proc.returncode})")
        answer = json.loads(proc.stdout)
    finally:
        if job.cleanup is not None:
            job.cleanup(cwd)
    code = os.waitstatus_to_exitcode(answer["status"])
    if job.timeout is not None and answer["timed_out"] and code < 0:
        raise TimedOut(job.name, job.timeout)
    if code not in job.ok_codes:
        tail = ""
        if job.stdout is not None and err_path.exists():
            tail = err_path.read_text(errors="replace").strip()[-800:]
        raise CommandFailed(f"{job.name}: exit {code} ({' '.join(job.argv[:4])} …): {tail}")
    return Sample(answer["seconds"], answer["maxrss"] * _RSS_UNIT, code, answer["cpu"])


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def peak_rss(self) -> float:
        return statistics.median(s.peak_rss for s in self.samples)

    @property
    def cpu_seconds(self) -> float:
        return statistics.median(s.cpu_seconds for s in self.samples)

    def to_json(self) -> dict[str, object]:
        return {
            "median_seconds": round(self.seconds, 6) if self.samples else None,
            "median_peak_rss_bytes": int(self.peak_rss) if self.samples else None,
            "median_cpu_seconds": round(self.cpu_seconds, 6) if self.samples else None,
            "seconds": [round(s.seconds, 6) for s in self.samples],
            "peak_rss_bytes": [s.peak_rss for s in self.samples],
            "cpu_seconds": [round(s.cpu_seconds, 6) for s in self.samples],
        }

    def busy(self) -> str:
        """``"0.63 s CPU, 1.7 cores"``: the median CPU time and the cores it kept busy."""
        return f"{self.cpu_seconds:.3f} s CPU, {self.cpu_seconds / self.seconds:.1f} cores"


def alternate(
    measured: Job,
    baseline: Job | None,
    pairs: int,
    *,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[Series, Series | None]:
    """Warm both up, then ``pairs`` runs of each, alternating; ``baseline`` None measures one
    command alone (an absolute target)."""
    log(f"  warm-up: {measured.name}" + (f", {baseline.name}" if baseline else ""))
    run_once(measured)
    if baseline is not None:
        run_once(baseline)
    m, b = Series(), Series()
    for i in range(pairs):
        order = [measured, baseline] if i % 2 == 0 else [baseline, measured]
        for job in order:
            if job is None:
                continue
            sample = run_once(job)
            (m if job is measured else b).samples.append(sample)
        log(
            f"  pair {i + 1}/{pairs}: {measured.name} {m.samples[-1].seconds:.3f}s"
            + (f", {baseline.name} {b.samples[-1].seconds:.3f}s" if baseline else "")
        )
    if pairs:
        # a ratio of wall times on a machine of few cores: whether each side kept one core or
        # all of them busy says which kind of saving can still move it
        log(
            f"  busy: {measured.name} {m.busy()}"
            + (f"; {baseline.name} {b.busy()}" if baseline else "")
        )
    return m, (b if baseline is not None else None)
