"""The resolution engine: decisions are data, effects happen in one step.

A :class:`Session` lists the mismatches between a base and the checked-out branch, records
one :class:`Operation` per decision into the resume state (rewritten atomically each time),
and :meth:`Session.apply` turns the recorded operations into one commit -- the transformed
artifacts and the decision log together -- moved onto the branch with compare-and-swap.
The interactive review, ``--yes``, ``approve``/``reject`` and audits all feed this one step.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from phase2_git.app.diff import run_diff
from phase2_git.app.diff_result import DiffResult
from phase2_git.app.identity import Identity, identity
from phase2_git.app.normalized import REASON as NORMALIZED
from phase2_git.app.normalized import normalized_by_git
from phase2_git.app.strips import Strip, StripHere, run_strip
from phase2_git.core import env, transforms
from phase2_git.core.classify import whitespace_rules
from phase2_git.core.ids import in_sample
from phase2_git.core.ids import mismatch_id as make_mismatch_id
from phase2_git.core.ids import plan_id as make_plan_id
from phase2_git.core.model import Blob, Change, Mismatch, Plan, Step, Verdict, is_noise
from phase2_git.core.pipeline import PairCheck
from phase2_git.errors import RefusedError, UsageError
from phase2_git.git import commit as gitc
from phase2_git.git.background import Background
from phase2_git.git.blobs import read_blobs
from phase2_git.git.objects import read_blob, tree_entry
from phase2_git.git.repo import GitRepo, quote_for_message
from phase2_git.git.sides import default_base, resolve_commit
from phase2_git.git.worktree import (
    CONVERSION_ATTRIBUTES,
    attributes,
    autocrlf,
    hidden_bytes,
    never_rewritten,
)
from phase2_git.store import gate as gatemod
from phase2_git.store import lock as lockmod
from phase2_git.store import state as statemod
from phase2_git.store.atomic import atomic_write_chunks
from phase2_git.store.config import Config
from phase2_git.store.decisions import (
    LOG_FILE,
    DecisionLog,
    appended_blocks,
    new_event,
    now_ts,
    parse_lines,
    validate_all,
)

if TYPE_CHECKING:
    from phase2_git.app.forking import ChildCheck
    from phase2_git.core.settings import ClassifySettings

DecisionKind = Literal["approve", "reject", "skip", "auto-approve", "shadow", "label", "audit"]
_REAL_WAITS = "the real change waits for a human"
_HUMAN = "a real change needs a human decision"  # core/policy.py's reason for a manual plan
# decisions that leave a mismatch undecided: a label says what it is, a shadow what --yes would
# have done; neither is marked processed in the resume state
UNMARKED = frozenset({"label", "shadow"})
LOCAL_EXCLUDES = ("/.phase2/state/", "/.phase2/lock", "/.phase2/lock.*.tmp", "/.phase2/cache/")


def sampled_for_audit(mismatch_id: str, rate: float) -> bool:
    """Deterministic: the same mismatch is always in or out of the sample (invariant 8); the
    audit's own draw of :func:`phase2_git.core.ids.in_sample`, as the shadow share has its."""
    return in_sample("audit", mismatch_id, rate)


def label_for(m: Mismatch, decision: str) -> str | None:
    """The human label a decision implies ("is this mismatch noise?")."""
    if decision in ("approve", "auto-approve"):
        return "equivalent" if is_noise(m.mismatch_type) else "different"
    if decision == "reject":
        return "different"
    return None


@dataclass(frozen=True)
class Operation:
    mismatch: Mismatch
    decision: DecisionKind
    label: str | None = None
    audit: str | None = None
    reason: str = ""
    refers_to: str | None = None
    # "first": the decision is about the plan's first step (a mixed file's strip_noise), not
    # about the mismatch: its real change stays undecided
    step: Literal["first"] | None = None

    @property
    def action(self) -> str:
        """The action this operation decides on: the first step's, or the plan's."""
        first = self.mismatch.plan.first
        if self.step == "first" and first is not None:
            return first.action
        return self.mismatch.plan.action


@dataclass
class ApplyResult:
    commits: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)  # paths rewritten
    logged: int = 0
    kept: list[str] = field(default_factory=list)  # paths left alone (user's edits)
    # a killed run's commit that landed while this run worked, its sync finished here
    adopted: str | None = None


