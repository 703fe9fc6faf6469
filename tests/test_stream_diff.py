"""Flat memory for large diffs: the streamed run gives exactly the listed run's output.

``phase2 diff`` streams: changes are parsed from git's raw output as they are used, blobs are
read just ahead of the classification, and each mismatch is encoded into a spool and dropped.
These tests hold the streamed pieces to their list-based twins, byte for byte, on real
repositories large enough to take the streamed paths (more than 256 changes, more than the
spool's 1 MiB of memory).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import tests.conftest as cf
from phase2_git.app.diff import run_diff, stream_diff
from phase2_git.core.model import MODE_GITLINK, Change, Mismatch, is_noise
from phase2_git.core.summary import FAIL_ON, FailOn, is_approved, summarize
from phase2_git.errors import GitError
from phase2_git.git import blobs as blobs_mod
from phase2_git.git import changes as changes_mod
from phase2_git.git.blobs import read_blobs
from phase2_git.git.changes import _in_order, changed_files, iter_changed_files, parse_raw
from phase2_git.git.repo import GitRepo
from phase2_git.git.sides import resolve_side
from phase2_git.reports import jsonout
from phase2_git.store.config import load
from tests.strategies import json_values

SCHEMA = json.loads((Path(__file__).parent.parent / "schemas" / "Phase2Diff.v1.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)
N = 1500  # 1,200 changed: past 256 (streamed blobs) and, at 1 KiB a line, the 1 MiB spool


def artifact(n: int, accuracy: float) -> bytes:
    doc = {"case": n, "accuracy": accuracy, "labels": ["a", "b", "c"], "meta": {"seed": n}}
    return (json.dumps(doc, indent=2) + "\n").encode()


@pytest.fixture
def big_pr(make_repo: Any, cli: cf.Cli, monkeypatch: pytest.MonkeyPatch) -> cf.TestRepo:
    """main: N artifacts; pr: every kind of change, and a real change approved on the branch."""
    repo: cf.TestRepo = make_repo()
    for n in range(N):
        repo.write(f"eval/{n // 100:02}/case-{n:04}.json", artifact(n, 0.5))
    repo.write("eval/caf\u00e9.json", artifact(-1, 0.5))  # non-ASCII: the decoded order check
    repo.write("eval/moved.json", artifact(-2, 0.5))
    repo.write("eval/gone.json", artifact(-3, 0.5))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "pr")
    for n in range(N):
        path = f"eval/{n // 100:02}/case-{n:04}.json"
        kind = n % 5
        if kind == 0:  # reorder
            doc = json.loads(artifact(n, 0.5))
            repo.write(path, json.dumps(dict(reversed(list(doc.items()))), indent=2) + "\n")
        elif kind == 1:  # re-indent
            repo.write(path, json.dumps(json.loads(artifact(n, 0.5))) + "\n")
        elif kind == 2:  # final newline
            repo.write(path, artifact(n, 0.5).rstrip(b"\n"))
        elif kind == 3:  # real
            repo.write(path, artifact(n, 0.75))
    repo.write("eval/caf\u00e9.json", artifact(-1, 0.25))
    os.rename(repo.root / "eval/moved.json", repo.root / "eval/zz-moved.json")
    (repo.root / "eval/gone.json").unlink()
    repo.write("eval/new.json", b"[1, 2, 3]\n")  # nothing like gone.json: not a rename
    repo.commit("regenerate")
    monkeypatch.setenv("CI", "true")
    code, _, err = cli("approve", "eval/00/case-0003.json", "--base", "main", repo=repo)
    assert code == 0, err
    return repo


def naive_summary(mismatches: list[Mismatch], fail_on: FailOn) -> dict[str, object]:
    """The summary as core.summary computed it before the Tally: one pass per figure."""
    real = [m for m in mismatches if not is_noise(m.mismatch_type)]
    unresolved_real = sum(1 for m in real if not is_approved(m))
    unresolved_noise = sum(1 for m in mismatches if is_noise(m.mismatch_type) and not m.resolved)
    failing = {
        "real": unresolved_real,
        "noise": unresolved_noise,
        "any": unresolved_real + unresolved_noise,
        "never": 0,
    }[fail_on]

    def count(key: Any) -> dict[str, int]:
        out: dict[str, int] = {}
        for m in mismatches:
            out[key(m)] = out.get(key(m), 0) + 1
        return dict(sorted(out.items()))

    return {
        "total": len(mismatches),
        "noise": len(mismatches) - len(real),
        "real": len(real),
        "safe": sum(1 for m in mismatches if m.plan.safe and not m.resolved),
        "resolved": sum(1 for m in mismatches if m.resolved),
        "approved": sum(1 for m in mismatches if is_approved(m)),
        "unresolved_real": unresolved_real,
        "unresolved_noise": unresolved_noise,
        "by_mismatch_type": count(lambda m: m.mismatch_type),
        "by_artifact_type": count(lambda m: m.artifact_type),
        "by_status": count(lambda m: m.status),
        "fail_on": fail_on,
        "failing": failing,
        "exit_code": 1 if failing else 0,
    }


def test_streamed_document_is_the_listed_one_byte_for_byte(
    big_pr: cf.TestRepo, cli: cf.Cli
) -> None:
    g = GitRepo.discover(big_pr.root)
    config = load(g.root)
    listed = run_diff(g, "main", "pr", config=config)
    kinds = {m.mismatch_type for m in listed.mismatches}
    assert {
        "json_ordering",
        "whitespace",
        "trailing_newline",
        "content",
        "added",
        "deleted",
    } <= kinds
    assert any(m.status == "renamed" for m in listed.mismatches)
    assert any(m.decision for m in listed.mismatches)
    assert listed.notices  # the approval is unverified: no [trust] table
    with stream_diff(g, "main", "pr", config=config) as streamed:
        assert len(streamed.mismatches) == len(listed.mismatches) > 1200
        assert streamed.mismatches._spilled  # the lines went to a temporary file
        assert streamed.notices == listed.notices
        for rule in FAIL_ON:
            want = jsonout.dumps(listed.to_json(rule))
            assert jsonout.dumps(streamed.to_json(rule)) == want
            assert streamed.summary(rule) == naive_summary(listed.mismatches, rule)
            assert summarize(listed.mismatches, rule) == naive_summary(listed.mismatches, rule)
        # the report writers read the spool as a list of dicts
        assert list(streamed.mismatches) == [m.to_json() for m in listed.mismatches]

    code, out, err = cli("diff", "main", "pr", "--format", "json", repo=big_pr)
    assert err == ""
    assert out == jsonout.dumps(listed.to_json("real"))
    doc = json.loads(out)
    assert not list(VALIDATOR.iter_errors(doc))
    assert code == doc["summary"]["exit_code"] == 1
    assert doc["summary"]["total"] == len(doc["mismatches"])


def test_other_formats_and_reports_from_the_spool(
    big_pr: cf.TestRepo, cli: cf.Cli, tmp_path: Path
) -> None:
    junit, prom, summary = tmp_path / "j.xml", tmp_path / "m.prom", tmp_path / "s.md"
    args = ["diff", "main", "pr", "--junit", str(junit)]
    args += ["--prom", str(prom), "--summary", str(summary), "--format", "markdown"]
    code, out, err = cli(*args, repo=big_pr)
    assert code == 1
    assert err == "" and out == summary.read_text()
    assert junit.read_text().count("<testcase") > 1200
    assert "phase2_mismatches{" in prom.read_text()
    code, out, _ = cli("diff", "main", "pr", "--format", "text", repo=big_pr)
    assert code == 1
    assert "zz-moved.json" in out and "FAIL" in out


# ---------------------------------------------------------------------------- the spool


def test_spool_reads_like_the_list_it_holds() -> None:
    items = [{"id": k, "path": f"p/\u00e9{k}", "score": k / 3} for k in range(40)]
    for memory in (0, 300, 1 << 20):  # on disk at once, after a few lines, in memory
        with jsonout.MismatchSpool(memory=memory) as spool:
            spool.extend(items[:10])
            for item in items[10:]:
                spool.append(item)
            assert len(spool) == 40 and spool == items and spool != items[:-1]
            assert spool[0] == items[0] and spool[-1] == items[-1] and spool[7] == items[7]
            assert spool[5:9] == items[5:9] and spool[::-13] == items[::-13]
            with pytest.raises(IndexError):
                spool[40]
            with pytest.raises(IndexError):
                spool[-41]
            # reading then adding: the new line goes at the end, not where the read stopped
            walk = iter(spool)
            assert next(walk) == items[0]
            spool.append({"id": 40})
            assert next(walk) == items[1]
            assert list(spool)[-1] == {"id": 40} and len(spool) == 41
            doc = {"schema": "x", "mismatches": spool, "summary": {"total": 41}}
            assert jsonout.dumps(doc) == jsonout.dumps({**doc, "mismatches": [*items, {"id": 40}]})
    with jsonout.MismatchSpool() as empty:
        assert jsonout.dumps({"mismatches": empty}) == '{\n"mismatches":[]\n}\n'
        empty.extend([])
        assert len(empty) == 0


def test_spool_refuses_what_json_refuses_and_stays_whole() -> None:
    with jsonout.MismatchSpool() as spool:
        spool.append({"a": 1})
        with pytest.raises(ValueError):
            spool.extend([{"b": 2}, {"c": float("nan")}])
        assert list(spool) == [{"a": 1}]


@settings(max_examples=200, deadline=None)
@given(json_values())
def test_encoder_made_once_writes_what_json_dumps_writes(value: Any) -> None:
    assert jsonout._enc(value) == jsonout._dumps(value)


# ---------------------------------------------------------------------------- changes, blobs


@pytest.mark.parametrize("held", [changes_mod._HELD, 100])
def test_changes_one_at_a_time_are_changed_files(
    big_pr: cf.TestRepo, held: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # held=100: git's raw output goes to a temporary file past 100 bytes, not 1 MiB (the
    # 1,200 changes here are 170 KiB of it)
    monkeypatch.setattr(changes_mod, "_HELD", held)
    g = GitRepo.discover(big_pr.root)
    for base, head in (("main", "pr"), ("pr", "main"), ("main", ":worktree"), ("pr", "pr")):
        b, h = resolve_side(g, base), resolve_side(g, head)
        assert list(iter_changed_files(g, b, h)) == changed_files(g, b, h)


_raw_paths = st.sampled_from(["a", "b", "d/c", "\u00e9", "\udc80", "b/x", "ab", "a.b"])


@given(
    st.lists(
        st.tuples(st.sampled_from(["M", "A", "D", "R100", "R075"]), _raw_paths, _raw_paths),
        max_size=12,
    ),
    st.lists(st.integers(0, 2000), max_size=8),
)
def test_raw_output_read_back_in_pieces_is_the_held_one(
    entries: list[tuple[str, str, str]], cuts: list[int]
) -> None:
    out = raw(*((s, path, old if s.startswith("R") else "") for s, path, old in entries))
    bounds = sorted({0, len(out), *(c % (len(out) + 1) for c in cuts)})
    pieces = [out[a:b] for a, b in pairwise(bounds)]
    assert list(changes_mod.nul_fields(pieces)) == list(changes_mod._split(out))
    held = parse_raw(out) if _in_order(out) else sorted(parse_raw(out), key=_key)
    # what iter_changed_files hands out past _HELD: every piece went through the file
    assert list(changes_mod._spilled(pieces[:1], iter(pieces[1:]))) == held
    assert held == sorted(held, key=_key)


def _key(c: Change) -> tuple[str, str]:
    return c.path, c.old_path or ""


def raw(*entries: tuple[str, str, str]) -> bytes:
    """git's -z raw output for (status, path, old path or '') entries."""
    oid = "a" * 40
    out = b""
    for status, path, old in entries:
        out += f":100644 100644 {oid} {oid} {status}\0".encode()
        out += (f"{old}\0{path}\0" if old else f"{path}\0").encode("utf-8", "surrogateescape")
    return out


