"""The audit trail: ``phase2 log``, ``phase2 verify`` and ``phase2 revert``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from phase2_git.app.identity import Identity
from phase2_git.app.resolve import commit_with_log, prepare_log
from phase2_git.core.approvals import repeated_ids, void_reason
from phase2_git.errors import RefusedError, UsageError
from phase2_git.git import commit as gitc
from phase2_git.git.objects import tree_entry
from phase2_git.git.repo import GitRepo, quote_for_message
from phase2_git.git.worktree import hidden_bytes
from phase2_git.store import schemas
from phase2_git.store.decisions import LOG_FILE, SCHEMA, DecisionLog, new_event, now_ts
from phase2_git.store.lock import hold
from phase2_git.store.state import new_run_id

APPROVALS = ("approve", "auto-approve")


# ---------------------------------------------------------------------------- log


def audit_pending(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Auto-approvals marked for audit that no later ``audit`` decision answered."""
    answered = {e.get("refers_to") for e in events if e["decision"] == "audit"}
    return [
        e
        for e in events
        if e["decision"] == "auto-approve"
        and e.get("audit") == "pending"
        and e["id"] not in answered
    ]


def filter_log(
    events: Sequence[Mapping[str, Any]],
    *,
    path: str | None = None,
    decision: str | None = None,
    run: str | None = None,
    pending_audit: bool = False,
) -> list[Mapping[str, Any]]:
    selected = audit_pending(events) if pending_audit else list(events)
    if path is not None:
        from phase2_git.core.artifacts import ArtifactFilter

        keep = ArtifactFilter([path], [])
        selected = [e for e in selected if e["path"] == path or keep(e["path"])]
    if decision is not None:
        selected = [e for e in selected if e["decision"] == decision]
    if run is not None:
        selected = [e for e in selected if e["run_id"] == run]
    return selected


# ---------------------------------------------------------------------------- verify


@dataclass
class Verification:
    checked: int = 0
    transforms: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _read_all(log: DecisionLog) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """Every line, with problems collected instead of raised: verify lists them all."""
    data = log.read_bytes()
    problems: list[str] = []
    events: list[tuple[int, dict[str, Any]]] = []
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    else:
        problems.append(f"{LOG_FILE}:{len(lines)}: truncated last line (no newline)")
        lines.pop()
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            problems.append(f"{LOG_FILE}:{n}: empty line")
            continue
        try:
            event = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            problems.append(f"{LOG_FILE}:{n}: not JSON ({str(exc)[:80]})")
            continue
        if not isinstance(event, dict):
            problems.append(f"{LOG_FILE}:{n}: not a JSON object")
            continue
        try:
            schemas.check(event, SCHEMA, f"{LOG_FILE}:{n}")
        except UsageError as exc:
            problems.append(exc.message)
            continue
        events.append((n, event))
    return events, problems


def verify(repo: GitRepo) -> Verification:
    """Schema of every line; every referenced commit exists; every transform's trailer in
    history matches the logged hashes; no mismatch has contradicting final decisions."""
    result = Verification()
    events, result.problems = _read_all(DecisionLog(repo.root))
    result.checked = len(events)
    trailers: dict[str, tuple[str, gitc.TransformTrailer]] = {}
    for commit, message in gitc.commit_messages(repo, LOG_FILE):
        for t in gitc.parse_trailers(message):
            trailers.setdefault(t.decision_id, (commit, t))
    ids = {e["id"] for _, e in events}
    # an id names one line: a repeat could borrow the trust of the line it copies
    repeated = repeated_ids((n, e["id"]) for n, e in events)
    active: dict[str, dict[str, str]] = {}
    for n, e in events:
        where = f"{LOG_FILE}:{n} ({e['id']}, {quote_for_message(e['path'])})"
        if n in repeated:
            result.problems.append(f"{where}: {void_reason(e['id'], repeated[n])}")
        if e.get("commit") and not gitc.object_exists(repo, e["commit"]):
            result.problems.append(f"{where}: commit {e['commit'][:12]} does not exist")
        if e.get("refers_to") and e["refers_to"] not in ids:
            result.problems.append(f"{where}: refers to unknown decision {e['refers_to']}")
        if e["decision"] in APPROVALS and e.get("result"):
            result.transforms += 1
            transform = (e.get("transform") or {}).get("id", "")
            if transform.startswith("restore_base") and e["result"] != e["hashes"]["before"]:
                result.problems.append(f"{where}: restore_base result is not the base blob")
            found = trailers.get(e["id"])
            if found is None:
                result.problems.append(f"{where}: no commit in history carries its transform")
            else:
                commit, t = found
                if (t.old, t.new, t.path) != (e["hashes"]["after"], e["result"], e["path"]):
                    result.problems.append(
                        f"{where}: hashes differ from commit {commit[:12]}'s trailer "
                        f"({(t.old or '-')[:12]}..{(t.new or '-')[:12]})"
                    )
                else:
                    entry = tree_entry(repo, commit, e["path"])
                    if entry is None or entry[1] != e["result"]:
                        result.problems.append(
                            f"{where}: commit {commit[:12]} does not hold the logged result"
                        )
        _track(active, e)
    rewritten = _rewritten_in(repo)
    if rewritten is not None:
        result.problems.append(
            f"{LOG_FILE}: rewritten in commit {rewritten[:12]} (lines removed or changed; the log "
            "is append-only, and a removed reject brings an approval back)"
        )
    for mid, finals in active.items():
        kinds = set(finals.values())
        if "approve" in kinds and "reject" in kinds:
            result.problems.append(f"{mid}: contradicting final decisions (approved and rejected)")
    return result


