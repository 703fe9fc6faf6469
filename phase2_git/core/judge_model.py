"""The learned lexical judge behind ``cosine_similarity`` (backends ``tfidf`` and ``char_tfidf``).

Pure: features, fitting and scoring; no I/O. :mod:`phase2_git.app.judge_model` fits a model on
the TRAIN split of a labelled dataset during ``phase2 judge eval --calibrate`` and stores it
(:mod:`phase2_git.store.judge_model`); ``phase2 diff`` loads it and hands it to core through
:class:`phase2_git.core.settings.MethodSettings`.

Two kinds of model:

* ``char-tfidf``: the document frequencies of character 3–5-grams (lower-cased, whitespace
  collapsed) over the train split's texts; a pair's score is the cosine of its TF-IDF vectors
  (scikit-learn's smoothed IDF ``log((1 + n) / (1 + df)) + 1``). The baseline.
* ``lexical-logreg``: those document frequencies, the words' and the word stems', plus a
  logistic regression over lexical features of the pair (:data:`FEATURES`): the char-gram,
  word and capitalised-word TF-IDF cosines with the learned IDF; token, number and word-bigram
  Jaccard; how much of each side's IDF mass the other holds (words and stems, the smaller and
  the larger share); how much IDF mass and how many words and stems only one side has, and the
  weight of the heaviest two such stems; length ratio, word counts, punctuation that differs;
  whitespace-only, case-only, negation and number mismatches. The score is the regression's
  probability that the pair is equivalent. The feature set and ``C`` were chosen on the
  STS-B train and dev splits (bench/judge_quality.py), never on the split it reports.

Why the regression is fitted here and not with scikit-learn: phase2's hook and CLI must run
with the standard library alone (the extras are optional), and a model of two dozen features
fits by Newton's method in seconds of plain Python, even on thousands of pairs. The objective
is scikit-learn's (``C`` times the log loss plus half the squared weights, the intercept
unpenalised), and tests/test_judge_model.py checks the weights against
``sklearn.linear_model.LogisticRegression``.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CHAR_KIND = "char-tfidf"
LOGREG_KIND = "lexical-logreg"
KINDS = (CHAR_KIND, LOGREG_KIND)
MODEL_SCHEMA = "JudgeModel.v1"
NGRAM_MIN, NGRAM_MAX = 3, 5
# a model keeps the document frequencies of its most frequent terms only (a file the gate
# binds to and a repository commits); rarer terms weigh as if seen in no document
MAX_CHAR_TERMS = 40_000
MAX_WORD_TERMS = 10_000
MAX_STEM_TERMS = 10_000
# a side longer than this is not judged by a learned model (char-grams of a 20 MB file would
# stall the hook); judging a prefix could call two files equivalent for what it left out
MAX_CHARS = 200_000

FEATURES = (
    # shares in [0, 1], entered as log-odds (:data:`_SHARES`)
    "char_cosine",
    "word_cosine",
    "capitalised_cosine",
    "token_jaccard",
    "number_jaccard",
    "length_ratio",
    "punct_difference",
    "word_containment_min",
    "word_containment_max",
    "stem_containment_min",
    "stem_containment_max",
    "word_bigram_jaccard",
    # amounts, entered as log(1 + x)
    "unmatched_word_idf",
    "unmatched_words",
    "unmatched_stem_idf",
    "unmatched_stems",
    "shorter_words",
    "word_count_difference",
    # weights, entered as they are
    "heaviest_unmatched_stem",
    "second_unmatched_stem",
    # yes (1) or no (0)
    "whitespace_only",
    "case_only",
    "negation_mismatch",
    "number_mismatch",
)
# the shares (cosines, Jaccards, ratios) enter the regression as log-odds: a cosine of 0.99
# against 0.9 is a larger step towards "equivalent" than 0.5 against 0.41
_SHARES = 12
_AMOUNTS = 6
_LOGIT_CLAMP = 1e-4
# a word's stem is its first four characters: "plays", "played" and "playing" are one stem.
# Cruder than a suffix stripper, and language-agnostic; it did better than prefixes of 5 or 6
# and than stripping English suffixes in the benchmark's train/dev development
STEM = 4
# negation words (English; "n't" splits into "...n" and "t"): one side negated and the other
# not is a change of meaning that no overlap measure sees
_NEGATIONS = frozenset(
    {"not", "no", "never", "nothing", "nobody", "none", "nor", "neither", "nowhere"}
    | {"without", "cannot", "t"}
)

_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_SPACE = re.compile(r"\s+", re.UNICODE)
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?")
# capitalised words: names in prose, CamelCase identifiers in code
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z0-9_]+\b")
_TOKEN = re.compile(r"\w+", re.UNICODE)


# ==================================================================================== terms


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


def char_grams(text: str) -> Counter[str]:
    """Character 3–5-grams of ``text`` lower-cased with whitespace runs read as one space."""
    t = _normal(text)
    out: Counter[str] = Counter()
    for n in range(NGRAM_MIN, NGRAM_MAX + 1):
        out.update(t[i : i + n] for i in range(len(t) - n + 1))
    if not out and t:
        out[t] = 1  # shorter than 3 characters: the text itself is its one term
    return out


def words(text: str) -> Counter[str]:
    return Counter(w.lower() for w in _WORD.findall(text))


def tokens(text: str) -> list[str]:
    """The words of ``text`` (runs of word characters), lower-cased, in order."""
    return [w.lower() for w in _TOKEN.findall(text)]


def stems(text: str) -> Counter[str]:
    """The stems (:data:`STEM`-character prefixes) of the words of ``text``."""
    return Counter(w[:STEM] for w in tokens(text))


@dataclass(frozen=True)
class Idf:
    """Document frequencies learned from ``n_docs`` documents (the most frequent terms)."""

    n_docs: int
    df: Mapping[str, int]

    @classmethod
    def fit(cls, docs: Iterable[Counter[str]], max_terms: int) -> Idf:
        df: Counter[str] = Counter()
        n = 0
        for d in docs:
            n += 1
            df.update(d.keys())
        kept = sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))[:max_terms]
        return cls(n, dict(kept))

    def weight(self, term: str) -> float:
        return math.log((1 + self.n_docs) / (1 + self.df.get(term, 0))) + 1.0

    def to_json(self) -> dict[str, Any]:
        return {"n_docs": self.n_docs, "df": dict(sorted(self.df.items()))}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Idf:
        return cls(int(doc["n_docs"]), {str(k): int(v) for k, v in doc["df"].items()})


def tfidf_cosine_with(a: Counter[str], b: Counter[str], idf: Idf, *, sublinear: bool) -> float:
    """Cosine of two term counts weighted by ``idf`` (``1 + log tf`` when ``sublinear``)."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0

    def vec(c: Counter[str]) -> dict[str, float]:
        return {
            t: (1.0 + math.log(n) if sublinear else float(n)) * idf.weight(t) for t, n in c.items()
        }

    va, vb = vec(a), vec(b)
    small, large = (va, vb) if len(va) <= len(vb) else (vb, va)
    dot = sum(w * large[t] for t, w in small.items() if t in large)
    na = math.sqrt(sum(w * w for w in va.values()))
    nb = math.sqrt(sum(w * w for w in vb.values()))
    return max(0.0, min(1.0, dot / (na * nb)))


