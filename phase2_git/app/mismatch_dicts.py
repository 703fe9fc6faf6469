"""The mismatches of a :class:`~phase2_git.app.diff_result.DiffResult` as the JSON document
lists them. Its own module: the hook imports ``diff_result`` on every run and never encodes
a document, and a ``Sequence`` subclass costs ~0.2 ms to define."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, overload

if TYPE_CHECKING:
    from phase2_git.core.model import Mismatch


class MismatchDicts(Sequence[dict[str, object]]):
    """A read-only list of ``Mismatch.to_json()`` made one item at a time."""

    def __init__(self, mismatches: Sequence[Mismatch]) -> None:
        self._items = mismatches

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> dict[str, object]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, object]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, object] | list[dict[str, object]]:
        if isinstance(index, slice):
            return [m.to_json() for m in self._items[index]]
        return self._items[index].to_json()

    def __iter__(self) -> Iterator[dict[str, object]]:
        return (m.to_json() for m in self._items)

    def __eq__(self, other: object) -> bool:
        return list(self) == (list(other) if isinstance(other, Sequence) else other)

    __hash__ = None  # type: ignore[assignment]
