"""Tests for phase2_git.core.stats: kappa, its CIs, rates, Clopper-Pearson, threshold, split.

Reference implementations (scikit-learn, statsmodels, scipy) are test-only dependencies, the
``oracles`` extra; the tests that need them skip with a reason when they are absent (and fail
under PHASE2_TEST_STRICT=1, where CI installs them).
"""

from __future__ import annotations

import hashlib
import math
import random
import sys
import warnings
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phase2_git.core import stats
from phase2_git.core.stats import (
    Confusion,
    best_threshold,
    clopper_pearson_upper,
    cohen_kappa,
    fp_rate,
    kappa_ci_asymptotic,
    kappa_ci_bootstrap,
    precision,
    recall,
    stratified_split,
)
from tests.conftest import growth, require_module

counts = st.integers(min_value=0, max_value=60)
tables = st.builds(Confusion, tp=counts, fp=counts, tn=counts, fn=counts)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def pairs_of(c: Confusion) -> tuple[list[bool], list[bool]]:
    """Labels and predictions (True = equivalent) that produce exactly ``c``."""
    labels = [True] * c.tp + [False] * c.fp + [False] * c.tn + [True] * c.fn
    predicted = [True] * c.tp + [True] * c.fp + [False] * c.tn + [False] * c.fn
    return labels, predicted


def sample_data(n: int, agreement: float, seed: int = 1) -> tuple[list[bool], list[bool]]:
    rng = random.Random(seed)
    labels = [rng.random() < 0.6 for _ in range(n)]
    predicted = [label if rng.random() < agreement else not label for label in labels]
    return labels, predicted


# ------------------------------------------------------------------------------------------
# Confusion


def test_from_pairs_counts_each_cell() -> None:
    labels = [True, True, False, False, True, False, False]
    predicted = [True, False, True, False, True, False, False]
    c = Confusion.from_pairs(labels, predicted)
    assert c == Confusion(tp=2, fp=1, tn=3, fn=1)
    assert c.n == 7
    assert c.to_json() == {"tp": 2, "fp": 1, "tn": 3, "fn": 1}


def test_from_pairs_empty_and_length_mismatch() -> None:
    assert Confusion.from_pairs([], []) == Confusion(0, 0, 0, 0)
    with pytest.raises(ValueError, match="length"):
        Confusion.from_pairs([True], [])


@given(tables)
def test_from_pairs_round_trips(c: Confusion) -> None:
    assert Confusion.from_pairs(*pairs_of(c)) == c


def test_confusion_is_frozen_and_validated() -> None:
    c = Confusion(1, 2, 3, 4)
    with pytest.raises(AttributeError):
        c.tp = 5  # type: ignore[misc]
    with pytest.raises(ValueError, match="non-negative"):
        Confusion(-1, 0, 0, 0)
    with pytest.raises(ValueError, match="int"):
        Confusion(1.5, 0, 0, 0)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# Kappa: table-driven, degenerate cases included

KAPPA_CASES = [
    pytest.param(Confusion(0, 0, 0, 0), None, id="empty"),
    pytest.param(Confusion(7, 0, 0, 0), None, id="all-equivalent-both-raters"),
    pytest.param(Confusion(0, 0, 7, 0), None, id="all-different-both-raters"),
    pytest.param(Confusion(5, 0, 5, 0), 1.0, id="perfect-agreement"),
    pytest.param(Confusion(1, 0, 9, 0), 1.0, id="perfect-agreement-imbalanced"),
    pytest.param(Confusion(0, 5, 0, 5), -1.0, id="perfect-disagreement-balanced"),
    pytest.param(Confusion(0, 0, 0, 6), 0.0, id="labels-one-class-preds-other"),
    pytest.param(Confusion(4, 6, 0, 0), 0.0, id="judge-always-equivalent"),
    pytest.param(Confusion(20, 5, 15, 10), 0.4, id="textbook"),
    pytest.param(Confusion(1, 0, 0, 0), None, id="single-item"),
]


