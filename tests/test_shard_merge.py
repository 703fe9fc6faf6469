"""``phase2 diff --shard K/N`` + ``phase2 report merge``: N shards merge to the unsharded run."""

from __future__ import annotations

import json
import os
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


# ---------------------------------------------------------------------------- two processes
# Where it may fork (app/forking.py), report merge validates the shards in a forked child
# while it merges and renders here (app/merge.py: merge_checked). PHASE2_WORKERS=0 is the
# serial path: both must give the same bytes, the same error, and write nothing on an error.

_CI = ("--junit", "j.xml", "--prom", "m.prom", "--summary", "s.md")
_WRITTEN = ("j.xml", "m.prom", "s.md")


def _merge_in(
    folder: Path, cli: Cli, repo: TestRepo, workers: str, args: list[str], monkeypatch
) -> tuple[int, str, str, dict[str, bytes]]:
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PHASE2_WORKERS", workers)
    code, out, err = cli("report", "merge", *args, *_CI, repo=repo)
    written = {}
    for name in _WRITTEN:
        if (folder / name).exists():
            data = (folder / name).read_bytes()
            if name == "m.prom":  # the run's own duration and time differ
                data = b"".join(
                    line
                    for line in data.splitlines(True)
                    if not line.startswith(tuple(t.encode() for t in TIMED))
                )
            written[name] = data
    return code, out, err, written


@pytest.mark.parametrize("fmt", ["json", "text", "markdown"])
def test_two_processes_write_what_one_writes(
    big_repo: TestRepo, shards, cli: Cli, tmp_path: Path, monkeypatch, forks, fmt: str
) -> None:
    whole, files = shards
    args = [*map(str, files), "--format", fmt]
    serial = _merge_in(tmp_path / "serial", cli, big_repo, "0", args, monkeypatch)
    assert forks == []
    parallel = _merge_in(tmp_path / "parallel", cli, big_repo, "1", args, monkeypatch)
    assert forks == [(True, None)]  # the shards were validated in the child: all valid
    assert parallel == serial
    code, out, err, written = parallel
    assert code == whole["summary"]["exit_code"] and err == ""
    assert set(written) == set(_WRITTEN)
    assert b"<failure" in written["j.xml"] and b"@@" in written["j.xml"]  # excerpts were read
    if fmt == "json":
        whole.pop("shard", None)
        assert out == jsonout.dumps(whole)


def _spoil(files: list[Path], tmp_path: Path, how: str) -> list[str]:
    """The shards' paths, some of them replaced by a spoilt copy."""
    args = [str(f) for f in files]

    def copy(k: int, fn: Any = None, text: str | None = None) -> None:
        bad = tmp_path / f"bad{k}.json"
        bad.write_text(text if text is not None else files[k].read_text())
        if fn is not None:
            _edit(bad, fn)
        args[k] = str(bad)

    def drop(*keys: str) -> Any:
        def change(doc: dict[str, Any]) -> None:
            target = doc
            for key in keys[:-1]:
                target = target[key]
            del target[keys[-1]]

        return change

    if how == "schema":
        copy(1, drop("summary", "exit_code"))
    elif how == "keyerror":  # the merge itself fails on it: doc["base"]
        copy(2, drop("base"))
    elif how == "mismatch-keyerror":  # the merge reads m["id"] of every mismatch
        copy(1, lambda d: d["mismatches"][0].pop("id"))
    elif how == "schema-then-not-json":
        copy(1, drop("summary", "exit_code"))
        copy(3, text="{nope")
    elif how == "schema-then-absent":
        copy(1, drop("summary", "exit_code"))
        args[3] = str(tmp_path / "absent.json")
    elif how == "not-json-then-schema":
        copy(0, text='{"schema": "Phase2Diff.v1",')
        copy(2, drop("summary", "exit_code"))
    elif how == "duplicate-key":  # only the strict parse refuses it
        text = files[2].read_text()
        assert text.count('"schema":') == 1
        copy(2, text=text.replace('"schema":', '"base":"x",\n"schema":'))
    elif how == "merge-error":  # valid shards that do not merge: the merge's own error
        args[3] = args[2]
    return args


