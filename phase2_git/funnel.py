"""The one place where a failure becomes one line on stderr and an exit code.

Both entry points run through :func:`run`: the typer CLI (:func:`phase2_git.cli.main`) and the
pre-commit hook (:func:`phase2_git.hook.main`), so ``phase2 check`` fails with the same words
and codes whichever path parsed it. Lean on purpose: the hook imports it on every commit, so
no typer, click or rich here (click's errors are recognised by their shape), and the sanitiser
only loads once there is an error to print.

- a :class:`Phase2Error`: ``phase2: error: <message>``, its own exit code;
- an :class:`ArgumentError` or one of click's usage errors: ``phase2: error: <message> (see
  'phase2 X --help')``, exit 2; click's NoArgsIsHelp (``phase2`` alone): the help, exit 0;
- KeyboardInterrupt or the caller's ``Abort``: ``phase2: interrupted``, exit 130;
- anything else, a bug: ``phase2: internal error: <type>: <message> (set PHASE2_DEBUG=1 for
  the traceback)``, exit 2.

``PHASE2_DEBUG=1`` re-raises a :class:`Phase2Error` and a bug, for the traceback; usage errors
and interrupts never need one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import IO

from phase2_git.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    ArgumentError,
    Phase2Error,
)

MAX_ERROR = 2000
DEBUG_ENV = "PHASE2_DEBUG"


def one_line(message: str) -> str:
    """An error message as one terminal-safe line: messages quote names, refs and config
    values the user (or a hostile PR) chose, and those may carry escapes or newlines."""
    from phase2_git.core.sanitize import escape_controls  # only once there is an error

    if len(message) > MAX_ERROR:  # a schema error quotes the offending value, whatever its size
        message = message[: MAX_ERROR - 40] + f"… [{len(message) - MAX_ERROR + 40} more characters]"
    return escape_controls(message)


def run(
    call: Callable[[], object],
    *,
    interrupts: tuple[type[BaseException], ...] = (),
    environ: Mapping[str, str] | None = None,
) -> int:
    """``call()``'s exit code: the int it returns (anything else is 0), or what :func:`report`
    makes of what it raised. ``interrupts`` are the caller's own interrupt exceptions (typer's
    ``Abort``: the funnel does not import typer). SystemExit passes through."""
    try:
        rv = call()
    except (KeyboardInterrupt, Exception) as exc:
        code = report(exc, interrupts=interrupts, environ=environ)
        if code is None:
            raise
        return code
    return rv if isinstance(rv, int) else EXIT_OK


def report(
    exc: BaseException,
    *,
    interrupts: tuple[type[BaseException], ...] = (),
    environ: Mapping[str, str] | None = None,
    err: IO[str] | None = None,
    out: IO[str] | None = None,
) -> int | None:
    """Print the one line ``exc`` deserves and return its exit code; None when the caller
    should re-raise it (``PHASE2_DEBUG=1``, for the traceback)."""
    env = os.environ if environ is None else environ
    err = err if err is not None else sys.stderr
    debug = env.get(DEBUG_ENV) == "1"
    if isinstance(exc, ArgumentError):
        name = f"phase2 {exc.command}" if exc.command else "phase2"
        return _usage(exc.message, name, err)
    if isinstance(exc, Phase2Error):
        if debug:
            return None
        print(f"phase2: error: {one_line(str(exc))}", file=err)
        return exc.exit_code
    if isinstance(exc, (KeyboardInterrupt, *interrupts)) or _caused_by_interrupt(exc):
        print("phase2: interrupted", file=err)
        return EXIT_INTERRUPTED
    # click's usage errors, from click or from the copy newer typer vendors: duck-typed
    if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
        return _click_usage(exc, err, out if out is not None else sys.stdout)
    if debug:
        return None
    # a bug: one line, the traceback only on request
    print(
        f"phase2: internal error: {type(exc).__name__}: {one_line(str(exc))} "
        f"(set {DEBUG_ENV}=1 for the traceback)",
        file=err,
    )
    return EXIT_USAGE


def _caused_by_interrupt(exc: BaseException) -> bool:
    """Whether Ctrl-C is what ``exc`` wraps: Python 3.11 turns an exception raised in a
    class's ``__set_name__`` (a ``cached_property``, while a module that defines one is
    imported) into a RuntimeError caused by it, and Ctrl-C can land there."""
    seen = 0
    cause = exc.__cause__
    while cause is not None and seen < 8:  # a chain, never a cycle in practice: bounded
        if isinstance(cause, KeyboardInterrupt):
            return True
        cause, seen = cause.__cause__, seen + 1
    return False


def _click_usage(exc: BaseException, err: IO[str], out: IO[str]) -> int:
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
        out.write(ctx.get_help() + "\n")  # what `phase2` alone prints: its help, exit 0
        out.flush()
        return EXIT_OK
    name = None
    if ctx is not None:
        name = "phase2" if ctx.info_name == "phase2" else f"phase2 {ctx.info_name}"
    return _usage(exc.format_message(), name, err)  # type: ignore[attr-defined]


def _usage(message: str, command: str | None, err: IO[str]) -> int:
    # the pointer escaped on its own: a message cut at MAX_ERROR still ends with it
    hint = one_line(f" (see '{command} --help')") if command else ""
    print(f"phase2: error: {one_line(message)}{hint}", file=err)
    return EXIT_USAGE