@pytest.mark.parametrize(("c", "expected"), KAPPA_CASES)
def test_cohen_kappa_table(c: Confusion, expected: float | None) -> None:
    got = cohen_kappa(c)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-12)


@given(tables)
def test_kappa_symmetric_in_raters_and_bounded(c: Confusion) -> None:
    swapped = Confusion(tp=c.tp, fp=c.fn, tn=c.tn, fn=c.fp)
    k = cohen_kappa(c)
    assert k == cohen_kappa(swapped)
    if k is not None:
        assert -1.0 <= k <= 1.0


@pytest.mark.oracles
@PROPERTY
@given(tables)
def test_kappa_matches_sklearn(c: Confusion) -> None:
    metrics = require_module("sklearn.metrics", "scikit-learn is the kappa reference")
    labels, predicted = pairs_of(c)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = float(metrics.cohen_kappa_score(labels, predicted)) if c.n else math.nan
    ours = cohen_kappa(c)
    if math.isfinite(reference):
        assert ours is not None
        assert abs(ours - reference) <= 1e-9
    else:
        assert ours is None


# ------------------------------------------------------------------------------------------
# Asymptotic CI


def _statsmodels_ci(c: Confusion) -> tuple[float, float, float]:
    inter_rater = require_module(
        "statsmodels.stats.inter_rater", "statsmodels is the asymptotic-CI reference"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = inter_rater.cohens_kappa([[c.tn, c.fp], [c.fn, c.tp]])
        return float(res.kappa_low), float(res.kappa_upp), float(res.std_kappa)


@pytest.mark.oracles
@PROPERTY
@given(tables.filter(lambda c: cohen_kappa(c) is not None))
def test_asymptotic_ci_matches_statsmodels(c: Confusion) -> None:
    low, upp, _ = _statsmodels_ci(c)
    ours = kappa_ci_asymptotic(c)
    assert ours is not None
    if math.isfinite(low):
        # statsmodels does not clip to kappa's range [-1, 1]; ours does
        assert abs(ours[0] - max(low, -1.0)) <= 1e-6
        assert abs(ours[1] - min(upp, 1.0)) <= 1e-6
    else:
        # statsmodels takes sqrt of a variance rounded just below 0 (true variance 0: perfect
        # agreement, or one rater constant); ours is then the degenerate interval at kappa
        k = cohen_kappa(c)
        assert k is not None
        assert ours == pytest.approx((k, k), abs=1e-6)


@pytest.mark.oracles
@pytest.mark.parametrize("alpha", [0.01, 0.1, 0.2])
def test_asymptotic_ci_other_alpha_matches_statsmodels_std(alpha: float) -> None:
    scipy_stats = require_module("scipy.stats", "scipy gives the normal quantile")
    c = Confusion(tp=40, fp=7, tn=30, fn=11)
    _, _, std = _statsmodels_ci(c)
    kappa = cohen_kappa(c)
    assert kappa is not None
    delta = float(scipy_stats.norm.isf(alpha / 2)) * std
    ours = kappa_ci_asymptotic(c, alpha=alpha)
    assert ours == pytest.approx((kappa - delta, kappa + delta), abs=1e-9)


@pytest.mark.parametrize(
    "c", [Confusion(0, 0, 0, 0), Confusion(9, 0, 0, 0), Confusion(0, 0, 3, 0)], ids=str
)
def test_asymptotic_ci_undefined(c: Confusion) -> None:
    assert kappa_ci_asymptotic(c) is None


def test_asymptotic_ci_perfect_agreement_is_a_point() -> None:
    assert kappa_ci_asymptotic(Confusion(5, 0, 5, 0)) == pytest.approx((1.0, 1.0))


@given(tables.filter(lambda c: cohen_kappa(c) is not None))
def test_asymptotic_ci_contains_estimate(c: Confusion) -> None:
    ci = kappa_ci_asymptotic(c)
    kappa = cohen_kappa(c)
    assert ci is not None and kappa is not None
    assert ci[0] <= kappa <= ci[1]


@pytest.mark.parametrize(
    ("c", "expected"),
    [
        # the normal approximation alone gives [0.354, 1.184] and [-1.229, -0.104]
        (Confusion(5, 0, 3, 1), (0.3543088565317957, 1.0)),
        (Confusion(1, 2, 0, 3), (-1.0, -0.10437719471926499)),
    ],
    ids=str,
)
def test_asymptotic_ci_is_clipped_to_kappas_range(
    c: Confusion, expected: tuple[float, float]
) -> None:
    assert kappa_ci_asymptotic(c) == pytest.approx(expected, abs=1e-12)


@PROPERTY
@given(
    tables,
    st.sampled_from([0.01, 0.05, 0.2, 0.5]),
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=0, max_value=2**32),
)
def test_every_kappa_ci_stays_in_range_and_holds_the_estimate(
    c: Confusion, alpha: float, resamples: int, seed: int
) -> None:
    """Both CI methods, any table (one class, empty, perfect, reversed), any alpha, as few as
    one resample: the bounds lie in [-1, 1], in order, around the estimate when it is defined."""
    kappa = cohen_kappa(c)
    labels, predicted = pairs_of(c)
    cis = {
        "asymptotic": kappa_ci_asymptotic(c, alpha=alpha),
        "bootstrap": kappa_ci_bootstrap(
            labels, predicted, resamples=resamples, seed=seed, alpha=alpha
        ),
    }
    if kappa is None:
        assert cis["asymptotic"] is None
    for name, ci in cis.items():
        if ci is None:
            continue
        low, high = ci
        assert -1.0 <= low <= high <= 1.0, (name, ci)
        if kappa is not None:
            assert low <= kappa <= high, (name, ci, kappa)


