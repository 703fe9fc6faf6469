"""Safe transforms: pure ``bytes -> bytes`` functions, each idempotent and
equivalence-preserving under the method that justifies it (invariant 3; tests/test_transforms.py).
"""

from __future__ import annotations

from collections.abc import Callable

from phase2_git.core import jsonvalue, whitespace
from phase2_git.core.classify import normalize_eol, strip_bom
from phase2_git.core.gcpause import paused_when_large
from phase2_git.core.model import Action, Transform
from phase2_git.core.settings import ClassifySettings
from phase2_git.core.whitespace import WhitespaceRules


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
    """No BOM, LF line endings, no trailing blanks, one final newline; tokens untouched.

    Equivalence-preserving only where every whitespace difference is noise
    (:data:`whitespace.ANY`): elsewhere :func:`make_normalize_whitespace` gives the transform.
    """
    try:
        text = jsonvalue.decode_text(data)
    except UnicodeDecodeError:
        raise TransformError("not UTF-8: whitespace cannot be normalised safely") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    body = "\n".join(line.rstrip() for line in lines).rstrip("\n")
    # rstrip() above may leave whitespace-only trailing lines as "": trim them too
    body = body.rstrip()
    out = (body + "\n").encode("utf-8") if body else b""
    # a second U+FEFF is content; written first it would read back as the BOM, which is not
    return jsonvalue.UTF8_BOM + out if out.startswith(jsonvalue.UTF8_BOM) else out


def make_normalize_whitespace(rules: WhitespaceRules) -> Callable[[bytes], bytes]:
    """Normalise exactly the whitespace ``rules`` call noise (:func:`whitespace.normalize`:
    LF line endings, no BOM, one final newline, and trailing spaces and tabs where they are
    noise); where every whitespace difference is noise, :func:`t_normalize_whitespace`."""
    if rules.outside_strings:
        raise ValueError("JSON text has no line-based whitespace transform")
    if rules.tokens_only:
        return t_normalize_whitespace

    def t_normalize_whitespace_rules(data: bytes) -> bytes:
        try:
            return whitespace.normalize(data, rules)
        except UnicodeDecodeError:
            raise TransformError("not UTF-8: whitespace cannot be normalised safely") from None

    return t_normalize_whitespace_rules


def normalize_whitespace_id(rules: WhitespaceRules) -> str:
    """The transform id for ``rules``: the id names what the transform does, so a decision
    logged under it says which whitespace was rewritten."""
    if rules.tokens_only:
        return "normalize_whitespace.v1"  # unchanged since it was the only one
    parts = [
        name
        for name, on in (
            ("trailing", rules.trailing),
            ("indent", rules.indent),
            ("inner", rules.inner),
            ("blank_lines", rules.blank_lines),
        )
        if on
    ]
    return f"normalize_whitespace.{'+'.join(parts) or 'eol'}.v1"


def make_canonicalize_json(indent: int, *, sort_keys: bool = True) -> Callable[[bytes], bytes]:
    """Canonical JSON text: ``indent``, numbers as written, a final newline; keys in RFC 8785
    order with ``sort_keys`` (a document with duplicate keys is refused: sorting would
    change which value a parser keeps), else in the document's own order."""

    def t_canonicalize_json(data: bytes) -> bytes:
        try:
            doc = jsonvalue.parse(data)
        except jsonvalue.JsonInvalid as exc:
            raise TransformError(f"not canonicalisable JSON: {exc}") from None
        try:
            out = jsonvalue.dumps_canonical(doc, indent=indent, sort_keys=sort_keys)
        except jsonvalue.JsonInvalid as exc:
            raise TransformError(str(exc)) from None
        return out.encode("utf-8")

    return t_canonicalize_json


def canonicalize_json_id(indent: int, sort_keys: bool) -> str:
    """The id names what the transform does: ``.v1`` has always meant sorted keys, so a
    rewrite that keeps the document's key order has an id of its own."""
    return f"canonicalize_json.indent{indent}{'' if sort_keys else '.ordered'}.v1"


class TransformSpec:
    # a plain class, not a NamedTuple: never used as a tuple, and ~10x cheaper to define
    __slots__ = ("action", "fn", "transform", "with_base")

    def __init__(
        self,
        transform: Transform,
        action: Action,
        fn: Callable[[bytes], bytes] | None,
        with_base: Callable[[bytes, bytes], bytes] | None = None,
    ) -> None:
        self.transform = transform
        self.action = action
        self.fn = fn  # None: restore_base (the result is the base bytes)
        # a transform that needs the base as well (strip_noise): (before, after) -> after'
        self.with_base = with_base


RESTORE_BASE = TransformSpec(Transform("restore_base.v1", True), "restore_base", None)
STRIP_NOISE_ID = "strip_noise.v1"


