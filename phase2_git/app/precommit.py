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
    pathspecs: Sequence[str] = (),
    imported: Callable[[], object] | None = None,
) -> int:
    """``imported``: called once the modules the check needs up front are imported, before
    any file is read (the hook's own process turns its garbage collector back on there: see
    :mod:`phase2_git.entry`)."""
    from phase2_git.git.repo import GitRepo
    from phase2_git.git.sides import sides_from_env

    if pathspecs:
        files, pathspecs = _files_and_globs(files, pathspecs, Path(repo_path))

    base, _ = sides_from_env(os.environ)
    # the base's ids in the same git call, which runs while the checker is imported
    found = GitRepo.begin_discovery(repo_path, resolve=base)
    from phase2_git.app.check import run_check
    from phase2_git.app.context import opened

    if imported is not None:
        imported()
    repo, cfg = opened(found(), config)
    result = run_check(
        repo,
        list(files),
        config=cfg,
        fix=fix,
        require_decision=require_decision,
        cwd=Path(repo_path).absolute(),
        pathspecs=pathspecs,
    )
    if result.findings:
        print_findings(result.findings, fix=fix, write=write)
    return result.exit_code


def _files_and_globs(
    files: Sequence[str], pathspecs: Sequence[str], here: Path
) -> tuple[list[str], list[str]]:
    """What follows ``--``: a name that exists (and is no folder) is a file, as it always was
    (``--`` is how a file named ``-rf.json`` is given, and a name outside the repository is
    still refused as such); anything else is a pathspec."""
    named = [p for p in pathspecs if os.path.lexists(here / p) and not (here / p).is_dir()]
    globs = [p for p in pathspecs if p not in named]
    return [*files, *named], globs


# a commit that stages thousands of regenerated files gets this many lines, then the counts:
# the terminal keeps the summary and the command in view
SHOWN = 20
# which findings a capped list shows first: what blocks the commit for a reason --fix cannot
# repair comes before the noise it can
_SEVERITY = {"refused": 0, "malformed": 1, "undecided": 2, "fixed": 3, "noise": 4}


def print_findings(
    findings: Sequence[Finding], *, fix: bool, write: Callable[[str], object], shown: int = SHOWN
) -> None:
    """One line a finding, up to ``shown`` of them (the most severe, in path order), then one
    line with the counts and the command that helps."""
    from phase2_git.core.sanitize import sanitize_path  # here: a clean run never loads it

    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    listed = findings
    if len(findings) > shown:
        rank = sorted(range(len(findings)), key=lambda k: _SEVERITY.get(findings[k].kind, 9))
        keep = sorted(rank[:shown])
        listed = [findings[k] for k in keep]
    for f in listed:
        write(f"{sanitize_path(f.path)}: {f.message}")
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    if len(listed) < len(findings):
        summary += (
            f" ({len(listed)} of {len(findings)} shown; `phase2 diff --staged` lists every file)"
        )
    hint = ""
    if "noise" in counts and not fix:
        hint = " · `phase2 check --fix` (hook phase2-fix) applies the safe transforms"
    if "fixed" in counts:
        hint = " · files were rewritten: review and `git add` them"
    write(f"phase2 check: {summary}{hint}")