@pytest.mark.parametrize(
    ("out", "in_order"),
    [
        (b"", True),
        (raw(("M", "a", ""), ("M", "b", "")), True),
        (raw(("M", "b", ""), ("M", "a", "")), False),
        (raw(("R100", "b", "z"), ("R100", "b", "y")), False),  # same path: old paths ordered
        (raw(("R100", "b", "y"), ("R100", "b", "z"), ("C050", "c", "a")), True),
        # an undecodable byte sorts after a decoded letter, whatever their bytes say
        (raw(("M", "\udc80", ""), ("M", "\u00e9", "")), False),
        (raw(("M", "\u00e9", ""), ("M", "\udc80", "")), True),
        (raw(("U", "a", "")), False),  # unmerged: the sorted parse raises for it
        (b":100644 100644 x M\0a\0", False),  # four fields
        (b"100644 100644 a b M\0a\0", False),  # no colon
        (b":100644 100644 a b M", False),  # no path
        (b":100644 100644 a b R100\0old", False),  # no new path
        (":100644 100644 a b M\u00e9\0a\0".encode(), False),  # not ASCII
    ],
)
def test_order_check_of_raw_output(out: bytes, in_order: bool) -> None:
    assert _in_order(out) is in_order
    if in_order:  # what iter_changed_files then hands out as it is: parse_raw's sorted order
        changes = parse_raw(out)
        assert changes == sorted(changes, key=lambda c: (c.path, c.old_path or ""))


