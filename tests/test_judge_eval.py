"""``phase2 judge eval``: figures against scikit-learn / statsmodels, degenerate cases, inputs.

The reference libraries are dev dependencies only: the tests that need them skip without them.
"""

from __future__ import annotations

import json
import random
import warnings
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from phase2_git.core.evaluation import block
from phase2_git.core.gating import GateThresholds, gate_method
from phase2_git.store import labels as labels_store
from tests.conftest import Cli, TestRepo, require_module, require_tool

SCHEMAS = Path(__file__).parent.parent / "schemas"
EVAL_VALIDATOR = Draft202012Validator(json.loads((SCHEMAS / "Evaluation.v1.json").read_text()))
LABEL_VALIDATOR = Draft202012Validator(
    json.loads((SCHEMAS / "LabeledMismatch.v1.json").read_text())
)

TYPES = ("json_ordering", "whitespace", "line_endings", "content", "numeric_precision")
ART = {"json_ordering": "json", "content": "json", "numeric_precision": "json"}


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def generated(n: int = 360, seed: int = 7) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Labelled items (both labels in every type) and results of three methods with known
    agreement; ``ext_noisy`` also carries scores for calibration."""
    rng = random.Random(seed)
    items, results = [], []
    for i in range(n):
        mtype = TYPES[i % len(TYPES)]
        label = rng.random() < 0.55
        item = {
            "id": f"mis_{i:012x}",
            "path": f"out/{i}.json",
            "artifact_type": ART.get(mtype, "text"),
            "mismatch_type": mtype,
            "label": "equivalent" if label else "different",
        }
        items.append(item)
        for method, agree in (("ext_good", 0.95), ("ext_noisy", 0.75), ("ext_bad", 0.5)):
            pred = label if rng.random() < agree else not label
            row: dict[str, Any] = {
                "id": item["id"],
                "method": method,
                "predicted": "equivalent" if pred else "different",
            }
            if method == "ext_noisy":
                row["score"] = round(
                    min(1.0, max(0.0, (0.7 if pred else 0.3) + rng.gauss(0, 0.2))), 4
                )
            results.append(row)
    return items, results


@pytest.fixture
def dataset(
    repo: TestRepo,
) -> tuple[TestRepo, Path, Path, list[dict[str, Any]], list[dict[str, Any]]]:
    items, results = generated()
    d = write_jsonl(repo.root / "labels.jsonl", items)
    r = write_jsonl(repo.root / "results.jsonl", results)
    return repo, d, r, items, results


def eval_json(cli: Cli, repo: TestRepo, *args: str) -> dict[str, Any]:
    code, out, err = cli("judge", "eval", "--format", "json", *args, repo=repo)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    errors = list(EVAL_VALIDATOR.iter_errors(doc))
    assert not errors, errors[0]
    return doc


def _pairs(
    items: list[dict[str, Any]],
    results: list[dict[str, Any]],
    method: str,
    only: tuple[str, str] | None = None,
) -> tuple[list[bool], list[bool]]:
    """Labels and predictions of ``method``, on the items whose field ``only[0]`` is ``only[1]``."""
    pred = {r["id"]: r["predicted"] == "equivalent" for r in results if r["method"] == method}
    sel = [i for i in items if only is None or i[only[0]] == only[1]]
    return [i["label"] == "equivalent" for i in sel], [pred[i["id"]] for i in sel]


# -------------------------------------------------------------------------------- references


@pytest.mark.oracles
def test_kappa_and_asymptotic_ci_match_sklearn_and_statsmodels(dataset, cli: Cli) -> None:
    metrics = require_module("sklearn.metrics", "scikit-learn is the kappa reference")
    inter_rater = require_module(
        "statsmodels.stats.inter_rater", "statsmodels is the asymptotic-CI reference"
    )
    repo, d, r, items, results = dataset
    assert len(items) >= 300
    doc = eval_json(cli, repo, "--dataset", str(d), "--results", str(r))
    assert doc["n"] == len(items)
    assert set(doc["methods"]) == {"ext_good", "ext_noisy", "ext_bad"}
    checked = 0
    for method, fig in doc["methods"].items():
        labels, preds = _pairs(items, results, method)
        want = metrics.cohen_kappa_score(labels, preds)
        assert fig["kappa"] == pytest.approx(want, abs=1e-9)
        c = fig["confusion"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = inter_rater.cohens_kappa([[c["tn"], c["fp"]], [c["fn"], c["tp"]]])
        low, high = fig["kappa_ci_asymptotic"]
        assert low == pytest.approx(float(ref.kappa_low), abs=1e-6)
        assert high == pytest.approx(float(ref.kappa_upp), abs=1e-6)
        # per mismatch type and per artifact type, and on the test split
        for mtype, b in fig["by_type"].items():
            ls, ps = _pairs(items, results, method, ("mismatch_type", mtype))
            assert b["n"] == len(ls)
            assert b["kappa"] == pytest.approx(metrics.cohen_kappa_score(ls, ps), abs=1e-9)
            checked += 1
        for atype, b in fig["by_artifact_type"].items():
            ls, ps = _pairs(items, results, method, ("artifact_type", atype))
            assert b["kappa"] == pytest.approx(metrics.cohen_kappa_score(ls, ps), abs=1e-9)
        assert fig["test"]["n"] == doc["split"]["test"]
        # precision / recall / FP rate from the same confusion
        assert fig["precision"] == pytest.approx(metrics.precision_score(labels, preds), abs=1e-9)
        assert fig["recall"] == pytest.approx(metrics.recall_score(labels, preds), abs=1e-9)
        tc = fig["test"]["confusion"]
        assert fig["fp_rate_test"] == pytest.approx(tc["fp"] / (tc["fp"] + tc["tn"]), abs=1e-12)
    assert checked == 3 * len(TYPES)


def test_bootstrap_ci_is_reproducible_for_a_seed(dataset, cli: Cli) -> None:
    repo, d, r, _, _ = dataset
    args = ("--dataset", str(d), "--results", str(r), "--bootstrap", "500")
    one = eval_json(cli, repo, *args, "--seed", "11")
    two = eval_json(cli, repo, *args, "--seed", "11")
    other = eval_json(cli, repo, *args, "--seed", "12")
    assert one == two
    fig1, fig3 = one["methods"]["ext_good"], other["methods"]["ext_good"]
    assert fig1["kappa_ci"] != fig3["kappa_ci"]
    assert fig1["kappa"] == fig3["kappa"]
    low, high = fig1["kappa_ci"]
    assert low <= fig1["kappa"] <= high
    assert one["bootstrap"] == {"resamples": 500, "seed": 11}


def test_split_is_stratified_and_audits_stay_out_of_test(repo: TestRepo, cli: Cli) -> None:
    items, results = generated(300)
    for row in items[:30]:
        row["source"] = "audit"
    items[40]["split"] = "test"
    items[41]["split"] = "train"
    d = write_jsonl(repo.root / "labels.jsonl", items)
    r = write_jsonl(repo.root / "results.jsonl", results)
    doc = eval_json(cli, repo, "--dataset", str(d), "--results", str(r), "--bootstrap", "50")
    assert doc["split"]["audit"] == 30
    assert doc["split"]["train"] + doc["split"]["test"] == 270
    # 30% of each stratum, rounded: close to 81 of the 270
    assert 75 <= doc["split"]["test"] <= 87
    assert doc["audit"]["n"] == 30
    rejected = sum(1 for i in items[:30] if i["label"] == "different")
    assert doc["audit"]["rejected"] == rejected
    assert doc["audit"]["fdr"] == pytest.approx(rejected / 30)


# -------------------------------------------------------------------------------- degenerate


def test_degenerate_blocks_are_null_with_a_reason() -> None:
    b = block([True] * 5, [True] * 5, resamples=100, seed=1, asymptotic=True)
    assert b["kappa"] is None and b["kappa_ci"] is None and b["kappa_ci_asymptotic"] is None
    assert "one class only" in b["reasons"]["kappa"]
    empty = block([], [], resamples=100, seed=1)
    assert empty["n"] == 0 and empty["kappa"] is None
    assert empty["reasons"]["kappa"] == "no items"


def test_one_class_dataset_reports_nulls_and_never_passes(repo: TestRepo, cli: Cli) -> None:
    items, _ = generated(250)
    for i in items:
        i["label"] = "equivalent"
    results = [{"id": i["id"], "method": "ext", "predicted": "equivalent"} for i in items]
    d = write_jsonl(repo.root / "labels.jsonl", items)
    r = write_jsonl(repo.root / "results.jsonl", results)
    doc = eval_json(cli, repo, "--dataset", str(d), "--results", str(r), "--bootstrap", "50")
    fig = doc["methods"]["ext"]
    assert fig["kappa"] is None and fig["kappa_ci"] is None
    assert fig["fp_rate_test"] is None
    assert "one class" in fig["reasons"]["kappa"]
    assert "different" in fig["reasons"]["fp_rate_test"]
    assert fig["recall"] == 1.0
    gate = doc["gate"]["methods"]["ext"]
    assert gate["go"] is False
    status = {c["name"]: c["status"] for c in gate["criteria"]}
    assert status["kappa"] == "INSUFFICIENT" and status["fp_rate"] == "INSUFFICIENT"


def test_gate_reports_small_and_one_label_types_as_insufficient_not_failed() -> None:
    fig = {
        "n": 300,
        "kappa": 0.9,
        "kappa_ci": [0.85, 0.95],
        "fp_rate_test": 0.0,
        "test": {"confusion": {"tp": 40, "fp": 0, "tn": 50, "fn": 0}},
        "by_type": {
            "tiny": {"n": 5, "kappa": 0.1, "confusion": {"tp": 1, "fp": 2, "tn": 1, "fn": 1}},
            "mono": {"n": 50, "kappa": 0.0, "confusion": {"tp": 0, "fp": 3, "tn": 47, "fn": 0}},
        },
        "unjudged": 0,
        "reasons": {},
    }
    g = gate_method(fig, GateThresholds())
    assert g["go"] is True
    assert not any(c["name"].startswith("type_kappa") for c in g["criteria"])
    assert any("tiny: 5 items" in n for n in g["notes"])
    assert any("mono: all 50 labels are 'different'" in n for n in g["notes"])


# -------------------------------------------------------------------------------- run mode


def content_items() -> list[dict[str, Any]]:
    rows = []
    for i in range(60):
        rows.append(
            {
                "id": f"mis_a{i:011x}",
                "artifact_type": "json",
                "mismatch_type": "json_ordering",
                "label": "equivalent",
                "before": json.dumps({"a": i, "b": [1, 2]}) + "\n",
                "after": json.dumps({"b": [1, 2], "a": i}, indent=2) + "\n",
            }
        )
        rows.append(
            {
                "id": f"mis_b{i:011x}",
                "artifact_type": "json",
                "mismatch_type": "content",
                "label": "different",
                "before": json.dumps({"a": i, "b": [1, 2]}) + "\n",
                "after": json.dumps({"a": i + 1, "b": [1, 2]}) + "\n",
            }
        )
    rows.append(
        {
            "id": "mis_c00000000000",
            "artifact_type": "binary",
            "mismatch_type": "binary",
            "label": "different",
            "before_base64": "AAECAw==",
            "after_base64": "AAECBA==",
        }
    )
    rows.append(
        {
            "id": "mis_d00000000000",
            "artifact_type": "text",
            "mismatch_type": "added",
            "label": "different",
            "after": "new\n",
        }
    )
    return rows


def test_methods_run_on_embedded_content(repo: TestRepo, cli: Cli) -> None:
    d = write_jsonl(repo.root / "labels.jsonl", content_items())
    doc = eval_json(
        cli,
        repo,
        "--dataset",
        str(d),
        "--methods",
        "canonical_json,exact,cosine_similarity",
        "--bootstrap",
        "100",
    )
    cj = doc["methods"]["canonical_json"]
    assert cj["confusion"] == {"tp": 60, "fp": 0, "tn": 62, "fn": 0}
    assert cj["kappa"] == 1.0
    assert doc["methods"]["exact"]["confusion"]["tp"] == 0
    cos = doc["methods"]["cosine_similarity"]
    assert cos["threshold"] == 0.95
    assert cos["identity"] == {"method": "cosine_similarity", "threshold": 0.95}
    # the stored evaluation is what `phase2 gate` reads without --dataset
    stored = json.loads((repo.root / ".phase2/state/evaluation.json").read_text())
    assert stored == doc


def test_calibrate_tunes_threshold_on_train_split(repo: TestRepo, cli: Cli) -> None:
    items, results = generated(300)
    d = write_jsonl(repo.root / "labels.jsonl", items)
    scored = [dict(r, method="cosine_similarity") for r in results if r["method"] == "ext_noisy"]
    r = write_jsonl(repo.root / "results.jsonl", scored)
    plain = eval_json(cli, repo, "--dataset", str(d), "--results", str(r), "--bootstrap", "50")
    assert "threshold" not in plain["methods"]["cosine_similarity"]
    cal = eval_json(
        cli, repo, "--dataset", str(d), "--results", str(r), "--bootstrap", "50", "--calibrate"
    )
    fig = cal["methods"]["cosine_similarity"]
    assert 0.0 < fig["threshold"] < 1.0
    assert fig["identity"]["threshold"] == fig["threshold"]
    assert cal["calibrated"] is True
    # the threshold is the kappa-maximising one on train: at least as good as 0.5 there
    from phase2_git.core.stats import best_threshold

    split = {i["id"]: s for i, s in zip(items, _splits(items))}
    train = [x for x in scored if split[x["id"]] == "train"]
    lab = {i["id"]: i["label"] == "equivalent" for i in items}
    t, _ = best_threshold([x["score"] for x in train], [lab[x["id"]] for x in train])
    assert fig["threshold"] == t


def _splits(items: list[dict[str, Any]]) -> list[str]:
    from phase2_git.app.labels import assign_splits

    parsed = labels_store.parse_labels("".join(json.dumps(i) + "\n" for i in items).encode(), "x")
    return [str(i.split) for i in assign_splits(parsed)]


def test_calibrate_without_scores_is_a_usage_error(dataset, cli: Cli) -> None:
    repo, d, _, _, results = dataset
    rows = [dict(x, method="cosine_similarity") for x in results if x["method"] == "ext_good"]
    r2 = write_jsonl(repo.root / "r2.jsonl", rows)
    code, out, err = cli(
        "judge", "eval", "--dataset", str(d), "--results", str(r2), "--calibrate", repo=repo
    )
    assert code == 2 and out == ""
    assert "--calibrate needs a score" in err


# -------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"id": "x", "artifact_type": "json", "mismatch_type": "content"}', "label"),
        (
            '{"id": "x", "artifact_type": "json", "mismatch_type": "content", "label": "maybe"}',
            "label",
        ),
        (
            '{"id": "x", "artifact_type": "pdf", "mismatch_type": "content", "label": "different"}',
            "artifact_type",
        ),
        (
            '{"id": "x", "artifact_type": "json", "mismatch_type": "content", "label": "different",'
            ' "before_base64": "!!"}',
            "before_base64",
        ),
    ],
)
def test_bad_label_line_exits_2_naming_file_and_line(
    repo: TestRepo, cli: Cli, line: str, problem: str
) -> None:
    good = '{"id": "ok", "artifact_type": "json", "mismatch_type": "content", "label": "different"}'
    (repo.root / "labels.jsonl").write_text(f"{good}\n\n{line}\n")
    code, out, err = cli("judge", "eval", "--dataset", str(repo.root / "labels.jsonl"), repo=repo)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "labels.jsonl:3: " in lines[0] and problem in lines[0]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"id": "mis_nope", "method": "m", "predicted": "equivalent"}, "not in the dataset"),
        ({"id": "mis_000000000000", "method": "m", "predicted": "yes"}, "predicted"),
        ({"id": "mis_000000000000", "method": "m", "predicted": "different", "score": 2}, "score"),
    ],
)
def test_bad_results_line_exits_2(dataset, cli: Cli, row, problem) -> None:
    repo, d, _, _, _ = dataset
    r = write_jsonl(
        repo.root / "bad.jsonl",
        [{"id": "mis_000000000001", "method": "m", "predicted": "different"}, row],
    )
    code, out, err = cli("judge", "eval", "--dataset", str(d), "--results", str(r), repo=repo)
    assert code == 2 and out == ""
    assert "bad.jsonl:2: " in err and problem in err


def test_duplicate_ids_are_refused(repo: TestRepo, cli: Cli) -> None:
    row = {"id": "a", "artifact_type": "json", "mismatch_type": "content", "label": "different"}
    d = write_jsonl(repo.root / "labels.jsonl", [row, row])
    code, _, err = cli("judge", "eval", "--dataset", str(d), repo=repo)
    assert code == 2 and "labels.jsonl:2: id 'a' already labelled on line 1" in err


def test_missing_dataset_and_unknown_method(repo: TestRepo, cli: Cli) -> None:
    code, _, err = cli("judge", "eval", repo=repo)
    assert code == 2 and ".phase2/labels.jsonl: no such file" in err
    d = write_jsonl(repo.root / "labels.jsonl", content_items())
    code, _, err = cli("judge", "eval", "--dataset", str(d), "--methods", "nope", repo=repo)
    assert code == 2 and "unknown method 'nope'" in err


def test_fast_label_check_is_never_looser_than_the_schema() -> None:
    base = {"id": "a", "artifact_type": "json", "mismatch_type": "content", "label": "different"}
    variants: list[dict[str, Any]] = [
        base,
        {**base, "split": "test", "before": "x", "after_base64": "AA=="},
        {**base, "hashes": {"before": "a" * 40, "after": None}},
        {**base, "hashes": {"before": "a" * 41, "after": None}},
        {**base, "hashes": {"before": "a" * 40}},
        {**base, "before": "x", "before_base64": "AA=="},
        {**base, "before": None},
        {**base, "extra": 1},
        {**base, "id": ""},
        {**base, "source": ""},
        {**base, "decision_id": "dec_123"},
        {**base, "path": ""},
        {**base, "split": "dev"},
    ]
    for v in variants:
        if labels_store._label_fast_ok(v):
            assert LABEL_VALIDATOR.is_valid(v), v
    assert labels_store._label_fast_ok(variants[1])
    assert not labels_store._label_fast_ok(variants[5])


def test_content_round_trips_bytes_exactly(tmp_path: Path) -> None:
    from phase2_git.store.labels import LabeledItem, read_labels, write_labels

    sides = [b"\xef\xbb\xbfbom\r\n", b"caf\xe9\n", b"\x00\x01\xff", b"", "é✓\n".encode()]
    items = [
        LabeledItem(
            id=f"i{n}",
            artifact_type="text",
            mismatch_type="content",
            label=False,
            before=data,
            after=data[::-1],
        )
        for n, data in enumerate(sides)
    ]
    path = tmp_path / "l.jsonl"
    write_labels(path, items)
    for row in path.read_text(encoding="utf-8").splitlines():
        assert LABEL_VALIDATOR.is_valid(json.loads(row))
    back = read_labels(path)
    assert [(i.before, i.after) for i in back] == [(i.before, i.after) for i in items]
    assert "before_base64" in path.read_text().splitlines()[1]  # latin-1 is not UTF-8


# -------------------------------------------------------------------------------- prometheus


def test_prom_output_has_the_contract_names_and_passes_promtool(
    dataset, cli: Cli, tmp_path
) -> None:
    repo, d, r, _, _ = dataset
    prom = tmp_path / "judge.prom"
    code, _, err = cli(
        "judge",
        "eval",
        "--dataset",
        str(d),
        "--results",
        str(r),
        "--prom",
        str(prom),
        "--bootstrap",
        "50",
        repo=repo,
    )
    assert code == 0, err
    text = prom.read_text()
    for name in (
        "judge_confusion_total",
        "phase2_kappa_by_type",
        "phase2_kappa",
        "phase2_kappa_ci_low",
        "phase2_kappa_ci_high",
        "phase2_false_positive_rate",
        "phase2_dataset_items",
    ):
        assert f"\n{name}" in text or text.startswith(name) or f"# TYPE {name} " in text, name
    assert "# TYPE judge_confusion_total counter" in text
    assert (
        'judge_confusion_total{artifact_type="json",label="true",method="ext_good",predicted="true"}'
        in text
    )
    assert "phase2_dataset_items 360.0" in text
    assert "_created" not in text
    # byte-identical for the same inputs (invariant 8)
    first = prom.read_bytes()
    cli(
        "judge",
        "eval",
        "--dataset",
        str(d),
        "--results",
        str(r),
        "--prom",
        str(prom),
        "--bootstrap",
        "50",
        repo=repo,
    )
    assert prom.read_bytes() == first
    promtool = require_tool("promtool")
    import subprocess

    proc = subprocess.run([promtool, "check", "metrics"], input=first, capture_output=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_text_format_is_readable(dataset, cli: Cli) -> None:
    repo, d, r, _, _ = dataset
    code, out, err = cli(
        "judge", "eval", "--dataset", str(d), "--results", str(r), "--bootstrap", "50", repo=repo
    )
    assert code == 0, err
    assert "ext_good" in out and "kappa=" in out and "by mismatch type:" in out
    assert "FP rate=" in out and "audits:" in out


@pytest.mark.parametrize(("tp", "tn"), [(5, 5), (5, 300), (120, 7), (4, 50)])
def test_perfect_agreement_shortcut_equals_the_bootstrap(tp: int, tn: int) -> None:
    from phase2_git.core.stats import kappa_ci_bootstrap

    labels = [True] * tp + [False] * tn
    for seed in (0, 1, 2):
        want = kappa_ci_bootstrap(labels, labels, resamples=500, seed=seed)
        got = block(labels, labels, resamples=500, seed=seed)["kappa_ci"]
        assert got == (list(want) if want else None)


def test_eval_outside_a_repository_and_output_file(tmp_path: Path, cli: Cli, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    d = write_jsonl(tmp_path / "labels.jsonl", content_items())
    out_file = tmp_path / "eval.json"
    code, out, err = cli(
        "judge",
        "eval",
        "--dataset",
        str(d),
        "--methods",
        "exact",
        "--bootstrap",
        "20",
        "--output",
        str(out_file),
    )
    assert code == 0, err
    assert "exact" in out and json.loads(out_file.read_text())["n"] == len(content_items())
    assert not (tmp_path / ".phase2").exists()  # nothing stored outside a repository
    code, _, err = cli("judge", "eval")
    assert code == 2 and "--dataset is required outside a git repository" in err
    code, _, err = cli("judge", "eval", "--dataset", str(d), "--format", "xml")
    assert code == 2 and "--format must be one of text, json" in err
