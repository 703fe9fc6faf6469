"""Each rule in one place, kept true by reading the source (AST, no import) and by calling the
one place that holds it:

- "are we in CI" and the environment a decision records: :mod:`phase2_git.core.env`;
- who decides: :func:`phase2_git.app.identity.identity`;
- the kill switch: :func:`phase2_git.store.gate.kill_switch`;
- a decision event: :func:`phase2_git.store.decisions.new_event`;
- the review loop: a key is an :class:`~phase2_git.ui.review.Action` from one table.

The layers themselves are import-linter's contracts (pyproject.toml, ``lint-imports``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from phase2_git.app.identity import Identity, identity
from phase2_git.core.env import env_name
from phase2_git.core.evaluation import EvalOptions, Predictions, evaluate, split_map
from phase2_git.core.gating import GateThresholds
from phase2_git.git.repo import GitRepo
from phase2_git.store.decisions import SCHEMA, new_event, validate
from phase2_git.ui.review import ACTIONS, HELP, KEYS, UNKNOWN
from tests.conftest import TestRepo

PACKAGE = Path(__file__).resolve().parent.parent / "phase2_git"


def _sources() -> Iterator[tuple[str, ast.AST]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        yield rel, ast.parse(path.read_text(encoding="utf-8"), rel)


def _constants(value: str) -> list[str]:
    """The modules (``rel:line``) that hold the string constant ``value``."""
    return [
        f"{rel}:{node.lineno}"
        for rel, tree in _sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value == value
    ]


def test_one_module_asks_whether_it_runs_in_ci() -> None:
    assert [where.split(":")[0] for where in _constants("CI")] == ["core/env.py"]


def test_one_identity_reader() -> None:
    assert [w.split(":")[0] for w in _constants("GIT_COMMITTER_IDENT")] == ["app/identity.py"]


def test_one_kill_switch_reader() -> None:
    assert [w.split(":")[0] for w in _constants("PHASE2_DISABLE_AUTORESOLVE")] == ["store/gate.py"]


def _enclosing_functions(tree: ast.AST) -> dict[ast.AST, str]:
    owner: dict[ast.AST, str] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                owner[node] = fn.name  # walked outside in: the innermost function wins
    return owner


def _names_decision_schema(rel: str, tree: ast.AST) -> bool:
    """Whether the name ``SCHEMA`` is the decision schema in this module."""
    if rel == "store/decisions.py":
        return True
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "phase2_git.store.decisions"
        and any(alias.name == "SCHEMA" for alias in node.names)
        for node in ast.walk(tree)
    )


# the revert builds its event by hand until it moves to new_event with its own rework
HAND_BUILT_ALLOWED: set[tuple[str, str]] = set()


def test_decision_events_are_built_in_one_place() -> None:
    """A dict literal with a ``schema`` key naming the decision schema is new_event's alone."""
    found = set()
    for rel, tree in _sources():
        owner = _enclosing_functions(tree)
        ours = _names_decision_schema(rel, tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Dict):
                continue
            for key, value in zip(node.keys, node.values):
                if not (isinstance(key, ast.Constant) and key.value == "schema"):
                    continue
                names_schema = (isinstance(value, ast.Constant) and value.value == SCHEMA) or (
                    ours and isinstance(value, ast.Name) and value.id == "SCHEMA"
                )
                if names_schema:
                    found.add((rel, owner.get(node, "<module>")))
    assert found - HAND_BUILT_ALLOWED == {("store/decisions.py", "new_event")}


