"""Equivalence methods (judges): a registry of named, pure functions returning a verdict.

Deterministic methods *prove* equivalence and may justify a safe plan; statistical ones
(``cosine_similarity``) give a score and stay shadow verdicts until their calibration gate
is GO (docs/architecture.md, Auto-apply policy).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from phase2_git.core.classify import Pair
from phase2_git.core.model import Blob, Verdict
from phase2_git.core.patterns import lazy_pattern
from phase2_git.core.settings import ClassifySettings, MethodSettings
from phase2_git.errors import UsageError


class MethodInput:
    # a plain class, not a NamedTuple: never used as a tuple, and ~10x cheaper to define
    __slots__ = ("after", "before", "classify", "methods", "pair")

    def __init__(
        self,
        before: Blob,
        after: Blob,
        pair: Pair | None,
        classify: ClassifySettings,
        methods: MethodSettings,
    ) -> None:
        self.before = before
        self.after = after
        # None when the content is not comparable as text (binary, symlink, too large …)
        self.pair = pair
        self.classify = classify
        self.methods = methods


MethodFn = Callable[[MethodInput], Verdict]


class Method:
    # a plain class, not a NamedTuple: never used as a tuple, and ~10x cheaper to define
    __slots__ = ("description", "deterministic", "fn", "name")

    def __init__(self, name: str, description: str, deterministic: bool, fn: MethodFn) -> None:
        self.name = name
        self.description = description
        self.deterministic = deterministic
        self.fn = fn


def _na(name: str, why: str) -> Verdict:
    return Verdict(name, False, 0.0, f"not applicable: {why}")


# the verdicts that thousands of mismatches share: one object each (a run holds every
# mismatch's verdicts until its report is written, and makes them by the thousand)
_IDENTICAL = Verdict("exact", True, 1.0, "identical bytes")
_BYTES_DIFFER = Verdict("exact", False, 0.0, "bytes differ")
_SAME_TOKENS = Verdict("whitespace", True, 1.0, "same JSON tokens")
_EOL_SAME = Verdict("line_endings", True, 1.0, "equal after CRLF/CR → LF")
_EOL_DIFFER = Verdict("line_endings", False, 0.0, "differs beyond line endings")
_SAME_CANONICAL = Verdict("canonical_json", True, 1.0, "same canonical JSON")
SHARED_VERDICTS = (_IDENTICAL, _BYTES_DIFFER, _SAME_TOKENS, _EOL_SAME, _EOL_DIFFER, _SAME_CANONICAL)


def _exact(m: MethodInput) -> Verdict:
    return _IDENTICAL if m.before.oid == m.after.oid else _BYTES_DIFFER


def _whitespace(m: MethodInput) -> Verdict:
    if m.pair is None:
        return _na("whitespace", "not text")
    if m.pair.is_json:
        cmp = m.pair.compare(ordered=True, numbers="text")
        if cmp is not None:
            if cmp.equal:
                return _SAME_TOKENS
            return Verdict("whitespace", False, 0.0, f"tokens differ at {cmp.where}")
    same = m.pair.whitespace_noise
    if same is None:
        return _na("whitespace", "not UTF-8")
    fmt = m.pair.rules.format
    if same:
        return Verdict("whitespace", True, 1.0, f"only whitespace that is noise in {fmt} differs")
    if m.pair.before.tokens == m.pair.after.tokens:
        return Verdict("whitespace", False, 0.0, m.pair.whitespace_difference)
    return Verdict("whitespace", False, 0.0, "non-whitespace text differs")


def _line_endings(m: MethodInput) -> Verdict:
    if m.pair is None:
        return _na("line_endings", "not text")
    return _EOL_SAME if m.pair.same_after_eol else _EOL_DIFFER


def _canonical_json(m: MethodInput) -> Verdict:
    if m.pair is None:
        return _na("canonical_json", "not text")
    cmp = m.pair.compare(ordered=False, numbers="value")
    if cmp is None:
        return _na("canonical_json", "not valid JSON on both sides")
    if cmp.equal:
        return _SAME_CANONICAL
    return Verdict("canonical_json", False, 0.0, f"{cmp.reason} at {cmp.where}")


def _numeric(m: MethodInput) -> Verdict:
    if m.pair is None:
        return _na("numeric", "not text")
    rel, abs_ = m.classify.rel_tol, m.classify.abs_tol
    cmp = m.pair.compare(ordered=False, numbers="value", rel_tol=rel, abs_tol=abs_)
    if cmp is not None:
        if cmp.equal:
            return Verdict("numeric", True, 1.0, f"max relative difference {cmp.max_rel_diff:.3g}")
        return Verdict("numeric", False, 0.0, f"{cmp.reason} at {cmp.where}")
    if m.pair.whitespace_noise is None:
        return _na("numeric", "not UTF-8")
    close, max_rel = m.pair.text_numbers_close(m.classify)
    if close:
        return Verdict("numeric", True, 1.0, f"max relative difference {max_rel:.3g}")
    return Verdict("numeric", False, 0.0, "differs beyond numeric tolerance")


# compiled on first use: most runs never compute this method
_word = lazy_pattern(r"\w+|[^\w\s]", re.UNICODE)


def tfidf_cosine(a: str, b: str) -> float:
    """Cosine of smoothed TF-IDF vectors fitted on the pair itself.

    IDF over the two documents (``log((1 + 2) / (1 + df)) + 1``, scikit-learn's smoothing)
    weighs tokens present on one side only above shared ones. Fitting on the pair keeps a
    verdict independent of whatever else is in the run (so shards agree with a full run).
    """
    ta, tb = Counter(_word().findall(a)), Counter(_word().findall(b))
    if not ta and not tb:
        return 1.0
    if not ta or not tb:
        return 0.0
    idf_shared = 1.0
    idf_single = math.log(3 / 2) + 1.0

    def weight(tok: str) -> float:
        return idf_shared if (tok in ta and tok in tb) else idf_single

    dot = sum(ta[t] * tb[t] for t in ta.keys() & tb.keys())  # shared tokens: idf == 1
    na = math.sqrt(sum((c * weight(t)) ** 2 for t, c in ta.items()))
    nb = math.sqrt(sum((c * weight(t)) ** 2 for t, c in tb.items()))
    return max(0.0, min(1.0, dot / (na * nb)))


def _cosine(m: MethodInput) -> Verdict:
    if m.pair is None:
        return _na("cosine_similarity", "not text")
    ta, tb = m.pair.before.text, m.pair.after.text
    if ta is None or tb is None:
        return _na("cosine_similarity", "not UTF-8")
    threshold = m.methods.cosine_threshold
    model, backend = m.methods.cosine_model, m.methods.cosine_backend
    if model is not None or backend == "char_tfidf":
        # the learned judges (core/judge_model.py): imported only when one is configured
        from phase2_git.core import judge_model as jm

        if max(len(ta), len(tb)) > jm.MAX_CHARS:
            return _na("cosine_similarity", f"a side over the {jm.MAX_CHARS} characters it reads")
        if model is None:  # char_tfidf not learned yet: document frequencies of the pair
            ca, cb = jm.char_grams(ta), jm.char_grams(tb)
            idf = jm.Idf.fit((ca, cb), jm.MAX_CHAR_TERMS)
            score, what = jm.tfidf_cosine_with(ca, cb, idf, sublinear=False), "char cosine"
        else:
            score, what = model.score(ta, tb), f"{model.kind} score"
    else:
        score, what = tfidf_cosine(ta, tb), "cosine"
    return Verdict(
        "cosine_similarity",
        score >= threshold,
        score,
        f"{what} {score:.4f} (threshold {threshold})",
    )


def _llm_rubric(m: MethodInput) -> Verdict:
    # The real verdict needs an external call, which core may not make: the app layer asks
    # phase2_git.judges.llm_rubric and puts its verdict in place of this placeholder, which
    # is never "equivalent" and so can never justify a plan by itself.
    return _na("llm_rubric", "external judge, asked by the app layer ([judge] in config)")


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("exact", "byte-for-byte identical (same blob id)", True, _exact),
        Method(
            "whitespace",
            "equal apart from whitespace that is noise for the file's format (README: "
            "Whitespace; JSON: the same tokens in the same order)",
            True,
            _whitespace,
        ),
        Method("line_endings", "equal once CRLF and CR are read as LF", True, _line_endings),
        Method(
            "canonical_json",
            "the same JSON document: key order and formatting ignored, numbers compared "
            "exactly as JSON numbers, true never equal to 1, duplicate keys never reordered",
            True,
            _canonical_json,
        ),
        Method(
            "numeric",
            "equal apart from numbers within the relative tolerance (JSON, or text tokens "
            "with the same whitespace between them)",
            True,
            _numeric,
        ),
        Method(
            "cosine_similarity",
            "statistical: TF-IDF cosine of the two sides ≥ threshold, or the lexical model "
            "`judge eval --calibrate` learned (shadow until gated)",
            False,
            _cosine,
        ),
        Method(
            "llm_rubric",
            "statistical: an external LLM judges the pair under a rubric ([judge] in config; "
            "shadow until gated)",
            False,
            _llm_rubric,
        ),
    )
}


def parse_methods(spec: str | Iterable[str]) -> tuple[str, ...]:
    """``"exact,canonical-json"``, ``"exact canonical_json"`` or a list → validated names.

    Raises :class:`UsageError` naming the unknown method and listing the valid ones.
    """
    raw = [spec] if isinstance(spec, str) else list(spec)
    names: list[str] = []
    for item in raw:
        for token in re.split(r"[,\s]+", item.strip()):
            if not token:
                continue
            name = token.strip().lower().replace("-", "_")
            if name not in METHODS:
                valid = ", ".join(METHODS)
                from phase2_git.core.sanitize import sanitize_path  # errors only: off the hook

                shown = sanitize_path(token)  # a config value: escape, never print raw
                raise UsageError(f"unknown method '{shown}' (valid methods: {valid})")
            if name not in names:
                names.append(name)
    if not names:
        raise UsageError(f"no method given (valid methods: {', '.join(METHODS)})")
    return tuple(names)


def run_methods(names: Sequence[str], m: MethodInput) -> tuple[Verdict, ...]:
    return tuple(METHODS[n].fn(m) for n in names)


def is_deterministic(name: str) -> bool:
    return METHODS[name].deterministic
