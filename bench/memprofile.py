"""Where a phase2 command's memory is at its peak: tracemalloc, snapshot near the high mark.

    python bench/memprofile.py OUTFILE -- diff A B --format json

Runs phase2's CLI in this process with tracemalloc on. A watcher thread polls the traced total
and takes a snapshot each time it passes the previous high mark by 5%, so the last snapshot
is taken within a few percent of the peak (tracemalloc alone can only report the peak's size,
not what was alive at that moment). The report lists the allocation sites holding the most
memory in that snapshot, grouped by the innermost phase2 frame. Traced Python allocations
are below the process's RSS (interpreter, libraries, allocator slack are not traced), and
tracing slows the run down: the figures are for finding what dominates, not for the table.

The table's figure is the largest peak of any process of the run, and git's can be it (at
100,000 artifacts ``git diff-tree`` reading the index was, then ``cat-file``'s pack windows).
On Linux the watcher also reads each git child's ``VmHWM`` from ``/proc`` at every poll and
the report lists the largest: a lower bound for a process shorter than a few polls.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path

_POLL = 0.02
_STEP = 1.05


def main(argv: list[str]) -> int:
    out_path = Path(argv[0])
    args = argv[2:] if len(argv) > 1 and argv[1] == "--" else argv[1:]
    tracemalloc.start(12)
    best = {"size": 0, "snap": None, "at": 0.0}
    done = threading.Event()
    start = time.perf_counter()

    children: dict[tuple[int, str], int] = {}
    polled = Path("/proc/self/status").exists()

    def watch() -> None:
        while not done.wait(_POLL):
            if polled:
                _children_peaks(children)
            current, _ = tracemalloc.get_traced_memory()
            if current > best["size"] * _STEP:
                best.update(
                    size=current, snap=tracemalloc.take_snapshot(), at=time.perf_counter() - start
                )

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    from phase2_git.cli import main as cli_main

    sys.argv = ["phase2", *args]
    code = 0
    # the command's output is counted, not kept: a StringIO holding it (27 MiB at 100k) would
    # be the largest thing alive at the peak, and no real run holds its stdout
    sink = _Sink()
    with contextlib.redirect_stdout(sink):
        try:
            cli_main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
    done.set()
    watcher.join()
    _, peak = tracemalloc.get_traced_memory()
    snap = best["snap"]
    lines = [
        f"phase2 {' '.join(args)}",
        f"exit {code}; traced peak {peak / 2**20:.1f} MiB; snapshot at "
        f"{best['size'] / 2**20:.1f} MiB, {best['at']:.2f} s into the run; "
        f"stdout {sink.written / 2**20:.1f} MiB",
        "",
    ]
    if isinstance(snap, tracemalloc.Snapshot):
        snap = snap.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        lines.append("top allocation sites alive at the snapshot (innermost frame):")
        for stat in snap.statistics("lineno")[:20]:
            frame = stat.traceback[0]
            lines.append(
                f"  {stat.size / 2**20:8.2f} MiB {stat.count:9d} blocks  "
                f"{_short(frame.filename)}:{frame.lineno}"
            )
        lines.append("")
        lines.append("by the innermost phase2_git frame of each allocation:")
        grouped: dict[str, list[int]] = {}
        for stat in snap.statistics("traceback"):
            key = next(
                (
                    f"{_short(f.filename)}:{f.lineno}"
                    for f in reversed(stat.traceback)  # stored oldest first
                    if "phase2_git" in f.filename
                ),
                "(outside phase2_git)",
            )
            acc = grouped.setdefault(key, [0, 0])
            acc[0] += stat.size
            acc[1] += stat.count
        for key, (size, count) in sorted(grouped.items(), key=lambda kv: -kv[1][0])[:15]:
            lines.append(f"  {size / 2**20:8.2f} MiB {count:9d} blocks  {key}")
    if polled:
        lines.append("")
        lines.append(f"child processes, peak RSS (VmHWM polled every {_POLL * 1000:.0f} ms):")
        for (_, cmd), kib in sorted(children.items(), key=lambda kv: -kv[1])[:8]:
            lines.append(f"  {kib / 1024:8.1f} MiB  {cmd}")
    out_path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def _children_peaks(peaks: dict[tuple[int, str], int]) -> None:
    """Each child's VmHWM (KiB) so far, into ``peaks`` by (pid, command line). A child between
    fork and exec still shows this process's memory: it has this process's command line and
    is left out."""
    me = str(os.getpid())
    try:
        with open("/proc/self/cmdline", "rb") as f:
            own = f.read()
        entries = os.listdir("/proc")
    except OSError:
        return
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            if stat[stat.rindex(")") + 2 :].split()[1] != me:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{entry}/status") as f:
                status = f.read()
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        if cmdline == own:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                cmd = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()[:100]
                key = (int(entry), cmd)
                peaks[key] = max(peaks.get(key, 0), int(line.split()[1]))
                break


class _Sink(io.TextIOBase):
    """A text stream that only counts what is written to it."""

    def __init__(self) -> None:
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.written += len(text)
        return len(text)


def _short(filename: str) -> str:
    for marker in ("phase2_git/", "site-packages/", "lib/python"):
        if marker in filename:
            return filename[filename.index(marker) :]
    return filename


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
