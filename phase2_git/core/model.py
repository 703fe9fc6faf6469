"""Value types of the pipeline (docs/architecture.md, Data flow of a diff). Pure data: no I/O,
no git.

The pre-commit hook imports every value type: they are :class:`typing.NamedTuple` rather than
dataclasses, whose import (``inspect``, ``ast``, ``dis`` …) and per-class code generation cost
the hook 20-30 ms of a ~100 ms budget (``bench/``: the ``check`` row). Immutable, compact,
hashable where their fields are; ``x._replace(field=…)`` makes a changed copy.

No ``from __future__ import annotations`` here or in the other hook-path modules that define
NamedTuples: NamedTuple compiles every string annotation into a ``ForwardRef`` at import, four
times the cost of the class itself.
"""

from typing import Literal, NamedTuple

ArtifactType = Literal["json", "jsonc", "text", "binary", "symlink", "lfs_pointer", "submodule"]
MismatchType = Literal[
    "bom",
    "line_endings",
    "trailing_newline",
    "whitespace",
    "json_ordering",
    "numeric_precision",
    "content",
    "binary",
    "added",
    "deleted",
    "renamed",
    "mode",
]
Status = Literal["added", "deleted", "modified", "renamed", "mode"]
Action = Literal[
    "restore_base",
    "normalize_whitespace",
    "normalize_line_endings",
    "canonicalize_json",
    "accept_change",
    "manual",
    "strip_noise",
]

ARTIFACT_TYPES: tuple[ArtifactType, ...] = (
    "json",
    "jsonc",
    "text",
    "binary",
    "symlink",
    "lfs_pointer",
    "submodule",
)
NOISE_TYPES: tuple[MismatchType, ...] = (
    "bom",
    "line_endings",
    "trailing_newline",
    "whitespace",
    "json_ordering",
    "numeric_precision",
)
REAL_TYPES: tuple[MismatchType, ...] = ("content", "binary", "added", "deleted", "renamed", "mode")
MISMATCH_TYPES: tuple[MismatchType, ...] = NOISE_TYPES + REAL_TYPES

# git file modes (octal strings as git prints them)
MODE_SYMLINK = "120000"
MODE_GITLINK = "160000"
MODE_MISSING = "000000"
REGULAR_MODES = ("100644", "100755")  # a file, executable or not


def is_noise(mismatch_type: str) -> bool:
    return mismatch_type in NOISE_TYPES


class Change(NamedTuple):
    """One entry of git's raw diff between two sides, before any content is read.

    ``before``/``after`` are object ids (``None`` for the missing side of an add or delete).
    ``path`` is the head-side path; ``old_path`` is set for renames only.
    """

    status: Status
    path: str
    old_path: str | None
    before: str | None
    after: str | None
    before_mode: str
    after_mode: str
    similarity: int | None = None


class Blob(NamedTuple):
    """Content of one side of a change.

    ``data`` is ``None`` when the object is larger than the configured limit: then only
    ``head`` (the first 8000 bytes, enough to sniff binary) and ``size`` are known and the
    artifact is compared by hash alone.
    """

    oid: str
    size: int
    data: bytes | None
    head: bytes
    mode: str = "100644"

    @property
    def truncated(self) -> bool:
        return self.data is None


class Verdict(NamedTuple):
    """One method's answer on one mismatch."""

    method: str
    equivalent: bool
    score: float
    detail: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "method": self.method,
            "equivalent": self.equivalent,
            "score": round(self.score, 6),
            "detail": self.detail,
        }


class Transform(NamedTuple):
    id: str
    idempotent: bool

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "idempotent": self.idempotent}


class Step(NamedTuple):
    """A safe step that comes before a plan's own action: a mixed file's noise is stripped
    (``strip_noise``) while its real change stays for a human. The fields mean what they mean
    on :class:`Plan`."""

    plan_id: str
    action: Action
    transform: Transform
    safe: bool
    confidence: float
    reason: str
    justified_by: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "plan_id": self.plan_id,
            "action": self.action,
            "transform": self.transform.to_json(),
            "safe": self.safe,
            "confidence": round(self.confidence, 6),
            "reason": self.reason,
            "justified_by": list(self.justified_by),
        }


class Plan(NamedTuple):
    plan_id: str
    action: Action
    transform: Transform | None
    safe: bool
    confidence: float
    reason: str
    # methods whose verdicts justify the plan (deterministic ones first)
    justified_by: tuple[str, ...] = ()
    # a mixed file: the noise can be stripped first; ``action`` is for what remains
    first: Step | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "plan_id": self.plan_id,
            "action": self.action,
            "transform": self.transform.to_json() if self.transform else None,
            "safe": self.safe,
            "confidence": round(self.confidence, 6),
            "reason": self.reason,
            "justified_by": list(self.justified_by),
        }
        if self.first is not None:  # absent, not null: plans without one keep their bytes
            out["first"] = self.first.to_json()
        return out


