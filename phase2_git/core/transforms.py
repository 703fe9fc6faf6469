"""Safe transforms: pure ``bytes -> bytes`` functions, each idempotent and
equivalence-preserving under the method that justifies it (DESIGN.md §7.3; property-tested).
"""

# no `from __future__ import annotations`: NamedTuple fields stay cheap (see core/model.py)

from collections.abc import Callable
from typing import NamedTuple

from phase2_git.core import jsonvalue
from phase2_git.core.classify import normalize_eol, strip_bom
from phase2_git.core.model import Action, Transform


class TransformError(ValueError):
    """The transform does not apply to this content (e.g. duplicate JSON keys)."""


def t_strip_bom(data: bytes) -> bytes:
    return strip_bom(data)


def t_normalize_line_endings(data: bytes) -> bytes:
    return normalize_eol(data)


def t_final_newline(data: bytes) -> bytes:
    """Exactly one final newline (keeping the file's own line-ending style); empty stays empty."""
    body = data.rstrip(b"\r\n")
    if not body:
        return b""
    eol = b"\r\n" if data.count(b"\r\n") * 2 > data.count(b"\n") else b"\n"
    return body + eol


def t_normalize_whitespace(data: bytes) -> bytes:
    """No BOM, LF line endings, no trailing blanks, one final newline; tokens untouched."""
    try:
        text = jsonvalue.decode_text(data)
    except UnicodeDecodeError:
        raise TransformError("not UTF-8: whitespace cannot be normalised safely") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    body = "\n".join(line.rstrip() for line in lines).rstrip("\n")
    # rstrip() above may leave whitespace-only trailing lines as "": trim them too
    body = body.rstrip()
    return (body + "\n").encode("utf-8") if body else b""


def make_canonicalize_json(indent: int) -> Callable[[bytes], bytes]:
    def t_canonicalize_json(data: bytes) -> bytes:
        try:
            doc = jsonvalue.parse(data)
        except jsonvalue.JsonInvalid as exc:
            raise TransformError(f"not canonicalisable JSON: {exc}") from None
        try:
            return jsonvalue.dumps_canonical(doc, indent=indent).encode("utf-8")
        except jsonvalue.JsonInvalid as exc:
            raise TransformError(str(exc)) from None

    return t_canonicalize_json


class TransformSpec(NamedTuple):
    transform: Transform
    action: Action
    fn: Callable[[bytes], bytes] | None  # None: restore_base (the result is the base bytes)


RESTORE_BASE = TransformSpec(Transform("restore_base.v1", True), "restore_base", None)


def canonicalizer(mismatch_type: str, artifact_type: str, indent: int = 2) -> TransformSpec | None:
    """The canonicalising transform for a noise type, or None where only restoring is safe.

    ``numeric_precision`` has none: rounding would rewrite numbers, and a rewrite never
    changes the text of a number.
    """
    if artifact_type == "json" and mismatch_type in ("whitespace", "json_ordering"):
        return TransformSpec(
            Transform(f"canonicalize_json.indent{indent}.v1", True),
            "canonicalize_json",
            make_canonicalize_json(indent),
        )
    if mismatch_type == "bom":
        return TransformSpec(Transform("strip_bom.v1", True), "normalize_whitespace", t_strip_bom)
    if mismatch_type == "line_endings":
        return TransformSpec(
            Transform("normalize_line_endings.lf.v1", True),
            "normalize_line_endings",
            t_normalize_line_endings,
        )
    if mismatch_type == "trailing_newline":
        return TransformSpec(
            Transform("final_newline.v1", True), "normalize_whitespace", t_final_newline
        )
    if mismatch_type == "whitespace":
        return TransformSpec(
            Transform("normalize_whitespace.v1", True),
            "normalize_whitespace",
            t_normalize_whitespace,
        )
    return None


def apply(spec: TransformSpec, before: bytes, after: bytes) -> bytes:
    """The bytes the head side should hold after the transform."""
    if spec.fn is None:
        return before
    return spec.fn(after)
