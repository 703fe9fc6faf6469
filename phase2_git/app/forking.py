"""When phase2 may use a second process.

:func:`count` is the one policy: the diff's classification workers (``app/workers.py``)
follow it. Fork only where it is
the platform's safe default (Linux), never beside another thread, and as ``PHASE2_WORKERS``
says (0: never). Light on purpose: a command that forks for other work reads it
without importing the classification pipeline the workers run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from phase2_git.errors import UsageError

ENV = "PHASE2_WORKERS"
_MAX_DEFAULT = 4


def count(environ: Mapping[str, str] = os.environ) -> int:
    """How many worker processes a large run uses: ``PHASE2_WORKERS`` when set, else one fewer
    than the CPUs this process may run on (at most 4); 0 where fork is not safe to use."""
    raw = environ.get(ENV, "").strip()
    wanted: int | None = None
    if raw:
        try:
            wanted = int(raw)
        except ValueError:
            wanted = -1
        if wanted < 0:
            raise UsageError(
                f"{ENV} must be a whole number of worker processes (0: none), got {raw!r}"
            )
    if wanted == 0 or not sys.platform.startswith("linux"):
        return 0
    import threading

    if threading.active_count() > 1:
        # a fork copies one thread: another's locks (imports, logging) would stay held in the
        # child forever (the review's web server runs its diffs beside its own threads)
        return 0
    if wanted is not None:
        return wanted
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - Linux always has it
        cpus = os.cpu_count() or 1
    return max(0, min(cpus - 1, _MAX_DEFAULT))