@dataclass
class Session:
    repo: GitRepo
    config: Config
    diff: DiffResult
    branch: gitc.Branch
    state: statemod.State
    who: Identity
    ui_mode: str
    rich: bool
    environ: Mapping[str, str]
    notices: list[str] = field(default_factory=list)
    # what the choice of configuration said (a head that changes it, --config on two commits)
    config_notices: list[str] = field(default_factory=list)
    base_description: str = ""
    unrewritable: dict[str, str] = field(default_factory=dict)
    already_done: int = 0
    # blob id -> bytes of base blobs that restore_base plans write back, kept as the diff
    # read them: the files are then written from memory, not checked out again
    held: dict[str, bytes] = field(default_factory=dict)
    # path -> git's conversion attributes of the paths it may rewrite (asked with the diff),
    # and core.autocrlf (None: not asked)
    attrs: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    crlf: str | None = None
    # paths found holding no byte git does not store, before anything was written
    verified: frozenset[str] = frozenset()
    # --no-commit, as the session was opened: every apply of the session honours it
    no_commit: bool = False
    # the comparison again against another commit of the branch (see open_session)
    rediff: Callable[[str], DiffResult] | None = None
    # a killed run's unsynced commit not on the branch (yet) as this run opened: its git may
    # still move the branch, until this run's own move settles it (see _finish_unsynced)
    unlanded: dict[str, Any] | None = field(default=None, init=False, repr=False)

    # ---------------------------------------------------------------- queries

    @property
    def mismatches(self) -> list[Mismatch]:
        return self.diff.mismatches

    def todo(self) -> list[Mismatch]:
        return [m for m in self.mismatches if not self.state.is_processed(m.id)]

    @property
    def kill_switch(self) -> bool:
        """Read once per session: the environment of a running process does not change."""
        if "_kill_switch" not in self.__dict__:
            self.__dict__["_kill_switch"] = gatemod.kill_switch(self.environ) is not None
        active: bool = self.__dict__["_kill_switch"]
        return active

    @property
    def env_name(self) -> str:
        if "_env_name" not in self.__dict__:  # os.environ.get per event added up (5,000)
            self.__dict__["_env_name"] = env.env_name(self.environ)
        name: str = self.__dict__["_env_name"]
        return name

    def now(self) -> str:
        """The decision's timestamp (millisecond resolution), formatted once a millisecond:
        ``strftime`` for each of 5,000 decisions made in a tenth of a second added up."""
        ms = time.time_ns() // 1_000_000
        if self.__dict__.get("_now_ms") != ms:
            self.__dict__["_now_ms"], self.__dict__["_now"] = ms, now_ts()
        stamp: str = self.__dict__["_now"]
        return stamp

    def breaker(self) -> str | None:
        """Read once per session: it parses the whole decision log (it was read per mismatch)."""
        if "_breaker" not in self.__dict__:
            self.__dict__["_breaker"] = gatemod.breaker_tripped(self.repo.root)
        reason: str | None = self.__dict__["_breaker"]
        return reason

    def standing(self, since: str, applied: Collection[str] | None = None) -> list[Mismatch]:
        """The mismatches the comparison holds once this session is done, for the exit code
        and for saying what is left. ``since``: the branch's commit when the session opened
        (unmoved: the session's own diff). ``applied``: the paths whose noise the session's
        commit resolved (a mixed file's: its noise alone), when nothing else it committed can
        change a verdict (``--yes`` approves no real change); None: compare again (a human's
        approval is trusted or not by the trust model, as ``phase2 diff`` would see it)."""
        if self.branch.commit == since:
            return list(self.mismatches)
        if applied is not None or self.rediff is None:
            gone = set(applied or ())
            # a mixed file whose first step was committed is left as its real change alone:
            # the stripped blob the branch now holds, with nothing for --yes to do (left as it
            # was, it would still offer its strip, and say_left would advise a --yes just run)
            stripped = [
                m.path
                for m in self.mismatches
                if m.path in gone and not is_noise(m.mismatch_type) and _safe_first(m)
            ]
            now = gitc.tree_entries(self.repo, self.branch.commit, stripped)
            return [
                _real_change_of(m, now[m.path]) if m.path in now else m
                for m in self.mismatches
                if not (m.path in gone and is_noise(m.mismatch_type))
            ]
        return list(self.rediff(self.branch.commit).mismatches)

    def can_rewrite(self, m: Mismatch) -> bool:
        """The plan's transform, or its first step, may rewrite the file."""
        planned = m.plan.transform is not None or _safe_first(m) is not None
        return planned and m.path not in self.unrewritable

    # ---------------------------------------------------------------- policy for --yes

    def auto_operation(self, m: Mismatch) -> Operation:
        """What ``--yes`` does with one mismatch (docs/architecture.md, Auto-apply policy)."""
        policy = self.config.policy
        plan = m.plan
        if m.resolved:
            return Operation(m, "skip", reason="already canonical")
        # a mixed file: its safe first step (strip_noise) goes through the same gates as any
        # safe plan; the operation is about that step only, the real change waits for a human
        first = _safe_first(m)
        step: Literal["first"] | None = "first" if first is not None else None
        refused = self._strip_refusals().get(m.id) if first is not None else None
        if refused is not None:
            # the strip ran (prepare_strips) and its own check refused the result
            return Operation(m, "skip", reason=f"its noise cannot be stripped: {refused}")
        if first is not None and self._pending_step(m) is not None:
            # an interrupted review recorded it (--auto-approve-safe): it is applied with the rest
            return Operation(m, "skip", reason=f"its first step is already recorded; {_REAL_WAITS}")
        if not self.can_rewrite(m) and (plan.transform is not None or first is not None):
            why = self.unrewritable.get(m.path, "cannot be rewritten")
            return Operation(m, "skip", reason=why)
        statistical_only = (
            plan.transform is not None
            and not plan.safe
            and bool(plan.justified_by)
            and plan.confidence < 1.0
        )
        if plan.safe or statistical_only or first is not None:
            if self.kill_switch:
                return Operation(
                    m, "skip", reason=f"{gatemod.KILL_SWITCH_ENV} is set: a human decides"
                )
            breaker = self.breaker()
            if breaker:
                return Operation(m, "skip", reason=f"circuit breaker tripped: {breaker}")
            if statistical_only:
                return Operation(m, "shadow", reason=plan.reason)
            if policy.mode == "shadow":
                return Operation(m, "shadow", reason="policy mode is shadow", step=step)
            if policy.mode == "manual":
                return Operation(m, "skip", reason="policy mode is manual: a human decides")
            audit = "pending" if sampled_for_audit(m.id, policy.sample_rate) else None
            why = plan.reason if first is None else f"{first.reason}; {_REAL_WAITS}"
            return Operation(m, "auto-approve", audit=audit, reason=why, step=step)
        return Operation(m, "skip", reason=plan.reason)

    # ---------------------------------------------------------------- recording

    def event(self, op: Operation) -> dict[str, Any]:
        """The decision event of ``op``. A first step's names the step's plan id, action and
        transform (``strip_noise``), says ``step: first``, and has no label: it says the
        stripped head is the head's document, nothing about the base and the head."""
        m = op.mismatch
        seq = self.state.stats.get("events", 0)
        label = op.label if op.decision in ("label", "audit") else label_for(m, op.decision)
        planned: Plan | Step = m.plan
        if op.step == "first" and m.plan.first is not None:
            planned, label = m.plan.first, None
        # one user, interface and transform object for all the session's events: built once,
        # and validated once when the log is written (decisions.validate_all)
        shared: dict[Any, Any] = self.__dict__.setdefault("_shared", {})
        transform = None
        if planned.transform is not None:
            key = ("transform", id(planned.transform))
            if key not in shared:  # the object is kept with its JSON: the id stays its own
                shared[key] = (planned.transform, planned.transform.to_json())
            transform = shared[key][1]
        ev = new_event(
            run_id=self.state.run_id,
            mismatch_id=m.id,
            decision=op.decision,
            seq=seq,
            ts=self.now(),
            env=self.env_name,
            plan_id=planned.plan_id,
            action=planned.action,
            user=(self.who.id, self.who.role),
            ui=(self.rich, self.ui_mode),
            config_fingerprint=self.config.fingerprint,
            transform=transform,
            hashes={"before": m.change.before, "after": m.change.after},
            shared=shared,
            path=m.path,
            mismatch_type=m.mismatch_type,
            artifact_type=m.artifact_type,
            label=label,
            commit=None,
            methods=[self._verdict(v, shared) for v in m.verdicts],
            kill_switch=self.kill_switch,
        )
        if op.audit is not None:
            ev["audit"] = op.audit
        if op.refers_to is not None:
            ev["refers_to"] = op.refers_to
        if op.reason:
            ev["reason"] = quote_for_message(op.reason)[:2000]
        if op.step is not None:
            ev["step"] = op.step
        return ev

    @staticmethod
    def _verdict(v: Verdict, shared: dict[Any, Any]) -> dict[str, object]:
        """``v.to_json()``, one object per verdict object: the methods that answer with a
        constant verdict give every event the same one (validated once)."""
        key = ("verdict", id(v))
        if key not in shared:
            shared[key] = (v, v.to_json())  # the verdict is kept: its id stays its own
        out: dict[str, object] = shared[key][1]
        return out

    def _transform_update(self, op: Operation) -> dict[str, Any] | None:
        m = op.mismatch
        if op.decision not in ("approve", "auto-approve") or not self.can_rewrite(m):
            return None
        if op.step is None and (
            m.plan.action in ("accept_change", "manual") or m.plan.transform is None
        ):
            return None
        return {"path": m.path, "old": m.change.after, "new": None, "mode": m.change.after_mode}

    def _after_first_step(self, op: Operation) -> Operation:
        """A human's approve or reject of a mixed file is about its real change, and binds to
        the content the branch will hold: the head with its noise stripped, when the strip is
        recorded in this session. Approving one whose first step is safe records that step
        first (one commit holds both), so the real change is accepted with the base's
        formatting. The mixed mismatch counts as decided; ``refers_to`` names the strip."""
        m = op.mismatch
        first = _safe_first(m)
        if first is None:
            return op
        step_ev = self._pending_step(m, rewrites=True)
        if step_ev is None and (op.decision != "approve" or not self.can_rewrite(m)):
            return op
        stripped = self._stripped(m)
        if stripped is None:  # the transform refuses this content: decided as it is
            return op
        if step_ev is None:
            why = f"{first.reason}; approved with its real change"
            step_ev = self.record(Operation(m, "approve", reason=why, step="first"), save=False)
        bound = _real_change_of(m, stripped[0])
        self.state.mark(m.id)
        why = op.reason or (
            f"decided on the file with its noise stripped ({first.transform.id}), "
            "as the branch will hold it"
        )
        return replace(op, mismatch=bound, refers_to=step_ev["id"], reason=why)

    def _pending_step(self, m: Mismatch, *, rewrites: bool = False) -> dict[str, Any] | None:
        """The event of ``m``'s first step recorded in this session and not yet applied (with
        ``rewrites``: only one that rewrites the file, not a shadow)."""
        for p in self.state.pending:
            ev: dict[str, Any] = p["event"]
            mine = ev.get("step") == "first" and ev["mismatch_id"] == m.id
            if mine and (not rewrites or p["update"] is not None):
                return ev
        return None

    def _stripped(self, m: Mismatch) -> tuple[str, bytes] | None:
        """(blob id, bytes) of a mixed file's head with its noise stripped (cached), None when
        the transform refuses the content (its reason in :meth:`_strip_refusals`)."""
        self.prepare_strips([m])
        return self._strip_cache()[m.id]

    def _strip_cache(self) -> dict[str, tuple[str, bytes] | None]:
        """What each strip run so far gave, by mismatch id: (blob id, bytes), or None when the
        transform refused (its reason in :meth:`_strip_refusals`)."""
        found: dict[str, tuple[str, bytes] | None] = self.__dict__.setdefault("_stripped_cache", {})
        return found

    def _strip_refusals(self) -> dict[str, str]:
        """Why the strip of a mixed file was refused, by mismatch id (strips run so far)."""
        found: dict[str, str] = self.__dict__.setdefault("_strip_refused", {})
        return found

    def prepare_strips(self, ms: Sequence[Mismatch]) -> None:
        """Run the first step (strip_noise) of the mixed files among ``ms``, reading their
        blobs in one batch: a diff plans the step without running it, and the transform
        checks its own result, so a refusal is known here, before anything is recorded."""
        cache = self._strip_cache()
        todo = {m.path: m for m in ms if m.plan.first is not None and m.id not in cache}
        if not todo:
            return
        changes = [m.change for m in todo.values()]
        for change, before, after in read_blobs(self.repo, changes, max_size=1 << 62):
            m = todo[change.path]
            assert before is not None and after is not None
            assert before.data is not None and after.data is not None
            self._stripped_as(
                m, run_strip(self.repo, self.config.classify, m, before.data, after.data)
            )

    def _stripped_as(self, m: Mismatch, stripped: Strip) -> None:
        """Keep what ``m``'s strip gave: its result, or its refusal."""
        if isinstance(stripped, str):
            self._strip_cache()[m.id] = None
            self._strip_refusals()[m.id] = stripped
        else:
            self._strip_cache()[m.id] = stripped

    def record_first_steps(self) -> int:
        """``--auto-approve-safe``: record the safe first step of every mixed file left to
        review, through :meth:`auto_operation`'s gates, before the review; the real changes
        stay to be reviewed. How many were recorded."""
        n = 0
        todo = self.todo()
        self.prepare_strips([m for m in todo if _safe_first(m) is not None])
        for m in todo:
            # a resumed review finds the steps it recorded before still pending
            if _safe_first(m) is None or self._pending_step(m) is not None:
                continue
            op = self.auto_operation(m)
            if op.step is not None:
                self.record(op, save=False)
                n += 1
        if n:
            self.state.save()
        return n

    def record(self, op: Operation, *, save: bool = True) -> dict[str, Any]:
        """Record one decision durably in the state file (not yet in the log or history).

        ``save=False`` is for ``--yes``: its decisions are a pure function of the inputs (a
        rerun after a crash decides the same way, with the same decision ids), and
        :meth:`apply` saves the state before its first effect; rewriting a growing state file
        per decision made 5,000 transforms quadratic.

        A first step (``op.step``) leaves its mismatch undecided: the real change is still to
        be reviewed."""
        if op.step is None and op.decision in ("approve", "reject"):
            op = self._after_first_step(op)
        ev = self.event(op)
        self.state.pending.append({"event": ev, "update": self._transform_update(op)})
        if op.decision not in UNMARKED and op.step is None:
            self.state.mark(op.mismatch.id, skipped=op.decision == "skip")
        self.state.bump("events")
        self.state.bump(op.decision if op.step is None else "first_step")
        if op.audit == "pending":
            self.state.bump("sampled")
        if save:
            self.state.save()
        return ev

    def record_auto(self, op: Operation, *, save: bool = False) -> bool:
        """Record what ``--yes`` decided (:meth:`auto_operation`), if it is a decision at all.

        A skip of ``--yes`` is no decision: the plan is left to a human, so it is neither
        logged nor marked (a kill switch or a breaker, once lifted, finds it undecided; a rerun
        logs nothing again). A shadow is logged once per mismatch, never marked: the plan it
        stands for may still be applied when the policy allows. Not saved unless ``save``,
        as :meth:`record` says for ``--yes``."""
        if op.decision == "skip":
            return False
        if op.decision == "shadow" and op.mismatch.id in self._shadowed():
            return False
        self.record(op, save=save)
        return True

    def _shadowed(self) -> frozenset[str]:
        """The mismatches the log (committed lines and appended ones) holds a shadow of."""
        if "_shadowed_ids" not in self.__dict__:
            data = DecisionLog(self.repo.root).read_bytes()
            self.__dict__["_shadowed_ids"] = frozenset(
                str(line.event.get("mismatch_id"))
                for line in parse_lines(data, LOG_FILE, validate_lines=False)
                if line.event.get("decision") == "shadow"
            )
        shadowed: frozenset[str] = self.__dict__["_shadowed_ids"]
        return shadowed

    def undo_last(self) -> dict[str, Any] | None:
        """Take back the last decision of this session that is not yet applied."""
        if not self.state.pending:
            return None
        item = self.state.pending.pop()
        ev = item["event"]
        mid = ev["mismatch_id"]
        self.state.unmark(mid)
        # counted as record() counted it: a first step under first_step, not its decision
        counted = "first_step" if ev.get("step") == "first" else ev["decision"]
        self.state.stats[counted] = max(0, self.state.stats.get(counted, 0) - 1)
        # a decision on a mixed file bound to its stripped content: the mixed mismatch is
        # undecided again, and a strip recorded with an approval goes with it
        pending = self.state.pending
        k = next(
            (
                k
                for k, p in enumerate(pending)
                if ev.get("refers_to") is not None
                and p["event"]["id"] == ev["refers_to"]
                and p["event"].get("step") == "first"
            ),
            None,
        )
        if k is not None:
            self.state.unmark(pending[k]["event"]["mismatch_id"])
            if pending[k]["event"]["decision"] == "approve":
                del pending[k]
                self.state.stats["first_step"] = max(0, self.state.stats.get("first_step", 1) - 1)
        self.state.bump("undone")
        self.state.save()
        return dict(ev)

    # ---------------------------------------------------------------- applying

    def _finish_unsynced(self) -> None:
        """A crash between the branch move and the sync: finish the sync (idempotent)."""
        un = self.state.unsynced
        if not un:
            return
        if self._landed(un):
            self._sync_landed(un)
            self.state.pending = []
        else:
            # not on the branch, or not yet: SIGKILL to phase2 alone leaves its `git
            # update-ref` running, and that move can land while this run works. Kept until
            # this run's own move settles which of the two came first (see apply)
            self.unlanded = un
        self.state.unsynced = None
        self.state.save()

    def _keep_unlanded(self) -> None:
        """This run moves no branch (``--no-commit``, or nothing to apply), so nothing
        settles whether the killed run's move (:meth:`_finish_unsynced`) lands: finished here
        if it has landed by now, else recorded again for the next run to finish should it
        land later."""
        un, self.unlanded = self.unlanded, None
        if un is None:
            return
        if self._landed(un):
            self._take_over(un)
        else:
            self.state.unsynced = un
        self.state.save()

    def _landed(self, un: Mapping[str, Any]) -> bool:
        head = resolve_commit(self.repo, "HEAD")
        return head == un["commit"] or gitc.branch_contains(self.repo, un["commit"], head)

    def _sync_landed(self, un: Mapping[str, Any]) -> None:
        """The working tree, index and state of a commit a killed run moved the branch to."""
        updates = [gitc.TreeUpdate(**u) for u in un["updates"]]
        kept = sync_all(self.repo, updates, un.get("log"), resume=True)
        self.notices += [f"left alone (your own changes): {quote_for_message(p)}" for p in kept]
        if un["commit"] not in self.state.commits:
            self.state.commits.append(un["commit"])
        if un.get("log"):
            self._mark_committed(un["log"]["new"])

    def _take_over(self, un: Mapping[str, Any]) -> None:
        """The killed run's commit landed late: its sync finished, the branch where it is."""
        self._sync_landed(un)
        self.branch = gitc.current_branch(self.repo)
        self.state.head = self.branch.commit

    def _after_refused_move(self) -> str | None:
        """The commit this run goes on from after its commit's move was refused, or None when
        the refusal stands. After this run's own move (a sync refused), the next run finishes
        it. Before it, the killed run's commit (see :meth:`_finish_unsynced`) may have landed
        first: its sync is finished, the decisions it holds leave this run's pending ones, and
        the branch is where this run goes on from. Not landed, the state records that commit
        again, not this run's (it will never land), so the next run still finishes that sync
        should the killed run's git move the branch after all."""
        ours, un = self.state.unsynced, self.unlanded
        if (ours is not None and self._landed(ours)) or un is None:
            return None
        if not self._landed(un):
            self.state.unsynced = un
            with self._as_before():
                self.state.save()
            return None
        self.unlanded = None
        self.state.unsynced = None  # this run's commit: its move failed, it never lands
        self._take_over(un)
        committed = prepare_log(self.repo, self.branch.commit).committed_ids
        self.state.pending = [p for p in self.state.pending if p["event"]["id"] not in committed]
        self.state.save()
        return str(un["commit"])

    def _mark_committed(self, log_blob: str) -> None:
        """Mark this run's decisions that a commit on the branch holds but the state does not
        (``--yes`` saves the state without them before its branch moves: see
        :meth:`replayable`), with the bookkeeping :meth:`record` does."""
        st = self.state
        data = read_blob(self.repo, log_blob)
        for line in parse_lines(data, LOG_FILE, validate_lines=False):
            ev = line.event
            mid, decision = str(ev.get("mismatch_id")), str(ev.get("decision"))
            if ev.get("run_id") != st.run_id or decision in UNMARKED or st.is_processed(mid):
                continue
            st.mark(mid, skipped=decision == "skip")
            st.bump("events")
            st.bump(decision)
            if ev.get("audit") == "pending":
                st.bump("sampled")

    def replayable(self) -> None:
        """The decisions recorded from here on are a pure function of the inputs (``--yes``):
        a rerun makes them again, the same way and with the same ids. Then the state saved
        before the branch moves need not hold them, only what was there before: a run killed
        before the move decides them again, one killed after it marks them from the commit
        (:meth:`_mark_committed`). Thousands of events made that save the largest write of
        the run (8 MB of JSON for 5,000 transforms)."""
        st = self.state
        self.__dict__["_before"] = (list(st.processed), list(st.skipped), dict(st.stats))
        self.__dict__["_pending_before"] = list(st.pending)

    @contextlib.contextmanager
    def _as_before(self) -> Iterator[None]:
        """The state as :meth:`replayable` found it, for the save before the branch moves."""
        if "_before" not in self.__dict__:
            yield
            return
        st = self.state
        now = (st.processed, st.skipped, st.stats, st.pending)
        processed, skipped, stats = self.__dict__["_before"]
        st.processed, st.skipped, st.stats = list(processed), list(skipped), dict(stats)
        st.pending = list(self.__dict__["_pending_before"])
        try:
            yield
        finally:
            st.processed, st.skipped, st.stats, st.pending = now

    def _new_contents(self, items: Sequence[dict[str, Any]]) -> dict[str, tuple[str, bytes | None]]:
        """path -> (new blob id or '' to be written, bytes to write). Each item is rewritten
        with the transform its event names: the plan's, or its first step's (strip_noise)."""
        by_path = {m.path: m for m in self.mismatches}
        out: dict[str, tuple[str, bytes | None]] = {}
        # the rewrite logged must be the one the plan named (one configuration plans and
        # applies, so the assertions only fail on a bug)
        planned: dict[str, str] = {}
        for i in items:
            m = by_path.get(i["update"]["path"])
            if m is None:
                continue
            step = m.plan.first if i["event"].get("step") == "first" else m.plan
            assert step is not None and step.transform is not None
            assert (i["event"].get("transform") or {}).get("id") == step.transform.id
            planned[m.path] = step.transform.id
        stripped = self._strip_cache()
        changes = []
        for path, tid in planned.items():
            m = by_path[path]
            held = stripped.get(m.id) if tid == transforms.STRIP_NOISE_ID else None
            if tid == transforms.RESTORE_BASE.transform.id:
                assert m.change.before is not None
                out[path] = (m.change.before, None)
            elif held is not None:  # computed when a human's decision was bound to it
                out[path] = ("", held[1])
            else:
                changes.append(m.change)
        if changes:
            for change, before, after in read_blobs(self.repo, changes, max_size=1 << 62):
                m = by_path[change.path]
                spec = transforms.spec_for(
                    planned[m.path],
                    m.mismatch_type,
                    m.artifact_type,
                    self.config.classify,
                    whitespace_rules(m.path, self.config.classify),
                )
                assert spec is not None
                assert before is not None and after is not None
                assert before.data is not None and after.data is not None
                out[m.path] = ("", transforms.apply(spec, before.data, after.data))
        return out

    def apply(
        self,
        *,
        no_commit: bool = False,
        commit_decisions: bool = True,
        title: str | None = None,
    ) -> ApplyResult:
        """Turn every recorded decision into effects: one commit (artifacts + log together).

        Decisions without a transform are committed too (CI must see approvals in history, and
        a log left modified is a chore), unless ``no_commit`` (or the session's ``--no-commit``)
        or not ``commit_decisions``: then they are appended to the working-tree log.
        """
        no_commit = no_commit or self.no_commit
        result = ApplyResult()
        self._finish_unsynced()
        self._drop_stale()
        pending = list(self.state.pending)
        if not pending:
            self._keep_unlanded()
            return result
        tx = prepare_log(self.repo, self.branch.commit)
        pending = [p for p in pending if p["event"]["id"] not in tx.committed_ids]
        events = [p["event"] for p in pending if p["event"]["id"] not in tx.present_ids]
        transforms_todo = [p for p in pending if p["update"] is not None]

        if no_commit or not (transforms_todo or (commit_decisions and events)):
            # durable before the first effect: ``--yes`` records without saving (when it
            # commits, the save before the branch moves is the one that counts)
            self.state.save()
            if transforms_todo:
                result.applied, result.kept = self._write_worktree(transforms_todo)
            DecisionLog(self.repo.root).append(events)
            result.logged = len(events)
            self.state.pending = []
            self._keep_unlanded()
            self.state.save()
            return result

        contents = self._new_contents(transforms_todo)
        to_write = [(p, d) for p, (oid, d) in contents.items() if not oid and d is not None]
        blob_ids = gitc.write_blobs(self.repo, [d for _, d in to_write])
        written = dict(zip([p for p, _ in to_write], blob_ids))
        updates: list[gitc.TreeUpdate] = []
        trailers: list[gitc.TransformTrailer] = []
        for item in transforms_todo:
            u = item["update"]
            path = u["path"]
            new = contents[path][0] or written[path]
            if new == u["old"]:
                continue  # already in that state: nothing to write
            updates.append(gitc.TreeUpdate(path, u["old"], new, u["mode"]))
            item["event"]["result"] = new
            trailers.append(gitc.TransformTrailer(item["event"]["id"], u["old"], new, path))

        def remember(commit: str, log: dict[str, Any]) -> None:
            # durable before the branch moves: a crash after the move resumes the sync
            self.state.unsynced = {
                "commit": commit,
                "updates": [u.__dict__ for u in updates],
                "log": log,
            }
            with self._as_before():
                self.state.save()

        msg = self._message(pending, trailers, title)
        held = {**self.held, **{written[p]: d for p, d in to_write}}
        try:
            outcome = commit_with_log(
                self.repo,
                self.branch,
                updates,
                events,
                tx,
                msg,
                before_move=remember,
                held=held,
                attrs=self.attrs,
                crlf=self.crlf,
                # checked as the session opened: a review that waited for a human checks again
                verified=self.verified if self.ui_mode in ("yes", "scripted") else (),
            )
        except RefusedError:
            adopted = self._after_refused_move()
            if adopted is None:
                raise
            result = self.apply(no_commit=no_commit, commit_decisions=commit_decisions, title=title)
            result.adopted = adopted
            return result
        # this run's move came first: a killed run's git that still runs can no longer land
        self.unlanded = None
        self.state.unsynced = None
        self.state.pending = []
        if outcome is not None:
            commit, result.kept = outcome
            self.branch = gitc.Branch(self.branch.ref, commit)
            self.state.head = commit
            self.state.commits.append(commit)
            self.state.bump("committed", len(trailers))
            result.commits.append(commit)
            result.applied = [t.path for t in trailers]
            result.logged = len(events)
        self.state.save()
        return result

    def _drop_stale(self) -> None:
        """Recorded transforms whose artifact changed on the branch since they were decided (a
        commit of the user's made the last apply refuse): the decision is about content that is
        gone, so it is dropped, never applied over the new content."""
        paths = [p["update"]["path"] for p in self.state.pending if p["update"] is not None]
        if not paths:
            return
        live = self._branch_entries(paths)
        keep = [
            p
            for p in self.state.pending
            if p["update"] is None or live.get(p["update"]["path"]) == p["update"]["old"]
        ]
        dropped = len(self.state.pending) - len(keep)
        if dropped:
            self.state.pending = keep
            self.state.bump("dropped_stale", dropped)
            self.state.save()
            self.notices.append(
                f"{dropped} recorded decision(s) dropped: their artifact changed on the branch"
            )

    def _branch_entries(self, paths: Sequence[str]) -> dict[str, str]:
        """``path -> oid`` on the branch for those of ``paths`` it holds. The diff was made
        against the branch's commit unless a commit moved it since: its mismatches already
        know their head blobs, and only other paths need a listing of the tree."""
        known: dict[str, str | None] = {}
        if self.diff.head.commit == self.branch.commit:
            known = {m.path: m.change.after for m in self.mismatches}
        rest = [p for p in paths if p not in known]
        live = gitc.tree_entries(self.repo, self.branch.commit, rest)
        for p in paths:
            oid = known.get(p)
            if oid is not None:
                live[p] = oid
        return live

    def _write_worktree(self, items: Sequence[dict[str, Any]]) -> tuple[list[str], list[str]]:
        """``--no-commit``: rewrite working-tree files that still hold the committed bytes."""
        contents = self._new_contents(items)
        paths = [i["update"]["path"] for i in items]
        hashes = gitc.clean_hashes(self.repo, paths)
        applied: list[str] = []
        kept: list[str] = []
        blobs = {p: oid for p, (oid, _) in contents.items() if oid}
        to_write = [(p, d) for p, (oid, d) in contents.items() if not oid and d is not None]
        new_ids = gitc.write_blobs(self.repo, [d for _, d in to_write])
        blobs.update(zip([p for p, _ in to_write], new_ids))
        entries = []
        # files holding bytes git does not store are left alone, as the user's edits are
        same = {i["update"]["path"]: i["update"]["old"] for i in items}
        same = {p: old for p, old in same.items() if hashes.get(p) == old}
        hidden = hidden_bytes(self.repo, same, attrs=self.attrs, crlf=self.crlf)
        for item in items:
            path, old = item["update"]["path"], item["update"]["old"]
            if hashes.get(path) != old or path in hidden:
                kept.append(path)
                continue
            entries.append((path, blobs[path], item["update"]["mode"]))
            applied.append(path)
        # the index keeps the committed blobs: --no-commit leaves the change for the user to stage
        gitc.checkout_blobs(self.repo, entries)
        return applied, kept

    def _message(
        self,
        pending: Sequence[dict[str, Any]],
        trailers: Sequence[gitc.TransformTrailer],
        title: str | None,
    ) -> str:
        """Subject, one line per decision, then trailers: history alone proves what changed."""
        stripped = {p["event"]["id"] for p in pending if p["event"].get("step") == "first"}
        strips = sum(1 for t in trailers if t.decision_id in stripped)
        n = len(trailers) - strips
        sides = f"({self.state.base_spec}...{self.state.head_spec})"
        what = [f"resolve {n} noise mismatch{'es' if n != 1 else ''}"] if n else []
        if strips:  # mixed files: their noise went, their real changes wait for a human
            what.append(f"strip the noise of {strips} mixed file{'s' if strips != 1 else ''}")
        subject = title or (
            f"phase2: {' and '.join(what)} {sides}"
            if what
            else f"phase2: record {len(pending)} decision{'s' if len(pending) != 1 else ''} {sides}"
        )
        lines = [subject, ""]
        for p in pending:
            ev = p["event"]
            lines.append(
                f"- {ev['decision']} {ev['action']} {quote_for_message(ev['path'])} "
                f"({ev.get('mismatch_type', '?')}) {ev['id']}"
            )
        lines.append("")
        lines.append(f"{gitc.TRAILER_RUN}: {self.state.run_id}")
        lines.extend(t.render() for t in trailers)
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class LogTransaction:
    """The decision log at the start of a commit: HEAD's blob, the working-tree bytes (HEAD's
    lines plus any appended ones), and the decision ids in each."""

    head_oid: str | None
    worktree: bytes
    committed_ids: frozenset[str]
    present_ids: frozenset[str]


