"""The calibration dataset: LabeledMismatch lines (``.phase2/labels.jsonl``) and JudgeResult lines.

Both are JSONL files a human may edit or bring from elsewhere, so every defect is reported as
``<file>:<line>: <problem>`` (exit 2), never skipped. Lines are checked by a hand-written fast
path first and by the JSON Schema only when that path has doubts: jsonschema costs ~70 µs a
line, which alone would eat a third of the 2 s budget for evaluating 10,000 items
(bench/: the ``judge`` row).
The fast path accepts a subset of what the schema accepts (a test checks this), so the schema
stays the contract and the error messages stay the schema's.

Content (``schemas/LabeledMismatch.v1.json``): a line with ``"content": "git"`` names its sides
by blob id only (``hashes``) and readers take the bytes from the repository's objects (what
``phase2 labels export`` writes: the file is committed, and git already holds every blob a
decision names). Otherwise a side's bytes are embedded: as text in ``before``/``after`` when
they are valid UTF-8 without NUL bytes (they round-trip exactly: BOM and CR/LF are kept), else
as standard base64 in ``before_base64``/``after_base64``; a side that does not exist or could
not be recovered has neither (datasets from elsewhere, and files written before ``content``
existed, read as they always did).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from phase2_git.core.model import ARTIFACT_TYPES, MISMATCH_TYPES
from phase2_git.errors import UsageError
from phase2_git.store import schemas
from phase2_git.store.atomic import atomic_write_bytes

LABELS_FILE = ".phase2/labels.jsonl"
LABEL_SCHEMA = "LabeledMismatch.v1"
RESULT_SCHEMA = "JudgeResult.v1"

Split = Literal["train", "test"]

_ARTIFACT_TYPES = frozenset(ARTIFACT_TYPES)
_MISMATCH_TYPES = frozenset(MISMATCH_TYPES)
_OID = re.compile(r"(?:[0-9a-f]{40}|[0-9a-f]{64})")
_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_DEC = re.compile(r"dec_[0-9a-f]{16}")
_METHOD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
_LABEL_KEYS = frozenset(
    (
        "id",
        "path",
        "artifact_type",
        "mismatch_type",
        "label",
        "split",
        "before",
        "after",
        "before_base64",
        "after_base64",
        "hashes",
        "source",
        "decision_id",
        "content",
    )
)
_EMBEDDED = ("before", "after", "before_base64", "after_base64")


@dataclass(frozen=True)
class LabeledItem:
    """One labelled mismatch. ``label`` is True for ``equivalent`` (the positive class)."""

    id: str
    artifact_type: str
    mismatch_type: str
    label: bool
    split: Split | None = None
    path: str | None = None
    before: bytes | None = None
    after: bytes | None = None
    hash_before: str | None = None
    hash_after: str | None = None
    has_hashes: bool = False
    source: str | None = None
    decision_id: str | None = None
    lineno: int = 0
    # the sides live in the repository's objects, named by the hashes (``"content": "git"``);
    # ``before``/``after`` are then filled only in memory, by a reader that looked them up
    content_in_git: bool = False

    @property
    def is_audit(self) -> bool:
        return self.source == "audit"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        if self.path is not None:
            out["path"] = self.path
        out["artifact_type"] = self.artifact_type
        out["mismatch_type"] = self.mismatch_type
        out["label"] = "equivalent" if self.label else "different"
        if self.split is not None:
            out["split"] = self.split
        for side, data in (("before", self.before), ("after", self.after)):
            if data is None or self.content_in_git:
                continue
            text = _as_text(data)
            if text is None:
                out[f"{side}_base64"] = base64.b64encode(data).decode("ascii")
            else:
                out[side] = text
        if self.has_hashes:
            out["hashes"] = {"before": self.hash_before, "after": self.hash_after}
        if self.source is not None:
            out["source"] = self.source
        if self.decision_id is not None:
            out["decision_id"] = self.decision_id
        if self.content_in_git:
            out["content"] = "git"
        return out


@dataclass(frozen=True)
class JudgeResultLine:
    id: str
    method: str
    predicted: bool
    score: float | None
    lineno: int


def _as_text(data: bytes) -> str | None:
    if b"\0" in data:  # binary by git's own test, even when it happens to decode
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read(path: Path, display: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{display}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{display}: is a directory, not a JSONL file") from None
    except OSError as exc:
        raise UsageError(f"{display}: cannot read: {exc.strerror}") from None


def _json_lines(data: bytes, display: str) -> Iterable[tuple[int, dict[str, Any]]]:
    """Objects of a JSONL file; blank lines are allowed (hand-edited files have them)."""
    for n, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            obj = schemas.loads_strict(raw)
        except UnicodeDecodeError:
            raise UsageError(f"{display}:{n}: not UTF-8") from None
        except (ValueError, RecursionError) as exc:
            raise UsageError(f"{display}:{n}: not JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise UsageError(f"{display}:{n}: not a JSON object")
        yield n, obj


def _str(obj: Mapping[str, Any], key: str) -> bool:
    return key not in obj or isinstance(obj[key], str)


def _label_fast_ok(obj: Mapping[str, Any]) -> bool:
    """A sufficient (never looser) check of LabeledMismatch.v1 for the common case."""
    if not _LABEL_KEYS.issuperset(obj):
        return False
    ident = obj.get("id")
    if not isinstance(ident, str) or not 1 <= len(ident) <= 256:
        return False
    # a str first: a dict or list value is unhashable, and set membership would raise
    art, mis = obj.get("artifact_type"), obj.get("mismatch_type")
    if not isinstance(art, str) or art not in _ARTIFACT_TYPES:
        return False
    if not isinstance(mis, str) or mis not in _MISMATCH_TYPES:
        return False
    if obj.get("label") not in ("equivalent", "different"):
        return False
    if "split" in obj and obj["split"] not in ("train", "test"):
        return False
    if "path" in obj:
        path = obj["path"]
        if not isinstance(path, str) or not 1 <= len(path) <= 4096:
            return False
    for key in ("before", "after"):
        if not _str(obj, key):
            return False
        b64 = f"{key}_base64"
        if b64 in obj and (
            key in obj or not isinstance(obj[b64], str) or not _B64.fullmatch(obj[b64])
        ):
            return False
    if "hashes" in obj:
        hashes = obj["hashes"]
        if not isinstance(hashes, dict) or set(hashes) != {"before", "after"}:
            return False
        for oid in hashes.values():
            if oid is not None and not (isinstance(oid, str) and _OID.fullmatch(oid)):
                return False
    if "source" in obj:
        source = obj["source"]
        if not isinstance(source, str) or not 1 <= len(source) <= 64:
            return False
    if "decision_id" in obj:
        dec = obj["decision_id"]
        if not isinstance(dec, str) or not _DEC.fullmatch(dec):
            return False
    # content by blob id: with the hashes, and nothing embedded
    return "content" not in obj or (
        obj["content"] == "git" and "hashes" in obj and not any(k in obj for k in _EMBEDDED)
    )


def _decode_b64(value: str, where: str, key: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise UsageError(f"{where}: {key}: not valid base64") from None


def item_from_json(obj: Mapping[str, Any], where: str, lineno: int = 0) -> LabeledItem:
    """Validate one LabeledMismatch object and build the item (UsageError names ``where``)."""
    if not _label_fast_ok(obj):
        schemas.check(dict(obj), LABEL_SCHEMA, where)
    sides: dict[str, bytes | None] = {}
    for key in ("before", "after"):
        if key in obj:
            sides[key] = obj[key].encode("utf-8", "surrogatepass")
        elif f"{key}_base64" in obj:
            sides[key] = _decode_b64(obj[f"{key}_base64"], where, f"{key}_base64")
        else:
            sides[key] = None
    hashes = obj.get("hashes")
    return LabeledItem(
        id=obj["id"],
        artifact_type=obj["artifact_type"],
        mismatch_type=obj["mismatch_type"],
        label=obj["label"] == "equivalent",
        split=obj.get("split"),
        path=obj.get("path"),
        before=sides["before"],
        after=sides["after"],
        hash_before=hashes["before"] if hashes else None,
        hash_after=hashes["after"] if hashes else None,
        has_hashes=hashes is not None,
        source=obj.get("source"),
        decision_id=obj.get("decision_id"),
        lineno=lineno,
        content_in_git=obj.get("content") == "git",
    )


def parse_labels(data: bytes, display: str) -> list[LabeledItem]:
    """Every labelled item of a LabeledMismatch JSONL file; a repeated id is an error."""
    items: list[LabeledItem] = []
    seen: dict[str, int] = {}
    for n, obj in _json_lines(data, display):
        item = item_from_json(obj, f"{display}:{n}", n)
        first = seen.get(item.id)
        if first is not None:
            raise UsageError(f"{display}:{n}: id '{item.id}' already labelled on line {first}")
        seen[item.id] = n
        items.append(item)
    return items


def read_labels(path: Path, display: str | None = None) -> list[LabeledItem]:
    shown = display or str(path)
    return parse_labels(_read(path, shown), shown)


def encode_labels(items: Iterable[LabeledItem]) -> bytes:
    """One canonical line per item (key order as in the schema, no ASCII escaping)."""
    return b"".join(
        (json.dumps(i.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n").encode(
            "utf-8", "surrogatepass"
        )
        for i in items
    )


def write_labels(path: Path, items: Sequence[LabeledItem]) -> None:
    """Validate every line, then replace the file atomically."""
    for n, item in enumerate(items, start=1):
        obj = item.to_json()
        if not _label_fast_ok(obj):
            schemas.check(obj, LABEL_SCHEMA, f"{path}:{n} (about to be written)")
    atomic_write_bytes(path, encode_labels(items))


def _result_fast_ok(obj: Mapping[str, Any]) -> bool:
    if not {"id", "method", "predicted", "score", "detail"}.issuperset(obj):
        return False
    ident, method = obj.get("id"), obj.get("method")
    if not isinstance(ident, str) or not 1 <= len(ident) <= 256:
        return False
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        return False
    if obj.get("predicted") not in ("equivalent", "different"):
        return False
    if "score" in obj:
        score = obj["score"]
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            return False
        if not 0 <= score <= 1:
            return False
    if "detail" in obj:
        detail = obj["detail"]
        if not isinstance(detail, str) or len(detail) > 2000:
            return False
    return True


def parse_results(data: bytes, display: str) -> list[JudgeResultLine]:
    """JudgeResult lines; the same (method, id) twice is an error (which one would count?)."""
    out: list[JudgeResultLine] = []
    seen: dict[tuple[str, str], int] = {}
    for n, obj in _json_lines(data, display):
        if not _result_fast_ok(obj):
            schemas.check(obj, RESULT_SCHEMA, f"{display}:{n}")
        key = (obj["method"], obj["id"])
        first = seen.get(key)
        if first is not None:
            raise UsageError(
                f"{display}:{n}: a second result of method '{key[0]}' for id '{key[1]}' "
                f"(first on line {first})"
            )
        seen[key] = n
        score = obj.get("score")
        out.append(
            JudgeResultLine(
                id=obj["id"],
                method=obj["method"],
                predicted=obj["predicted"] == "equivalent",
                score=float(score) if score is not None else None,
                lineno=n,
            )
        )
    return out


def read_results(path: Path, display: str | None = None) -> list[JudgeResultLine]:
    shown = display or str(path)
    return parse_results(_read(path, shown), shown)
