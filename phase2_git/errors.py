"""The one domain exception and its exit codes (DESIGN.md §5).

Every layer raises :class:`Phase2Error` (or a subclass); the CLI maps it to one line on stderr
and the exit code it carries. Nothing else decides exit codes.
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


class RefusedError(Phase2Error):
    """Refused to protect data (lock held, branch moved, uncommitted edits): exit 3."""

    exit_code = EXIT_REFUSED


class GitError(Phase2Error):
    """git itself failed in a way we did not anticipate: exit 2 with git's own words."""

    exit_code = EXIT_USAGE


MAX_ERROR = 2000


def one_line(message: str) -> str:
    """An error message as one terminal-safe line: messages quote names, refs and config
    values the user (or a hostile PR) chose, and those may carry escapes or newlines. Here,
    not in the CLI: the hook prints errors without typer."""
    from phase2_git.core.sanitize import escape_controls

    if len(message) > MAX_ERROR:  # a schema error quotes the offending value, whatever its size
        message = message[: MAX_ERROR - 40] + f"… [{len(message) - MAX_ERROR + 40} more characters]"
    return escape_controls(message)