def committed_log(repo: GitRepo, commit: str) -> tuple[str | None, bytes]:
    entry = tree_entry(repo, commit, LOG_FILE)
    if entry is None:
        return None, b""
    return entry[1], read_blob(repo, entry[1])


def prepare_log(repo: GitRepo, head: str) -> LogTransaction:
    """Refuse (exit 3) unless the working-tree log is HEAD's plus appended lines and the index
    holds HEAD's: the log is append-only, and our commit must not drop anyone's lines."""
    head_oid, head_log = committed_log(repo, head)
    worktree = DecisionLog(repo.root).read_bytes()
    if not worktree.startswith(head_log):
        raise RefusedError(
            f"{LOG_FILE} differs from the committed log other than by appended lines: "
            "it is append-only",
            hint="restore it with `git checkout -- .phase2/decisions.jsonl`",
        )
    entry = gitc.index_entries(repo, [LOG_FILE]).get(LOG_FILE)
    if (entry.oid if entry is not None else None) != head_oid:
        raise RefusedError(f"{LOG_FILE} has staged changes: commit or unstage them first")
    committed = frozenset(line.event["id"] for line in parse_lines(head_log, LOG_FILE))
    present = frozenset(line.event["id"] for line in parse_lines(worktree, LOG_FILE))
    return LogTransaction(head_oid, worktree, committed, present)


