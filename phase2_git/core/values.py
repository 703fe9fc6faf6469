"""A plain slotted class that compares, hashes and prints by its fields, as a NamedTuple does.

The hook defines its value types on every run, and a NamedTuple class costs about ten times a
plain one to create (bench/: the ``check`` row). Those that are never used as tuples derive
from :class:`Value` instead: equal when of the same class with equal fields, hashed by their
fields (a list field makes it unhashable, as it would a NamedTuple), and shown as
``Name(field=value, ...)`` in test failures and debug output.
"""

from __future__ import annotations


class Value:
    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Value)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self).__qualname__, self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__qualname__}({shown})"