def test_bootstrap_of_one_resample_still_holds_the_estimate() -> None:
    # one resample gives one point, rarely the estimate: the interval widens to it
    labels, predicted = sample_data(40, 0.7, seed=5)
    kappa = cohen_kappa(Confusion.from_pairs(labels, predicted))
    ci = kappa_ci_bootstrap(labels, predicted, resamples=1, seed=3)
    assert kappa is not None and ci is not None
    assert ci[0] <= kappa <= ci[1] and ci[0] < ci[1]


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1, 1.5])
def test_ci_rejects_bad_alpha(alpha: float) -> None:
    with pytest.raises(ValueError, match="alpha"):
        kappa_ci_asymptotic(Confusion(5, 1, 5, 1), alpha=alpha)
    with pytest.raises(ValueError, match="alpha"):
        kappa_ci_bootstrap([True, False], [True, False], alpha=alpha)


# ------------------------------------------------------------------------------------------
# Bootstrap CI


def test_bootstrap_is_deterministic_for_a_seed() -> None:
    labels, predicted = sample_data(300, 0.8)
    first = kappa_ci_bootstrap(labels, predicted, seed=7)
    assert first is not None
    assert kappa_ci_bootstrap(labels, predicted, seed=7) == first
    assert kappa_ci_bootstrap(list(labels), list(predicted), seed=7) == first


def test_bootstrap_pinned_value() -> None:
    # Pins the sampler: the same seed must give the same interval on every Python >= 3.10.
    labels, predicted = sample_data(10_000, 0.85)
    assert kappa_ci_bootstrap(labels, predicted) == (0.6768569821668942, 0.7056530930023488)


def test_bootstrap_differs_across_seeds() -> None:
    labels, predicted = sample_data(300, 0.8)
    assert kappa_ci_bootstrap(labels, predicted, seed=1) != kappa_ci_bootstrap(
        labels, predicted, seed=2
    )


@pytest.mark.parametrize(("n", "agreement"), [(50, 0.9), (200, 0.75), (1000, 0.6), (5000, 0.95)])
def test_bootstrap_ci_contains_point_estimate(n: int, agreement: float) -> None:
    labels, predicted = sample_data(n, agreement, seed=n)
    kappa = cohen_kappa(Confusion.from_pairs(labels, predicted))
    ci = kappa_ci_bootstrap(labels, predicted)
    assert kappa is not None and ci is not None
    assert ci[0] < kappa < ci[1]
    assert -1.0 <= ci[0] <= ci[1] <= 1.0


