"""Hermetic real-git fixtures shared by every test.

Every test runs with its own HOME and global git config (pinned identity, no signing, empty
templates), so nothing leaks in from or out to the developer's machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

STRICT = os.environ.get("PHASE2_TEST_STRICT") == "1"


def require_tool(name: str) -> str:
    """Return the path of an external tool, or skip (fail under PHASE2_TEST_STRICT=1)."""
    path = shutil.which(name)
    if path is None:
        if STRICT:
            pytest.fail(f"{name} is required under PHASE2_TEST_STRICT=1 but is not installed")
        pytest.skip(f"{name} not installed")
    return path


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
def make_repo(tmp_path: Path) -> Iterator[object]:
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
def repo(make_repo: object) -> TestRepo:
    return make_repo()  # type: ignore[operator,no-any-return]
