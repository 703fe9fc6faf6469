"""``phase2 check`` without typer: the pre-commit hook runs on every commit.

Typer 0.29 routes option parsing through pydantic, about 200 ms of a 470 ms hook run
(bench/: profile-check). The console script (:mod:`phase2_git.entry`) sends ``phase2 check``
here; :func:`parse` reads the same options the typer command declares (a test keeps the two
option sets equal), and both call :func:`check_command`.
"""

# no `from __future__ import annotations`: NamedTuple fields stay cheap (see core/model.py)

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from phase2_git.errors import Phase2Error, one_line

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
    from pathlib import Path

    from phase2_git.app.check import run_check, sides_from_env
    from phase2_git.git.repo import GitRepo
    from phase2_git.store.config import load

    base, _ = sides_from_env(os.environ)
    repo = GitRepo.discover(repo_path, resolve=base)  # the base's ids in the same git call
    cfg = load(repo.root, config)
    result = run_check(
        repo,
        list(files),
        config=cfg,
        fix=fix,
        require_decision=require_decision,
        cwd=Path(repo_path).absolute(),
    )
    if result.findings:
        _print_findings(result.findings, fix=fix, write=write)
    return result.exit_code


def _print_findings(
    findings: Sequence["Finding"], *, fix: bool, write: Callable[[str], object]
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


# Options of `phase2 check`, as the typer command declares them (a test keeps the two equal).
FLAGS = {"--fix": "fix", "--require-decision": "require_decision"}
VALUED = {"--config": "config", "-C": "repo_path", "--repo": "repo_path"}


class _Usage(Exception):
    pass


class Parsed(NamedTuple):
    files: list[str]
    fix: bool = False
    require_decision: bool = False
    config: str | None = None
    repo_path: str = "."


def parse(argv: Sequence[str]) -> Parsed:
    """The hook's arguments, parsed.

    Written out rather than argparse: argparse and what it loads (gettext, shutil for its help
    formatter, locale) are ~10 ms of a hook whose whole budget is twice check-json's ~35 ms
    (bench/: the ``check`` row), and five options need none of it. Accepted as click accepts
    them: ``--opt value``, ``--opt=value``, ``-Cvalue``, ``--`` ends the options, no
    abbreviations. pre-commit passes file names as they are and one may start with a dash: an
    unknown option that names an existing path is a file, anything else an error.
    """
    flags: set[str] = set()
    values: dict[str, str] = {}
    files: list[str] = []
    unknown: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            files += args[i:]
            break
        if not arg.startswith("-") or arg == "-":
            files.append(arg)
            continue
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg[:2], "", arg[2:])
        if name in FLAGS and not eq:
            flags.add(FLAGS[name])
        elif name in VALUED:
            if not eq and not value:
                if i >= len(args):
                    raise _Usage(f"option {name} requires a value")
                value = args[i]
                i += 1
            values[VALUED[name]] = value
        else:
            unknown.append(arg)
    repo_path = values.get("repo_path", ".")
    for arg in unknown:
        if not (Path(repo_path) / arg).exists():
            raise _Usage(f"no such option: {arg}")
        files.append(arg)
    return Parsed(
        files, "fix" in flags, "require_decision" in flags, values.get("config"), repo_path
    )


def main(argv: Sequence[str]) -> int:
    try:
        a = parse(argv)
        return check_command(
            a.files,
            fix=a.fix,
            require_decision=a.require_decision,
            config=a.config,
            repo_path=a.repo_path,
        )
    except _Usage as exc:  # arguments may hold escapes: one_line sanitises
        print(f"phase2: error: {one_line(str(exc))} (see 'phase2 check --help')", file=sys.stderr)
        return 2
    except Phase2Error as exc:
        if os.environ.get("PHASE2_DEBUG") == "1":
            raise
        print(f"phase2: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("phase2: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, the traceback only on request
        if os.environ.get("PHASE2_DEBUG") == "1":
            raise
        print(
            f"phase2: internal error: {type(exc).__name__}: {one_line(str(exc))} "
            "(set PHASE2_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 2
