"""``phase2 init``: the configuration file, the .gitignore of .phase2/, and the snippets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from phase2_git.store.atomic import atomic_write_text
from phase2_git.store.config import CONFIG_FILE, DEFAULT_TOML

if TYPE_CHECKING:
    from phase2_git.app.merge_driver import Registered

GITIGNORE = (
    "# written by phase2 init: per-machine state, never committed\nstate/\nlock\nlock.*.tmp\n"
    "cache/\n"
)


PRE_COMMIT_SNIPPET = """\
# .pre-commit-config.yaml
repos:
  - repo: https://github.com/phase2-git/phase2
    rev: v0.1.0
    hooks:
      # fails on noise in staged artifacts and on JSON that stopped parsing
      - id: phase2-check
      # undoes the noise: pre-commit run phase2-fix --hook-stage manual
      - id: phase2-fix
        stages: [manual]
"""

# the README's workflow; tests/test_docs.py keeps the three copies equal
ACTION_SNIPPET = """\
# .github/workflows/phase2.yml
name: phase2
on:
  pull_request:
permissions:
  contents: read
jobs:
  artifacts:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          fetch-depth: 0 # phase2 compares two commits: it needs the history
          persist-credentials: false
      - id: phase2
        uses: phase2-git/phase2@v0.1.0
        with:
          fail-on: real
      - if: ${{ !cancelled() }}
        uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        with:
          name: phase2-reports
          path: ${{ runner.temp }}/phase2/

  # optional: push the safe transforms (noise undone) to same-repository pull requests
  autofix:
    if: github.event.pull_request.head.repo.full_name == github.repository
    runs-on: ubuntu-latest
    permissions:
      contents: write
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          fetch-depth: 0
          persist-credentials: false
      - uses: phase2-git/phase2@v0.1.0
        with:
          apply: true
          fail-on: never
"""


@dataclass(frozen=True)
class InitResult:
    written: list[str]
    kept: list[str]
    # --merge-driver: what was registered (None without the option)
    merge_driver: Registered | None = None


def init(root: Path, *, force: bool = False) -> InitResult:
    written: list[str] = []
    kept: list[str] = []
    for rel, content in ((CONFIG_FILE, DEFAULT_TOML), (".phase2/.gitignore", GITIGNORE)):
        target = root / rel
        if target.exists() and not force:
            kept.append(rel)
            continue
        atomic_write_text(target, content)
        written.append(rel)
    return InitResult(written, kept)


def init_at(repo_path: str, *, force: bool = False, merge_driver: bool = False) -> InitResult:
    """``phase2 init`` in the repository containing ``repo_path``; with ``merge_driver``,
    also registers ``phase2 merge-driver`` (:func:`phase2_git.app.merge_driver.register`)."""
    from phase2_git.git.repo import GitRepo

    repo = GitRepo.discover(repo_path)
    result = init(repo.root, force=force)
    if not merge_driver:
        return result
    from phase2_git.app.merge_driver import register
    from phase2_git.store.config import load

    registered = register(repo, load(repo.root))
    return InitResult(result.written, result.kept, registered)
