"""Hermetic real-git fixtures shared by every test.

Every test runs with its own HOME and global git config (pinned identity, no signing, empty
templates), so nothing leaks in from or out to the developer's machine.
"""

from __future__ import annotations

import functools
import importlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import pytest
from hypothesis import settings

# Property tests run on CI's 2-core machine, often busy: an example is judged by what it
# returns, never by how long it took (hypothesis' default 200 ms deadline failed one under
# load). Tests that set their own settings keep this.
settings.register_profile("phase2", deadline=None)
settings.load_profile("phase2")

STRICT = os.environ.get("PHASE2_TEST_STRICT") == "1"
# how stub programs (a judge command; standard library only) run: without site (-S), so without
# coverage's start-up hook, which would cost each of a test's hundreds of calls ~0.1 s under --cov
STUB = (sys.executable, "-S")
# the reference implementations some tests check figures against (the `oracles` extra)
ORACLES = "pip install -e '.[oracles]'"


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Plain ``pytest`` runs on every core (pytest-xdist's ``-n auto``): serially the suite
    takes over ten minutes, and most of it waits on git and subprocesses. Named tests
    (``path::test``) run in this process, as do ``--pdb`` runs; an explicit ``-n N`` (``-n 0``
    to debug in one process) or ``-p no:xdist`` keeps its meaning."""
    option = config.option
    if (
        config.pluginmanager.hasplugin("xdist")
        and getattr(option, "numprocesses", 0) is None
        and not getattr(option, "usepdb", False)
        and not hasattr(config, "workerinput")
        and not (config.args and all("::" in arg for arg in config.args))
    ):
        option.numprocesses = "auto"


def require_tool(name: str) -> str:
    """Return the path of an external tool, or skip (fail under PHASE2_TEST_STRICT=1)."""
    path = shutil.which(name)
    if path is None:
        if STRICT:
            pytest.fail(f"{name} is required under PHASE2_TEST_STRICT=1 but is not installed")
        pytest.skip(f"{name} not installed")
    return path


def require_module(name: str, why: str, install: str = ORACLES) -> Any:
    """Import an optional module, or skip saying why it is wanted and how to install it (fail
    under PHASE2_TEST_STRICT=1: CI installs every extra, so a missing one is a broken step)."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        if STRICT:
            pytest.fail(f"{name} is required under PHASE2_TEST_STRICT=1 ({why}): {exc}")
        pytest.skip(f"{name} is not installed ({why}: {install})")


def growth(fn: Callable[[Any], object], small: Any, large: Any, *, repeat: int = 5) -> float:
    """How many times longer ``fn(large)`` takes than ``fn(small)``, each the best of ``repeat``
    runs, the two alternated so that a neighbour's burst of work hits both. Complexity tests
    assert on this ratio, never on seconds: a busy machine slows both sides alike (linear work
    on ten times the input gives about 10, quadratic about 100)."""

    def once(arg: Any) -> float:
        start = time.perf_counter()
        fn(arg)
        return time.perf_counter() - start

    smalls: list[float] = []
    larges: list[float] = []
    for _ in range(repeat):
        smalls.append(once(small))
        larges.append(once(large))
    return min(larges) / max(min(smalls), 1e-4)


@pytest.fixture(autouse=True)
def hermetic_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    templates = tmp_path_factory.mktemp("templates")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
        "[commit]\n\tgpgsign = false\n"
        "[tag]\n\tgpgsign = false\n"
        '[protocol "file"]\n\tallow = always\n'
        "[uploadpack]\n\tallowFilter = true\n\tallowAnySHA1InWant = true\n"
    )
    for var in list(os.environ):
        if (
            var.startswith(("GIT_", "PHASE2_", "PRE_COMMIT", "GITHUB_"))
            and var != "PHASE2_TEST_STRICT"
        ):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_TEMPLATE_DIR", str(templates))
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
    monkeypatch.delenv("CI", raising=False)
    # the user's own phase2 configuration lives under HOME/.config (phase2 reads [judge] there)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


