"""``phase2 init``: the configuration file, the .gitignore of .phase2/, and the snippets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from phase2_git.store.atomic import atomic_write_text
from phase2_git.store.config import CONFIG_FILE, DEFAULT_TOML

GITIGNORE = "# written by phase2 init: per-machine state, never committed\nstate/\nlock\ncache/\n"
PROJECT_URL = "https://github.com/phase2-git/phase2"

PRE_COMMIT_SNIPPET = f"""\
# .pre-commit-config.yaml
repos:
  - repo: {PROJECT_URL}
    rev: v0.1.0
    hooks:
      - id: phase2-check
"""

ACTION_SNIPPET = """\
# .github/workflows/phase2.yml
name: phase2
on: [pull_request]
permissions:
  contents: read
jobs:
  artifacts:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
          persist-credentials: false
      - uses: phase2-git/phase2@v0.1.0
"""


@dataclass(frozen=True)
class InitResult:
    written: list[str]
    kept: list[str]


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
