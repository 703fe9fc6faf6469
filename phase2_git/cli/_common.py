"""Helpers shared by the commands: colour and terminal detection, the CI output options."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import IO, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from phase2_git.core.env import in_ci


def use_color(
    no_color: bool, stream: IO[str] | None = None, environ: Mapping[str, str] = os.environ
) -> bool:
    """Colour only on a TTY, and never with ``--no-color`` or ``NO_COLOR`` (any value)."""
    if no_color or "NO_COLOR" in environ:
        return False
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def can_prompt(environ: Mapping[str, str] = os.environ, stdin: IO[str] | None = None) -> bool:
    """``CI=true`` or no TTY on stdin: never prompt (invariant 7, docs/architecture.md)."""
    if in_ci(environ):
        return False
    stdin = stdin or sys.stdin
    try:
        return stdin is not None and stdin.isatty()
    except (AttributeError, ValueError):
        return False


# the CI outputs that `diff` and `report merge` both write: declared once
SummaryOpt = Annotated[
    str | None, typer.Option("--summary", help="Write a Markdown report here.", metavar="FILE")
]
HtmlOpt = Annotated[
    str | None,
    typer.Option(
        "--html",
        help="Write a self-contained HTML report here (needs the web extra).",
        metavar="FILE",
    ),
]
JunitOpt = Annotated[
    str | None, typer.Option("--junit", help="Write JUnit XML here.", metavar="FILE")
]
PromOpt = Annotated[
    str | None,
    typer.Option("--prom", help="Write Prometheus textfile metrics here.", metavar="FILE"),
]
AnnotationsOpt = Annotated[
    bool | None,
    typer.Option(
        "--annotations/--no-annotations",
        help="Emit GitHub workflow-command annotations (default: under GitHub Actions).",
    ),
]
StepSummaryOpt = Annotated[
    bool | None,
    typer.Option(
        "--step-summary/--no-step-summary",
        help="Append the report to $GITHUB_STEP_SUMMARY (default: under GitHub Actions).",
    ),
]

# every command that works in a repository
RepoOpt = Annotated[
    str, typer.Option("-C", "--repo", help="Run in this repository.", metavar="DIR")
]

# the review's own options, shared by `resolve` (terminal) and `serve` (browser)
ReviewBaseArg = Annotated[
    str | None,
    typer.Argument(
        help="Base side (default: merge base with the upstream, origin/HEAD, main or master).",
        metavar="BASE",
    ),
]
ReviewHeadArg = Annotated[
    str, typer.Argument(help="Head side: the checked-out branch.", metavar="HEAD")
]
StateFileOpt = Annotated[
    str | None, typer.Option("--state-file", help="Resume state file.", metavar="FILE")
]
RestartOpt = Annotated[bool, typer.Option("--restart", help="Ignore the state file, start over.")]
RevisitSkippedOpt = Annotated[
    bool, typer.Option("--revisit-skipped", help="Bring skipped mismatches back.")
]
PathGlobOpt = Annotated[
    list[str], typer.Option("--path", help="Only artifacts matching this glob.", metavar="GLOB")
]
GuidedOpt = Annotated[
    bool,
    typer.Option("--guided", help="Review step by step: noise, mixed, real, audits, labels."),
]
UserOpt = Annotated[
    str | None,
    typer.Option("--user", help="Decision author (default: git identity).", metavar="USER"),
]
RoleOpt = Annotated[
    str | None,
    typer.Option("--role", help="Their role (default: ci in CI, else developer).", metavar="ROLE"),
]

# resolve, approve and reject read the base commit's configuration and trust: declared once
CommitConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config", help="Configuration file to use (default: the base commit's).", metavar="FILE"
    ),
]
TrustFromOpt = Annotated[
    str | None,
    typer.Option(
        "--trust-from",
        help="Commit whose configuration, [trust], [judge] and gate files count (default: "
        "the base).",
        metavar="COMMIT",
    ),
]


def _plain(annotation: Any, value: Any) -> tuple[bool, Any]:
    """``(True, value)`` when ``value`` already is what typer's coercion would make of it
    for ``annotation``: a string for ``str``, a bool for ``bool``, strings for ``list[str]``."""
    if annotation is str or annotation is bool:
        return isinstance(value, annotation), value
    if annotation == list[str] and isinstance(value, (list, tuple)):
        return all(isinstance(v, str) for v in value), list(value)
    return False, None


def skip_pydantic(params: Any) -> None:
    """Spare every command line pydantic's import (about 80 ms of a 200 ms start-up).

    typer 0.29 coerces every option and argument value through a pydantic ``TypeAdapter``,
    built on first use, even a string that click already parsed as a string or a default of
    None; nothing else in phase2 needs pydantic. For the plain annotations (``str``, ``bool``,
    ``list[str]``) whose values already have their type, the coercion is the identity (a
    list for ``list[str]``), so each such parameter gets a runtime parameter that returns the
    value as it is and hands anything else to typer's own, built then.

    This sets typer's private ``_runtime_param`` attribute, read by its public coercion path
    (``get_runtime_param``). A typer without it is left alone (the public path runs as
    before), and ``tests/test_cli_startup.py`` runs every command's parameters through both
    ways on the same values and compares the results."""
    try:
        from typer._coercion import RuntimeParam, build_runtime_param
    except ImportError:  # pragma: no cover - another typer: its public path runs
        return

    class Plain(RuntimeParam):
        """Identity for values that already have their annotation's type; typer's own
        coercion (pydantic) for anything else."""

        descriptor: Any
        full: Any

        def __init__(self, descriptor: Any) -> None:
            object.__setattr__(self, "annotation", descriptor.annotation)
            object.__setattr__(self, "parameter_info", descriptor.parameter_info)
            object.__setattr__(self, "descriptor", descriptor)
            object.__setattr__(self, "full", None)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            done, plain = _plain(self.annotation, value)
            if done:
                return plain
            if self.full is None:
                object.__setattr__(self, "full", build_runtime_param(self.descriptor))
            return self.full._coerce_value(value, param=param, ctx=ctx)

    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", False) is not None:
            continue
        info = descriptor.parameter_info
        if getattr(info, "parser", None) is not None or descriptor.file_annotation is not None:
            continue
        if descriptor.annotation in (str, bool) or descriptor.annotation == list[str]:
            param._runtime_param = Plain(descriptor)


class Group(TyperGroup):
    """Every phase2 command group: its own options (``--help``) skip pydantic too."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        skip_pydantic(self.get_params(ctx))
        return super().parse_args(ctx, args)


