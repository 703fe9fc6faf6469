"""The cyclic garbage collector paused while a command builds many containers that form no
cycle.

Commands that hold a whole run in memory (``resolve --yes`` over thousands of decisions,
``report merge`` of tens of thousands of mismatches) make millions of dicts, lists and
strings and no reference cycles, and so does the parse of a large JSON document. With the
collector on, every full collection walks all of them again: about a third of a
25,000-mismatch merge, four fifths of a 19 MB document's parse. Reference counting still
frees everything as usual; the collector comes back on when the block ends if it was on when
the block began (blocks nest). It is one switch for the whole process: a block in one thread
pauses it for all of them.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

_T = TypeVar("_T")

# bytes of JSON from which a parse (or a pair's two sides together) pauses the collector: a
# document of 9 KB parsed no faster without it, one of 92 KB 4x faster
PAUSE_FROM = 1 << 15


class gc_paused:
    """``with gc_paused():`` the collector is off inside the block. A class, not a
    ``contextlib.contextmanager``: a large diff enters one per large document, and the
    generator-based form cost four times as much (0.74 against 0.18 us)."""

    __slots__ = ("_was",)

    def __enter__(self) -> None:
        self._was = gc.isenabled()
        gc.disable()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._was:
            gc.enable()


def paused_when_large(size: int, fn: Callable[..., _T], *args: object) -> _T:
    """``fn(*args)``, the collector paused when ``size`` (the bytes of JSON it builds trees
    from) reaches :data:`PAUSE_FROM`: the one rule of the parse, the pair and the strip."""
    if size < PAUSE_FROM:
        return fn(*args)
    with gc_paused():
        return fn(*args)
