"""``phase2 labels next``: what the gate still needs from the labels, and what to label next.

Its needs must be exactly the gaps the gate reports as insufficient (or "not gated"): each case
builds a dataset, asks both commands, and compares."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phase2_git.core import stats
from phase2_git.core.label_needs import negatives_for_fp_bound
from tests.conftest import Cli, TestRepo
from tests.test_gate import GOOD, TYPES, build, gate_json, split

CASES: dict[str, dict[str, Any]] = {
    "complete": dict.fromkeys(TYPES, GOOD),
    "small": {t: split((20, 0, 15, 1), (8, 0, 6, 0)) for t in TYPES},
    # real noise is never labelled 'different': whitespace has one label class
    "one_class": {**dict.fromkeys(TYPES, GOOD), "whitespace": split((60, 0, 0, 5), (25, 0, 0, 2))},
    # a type with too few items to be gated
    "thin_type": {**dict.fromkeys(TYPES[:2], GOOD), "content": split((5, 0, 4, 0), (2, 0, 2, 0))},
    # nothing 'different' reached the test split: the FP rate is undefined
    "no_test_negatives": {t: split((60, 0, 30, 2), (20, 0, 0, 1)) for t in TYPES},
}


def next_json(cli: Cli, repo: TestRepo, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli("labels", "next", "--format", "json", *args, repo=repo)
    assert code in (0, 1), err
    return code, json.loads(out)


def gate_gaps(doc: dict[str, Any]) -> set[str]:
    """The criteria the gate could not decide for lack of labels, named as labels next names
    them."""
    gaps: set[str] = set()
    for r in doc["results"]:
        for c in r["criteria"]:
            if c["name"] == "min_items" and c["status"] == "FAIL":
                gaps.add("min_items")
            if c["name"] == "fp_rate" and c["status"] == "INSUFFICIENT":
                gaps.add("fp_rate")
        for note in r.get("notes", []):
            mtype = note.split(":", 1)[0].removeprefix("type ")
            gaps.add(("type_labels:" if "all " in note else "type_items:") + mtype)
    return gaps


@pytest.mark.parametrize("case", list(CASES))
def test_labels_next_names_exactly_what_the_gate_lacks(repo: TestRepo, cli: Cli, case: str) -> None:
    labels, results = build(repo, CASES[case])
    _, gate = gate_json(cli, repo, "--dataset", str(labels), "--results", str(results))
    code, doc = next_json(cli, repo)
    named = {n["criterion"] for n in doc["needs"]}
    assert named == gate_gaps(gate), (named, gate)
    assert code == (1 if named else 0)
    if case == "complete":
        assert doc["needs"] == []
    if case == "one_class":
        (need,) = doc["needs"]
        assert need["label"] == "different" and need["mismatch_type"] == "whitespace"
    if case == "small":
        n = sum(sum(cells) for by in CASES["small"].values() for cells in by.values())
        assert {"criterion": "min_items", "missing": 200 - n}.items() <= doc["needs"][0].items()


def test_an_empty_dataset_needs_everything_and_the_text_says_what_next(
    repo: TestRepo, cli: Cli
) -> None:
    repo.write("a.txt", "x\n")
    repo.commit("base")
    code, out, err = cli("labels", "next", repo=repo)
    assert code == 1, err
    assert ".phase2/labels.jsonl: 0 labelled items; the gate still needs:" in out
    assert "200 more labelled items (0 of 200)" in out
    assert "phase2 labels next BASE [HEAD]" in out


@given(max_fp=st.floats(0.001, 0.5))
def test_fp_bound_needs_the_fewest_negatives_that_can_pass(max_fp: float) -> None:
    n = negatives_for_fp_bound(max_fp, "upper95")
    bound = stats.clopper_pearson_upper(0, n)
    assert bound is not None and bound <= max_fp + 1e-12
    if n > 1:
        fewer = stats.clopper_pearson_upper(0, n - 1)
        assert fewer is not None and fewer > max_fp
    assert negatives_for_fp_bound(max_fp, "point") == 1


def test_candidates_from_a_diff_lead_with_what_the_gate_lacks(repo: TestRepo, cli: Cli) -> None:
    """whitespace has only 'equivalent' labels: its unlabelled mismatches come first, the
    ones the judge doubts most (lowest cosine) first; a labelled mismatch is never offered."""
    for i in range(6):
        repo.write(f"ws/{i}.txt", "alpha beta gamma delta\n" * (i + 1))
    repo.write("real.txt", "one\n")
    repo.commit("base")
    for i in range(6):
        # trailing blanks: noise; more of them, and more lines, lower the TF-IDF doubt differently
        repo.write(f"ws/{i}.txt", "alpha beta gamma delta   \n" * (i + 1))
    repo.write("real.txt", "two\n")
    repo.commit("regen")
    labels, _ = build(repo, CASES["one_class"])
    code, doc = next_json(cli, repo, "HEAD~1", "HEAD", "--limit", "4")
    assert code == 1
    cands = doc["candidates"]
    assert len(cands) == 4 and doc["more_candidates"] == 2
    assert all(c["mismatch_type"] == "whitespace" for c in cands)
    assert all("type_labels:whitespace" in c["helps"] for c in cands)
    scores = [c["score"] for c in cands]
    assert scores == sorted(scores)
    # label one of them: it is no longer offered
    first = cands[0]
    with labels.open("a") as fh:
        row = {"id": first["id"], "artifact_type": "text", "mismatch_type": "whitespace",
               "label": "equivalent", "split": "train"}  # fmt: skip
        fh.write(json.dumps(row) + "\n")
    _, again = next_json(cli, repo, "HEAD~1", "HEAD", "--limit", "10")
    assert first["id"] not in {c["id"] for c in again["candidates"]}
    code, out, _ = cli("labels", "next", "HEAD~1", "HEAD", repo=repo)
    assert code == 1
    assert "label next (" in out and "phase2 resolve 'HEAD~1' HEAD" in out and "keys e" in out


def test_bad_options_are_one_line_usage_errors(repo: TestRepo, cli: Cli) -> None:
    repo.write("a.txt", "x\n")
    repo.commit("base")
    code, _, err = cli("labels", "next", "--format", "xml", repo=repo)
    assert code == 2 and "--format must be text or json" in err
    code, _, err = cli("labels", "next", "--limit", "0", repo=repo)
    assert code == 2 and "--limit must be at least 1" in err
    bad = repo.root / "bad.jsonl"
    bad.write_text("{not json\n")
    code, _, err = cli("labels", "next", "--dataset", str(bad), repo=repo)
    assert code == 2 and "bad.jsonl" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("labels", "next", "--method", "exact", repo=repo)
    assert code == 2 and "--method must be a statistical method" in err
