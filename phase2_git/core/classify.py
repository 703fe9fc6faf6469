"""Tell noise from real change: one ``mismatch_type`` per mismatch.

The ladder goes from the most specific explanation to the least; the first that explains the
whole difference wins. Each side is decoded and parsed at most once (:class:`Pair` caches).
"""

from __future__ import annotations

import posixpath
from decimal import Decimal, InvalidOperation, localcontext
from functools import cached_property

from phase2_git.core import jsonc, jsonvalue, whitespace
from phase2_git.core.globs import matches
from phase2_git.core.model import (
    MODE_GITLINK,
    MODE_SYMLINK,
    ArtifactType,
    Blob,
    Change,
    Classification,
)
from phase2_git.core.patterns import lazy_pattern
from phase2_git.core.settings import ClassifySettings
from phase2_git.core.whitespace import WhitespaceRules

LFS_PREFIX = b"version https://git-lfs.github.com/spec/"
_BINARY_SNIFF = 8000


# The patterns are compiled on first use: the hook imports this module, and most runs never
# compare text numbers.

# a decimal number, captured: ``split`` gives text, number, text, … (text at even indexes).
# A run of three or more dotted groups (``2.10.0``, ``10.0.0.1``, ``2024.01.05``) is one
# capture: a version, an address or a date, never a float (``_text_numbers_close``)
_number_split = lazy_pattern(r"([-+]?(?:\d+(?:\.\d+){2,}|\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")
_space_runs = lazy_pattern(r"(\s+)")  # \s is str.isspace(): the separators of str.split()
# what a version follows in the token (``numpy>=1.20``, ``foo==1.10``, ``"^1.10"``, ``@1.10``,
# ``v1.10``): a number there is compared as written, however close as a float (1.20 and 1.2
# are other releases). A bare ``<``, ``>`` or ``=`` is not one: ``p<0.050``, ``x=0.50`` are
# the floats a regeneration rewrites
_version_mark = lazy_pattern(r"(?:[=!<>~]=|\^|~>?|@|(?<![A-Za-z])[vV])$")


_EQUAL = jsonvalue.Comparison(True, 0.0)


def is_binary(blob: Blob) -> bool:
    return b"\0" in blob.head[:_BINARY_SNIFF]


def is_lfs_pointer(blob: Blob) -> bool:
    return blob.head.startswith(LFS_PREFIX) and blob.size < 1024


def strip_bom(data: bytes) -> bytes:
    return data[3:] if data.startswith(jsonvalue.UTF8_BOM) else data


def normalize_eol(data: bytes) -> bytes:
    if b"\r" not in data:  # most files: one scan, not two replaces that find nothing
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def strip_final_newlines(data: bytes) -> bytes:
    return data.rstrip(b"\r\n")


class _Side:
    """Lazily decoded views of one side's bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    @cached_property
    def text(self) -> str | None:
        try:
            return jsonvalue.decode_text(self.data)
        except UnicodeDecodeError:
            return None

    @cached_property
    def json(self) -> jsonvalue.JValue | jsonvalue.JsonInvalid:
        try:
            return jsonvalue.parse(self.data)
        except jsonvalue.JsonInvalid as exc:
            return exc

    @cached_property
    def jsonc(self) -> jsonc.Scan | None:
        """Comments and trailing commas found and blanked (None: not UTF-8)."""
        text = self.text
        return None if text is None else jsonc.scan(text)

    @cached_property
    def jsonc_value(self) -> jsonvalue.JValue | jsonvalue.JsonInvalid:
        found = self.jsonc
        if found is None:
            return jsonvalue.JsonInvalid("not UTF-8")
        if found.error:
            return jsonvalue.JsonInvalid(found.error)
        try:
            return jsonvalue.parse_text(found.text)
        except jsonvalue.JsonInvalid as exc:
            return exc

    @cached_property
    def tokens(self) -> list[str] | None:
        text = self.text
        # str.split() uses str.isspace(), the same definition the whitespace transform uses
        return None if text is None else text.split()


# JSONC: formatting between tokens (trailing commas included) is noise, whitespace inside a
# string literal is not; comments are content (README "Whitespace")
JSONC_RULES = whitespace.JSON_TEXT._replace(format="JSONC")


def whitespace_rules(path: str, settings: ClassifySettings) -> WhitespaceRules:
    """Which whitespace differences are noise for the artifact at ``path``."""
    rules = whitespace.rules_for(path, settings.whitespace_insignificant, settings.json_extensions)
    if rules is not whitespace.INSIGNIFICANT and is_jsonc_path(path, settings):
        return JSONC_RULES
    return rules


def tolerance(settings: ClassifySettings) -> tuple[float, float]:
    """The classification's ``(rel_tol, abs_tol)``, as :class:`Pair` takes it."""
    return settings.rel_tol, settings.abs_tol


