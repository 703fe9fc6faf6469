"""JSON Schemas shipped with phase2, and validation that names the file and the key.

The schemas live in ``schemas/`` at the repository top; the wheel carries them as
``phase2_git/schemas/`` (hatch force-include). An editable install reads the top folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
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
        schema: dict[str, Any] = _ecma_anchors(json.load(fh))
    return schema


def _ecma_anchors(node: Any) -> Any:
    """The schemas' patterns with ECMA-262's ``$``, which Python's ``re`` lacks.

    JSON Schema patterns are ECMA-262 regular expressions, where a final ``$`` matches only at
    the very end; Python's also matches before a final newline, so ``"dec_…\\n"`` would pass
    ``^dec_[0-9a-f]{16}$`` and reach a git argument. Both validators use ``re``: the final
    ``$`` becomes ``\\Z`` for them (tests/test_schemas.py pins it)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                value = _anchor(value)
            elif key == "patternProperties" and isinstance(value, dict):
                value = {_anchor(k): _ecma_anchors(v) for k, v in value.items()}
            else:
                value = _ecma_anchors(value)
            out[key] = value
        return out
    if isinstance(node, list):
        return [_ecma_anchors(v) for v in node]
    return node


def _anchor(pattern: str) -> str:
    body = pattern[:-1]
    backslashes = len(body) - len(body.rstrip("\\"))
    if pattern.endswith("$") and backslashes % 2 == 0:  # an unescaped final ``$``
        return body + "\\Z"
    return pattern


@cache
def validator(name: str) -> Validator:
    # imported here: jsonschema costs ~80 ms of start-up, which the hook path avoids
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(name))


def error_location(path: Any) -> str:
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else "(top level)"


@cache
def fast_validator(name: str) -> Callable[[Any], Any]:
    """The schema compiled to Python by fastjsonschema: about 20x faster than jsonschema per
    instance (0.1 ms against 2 ms for a decision line), which ``resolve --yes`` over thousands
    of decisions needs. jsonschema stays the reference: it words the error messages, and a
    test checks that both agree on accept/reject over valid and mutated instances.

    Compiled without detailed exceptions: only accept/reject is asked of it, and the detailed
    code repeats the schema as a literal in every ``raise``, which made compiling it (on
    every run) cost 0.07 s for ``Phase2Diff.v1``, 0.03 s without."""
    import fastjsonschema

    return fastjsonschema.compile(
        const_as_enum(inline_refs(load_schema(name))), detailed_exceptions=False
    )


def const_as_enum(schema: Any) -> Any:
    """The schema with each ``"const": x`` written ``"enum": [x]``, the same constraint:
    fastjsonschema (2.22) cannot compile ``const`` without detailed exceptions (its message
    template names a field it then leaves out). Property names and data (``enum``,
    ``default``, ``examples``, ``dependentRequired``) are never taken for keywords."""
    if isinstance(schema, list):
        return [const_as_enum(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _NAMED_SCHEMAS and isinstance(value, dict):
            out[key] = {name: const_as_enum(sub) for name, sub in value.items()}
        elif key in _DATA_KEYWORDS:
            out[key] = value
        else:
            out[key] = const_as_enum(value)
    if "const" in out:
        const = out.pop("const")
        if "enum" in out:  # both: a value must satisfy each
            out["allOf"] = [*out.get("allOf", []), {"enum": [const]}]
        else:
            out["enum"] = [const]
    return out


_NAMED_SCHEMAS = frozenset(("properties", "patternProperties", "$defs", "dependentSchemas"))
_DATA_KEYWORDS = frozenset(("const", "enum", "default", "examples", "dependentRequired"))


# keywords that describe and never constrain: a reference beside them means just its target
_ANNOTATIONS = frozenset(("description", "title", "$comment", "examples"))


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The same schema with every reference to one of its ``$defs`` replaced by the definition.

    The schema means exactly what it meant; only fastjsonschema's code changes. It compiles a
    reference to a function call, and a call inside an array item passes the item's path,
    formatted through ``str.format(**locals())`` for every item, valid or not: 45% of
    validating a 25,000-mismatch diff report, whose mismatches each hold five verdicts.
    Inlined, an item is checked in place and its path only spelt out for an error. A
    definition that refers back to itself, or has its own ``$id``, stays a reference; so does
    one with constraining keywords beside it.
    """
    defs: dict[str, Any] = schema.get("$defs", {})

    def walk(node: Any, inlining: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [walk(v, inlining) for v in node]
        if not isinstance(node, dict):
            return node
        target = _local_def(node)
        if (
            target in defs
            and target not in inlining
            and "$id" not in defs[target]
            and set(node) - {"$ref"} <= _ANNOTATIONS
        ):
            return walk(defs[target], (*inlining, target))
        return {key: walk(value, inlining) for key, value in node.items()}

    inlined: dict[str, Any] = walk(schema, ())
    return inlined


def _local_def(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    prefix = "#/$defs/"
    if isinstance(ref, str) and ref.startswith(prefix) and "/" not in ref[len(prefix) :]:
        return ref[len(prefix) :]
    return None


def check(instance: Any, name: str, where: str) -> None:
    """Raise :class:`UsageError` ``"<where>: <key>: <problem>"`` on the first violation."""
    if is_valid(instance, name):
        return
    errors = sorted(validator(name).iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        key = error_location(err.absolute_path)
        raise UsageError(f"{where}: {key}: {err.message}")
    raise UsageError(f"{where}: does not match {name}")  # pragma: no cover - validators disagree


def is_valid(instance: Any, name: str) -> bool:
    import fastjsonschema

    try:
        fast_validator(name)(instance)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


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


def loads_unchecked(data: bytes) -> Any:
    """What :func:`loads_strict` returns for any bytes it accepts, without its checks: the
    same decoding, the C parser's own dicts. Only for bytes ``loads_strict`` has passed (or
    will, before anything is done with the value): ``report merge`` parses each shard here
    while a forked child runs ``loads_strict`` and the schema on the same bytes."""
    return json.loads(data)
