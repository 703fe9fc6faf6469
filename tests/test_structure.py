"""The shape of the command line, kept true by reading the source (AST, no import):

- a ``cli/`` module reads options, makes one app call, hands the result to a renderer and
  returns the exit code: it never reaches git or the store itself;
- errors become exit codes in :mod:`phase2_git.funnel` alone (no ``go()`` closures, no
  ``PHASE2_DEBUG`` or ``internal error`` anywhere else);
- ``errors.py`` is a leaf, ``funnel.py`` stays lean enough for the hook;
- "are we in CI" is :func:`phase2_git.core.env.in_ci`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from phase2_git.core.env import in_ci

PACKAGE = Path(__file__).resolve().parent.parent / "phase2_git"
CLI = sorted((PACKAGE / "cli").glob("*.py"))


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports, anywhere in it (function bodies, TYPE_CHECKING too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:  # `from phase2_git import git` names the package too
                yield node.lineno, f"{node.module}.{alias.name}"


def _under(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_the_cli_modules_are_found() -> None:
    assert len(CLI) >= 12 and PACKAGE.joinpath("cli", "diff.py") in CLI


@pytest.mark.parametrize("path", CLI, ids=lambda p: p.name)
def test_no_cli_module_reaches_git_or_the_store(path: Path) -> None:
    bad = [
        f"{path.name}:{line}: {name}"
        for line, name in imported(path)
        if _under(name, "phase2_git.git", "phase2_git.store")
    ]
    assert not bad, "orchestration belongs in phase2_git/app/: " + ", ".join(bad)


@pytest.mark.parametrize("path", CLI, ids=lambda p: p.name)
def test_no_cli_module_keeps_an_error_closure(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    closures = [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == "go"
    ]
    assert not closures, f"{path.name}: def go() at line(s) {closures}: raise, the funnel maps"
    calls = [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "run"
    ]
    assert path.name == "__init__.py" or not calls, f"{path.name}: run(...) at {calls}"


def _sources() -> Iterator[Path]:
    yield from sorted(PACKAGE.rglob("*.py"))


def test_only_the_funnel_turns_failures_into_exit_codes() -> None:
    for path in _sources():
        if path.name == "funnel.py":
            continue
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(PACKAGE.parent)
        assert "PHASE2_DEBUG" not in text, f"{rel}: the debug switch is the funnel's"
        assert "internal error" not in text, f"{rel}: bugs are reported by the funnel"


def test_errors_is_a_leaf() -> None:
    names = [name for _, name in imported(PACKAGE / "errors.py")]
    assert not [n for n in names if _under(n, "phase2_git")], names


def test_the_funnel_is_lean_enough_for_the_hook() -> None:
    names = {name for _, name in imported(PACKAGE / "funnel.py")}
    assert not [n for n in names if _under(n, "typer", "click", "rich")], names
    ours = {n.rsplit(".", 1)[0] if n.startswith("phase2_git.errors.") else n for n in names}
    assert {n for n in ours if _under(n, "phase2_git")} == {
        "phase2_git.errors",
        "phase2_git.core.sanitize",
        "phase2_git.core.sanitize.escape_controls",
    }


def test_cli_asks_in_ci_whether_it_may_prompt() -> None:
    for path in CLI:
        assert 'get("CI"' not in path.read_text(encoding="utf-8"), path.name
    names = {name for _, name in imported(PACKAGE / "cli" / "_common.py")}
    assert "phase2_git.core.env.in_ci" in names


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (None, False),
        ("", False),
        ("0", False),
        ("false", False),
        ("1", True),
        ("true", True),
        ("TRUE", True),
        ("Yes", True),
    ],
)
def test_in_ci(value: str | None, want: bool) -> None:
    assert in_ci({} if value is None else {"CI": value}) is want
