"""The learned ``cosine_similarity`` judges: fitting (against scikit-learn), storage, the gate.

Datasets are synthetic and made here (tests download nothing): pairs of text artifacts whose
"after" side is either the "before" side with formatting noise (equivalent) or with a real
edit (different), like the mismatches phase2 meets.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phase2_git.core import judge_model as jm
from phase2_git.core.methods import tfidf_cosine
from phase2_git.errors import UsageError
from phase2_git.store import judge_model as store_model
from phase2_git.store.config import load
from phase2_git.store.gate import gate_validity, gated_methods
from tests.conftest import Cli, TestRepo, require_module

METHOD = "cosine_similarity"
VOCAB = (
    "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega build test deploy "
    "cache index table column value result error warning report golden output input"
).split()


# ==================================================================================== data


def text(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(3, 8)):
        words = [rng.choice(VOCAB) for _ in range(rng.randint(3, 9))]
        if rng.random() < 0.5:
            words.append(f"{rng.randint(0, 999)}.{rng.randint(0, 99)}")
        lines.append(" ".join(words))
    return "\n".join(lines) + "\n"


def noisy(t: str, rng: random.Random) -> str:
    """The same content, formatted otherwise (what phase2 calls noise)."""
    kind = rng.randrange(4)
    lines = t.splitlines()
    if kind == 0:
        return "\n".join(line + " " * rng.randint(1, 3) for line in lines) + "\n"
    if kind == 1:
        return "\n".join("  " + line for line in lines) + "\n"
    if kind == 2:
        return "\n".join(line.replace(" ", "  ") for line in lines) + "\n"
    return t + "\n\n"


def edited(t: str, rng: random.Random) -> str:
    """A real change: a word or a number replaced, or a line dropped or added."""
    lines = t.splitlines()
    i = rng.randrange(len(lines))
    kind = rng.randrange(3)
    if kind == 0:
        words = lines[i].split()
        j = rng.randrange(len(words))
        words[j] = rng.choice([w for w in VOCAB if w != words[j]])
        lines[i] = " ".join(words)
    elif kind == 1:
        del lines[i]
    else:
        lines.insert(i, " ".join(rng.choice(VOCAB) for _ in range(5)))
    return "\n".join(lines) + "\n"


def pairs_dataset(n: int, seed: int, *, real_labels: bool) -> list[dict[str, Any]]:
    """``n`` labelled text pairs, half noise and half real edits. ``real_labels``: the label
    says which (a judge can agree with it); else it is a coin flip, unrelated to the pair."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        before = text(rng)
        is_noise = i % 2 == 0
        after = noisy(before, rng) if is_noise else edited(before, rng)
        label = is_noise if real_labels else rng.random() < 0.5
        rows.append(
            {
                "id": f"mis_{i:012x}",
                "path": f"out/{i}.txt",
                "artifact_type": "text",
                "mismatch_type": "whitespace" if is_noise and real_labels else "content",
                "label": "equivalent" if label else "different",
                "before": before,
                "after": after,
            }
        )
    return rows


def write_dataset(repo: TestRepo, rows: list[dict[str, Any]]) -> Path:
    path = repo.root / ".phase2" / "labels.jsonl"
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def configure(repo: TestRepo, extra: str = "") -> None:
    repo.write(".phase2/config.toml", f'[methods]\nenabled = ["{METHOD}"]\n{extra}')


# ==================================================================================== fitting


def _objective_gradient(
    x: list[list[float]], y: list[bool], w: list[float], b: float, c: float
) -> list[float]:
    grad = [*w, 0.0]
    for row, label in zip(x, y):
        z = sum(wi * v for wi, v in zip(w, row)) + b
        p = 1.0 / (1.0 + math.exp(-z))
        g = c * (p - (1.0 if label else 0.0))
        for j, v in enumerate([*row, 1.0]):
            grad[j] += g * v
    return grad


def random_problem(seed: int, n: int = 120, d: int = 4) -> tuple[list[list[float]], list[bool]]:
    rng = random.Random(seed)
    true_w = [rng.gauss(0, 1.5) for _ in range(d)]
    x = [[rng.gauss(0, 1) for _ in range(d)] for _ in range(n)]
    y = [rng.random() < 1 / (1 + math.exp(-sum(a * b for a, b in zip(true_w, r)))) for r in x]
    y[0], y[1] = True, False  # both classes, always
    return x, y


