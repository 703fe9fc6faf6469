"""``phase2 methods``."""

from __future__ import annotations

import sys

from phase2_git.cli import app
from phase2_git.cli._common import Command


@app.command("methods", cls=Command)
def methods_cmd() -> None:
    """List the equivalence methods with their descriptions."""
    from phase2_git.ui.render import methods_lines

    sys.stdout.writelines(methods_lines())
