"""Throwaway repositories (``phase2 demo``): created and committed with plumbing-free porcelain,
isolated from the caller's git environment and configuration."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from phase2_git.git.repo import GitRepo

_IDENTITY = {
    "GIT_AUTHOR_NAME": "phase2 demo",
    "GIT_AUTHOR_EMAIL": "demo@phase2.invalid",
    "GIT_COMMITTER_NAME": "phase2 demo",
    "GIT_COMMITTER_EMAIL": "demo@phase2.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T12:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T12:00:00Z",
}


def isolated_env(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The caller's environment without git's per-repository variables (as pre-commit's
    ``no_git_env``): a hook's GIT_DIR or GIT_INDEX_FILE must not leak into another repo."""
    env = {k: v for k, v in environ.items() if not k.startswith("GIT_")}
    env.update(_IDENTITY)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = os.devnull
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def init_scratch(path: Path) -> GitRepo:
    env = isolated_env()
    subprocess.run(
        ["git", "init", "-q", "-b", "main", str(path)], env=env, check=True, capture_output=True
    )
    return GitRepo.discover(path, env=env)


def commit_all(repo: GitRepo, message: str) -> str:
    repo.run("add", "-A")
    repo.run("-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", message)
    return repo.run("rev-parse", "HEAD").decode().strip()


def new_branch(repo: GitRepo, name: str) -> None:
    repo.run("checkout", "-q", "-b", name)