def test_bootstrap_close_to_asymptotic_for_large_n() -> None:
    labels, predicted = sample_data(4000, 0.8, seed=3)
    boot = kappa_ci_bootstrap(labels, predicted)
    asym = kappa_ci_asymptotic(Confusion.from_pairs(labels, predicted))
    assert boot is not None and asym is not None
    assert boot[0] == pytest.approx(asym[0], abs=0.01)
    assert boot[1] == pytest.approx(asym[1], abs=0.01)


def test_bootstrap_multinomial_matches_item_resampling() -> None:
    # The cell-count draw must behave like resampling items: compare with the naive bootstrap.
    labels, predicted = sample_data(400, 0.8, seed=11)
    rng = random.Random(123)
    naive: list[float] = []
    indices = range(len(labels))
    for _ in range(3000):
        picks = rng.choices(indices, k=len(labels))
        k = cohen_kappa(
            Confusion.from_pairs([labels[i] for i in picks], [predicted[i] for i in picks])
        )
        assert k is not None
        naive.append(k)
    naive.sort()
    low = naive[int(0.025 * (len(naive) - 1))]
    high = naive[int(0.975 * (len(naive) - 1))]
    ours = kappa_ci_bootstrap(labels, predicted, resamples=3000)
    assert ours is not None
    assert ours[0] == pytest.approx(low, abs=0.02)
    assert ours[1] == pytest.approx(high, abs=0.02)


@pytest.mark.parametrize(
    ("labels", "predicted"),
    [
        pytest.param([], [], id="empty"),
        pytest.param([True], [True], id="single-item"),
        pytest.param([True] * 20, [True] * 20, id="one-class-both"),
        pytest.param([False] * 20, [False] * 20, id="other-class-both"),
    ],
)
def test_bootstrap_undefined(labels: list[bool], predicted: list[bool]) -> None:
    assert kappa_ci_bootstrap(labels, predicted) is None


def test_bootstrap_perfect_agreement_and_disagreement() -> None:
    labels = [True, False] * 25
    assert kappa_ci_bootstrap(labels, labels) == (1.0, 1.0)
    flipped = [not label for label in labels]
    ci = kappa_ci_bootstrap(labels, flipped)
    assert ci is not None
    assert ci[1] <= 0.0 and ci[0] >= -1.0


def test_bootstrap_skips_undefined_resamples() -> None:
    # Two items, one per diagonal cell: half the resamples are undefined on average, and the
    # defined ones are all perfect agreement, so a defined result is exactly (1, 1).
    results = {kappa_ci_bootstrap([True, False], [True, False], seed=s) for s in range(20)}
    assert results <= {None, (1.0, 1.0)}
    assert results == {None, (1.0, 1.0)}


def test_bootstrap_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="resamples"):
        kappa_ci_bootstrap([True], [True], resamples=0)
    with pytest.raises(ValueError, match="length"):
        kappa_ci_bootstrap([True], [])


def test_bootstrap_is_fast() -> None:
    """Each resample is drawn from the four cells, not item by item: a hundred times the items
    costs about the one count of them, not a hundred times the resampling."""
    small, large = sample_data(1_000, 0.85), sample_data(100_000, 0.85)
    assert kappa_ci_bootstrap(*large, resamples=2000) is not None
    assert growth(lambda data: kappa_ci_bootstrap(*data, resamples=2000), small, large) < 10


@pytest.mark.parametrize(
    ("n", "p"), [(1, 0.3), (30, 0.1), (25, 0.5), (500, 0.02), (500, 0.3), (10_000, 0.8)]
)
def test_binomial_sampler_moments(n: int, p: float) -> None:
    rng = random.Random(42)
    draws = [stats._binomial(rng, n, p) for _ in range(20_000)]
    assert all(0 <= d <= n for d in draws)
    mean = sum(draws) / len(draws)
    var = sum((d - mean) ** 2 for d in draws) / (len(draws) - 1)
    sd = math.sqrt(n * p * (1 - p))
    assert abs(mean - n * p) < 5 * sd / math.sqrt(len(draws))
    assert var == pytest.approx(n * p * (1 - p), rel=0.06)