def sync_log(repo: GitRepo, new: str, data: bytes | gitc.SpooledBlob | None = None) -> None:
    """The working tree holds HEAD's lines plus appended ones; once the new log is a superset,
    write it outright. ``data``: the new blob's bytes when the caller has them (in a
    :class:`~phase2_git.git.commit.SpooledBlob`: written from it a piece at a time, and only
    if they hash to its id). (Its index entry moves with the transformed files', in
    :func:`sync_all`.)"""
    if data is None:
        data = read_blob(repo, new)
    held = DecisionLog(repo.root).read_bytes()
    if data.startswith(held) or (isinstance(data, bytes) and _copies_of(held, data)):
        chunks = (data,) if isinstance(data, bytes) else data.checked()
        atomic_write_chunks(repo.root / LOG_FILE, chunks)


def _copies_of(held: bytes, data: bytes) -> bool:
    """Whether the working tree's log ``held`` is the start of ``data``'s lines by decision id,
    line for line: a run that appended the very decisions a killed run's late commit holds
    (``--no-commit`` before that commit landed) wrote them again with its own timestamps.
    Decision ids are bound to the run, the mismatch, the decision and its place in the run,
    so such lines say nothing the commit's do not."""
    try:
        mine = [line.event.get("id") for line in parse_lines(held, LOG_FILE, validate_lines=False)]
        theirs = [
            line.event.get("id") for line in parse_lines(data, LOG_FILE, validate_lines=False)
        ]
    except UsageError:
        return False
    return len(mine) <= len(theirs) and mine == theirs[: len(mine)]