def test_new_event_keeps_the_logs_key_order_and_validates() -> None:
    event = new_event(
        run_id="run_0123456789ab",
        mismatch_id="mis_0123456789ab",
        decision="reset-breaker",
        seq=0,
        ts="2026-01-01T00:00:00.000Z",
        env="local",
        plan_id=None,
        action="reset_breaker",
        user=("Ada <ada@example.com>", "maintainer"),
        ui=(False, "scripted"),
        config_fingerprint="0" * 64,
        transform=None,
        hashes={"before": None, "after": None},
        path=".phase2/state/breaker.json",
        label=None,
        commit=None,
        methods=[],
        breaker=False,
        reason="",
    )
    validate(event)
    assert list(event)[:14] == [
        "schema", "id", "ts", "run_id", "env", "mismatch_id", "plan_id", "action", "decision",
        "user", "ui", "config_fingerprint", "transform", "hashes",
    ]  # fmt: skip
    assert list(event)[14:] == ["path", "label", "commit", "methods", "breaker", "reason"]
    assert event["user"] == {"id": "Ada <ada@example.com>", "role": "maintainer"}
    assert event["ui"]["mode"] == "scripted" and event["ui"]["rich"] is False
    assert re.fullmatch(r"dec_[0-9a-f]{16}", event["id"])


@pytest.mark.parametrize(
    ("environ", "want"),
    [
        ({}, "local"),
        ({"CI": "true"}, "ci"),
        ({"CI": "0"}, "local"),
        ({"CI": "1", "PHASE2_ENV": "staging"}, "staging"),
        ({"PHASE2_ENV": "x" * 100}, "x" * 64),
        ({"PHASE2_ENV": "", "CI": "yes"}, "ci"),
    ],
)
def test_env_name(environ: dict[str, str], want: str) -> None:
    assert env_name(environ) == want


def test_identity_from_options_environment_and_git(repo: TestRepo) -> None:
    repo.write("a.txt", "a\n")
    repo.commit("base")
    git = GitRepo.discover(repo.root)
    assert identity(git, None, None, {}) == Identity("Test User <test@example.com>", "developer")
    assert identity(git, None, None, {"CI": "true"}).role == "ci"
    env = {"PHASE2_USER": "bot", "PHASE2_ROLE": "release", "CI": "1"}
    assert identity(git, None, None, env) == Identity("bot", "release")
    assert identity(git, "ada", "reviewer", env) == Identity("ada", "reviewer")
    assert identity(git, "u" * 300, "r" * 100, {}) == Identity("u" * 256, "r" * 64)


def test_every_review_key_is_one_action_in_the_table() -> None:
    """The prompt, the help and the table name the same keys; any other key is UNKNOWN."""
    helped = {line.split()[0] for line in HELP.splitlines()}
    prompted = set(re.findall(r"\[(.)\]", KEYS))
    assert helped == prompted == set(ACTIONS)
    for key, action in ACTIONS.items():
        assert (action.kind == "decide") == (action.decision is not None), key
        assert action is not UNKNOWN


class Item(NamedTuple):
    """Not the store's LabeledItem: the figures read only what core.evaluation.Labelled says."""

    id: str
    label: bool
    mismatch_type: str
    artifact_type: str
    split: str | None = None
    source: str | None = None

    @property
    def is_audit(self) -> bool:
        return self.source == "audit"


def test_evaluation_is_pure_and_needs_no_store() -> None:
    items = [
        Item("1", True, "whitespace", "text", "train"),
        Item("2", False, "content", "json", "test"),
        Item("3", True, "whitespace", "text", "test"),
        Item("4", False, "content", "json", "train", "audit"),
    ]
    assert split_map(items) == {"1": "train", "2": "test", "3": "test", "4": "train"}
    p = Predictions("exact", {"1": True, "2": False, "3": True, "4": True}, {}, False)
    doc = evaluate(items, [p], EvalOptions(resamples=10), GateThresholds(min_items=1))
    fig = doc["methods"]["exact"]
    assert fig["confusion"] == {"tp": 2, "fp": 1, "tn": 1, "fn": 0}
    assert fig["test"]["confusion"] == {"tp": 1, "fp": 0, "tn": 1, "fn": 0}
    assert doc["split"] == {"train": 1, "test": 2, "audit": 1}
    assert doc["audit"] == {"n": 1, "rejected": 1, "fdr": 1.0}
    assert doc == evaluate(items, [p], EvalOptions(resamples=10), GateThresholds(min_items=1))