def test_binomial_sampler_edges() -> None:
    rng = random.Random(0)
    assert stats._binomial(rng, 10, 0.0) == 0
    assert stats._binomial(rng, 10, 1.0) == 10
    assert stats._binomial(rng, 0, 0.4) == 0


@pytest.mark.skipif(sys.version_info < (3, 12), reason="Random.binomialvariate is 3.12+")
def test_binomial_sampler_equals_cpython() -> None:
    for seed in range(50):
        ours, theirs = random.Random(seed), random.Random(seed)
        for n, p in [(1, 0.3), (20, 0.1), (10_000, 0.6), (10_000, 0.01), (7, 0.99)]:
            assert stats._binomial(ours, n, p) == theirs.binomialvariate(n, p)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------
# Rates

RATE_CASES = [
    # c, fp_rate, precision, recall
    pytest.param(Confusion(0, 0, 0, 0), None, None, None, id="empty"),
    pytest.param(Confusion(8, 2, 6, 4), 0.25, 0.8, 8 / 12, id="typical"),
    pytest.param(Confusion(5, 0, 0, 0), None, 1.0, 1.0, id="no-real-changes"),
    pytest.param(Confusion(0, 0, 5, 0), 0.0, None, None, id="all-different-correct"),
    pytest.param(Confusion(0, 3, 0, 0), 1.0, 0.0, None, id="all-false-positives"),
]


@pytest.mark.parametrize(("c", "fpr", "prec", "rec"), RATE_CASES)
def test_rates(c: Confusion, fpr: float | None, prec: float | None, rec: float | None) -> None:
    assert fp_rate(c) == fpr
    assert precision(c) == prec
    assert recall(c) == (pytest.approx(rec) if rec is not None else None)


# ------------------------------------------------------------------------------------------
# Clopper-Pearson


@pytest.mark.oracles
@pytest.mark.parametrize(
    ("k", "n"),
    [
        *[(0, 1), (0, 10), (1, 10), (5, 10), (9, 10), (0, 100), (3, 100), (50, 100), (99, 100)],
        *[(0, 1000), (17, 1000), (500, 1000), (2, 50_000), (25_000, 100_000), (10, 1_000_000)],
    ],
)
@pytest.mark.parametrize("confidence", [0.5, 0.9, 0.95, 0.99, 0.999])
def test_clopper_pearson_matches_scipy(k: int, n: int, confidence: float) -> None:
    scipy_stats = require_module("scipy.stats", "scipy is the beta-quantile reference")
    expected = float(scipy_stats.beta.ppf(confidence, k + 1, n - k))
    got = clopper_pearson_upper(k, n, confidence)
    assert got is not None
    assert abs(got - expected) <= 1e-9


@pytest.mark.oracles
@PROPERTY
@given(
    st.integers(min_value=1, max_value=5000).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n - 1), st.just(n))
    ),
    st.floats(min_value=0.01, max_value=0.999),
)
def test_clopper_pearson_property_vs_scipy(kn: tuple[int, int], confidence: float) -> None:
    scipy_stats = require_module("scipy.stats", "scipy is the beta-quantile reference")
    k, n = kn
    got = clopper_pearson_upper(k, n, confidence)
    assert got is not None
    assert abs(got - float(scipy_stats.beta.ppf(confidence, k + 1, n - k))) <= 1e-9
    # the defining property: P(X <= k; n, upper) = 1 - confidence
    assert float(scipy_stats.binom.cdf(k, n, got)) == pytest.approx(1 - confidence, abs=1e-7)