def sync_all(
    repo: GitRepo,
    updates: Sequence[gitc.TreeUpdate],
    log: dict[str, Any] | None,
    log_data: bytes | gitc.SpooledBlob | None = None,
    held: Mapping[str, bytes] | None = None,
    plain: Background[set[str]] | None = None,
    *,
    attrs: Mapping[str, Mapping[str, str]] | None = None,
    crlf: str | None = None,
    verified: Collection[str] = (),
    resume: bool = False,
) -> list[str]:
    """After the branch moved: the user's index and working tree follow (idempotent: a run
    killed half-way through resumes it, ``resume``, and repairs the files it left torn)."""
    if log is None:
        return gitc.sync_after_move(
            repo,
            updates,
            held,
            plain=plain,
            attrs=attrs,
            crlf=crlf,
            verified=verified,
            resume=resume,
        )
    # the log's index entry moves with the others (one index write, one refresh); its file is
    # written meanwhile, an fsynced rename while git works on the other files
    entry = gitc.TreeUpdate(LOG_FILE, log["old"], log["new"], "100644")
    writing = Background(lambda: sync_log(repo, log["new"], log_data))
    with writing:
        return gitc.sync_after_move(
            repo,
            updates,
            held,
            index_only=[entry],
            ready=writing.result,
            plain=plain,
            attrs=attrs,
            crlf=crlf,
            verified=verified,
            resume=resume,
        )


