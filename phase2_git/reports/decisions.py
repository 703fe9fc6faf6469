"""How every report names the decision that holds for a mismatch, from its JSON form.

One reading for the text table, Markdown, JUnit and GitHub output, so that no report calls an
approval trusted in the run that warns it is unverified, nor a rejected plan safe to apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from phase2_git.core.sanitize import sanitize_line

State = Literal["none", "verified", "unverified", "untrusted", "rejected"]


def decision_state(m: Mapping[str, Any]) -> State:
    """``verified``: an approval a ``[trust]`` table checked (listed reviewer, good signature);
    ``unverified``: an approval that counts without that check (no ``[trust]`` table on the
    trust side, or ``require_signed = false``); ``untrusted``: an approval that does not count;
    ``rejected``: the plan was rejected; ``none``: no decision bound to these hashes."""
    d = m.get("decision")
    if not d:
        return "none"
    if d.get("decision") == "reject":
        return "rejected"
    if d.get("decision") != "approve" or not d.get("trusted"):
        return "untrusted"
    # a document from before the field: its approval counted, as it said then
    return "unverified" if d.get("verified") is False else "verified"


# the approval as a short cell (the Markdown "approved" column)
APPROVED_CELL: dict[State, str] = {
    "none": "no",
    "verified": "yes",
    "unverified": "yes (unverified)",
    "untrusted": "untrusted",
    "rejected": "rejected",
}

# the decision in words (JUnit's system-out, the text table's plan cell)
DECISION_WORDS: dict[State, str] = {
    "none": "none",
    "verified": "approve (trusted, verified)",
    "unverified": "approve (counted, unverified)",
    "untrusted": "approve (NOT trusted: does not count)",
    "rejected": "reject (the plan is not to be applied)",
}


def rejected_by(m: Mapping[str, Any]) -> str:
    """`` (rejected by WHO)`` for a rejected plan, else ``""``; WHO is sanitised (the log's
    ``user`` field is anyone's to type)."""
    if decision_state(m) != "rejected":
        return ""
    return f" (rejected by {rejector(m)})"


def rejector(m: Mapping[str, Any]) -> str:
    """Who rejected the plan, sanitised."""
    d = m.get("decision") or {}
    return sanitize_line(str(d.get("by") or "someone"))