@pytest.mark.oracles
@pytest.mark.parametrize(("seed", "c"), [(1, 1.0), (2, 0.1), (3, 10.0)])
def test_logistic_regression_matches_scikit_learn(seed: int, c: float) -> None:
    linear_model = require_module("sklearn.linear_model", "reference logistic regression")
    x, y = random_problem(seed)
    w, b = jm.fit_logistic(x, y, c=c)
    ref = linear_model.LogisticRegression(C=c, tol=1e-12, max_iter=10_000).fit(x, y)
    for mine, theirs in zip(w, ref.coef_[0]):
        assert mine == pytest.approx(float(theirs), abs=1e-5)
    assert b == pytest.approx(float(ref.intercept_[0]), abs=1e-5)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.05, 20.0))
def test_logistic_regression_reaches_the_optimum(seed: int, c: float) -> None:
    """The objective's gradient vanishes at the weights found (the optimum: it is convex)."""
    x, y = random_problem(seed, n=60, d=3)
    w, b = jm.fit_logistic(x, y, c=c)
    assert max(abs(g) for g in _objective_gradient(x, y, w, b, c)) < 1e-6


def test_logistic_regression_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both classes"):
        jm.fit_logistic([[0.0], [1.0]], [True, True])


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_scores_are_probabilities_and_symmetric_features_hold(a: str, b: str) -> None:
    rng = random.Random(0)
    pairs = [(text(rng), text(rng)) for _ in range(6)]
    model = jm.fit_model(jm.LOGREG_KIND, pairs, [True, False] * 3)
    s = model.score(a, b)
    assert 0.0 <= s <= 1.0
    assert model.word_idf is not None and model.stem_idf is not None
    f = jm.features(a, b, model.char_idf, model.word_idf, model.stem_idf)
    g = jm.features(b, a, model.char_idf, model.word_idf, model.stem_idf)
    assert f == pytest.approx(g)  # every feature is symmetric in the two sides
    assert len(f) == len(jm.FEATURES) and all(math.isfinite(v) for v in f)
    same = jm.features(a, a, model.char_idf, model.word_idf, model.stem_idf)
    named = dict(zip(jm.FEATURES, same))
    # a side against itself: nothing unmatched, nothing mismatched
    assert named["unmatched_words"] == named["unmatched_stems"] == 0.0
    assert named["heaviest_unmatched_stem"] == 0.0
    assert named["negation_mismatch"] == named["number_mismatch"] == 0.0
    assert named["whitespace_only"] == named["case_only"] == 1.0
    char = jm.fit_model(jm.CHAR_KIND, pairs, [True, False] * 3)
    assert char.score(a, a) == pytest.approx(1.0) or not jm.char_grams(a)
    assert 0.0 <= char.score(a, b) <= 1.0


SEPARATORS = st.sampled_from([" ", "\t", ", ", " - ", "\n\n"])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=8), SEPARATORS)
def test_words_and_stems_ignore_separators_and_case(parts: list[str], sep: str) -> None:
    t = " ".join(parts)
    toks = jm.tokens(t)
    # punctuation and whitespace only separate words
    assert jm.tokens(sep.join(parts)) == jm.tokens(sep.join(p for p in parts if p) or "")
    assert jm.tokens(t.replace(" ", sep)) == toks
    ascii_t = t.encode("ascii", "ignore").decode()
    assert jm.tokens(ascii_t.swapcase()) == jm.tokens(ascii_t)
    # one stem per word, its first STEM characters
    stems = jm.stems(t)
    assert sum(stems.values()) == len(toks)
    assert stems == Counter(w[: jm.STEM] for w in toks)
    assert all(1 <= len(s) <= jm.STEM for s in stems)


@settings(max_examples=100, deadline=None)
@given(st.sets(st.sampled_from(VOCAB)), st.sets(st.sampled_from(VOCAB)))
def test_containment_is_a_share_of_idf_mass(a: set[str], b: set[str]) -> None:
    idf = jm.Idf.fit([Counter(VOCAB[:5]), Counter(VOCAB[3:9])], 100)
    share = jm._containment(a, b, idf)
    assert 0.0 <= share <= 1.0 + 1e-12
    assert jm._containment(a, a | b, idf) == pytest.approx(1.0)
    if a and not a & b:
        assert share == 0.0


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_char_grams_ignore_case_and_whitespace_runs(t: str) -> None:
    grams = jm.char_grams(t)
    assert grams == jm.char_grams("  " + t.lower().replace(" ", " \t ") + "\n")
    assert all(1 <= len(g) <= jm.NGRAM_MAX for g in grams)


