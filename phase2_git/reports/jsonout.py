"""``--format json``: exactly ``schemas/Phase2Diff.v1.json``, byte-for-byte deterministic.

One mismatch per line, each written by the C encoder as soon as it is encoded: ``indent=``
would switch ``json`` to its pure-Python encoder (2.4 s of a 20,000-artifact run) and build
the whole text in memory (50 MiB there) before the first byte is written.

A large run does not hold its mismatches at all: :class:`MismatchSpool` takes each one's
line as soon as the mismatch is classified and keeps it in an anonymous temporary file, in
exactly the bytes the document will carry; the document is assembled from it once the notices
and the summary (which come from every mismatch) are known, and nothing reaches the output
before the run has succeeded.
"""

from __future__ import annotations

import json
import tempfile
from array import array
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any, overload

# Lines stay in memory up to this many bytes and go to a temporary file past it: a hook run
# or a small diff never touches the disk, a large one holds a constant amount.
SPOOL_MEMORY = 1 << 20
_COPY_BLOCK = 1 << 18


def _enc(value: Any) -> str:
    # ensure_ascii keeps paths with odd bytes (surrogate escapes) printable JSON
    return json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":"))


class MismatchSpool(Sequence[dict[str, Any]]):
    """The ``mismatches`` list of a document, kept as its encoded lines rather than objects.

    :meth:`append` encodes one mismatch; the file then holds the array's body exactly as
    :func:`chunks` writes it (``,`` before every item but the first, ``\\n`` after each), so
    writing the document copies it in blocks. Reading it as a list of dicts (the CI report
    writers do) decodes one line at a time. ``ensure_ascii`` makes every byte ASCII, so the
    copy may cut blocks anywhere.
    """

    def __init__(self, *, memory: int = SPOOL_MEMORY) -> None:
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=memory)  # noqa: SIM115
        # start of each line; the end of the last is the file's size
        self._offsets = array("q")
        self._size = 0
        self._reading = False  # a read moved the position off the end

    def append(self, item: Mapping[str, Any]) -> None:
        line = (("," if self._offsets else "") + _enc(item) + "\n").encode("ascii")
        if self._reading:  # seeking flushes the write buffer: only after a read
            self._file.seek(self._size)
            self._reading = False
        self._file.write(line)
        self._offsets.append(self._size)
        self._size += len(line)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> MismatchSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self._offsets)

    def blocks(self) -> Iterator[str]:
        """The array's body (``[``/``]`` excluded) in large pieces, as the document has it."""
        self._reading = True
        self._file.seek(0)
        left = self._size
        while left:
            block = self._file.read(min(left, _COPY_BLOCK))
            if not block:
                raise OSError("mismatch spool ended early")
            left -= len(block)
            yield block.decode("ascii")

    def _line(self, k: int) -> bytes:
        start = self._offsets[k]
        end = self._offsets[k + 1] if k + 1 < len(self._offsets) else self._size
        self._reading = True
        self._file.seek(start)
        return self._file.read(end - start)

    @staticmethod
    def _decode(line: bytes) -> dict[str, Any]:
        return json.loads(line[1:] if line.startswith(b",") else line)  # type: ignore[no-any-return]

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self[k] for k in range(*index.indices(len(self)))]
        n = len(self._offsets)
        k = index + n if index < 0 else index
        if not 0 <= k < n:
            raise IndexError("mismatch index out of range")
        return self._decode(self._line(k))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        # one sequential pass: read the file line by line from the start
        self._reading = True
        self._file.seek(0)
        for _ in range(len(self._offsets)):
            line = self._file.readline()
            pos = self._file.tell()
            yield self._decode(line)
            self._reading = True  # the caller may have used the spool meanwhile
            self._file.seek(pos)

    def __eq__(self, other: object) -> bool:
        return list(self) == (list(other) if isinstance(other, Sequence) else other)

    __hash__ = None  # type: ignore[assignment]


def chunks(document: Mapping[str, Any]) -> Iterator[str]:
    yield "{"
    for i, (key, value) in enumerate(document.items()):
        yield ("," if i else "") + "\n" + _enc(key) + ":"
        if key == "mismatches" and isinstance(value, Sequence):
            if not value:
                yield "[]"
                continue
            yield "[\n"
            if isinstance(value, MismatchSpool):
                yield from value.blocks()
            else:
                for j, item in enumerate(value):
                    yield ("," if j else "") + _enc(item) + "\n"
            yield "]"
        else:
            yield _enc(value)
    yield "\n}\n"


def write(document: Mapping[str, Any], stream: IO[str]) -> None:
    for piece in chunks(document):
        stream.write(piece)


def dumps(document: Mapping[str, Any]) -> str:
    return "".join(chunks(document))
