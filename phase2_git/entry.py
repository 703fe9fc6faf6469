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
        from phase2_git.hook import main as hook_main

        return hook_main(args[1:])
    if args[:1] == ["merge-driver"] and not _HELP & set(args[1:]):
        from phase2_git.hook import merge_driver_main

        return merge_driver_main(args[1:])
    from phase2_git.cli import main as cli_main

    return cli_main(args)
