"""resolve --yes checks its decisions against the schema in a forked child while it makes the
commit (app/resolve.py: commit_with_log), where a fork is allowed: the same commit and log as
checking them in its own process, the same refusal of an invalid one with nothing moved, and a
child that gives no verdict is never trusted."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest

from phase2_git.app import forking
from phase2_git.app import resolve as resolvemod
from phase2_git.store import decisions
from tests.conftest import Cli, TestRepo
from tests.test_workers import _regenerated

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="a child is forked on Linux only"
)


@pytest.fixture(autouse=True)
def any_number(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any number of decisions is checked in a child (500 or more outside these tests)."""
    monkeypatch.setattr(resolvemod, "_CHILD_FROM", 1)


def _resolved(repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch, workers: str) -> Any:
    _regenerated(repo, 30)
    repo.git("checkout", "-q", "-b", "regen")
    monkeypatch.setenv(forking.ENV, workers)
    code, out, err = cli("resolve", "HEAD~1", "--yes", repo=repo)
    return code, out, err


def _log(repo: TestRepo) -> list[dict[str, Any]]:
    lines = repo.git("show", "HEAD:.phase2/decisions.jsonl").splitlines()
    events = [json.loads(line) for line in lines]
    for ev in events:  # what differs from run to run
        for key in ("id", "run_id", "ts", "seq"):
            ev.pop(key, None)
    return events


def test_the_child_checks_and_the_commit_is_the_same(
    make_repo: Any, cli: Cli, monkeypatch: pytest.MonkeyPatch, forks: list[Any]
) -> None:
    serial, parallel = make_repo(name="serial"), make_repo(name="parallel")
    one = _resolved(serial, cli, monkeypatch, "0")
    assert forks == []
    two = _resolved(parallel, cli, monkeypatch, "1")
    assert forks == [(True, None)]  # checked in the child: every decision valid
    assert one[0] == two[0] == 1, (one, two)  # real changes are left for review
    assert _log(parallel) == _log(serial) and len(_log(serial)) > 10
    assert serial.git("rev-parse", "HEAD:out") == parallel.git("rev-parse", "HEAD:out")
    assert parallel.git("status", "--porcelain").strip() == ""


def _breaking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every decision this run records carries a value its schema refuses."""
    real = decisions.new_event

    def bad(**kw: Any) -> dict[str, Any]:
        ev = real(**kw)
        ev["decision"] = "maybe"
        return ev

    monkeypatch.setattr(resolvemod, "new_event", bad)


@pytest.mark.parametrize("workers", ["0", "1"])
def test_an_invalid_decision_moves_nothing(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch, forks: list[Any], workers: str
) -> None:
    _regenerated(repo, 30)
    repo.git("checkout", "-q", "-b", "regen")
    head, status = repo.head(), repo.git("status", "--porcelain")
    files = {p: p.read_bytes() for p in (repo.root / "out").iterdir()}
    _breaking(monkeypatch)
    monkeypatch.setenv(forking.ENV, workers)
    code, _, err = cli("resolve", "HEAD~1", "--yes", repo=repo)
    assert code == 2 and "decisions.jsonl" in err and "maybe" in err, err
    assert forks == ([] if workers == "0" else [(True, err.strip().split(": ", 2)[-1])])
    assert repo.head() == head and repo.git("status", "--porcelain") == status
    assert {p: p.read_bytes() for p in (repo.root / "out").iterdir()} == files


def test_a_child_without_a_verdict_is_not_trusted(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch, forks: list[Any]
) -> None:
    """The child dies before it answers: this process checks the decisions itself, and
    refuses an invalid one as ever."""
    parent = os.getpid()
    checked_here: list[int] = []
    real = decisions.validate_all

    def dies_in_the_child(events: Any, *args: Any) -> None:
        if os.getpid() != parent:
            os._exit(9)  # killed, out of memory: no verdict at all
        checked_here.append(len(events))
        real(events, *args)

    monkeypatch.setattr(resolvemod, "validate_all", dies_in_the_child)
    _breaking(monkeypatch)
    code, _, err = _resolved(repo, cli, monkeypatch, "1")
    assert forks == [(False, None)] and checked_here  # no verdict: checked here
    assert code == 2 and "maybe" in err, err
