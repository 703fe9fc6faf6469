"""``phase2 check`` without typer: the pre-commit hook runs on every commit.

Typer 0.29 routes option parsing through pydantic, about 200 ms of a 470 ms hook run
(bench/: profile-check). The console script (:mod:`phase2_git.entry`) sends ``phase2 check``
here; argparse parses the same options the typer command declares (a test keeps the two
option sets equal), and both call :func:`check_command`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from phase2_git.errors import Phase2Error


def check_command(
    files: Sequence[str],
    *,
    fix: bool,
    require_decision: bool,
    config: str | None,
    repo_path: str,
    write: Callable[[str], object] = print,
) -> int:
    from pathlib import Path

    from phase2_git.app.check import run_check
    from phase2_git.core.sanitize import sanitize_path
    from phase2_git.git.repo import GitRepo
    from phase2_git.store.config import load

    repo = GitRepo.discover(repo_path)
    cfg = load(repo.root, config)
    result = run_check(
        repo,
        list(files),
        config=cfg,
        fix=fix,
        require_decision=require_decision,
        cwd=Path(repo_path).absolute(),
    )
    for f in result.findings:
        write(f"{sanitize_path(f.path)}: {f.message}")
    counts: dict[str, int] = {}
    for f in result.findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    if counts:
        shown = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        hint = ""
        if "noise" in counts and not fix:
            hint = " · `phase2 check --fix` (hook phase2-fix) applies the safe transforms"
        if "fixed" in counts:
            hint = " · files were rewritten: review and `git add` them"
        write(f"phase2 check: {shown}{hint}")
    return result.exit_code


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="phase2 check", add_help=False)
    p.add_argument("files", nargs="*")
    p.add_argument("--fix", action="store_true")
    p.add_argument("--require-decision", dest="require_decision", action="store_true")
    p.add_argument("--config", default=None)
    p.add_argument("-C", "--repo", dest="repo_path", default=".")
    return p


class _Usage(Exception):
    pass


def _error(message: str) -> None:
    raise _Usage(message)


def main(argv: Sequence[str]) -> int:
    p = parser()
    p.error = _error  # type: ignore[method-assign,assignment]
    try:
        ns, extra = p.parse_known_args(list(argv))
        # pre-commit passes file names as they are, and one may start with a dash: an
        # "unknown option" that names an existing path is a file, anything else an error
        base = Path(ns.repo_path)
        for arg in extra:
            if not (arg.startswith("-") and (base / arg).exists()):
                raise _Usage(f"unrecognized arguments: {arg}")
        return check_command(
            [*ns.files, *extra],
            fix=ns.fix,
            require_decision=ns.require_decision,
            config=ns.config,
            repo_path=ns.repo_path,
        )
    except _Usage as exc:
        from phase2_git.core.sanitize import sanitize_path

        shown = sanitize_path(str(exc))  # arguments may hold escapes
        print(f"phase2: error: {shown} (see 'phase2 check --help')", file=sys.stderr)
        return 2
    except Phase2Error as exc:
        if os.environ.get("PHASE2_DEBUG") == "1":
            raise
        print(f"phase2: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("phase2: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, the traceback only on request
        if os.environ.get("PHASE2_DEBUG") == "1":
            raise
        print(
            f"phase2: internal error: {type(exc).__name__}: {exc} "
            "(set PHASE2_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 2
