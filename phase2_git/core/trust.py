"""Who may approve (README: Trust). Pure: facts about a commit in, a verdict out.

An approval line counts only when the commit that *added* it (found through history, never
the line's own ``user`` field, which anyone can type) was committed by a listed reviewer and,
under ``require_signed``, carries a good signature by a key listed for that reviewer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

_IDENT = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<email>[^<>\s]+)>\s*$")


def email_of(ident: str) -> str | None:
    m = _IDENT.match(ident)
    return m.group("email").lower() if m else None


class TrustPolicy(NamedTuple):
    reviewers: frozenset[str]  # lower-cased emails
    # email -> (keytype, key or fingerprint) lines as given
    keys: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType({})
    require_signed: bool = True

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> TrustPolicy:
        reviewers = frozenset(e for e in (email_of(r) for r in table.get("reviewers", [])) if e)
        keys: dict[str, list[tuple[str, str]]] = {}
        for line in table.get("signing_keys", []):
            email, keytype, key = line.split(None, 2)
            keys.setdefault(email.lower(), []).append((keytype, key.split()[0]))
        return cls(
            reviewers,
            {k: tuple(v) for k, v in keys.items()},
            bool(table.get("require_signed", True)),
        )

    def allowed_signers(self) -> str:
        """git's ``gpg.ssh.allowedSignersFile`` for the SSH keys listed."""
        lines = []
        for email, keys in sorted(self.keys.items()):
            for keytype, key in keys:
                if keytype != "gpg":
                    lines.append(f'"{email}" {keytype} {key}')
        return "\n".join(lines) + ("\n" if lines else "")

    def gpg_fingerprints(self, email: str) -> set[str]:
        return {k.upper() for t, k in self.keys.get(email, ()) if t == "gpg"}


class CommitFacts(NamedTuple):
    """What git history says about the commit that added an approval line."""

    commit: str | None  # None: the line is in no commit reachable from the head side
    committer: str = ""
    signature: str = "N"  # git's %G?: G good, B bad, U good/unknown validity, N none, …
    signer: str = ""  # %GS: the principal (SSH) or user id (GPG)
    fingerprint: str = ""  # %GF


def verdict(policy: TrustPolicy, facts: CommitFacts) -> tuple[bool, str]:
    if facts.commit is None:
        return False, "the approval is not committed (only commits count)"
    short = facts.commit[:12]
    email = email_of(facts.committer)
    if email is None or email not in policy.reviewers:
        return False, f"commit {short} was committed by {facts.committer!r}, not a listed reviewer"
    if not policy.require_signed:
        return True, f"committed by {facts.committer} in {short} (signature not required)"
    if facts.signature not in ("G", "U"):
        what = {"N": "is not signed", "B": "has a bad signature", "E": "cannot be verified"}
        return False, f"commit {short} {what.get(facts.signature, 'has no good signature')}"
    gpg = policy.gpg_fingerprints(email)
    if gpg:
        if facts.fingerprint.upper() in gpg:
            return True, f"signed by {email}'s listed GPG key in {short}"
        return False, f"commit {short} is signed by a key not listed for {email}"
    if facts.signer.lower() == email:
        return True, f"signed by {email}'s listed SSH key in {short}"
    return False, f"commit {short} is signed by {facts.signer or 'an unknown key'}, not {email}"


def notices(policy: TrustPolicy | None, approvals: Sequence[Mapping[str, Any]]) -> list[str]:
    if not approvals:
        return []
    if policy is None:
        return [
            "approvals are unverified: the trust side (the base, or --trust-from) has no "
            "[trust] table"
        ]
    if not policy.require_signed:
        return [
            "approvals rest on unverified identities: require_signed = false, and a committer "
            "name is a claim anyone can type"
        ]
    return []