def commit_with_log(
    repo: GitRepo,
    branch: gitc.Branch,
    updates: Sequence[gitc.TreeUpdate],
    events: Sequence[Mapping[str, Any]],
    tx: LogTransaction,
    message: str,
    *,
    before_move: Callable[[str, dict[str, Any]], None] | None = None,
    held: Mapping[str, bytes] | None = None,
    attrs: Mapping[str, Mapping[str, str]] | None = None,
    crlf: str | None = None,
    verified: Collection[str] = (),
) -> tuple[str, list[str]] | None:
    """One commit holding ``updates`` and the log with ``events`` appended; the branch moves
    by compare-and-swap, then the user's index and working tree follow. None: nothing to do."""
    log: dict[str, Any] = {"old": tx.head_oid}
    spooled: list[gitc.SpooledBlob] = []
    writing: list[Background[str]] = []
    # forked before any thread of this call starts (a fork copies one thread)
    child = _events_checked_in_child(events)
    # which files a checkout writes byte for byte: from the attributes asked with the diff,
    # else asked now, while the commit is made
    paths = [u.path for u in updates]
    maybe = [u.path for u in updates if held and u.new in held]
    plain = Background(lambda: gitc.unconverted(repo, maybe, every=paths, known=attrs, crlf=crlf))

    def log_update() -> list[gitc.TreeUpdate] | None:
        # runs while git seeds the commit's index from the parent: validating and encoding
        # thousands of decisions is Python's work, reading a large tree is git's. The new log
        # goes to a temporary file a block of lines at a time, never whole in memory (see
        # SpooledBlob), and the working tree's log is written from it after the move
        spool = gitc.SpooledBlob(
            repo, appended_blocks(tx.worktree, events, validated=child is not None)
        )
        spooled.append(spool)
        log["new"] = spool.oid
        if not updates and log["new"] == tx.head_oid:
            return None
        # git writes the log's blob (megabytes to compress) while the tree and the commit are
        # made and the state is saved; the branch moves only once it is written
        writing.append(Background(lambda: spool.store(fast=True)))
        return [gitc.TreeUpdate(LOG_FILE, tx.head_oid, log["new"], "100644")]

    try:
        with plain:
            try:
                commit = gitc.build_commit(
                    repo, branch.commit, updates, message, late=log_update, missing_ok=True
                )
                if commit is None:
                    return None
                if child is not None:  # nothing is recorded or moved for a refused log
                    child.settle(lambda: validate_all(events))
                if before_move is not None:
                    before_move(commit, log)
                if writing and writing[0].result() != log["new"]:  # pragma: no cover
                    raise UsageError("git wrote the decision log under another id than its own")
            finally:
                for job in writing:
                    job.join()
            gitc.move_branch(repo, branch, commit, message.splitlines()[0])
            log_data = spooled[0] if spooled else None
            synced = sync_all(
                repo, updates, log, log_data, held, plain, attrs=attrs, crlf=crlf, verified=verified
            )
            return commit, synced
    finally:
        if child is not None:
            child.close()  # still running after a failure: stopped
        for spool in spooled:
            spool.close()


# fewer events are checked here: a fork costs more than checking them
_CHILD_FROM = 500


def _events_checked_in_child(events: Sequence[Mapping[str, Any]]) -> ChildCheck | None:
    """The schema check of ``events`` started in a forked child, or None (a few events, or
    no fork allowed: see :mod:`phase2_git.app.forking`). Checking 5,000 decisions is this
    process's longest step in making resolve's commit, while git's part waits on it (bench/:
    the ``resolve`` row); the child runs it beside the encoding and git's work instead."""
    if len(events) < _CHILD_FROM:
        return None
    from phase2_git.app import forking

    if not forking.count():
        return None
    return forking.check_in_child(lambda: validate_all(events))