@pytest.mark.parametrize("n", [1, 2, 7, 30, 1000])
def test_clopper_pearson_zero_successes_closed_form(n: int) -> None:
    # P(X = 0) = (1 - p)^n = 0.05  =>  p = 1 - 0.05^(1/n)  (the "rule of three" for large n)
    assert clopper_pearson_upper(0, n) == pytest.approx(1 - 0.05 ** (1 / n), abs=1e-12)


def test_clopper_pearson_edges() -> None:
    assert clopper_pearson_upper(0, 0) is None
    assert clopper_pearson_upper(5, 5) == 1.0
    assert clopper_pearson_upper(1, 1, 0.5) == 1.0
    lower = clopper_pearson_upper(3, 100, 0.9)
    higher = clopper_pearson_upper(3, 100, 0.99)
    assert lower is not None and higher is not None and lower < higher
    for k, n, conf in [(-1, 5, 0.95), (6, 5, 0.95), (0, -1, 0.95), (1, 5, 0.0), (1, 5, 1.0)]:
        with pytest.raises(ValueError):
            clopper_pearson_upper(k, n, conf)


@pytest.mark.oracles
@pytest.mark.parametrize(
    ("a", "b", "x"), [(1, 1, 0.3), (2.5, 4, 0.2), (30, 2, 0.95), (0.5, 0.5, 0.5), (200, 300, 0.41)]
)
def test_betainc_matches_scipy(a: float, b: float, x: float) -> None:
    special = require_module("scipy.special", "scipy is the betainc reference")
    assert stats._betainc(a, b, x) == pytest.approx(float(special.betainc(a, b, x)), abs=1e-13)
    assert stats._betainc(a, b, 0.0) == 0.0
    assert stats._betainc(a, b, 1.0) == 1.0


# ------------------------------------------------------------------------------------------
# Best threshold


THRESHOLD_CASES = [
    pytest.param([0.9, 0.8, 0.2, 0.1], [True, True, False, False], 0.8, 1.0, id="separable"),
    pytest.param([0.5], [True], 0.5, None, id="single-undefined"),
    pytest.param([0.3, 0.3, 0.3], [True, False, True], 0.3, 0.0, id="one-score-only"),
    pytest.param([0.9, 0.7, 0.4], [True, True, True], 0.9, 0.0, id="labels-one-class"),
    # t=0.9 and t=0.5 both give kappa 0.5 (one mistake each): the higher, stricter one wins
    pytest.param([0.9, 0.8, 0.5, 0.1], [True, False, True, False], 0.9, 0.5, id="tie-highest"),
    pytest.param([0.2, 0.9, 0.1, 0.8], [False, True, False, True], 0.8, 1.0, id="unsorted-input"),
]


@pytest.mark.parametrize(("scores", "labels", "t", "kappa"), THRESHOLD_CASES)
def test_best_threshold_table(
    scores: list[float], labels: list[bool], t: float, kappa: float | None
) -> None:
    got_t, got_kappa = best_threshold(scores, labels)
    assert got_t == t
    assert got_kappa == (pytest.approx(kappa) if kappa is not None else None)


def _brute_force_threshold(scores: list[float], labels: list[bool]) -> tuple[float, float | None]:
    best: tuple[Fraction, float] | None = None
    for t in sorted(set(scores), reverse=True):
        c = Confusion.from_pairs(labels, [s >= t for s in scores])
        num, den = stats._kappa_terms(c.tp, c.fp, c.tn, c.fn)
        if den and (best is None or Fraction(num, den) > best[0]):
            best = (Fraction(num, den), t)
    if best is None:
        return max(scores), None
    return best[1], float(best[0])


@PROPERTY
@given(
    st.lists(
        st.tuples(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.7, 0.9, 1.0]), st.booleans()),
        min_size=1,
        max_size=40,
    )
)
def test_best_threshold_matches_brute_force(items: list[tuple[float, bool]]) -> None:
    scores = [s for s, _ in items]
    labels = [label for _, label in items]
    t, kappa = best_threshold(scores, labels)
    want_t, want_kappa = _brute_force_threshold(scores, labels)
    assert t == want_t
    if want_kappa is None:
        assert kappa is None
    else:
        assert kappa == pytest.approx(want_kappa, abs=1e-12)


