"""A function run in a thread while the caller goes on: git's work overlaps Python's."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Background(Generic[T]):
    """``fn()`` in a thread. For work that mostly waits on git (the GIL is free meanwhile), so
    the caller's own Python work overlaps it: two cores, and git's side of the work used to
    wait for Python's. :meth:`result` joins, and raises what ``fn`` raised.

    ``started=False`` leaves the thread to :meth:`start` (a caller that must not have a thread
    alive yet: a fork copies only the forking thread); :meth:`result` starts it if nothing
    did, and :meth:`join` of one never started returns at once."""

    def __init__(self, fn: Callable[[], T], *, started: bool = True) -> None:
        self._fn = fn
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="phase2-git", daemon=True)
        if started:
            self._thread.start()

    def start(self) -> None:
        """Start the thread, unless it has been started already."""
        if self._thread.ident is None:
            self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:  # handed to the caller in result()
            self._error = exc

    def join(self) -> None:
        if self._thread.ident is not None:
            if self._thread.is_alive():
                _release_leaked_import_lock()
            self._thread.join()

    def __enter__(self) -> Background[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.join()

    def result(self) -> T:
        self.start()
        self.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


def _release_leaked_import_lock() -> None:
    """Release Python's global import lock if this thread holds it, before waiting on a
    thread that may need it. Nothing of ours runs while importlib holds it (only its own code
    and import finders do), so held here it was leaked: a KeyboardInterrupt raised inside
    importlib between its acquire and its ``try`` (entry.py's handler defers Ctrl-C there; a
    hang seen once more under that handler, its cause not found, is why this stays too). A
    leaked lock made every other thread's first import wait forever, and the join with it."""
    import _imp

    for _ in range(64):  # its recursion level: released until it is free or another's
        try:
            _imp.release_lock()
        except RuntimeError:  # not held by this thread
            return