ChangeKind = Literal["changed", "added", "removed", "moved"]


class RealChange(NamedTuple):
    """One real change inside a mismatch (``core.changes``).

    JSON: ``path`` is where (``$.a.b[3]``; the head's index in arrays, the base's for a
    removed element); text: ``path`` is None and the lines say where. ``before``/``after``
    are the values as JSON text (text: the lines), each cut to a few dozen characters, None
    on the side that has none. ``line`` is the head file's line (for a removal: the line
    that now follows it), ``base_line`` the base file's (for an addition: the line it goes
    before). ``source`` is a moved element's base path. The texts are raw here:
    :meth:`to_json` sanitises them.
    """

    kind: ChangeKind
    path: str | None
    before: str | None
    after: str | None
    line: int | None
    base_line: int | None
    source: str | None = None

    def to_json(self) -> dict[str, object]:
        from phase2_git.core.sanitize import sanitize_line  # only a report needs it

        def shown(text: str | None) -> str | None:
            return None if text is None else sanitize_line(text)

        out: dict[str, object] = {
            "kind": self.kind,
            "path": shown(self.path),
            "before": shown(self.before),
            "after": shown(self.after),
            "line": self.line,
            "base_line": self.base_line,
        }
        if self.source is not None:
            out["from"] = shown(self.source)
        return out


class NoiseFound(NamedTuple):
    """One kind of noise present beside a real change: ``type`` is the noise mismatch type
    (``whitespace``, ``line_endings``, ``bom``, ``trailing_newline``, ``json_ordering``,
    ``numeric_precision``), ``detail`` says what (``re-indented 2 → 4 spaces``), ``at``
    where (JSON paths or ``line N``, a few), ``more`` how many places were not listed."""

    type: MismatchType
    detail: str
    at: tuple[str, ...] = ()
    more: int = 0

    def to_json(self) -> dict[str, object]:
        from phase2_git.core.sanitize import sanitize_line

        out: dict[str, object] = {"type": self.type, "detail": sanitize_line(self.detail)}
        if self.at:
            out["at"] = [sanitize_line(a) for a in self.at]
        if self.more:
            out["more"] = self.more
        return out


class Changes(NamedTuple):
    """What changed in a ``content`` mismatch: its real changes (the first few; ``more``
    counts the rest) and the noise present beside them. Mixed: both at once."""

    real: tuple[RealChange, ...]
    more: int
    noise: tuple[NoiseFound, ...]

    @property
    def total(self) -> int:
        return len(self.real) + self.more

    @property
    def mixed(self) -> bool:
        return bool(self.noise) and self.total > 0

    def noise_types(self) -> tuple[MismatchType, ...]:
        return tuple(n.type for n in self.noise)

    def to_json(self) -> dict[str, object]:
        return {
            "real": [c.to_json() for c in self.real],
            "more": self.more,
            "noise": [n.to_json() for n in self.noise],
        }


class Classification(NamedTuple):
    artifact_type: ArtifactType
    mismatch_type: MismatchType
    detail: str = ""


class Mismatch(NamedTuple):
    id: str
    change: Change
    artifact_type: ArtifactType
    mismatch_type: MismatchType
    detail: str
    verdicts: tuple[Verdict, ...]
    plan: Plan
    # canonicalize strategy: the head is already in canonical form, nothing left to do
    resolved: bool = False
    decision: dict[str, object] | None = None
    # a content mismatch whose sides both parse (JSON) or decode (text): what really changed
    changes: Changes | None = None

    @property
    def path(self) -> str:
        return self.change.path

    @property
    def strips_safely(self) -> bool:
        """A mixed file whose plan's first step (strip_noise) is safe: the noise goes, the
        real change stays (``resolve --yes`` runs it, ``check --fix`` applies it)."""
        first = self.plan.first
        return self.plan.transform is None and first is not None and first.safe

    @property
    def status(self) -> Status:
        return self.change.status

    @property
    def equivalent(self) -> bool:
        return is_noise(self.mismatch_type)

    def to_json(self) -> dict[str, object]:
        c = self.change
        out: dict[str, object] = {
            "id": self.id,
            "path": c.path,
            "old_path": c.old_path,
            "status": c.status,
            "artifact_type": self.artifact_type,
            "mismatch_type": self.mismatch_type,
            "equivalent": self.equivalent,
            "detail": self.detail,
            "verdicts": [v.to_json() for v in self.verdicts],
            "plan": self.plan.to_json(),
            "hashes": {"before": c.before, "after": c.after},
            "modes": {"before": c.before_mode, "after": c.after_mode},
            "resolved": self.resolved,
            "decision": self.decision,
        }
        if self.changes is not None:  # absent, not null: other mismatches keep their bytes
            out["changes"] = self.changes.to_json()
        return out