class Command(TyperCommand):
    """Every phase2 command: a help page that reads the same whatever typer resolves.

    typer 0.29 prints an argument as ``FILE <str>`` and brackets an explicit metavar once more
    in the usage line (``[[BASE]]``); older releases print the metavar as given. Arguments
    are written here from their metavar alone (options already are, given ``metavar=``)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        skip_pydantic(self.get_params(ctx))
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = _argument_name(param)
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        args: list[tuple[str, str]] = []
        opts: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                args.append((_argument_name(param), record[1]))
            else:
                opts.append(record)
        for title, rows in (("Arguments", args), ("Options", opts)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _argument_name(param: Any) -> str:
    name = str(param.metavar or (param.name or "").upper())
    return f"{name}..." if param.nargs != 1 else name


PATHSPECS = "phase2.pathspecs"  # where PathspecCommand leaves the pathspecs, in ctx.meta


def split_pathspecs(args: list[str], valued: set[str]) -> tuple[list[str], list[str]]:
    """``args`` cut at the ``--`` that ends the options: what comes before, the pathspecs
    after. A ``--`` that is the value of an option (``--config --``) is that value.
    ``valued``: the option names that take a value."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return args[:i], args[i + 1 :]
        if arg.startswith("--"):
            if "=" not in arg and arg in valued:
                i += 1  # the next argument is this option's value
        elif arg.startswith("-") and len(arg) > 1:
            # a cluster of short options (-yC dir, -Cdir): the first that takes a value ends it
            for j in range(1, len(arg)):
                if "-" + arg[j] in valued:
                    i += j == len(arg) - 1
                    break
        i += 1
    return args, []


class PathspecCommand(Command):
    """A command that takes ``-- PATHSPEC...`` after its arguments, as ``git diff`` does.

    click merges what follows ``--`` into the positional arguments (``phase2 diff -- 'css/**'``
    would read the glob as BASE): the pathspecs are cut off before click parses the rest and
    wait in ``ctx.meta[PATHSPECS]`` for the command (:func:`pathspecs`)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        valued = {
            name
            for p in self.params
            if p.param_type_name == "option"
            and not getattr(p, "is_flag", False)
            and not getattr(p, "count", False)
            for name in (*p.opts, *p.secondary_opts)
        }
        before, after = split_pathspecs(list(args), valued)
        ctx.meta[PATHSPECS] = tuple(after)
        return super().parse_args(ctx, before)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [*super().collect_usage_pieces(ctx), "[-- PATHSPEC...]"]


def pathspecs(ctx: Any) -> tuple[str, ...]:
    """The pathspecs a :class:`PathspecCommand` found after ``--``."""
    found: tuple[str, ...] = ctx.meta.get(PATHSPECS, ())
    return found


PATHSPEC_HELP = (
    "PATHSPEC (after --): only the artifacts these globs match, read as the configured "
    "include/exclude globs are (from the repository's top; '*.json' at any depth, "
    "'!glob' takes back)."
)
