"""The console script. ``phase2 check`` (the pre-commit hook, run on every commit) and
``phase2 merge-driver`` (started by git once per conflicting artifact) take a path that never
imports typer, rich or pydantic; everything else goes to the typer app."""

from __future__ import annotations

import sys
from collections.abc import Sequence

_HELP = {"-h", "--help"}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["check"] and not _HELP & set(args[1:]):
        if argv is None:
            return _hook_process(args[1:])
        from phase2_git.hook import main as hook_main

        return hook_main(args[1:])
    if args[:1] == ["merge-driver"] and not _HELP & set(args[1:]):
        from phase2_git.hook import merge_driver_main

        return merge_driver_main(args[1:])
    from phase2_git.cli import main as cli_main

    return cli_main(args)


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