def strip_noise(
    artifact_type: str, rules: WhitespaceRules, settings: ClassifySettings
) -> TransformSpec:
    """``strip_noise.v1``: the head with its noise replaced by the base's bytes and every real
    change kept (:func:`changes.strip_json` / :func:`changes.strip_text` state the contract).

    JSON whose sides both parse is stripped as documents (numbers within the configured
    tolerance take the base's text); any other text line by line under ``rules``.

    Every result is checked before it is returned, each time the transform runs (resolve,
    ``check --fix``, an approval in the review): it must still be the head's document (JSON:
    canonical JSON equal to the head's, numbers within tolerance; text: equal to the head
    under the file's whitespace rules), else :class:`TransformError` and nothing is written.
    A diff plans the step without running it (:func:`policy.first_step`)."""
    rel_tol, abs_tol = settings.rel_tol, settings.abs_tol

    def t_strip_noise(before: bytes, after: bytes) -> bytes:
        # a large pair's walks build millions of containers and no cycle: with the collector
        # on, its collections walked both documents again and again (core/gcpause.py)
        return paused_when_large(len(before) + len(after), _strip, before, after)

    def _strip(before: bytes, after: bytes) -> bytes:
        # the change analysis is a large module the hook's clean runs never need
        from phase2_git.core import changes

        try:
            out: bytes | None = None
            if artifact_type == "json":
                try:
                    out = changes.strip_json(before, after, rel_tol=rel_tol, abs_tol=abs_tol)
                except changes.StripError:
                    pass  # not JSON on both sides: compared line by line, as it was analysed
            if out is None:
                out = changes.strip_text(before, after, rules)
        except changes.StripError as exc:
            raise TransformError(str(exc)) from None
        if stripped_proof(out, after, rules, settings) is None:
            raise TransformError(
                "the stripped file is not the head's document: nothing is rewritten"
            )
        return out

    return TransformSpec(Transform(STRIP_NOISE_ID, True), "strip_noise", None, t_strip_noise)


def stripped_proof(
    out: bytes, after: bytes, rules: WhitespaceRules, settings: ClassifySettings
) -> str | None:
    """The method that proves ``out`` (a stripped head) is ``after``'s document: JSON equal
    as canonical JSON (``canonical_json``) or within the numeric tolerance (``numeric``),
    text equal under ``rules`` (``whitespace``); None when nothing does."""
    try:
        a, b = jsonvalue.parse(out), jsonvalue.parse(after)
    except jsonvalue.JsonInvalid:
        try:
            text_out, text_after = jsonvalue.decode_text(out), jsonvalue.decode_text(after)
        except UnicodeDecodeError:
            return None
        same = whitespace.key(text_out, rules) == whitespace.key(text_after, rules)
        return "whitespace" if same else None
    if jsonvalue.compare(a, b, ordered=False, numbers="value").equal:
        return "canonical_json"
    close = jsonvalue.compare(
        a, b, ordered=False, numbers="value", rel_tol=settings.rel_tol, abs_tol=settings.abs_tol
    )
    return "numeric" if close.equal else None


def canonicalizer(
    mismatch_type: str,
    artifact_type: str,
    indent: int,
    rules: WhitespaceRules,
    *,
    sort_keys: bool = False,
) -> TransformSpec | None:
    """The canonicalising transform for a noise type, or None where only restoring is safe.

    ``rules`` are the artifact's whitespace rules (``classify.whitespace_rules``): a text
    ``whitespace`` mismatch is normalised only in the whitespace they call noise, and JSON
    that does not parse is only ever restored (no line-based rewrite knows its strings).
    ``numeric_precision`` has none: rounding would rewrite numbers, and a rewrite never
    changes the text of a number. JSON keeps its key order unless ``sort_keys``
    (``noise.json_sort_keys``): a curated order is content to the people who curate it.
    """
    if artifact_type == "json" and mismatch_type in ("whitespace", "json_ordering"):
        return TransformSpec(
            Transform(canonicalize_json_id(indent, sort_keys), True),
            "canonicalize_json",
            make_canonicalize_json(indent, sort_keys=sort_keys),
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
    if mismatch_type == "whitespace" and not rules.outside_strings:
        return TransformSpec(
            Transform(normalize_whitespace_id(rules), True),
            "normalize_whitespace",
            make_normalize_whitespace(rules),
        )
    return None


def spec_for(
    transform_id: str,
    mismatch_type: str,
    artifact_type: str,
    settings: ClassifySettings,
    rules: WhitespaceRules,
) -> TransformSpec | None:
    """The transform a plan names by its id, built from the configuration in force (None
    when that configuration cannot give it: the plan was made under another one)."""
    if transform_id == RESTORE_BASE.transform.id:
        return RESTORE_BASE
    if transform_id == STRIP_NOISE_ID:
        return strip_noise(artifact_type, rules, settings)
    spec = canonicalizer(
        mismatch_type,
        artifact_type,
        settings.json_indent,
        rules,
        sort_keys=settings.json_sort_keys,
    )
    return spec if spec is not None and spec.transform.id == transform_id else None


def apply(spec: TransformSpec, before: bytes, after: bytes) -> bytes:
    """The bytes the head side should hold after the transform."""
    if spec.with_base is not None:
        return spec.with_base(before, after)
    if spec.fn is None:
        return before
    return spec.fn(after)
