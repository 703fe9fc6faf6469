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
            self._thread.join()

    def __enter__(self) -> Background[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.join()

    def result(self) -> T:
        self.start()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