@contextlib.contextmanager
def open_session(
    repo: GitRepo,
    base: str | None,
    head: str = "HEAD",
    *,
    config: Config | None = None,
    config_path: str | None = None,
    trust_from: str | None = None,
    state_file: str | None = None,
    restart: bool = False,
    revisit_skipped: bool = False,
    user: str | None = None,
    role: str | None = None,
    ui_mode: str = "yes",
    rich: bool = False,
    no_commit: bool = False,
    paths: Sequence[str] = (),
    environ: Mapping[str, str] = os.environ,
) -> Iterator[Session]:
    """Lock, compute the mismatches between BASE and the checked-out branch, load the state.

    Without ``config`` the configuration is chosen as for ``phase2 diff`` of two commits
    (:func:`phase2_git.app.sources.choose`): the base's, or ``trust_from``'s, or
    ``config_path``'s; a head that changes it has that change to review."""
    gitc.ensure_local_excludes(repo, LOCAL_EXCLUDES)
    # the lock first: a second run must be refused as such, not trip over the first one's
    # commit moving the branch under it
    with lockmod.hold(repo.root):
        _drop_torn_writes(repo.root)
        branch = gitc.current_branch(repo)
        if head not in ("HEAD", "@") and resolve_commit(repo, head) != branch.commit:
            raise UsageError(
                f"HEAD side '{quote_for_message(head)}' is not the checked-out branch "
                f"'{branch.name}': phase2 resolve commits onto the branch you are on",
            )
        if base is None:
            base_commit, how = default_base(repo)
            base_spec, base_description = base_commit, how
            spec_for_state = how.rsplit(" and ", 1)[-1]
        else:
            base_spec = base
            base_description = f"base {base}"
            spec_for_state = base
        sources = None
        if config is None:
            from phase2_git.app.sources import choose

            # both sides are commits: the configuration is the base's (or --trust-from's)
            sources = choose(
                repo, base_spec, branch.commit, config_path=config_path, trust_from=trust_from
            )
            config = sources.config
        # the state belongs to the commits compared and the branch the commits go to, never
        # to the names as typed: `main` on two branches is two comparisons
        base_commit = resolve_commit(repo, base_spec)
        state_path = (
            Path(state_file)
            if state_file
            else statemod.default_path(repo.root, base_commit, branch.ref)
        )
        # a state file git tracks came in with a commit, maybe a pull request's: it could mark
        # mismatches as already decided, so it is never trusted
        tracked = gitc.is_tracked(repo, state_path)
        st = statemod.load(
            state_path,
            repo.root,
            base_spec=spec_for_state,
            head_spec=head,
            base=base_commit,
            branch=branch.ref,
            config_fingerprint=config.fingerprint,
            restart=restart or tracked,
        )
        rewound = _branch_rewound(repo, st, branch)
        if rewound:
            st = statemod.load(
                state_path,
                repo.root,
                base_spec=spec_for_state,
                head_spec=head,
                base=base_commit,
                branch=branch.ref,
                config_fingerprint=config.fingerprint,
                restart=True,
            )
        revisited = st.forget_skipped() if revisit_skipped else 0
        tracked_notice = (
            f"{quote_for_message(str(state_path))} is tracked by git: ignored, review starts over"
            if tracked
            else None
        )
        # --yes runs every safe strip once the diff is done: run where the pairs are read
        strips = (repo, config.classify) if ui_mode == "yes" else None
        keep = _BlobKeeper(strips)
        # a run that resumes a sync changes the index and files first: nothing asked before
        asked = (
            _facts_while_diffing(repo, base_spec, branch.commit, no_commit=no_commit)
            if st.unsynced is None
            else None
        )
        # joined whatever happens: never a git process left asking about a removed folder
        with asked or contextlib.nullcontext():
            diff = run_diff(
                repo,
                base_spec,
                branch.commit,
                config=config,
                paths=paths,
                check=keep.check(),
                sources=sources,
                beside=asked.start if asked is not None else None,
            )
            st.base = diff.base.commit
            session = Session(
                repo=repo,
                config=config,
                diff=diff,
                branch=branch,
                state=st,
                who=identity(repo, user, role, environ),
                ui_mode=ui_mode,
                rich=rich,
                environ=environ,
                base_description=base_description,
            )
            session._finish_unsynced()
            # a crash after the branch moved: recompute against the new HEAD
            if session.branch.commit != resolve_commit(repo, "HEAD"):
                asked = None  # about the commit before: asked again
                session.branch = gitc.current_branch(repo)
                keep = _BlobKeeper(strips)
                if sources is not None:
                    from phase2_git.app.sources import choose

                    sources = choose(
                        repo,
                        base_spec,
                        session.branch.commit,
                        config_path=config_path,
                        trust_from=trust_from,
                    )
                session.diff = run_diff(
                    repo,
                    base_spec,
                    session.branch.commit,
                    config=config,
                    paths=paths,
                    check=keep.check(),
                    sources=sources,
                )
            session.held = keep.restored(session.mismatches)
            for m in session.mismatches:
                stripped = keep.strips.get(m.path)
                if stripped is not None:
                    session._stripped_as(m, stripped)
            session.already_done = sum(1 for m in session.mismatches if st.is_processed(m.id))
            if sources is not None:
                session.config_notices = list(sources.notices)
                session.notices.extend(sources.notices)
            if revisited:
                session.notices.append(f"{revisited} skipped mismatch(es) brought back for review")
            if tracked_notice:
                session.notices.append(tracked_notice)
            if rewound:
                session.notices.append(rewound)
            if session.kill_switch:
                session.notices.append(
                    f"{gatemod.KILL_SWITCH_ENV} is set: nothing is auto-applied, every plan "
                    "needs a human"
                )
            breaker = session.breaker()
            if breaker:
                session.notices.append(f"circuit breaker tripped: auto-apply is off ({breaker})")
            _check_rewritable(session, no_commit=no_commit, asked=asked)
            session.no_commit = no_commit
            session.rediff = _rediff(
                repo, base_spec, config, paths, (config_path, trust_from) if sources else None
            )
        # what the session needs of these it holds now; the rest (the index entries and hashes
        # of every path the diff named, base blobs no plan writes back) is not kept while the
        # session runs
        del asked, keep
        st.head = session.branch.commit
        st.save()
        yield session


def _safe_first(m: Mismatch) -> Step | None:
    """A mixed file's first step (strip_noise), when it is safe under the policy."""
    first = m.plan.first
    if m.plan.transform is None and first is not None and first.safe:
        return first
    return None


def _real_change_of(m: Mismatch, after: str) -> Mismatch:
    """A mixed file as it stands once its noise is stripped (``after``: the stripped blob): its
    real change alone, which a human decides."""
    mid = make_mismatch_id(m.path, m.change.before, after)
    return m._replace(
        id=mid,
        change=m.change._replace(after=after),
        plan=Plan(make_plan_id(mid, "manual", None), "manual", None, False, 0.0, _HUMAN),
        changes=None,
    )


def _branch_rewound(repo: GitRepo, st: statemod.State, branch: gitc.Branch) -> str | None:
    """Why a loaded state no longer describes the branch (reset or rebased past the commit it
    was saved at: its decisions were about history the branch dropped), or None."""
    if not st.resumed or st.head is None or st.head == branch.commit or st.unsynced:
        return None
    if gitc.branch_contains(repo, st.head, branch.commit):
        return None
    return (
        f"{branch.name} no longer contains {st.head[:12]}, where the resume state was saved: "
        "review starts over"
    )


def _rediff(
    repo: GitRepo,
    base_spec: str,
    config: Config,
    paths: Sequence[str],
    chosen: tuple[str | None, str | None] | None,
) -> Callable[[str], DiffResult]:
    """The comparison again, against the branch's new commit: what a run's own commits left.
    ``chosen``: ``(config_path, trust_from)`` when the configuration was chosen by side."""

    def again(head: str) -> DiffResult:
        from phase2_git.app.sources import choose

        sources = None
        if chosen is not None:
            sources = choose(repo, base_spec, head, config_path=chosen[0], trust_from=chosen[1])
        return run_diff(repo, base_spec, head, config=config, paths=paths, sources=sources)

    return again


