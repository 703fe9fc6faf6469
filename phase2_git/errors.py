"""The one domain exception and its exit codes (DESIGN.md §5).

Every layer raises :class:`Phase2Error` (or a subclass); :mod:`phase2_git.funnel` maps it to
one line on stderr and the exit code it carries. Nothing else decides exit codes. A leaf: it
imports nothing of phase2, so every layer may import it.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_INTERRUPTED = 130


class Phase2Error(Exception):
    """A failure the user can act on; ``str(err)`` is the one line we print."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} (hint: {self.hint})"
        return self.message


class UsageError(Phase2Error):
    """Bad arguments, bad refs, bad configuration or input files: exit 2."""

    exit_code = EXIT_USAGE


class ArgumentError(UsageError):
    """Bad command-line arguments: exit 2, and the line points at the command's ``--help``."""

    def __init__(self, message: str, *, command: str | None = None) -> None:
        super().__init__(message)
        self.command = command


class RefusedError(Phase2Error):
    """Refused to protect data (lock held, branch moved, uncommitted edits): exit 3."""

    exit_code = EXIT_REFUSED


class GitError(Phase2Error):
    """git itself failed in a way we did not anticipate: exit 2 with git's own words."""

    exit_code = EXIT_USAGE
