"""``phase2 check``, as the pre-commit hook (:mod:`phase2_git.hook`) and the typer command both
run it: open the repository, check the files, print the findings, return the exit code.

On the hook path: keep imports lean (tests/test_check.py counts them).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from phase2_git.app.check import Finding


def check_command(
    files: Sequence[str],
    *,
    fix: bool,
    require_decision: bool,
    config: str | None,
    repo_path: str,
    write: Callable[[str], object] = print,
) -> int:
    from phase2_git.app.check import run_check, sides_from_env
    from phase2_git.app.context import open_repo

    base, _ = sides_from_env(os.environ)
    repo, cfg = open_repo(repo_path, config, resolve=base)  # the base's ids in the same git call
    result = run_check(
        repo,
        list(files),
        config=cfg,
        fix=fix,
        require_decision=require_decision,
        cwd=Path(repo_path).absolute(),
    )
    if result.findings:
        print_findings(result.findings, fix=fix, write=write)
    return result.exit_code


def print_findings(
    findings: Sequence[Finding], *, fix: bool, write: Callable[[str], object]
) -> None:
    from phase2_git.core.sanitize import sanitize_path  # here: a clean run never loads it

    counts: dict[str, int] = {}
    for f in findings:
        write(f"{sanitize_path(f.path)}: {f.message}")
        counts[f.kind] = counts.get(f.kind, 0) + 1
    shown = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    hint = ""
    if "noise" in counts and not fix:
        hint = " · `phase2 check --fix` (hook phase2-fix) applies the safe transforms"
    if "fixed" in counts:
        hint = " · files were rewritten: review and `git add` them"
    write(f"phase2 check: {shown}{hint}")