class _BlobKeeper:
    """What resolve needs of the pairs its diff reads, asked of each pair where it is read
    (:meth:`check`), so that a large diff's workers send back only that and this process never
    reads the pairs itself: the base sides a ``restore_base`` plan writes back (up to
    :attr:`BUDGET` in all), and, given ``strips`` (the configuration ``--yes`` runs under), the
    first step of each mixed file whose strip is safe, run there: on the workers' cores while
    the diff runs, not here one file after another once it is done."""

    BUDGET = 64 << 20

    def __init__(self, strips: tuple[GitRepo, ClassifySettings] | None = None) -> None:
        self.blobs: dict[str, bytes] = {}
        self.size = 0
        self.strips_for = strips
        self.strips: dict[str, Strip] = {}  # by path: what each strip run where read gave

    def check(self) -> PairCheck:
        strip = StripHere(*self.strips_for) if self.strips_for is not None else None
        return PairCheck(_Asked(_BaseKept(self.BUDGET), strip), self._keep, strips=bool(strip))

    def _keep(self, change: Change, answer: object) -> None:
        assert isinstance(answer, tuple)
        data, stripped = answer
        if isinstance(data, bytes) and self.size + len(data) <= self.BUDGET:
            assert change.before is not None
            self.blobs[change.before] = data
            self.size += len(data)
        if stripped is not None:
            self.strips[change.path] = stripped

    def restored(self, mismatches: Sequence[Mismatch]) -> dict[str, bytes]:
        wanted = {m.change.before for m in mismatches if m.plan.action == "restore_base"}
        return {oid: data for oid, data in self.blobs.items() if oid in wanted}


class _Asked:
    """:class:`_BlobKeeper`'s question: (the base side kept, the strip run or None)."""

    def __init__(self, base: _BaseKept, strip: StripHere | None) -> None:
        self.base = base
        self.strip = strip

    def __call__(
        self, m: Mismatch, before: Blob | None, after: Blob | None
    ) -> tuple[bytes | None, Strip | None]:
        stripped = self.strip(m, before, after) if self.strip is not None else None
        return self.base(m, before, after), stripped


class _BaseKept:
    """The base side's bytes when the plan restores them. Each process asking it (a worker,
    or this one) sends at most ``budget`` bytes in all: the keeper holds no more than that,
    whatever the workers send."""

    def __init__(self, budget: int) -> None:
        self.left = budget

    def __call__(self, m: Mismatch, before: Blob | None, after: Blob | None) -> bytes | None:
        data = before.data if before is not None else None
        if data is None or m.plan.action != "restore_base" or len(data) > self.left:
            return None
        self.left -= len(data)
        return data


def _drop_torn_writes(root: Path) -> None:
    """A run killed inside the log's atomic write leaves its temporary file behind, which
    ``git status`` shows; only a run holding the lock writes the log that way, so one that
    holds it now may remove what is left (the log itself is whole: old or new)."""
    for leftover in (root / LOG_FILE).parent.glob(f".{Path(LOG_FILE).name}.*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()


@dataclass(frozen=True)
class RewriteFacts:
    """What git says about paths phase2 may rewrite: attributes, the user's index entries and
    the working-tree files' clean hashes (these two only when it commits)."""

    paths: frozenset[str]
    attrs: Mapping[str, Mapping[str, str]]
    entries: Mapping[str, gitc.IndexEntry]
    hashes: Mapping[str, str | None]
    crlf: str = ""  # core.autocrlf


def rewrite_facts(repo: GitRepo, paths: Sequence[str], *, no_commit: bool) -> RewriteFacts:
    """Three git questions at once (two cores): attributes and which files differ from the
    index in threads, the index listing here; only files git does not find unchanged are
    read and hashed."""
    asking = Background(
        # every attribute that changes what a checkout writes: resolve's writer asks too
        lambda: (attributes(repo, paths, CONVERSION_ATTRIBUTES), autocrlf(repo))
    )
    comparing = Background(lambda: gitc.stat_changed(repo, paths)) if not no_commit else None
    try:
        entries: Mapping[str, gitc.IndexEntry] = {}
        hashes: Mapping[str, str | None] = {}
        if comparing is not None:
            entries = gitc.index_entries(repo, paths)
            hashes = gitc.worktree_hashes(repo, paths, entries, comparing.result())
        attrs, crlf = asking.result()
    finally:
        asking.join()
        if comparing is not None:
            comparing.join()
    return RewriteFacts(frozenset(paths), attrs, entries, hashes, crlf)


def _facts_while_diffing(
    repo: GitRepo, base: str, head: str, *, no_commit: bool
) -> Background[RewriteFacts] | None:
    """:func:`rewrite_facts` for every path that differs between the two commits, asked in a
    thread while the diff runs (not started: :func:`run_diff`'s ``beside`` starts it once its
    workers are forked): git answers on a core of its own while Python classifies (it was
    0.1 s after the diff for 5,000 transforms). A superset of what may be rewritten; None
    when a side is not a commit."""
    if base.startswith(":") or head.startswith(":"):
        return None

    def ask() -> RewriteFacts:
        args = ("-r", "-z", "--name-only", "--no-renames", "--end-of-options", base, head, "--")
        out = repo.run("diff-tree", *args)
        paths = [os.fsdecode(p) for p in out.split(b"\0") if p]
        paths = [p for p in paths if not p.startswith(".phase2/")]
        return rewrite_facts(repo, paths, no_commit=no_commit)

    return Background(ask, started=False)


def _check_rewritable(
    session: Session,
    *,
    no_commit: bool,
    asked: Background[RewriteFacts] | None = None,
) -> None:
    """Refuse (exit 3) when a path phase2 may rewrite carries the user's own uncommitted edits,
    or bytes git does not store (:func:`~phase2_git.git.worktree.hidden_bytes`); mark paths
    git filters or re-encodes as never rewritten. ``asked``: the answers gathered while the
    diff ran, used when they cover every path."""
    repo = session.repo
    candidates = [
        m
        for m in session.todo()
        if (m.plan.transform is not None or _safe_first(m) is not None) and not m.resolved
    ]
    facts = None
    if asked is not None:
        try:
            facts = asked.result()
        except Exception:  # a hint only: asked again below, errors and all
            facts = None
    if not candidates:
        return
    paths = [m.path for m in candidates]
    if facts is None or not facts.paths.issuperset(paths):
        facts = rewrite_facts(repo, paths, no_commit=no_commit)
    attrs, entries, hashes = facts.attrs, facts.entries, facts.hashes
    session.attrs, session.crlf = attrs, facts.crlf
    for m in candidates:
        never = never_rewritten(attrs.get(m.path, {}))
        if never is not None:
            session.unrewritable[m.path] = f"{never} attribute: never rewritten"
    able = [m for m in candidates if m.path not in session.unrewritable]
    for path, what in normalized_by_git(repo, able, attrs=attrs, crlf=facts.crlf).items():
        session.unrewritable[path] = NORMALIZED.format(what=what)
    if no_commit:
        return  # the working-tree writes check each file (Session._write_worktree)
    for m in candidates:
        if m.path in session.unrewritable:
            continue
        entry = entries.get(m.path)
        if entry is not None and entry.skip_worktree:
            session.unrewritable[m.path] = "skip-worktree entry: never rewritten"
            continue
        staged_ok = entry is not None and entry.oid == m.change.after
        if not staged_ok or hashes.get(m.path) != m.change.after:
            raise RefusedError(
                f"'{quote_for_message(m.path)}' has uncommitted changes of your own: phase2 "
                "will not rewrite it",
                hint="commit or stash them first, or use --no-commit",
            )
    # a file that cleans to the committed blob may still hold bytes git does not store (CRLF
    # under text=auto): a commit would be followed by a rewrite that destroys them
    rest = {m.path: m.change.after for m in candidates if m.path not in session.unrewritable}
    for h in hidden_bytes(repo, rest, attrs=attrs, crlf=facts.crlf).values():
        raise RefusedError(
            f"'{quote_for_message(h.path)}': {h.reason}",
            hint="if you do not need them, delete the file and `git checkout` it again",
        )
    session.verified = frozenset(rest)
