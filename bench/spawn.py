"""Run one measured command and report its wall time and peak RSS (used by ``measure.py``).

    python -I -S bench/spawn.py < request.json > answer.json

Why a separate, small process starts the command: on Linux a child's ``ru_maxrss`` starts
from the RSS high-water mark of the process that spawned it. ``subprocess`` spawns with
``vfork`` + ``exec``, and ``exec`` folds the old address space's high-water mark (the
parent's) into the child's figure. A suite that has loaded a 28 MiB JSON result (``run.py``
checks every diff's output) would report every later command as at least its own peak: the
same 49 MiB for a 20k and a 100k diff, which measures the suite, not phase2. This process
stays around 10 MiB, so what ``wait4`` hands back is the command's own peak (and its
children's). The clock runs here too, around ``Popen`` and ``wait4`` only: this process's
start-up is not in the figure.

Request (JSON on stdin): ``argv``, ``cwd``, ``env``, ``stdout``, ``stderr`` (file paths),
``timeout`` (seconds or null), ``pty`` (optional ``{"columns": N, "lines": M}``: stdout is
then a pseudo-terminal of that size instead of the file, its output read and discarded here,
as a terminal would draw it). Answer (JSON on stdout): ``seconds``, ``maxrss`` (the raw
``ru_maxrss``), ``cpu`` (user plus system seconds), ``status`` (the raw wait status), ``timed_out``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time


def _kill_group(pid: int, fired: list[bool]) -> None:
    fired.append(True)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def terminal(size: dict[str, int]) -> tuple[int, int, threading.Thread]:
    """A pseudo-terminal of ``size``: (master, slave, the thread that drains the master). The
    drain reads as fast as the command writes, as a terminal emulator would."""
    import fcntl
    import struct
    import termios

    master, slave = os.openpty()
    winsize = struct.pack("HHHH", size.get("lines", 50), size["columns"], 0, 0)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, winsize)

    def drain() -> None:
        while True:
            try:
                if not os.read(master, 1 << 16):
                    return
            except OSError:  # EIO: every holder of the slave side has closed it
                return

    return master, slave, threading.Thread(target=drain, daemon=True)


def main() -> int:
    req = json.loads(sys.stdin.read())
    fired: list[bool] = []
    killer: threading.Timer | None = None
    tty = terminal(req["pty"]) if req.get("pty") else None
    with open(req["stdout"], "wb") as out, open(req["stderr"], "wb") as err:
        if tty is not None:
            tty[2].start()
        start = time.perf_counter()
        # a session of its own: a run over the cap is killed with its git children
        proc = subprocess.Popen(
            req["argv"],
            cwd=req["cwd"],
            env=req["env"],
            stdout=out if tty is None else tty[1],
            stderr=err,
            start_new_session=True,
        )
        if tty is not None:
            os.close(tty[1])  # the command holds the only slave end: EOF when it exits
        if req["timeout"] is not None:
            killer = threading.Timer(req["timeout"], _kill_group, (proc.pid, fired))
            killer.start()
        # wait4, not proc.wait(): only wait4 hands back this child's own rusage
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    if tty is not None:
        tty[2].join(timeout=5)
        os.close(tty[0])
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here
    if killer is not None:
        killer.cancel()
    answer = {
        "seconds": elapsed,
        "maxrss": usage.ru_maxrss,
        # CPU time of the command and every process it reaped (workers, git): over the wall
        # time, how many cores it kept busy
        "cpu": usage.ru_utime + usage.ru_stime,
        "status": status,
        "timed_out": bool(fired),
    }
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