class TestRepo:
    """A real git repository in a temp folder, with terse helpers for building states."""

    __test__ = False

    def __init__(self, root: Path) -> None:
        self.root = root

    def git(self, *args: str, input: bytes | None = None, check: bool = True) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=self.root, input=input, capture_output=True, check=False
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}"
            )
        return proc.stdout.decode("utf-8", "surrogateescape")

    def write(self, path: str, data: bytes | str) -> Path:
        p = self.root / path
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        p.write_bytes(data)
        return p

    def read(self, path: str) -> bytes:
        return (self.root / path).read_bytes()

    def commit(self, message: str = "commit", *, all: bool = True) -> str:
        if all:
            self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()


@pytest.fixture
def make_repo(tmp_path: Path) -> Iterator[Callable[..., TestRepo]]:
    counter = {"n": 0}

    def factory(*, object_format: str | None = None, name: str | None = None) -> TestRepo:
        counter["n"] += 1
        root = tmp_path / (name or f"repo{counter['n']}")
        root.mkdir()
        args = ["git", "init", "-q"]
        if object_format:
            args.append(f"--object-format={object_format}")
        subprocess.run([*args, str(root)], check=True)
        return TestRepo(root)

    yield factory


@pytest.fixture
def repo(make_repo: Callable[[], TestRepo]) -> TestRepo:
    return make_repo()


class CliResult(NamedTuple):
    """What one in-process ``phase2`` run gave: unpacks as ``code, out, err``."""

    code: int
    out: str
    err: str


class Cli(Protocol):
    def __call__(self, *args: str, repo: TestRepo | Path | None = None) -> CliResult: ...


@functools.cache
def _groups() -> frozenset[str]:
    """The command groups of the typer app (``labels``, ``report``...): their subcommand
    comes before ``-C``. Duck-typed: newer typer builds on a click copy of its own."""
    import typer.main

    from phase2_git.cli import app

    commands = getattr(typer.main.get_command(app), "commands", {})
    return frozenset(name for name, cmd in commands.items() if hasattr(cmd, "commands"))


def cli_argv(args: tuple[str, ...], repo: TestRepo | Path | None) -> list[str]:
    """``args`` with ``-C REPO`` right after the command's name, as a user types it."""
    argv = list(args)
    if repo is None:
        return argv
    root = repo.root if isinstance(repo, TestRepo) else repo
    n = 2 if argv[:1] and argv[0] in _groups() and argv[1:2] else 1
    return [*argv[:n], "-C", str(root), *argv[n:]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run ``phase2 ARGS`` in-process, through the console script's own entry point
    (``phase2 check`` takes the hook's lean path there), and return its exit code and what it
    wrote. ``repo=`` adds ``-C REPO``. Where a real process matters (signals, a TTY, limits),
    tests use ``tests.hostile_support.run_phase2`` instead."""
    from phase2_git.entry import main

    def run(*args: str, repo: TestRepo | Path | None = None) -> CliResult:
        code = main(cli_argv(args, repo))
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, str | None]]:
    """The verdict of every child a command forks to check something (app/forking.py:
    ``report merge``'s shards, ``resolve``'s decisions), in this process."""
    from phase2_git.app import forking

    verdicts: list[tuple[bool, str | None]] = []
    real = forking.ChildCheck.verdict

    def spy(self: forking.ChildCheck) -> tuple[bool, str | None]:
        got = real(self)
        verdicts.append(got)
        return got

    monkeypatch.setattr(forking.ChildCheck, "verdict", spy)
    return verdicts


# Session fixtures live here, once: a fixture imported into a test module is registered again
# there, and each registration is its own session value (three modules imported ``venv``, and
# each built the Action's venv again, 17-24 s apiece in a run of the suite).


@pytest.fixture(scope="session")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A one-commit repository holding this checkout's working tree: (path, sha)."""
    from tests.test_precommit_hooks import take_snapshot

    return take_snapshot(tmp_path_factory)


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory, snapshot: tuple[str, str]) -> Path:
    """The Action's install step, run once: phase2 pip-installed from ``snapshot``."""
    from tests.test_action import install_step

    return install_step(tmp_path_factory, snapshot)