def _rewritten_in(repo: GitRepo) -> str | None:
    """The first commit of HEAD's history that removed or changed a line of the log."""
    from phase2_git.git.history import log_rewrite

    return log_rewrite(repo, None, "HEAD")


def _track(active: dict[str, dict[str, str]], e: Mapping[str, Any]) -> None:
    """Final decisions per mismatch, with undo and revert taking theirs back (a first step,
    ``step``, decides nothing about its mismatch's real change)."""
    mid = e["mismatch_id"]
    finals = active.setdefault(mid, {})
    if e.get("step") is not None:
        return
    if e["decision"] in APPROVALS:
        finals[e["id"]] = "approve"
    elif e["decision"] == "reject":
        finals[e["id"]] = "reject"
    elif e["decision"] in ("undo", "revert") and e.get("refers_to"):
        for m in active.values():
            m.pop(e["refers_to"], None)


# ---------------------------------------------------------------------------- revert


@dataclass(frozen=True)
class RevertResult:
    commit: str
    path: str
    restored: str


def revert(repo: GitRepo, decision: str, who: Identity, *, env: str = "local") -> RevertResult:
    """Undo one transform with a new commit, after checking its result still holds."""
    log = DecisionLog(repo.root)
    events = [line.event for line in log.read()]
    target = next((e for e in events if e["id"] == decision), None)
    if target is None:
        raise UsageError(f"no decision {quote_for_message(decision)} in {LOG_FILE}")
    if target["decision"] not in APPROVALS or not target.get("result"):
        raise UsageError(f"decision {decision} applied no transform: nothing to revert")
    if any(e["decision"] == "revert" and e.get("refers_to") == decision for e in events):
        raise UsageError(f"decision {decision} is already reverted")
    path = target["path"]
    with hold(repo.root):
        branch = gitc.current_branch(repo)
        entry = tree_entry(repo, branch.commit, path)
        if entry is None or entry[1] != target["result"]:
            now = entry[1][:12] if entry else "no file"
            raise RefusedError(
                f"'{quote_for_message(path)}' moved on since {decision} (now {now}, logged "
                f"{target['result'][:12]}): revert would overwrite a later change",
            )
        index = gitc.index_entries(repo, [path]).get(path)
        worktree = gitc.clean_hashes(repo, [path]).get(path)
        if (index.oid if index else None) != target["result"] or worktree != target["result"]:
            raise RefusedError(
                f"'{quote_for_message(path)}' has uncommitted changes of your own: commit or "
                "stash them first"
            )
        # the file cleans to the result, but may hold more than git stores (a clean filter's
        # dropped lines, CRLF under text=auto): restoring it would destroy that
        for hidden in hidden_bytes(repo, {path: target["result"]}).values():
            raise RefusedError(f"'{quote_for_message(path)}': {hidden.reason}")
        transform_commit = None
        for commit, message in gitc.commit_messages(repo, LOG_FILE):
            if any(t.decision_id == decision for t in gitc.parse_trailers(message)):
                transform_commit = commit
                break
        restored = target["hashes"]["after"]
        run_id = new_run_id()
        event = new_event(
            run_id=run_id,
            mismatch_id=target["mismatch_id"],
            decision="revert",
            seq=0,
            ts=now_ts(),
            env=env,
            plan_id=target["plan_id"],
            action="revert",
            user=(who.id, who.role),
            ui=(False, "scripted"),
            config_fingerprint=target["config_fingerprint"],
            transform=target["transform"],
            hashes=target["hashes"],
            result=restored,
            path=path,
            mismatch_type=target.get("mismatch_type", "content"),
            artifact_type=target.get("artifact_type", "text"),
            label=None,
            commit=transform_commit,
            refers_to=decision,
            methods=target["methods"],
        )
        tx = prepare_log(repo, branch.commit)
        update = gitc.TreeUpdate(path, target["result"], restored, entry[0])
        trailer = gitc.TransformTrailer(event["id"], target["result"], restored, path)
        message = (
            f"phase2: revert {decision} ({quote_for_message(path)})\n\n"
            f"Restores the content the transform replaced.\n\n"
            f"{gitc.TRAILER_RUN}: {run_id}\n{trailer.render()}\n"
        )
        outcome = commit_with_log(repo, branch, [update], [event], tx, message)
        assert outcome is not None
        return RevertResult(outcome[0], path, restored)


