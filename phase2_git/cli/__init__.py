"""The ``phase2`` command line: typer commands that map options to one app call each.

Commands hold no logic a test would want to call: each reads its options, makes one app call,
hands the result to a renderer and returns the exit code. They raise what fails;
:mod:`phase2_git.funnel` turns it into one line and an exit code, for this CLI and for the hook
alike (docs/architecture.md, Errors and exit codes).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer

from phase2_git import __version__
from phase2_git.cli._common import Group
from phase2_git.funnel import run

# `phase2 --help` lists the commands in the order a user meets them, each with a line short
# enough never to be cut (click cuts a long help to the terminal's width with an ellipsis,
# never a short_help; at most 60 characters, so that beside the widest name, merge-driver, a
# line fits an 80-column terminal); typer's own order is registration order, older releases
# sorted them
COMMANDS: dict[str, str] = {
    "demo": "Try phase2 on a throwaway repository (yours is not touched).",
    "init": "Set up a repository: config, ignore file, CI snippets.",
    "diff": "Compare two sides: each changed artifact, noise or real.",
    "check": "The pre-commit hook: fail on noise or malformed JSON.",
    "resolve": "Review mismatches: apply safe fixes, approve real changes.",
    "serve": "The same review in a local web page (the web extra).",
    "approve": "Approve the current mismatches of the given paths.",
    "reject": "Reject the plans for the given paths.",
    "log": "Show the decision log.",
    "verify": "Check the decision log against its schema and git history.",
    "revert": "Undo one applied transform with a new commit.",
    "merge-driver": "git's merge driver for artifacts (init --merge-driver).",
    "labels": "Build the labelled calibration dataset.",
    "judge": "Measure equivalence judges against human labels.",
    "gate": "GO / NO-GO for the statistical judges.",
    "report": "Work with phase2's JSON reports (merge shards).",
    "methods": "List the equivalence methods.",
}


class _Commands(Group):
    def list_commands(self, ctx: Any) -> list[str]:
        order = list(COMMANDS)
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: order.index(n) if n in order else len(order))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None and cmd_name in COMMANDS:
            command.short_help = COMMANDS[cmd_name]
        return command


app = typer.Typer(
    cls=_Commands,
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
from phase2_git.cli import merge_driver as _merge_driver  # noqa: E402
from phase2_git.cli import methods as _methods  # noqa: E402
from phase2_git.cli import report as _report  # noqa: E402
from phase2_git.cli import resolve as _resolve  # noqa: E402
from phase2_git.cli import serve as _serve  # noqa: E402, F401

__all__ = [
    "_audit",
    "_check",
    "_demo",
    "_diff",
    "_gate",
    "_init",
    "_judge",
    "_labels",
    "_merge_driver",
    "_methods",
    "_report",
    "_resolve",
    "app",
    "main",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point: run the app; :func:`phase2_git.funnel.run` maps every
    failure to one line and an exit code. ``standalone_mode=False``: click hands back what
    a command returns or raises (``typer.Exit(n)`` becomes ``n``) instead of exiting."""
    args = list(sys.argv[1:] if argv is None else argv)
    one = _app_for(args[0]) if args else app
    return run(
        lambda: one(args=args, prog_name="phase2", standalone_mode=False),
        interrupts=(typer.Abort,),
    )


def _app_for(name: str) -> typer.Typer:
    """``app`` with only the command ``name`` (and the root's options), or ``app`` itself
    when ``name`` is no command: typer builds a click command for every registered command
    on each run, reading each function's signature and type hints, 9-15 ms of every command
    a user types where one command takes about 1 ms. Its usage, help and errors are the full
    app's (tests/test_cli_misc.py compares them)."""
    commands = [c for c in app.registered_commands if c.name == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if len(commands) + len(groups) != 1:
        return app
    from copy import copy

    one = copy(app)  # every setting of the app's, only the lists of commands its own
    one.registered_commands = commands
    one.registered_groups = groups
    return one
