"""The cyclic garbage collector paused while a command builds a large report.

Commands that hold a whole run in memory (``resolve --yes`` over thousands of decisions,
``report merge`` of tens of thousands of mismatches) make millions of dicts, lists and
strings and no reference cycles. With the collector on, every full collection walks all of
them again: about a third of a 25,000-mismatch merge. Reference counting still frees
everything as usual; the collector comes back on when the block ends.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