# ==================================================================================== features


def _jaccard(a: Iterable[Hashable], b: Iterable[Hashable]) -> float:
    sa, sb = set(a), set(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def _punct(text: str) -> Counter[str]:
    return Counter(ch for ch in text if not ch.isalnum() and not ch.isspace())


def capitalised(text: str) -> Counter[str]:
    """Capitalised words, lower-cased (weighed by the words' document frequencies)."""
    return Counter(w.lower() for w in _CAPITALISED.findall(text))


def _logit(p: float) -> float:
    p = min(max(p, _LOGIT_CLAMP), 1.0 - _LOGIT_CLAMP)
    return math.log(p / (1.0 - p))


def _containment(a: set[str], b: set[str], idf: Idf) -> float:
    """The share of ``a``'s IDF mass (its distinct terms) that ``b`` holds too."""
    if not a:
        return 1.0
    total = sum(idf.weight(t) for t in a)
    return sum(idf.weight(t) for t in a if t in b) / total


def features(a: str, b: str, char_idf: Idf, word_idf: Idf, stem_idf: Idf) -> list[float]:
    """The values of :data:`FEATURES` for the pair ``(a, b)``, in that order (the shares as
    log-odds, the amounts as ``log(1 + x)``). Every one is symmetric in ``a`` and ``b``."""
    pa, pb = _punct(a), _punct(b)
    punct_total = sum((pa + pb).values())
    punct_diff = sum(((pa - pb) + (pb - pa)).values()) / punct_total if punct_total else 0.0
    la, lb = len(a), len(b)
    ta, tb = tokens(a), tokens(b)
    wa, wb = set(ta), set(tb)
    sa, sb = {w[:STEM] for w in wa}, {w[:STEM] for w in wb}
    word_in = (_containment(wa, wb, word_idf), _containment(wb, wa, word_idf))
    stem_in = (_containment(sa, sb, stem_idf), _containment(sb, sa, stem_idf))
    unmatched_stems = sorted((stem_idf.weight(t) for t in sa ^ sb), reverse=True)
    heaviest = [*unmatched_stems[:2], 0.0, 0.0][:2]
    na, nb = set(_NUMBER.findall(a)), set(_NUMBER.findall(b))
    shares = [
        tfidf_cosine_with(char_grams(a), char_grams(b), char_idf, sublinear=False),
        tfidf_cosine_with(words(a), words(b), word_idf, sublinear=True),
        tfidf_cosine_with(capitalised(a), capitalised(b), word_idf, sublinear=True),
        _jaccard(_WORD.findall(a), _WORD.findall(b)),
        _jaccard(na, nb),
        min(la, lb) / max(la, lb) if max(la, lb) else 1.0,
        punct_diff,
        min(word_in),
        max(word_in),
        min(stem_in),
        max(stem_in),
        _jaccard(itertools.pairwise(ta), itertools.pairwise(tb)),
    ]
    amounts = [
        sum(word_idf.weight(t) for t in wa ^ wb),
        len(wa ^ wb),
        sum(unmatched_stems),
        len(unmatched_stems),
        min(len(ta), len(tb)),
        abs(len(ta) - len(tb)),
    ]
    negated_a = sum(1 for w in ta if w in _NEGATIONS) % 2
    negated_b = sum(1 for w in tb if w in _NEGATIONS) % 2
    return [
        *(_logit(v) for v in shares),
        *(math.log1p(v) for v in amounts),
        *heaviest,
        1.0 if a.split() == b.split() else 0.0,
        1.0 if _normal(a) == _normal(b) else 0.0,
        1.0 if negated_a != negated_b else 0.0,
        1.0 if na != nb else 0.0,
    ]


# ==================================================================================== logistic


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _solve(m: list[list[float]], v: list[float]) -> list[float]:
    """``m x = v`` by Gaussian elimination with partial pivoting (m is small and positive
    definite here: a Hessian plus the identity)."""
    n = len(v)
    a = [[*row, v[i]] for i, row in enumerate(m)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[piv] = a[piv], a[col]
        p = a[col][col]
        for r in range(col + 1, n):
            f = a[r][col] / p
            if f:
                for k in range(col, n + 1):
                    a[r][k] -= f * a[col][k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (a[r][n] - sum(a[r][k] * x[k] for k in range(r + 1, n))) / a[r][r]
    return x


def fit_logistic(
    x: Sequence[Sequence[float]],
    y: Sequence[bool],
    *,
    c: float = 1.0,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> tuple[list[float], float]:
    """``(weights, intercept)`` minimising ``c * logloss + |w|^2 / 2`` (scikit-learn's L2
    objective, intercept unpenalised) by Newton's method. Needs both classes in ``y``."""
    if not x or all(y) or not any(y):
        raise ValueError("logistic regression needs items of both classes")
    d = len(x[0])
    beta = [0.0] * (d + 1)  # weights, then the intercept
    rows = [[*r, 1.0] for r in x]
    for _ in range(max_iter):
        grad = [beta[j] if j < d else 0.0 for j in range(d + 1)]
        hess = [[(1.0 if (i == j and i < d) else 0.0) for j in range(d + 1)] for i in range(d + 1)]
        for r, label in zip(rows, y):
            p = _sigmoid(sum(b * v for b, v in zip(beta, r)))
            g = c * (p - (1.0 if label else 0.0))
            w = c * p * (1.0 - p)
            for i in range(d + 1):
                grad[i] += g * r[i]
                if w:
                    wi = w * r[i]
                    hi = hess[i]
                    for j in range(i, d + 1):
                        hi[j] += wi * r[j]
        for i in range(d + 1):
            for j in range(i):
                hess[i][j] = hess[j][i]
        step = _solve(hess, grad)
        beta = [b - s for b, s in zip(beta, step)]
        if max(abs(s) for s in step) < tol:
            break
    return beta[:d], beta[d]


# ==================================================================================== the model


@dataclass(frozen=True)
class JudgeModel:
    """A learned ``cosine_similarity`` model: ``char-tfidf`` or ``lexical-logreg``."""

    kind: str
    char_idf: Idf
    word_idf: Idf | None = None
    mean: tuple[float, ...] = ()
    scale: tuple[float, ...] = ()
    weights: tuple[float, ...] = ()
    intercept: float = 0.0
    c: float = 1.0
    trained: Mapping[str, Any] = field(default_factory=dict)  # what it learned from
    stem_idf: Idf | None = None  # lexical-logreg: the stems' document frequencies

    def score(self, a: str, b: str) -> float:
        if self.kind == CHAR_KIND:
            return tfidf_cosine_with(char_grams(a), char_grams(b), self.char_idf, sublinear=False)
        assert self.word_idf is not None and self.stem_idf is not None
        row = features(a, b, self.char_idf, self.word_idf, self.stem_idf)
        z = standardise(row, self.mean, self.scale)
        return _sigmoid(sum(w * v for w, v in zip(self.weights, z)) + self.intercept)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "schema": MODEL_SCHEMA,
            "method": "cosine_similarity",
            "kind": self.kind,
            "ngram_range": [NGRAM_MIN, NGRAM_MAX],
            "trained": dict(self.trained),
            "char_idf": self.char_idf.to_json(),
        }
        if self.kind == LOGREG_KIND:
            assert self.word_idf is not None and self.stem_idf is not None
            doc["word_idf"] = self.word_idf.to_json()
            doc["stem_idf"] = self.stem_idf.to_json()
            doc["logistic"] = {
                "features": list(FEATURES),
                "mean": list(self.mean),
                "scale": list(self.scale),
                "weights": list(self.weights),
                "intercept": self.intercept,
                "C": self.c,
            }
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> JudgeModel:
        """From a schema-valid document; a model of other features is a ``ValueError``."""
        kind = str(doc["kind"])
        char_idf = Idf.from_json(doc["char_idf"])
        if kind == CHAR_KIND:
            return cls(kind, char_idf, trained=dict(doc.get("trained", {})))
        lr = doc["logistic"]
        if list(lr["features"]) != list(FEATURES):
            raise ValueError(
                f"features {lr['features']} are not this version's ({', '.join(FEATURES)})"
            )
        if "stem_idf" not in doc:
            raise ValueError("stem_idf is missing (this version's features need it)")
        return cls(
            kind,
            char_idf,
            Idf.from_json(doc["word_idf"]),
            tuple(float(v) for v in lr["mean"]),
            tuple(float(v) for v in lr["scale"]),
            tuple(float(v) for v in lr["weights"]),
            float(lr["intercept"]),
            float(lr["C"]),
            dict(doc.get("trained", {})),
            Idf.from_json(doc["stem_idf"]),
        )


def standardise(row: Sequence[float], mean: Sequence[float], scale: Sequence[float]) -> list[float]:
    return [(v - m) / s for v, m, s in zip(row, mean, scale)]


def column_stats(rows: Sequence[Sequence[float]]) -> tuple[list[float], list[float]]:
    """Per-column mean and population standard deviation (1.0 for a constant column)."""
    n = len(rows)
    mean = [sum(col) / n for col in zip(*rows)]
    scale = []
    for col, m in zip(zip(*rows), mean):
        sd = math.sqrt(sum((v - m) ** 2 for v in col) / n)
        scale.append(sd if sd > 1e-12 else 1.0)
    return mean, scale


def fit_model(
    kind: str,
    pairs: Sequence[tuple[str, str]],
    labels: Sequence[bool],
    *,
    c: float = 1.0,
    trained: Mapping[str, Any] | None = None,
) -> JudgeModel:
    """Learn a model from TRAIN pairs only: the IDF from their texts (each side one document,
    each distinct text once), the regression (``lexical-logreg``) from their labels."""
    texts = list(dict.fromkeys(t for p in pairs for t in p))
    char_idf = Idf.fit((char_grams(t) for t in texts), MAX_CHAR_TERMS)
    info = dict(trained or {})
    info.update({"pairs": len(pairs), "documents": len(texts)})
    if kind == CHAR_KIND:
        return JudgeModel(kind, char_idf, trained=info)
    if kind != LOGREG_KIND:
        raise ValueError(f"unknown model kind {kind!r}")
    word_idf = Idf.fit((words(t) for t in texts), MAX_WORD_TERMS)
    stem_idf = Idf.fit((stems(t) for t in texts), MAX_STEM_TERMS)
    rows = [features(a, b, char_idf, word_idf, stem_idf) for a, b in pairs]
    mean, scale = column_stats(rows)
    z = [standardise(r, mean, scale) for r in rows]
    weights, intercept = fit_logistic(z, labels, c=c)
    return JudgeModel(
        kind,
        char_idf,
        word_idf,
        tuple(mean),
        tuple(scale),
        tuple(weights),
        intercept,
        c,
        info,
        stem_idf,
    )