def test_model_round_trips_through_json_and_the_schema(tmp_path: Path) -> None:
    rows = pairs_dataset(40, 3, real_labels=True)
    pairs = [(r["before"], r["after"]) for r in rows]
    labels = [r["label"] == "equivalent" for r in rows]
    for kind in jm.KINDS:
        model = jm.fit_model(kind, pairs, labels, trained={"dataset": "x.jsonl"})
        backend = "tfidf" if kind == jm.LOGREG_KIND else "char_tfidf"
        store_model.save_model(tmp_path, backend, model.to_json())
        found = store_model.read_model(tmp_path, backend)
        assert found is not None
        doc, sha = found
        assert sha == store_model.model_sha256(model.to_json())
        again = jm.JudgeModel.from_json(doc)
        assert [again.score(a, b) for a, b in pairs] == [model.score(a, b) for a, b in pairs]


def test_a_damaged_or_foreign_model_file_is_exit_2_naming_it(tmp_path: Path) -> None:
    path = tmp_path / store_model.model_relpath("tfidf")
    path.parent.mkdir(parents=True)
    path.write_text('{"schema": "JudgeModel.v1"}\n')
    with pytest.raises(UsageError, match=r"cosine_similarity\.tfidf\.json: .*required"):
        store_model.read_model(tmp_path, "tfidf")
    rows = pairs_dataset(10, 1, real_labels=True)
    char = jm.fit_model(jm.CHAR_KIND, [(r["before"], r["after"]) for r in rows], [True] * 10)
    path.write_bytes(store_model.dumps(char.to_json()))
    with pytest.raises(UsageError, match="not what backend 'tfidf' learns"):
        store_model.read_model(tmp_path, "tfidf")
    path.write_text("{not json")
    with pytest.raises(UsageError, match="not JSON"):
        store_model.read_model(tmp_path, "tfidf")


# ==================================================================================== the CLI


