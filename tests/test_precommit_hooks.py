"""The pre-commit hooks, installed for real: ``pre-commit try-repo`` builds phase2 from this
checkout into pre-commit's own virtualenv and runs the hooks in temporary repositories.

try-repo of a dirty checkout makes a new shadow clone (and a new virtualenv) on every call, so
the tests take one snapshot of the working tree (tracked and untracked, not ignored) per session
and point every run at it: the hooks tested are the code under test, installed once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import TestRepo, require_tool

CHECKOUT = Path(__file__).resolve().parent.parent
SNIPPET = Path(__file__).parent / "data" / "pre-commit-config.snippet.yaml"
PUBLIC_REPO = "https://github.com/phase2-git/phase2"

ORDERED = b'{"a": 1, "b": 2}\n'
REORDERED = b'{"b": 2, "a": 1}\n'
REAL = b'{"a": 1, "b": 3}\n'

pytestmark = pytest.mark.slow


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="snapshot",
        GIT_AUTHOR_EMAIL="snapshot@example.invalid",
        GIT_COMMITTER_NAME="snapshot",
        GIT_COMMITTER_EMAIL="snapshot@example.invalid",
    )
    return env


def take_snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A one-commit repository holding this checkout's working tree: (path, sha). The
    ``snapshot`` session fixture (conftest.py) takes one per test process."""
    env = _git_env()
    listed = subprocess.run(
        ["git", "ls-files", "-z", "-c", "-o", "--exclude-standard"],
        cwd=CHECKOUT,
        env=env,
        capture_output=True,
        check=True,
    ).stdout
    dest = tmp_path_factory.mktemp("phase2-snapshot")
    for raw in listed.split(b"\0"):
        if not raw:
            continue
        rel = os.fsdecode(raw)
        src = CHECKOUT / rel
        if not src.is_file() or src.is_symlink():
            continue  # deleted in the working tree, or not a plain file
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "--no-verify", "-m", "snap"]):
        subprocess.run(["git", *args], cwd=dest, env=env, check=True, capture_output=True)
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=dest, env=env, capture_output=True, check=True, text=True
    ).stdout.strip()
    return str(dest), sha


@pytest.fixture(scope="session")
def caches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Session-wide caches, outside the per-test HOME: try-repo builds a fresh virtualenv on
    every call (its store is a temp folder), so pip's wheel cache and virtualenv's seed data
    are what keep each call to seconds."""
    root = tmp_path_factory.mktemp("caches")
    return {
        "PRE_COMMIT_HOME": str(root / "pre-commit"),
        "PIP_CACHE_DIR": str(root / "pip"),
        "VIRTUALENV_OVERRIDE_APP_DATA": str(root / "virtualenv"),
        "PRE_COMMIT_COLOR": "never",
    }


@pytest.fixture
def pc(caches: dict[str, str], snapshot: tuple[str, str]) -> Iterator[object]:
    exe = require_tool("pre-commit")

    def run(repo: TestRepo, *args: str) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, **caches)
        return subprocess.run(
            [exe, *args], cwd=repo.root, env=env, capture_output=True, text=True, timeout=900
        )

    yield run


def try_repo(pc, snapshot: tuple[str, str], repo: TestRepo, hook: str, *args: str):
    return pc(repo, "try-repo", snapshot[0], hook, *args)


@pytest.fixture
def project(repo: TestRepo) -> TestRepo:
    repo.write("data/a.json", ORDERED)
    repo.write("data/b.json", ORDERED)
    repo.write("README.txt", "hello\n")
    repo.commit("base")
    return repo


def test_manifest_is_valid_and_as_designed() -> None:
    exe = require_tool("pre-commit")
    manifest = CHECKOUT / ".pre-commit-hooks.yaml"
    proc = subprocess.run([exe, "validate-manifest", str(manifest)], capture_output=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hooks = {h["id"]: h for h in yaml.safe_load(manifest.read_text())}
    assert set(hooks) == {"phase2-check", "phase2-fix"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["require_serial"] is True
        assert hook["stages"] == ["pre-commit", "pre-push", "manual"]
        assert hook.get("pass_filenames", True) is True
    assert hooks["phase2-check"]["entry"] == "phase2 check"
    assert hooks["phase2-fix"]["entry"] == "phase2 check --fix"


# ---------------------------------------------------------------------------- try-repo
# try-repo installs phase2 into a fresh virtualenv on every call (~10 s): the failing and fixing
# cases use it; the other cases run the README snippet's configuration, whose environment
# pre-commit builds once and caches.


def test_try_repo_check_fails_on_staged_noise(pc, snapshot, project: TestRepo) -> None:
    project.write("data/a.json", REORDERED)
    project.git("add", "data/a.json")
    proc = try_repo(pc, snapshot, project, "phase2-check")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Failed" in out and "data/a.json: noise only (json_ordering)" in out
    # nothing was rewritten, nothing committed
    assert project.read("data/a.json") == REORDERED
    assert project.git("log", "--format=%s") == "base\n"


def test_try_repo_fix_rewrites_files_then_check_passes(pc, snapshot, project: TestRepo) -> None:
    project.write("data/a.json", REORDERED)
    project.write("data/b.json", REAL)
    project.git("add", "-A")
    proc = try_repo(pc, snapshot, project, "phase2-fix", "--all-files")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "files were modified by this hook" in out
    assert "data/a.json: fixed json_ordering noise" in out
    assert project.read("data/a.json") == ORDERED
    assert project.read("data/b.json") == REAL  # the real change is left alone
    assert project.git("log", "--format=%s") == "base\n"  # hooks never commit
    project.git("add", "-A")
    proc = try_repo(pc, snapshot, project, "phase2-check", "--all-files")
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---------------------------------------------------------------------------- the README snippet


@pytest.fixture
def configured(snapshot: tuple[str, str], project: TestRepo) -> TestRepo:
    """``project`` with the README's .pre-commit-config.yaml, pointed at the snapshot."""
    text = SNIPPET.read_text()
    assert text.count(PUBLIC_REPO) == 1 and text.count("rev: ") == 1
    rev = next(line for line in text.splitlines() if "rev: " in line).split("rev: ")[1]
    local = text.replace(PUBLIC_REPO, snapshot[0]).replace(f"rev: {rev}", f"rev: {snapshot[1]}")
    project.write(".pre-commit-config.yaml", local)
    project.commit("pre-commit config")
    return project


