"""``phase2 methods``."""

from __future__ import annotations

import typer

from phase2_git.cli import app


@app.command("methods")
def methods_cmd() -> None:
    """List the equivalence methods with their descriptions."""
    from phase2_git.core.methods import METHODS
    from phase2_git.core.settings import DEFAULT_METHODS

    width = max(len(n) for n in METHODS)
    for name, m in METHODS.items():
        kind = "deterministic" if m.deterministic else "statistical"
        default = " (default)" if name in DEFAULT_METHODS else ""
        typer.echo(f"{name:<{width}}  {kind:<13}  {m.description}{default}")
