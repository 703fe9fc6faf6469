"""The audit log ``.phase2/decisions.jsonl``: append-only, one validated ResolutionDecision per
line (invariant 2, docs/architecture.md).

Writers append whole lines with one ``write`` on an ``O_APPEND`` descriptor and fsync; every
line is validated against the schema before anything is written, so a bad event never
reaches the file. Readers refuse a malformed line or a truncated last line with the file and
line number, never skip it silently.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from phase2_git import __version__
from phase2_git.core.ids import sha256  # not hashlib: see core/ids.py
from phase2_git.errors import UsageError
from phase2_git.store import schemas

LOG_FILE = ".phase2/decisions.jsonl"
SCHEMA = "ResolutionDecision.v1"


def now_ts() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def decision_id(run_id: str, mismatch_id: str, decision: str, seq: int | str) -> str:
    """Deterministic within a run, so a resumed run recognises a line it already wrote."""
    raw = "\0".join((run_id, mismatch_id, decision, str(seq))).encode()
    return "dec_" + sha256(raw).hexdigest()[:16]


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
    shared: dict[Any, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A ResolutionDecision event, the one way every writer builds one: the fields each
    decision has, in the log's key order, then ``fields`` in the order given. ``user`` is
    ``(id, role)``, ``ui`` is ``(rich, mode)``; the id is :func:`decision_id`'s. Validated
    when it is written (:meth:`DecisionLog.append`, :func:`appended_content`).

    ``shared``: a dict the caller keeps for the events of one run: their ``user`` and ``ui``
    objects are then one object each, which :func:`validate_all` checks once."""
    if shared is None:
        who = {"id": user[0], "role": user[1]}
        where = {"rich": ui[0], "version": __version__, "mode": ui[1]}
    else:
        key = ("user/ui", user, ui, type(ui[0]))  # the type: True == 1 as a dict key
        if key not in shared:
            shared[key] = (
                {"id": user[0], "role": user[1]},
                {"rich": ui[0], "version": __version__, "mode": ui[1]},
            )
        who, where = shared[key]
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
        "user": who,
        "ui": where,
        "config_fingerprint": config_fingerprint,
        "transform": transform,
        "hashes": hashes,
        **fields,
    }


# json.dumps with these options builds a new encoder for every call: made once, the same
# public encoder is a third cheaper per line (resolve writes 5,000 lines in one commit)
_UTF8 = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_ASCII = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":"))


def encode(event: Mapping[str, Any]) -> bytes:
    """One canonical line: stable key order is the dict's order, no NaN, UTF-8."""
    line = _UTF8.encode(event)
    try:
        return (line + "\n").encode()
    except UnicodeEncodeError:
        # a path with bytes that are not UTF-8 (surrogateescape): \udcNN escapes keep the line
        # valid UTF-8 JSON and read back as the very same str
        return (_ASCII.encode(event) + "\n").encode()


def validate(event: Mapping[str, Any], where: str = LOG_FILE) -> None:
    validate_all((event,), where)


# the schema's top-level keywords under which each property's value is checked on its own
_EACH_ON_ITS_OWN = frozenset(
    (
        "$schema",
        "$id",
        "$defs",
        "$comment",
        "title",
        "description",
        "type",
        "properties",
        "additionalProperties",
        "required",
    )
)
_UNSEEN = object()


class _ByProperty(NamedTuple):
    """The schema compiled (fastjsonschema, as :func:`phase2_git.store.schemas.is_valid`)
    without its ``required`` list and with its arrays' items taken out, checked apart."""

    check: Callable[[Any], Any]  # any part of an event
    required: frozenset[str]
    items: dict[str, Callable[[Any], Any]]  # key of an array -> check of one of its items


@cache
def _by_property() -> _ByProperty | None:
    """:class:`_ByProperty` of the decision schema; None when the schema relates its
    properties to one another (a keyword beyond :data:`_EACH_ON_ITS_OWN`)."""
    import fastjsonschema

    schema = _merged_patterns(schemas.inline_refs(schemas.load_schema(SCHEMA)))
    if set(schema) - _EACH_ON_ITS_OWN or schema.get("type") != "object":
        return None
    properties = dict(schema.get("properties", {}))
    items = {}
    for key, sub in properties.items():
        # ``{"type": "array", "items": S}``: a list whose every item passes S
        if isinstance(sub, dict) and sub.keys() == {"type", "items"} and sub["type"] == "array":
            items[key] = fastjsonschema.compile({"$schema": schema["$schema"], **sub["items"]})
            properties[key] = {"type": "array"}
    rest = {k: v for k, v in schema.items() if k != "required"}
    rest["properties"] = properties
    return _ByProperty(fastjsonschema.compile(rest), frozenset(schema["required"]), items)


