"""``phase2 approve`` / ``phase2 reject``: the scriptable twins of the review keys, through the
same engine and apply step as the interactive loop."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from phase2_git.app.resolve import ApplyResult, Operation, open_session
from phase2_git.core.artifacts import ArtifactFilter
from phase2_git.core.model import Mismatch
from phase2_git.errors import UsageError
from phase2_git.git.repo import GitRepo, quote_for_message
from phase2_git.store.config import Config


@dataclass
class DecideResult:
    decided: list[Mismatch]
    applied: ApplyResult
    base_description: str
    notices: list[str] = field(default_factory=list)


def decide(
    repo: GitRepo,
    decision: str,
    paths: Sequence[str],
    *,
    config: Config | None = None,
    config_path: str | None = None,
    trust_from: str | None = None,
    base: str | None = None,
    head: str = "HEAD",
    no_commit: bool = False,
    state_file: str | None = None,
    restart: bool = False,
    user: str | None = None,
    role: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> DecideResult:
    if decision not in ("approve", "reject"):
        raise UsageError(f"unknown decision '{decision}'")  # pragma: no cover - CLI guards
    with open_session(
        repo,
        base,
        head,
        config=config,
        state_file=state_file,
        restart=restart,
        config_path=config_path,
        trust_from=trust_from,
        user=user,
        role=role,
        ui_mode="scripted",
        no_commit=no_commit,
        environ=environ,
    ) as session:
        chosen: list[Mismatch] = []
        for pattern in paths:
            keep = ArtifactFilter([pattern], [])
            hits = [
                m
                for m in session.mismatches
                if m.path == pattern or m.change.old_path == pattern or keep(m.path)
            ]
            if not hits:
                raise UsageError(
                    f"no mismatch for '{quote_for_message(pattern)}' between "
                    f"{session.base_description} and {session.branch.name}"
                )
            chosen.extend(m for m in hits if m not in chosen)
        for m in chosen:
            session.record(Operation(m, decision))  # type: ignore[arg-type]
        names = ", ".join(quote_for_message(m.path) for m in chosen[:5])
        more = f" and {len(chosen) - 5} more" if len(chosen) > 5 else ""
        applied = session.apply(
            no_commit=no_commit, commit_decisions=True, title=f"phase2: {decision} {names}{more}"
        )
        return DecideResult(chosen, applied, session.base_description, list(session.config_notices))


@dataclass(frozen=True)
class DecideOptions:
    """The options ``phase2 approve`` and ``phase2 reject`` share."""

    decision: str
    paths: tuple[str, ...]
    base: str | None = None
    head: str = "HEAD"
    no_commit: bool = False
    state_file: str | None = None
    restart: bool = False
    user: str | None = None
    role: str | None = None
    config: str | None = None
    trust_from: str | None = None
    repo: str = "."


def decide_at(opts: DecideOptions) -> DecideResult:
    """:func:`decide` in the repository at ``opts.repo``; the configuration is chosen by side
    (``--trust-from``, :mod:`phase2_git.app.sources`)."""
    return decide(
        GitRepo.discover(opts.repo),
        opts.decision,
        opts.paths,
        config_path=opts.config,
        trust_from=opts.trust_from,
        base=opts.base,
        head=opts.head,
        no_commit=opts.no_commit,
        state_file=opts.state_file,
        restart=opts.restart,
        user=opts.user,
        role=opts.role,
    )