def test_read_blobs_streams_a_long_iterator(big_pr: cf.TestRepo) -> None:
    g = GitRepo.discover(big_pr.root)
    changes = changed_files(g, resolve_side(g, "main"), resolve_side(g, "pr"))
    # gitlinks ask cat-file nothing: the lookahead counts requests, not changes
    links = [
        Change(
            "modified",
            f"eval/00/case-{k:04}.json~sub",
            None,
            "1" * 40,
            "2" * 40,
            MODE_GITLINK,
            MODE_GITLINK,
        )
        for k in range(0, 600, 7)
    ]
    mixed = sorted([*changes, *links], key=lambda c: c.path)
    assert len(mixed) > blobs_mod._SMALL + blobs_mod._AHEAD
    # what the list path (up to 256 changes a call) reads, against one streamed call
    step = blobs_mod._SMALL - 1
    listed = [
        x
        for k in range(0, len(mixed), step)
        for x in read_blobs(g, mixed[k : k + step], max_size=1 << 20)
    ]
    streamed = list(read_blobs(g, iter(mixed), max_size=1 << 20))
    assert streamed == listed and [c for c, _, _ in streamed] == mixed
    link = next(b for c, b, _ in streamed if c.before_mode == MODE_GITLINK)
    assert link is not None and link.data == b"Subproject commit " + b"1" * 40 + b"\n"


