"""Gate results, the circuit breaker and the kill switch: what lets a judge act alone.

The policy asks three questions before any auto-apply (DESIGN.md §5b):

* :func:`kill_switch` — is ``PHASE2_DISABLE_AUTORESOLVE`` set?
* :func:`breaker_tripped` — have audits rejected too many auto-approvals lately?
* :func:`gated_methods` — which statistical judges hold a GO gate that still applies?

Gate results live in ``.phase2/gate/<method>.json`` (one file per judge, the latest run; commit
them so CI sees the same gate). Each is bound to the sha256 of its dataset file, the config
fingerprint and the judge identity (threshold, model, rubric hash): change any of them and the
gate no longer counts until ``phase2 gate`` runs again.

The breaker is derived from the committed decision log (so every clone and CI agree); its
last observed state and reason are kept in ``.phase2/state/breaker.json`` for display.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phase2_git.errors import UsageError
from phase2_git.store import schemas
from phase2_git.store.atomic import atomic_write_text
from phase2_git.store.decisions import LOG_FILE, DecisionLog, parse_lines
from phase2_git.store.judge_settings import judge_identity
from phase2_git.store.labels import file_sha256

if TYPE_CHECKING:
    from phase2_git.store.config import Config

GATE_DIR = ".phase2/gate"
GATE_SCHEMA = "GateResult.v1"
BREAKER_FILE = ".phase2/state/breaker.json"
KILL_SWITCH_ENV = "PHASE2_DISABLE_AUTORESOLVE"
# issue 6: "when audits reject 4 or more of the last 50 audited auto-approvals"
BREAKER_WINDOW = 50
BREAKER_MAX_REJECTED = 4


# -------------------------------------------------------------------------------- gate files


def gate_path(root: Path, method: str) -> Path:
    return root / GATE_DIR / f"{method}.json"


def save_gate(root: Path, result: Mapping[str, Any]) -> Path:
    """Validate and write one gate result atomically; returns its path."""
    schemas.check(dict(result), GATE_SCHEMA, f"gate result for {result.get('method')}")
    path = gate_path(root, str(result["method"]))
    atomic_write_text(path, json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return path


def load_gate(root: Path, method: str) -> dict[str, Any] | None:
    """The stored gate of ``method``, None when there is none; a damaged file is exit 2."""
    path = gate_path(root, method)
    shown = f"{GATE_DIR}/{method}.json"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"{shown}: cannot read: {exc.strerror}") from None
    try:
        doc = schemas.loads_strict(raw)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{shown}: not JSON: {exc}") from None
    schemas.check(doc, GATE_SCHEMA, shown)
    if doc["method"] != method:
        raise UsageError(f"{shown}: method: names '{doc['method']}', not '{method}'")
    return dict(doc)


def _dataset_path(root: Path, recorded: str) -> Path:
    p = Path(recorded)
    return p if p.is_absolute() else root / p


def gate_validity(root: Path, config: Config, method: str) -> tuple[bool, str]:
    """``(usable, why)``: is the stored gate of ``method`` GO and still bound to today's
    dataset, configuration and judge?"""
    gate = load_gate(root, method)
    if gate is None:
        return False, "no gate result (run `phase2 gate`)"
    if not gate["go"]:
        return False, "the latest gate is NO-GO"
    if gate["config_fingerprint"] != config.fingerprint:
        return False, "the configuration changed since the gate ran"
    dataset = _dataset_path(root, gate["dataset"]["path"])
    try:
        current = file_sha256(dataset)
    except OSError:
        return False, f"the gate's dataset {gate['dataset']['path']} is gone"
    if current != gate["dataset"]["sha256"]:
        return False, f"the dataset {gate['dataset']['path']} changed since the gate ran"
    want = judge_identity(method, config.data, root, threshold=gate["judge"].get("threshold"))
    if want != gate["judge"]:
        return False, "the judge (threshold, model or rubric) changed since the gate ran"
    # a threshold chosen by --calibrate is only in force once the configuration uses it
    configured = judge_identity(method, config.data, root)
    if configured.get("threshold") != gate["judge"].get("threshold"):
        return False, (
            f"the gate passed at threshold {gate['judge'].get('threshold')}, the configuration "
            f"uses {configured.get('threshold')}"
        )
    return True, "GO"


def gated_methods(root: Path, config: Config) -> frozenset[str]:
    """Statistical methods whose latest gate is GO and still valid: only these may justify
    an auto-apply, and only for ``policy.auto_apply_types`` (the policy's own rule)."""
    from phase2_git.core.methods import METHODS

    return frozenset(
        name
        for name, m in METHODS.items()
        if not m.deterministic and gate_validity(root, config, name)[0]
    )


# -------------------------------------------------------------------------------- kill switch


def kill_switch(environ: Mapping[str, str] = os.environ) -> str | None:
    """The reason auto-apply is off by the environment, or None (``0``/``false`` = not set)."""
    value = environ.get(KILL_SWITCH_ENV, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return None
    return f"{KILL_SWITCH_ENV} is set: auto-apply is disabled, every plan needs a human"


# -------------------------------------------------------------------------------- breaker


@dataclass(frozen=True)
class BreakerState:
    tripped: bool
    rejected: int  # rejected audits in the window
    audited: int  # audits in the window (at most BREAKER_WINDOW)
    reset_by: str | None  # id of the latest reset-breaker decision
    audit_ids: tuple[str, ...] = ()  # the rejecting audits in the window

    @property
    def reason(self) -> str | None:
        if not self.tripped:
            return None
        return (
            f"circuit breaker tripped: audits rejected {self.rejected} of the last "
            f"{self.audited} audited auto-approvals (limit {BREAKER_MAX_REJECTED - 1}); "
            "auto-apply is off until `phase2 gate --reset-breaker`"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "tripped": self.tripped,
            "reason": self.reason,
            "rejected": self.rejected,
            "audited": self.audited,
            "window": BREAKER_WINDOW,
            "limit": BREAKER_MAX_REJECTED,
            "reset_by": self.reset_by,
            "rejected_audits": list(self.audit_ids),
        }


def _audit_rejected(event: Mapping[str, Any]) -> bool | None:
    verdict = event.get("audit")
    if verdict in ("approved", "rejected"):
        return bool(verdict == "rejected")
    label = event.get("label")
    if label in ("equivalent", "different"):
        return bool(label == "different")
    return None


def breaker_from_events(events: Iterable[Mapping[str, Any]]) -> BreakerState:
    """Pure: the breaker as the log says, counting audits since the latest reset."""
    window: list[tuple[str, bool]] = []
    reset_by: str | None = None
    for e in events:
        decision = e.get("decision")
        if decision == "reset-breaker":
            window, reset_by = [], e.get("id")
        elif decision == "audit":
            rejected = _audit_rejected(e)
            if rejected is not None:
                window.append((str(e.get("id")), rejected))
    last = window[-BREAKER_WINDOW:]
    rejected_ids = tuple(i for i, r in last if r)
    return BreakerState(
        tripped=len(rejected_ids) >= BREAKER_MAX_REJECTED,
        rejected=len(rejected_ids),
        audited=len(last),
        reset_by=reset_by,
        audit_ids=rejected_ids,
    )


def read_breaker(root: Path) -> BreakerState:
    """Evaluate the breaker from ``.phase2/decisions.jsonl`` and record it in the state file.

    Lines are JSON-parsed but not schema-validated here: this runs on every ``diff`` and
    ``check``, and ``phase2 verify`` is the command that validates the whole log.
    """
    log = DecisionLog(root)
    events = (line.event for line in parse_lines(log.read_bytes(), LOG_FILE, validate_lines=False))
    state = breaker_from_events(events)
    path = root / BREAKER_FILE
    doc = json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n"
    try:
        unchanged = path.read_text(encoding="utf-8") == doc
    except (OSError, UnicodeDecodeError):
        unchanged = False
    if not unchanged and (state.tripped or path.exists()):
        try:
            atomic_write_text(path, doc)
        except UsageError:
            pass  # a read-only checkout still gets the answer; the record is a courtesy
    return state


def breaker_tripped(root: Path) -> str | None:
    """Why auto-apply is stopped by the breaker, or None when it is armed."""
    return read_breaker(root).reason


def autoresolve_blocked(root: Path, environ: Mapping[str, str] = os.environ) -> str | None:
    """Kill switch first, then the breaker: the one reason to announce, or None."""
    return kill_switch(environ) or breaker_tripped(root)