def test_best_threshold_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        best_threshold([], [])
    with pytest.raises(ValueError, match="length"):
        best_threshold([0.1], [])
    with pytest.raises(ValueError, match="NaN"):
        best_threshold([math.nan, 0.2], [True, False])


# ------------------------------------------------------------------------------------------
# Stratified split


def _keys(n_per_stratum: dict[tuple[str, str], int]) -> list[tuple[str, str, str]]:
    return [(f"mis_{a}_{b}_{i:04d}", a, b) for (a, b), n in n_per_stratum.items() for i in range(n)]


STRATA = {
    ("whitespace", "equivalent"): 40,
    ("whitespace", "different"): 7,
    ("json_ordering", "equivalent"): 15,
    ("content", "different"): 5,
    ("bom", "equivalent"): 2,
    ("mode", "different"): 1,
}


def test_split_is_deterministic_under_shuffling() -> None:
    keys = _keys(STRATA)
    expected = dict(zip(keys, stratified_split(keys)))
    rng = random.Random(5)
    for _ in range(10):
        shuffled = keys[:]
        rng.shuffle(shuffled)
        assert dict(zip(shuffled, stratified_split(shuffled))) == expected


@given(st.permutations(_keys({("a", "x"): 6, ("a", "y"): 3, ("b", "x"): 11})))
def test_split_order_independent_property(keys: list[tuple[str, str, str]]) -> None:
    reference = sorted(keys)
    expected = dict(zip(reference, stratified_split(reference, test_share=0.25)))
    assert dict(zip(keys, stratified_split(keys, test_share=0.25))) == expected


def test_split_stratification_proportions() -> None:
    keys = _keys(STRATA)
    split = stratified_split(keys)
    assert set(split) == {"train", "test"}
    tests = Counter((a, b) for (_, a, b), s in zip(keys, split) if s == "test")
    # round half up of 0.3 x size, at least one test when a stratum has >= 2 items
    assert tests[("whitespace", "equivalent")] == 12
    assert tests[("whitespace", "different")] == 2  # 2.1
    assert tests[("json_ordering", "equivalent")] == 5  # 4.5 rounds up, not to even
    assert tests[("content", "different")] == 2  # 1.5
    assert tests[("bom", "equivalent")] == 1  # 0.6
    assert tests[("mode", "different")] == 0  # singleton stays in train


def test_split_picks_smallest_hashes_within_stratum() -> None:
    keys = _keys({("content", "different"): 10})
    split = stratified_split(keys, test_share=0.3, seed="s1")
    by_hash = sorted(keys, key=lambda k: hashlib.sha256(("s1" + k[0]).encode()).hexdigest())
    assert {k for k, s in zip(keys, split) if s == "test"} == set(by_hash[:3])


def test_split_seed_and_share() -> None:
    keys = _keys({("a", "b"): 50})
    assert stratified_split(keys, seed="one") != stratified_split(keys, seed="two")
    assert stratified_split(keys, test_share=0.0) == ["train"] * 50
    assert stratified_split(keys, test_share=1.0) == ["test"] * 50
    assert stratified_split([]) == []
    assert stratified_split(keys, test_share=0.5).count("test") == 25
    with pytest.raises(ValueError, match="test_share"):
        stratified_split(keys, test_share=1.5)


def test_split_minimum_one_test_for_small_strata() -> None:
    keys = _keys({("a", "b"): 2, ("c", "d"): 3})
    split = stratified_split(keys, test_share=0.1)
    assert Counter((a, b) for (_, a, b), s in zip(keys, split) if s == "test") == {
        ("a", "b"): 1,
        ("c", "d"): 1,
    }


# ------------------------------------------------------------------------------------------
# Import weight


def test_stats_imports_no_numeric_stack() -> None:
    import subprocess

    code = (
        "import sys, phase2_git.core.stats; "
        "bad = [m for m in ('numpy', 'scipy', 'sklearn', 'statsmodels') if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