def is_jsonc_path(path: str, settings: ClassifySettings) -> bool:
    """``path`` matches ``artifacts.jsonc``."""
    return bool(settings.jsonc) and matches(settings.jsonc, path)


class Pair:
    """Both sides of a modified artifact, shared by classification and every method.

    ``rules`` say which whitespace differences are noise for the artifact's kind of file (see
    :func:`whitespace_rules`): the classification and the ``whitespace`` and ``numeric``
    methods read them from here, so they always agree.
    """

    def __init__(
        self,
        before: _Side,
        after: _Side,
        artifact_type: ArtifactType,
        rules: WhitespaceRules,
        tolerance: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        self.before = before
        self.after = after
        self.artifact_type = artifact_type
        self.rules = rules
        # the classification's (rel_tol, abs_tol): its four comparisons take one walk
        self.tolerance = tolerance
        self._comparisons: dict[tuple[bool, str, float, float], jsonvalue.Comparison] = {}
        self._numbers: dict[tuple[float, float], tuple[bool, float]] = {}

    @classmethod
    def of(
        cls,
        before: bytes,
        after: bytes,
        artifact_type: ArtifactType,
        *,
        rules: WhitespaceRules,
        tolerance: tuple[float, float] = (0.0, 0.0),
    ) -> Pair:
        return cls(_Side(before), _Side(after), artifact_type, rules, tolerance)

    @cached_property
    def _keys(self) -> tuple[str | tuple[str, ...], str | tuple[str, ...]] | None:
        a, b = self.before.text, self.after.text
        if a is None or b is None:
            return None
        return whitespace.key(a, self.rules), whitespace.key(b, self.rules)

    def _json_keys(self) -> tuple[list[str], list[str]]:
        keys = self._keys
        assert keys is not None and isinstance(keys[0], tuple) and isinstance(keys[1], tuple)
        return list(keys[0]), list(keys[1])

    @cached_property
    def whitespace_noise(self) -> bool | None:
        """The sides are equal apart from whitespace ``rules`` call noise (None: not UTF-8).
        JSONC whose sides both parse: the same values, numbers as written, keys in the same
        order, and the same comments (trailing commas and whitespace are formatting)."""
        ta, tb = self.before.tokens, self.after.tokens
        if ta is None or tb is None:
            return None
        if self.is_jsonc and self.both_jsonc() is not None:
            same = self.compare(ordered=True, numbers="text")
            return same is not None and same.equal
        if ta != tb and not self.rules.outside_strings:
            return False  # the line rules only ever drop whitespace: equal keys, equal tokens
        keys = self._keys
        assert keys is not None
        return keys[0] == keys[1]

    @cached_property
    def whitespace_difference(self) -> str:
        """How the text sides differ in whitespace that is not noise (for details)."""
        a, b = self.before.text, self.after.text
        assert a is not None and b is not None
        where = whitespace.describe(a, b, self.rules)
        return f"{where}: whitespace is significant in {self.rules.format}"

    def text_numbers_close(self, settings: ClassifySettings) -> tuple[bool, float]:
        """The text sides are equal apart from numbers within tolerance and whitespace noise:
        the whitespace between the tokens must be the same once its noise is normalised, so
        a number's jitter never carries a re-indented line with it. Asked by the
        classification and the ``numeric`` method alike: computed once."""
        key = (settings.rel_tol, settings.abs_tol)
        if key not in self._numbers:
            self._numbers[key] = self._text_numbers_close(settings)
        return self._numbers[key]

    def _text_numbers_close(self, settings: ClassifySettings) -> tuple[bool, float]:
        ta, tb = self.before.tokens, self.after.tokens
        if ta is None or tb is None:
            return False, 0.0
        if self.whitespace_noise:
            return True, 0.0  # the same tokens with the same whitespace (noise aside)
        if ta == tb:
            return False, 0.0  # the same numbers: only significant whitespace differs
        if self.rules.outside_strings:
            ka, kb = self._json_keys()
            return text_numbers_close(ka, kb, settings)
        tokens = text_numbers_close(ta, tb, settings)
        if not tokens[0] or self.rules.tokens_only:
            return tokens  # too far apart already, or tokens are all that count
        keys = self._keys
        assert keys is not None and isinstance(keys[0], str) and isinstance(keys[1], str)
        pa, pb = _space_runs().split(keys[0]), _space_runs().split(keys[1])
        if len(pa) != len(pb) or pa[1::2] != pb[1::2] or (pa[0] == "") != (pb[0] == ""):
            return False, 0.0
        # the same whitespace at the same places: pa[0::2] is ta (with the same empty ends
        # as pb[0::2] is tb), so the tokens' verdict stands
        return tokens

    @property
    def is_json(self) -> bool:
        return self.artifact_type == "json"

    @property
    def is_jsonc(self) -> bool:
        return self.artifact_type == "jsonc"

    def both_json(self) -> tuple[jsonvalue.JValue, jsonvalue.JValue] | None:
        """Both sides' documents: JSON, or JSONC for a ``jsonc`` artifact."""
        if self.is_jsonc:
            return self.both_jsonc()
        a, b = self.before.json, self.after.json
        if isinstance(a, jsonvalue.JsonInvalid) or isinstance(b, jsonvalue.JsonInvalid):
            return None
        return a, b

    def both_jsonc(self) -> tuple[jsonvalue.JValue, jsonvalue.JValue] | None:
        a, b = self.before.jsonc_value, self.after.jsonc_value
        if isinstance(a, jsonvalue.JsonInvalid) or isinstance(b, jsonvalue.JsonInvalid):
            return None
        return a, b

    @cached_property
    def comment_change(self) -> str:
        """JSONC: how the comments differ ("" when they are the same)."""
        a, b = self.before.jsonc, self.after.jsonc
        if a is None or b is None or a.comments == b.comments:
            return ""
        for i, (x, y) in enumerate(zip(a.comments, b.comments)):
            if x != y:
                shown = jsonvalue.shorten_pair(x, y)
                return f"comment {i + 1} changed: {shown[0]} → {shown[1]}"
        n, m = len(a.comments), len(b.comments)
        return f"comments {'added' if m > n else 'removed'} ({n} → {m})"

    def share_document(self) -> None:
        """The sides differ only by a BOM, line endings or final newlines: bytes a JSON parser
        skips (a raw CR or LF cannot be inside a string), so a head whose base parses is the
        same document, parsed once. Only a base that parses lends its document: an invalid
        one keeps its own error."""
        if self.is_json and "json" not in self.after.__dict__:
            doc = self.before.json
            if not isinstance(doc, jsonvalue.JsonInvalid):
                self.after.__dict__["json"] = doc  # the cached_property's own slot

    @cached_property
    def same_after_eol(self) -> bool:
        """The sides are equal once CRLF and CR are LF (asked by the classification and the
        ``line_endings`` method alike)."""
        return normalize_eol(self.before.data) == normalize_eol(self.after.data)

    @cached_property
    def _same_text(self) -> bool:
        docs = self.both_json()
        return docs is not None and jsonvalue.deep_equal(docs[0], docs[1])

    def compare(
        self, *, ordered: bool, numbers: str, rel_tol: float = 0.0, abs_tol: float = 0.0
    ) -> jsonvalue.Comparison | None:
        """Structural comparison of the two JSON sides, each kind walked at most once: the
        classification and every method ask the same few questions of the same pair."""
        key = (ordered, numbers, rel_tol, abs_tol)
        cache = self._comparisons
        if key in cache:  # only sides that parse have an answer kept
            return cache[key]
        docs = self.both_json()
        if docs is None:
            return None
        if self.is_jsonc and self.comment_change:
            # a comment is content to the people who read the file: no method calls two
            # JSONC documents with different comments equivalent
            cache[key] = jsonvalue.Comparison(False, 0.0, "$", self.comment_change)
            return cache[key]
        if self._same_text:
            # equal in text form (same keys in the same order, same number literals): equal in
            # every mode, without a walk (most noise leaves the document itself unchanged)
            cache[key] = _EQUAL
            return _EQUAL
        rel, abs_ = self.tolerance
        walked = {
            (True, "text", 0.0, 0.0): "ordered_text",
            (True, "value", 0.0, 0.0): "ordered_value",
            (False, "value", 0.0, 0.0): "unordered_value",
            (False, "value", rel, abs_): "unordered_close",
        }
        if key in walked:
            # what the classification asks (and most methods after it): one walk for all
            modes = jsonvalue.compare_modes(docs[0], docs[1], rel_tol=rel, abs_tol=abs_)
            for mode, name in walked.items():
                cache[mode] = getattr(modes, name)
            return cache[key]
        if rel_tol or abs_tol:
            exact = self.compare(ordered=ordered, numbers=numbers)
            if exact is not None and exact.equal:
                cache[key] = exact  # a tolerance only relaxes: equal stays equal
                return exact
        result = jsonvalue.compare(
            docs[0], docs[1], ordered=ordered, numbers=numbers, rel_tol=rel_tol, abs_tol=abs_tol
        )
        cache[key] = result
        return result


def detect_artifact_type(
    path: str, before: Blob | None, after: Blob | None, settings: ClassifySettings
) -> ArtifactType:
    # called for every change: plain loops over the one or two sides, no generators
    sides: tuple[Blob, ...]
    if before is None:
        sides = () if after is None else (after,)
    else:
        sides = (before,) if after is None else (before, after)
    for b in sides:
        if b.mode == MODE_GITLINK:
            return "submodule"
    for b in sides:
        if b.mode == MODE_SYMLINK:
            return "symlink"
    for b in sides:
        if is_lfs_pointer(b):
            return "lfs_pointer"
    for b in sides:
        if is_binary(b):
            return "binary"
    if is_jsonc_path(path, settings):
        return "jsonc"
    ext = posixpath.splitext(path)[1].lower()
    if ext in settings.json_extensions:
        # a comment in the first bytes (outside strings): JSON with comments
        for b in sides:
            if jsonc.has_comment(b.head):
                return "jsonc"
        return "json"
    # where the extension gives no answer, sniff: both sides open an object or an array
    if ext in ("", ".txt", ".out", ".snap", ".golden", ".expected"):
        for b in sides:
            if not jsonvalue.looks_like_json(b.head):
                return "text"
        return "json"
    return "text"


# every character a number of ``_number_split`` is made of
_NUMBER_CHARS = frozenset("0123456789.+-eE")
# the characters a version mark reads before a number: the longest marks (``==``, ``~>``), or
# a ``v`` and the character its lookbehind reads
_MARK_CONTEXT = 2
_TRIM_FROM = 1024  # tokens shorter than this on both sides are split whole


def _differing_middle(x: str, y: str) -> tuple[str, str]:
    """``x`` and ``y`` without the start and the end they share, cut where no number runs
    across the cut: split on numbers, what is left gives the same verdict as the whole tokens
    (the parts cut off are the same text and the same numbers on both sides). A number keeps
    the text before it, a version mark's worth at least.

    A token may be a whole file (a minified line has no whitespace): split whole, a 40 MB
    line with a few numbers every 40 bytes made millions of parts, twice, 15 s and a
    gigabyte for a one-byte edit at its end."""
    if len(x) < _TRIM_FROM and len(y) < _TRIM_FROM:
        return x, y  # most tokens: the split is cheaper than the search
    start = jsonvalue.common_prefix(x, y)
    # x[:start] is y[:start]: a cut there, moved back past the number it may be in, then a
    # version mark's worth, then the number that may hold that
    while start and x[start - 1] in _NUMBER_CHARS:
        start -= 1
    start = max(0, start - _MARK_CONTEXT)
    while start and x[start - 1] in _NUMBER_CHARS:
        start -= 1
    end = jsonvalue.common_suffix(x, y, min(len(x), len(y)) - start)
    # x[len(x) - end:] is y[len(y) - end:]: a cut before the first character after any
    # number that may run across it
    while end and x[len(x) - end] in _NUMBER_CHARS:
        end -= 1
    return x[start : len(x) - end], y[start : len(y) - end]


def text_numbers_close(
    a: list[str], b: list[str], settings: ClassifySettings
) -> tuple[bool, float]:
    """Token lists equal except numeric tokens within tolerance."""
    if len(a) != len(b):
        return False, 0.0
    with localcontext(jsonvalue.NUMBERS):  # 1.5e999999999 must not raise decimal.Overflow
        return _text_numbers_close(a, b, settings)


def _text_numbers_close(
    a: list[str], b: list[str], settings: ClassifySettings
) -> tuple[bool, float]:
    max_rel = 0.0
    tol = Decimal(repr(settings.rel_tol))
    tol_abs = Decimal(repr(settings.abs_tol))
    number_split = _number_split().split
    for x, y in zip(a, b):
        if x == y:
            continue
        # a token holds numbers whatever separates them (``34.5,12.25;x=1e-3``): split on
        # every number; the text around them must be equal, the numbers close
        x, y = _differing_middle(x, y)
        px, py = number_split(x), number_split(y)
        if len(px) != len(py) or px[0::2] != py[0::2]:
            return False, max_rel
        for text, nx, ny in zip(px[0::2], px[1::2], py[1::2]):
            if nx == ny:
                continue
            if not any(c in nx + ny for c in ".eE"):
                return False, max_rel  # integers (counts, ids) must match exactly
            if nx.count(".") > 1 or ny.count(".") > 1:
                # a dotted run: split as floats, ``requests==2.10.0`` → ``2.1.0`` was 2.10 → 2.1
                # and .0 → .0, the same values, and a version change passed as noise
                return False, max_rel
            if _version_mark().search(text):
                return False, max_rel  # a version: ``numpy>=1.20`` → ``1.2`` is another one
            try:
                dx, dy = Decimal(nx), Decimal(ny)
            except InvalidOperation:  # pragma: no cover - the regex only admits decimals
                return False, max_rel
            scale = max(abs(dx), abs(dy))
            if scale:
                max_rel = max(max_rel, float(abs(dx - dy) / scale))
            if abs(dx - dy) > max(tol_abs, tol * scale):
                return False, max_rel
    return True, max_rel


def classify_pair(pair: Pair, settings: ClassifySettings) -> Classification:
    """Classify a modified artifact whose two sides are fully readable and differ."""
    art = pair.artifact_type
    a, b = pair.before.data, pair.after.data
    if strip_bom(a) == strip_bom(b):
        pair.share_document()
        return Classification(art, "bom", "byte order mark added or removed")
    if pair.same_after_eol:
        pair.share_document()
        return Classification(art, "line_endings", "only line endings differ (CRLF/CR/LF)")
    if strip_final_newlines(a) == strip_final_newlines(b):
        pair.share_document()
        return Classification(art, "trailing_newline", "only the final newline differs")
    if pair.is_json or pair.is_jsonc:
        kind = "JSONC" if pair.is_jsonc else "JSON"
        if pair.both_json() is not None:
            if pair.is_jsonc and pair.comment_change:
                return Classification(art, "content", pair.comment_change)
            return _classify_json(art, pair, settings)
        va = pair.before.jsonc_value if pair.is_jsonc else pair.before.json
        vb = pair.after.jsonc_value if pair.is_jsonc else pair.after.json
        bad_before = isinstance(va, jsonvalue.JsonInvalid)
        bad_after = isinstance(vb, jsonvalue.JsonInvalid)
        if bad_before != bad_after:
            side, why = ("head", vb) if bad_after else ("base", va)
            return Classification(art, "content", f"invalid {kind} on {side}: {why}")
        # neither side is JSON: the text ladder decides, and the finding is kept
        text = _classify_text(pair, settings)
        detail = f"invalid {kind} on both sides; {text.detail}"
        return Classification(art, text.mismatch_type, detail)
    return _classify_text(pair, settings)


def _classify_json(art: ArtifactType, pair: Pair, settings: ClassifySettings) -> Classification:
    same = pair.compare(ordered=True, numbers="text")
    assert same is not None
    if same.equal:
        if pair.is_jsonc:
            detail = "same document and comments, only formatting differs (trailing commas too)"
            return Classification(art, "whitespace", detail)
        return Classification(art, "whitespace", "same document, only formatting differs")
    unordered = pair.compare(ordered=False, numbers="value")
    assert unordered is not None
    if unordered.equal:
        ordered_values = pair.compare(ordered=True, numbers="value")
        if ordered_values is not None and ordered_values.equal:
            return Classification(
                art, "numeric_precision", "same numbers written differently (e.g. 1.0 and 1)"
            )
        return Classification(art, "json_ordering", f"keys reordered at {same.where}")
    close = pair.compare(
        ordered=False, numbers="value", rel_tol=settings.rel_tol, abs_tol=settings.abs_tol
    )
    if close is not None and close.equal:
        return Classification(
            art,
            "numeric_precision",
            f"numbers within tolerance (max relative difference {close.max_rel_diff:.3g})",
        )
    return Classification(art, "content", f"{unordered.reason} at {unordered.where}")


def _classify_text(pair: Pair, settings: ClassifySettings) -> Classification:
    art = pair.artifact_type
    ta, tb = pair.before.tokens, pair.after.tokens
    if ta is None or tb is None:
        side = "base" if ta is None else "head"
        if ta is None and tb is None:
            side = "both sides"
        return Classification(art, "content", f"not UTF-8 on {side}")
    if pair.whitespace_noise:
        fmt = pair.rules.format
        return Classification(art, "whitespace", f"only whitespace that is noise in {fmt} differs")
    if ta == tb:
        return Classification(art, "content", pair.whitespace_difference)
    close, max_rel = pair.text_numbers_close(settings)
    if close:
        return Classification(
            art,
            "numeric_precision",
            f"numbers within tolerance (max relative difference {max_rel:.3g})",
        )
    if not pair.rules.outside_strings and text_numbers_close(ta, tb, settings)[0]:
        fmt = pair.rules.format
        detail = f"numbers within tolerance, but whitespace that is significant in {fmt} changed"
        return Classification(art, "content", detail)
    return Classification(art, "content", "content differs")


def classify(
    change: Change,
    before: Blob | None,
    after: Blob | None,
    settings: ClassifySettings,
    *,
    artifact_type: ArtifactType | None = None,
    pair: Pair | None = None,
) -> Classification:
    """The one entry point: any change, any content (never raises on artifact content)."""
    art = artifact_type or detect_artifact_type(change.path, before, after, settings)
    if change.status == "added":
        return Classification(art, "added", "new artifact")
    if change.status == "deleted":
        return Classification(art, "deleted", "artifact removed")
    assert before is not None and after is not None
    if before.oid == after.oid:
        if change.status == "renamed":
            return Classification(art, "renamed", f"moved from {change.old_path}")
        return Classification(art, "mode", f"mode {change.before_mode} → {change.after_mode}")
    if art in ("submodule", "symlink", "lfs_pointer"):
        what = {
            "submodule": "submodule commit",
            "symlink": "link target",
            "lfs_pointer": "LFS object",
        }
        if before.mode != after.mode:
            return Classification(art, "content", f"type changed ({before.mode} → {after.mode})")
        return Classification(art, "content", f"{what[art]} changed")
    if before.data is None or after.data is None:
        why = "larger than max_file_size: compared by hash only"
        return Classification(art, "binary" if art == "binary" else "content", why)
    if art == "binary":
        return Classification(
            art, "binary", f"binary content changed ({before.size} → {after.size} bytes)"
        )
    if pair is None:
        rules = whitespace_rules(change.path, settings)
        pair = Pair.of(before.data, after.data, art, rules=rules, tolerance=tolerance(settings))
    return classify_pair(pair, settings)
