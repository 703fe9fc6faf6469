"""The ``phase2`` command line: typer commands that map options to one app call each.

Commands hold no logic a test would want to call; errors become one line and an exit code
here and nowhere else (DESIGN.md §5).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import typer

from phase2_git import __version__
from phase2_git.errors import one_line

app = typer.Typer(
    name="phase2",
    help="Tell noise from real change in committed generated artifacts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"phase2 {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """phase2: git-native noise/real-change review for generated artifacts."""


# command modules register themselves on ``app``; their heavy imports happen inside the
# command bodies so that ``phase2 check`` (the pre-commit hook) starts fast
from phase2_git.cli import audit as _audit  # noqa: E402
from phase2_git.cli import check as _check  # noqa: E402
from phase2_git.cli import demo as _demo  # noqa: E402
from phase2_git.cli import diff as _diff  # noqa: E402
from phase2_git.cli import gate as _gate  # noqa: E402
from phase2_git.cli import init as _init  # noqa: E402
from phase2_git.cli import judge as _judge  # noqa: E402
from phase2_git.cli import labels as _labels  # noqa: E402
from phase2_git.cli import methods as _methods  # noqa: E402
from phase2_git.cli import report as _report  # noqa: E402
from phase2_git.cli import resolve as _resolve  # noqa: E402

__all__ = [
    "_audit",
    "_check",
    "_demo",
    "_diff",
    "_gate",
    "_init",
    "_judge",
    "_labels",
    "_methods",
    "_report",
    "_resolve",
    "app",
    "main",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point: run the app, map every failure to an exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        rv = app(args=args, prog_name="phase2", standalone_mode=False)
    except (typer.Abort, KeyboardInterrupt):
        print("phase2: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # click's usage errors, from click or from the copy newer typer vendors: duck-typed
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            return _usage_error(exc)
        if os.environ.get("PHASE2_DEBUG") == "1":
            raise
        # a bug: one line, the traceback only on request
        print(
            f"phase2: internal error: {type(exc).__name__}: {one_line(str(exc))} "
            "(set PHASE2_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 2
    return rv if isinstance(rv, int) else 0


def _usage_error(exc: Exception) -> int:
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
        typer.echo(ctx.get_help())
        return 0
    hint = ""
    if ctx is not None:
        name = "phase2" if ctx.info_name == "phase2" else f"phase2 {ctx.info_name}"
        hint = f" (see '{name} --help')"
    message = exc.format_message()  # type: ignore[attr-defined]
    print(f"phase2: error: {one_line(message + hint)}", file=sys.stderr)
    return 2
