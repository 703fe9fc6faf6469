"""The audit log ``.phase2/decisions.jsonl``: append-only, one validated ResolutionDecision per
line (DESIGN.md §6, invariant 2).

Writers append whole lines with one ``write`` on an ``O_APPEND`` descriptor and fsync; every
line is validated against the schema before anything is written, so a bad event never
reaches the file. Readers refuse a malformed line or a truncated last line with the file and
line number, never skip it silently.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

from phase2_git import __version__
from phase2_git.errors import UsageError
from phase2_git.store import schemas

LOG_FILE = ".phase2/decisions.jsonl"
SCHEMA = "ResolutionDecision.v1"


def now_ts() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def decision_id(run_id: str, mismatch_id: str, decision: str, seq: int | str) -> str:
    """Deterministic within a run, so a resumed run recognises a line it already wrote."""
    raw = "\0".join((run_id, mismatch_id, decision, str(seq))).encode()
    return "dec_" + hashlib.sha256(raw).hexdigest()[:16]


def new_event(
    *,
    run_id: str,
    mismatch_id: str,
    decision: str,
    seq: int,
    ts: str,
    env: str,
    plan_id: str | None,
    action: str,
    user: tuple[str, str],
    ui: tuple[bool, str],
    config_fingerprint: str,
    transform: Mapping[str, Any] | None,
    hashes: Mapping[str, str | None],
    **fields: Any,
) -> dict[str, Any]:
    """A ResolutionDecision event, the one way every writer builds one: the fields each
    decision has, in the log's key order, then ``fields`` in the order given. ``user`` is
    ``(id, role)``, ``ui`` is ``(rich, mode)``; the id is :func:`decision_id`'s. Validated
    when it is written (:meth:`DecisionLog.append`, :func:`appended_content`)."""
    return {
        "schema": SCHEMA,
        "id": decision_id(run_id, mismatch_id, decision, seq),
        "ts": ts,
        "run_id": run_id,
        "env": env,
        "mismatch_id": mismatch_id,
        "plan_id": plan_id,
        "action": action,
        "decision": decision,
        "user": {"id": user[0], "role": user[1]},
        "ui": {"rich": ui[0], "version": __version__, "mode": ui[1]},
        "config_fingerprint": config_fingerprint,
        "transform": transform,
        "hashes": hashes,
        **fields,
    }


def encode(event: Mapping[str, Any]) -> bytes:
    """One canonical line: stable key order is the dict's order, no NaN, UTF-8."""
    line = json.dumps(event, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    try:
        return (line + "\n").encode()
    except UnicodeEncodeError:
        # a path with bytes that are not UTF-8 (surrogateescape): \udcNN escapes keep the line
        # valid UTF-8 JSON and read back as the very same str
        line = json.dumps(event, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        return (line + "\n").encode()


def validate(event: Mapping[str, Any], where: str = LOG_FILE) -> None:
    schemas.check(dict(event), SCHEMA, where)


class LogLine(NamedTuple):
    lineno: int
    event: dict[str, Any]


def parse_lines(data: bytes, where: str, *, validate_lines: bool = True) -> list[LogLine]:
    """Parse the log's bytes; raise :class:`UsageError` ``<where>:<line>: …`` on any defect."""
    if not data:
        return []
    if not data.endswith(b"\n"):
        last = data.count(b"\n") + 1
        raise UsageError(
            f"{where}:{last}: truncated last line (no newline): an interrupted write? "
            "Inspect it, then remove the partial line"
        )
    out: list[LogLine] = []
    for n, raw in enumerate(data.split(b"\n")[:-1], start=1):
        if not raw.strip():
            raise UsageError(f"{where}:{n}: empty line")
        try:
            event = schemas.loads_strict(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise UsageError(f"{where}:{n}: not UTF-8") from None
        except (ValueError, RecursionError) as exc:
            raise UsageError(f"{where}:{n}: not JSON: {exc}") from None
        if not isinstance(event, dict):
            raise UsageError(f"{where}:{n}: not a JSON object")
        if validate_lines:
            validate(event, f"{where}:{n}")
        out.append(LogLine(n, event))
    return out


class DecisionLog:
    """The working-tree log file of one repository."""

    def __init__(self, root: Path) -> None:
        from phase2_git.store.atomic import refuse_linked_store

        # log and verify read here without loading the config, where the check also sits
        refuse_linked_store(root)
        self.root = root
        self.path = root / LOG_FILE

    def read_bytes(self) -> bytes:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return b""
        except OSError as exc:
            raise UsageError(f"{LOG_FILE}: cannot read: {exc.strerror}") from None

    def read(self) -> list[LogLine]:
        return parse_lines(self.read_bytes(), LOG_FILE)

    def events(self) -> Iterator[dict[str, Any]]:
        for line in self.read():
            yield line.event

    def ids(self) -> set[str]:
        return {e["id"] for e in self.events()}

    def append(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Validate all, then append all with one write and fsync."""
        if not events:
            return
        for event in events:
            validate(event)
        payload = b"".join(encode(e) for e in events)
        existing = self.read_bytes()
        if existing and not existing.endswith(b"\n"):
            # never glue a new line onto a torn one: the reader reports it instead
            parse_lines(existing, LOG_FILE, validate_lines=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UsageError(f"{LOG_FILE}: cannot write: {exc.strerror}") from None
        try:
            written = os.write(fd, payload)
            if written != len(payload):  # pragma: no cover - short write on a full disk
                raise UsageError(f"{LOG_FILE}: short write ({written} of {len(payload)} bytes)")
            os.fsync(fd)
        except OSError as exc:
            raise UsageError(f"{LOG_FILE}: cannot write: {exc.strerror}") from None
        finally:
            os.close(fd)


def appended_content(existing: bytes, events: Iterable[Mapping[str, Any]]) -> bytes:
    """The log's bytes with ``events`` appended (for building a commit's tree)."""
    if existing and not existing.endswith(b"\n"):
        parse_lines(existing, LOG_FILE, validate_lines=False)
    new = []
    for e in events:
        validate(e)
        new.append(encode(e))
    return existing + b"".join(new)
