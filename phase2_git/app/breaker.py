"""``phase2 gate --reset-breaker``: re-arm a tripped circuit breaker (:mod:`phase2_git.store.gate`
derives the breaker from the decision log; the reset is a decision like any other)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from phase2_git.app.identity import Identity
from phase2_git.core.env import env_name
from phase2_git.core.ids import short_hash
from phase2_git.store.config import Config
from phase2_git.store.decisions import DecisionLog, new_event, now_ts
from phase2_git.store.gate import BREAKER_FILE, read_breaker


def reset_breaker(
    root: Path,
    config: Config,
    who: Identity,
    *,
    environ: Mapping[str, str] = os.environ,
    ts: str | None = None,
) -> dict[str, Any] | None:
    """Re-arm a tripped breaker by logging a ``reset-breaker`` decision; None if not tripped.

    Audits before the reset no longer count (the window restarts), so the same rejections
    cannot trip it again; new rejections can.
    """
    state = read_breaker(root)
    if not state.tripped:
        return None
    when = ts or now_ts()
    run_id = "run_" + short_hash("reset-breaker", when, who.id)
    # the breaker is no artifact, but every decision names a mismatch: one bound to the
    # audits that tripped it, so two resets of the same trip share an id
    mismatch = "mis_" + short_hash("breaker", *state.audit_ids)
    event = new_event(
        run_id=run_id,
        mismatch_id=mismatch,
        decision="reset-breaker",
        seq=0,
        ts=when,
        env=env_name(environ),
        plan_id=None,
        action="reset_breaker",
        user=(who.id, who.role),
        ui=(False, "scripted"),
        config_fingerprint=config.fingerprint,
        transform=None,
        hashes={"before": None, "after": None},
        path=BREAKER_FILE,
        label=None,
        commit=None,
        methods=[],
        breaker=False,
        reason=(state.reason or "")[:2000],
    )
    DecisionLog(root).append([event])
    read_breaker(root)  # refresh the recorded state
    return event