def _merged_patterns(node: Any) -> Any:
    """The same schema with ``{"not": {"anyOf": [{"pattern": a}, {"pattern": b}]}}`` written
    ``{"not": {"pattern": "(?:a)|(?:b)"}}``: one regular expression matches where one of the
    alternatives does, and a value that is not a string passes both forms of the inner
    schema. fastjsonschema compiles each alternative to a raised and caught exception: they
    were a fifth of checking a decision (its path, ``safePath``)."""
    if isinstance(node, list):
        return [_merged_patterns(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _merged_patterns(v) for k, v in node.items()}
    inner = out.get("not")
    alternatives = inner.get("anyOf") if isinstance(inner, dict) and len(inner) == 1 else None
    if isinstance(alternatives, list) and alternatives:
        patterns = [a.get("pattern") for a in alternatives if isinstance(a, dict) and len(a) == 1]
        # an inline flag or a back-reference means something else inside an alternation
        if len(patterns) == len(alternatives) and all(
            isinstance(p, str) and "(?" not in p and not any(f"\\{d}" in p for d in "123456789")
            for p in patterns
        ):
            out["not"] = {"pattern": "|".join(f"(?:{p})" for p in patterns)}
    return out


def validate_all(events: Iterable[Mapping[str, Any]], where: str = LOG_FILE) -> None:
    """:func:`validate` every event, in a time that suits thousands (``resolve --yes``).

    The schema is an object whose properties are each checked on their own
    (:func:`_by_property`): an event holding every required key whose values pass is valid.
    So a value that is the very object an earlier event of these held under the same key (the
    run's id, user and interface, a transform, a timestamp), or a string it held there, is not
    checked again; nor is an array item that is an object checked before under that key (the
    verdicts of methods that answer with a constant). The first event that fails is checked
    whole by jsonschema, which words the error."""
    compiled = _by_property()
    if compiled is None:  # pragma: no cover - the shipped schema is checked per property
        for event in events:
            schemas.check(dict(event), SCHEMA, where)
        return
    import fastjsonschema

    check, required, items = compiled
    seen: dict[str, Any] = {}  # key -> the last object checked under it
    words: dict[str, set[str]] = {}  # key -> the strings checked under it (a str is its value)
    known: dict[str, dict[int, Any]] = {k: {} for k in items}  # key -> id -> item checked
    for event in events:
        rest = {}
        for k, v in event.items():
            if seen.get(k, _UNSEEN) is v or (type(v) is str and v in words.get(k, ())):
                continue
            rest[k] = v
        try:
            if not event.keys() >= required:
                raise fastjsonschema.JsonSchemaException("a required key is missing")
            check(rest)
            for k, checked in known.items():
                for item in rest.get(k, ()):
                    # _UNSEEN, not None, for an id never checked: a None item is no
                    # earlier item (``[None]`` passed unchecked)
                    if checked.get(id(item), _UNSEEN) is not item:
                        items[k](item)
                        checked[id(item)] = item  # kept: its id is not reused meanwhile
        except fastjsonschema.JsonSchemaException:
            schemas.check(dict(event), SCHEMA, where)  # raises, naming the key
            raise UsageError(f"{where}: does not match {SCHEMA}") from None  # pragma: no cover
        seen.update(rest)
        for k, v in rest.items():
            if type(v) is str:
                words.setdefault(k, set()).add(v)


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
    return b"".join(appended_blocks(existing, events))


def appended_blocks(
    existing: bytes, events: Iterable[Mapping[str, Any]], *, validated: bool = False
) -> Iterator[bytes]:
    """:func:`appended_content` a block at a time: ``existing``, then the new lines 512 at a
    time, each block encoded when it is asked for. Every event is validated (and a torn last
    line of ``existing`` refused) before this returns, so nothing is handed out for a log
    that would be refused; ``validated``: the caller validates the events itself and uses
    nothing of the log before it has (resolve's commit: in a forked child, meanwhile).

    Blocks, not lines: thousands of small line objects alive together grew the heap by the
    log's size for good. A caller that writes each block out as it comes (resolve's commit,
    by way of a temporary file) never holds the new log whole."""
    if existing and not existing.endswith(b"\n"):
        parse_lines(existing, LOG_FILE, validate_lines=False)
    events = list(events)
    if not validated:
        validate_all(events)
    return _blocks(existing, events)


def _blocks(existing: bytes, events: Sequence[Mapping[str, Any]]) -> Iterator[bytes]:
    yield existing
    for i in range(0, len(events), 512):
        yield b"".join([encode(e) for e in events[i : i + 512]])
