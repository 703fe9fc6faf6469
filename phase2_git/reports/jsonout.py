"""``--format json``: exactly ``schemas/Phase2Diff.v1.json``, byte-for-byte deterministic.

One mismatch per line, each written by the C encoder as soon as it is encoded: ``indent=``
would switch ``json`` to its pure-Python encoder (2.4 s of a 20,000-artifact run) and build
the whole text in memory (50 MiB there) before the first byte is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any


def _enc(value: Any) -> str:
    # ensure_ascii keeps paths with odd bytes (surrogate escapes) printable JSON
    return json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":"))


def chunks(document: Mapping[str, Any]) -> Iterator[str]:
    yield "{"
    for i, (key, value) in enumerate(document.items()):
        yield ("," if i else "") + "\n" + _enc(key) + ":"
        if key == "mismatches" and isinstance(value, Sequence):
            if not value:
                yield "[]"
                continue
            yield "[\n"
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