@pytest.mark.parametrize(
    ("how", "needle", "bad"),
    [
        ("schema", "summary: 'exit_code' is a required property", "bad1"),
        ("keyerror", "'base' is a required property", "bad2"),
        ("mismatch-keyerror", "'id' is a required property", "bad1"),
        ("schema-then-not-json", "summary: 'exit_code' is a required property", "bad1"),
        ("schema-then-absent", "summary: 'exit_code' is a required property", "bad1"),
        ("not-json-then-schema", "not a phase2 JSON report", "bad0"),
        ("duplicate-key", "duplicate key 'base'", "bad2"),
        ("merge-error", "given twice", "shard3"),
    ],
)
def test_two_processes_fail_as_one_does(
    big_repo: TestRepo,
    shards,
    cli: Cli,
    tmp_path: Path,
    monkeypatch,
    forks,
    how: str,
    needle: str,
    bad: str,
) -> None:
    """The first invalid shard is the error, whatever the merge met meanwhile here; nothing
    is written (no file, nothing on stdout) before every shard is known valid."""
    _, files = shards
    args = _spoil(files, tmp_path, how)
    serial = _merge_in(tmp_path / "serial", cli, big_repo, "0", args, monkeypatch)
    parallel = _merge_in(tmp_path / "parallel", cli, big_repo, "1", args, monkeypatch)
    assert parallel == serial
    code, out, err, written = parallel
    assert code == 2 and out == "" and written == {}
    assert err.startswith("phase2: error: ") and err.count("\n") == 1, err
    assert needle in err and bad in err
    if how == "schema-then-absent":
        assert forks == []  # a shard unreadable: the ones before it checked here, no child
    elif how == "merge-error":
        assert forks == [(True, None)]
    else:
        assert forks == [(True, err.removeprefix("phase2: error: ").rstrip("\n"))]


@pytest.mark.parametrize("how", ["valid", "schema-then-not-json"])
def test_two_real_processes_print_what_one_prints(
    big_repo: TestRepo, shards, tmp_path: Path, how: str
) -> None:
    """As real processes: the child writes nothing on the command's stdout or stderr."""
    from tests.hostile_support import run_phase2

    _, files = shards
    args = ("report", "merge", *_spoil(files, tmp_path, how))
    runs = [
        run_phase2(args, cwd=big_repo.root, env={**os.environ, "PHASE2_WORKERS": workers})
        for workers in ("0", "1")
    ]
    serial, parallel = ((r.code, r.out, r.err) for r in runs)
    assert parallel == serial
    if how == "valid":
        assert serial[0] == 1 and serial[1].startswith(b"{") and serial[2] == b""
    else:
        assert serial[0] == 2 and serial[1] == b"" and serial[2].count(b"\n") == 1


def test_the_merge_forks_without_the_workers_machinery(
    big_repo: TestRepo, shards, tmp_path: Path
) -> None:
    """The fork rule comes from app/forking.py: the classification pipeline the diff's
    workers run, and multiprocessing, are never imported by a merge."""
    import subprocess
    import sys

    _, files = shards
    code = (
        "import sys\n"
        "from phase2_git.entry import main\n"
        "main(sys.argv[1:])\n"
        "print(*sorted(sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "report", "merge", *map(str, files)],
        cwd=big_repo.root,
        env={**os.environ, "PHASE2_WORKERS": "1"},
        capture_output=True,
        check=False,
    )
    loaded = set(proc.stderr.decode().split())
    assert "phase2_git.app.forking" in loaded  # it did consult the rule
    assert not loaded & {"phase2_git.app.workers", "phase2_git.core.pipeline"}
    if "coverage" not in loaded:  # coverage's subprocess support imports multiprocessing itself
        assert "multiprocessing" not in loaded


def test_a_bad_worker_count_is_refused_by_the_merge_too(
    shards, cli: Cli, monkeypatch: pytest.MonkeyPatch, forks
) -> None:
    _, files = shards
    monkeypatch.setenv("PHASE2_WORKERS", "two")
    code, out, err = cli("report", "merge", *map(str, files))
    assert code == 2 and out == "" and forks == []
    assert "PHASE2_WORKERS must be a whole number" in err


@pytest.mark.parametrize("how", ["valid", "schema"])
def test_a_child_without_verdict_is_not_trusted(
    big_repo: TestRepo, shards, cli: Cli, tmp_path: Path, monkeypatch, forks, how: str
) -> None:
    """A child killed before its verdict: the shards are validated here, as by one process."""
    import signal

    from phase2_git.app import merge

    _, files = shards
    args = _spoil(files, tmp_path, how)
    serial = _merge_in(tmp_path / "serial", cli, big_repo, "0", args, monkeypatch)
    here = os.getpid()
    real = merge.parse_document
    checked_here: list[str] = []

    def killed_in_the_child(raw: bytes, path: str) -> dict[str, Any]:
        if os.getpid() != here:
            os.kill(os.getpid(), signal.SIGKILL)
        checked_here.append(path)
        return real(raw, path)

    monkeypatch.setattr(merge, "parse_document", killed_in_the_child)
    parallel = _merge_in(tmp_path / "parallel", cli, big_repo, "1", args, monkeypatch)
    assert forks == [(False, None)]
    assert parallel == serial
    if how == "valid":
        assert parallel[0] == 1 and checked_here == args
    else:
        assert parallel[0] == 2 and "bad1" in parallel[2] and checked_here == args[:2]


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
