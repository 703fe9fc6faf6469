"""JSON Schemas shipped with phase2, and validation that names the file and the key.

The schemas live in ``schemas/`` at the repository top; the wheel carries them as
``phase2_git/schemas/`` (hatch force-include). An editable install reads the top folder.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phase2_git.errors import UsageError

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

_PKG = Path(__file__).resolve().parent.parent


def schema_dir() -> Path:
    for candidate in (_PKG / "schemas", _PKG.parent / "schemas"):
        if candidate.is_dir():
            return candidate
    raise UsageError(
        f"phase2 is installed without its schemas (looked in {_PKG})"
    )  # pragma: no cover


@cache
def load_schema(name: str) -> dict[str, Any]:
    path = schema_dir() / f"{name}.json"
    with path.open("rb") as fh:
        schema: dict[str, Any] = json.load(fh)
    return schema


@cache
def validator(name: str) -> Validator:
    # imported here: jsonschema costs ~80 ms of start-up, which the hook path avoids
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(name))


def error_location(path: Any) -> str:
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else "(top level)"


def check(instance: Any, name: str, where: str) -> None:
    """Raise :class:`UsageError` ``"<where>: <key>: <problem>"`` on the first violation."""
    errors = sorted(validator(name).iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        key = error_location(err.absolute_path)
        raise UsageError(f"{where}: {key}: {err.message}")


def is_valid(instance: Any, name: str) -> bool:
    return bool(validator(name).is_valid(instance))


def _unique_pairs(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"duplicate key {dup!r}")
    return obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_STRICT = json.JSONDecoder(object_pairs_hook=_unique_pairs, parse_constant=_no_constant)


def loads_strict(data: str | bytes) -> Any:
    """``json.loads`` for phase2's own files, which strangers can edit in a PR: a duplicate key
    (a reviewer reads the first ``"decision"``, a parser keeps the last), NaN/Infinity (not
    JSON) and nesting deeper than the interpreter allows all raise ``ValueError``."""
    if isinstance(data, bytes):
        data = data.decode(json.detect_encoding(data), "surrogatepass")
    try:
        return _STRICT.decode(data)
    except RecursionError:
        raise ValueError("nested too deeply") from None