def test_readme_snippet_is_what_we_test(pc, configured: TestRepo) -> None:
    config = yaml.safe_load(SNIPPET.read_text())
    assert [h["id"] for h in config["repos"][0]["hooks"]] == ["phase2-check", "phase2-fix"]
    configured.write("data/a.json", REORDERED)
    configured.git("add", "-A")
    proc = pc(configured, "run")
    assert proc.returncode == 1 and "data/a.json: noise only" in proc.stdout, proc.stdout
    assert configured.read("data/a.json") == REORDERED  # the fix hook is manual-only
    proc = pc(configured, "run", "phase2-fix", "--hook-stage", "manual")
    assert proc.returncode == 1 and configured.read("data/a.json") == ORDERED, proc.stdout
    configured.git("add", "-A")
    proc = pc(configured, "run")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_check_passes_real_changes(pc, configured: TestRepo) -> None:
    configured.write("data/a.json", REAL)
    configured.write("README.txt", "hello\r\n")  # noise, but not among the files of this run
    configured.git("add", "-A")
    proc = pc(configured, "run", "phase2-check", "--files", "data/a.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout


def test_malformed_json_fails_all_files(pc, configured: TestRepo) -> None:
    # every given file must parse only where strict JSON is declared (else: regressions only)
    toml = configured.root / ".phase2/config.toml"
    toml.parent.mkdir(exist_ok=True)
    toml.write_text('[artifacts]\nstrict_json = ["data/"]\n')
    configured.write("data/b.json", b'{"a": 1,}\n')
    configured.commit("broken, committed earlier")
    proc = pc(configured, "run")
    assert proc.returncode == 0, proc.stdout  # nothing staged
    proc = pc(configured, "run", "--all-files")
    assert proc.returncode == 1 and "data/b.json: invalid JSON" in proc.stdout, proc.stdout


def test_fix_never_loses_unstaged_edits(pc, configured: TestRepo) -> None:
    configured.write("data/a.json", REORDERED)
    configured.git("add", "-A")
    mine = b'{"b": 2, "a": 1, "wip": true}\n'
    configured.write("data/a.json", mine)  # unstaged: pre-commit stashes it around the hook
    proc = pc(configured, "run", "phase2-fix", "--hook-stage", "manual")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert configured.read("data/a.json") == mine


def test_pre_push_stage_uses_the_pushed_refs(pc, configured: TestRepo) -> None:
    base = configured.head()
    configured.write("data/a.json", REORDERED)
    head = configured.commit("noise")
    proc = pc(
        configured, "run", "phase2-check",
        "--hook-stage", "pre-push", "--from-ref", base, "--to-ref", head,
    )  # fmt: skip
    assert proc.returncode == 1 and "data/a.json: noise only" in proc.stdout, proc.stdout
    proc = pc(configured, "run", "phase2-check", "--hook-stage", "pre-push",
              "--from-ref", head, "--to-ref", head)  # fmt: skip
    assert proc.returncode == 0, proc.stdout


# ---------------------------------------------------------------------------- before a release
LOCAL_SNIPPET = Path(__file__).parent / "data" / "pre-commit-local.snippet.yaml"


def test_readme_local_hook_snippet_runs_the_installed_phase2(
    caches: dict[str, str], project: TestRepo, tmp_path: Path
) -> None:
    """The README's `repo: local` configuration, the way that works before a release is
    tagged: pre-commit runs the `phase2` on the PATH (here, this checkout's)."""
    exe = require_tool("pre-commit")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "phase2"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m phase2_git "$@"\n')
    wrapper.chmod(0o755)
    project.write(".pre-commit-config.yaml", LOCAL_SNIPPET.read_text())
    project.commit("pre-commit config")
    env = dict(os.environ, **caches)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [exe, *args], cwd=project.root, env=env, capture_output=True, text=True, timeout=300
        )

    project.write("data/a.json", REORDERED)
    project.git("add", "-A")
    proc = run("run")
    assert proc.returncode == 1 and "data/a.json: noise only" in proc.stdout, proc.stdout
    assert project.read("data/a.json") == REORDERED  # the fix hook is manual-only
    proc = run("run", "phase2-fix", "--hook-stage", "manual")
    assert proc.returncode == 1 and project.read("data/a.json") == ORDERED, proc.stdout
    project.git("add", "-A")
    proc = run("run")
    assert proc.returncode == 0, proc.stdout  # the noise is gone: nothing left to fail on
