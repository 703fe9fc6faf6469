"""Regular expressions compiled on first use.

The hook imports the modules that hold most of phase2's patterns, and a run needs few of them:
compiling them all at import cost it about 2 ms (bench/: the ``check`` row). A module names
each pattern ``_x = lazy_pattern(...)`` and calls ``_x()`` where it is used.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, partial


def lazy_pattern(pattern: str, flags: int = 0) -> Callable[[], re.Pattern[str]]:
    """A function that gives ``re.compile(pattern, flags)``, compiled the first time."""
    return cache(partial(re.compile, pattern, flags))
