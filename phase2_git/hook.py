"""``phase2 check`` without typer: the pre-commit hook runs on every commit.

Typer 0.29 routes option parsing through pydantic, about 200 ms of a 470 ms hook run
(bench/: profile-check). The console script (:mod:`phase2_git.entry`) sends ``phase2 check``
here; :func:`parse` reads the same options the typer command declares (a test keeps the two
option sets equal), and both call :func:`phase2_git.app.precommit.check_command`. Errors go
through :mod:`phase2_git.funnel`, as the CLI's do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from phase2_git.core.values import Value
from phase2_git.errors import ArgumentError
from phase2_git.funnel import run

# Options of `phase2 check`, as the typer command declares them (a test keeps the two equal).
FLAGS = {"--fix": "fix", "--require-decision": "require_decision"}
VALUED = {"--config": "config", "-C": "repo_path", "--repo": "repo_path"}


class Parsed(Value):
    # a Value, not a NamedTuple: never used as a tuple, and ~10x cheaper to define
    __slots__ = ("config", "files", "fix", "pathspecs", "repo_path", "require_decision")

    def __init__(
        self,
        files: list[str],
        fix: bool = False,
        require_decision: bool = False,
        config: str | None = None,
        repo_path: str = ".",
        pathspecs: tuple[str, ...] = (),
    ) -> None:
        self.files = files
        self.fix = fix
        self.require_decision = require_decision
        self.config = config
        self.repo_path = repo_path
        self.pathspecs = pathspecs  # the globs after `--`, as `phase2 diff` takes them


def parse(argv: Sequence[str]) -> Parsed:
    """The hook's arguments, parsed.

    Written out rather than argparse: argparse and what it loads (gettext, shutil for its help
    formatter, locale) are ~10 ms of a hook whose whole budget is twice check-json's ~35 ms
    (bench/: the ``check`` row), and five options need none of it. Accepted as click accepts
    them: ``--opt value``, ``--opt=value``, ``-Cvalue``, no abbreviations; what follows ``--``
    are pathspecs, as the typer command (:class:`phase2_git.cli._common.PathspecCommand`)
    reads them. pre-commit passes file names as they are and one may start with a dash: an
    unknown option that names an existing path is a file, anything else an error.
    """
    flags: set[str] = set()
    values: dict[str, str] = {}
    files: list[str] = []
    specs: list[str] = []
    unknown: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            specs += args[i:]
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
                    raise _usage(f"option {name} requires a value")
                value = args[i]
                i += 1
            values[VALUED[name]] = value
        else:
            unknown.append(arg)
    repo_path = values.get("repo_path", ".")
    for arg in unknown:
        if not (Path(repo_path) / arg).exists():
            raise _usage(f"no such option: {arg}")
        files.append(arg)
    return Parsed(
        files,
        "fix" in flags,
        "require_decision" in flags,
        values.get("config"),
        repo_path,
        tuple(specs),
    )


def _usage(message: str) -> ArgumentError:
    return ArgumentError(message, command="check")


def main(argv: Sequence[str], *, imported: Callable[[], object] | None = None) -> int:
    """The hook's exit code; failures become one line through the CLI's own funnel.
    ``imported``: called once the check's modules are imported (see
    :func:`phase2_git.app.precommit.check_command`)."""
    return run(lambda: _check(argv, imported))


def _check(argv: Sequence[str], imported: Callable[[], object] | None = None) -> int:
    a = parse(argv)
    from phase2_git.app.precommit import check_command

    return check_command(
        a.files,
        fix=a.fix,
        require_decision=a.require_decision,
        config=a.config,
        repo_path=a.repo_path,
        pathspecs=a.pathspecs,
        imported=imported,
    )


# ------------------------------------------------------------------------------ merge driver


def merge_driver_main(argv: Sequence[str]) -> int:
    """``phase2 merge-driver %O %A %B %P [%L]``: git starts it once per conflicting artifact,
    so it takes this lean path too; failures become one line through the same funnel."""
    return run(lambda: _merge_driver(argv))


def _merge_driver(argv: Sequence[str]) -> int:
    import sys

    args = list(argv)
    if args == ["--finish"]:  # started by the driver itself (app/merge_driver.py)
        from phase2_git.app.merge_driver import finish

        finish()
        return 0
    if args[:1] == ["--"]:
        args = args[1:]
    if len(args) not in (4, 5):
        raise ArgumentError(
            f"expects 4 or 5 arguments (%O %A %B %P [%L]), got {len(args)}", command="merge-driver"
        )
    marker = 7
    if len(args) == 5:
        if not args[4].isdigit() or not 0 < int(args[4]) < 1000:
            raise ArgumentError(
                f"marker size must be a number, got {args[4]!r}", command="merge-driver"
            )
        marker = int(args[4])
    from phase2_git.app.merge_driver import merge_driver
    from phase2_git.funnel import one_line

    result = merge_driver(args[0], args[1], args[2], args[3], marker)
    if result.message:
        sys.stderr.write(one_line(result.message) + "\n")
    return result.code