def _git_children() -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == os.getpid() and "(git)" in stat:
            kids.append(int(entry))
    return kids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_streamed_read_stops_cleanly(big_pr: cf.TestRepo) -> None:
    g = GitRepo.discover(big_pr.root)
    changes = changed_files(g, resolve_side(g, "main"), resolve_side(g, "pr"))

    gen = read_blobs(g, iter(changes), max_size=1 << 20)
    assert next(gen)[0] == changes[0]
    assert _git_children()
    gen.close()
    assert _git_children() == []

    def failing() -> Iterator[Change]:
        yield from changes
        raise GitError("taking the next change failed")

    seen = []
    with pytest.raises(GitError, match="next change failed"):
        for c, _, _ in read_blobs(g, failing(), max_size=1 << 20):
            seen.append(c)
    # raised where it happens: once the lookahead reaches it, after the changes read so far
    assert seen == changes[: len(seen)] and len(seen) >= blobs_mod._SMALL
    assert _git_children() == []

    ghost = Change("added", "ghost", None, None, "3" * 40, "000000", "100644")
    with pytest.raises(GitError, match="ghost"):
        list(read_blobs(g, iter([*changes[:700], ghost, *changes[700:]]), max_size=1 << 20))
    assert _git_children() == []


@pytest.mark.skipif(os.name != "posix", reason="needs byte file names")
def test_git_order_that_is_not_ours_is_sorted_first(make_repo: Any) -> None:
    # git lists byte order (0x80 before 0xc3); paths decode with surrogateescape, and
    # U+DC80 sorts after U+00E9: the changes come out in the decoded order, like a list's
    repo: cf.TestRepo = make_repo()
    names = [os.fsdecode(b"d/\x80.json"), "d/\u00e9.json", "d/a.json"]
    for name in names:
        repo.write(name, "1\n")
    repo.commit()
    for name in names:
        repo.write(name, "2\n")
    repo.commit()
    g = GitRepo.discover(repo.root)
    base, head = resolve_side(g, "HEAD~1"), resolve_side(g, "HEAD")
    raw_order = repo.git("diff-tree", "-r", "--name-only", "-z", "HEAD~1", "HEAD").split("\0")
    assert raw_order[:3] == ["d/a.json", names[0], names[1]]  # git's byte order
    got = [c.path for c in iter_changed_files(g, base, head)]
    assert got == [c.path for c in changed_files(g, base, head)] == sorted(names)


def test_a_failing_streamed_run_writes_nothing(
    big_pr: cf.TestRepo, cli: cf.Cli, tmp_path: Path
) -> None:
    # a blob the pr side needs is gone from the object store (a broken clone): the run fails
    # halfway through the stream, and neither stdout nor a report file gets a partial document
    oid = big_pr.git("rev-parse", "pr:eval/11/case-1103.json").strip()
    (big_pr.root / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    junit = tmp_path / "j.xml"
    code, out, err = cli(
        "diff", "main", "pr", "--format", "json", "--junit", str(junit), repo=big_pr
    )
    assert code == 2 and out == "" and not junit.exists()
    assert oid in err and err.count("\n") == 1
    g = GitRepo.discover(big_pr.root)
    with pytest.raises(GitError):
        stream_diff(g, "main", "pr", config=load(g.root))