def record_audit(session: Any, target: Mapping[str, Any], label: str) -> dict[str, Any]:
    """A human's answer on a sampled auto-approval: a decision with a label, recorded in the
    session like every decision and committed with the log by ``session.apply()`` (audits feed
    the calibration dataset and the circuit breaker)."""
    run_id = session.state.run_id
    seq = session.state.stats.get("events", 0)
    event = new_event(
        run_id=run_id,
        mismatch_id=target["mismatch_id"],
        decision="audit",
        seq=seq,
        ts=now_ts(),
        env=target.get("env", "local"),
        plan_id=target["plan_id"],
        action=target["action"],
        user=(session.who.id, session.who.role),
        ui=(session.rich, "audit"),
        config_fingerprint=session.config.fingerprint,
        transform=target["transform"],
        hashes=target["hashes"],
        path=target["path"],
        mismatch_type=target.get("mismatch_type", "content"),
        artifact_type=target.get("artifact_type", "text"),
        label=label,
        commit=None,
        refers_to=target["id"],
        audit="approved" if label == "equivalent" else "rejected",
        methods=target["methods"],
    )
    if target.get("result"):
        event["result"] = target["result"]
    session.state.pending.append({"event": event, "update": None})
    session.state.bump("events")
    session.state.bump("audit")
    session.state.save()
    return event


# ---------------------------------------------------------------------------- the commands

LOG_FORMATS = ("text", "json")


@dataclass(frozen=True)
class LogView:
    """What ``phase2 log`` shows: the chosen decisions, out of how many."""

    chosen: list[Mapping[str, Any]]
    total: int


def log_at(
    repo_path: str,
    *,
    fmt: str = "text",
    path: str | None = None,
    decision: str | None = None,
    run: str | None = None,
    pending_audit: bool = False,
) -> LogView:
    """``phase2 log``: the decisions of the repository at ``repo_path`` that pass the filters
    (``fmt`` is checked first: a bad one is refused before anything is read)."""
    if fmt not in LOG_FORMATS:
        raise UsageError(f"--format must be text or json, got '{fmt}'")
    repo = GitRepo.discover(repo_path)
    events = list(DecisionLog(repo.root).events())
    chosen = filter_log(events, path=path, decision=decision, run=run, pending_audit=pending_audit)
    return LogView(chosen, len(events))


def verify_at(repo_path: str) -> Verification:
    """``phase2 verify`` in the repository at ``repo_path``."""
    return verify(GitRepo.discover(repo_path))


def revert_at(
    repo_path: str, decision: str, *, user: str | None = None, role: str | None = None
) -> RevertResult:
    """``phase2 revert`` in the repository at ``repo_path``, by ``--user``/``--role`` or the
    identity :func:`phase2_git.app.identity.identity` finds."""
    from phase2_git.app.identity import identity

    repo = GitRepo.discover(repo_path)
    return revert(repo, decision, identity(repo, user, role))
