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

import io
import json
import math
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from phase2_git.core.model import Mismatch, Verdict

# Lines stay in memory up to this many bytes and go to a temporary file past it: a hook run
# or a small diff never touches the disk, a large one holds a constant amount.
SPOOL_MEMORY = 1 << 20
_COPY_BLOCK = 1 << 18


# A report printed to a CI log must not carry GitHub's legacy workflow command "##[", which
# the runner finds anywhere in a line; "#" is not JSON syntax, so it only occurs inside a
# string, where "\u005b" is the same "[" to every JSON parser.
_V1_COMMAND = "##["
_V1_DEFUSED = "##\\u005b"


def defused(text: str) -> str:
    return text.replace(_V1_COMMAND, _V1_DEFUSED) if _V1_COMMAND in text else text


def _dumps(value: Any) -> str:
    # ensure_ascii keeps paths with odd bytes (surrogate escapes) printable JSON
    return defused(json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":")))


def _c_encoder() -> Callable[[Any], str]:
    """What ``_dumps`` does, minus building a JSONEncoder and its C encoder for every call
    (a third of the time spent on a mismatch's dict): the same C encoder, made once. Where
    it is missing or takes other arguments (another Python), ``json.dumps`` itself."""
    from json import encoder as stdlib

    make = getattr(stdlib, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython has it
        return _dumps
    default = json.JSONEncoder().default
    ascii_str = stdlib.encode_basestring_ascii
    try:
        # JSONEncoder.iterencode's arguments for these options; no circular-reference
        # markers: a document is made of fresh dicts and lists, never a cycle
        iterencode = make(None, default, ascii_str, None, ":", ",", False, False, False)
    except TypeError:  # pragma: no cover - a signature of another version
        return _dumps

    def encode(value: Any) -> str:
        if isinstance(value, str):
            return defused(ascii_str(value))
        return defused("".join(iterencode(value, 0)))

    probe = {"a": [1.5, 0.1, None, True, -3, "\u00e9\udcff\n##[x"], "b": {}}
    return encode if encode(probe) == _dumps(probe) else _dumps


_enc = _c_encoder()


def encode_value(value: Any) -> str:
    """Any JSON value as one compact ASCII line of a report (the encoder every line uses)."""
    return _enc(value)


_str: Callable[[str], str] = json.encoder.encode_basestring_ascii


def encode_mismatch(m: Mismatch) -> str:
    """``_enc(m.to_json())``, without building the dicts: the mismatch's fixed fields written
    straight into the line, each value by the function the C encoder uses for its type.

    A 20,000-artifact diff encodes its 5,000 mismatches in the one process that orders them,
    where building the dicts cost 6 µs a mismatch and encoding them 7 µs more. This is a
    second writer of ``Mismatch.to_json``'s bytes, held to them byte for byte by
    tests/test_fallbacks.py on generated mismatches; what is rare or nested (a decision, a
    plan's first step, the changes, a score that is not a plain float) goes through the
    generic encoder."""
    c = m.change
    plan = m.plan
    s = _str
    verdicts = ",".join([_verdict(v) for v in m.verdicts])
    transform = plan.transform
    first = "" if plan.first is None else ',"first":' + _enc(plan.first.to_json())
    decision = "null" if m.decision is None else _enc(m.decision)
    changes = "" if m.changes is None else ',"changes":' + _enc(m.changes.to_json())
    line = (
        f'{{"id":{s(m.id)},"path":{s(c.path)},"old_path":{_opt(c.old_path)},'
        f'"status":{s(c.status)},"artifact_type":{s(m.artifact_type)},'
        f'"mismatch_type":{s(m.mismatch_type)},"equivalent":{_bool(m.equivalent)},'
        f'"detail":{s(m.detail)},"verdicts":[{verdicts}],'
        f'"plan":{{"plan_id":{s(plan.plan_id)},"action":{s(plan.action)},"transform":'
        + (
            "null"
            if transform is None
            else f'{{"id":{s(transform.id)},"idempotent":{_bool(transform.idempotent)}}}'
        )
        + f',"safe":{_bool(plan.safe)},"confidence":{_score(plan.confidence)},'
        f'"reason":{s(plan.reason)},"justified_by":[{",".join(map(s, plan.justified_by))}]'
        f"{first}}},"
        f'"hashes":{{"before":{_opt(c.before)},"after":{_opt(c.after)}}},'
        f'"modes":{{"before":{_opt(c.before_mode)},"after":{_opt(c.after_mode)}}},'
        f'"resolved":{_bool(m.resolved)},"decision":{decision}{changes}}}'
    )
    return defused(line)


# the same few verdicts recur across thousands of mismatches: each is encoded once, keyed by
# its fields where equal fields are the same bytes (a bool, and a float that is not -0.0,
# which equals 0.0); the few hundred distinct details of a large run stay far below the bound
_VERDICTS: dict[Verdict, str] = {}
_VERDICTS_HELD = 4096


def _verdict(v: Verdict) -> str:
    score = v.score
    key = (
        type(v.equivalent) is bool
        and type(score) is float
        and (score != 0.0 or math.copysign(1.0, score) > 0)
    )
    if key:
        text = _VERDICTS.get(v)
        if text is not None:
            return text
    text = (
        f'{{"method":{_str(v.method)},"equivalent":{_bool(v.equivalent)},'
        f'"score":{_score(v.score)},"detail":{_str(v.detail)}}}'
    )
    if key:
        if len(_VERDICTS) >= _VERDICTS_HELD:
            _VERDICTS.clear()
        _VERDICTS[v] = text
    return text


def _bool(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return _enc(value)


def _opt(value: str | None) -> str:
    return "null" if value is None else _str(value)


def _score(value: float) -> str:
    # Verdict.to_json and Plan.to_json round to 6 places; a finite float is written by
    # float.__repr__ in the C encoder too (anything else: the generic encoder, which refuses
    # NaN and infinities as the report must)
    r = round(value, 6)
    if type(r) is float and r - r == 0.0:
        return float.__repr__(r)
    return _enc(r)


class MismatchSpool(Sequence[dict[str, Any]]):
    """The ``mismatches`` list of a document, kept as its encoded lines rather than objects.

    :meth:`extend` encodes mismatches; the spool then holds the array's body exactly as
    :func:`chunks` writes it (``,`` before every item but the first, ``\\n`` after each), so
    writing the document copies it in blocks. Reading it as a list of dicts (the CI report
    writers do) decodes one line at a time. ``ensure_ascii`` makes every byte ASCII, so the
    copy may cut blocks anywhere. The lines stay in memory up to ``memory`` bytes and move to
    an anonymous temporary file past it.
    """

    def __init__(self, *, memory: int = SPOOL_MEMORY) -> None:
        self._memory = memory
        self._file: IO[bytes] = io.BytesIO()
        self._spilled = False
        # start of each line; the end of the last is the spool's size
        self._offsets = array("q")
        self._size = 0
        self._reading = False  # a read moved the position off the end

    def extend(self, items: Iterable[Mapping[str, Any]]) -> None:
        """Encode and add ``items`` (one write for them all)."""
        self.add_lines([_enc(item) for item in items])  # raises before anything is added

    def add_lines(self, lines: list[str]) -> None:
        """Add lines already encoded (:func:`encode_mismatch`); the list is reused."""
        offsets = self._offsets
        size = self._size
        for k, line in enumerate(lines):
            if size:
                lines[k] = line = "," + line
            offsets.append(size)
            size += len(line) + 1
        lines.append("")
        data = "\n".join(lines).encode("ascii")
        if self._reading:  # seeking flushes a write buffer: only after a read
            self._file.seek(self._size)
            self._reading = False
        if not self._spilled and size > self._memory:
            assert isinstance(self._file, io.BytesIO)
            spill = tempfile.TemporaryFile(buffering=_COPY_BLOCK)  # noqa: SIM115 - see close()
            spill.write(self._file.getvalue())
            self._file.close()
            self._file = spill
            self._spilled = True
        self._file.write(data)
        self._size = size

    def append(self, item: Mapping[str, Any]) -> None:
        self.extend((item,))

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
            if not block:  # pragma: no cover - the file is ours and unlinked
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
