"""``phase2 diff --shard K/N`` + ``phase2 report merge``: N shards merge to the unsharded run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phase2_git.core.artifacts import shard_of
from phase2_git.core.model import ARTIFACT_TYPES, MISMATCH_TYPES, Change, Mismatch, Plan
from phase2_git.core.summary import FAIL_ON, Tally, summarize
from phase2_git.reports import jsonout
from tests.conftest import Cli, TestRepo
from tests.test_junit import prom_samples, promtool_check, validate_junit
from tests.test_prom import TIMED

N = 4


@pytest.fixture
def big_repo(repo: TestRepo) -> TestRepo:
    """80 artifacts, 32 changed (noise, real, added, deleted), spread over the shards."""
    for i in range(40):
        repo.write(f"d{i % 3}/f{i}.json", f'{{"a": {i}, "b": 2}}\n')
        repo.write(f"t/n{i}.txt", f"line {i}\nmore\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    for i in range(40):
        kind = i % 4
        if kind == 0:
            repo.write(f"d{i % 3}/f{i}.json", f'{{"b": 2, "a": {i}}}\n')  # noise
        elif kind == 1:
            repo.write(f"d{i % 3}/f{i}.json", f'{{"a": {i + 1}, "b": 2}}\n')  # real
        elif kind == 2:
            repo.write(f"t/n{i}.txt", f"line {i}\r\nmore\r\n")  # noise
    repo.write("added.json", "[]\n")
    (repo.root / "t/n3.txt").unlink()
    repo.commit("head")
    return repo


def diff_to(cli: Cli, repo: TestRepo, out: Path, *args: str) -> dict[str, Any]:
    code, text, err = cli("diff", "main", "HEAD", "--format", "json", *args, repo=repo)
    assert err == ""
    out.write_text(text)
    doc: dict[str, Any] = json.loads(text)
    assert code == doc["summary"]["exit_code"]
    return doc


@pytest.fixture
def shards(big_repo: TestRepo, cli: Cli, tmp_path: Path) -> tuple[dict[str, Any], list[Path]]:
    whole = diff_to(cli, big_repo, tmp_path / "whole.json")
    files = []
    for k in range(1, N + 1):
        f = tmp_path / f"shard{k}.json"
        doc = diff_to(cli, big_repo, f, "--shard", f"{k}/{N}")
        assert doc["shard"] == {"index": k, "count": N}
        assert all(shard_of(m["path"], N) == k for m in doc["mismatches"])
        files.append(f)
    return whole, files


def test_four_shards_merge_to_the_unsharded_run(
    big_repo: TestRepo, shards, cli: Cli, tmp_path: Path
) -> None:
    whole, files = shards
    assert whole["summary"]["total"] == 32
    sizes = [len(json.loads(f.read_text())["mismatches"]) for f in files]
    assert all(sizes) and sum(sizes) == 32  # every shard holds some, none is lost
    # any order of the inputs
    code, out, err = cli("report", "merge", *map(str, reversed(files)))
    assert err == "" and code == whole["summary"]["exit_code"]
    merged = json.loads(out)
    whole.pop("shard", None)
    assert merged == whole
    assert out == jsonout.dumps(whole)  # byte for byte, key order included


def test_merge_re_emits_the_same_ci_outputs(
    big_repo: TestRepo, shards, cli: Cli, tmp_path: Path, monkeypatch
) -> None:
    _, files = shards
    one, many = tmp_path / "one", tmp_path / "many"
    for folder in (one, many):
        folder.mkdir()
    outs = ("--junit", "j.xml", "--prom", "m.prom", "--summary", "s.md")
    monkeypatch.chdir(one)
    cli("diff", "main", "HEAD", *outs, repo=big_repo)
    monkeypatch.chdir(many)
    cli("report", "merge", *map(str, files), *outs, repo=big_repo)
    validate_junit(many / "j.xml")
    assert (one / "j.xml").read_bytes() == (many / "j.xml").read_bytes()
    assert (one / "s.md").read_text() == (many / "s.md").read_text()
    promtool_check(many / "m.prom")

    def stable(p: Path) -> list[str]:
        return [line for line in p.read_text().splitlines() if not line.startswith(TIMED)]

    assert stable(one / "m.prom") == stable(many / "m.prom")
    assert set(prom_samples(many / "m.prom")) == set(prom_samples(one / "m.prom"))


def test_merge_outside_a_repository_has_no_excerpts(
    shards, cli: Cli, tmp_path: Path, monkeypatch
) -> None:
    _, files = shards
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    code, _, err = cli("report", "merge", *map(str, files), "--junit", "j.xml")
    assert code == 1 and err == ""
    xml = validate_junit(elsewhere / "j.xml")
    failures = [c for c in next(iter(xml)) if not c.is_passed]
    assert failures and all("excerpt unavailable" in c.result[0].text for c in failures)


def test_fail_on_override_and_formats(shards, cli: Cli) -> None:
    whole, files = shards
    code, out, _ = cli("report", "merge", *map(str, files), "--fail-on", "never")
    assert code == 0 and json.loads(out)["summary"]["fail_on"] == "never"
    code, out, _ = cli("report", "merge", *map(str, files), "--format", "markdown")
    assert out.startswith(f"## phase2: {whole['summary']['real']} real change(s)")
    code, out, _ = cli("report", "merge", *map(str, files), "--format", "text")
    assert "merged from 4 shard(s)" in out and "32 mismatch(es)" in out


def _edit(path: Path, fn) -> Path:
    doc = json.loads(path.read_text())
    fn(doc)
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("missing", "shard(s) 4 of 4 missing"),
        ("twice", "shard 1/4 given twice"),
        ("base", "base differs from"),
        ("fingerprint", "config_fingerprint differs from"),
        ("count", "the others are /4"),
        ("unsharded", "not a shard output"),
        ("schema", "summary: 'exit_code' is a required property"),
        ("not-json", "not a phase2 JSON report"),
        ("absent", "cannot read"),
        ("format", "--format must be one of"),
    ],
)
def test_bad_inputs_exit_2_naming_the_file(
    shards, cli: Cli, tmp_path: Path, case: str, needle: str
) -> None:
    _, files = shards
    args = [str(f) for f in files]
    bad = tmp_path / "bad.json"
    if case == "missing":
        args = args[:3]
    elif case == "twice":
        args = [args[0], args[0], *args[1:]]
    elif case in ("base", "fingerprint", "count", "unsharded", "schema"):
        bad.write_text(files[3].read_text())

        def change(doc: dict[str, Any]) -> None:
            if case == "base":
                doc["base"] = "f" * 40
            elif case == "fingerprint":
                doc["config_fingerprint"] = "0" * 64
            elif case == "count":
                doc["shard"]["count"] = 5
            elif case == "unsharded":
                del doc["shard"]
            else:
                del doc["summary"]["exit_code"]

        _edit(bad, change)
        args[3] = str(bad)
    elif case == "not-json":
        bad.write_text("{nope")
        args[3] = str(bad)
    elif case == "absent":
        args[3] = str(tmp_path / "absent.json")
    elif case == "format":
        args += ["--format", "yaml"]
    code, out, err = cli("report", "merge", *args)
    assert code == 2 and out == ""
    assert err.startswith("phase2: error: ") and err.count("\n") == 1, err
    assert needle in err
    if case in ("base", "fingerprint", "count", "unsharded", "schema", "not-json"):
        assert str(bad) in err


_DECISIONS = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "id": st.just("dec_0123456789abcdef"),
            "decision": st.sampled_from(["approve", "reject"]),
            "trusted": st.booleans(),
        }
    ),
)


@st.composite
def _mismatches(draw: st.DrawFn) -> Mismatch:
    status = draw(st.sampled_from(["added", "deleted", "modified", "renamed", "mode"]))
    change = Change(status, "a.json", None, None, None, "100644", "100644")  # type: ignore[arg-type]
    plan = Plan("plan_0123456789ab", "manual", None, draw(st.booleans()), 1.0, "")
    return Mismatch(
        id="mis_0123456789ab",
        change=change,
        artifact_type=draw(st.sampled_from(ARTIFACT_TYPES)),
        mismatch_type=draw(st.sampled_from(MISMATCH_TYPES)),
        detail="",
        verdicts=(),
        plan=plan,
        resolved=draw(st.booleans()),
        decision=draw(_DECISIONS),
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(_mismatches(), max_size=30), st.sampled_from(FAIL_ON))
def test_the_merge_counts_the_json_form_as_the_run_counts_mismatches(
    mismatches: list[Mismatch], rule: Any
) -> None:
    """A merged report's summary comes from the shards' JSON (``Tally.add_json``): the same
    figures ``core.summary`` gives for the mismatches that JSON was written from."""
    tally = Tally()
    for m in mismatches:
        tally.add_json(m.to_json())
    assert tally.summary(rule) == summarize(mismatches, rule)