def gate_json(cli: Cli, repo: TestRepo, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli(
        "gate", "--method", METHOD, "--bootstrap", "300", "--format", "json", *args, repo=repo
    )
    assert code in (0, 1), err
    return code, json.loads(out)


def test_without_a_learned_model_the_default_judge_is_unchanged(repo: TestRepo, cli: Cli) -> None:
    configure(repo)
    d = write_dataset(repo, pairs_dataset(30, 5, real_labels=True))
    code, out, err = cli("judge", "eval", "--dataset", str(d), "--format", "json", repo=repo)
    assert code == 0, err
    fig = json.loads(out)["methods"][METHOD]
    assert fig["identity"] == {"method": METHOD, "threshold": 0.95}
    assert not (repo.root / store_model.model_relpath("tfidf")).exists()
    # and the scores are today's word TF-IDF on the pair
    from phase2_git.app.judge import run_methods_on
    from phase2_git.store.labels import read_labels

    items = read_labels(d, "labels")
    cfg = load(repo.root)
    _, scores, _ = run_methods_on(items, [METHOD], cfg.classify, cfg.methods)[METHOD]
    assert scores == {
        i.id: tfidf_cosine((i.before or b"").decode(), (i.after or b"").decode()) for i in items
    }


def test_gate_reaches_go_where_the_judge_agrees_and_binds_to_the_model(
    repo: TestRepo, cli: Cli
) -> None:
    configure(repo)
    d = write_dataset(repo, pairs_dataset(240, 11, real_labels=True))
    prom = repo.root / "gate.prom"
    code, doc = gate_json(cli, repo, "--dataset", str(d), "--calibrate", "--prom", str(prom))
    result = doc["results"][0]
    assert code == 0 and result["go"], result["criteria"]
    ident = result["judge"]
    assert ident["model"] == jm.LOGREG_KIND
    info = (
        f'phase2_gate_judge_info{{backend="tfidf",method="{METHOD}",model="{jm.LOGREG_KIND}"}} 1.0'
    )
    assert info in prom.read_text()
    model_file = repo.root / store_model.model_relpath("tfidf")
    assert ident["model_sha256"] == store_model.file_sha256(repo.root, "tfidf")
    stored = json.loads(model_file.read_text())
    assert stored["trained"]["split"] == "train"
    # 30% of 240 are held out: the model learned from the train split's pairs only
    assert (
        stored["trained"]["pairs"]
        == json.loads((repo.root / ".phase2/state/evaluation.json").read_text())["split"]["train"]
    )

    # in force once the configuration uses the calibrated threshold: gate again (the stored
    # model is loaded, no --calibrate) and the gate holds
    configure(repo, f"\n[methods.cosine_similarity]\nthreshold = {ident['threshold']}\n")
    code, doc = gate_json(cli, repo, "--dataset", str(d))
    assert code == 0, doc
    cfg = load(repo.root)
    assert gate_validity(repo.root, cfg, METHOD) == (True, "GO")
    assert METHOD in gated_methods(repo.root, cfg)

    # phase2 diff scores with the stored model (read from disk by the app, no network)
    repo.write("out/a.txt", "alpha beta gamma 1.5\nbuild test deploy\n")
    repo.commit("base")
    repo.write("out/a.txt", "alpha beta gamma 1.5   \n  build test deploy\n")
    code, out, err = cli("diff", "HEAD", "-m", METHOD, "-f", "json", repo=repo)
    assert code in (0, 1), err
    verdicts = [v for m in json.loads(out)["mismatches"] for v in m["verdicts"]]
    assert verdicts and verdicts[0]["detail"].startswith(f"{jm.LOGREG_KIND} score")
    assert verdicts[0]["equivalent"] is True

    code, out, err = cli("judge", "eval", "--dataset", str(d), "--bootstrap", "50", repo=repo)
    assert code == 0 and f"judge: backend tfidf, model {jm.LOGREG_KIND}" in out, err

    # a changed model invalidates the gate, as a changed rubric does
    relearned = jm.fit_model(
        jm.LOGREG_KIND,
        [(r["before"], r["after"]) for r in pairs_dataset(20, 99, real_labels=True)],
        [True, False] * 10,
    )
    model_file.write_bytes(store_model.dumps(relearned.to_json()))
    ok, why = gate_validity(repo.root, load(repo.root), METHOD)
    assert not ok and "judge" in why


def test_gate_is_no_go_where_the_labels_do_not_follow_the_pairs(repo: TestRepo, cli: Cli) -> None:
    configure(repo)
    d = write_dataset(repo, pairs_dataset(240, 11, real_labels=False))
    code, doc = gate_json(cli, repo, "--dataset", str(d), "--calibrate")
    result = doc["results"][0]
    assert code == 1 and not result["go"]
    failed = {c["name"] for c in result["criteria"] if c["status"] != "PASS"}
    assert {"kappa", "kappa_ci_low"} <= failed
    assert not gate_validity(repo.root, load(repo.root), METHOD)[0]


def test_learned_models_are_fitted_on_the_train_split_only(repo: TestRepo, cli: Cli) -> None:
    """Relabelling every TEST item leaves the learned model byte for byte the same."""
    configure(repo, '\n[methods.cosine_similarity]\nbackend = "char_tfidf"\n')
    rows = pairs_dataset(120, 4, real_labels=True)
    for r in rows:
        r["mismatch_type"] = "content"
    from phase2_git.app.labels import assign_splits
    from phase2_git.store.labels import parse_labels

    def learned(rows: list[dict[str, Any]]) -> dict[str, Any]:
        d = write_dataset(repo, rows)
        code, _, err = cli("judge", "eval", "--dataset", str(d), "--calibrate", repo=repo)
        assert code == 0, err
        doc = json.loads((repo.root / store_model.model_relpath("char_tfidf")).read_text())
        doc["trained"].pop("sha256")
        return dict(doc)

    first = learned(rows)
    parsed = parse_labels("".join(json.dumps(r) + "\n" for r in rows).encode(), "x")
    splits = [i.split for i in assign_splits(parsed)]
    swapped = [
        dict(
            r,
            split=s,
            after=r["after"] + "changed test text\n" if s == "test" else r["after"],
            label="different" if s == "test" else r["label"],
        )
        for r, s in zip(rows, splits)
    ]
    assert learned(swapped) == first


def test_calibrate_without_text_pairs_in_train_is_exit_2(repo: TestRepo, cli: Cli) -> None:
    configure(repo)
    rows = [
        {
            "id": f"mis_{i:012x}",
            "artifact_type": "binary",
            "mismatch_type": "binary",
            "label": "different" if i % 2 else "equivalent",
            "before_base64": "AAEC",
            "after_base64": "AAED",
        }
        for i in range(20)
    ]
    d = write_dataset(repo, rows)
    code, _, err = cli("judge", "eval", "--dataset", str(d), "--calibrate", repo=repo)
    assert code == 2 and "train split has none" in err
    one_class = pairs_dataset(20, 2, real_labels=True)
    for r in one_class:
        r["label"] = "equivalent"
    d = write_dataset(repo, one_class)
    code, _, err = cli("judge", "eval", "--dataset", str(d), "--calibrate", repo=repo)
    assert code == 2 and "needs both labels" in err
    assert not (repo.root / store_model.model_relpath("tfidf")).exists()


def test_diff_with_a_damaged_model_file_is_exit_2_naming_it(repo: TestRepo, cli: Cli) -> None:
    configure(repo)
    repo.write("out/a.txt", "alpha beta\n")
    repo.commit("base")
    repo.write("out/a.txt", "alpha  beta\n")
    model_file = repo.root / store_model.model_relpath("tfidf")
    model_file.parent.mkdir(parents=True)
    model_file.write_text('{"schema": "JudgeModel.v1", "kind": "lexical-logreg"}\n')
    code, out, err = cli("diff", "HEAD", "-m", METHOD, repo=repo)
    assert code == 2 and not out
    assert "cosine_similarity.tfidf.json" in err and "required" in err
    # a model of other features (another phase2 version's) is refused, with what to do
    rows = pairs_dataset(10, 1, real_labels=True)
    other = jm.fit_model(
        jm.LOGREG_KIND, [(r["before"], r["after"]) for r in rows], [True, False] * 5
    ).to_json()
    other["logistic"]["features"] = ["something_else", *other["logistic"]["features"][1:]]
    model_file.write_bytes(store_model.dumps(other))
    code, _, err = cli("diff", "HEAD", "-m", METHOD, repo=repo)
    assert code == 2 and "not this version's" in err and "--calibrate" in err
    # so is one without the stems' document frequencies (what earlier versions wrote)
    older = jm.fit_model(
        jm.LOGREG_KIND, [(r["before"], r["after"]) for r in rows], [True, False] * 5
    ).to_json()
    del older["stem_idf"]
    model_file.write_bytes(store_model.dumps(older))
    code, _, err = cli("diff", "HEAD", "-m", METHOD, repo=repo)
    assert code == 2 and "cosine_similarity.tfidf.json: stem_idf" in err and "--calibrate" in err
    # the other backends learn nothing from that file and never read it
    configure(repo, '\n[methods.cosine_similarity]\nbackend = "word_tfidf"\n')
    code, out, err = cli("diff", "HEAD", "-m", METHOD, "-f", "json", repo=repo)
    assert code in (0, 1), err
    verdict = json.loads(out)["mismatches"][0]["verdicts"][0]
    assert verdict["detail"].startswith("cosine ")


def test_char_tfidf_before_it_learns_and_sides_too_long_to_read(repo: TestRepo, cli: Cli) -> None:
    configure(repo, '\n[methods.cosine_similarity]\nbackend = "char_tfidf"\n')
    repo.write("out/a.txt", "alpha beta gamma\n")
    repo.write("out/big.txt", "x" * 10 + "\n")
    repo.commit("base")
    repo.write("out/a.txt", "alpha  beta gamma\n")
    repo.write("out/big.txt", "y" * (jm.MAX_CHARS + 1) + "\n")
    code, out, err = cli("diff", "HEAD", "-m", METHOD, "-f", "json", repo=repo)
    assert code in (0, 1), err
    got = {m["path"]: m["verdicts"][0] for m in json.loads(out)["mismatches"]}
    # no model learned yet: document frequencies of the pair itself; whitespace runs are one
    assert got["out/a.txt"]["detail"].startswith("char cosine 1.0000")
    assert got["out/big.txt"]["detail"].startswith("not applicable: a side over the")
    assert not got["out/big.txt"]["equivalent"]
