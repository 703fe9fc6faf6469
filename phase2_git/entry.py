"""The console script. ``phase2 check`` (the pre-commit hook, run on every commit) and
``phase2 merge-driver`` (started by git once per conflicting artifact) take a path that never
imports typer, rich or pydantic; everything else goes to the typer app."""

from __future__ import annotations

import sys
from collections.abc import Sequence

TYPE_CHECKING = False  # no ``typing`` or ``types`` on the hook's start-up path for one annotation
if TYPE_CHECKING:
    from types import FrameType

_HELP = {"-h", "--help"}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if argv is None:  # a process of its own: its Ctrl-C is ours to handle
        _handle_interrupts()
    if args[:1] == ["check"] and not _HELP & set(args[1:]):
        if argv is None:
            return _hook_process(args[1:])
        from phase2_git.hook import main as hook_main

        return hook_main(args[1:])
    if args[:1] == ["merge-driver"] and not _HELP & set(args[1:]):
        from phase2_git.hook import merge_driver_main

        return merge_driver_main(args[1:])
    if argv is None:
        return _cli_process(args)
    from phase2_git.cli import main as cli_main

    return cli_main(args)


def _cli_process(args: list[str]) -> int:
    """Any other command as a process of its own, its collector kept off what the app's
    imports make (typer, click and every command's module), as :func:`_hook_process` does for
    the hook, and off what is alive at exit. Measured side by side on a 20,000-artifact diff
    (bench/: the ``diff20k`` row), a run with no collector at all was 3% faster."""
    import gc

    gc.disable()
    try:
        from phase2_git.cli import main as cli_main
    finally:
        gc.freeze()
        gc.enable()
    try:
        return cli_main(args)
    finally:
        gc.freeze()


def _hook_process(args: list[str]) -> int:
    """``phase2 check`` as a process of its own (the console script, ``python -m phase2_git``:
    pre-commit starts one a commit), its garbage collector kept off what lives until exit.

    The hook's imports make tens of thousands of objects (modules, functions, classes) that
    are never garbage, and the collector walked them all again and again: in its automatic
    collections during the imports, and twice more at exit (the interpreter's shutdown
    collections), ~4 ms of a ~40 ms run. So the collector is off while the hook imports,
    what the imports made is frozen (:func:`gc.freeze`: left out of every later collection)
    before it is back on for the checking itself, which collects as ever, and what the run
    made is frozen once the exit code is known. Nothing is collected that would have been
    before: objects alive at exit are freed with the process, and the checking makes no
    reference cycles to speak of. A caller of :func:`main` with arguments (tests, in-process
    use) keeps its collector as it was."""
    import gc

    gc.disable()

    def imported() -> None:
        gc.freeze()
        gc.enable()

    from phase2_git.hook import main as hook_main

    try:
        return hook_main(args, imported=imported)
    finally:
        gc.freeze()


# how long a Ctrl-C that arrived inside the import machinery waits before it is raised
_RETRY = 0.005


def _handle_interrupts() -> None:
    """Ctrl-C raises KeyboardInterrupt, as Python's own handler does, except while the import
    machinery's own code runs: importlib takes the global import lock in Python code, and an
    exception raised between its acquire and its ``try`` leaves the lock held for good. Every
    other thread that imports a module then waits forever, and the interrupted run with it,
    since it joins its threads on the way out (seen: a ``resolve`` hung after one Ctrl-C). So
    not the standard handler: there, the interrupt is tried again a few milliseconds later (an
    interval timer's SIGALRM), when the import is done. (``_signal``: loaded at start-up,
    where ``signal`` would import enum.)"""
    import _signal  # type: ignore[import-not-found,unused-ignore]

    if not hasattr(_signal, "setitimer"):  # pragma: no cover - no interval timers (Windows)
        return
    _signal.signal(_signal.SIGINT, _interrupt)
    _signal.signal(_signal.SIGALRM, _interrupt)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # a signal handled while this handler runs: the frame it interrupted is the one that counts
    while frame is not None and frame.f_code is _interrupt.__code__:
        frame = frame.f_back
    if frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
        import _signal  # type: ignore[import-not-found,unused-ignore]

        _signal.setitimer(_signal.ITIMER_REAL, _RETRY)  # SIGALRM: this handler again
        return
    raise KeyboardInterrupt
