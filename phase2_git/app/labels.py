"""``phase2 labels export`` / ``import``: the calibration dataset from decisions or from elsewhere.

Which decisions yield a label:

* an explicit ``label`` on any human decision wins (the review loop's ``n`` writes
  ``decision: label, label: different``);
* ``approve`` of a transform plan (restore/normalize/canonicalize: phase2 only proposes those
  for noise) means ``equivalent``; ``auto-approve`` likewise, but it is not a human's word and
  loses to any human label of the same mismatch;
* ``reject`` means ``different``;
* ``audit`` carries the auditor's label (``audit: approved`` = equivalent, ``rejected`` =
  different); audit items never enter the kappa test split (they are a biased sample: only
  what was auto-applied) and measure the false discovery rate instead;
* ``undo`` / ``revert`` with ``refers_to`` withdraw the label of the decision they undo;
* ``skip``, ``shadow`` and ``reset-breaker`` say nothing about equivalence, nor does a mixed
  file's first step (``strip_noise``) or its audit.

Labels are deduplicated by mismatch id: the latest human label wins, else the latest
auto-approval. A label names its content by blob id (``"content": "git"``): git already holds
those blobs, and embedding them made a committed ``labels.jsonl`` megabytes of copies; readers
(``phase2 judge eval``) look them up with one ``git cat-file --batch``. Content git does not
have (a blob since pruned) stays embedded when an earlier export or an import embedded it
(see ``store.labels`` for the encoding).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from phase2_git.core.classify import classify
from phase2_git.core.evaluation import split_map
from phase2_git.core.model import MODE_MISSING, Blob, Change, Status
from phase2_git.core.settings import ClassifySettings
from phase2_git.store.labels import LABELS_FILE, LabeledItem, read_labels, write_labels

TRANSFORM_ACTIONS = frozenset(
    ("restore_base", "normalize_whitespace", "normalize_line_endings", "canonicalize_json")
)
DECISION_SOURCES = frozenset(("approve", "reject", "label", "audit", "auto-approve"))
_CANCELLING = ("undo", "revert")


@dataclass(frozen=True)
class DecidedLabel:
    mismatch_id: str
    label: bool
    human: bool
    source: str
    decision_id: str
    path: str
    hash_before: str | None
    hash_after: str | None
    artifact_type: str | None
    mismatch_type: str | None


def label_of(event: Mapping[str, Any]) -> tuple[bool, bool, str] | None:
    """``(equivalent, human, source)`` that one decision event says, or None."""
    decision = event.get("decision")
    explicit = event.get("label")
    if event.get("action") == "strip_noise":
        # a mixed file's first step, and the audits of it, judge the head against its stripped
        # form: nothing about whether the mismatch's two sides are equivalent
        return None
    if decision == "auto-approve":
        if explicit is not None:
            return explicit == "equivalent", False, "auto-approve"
        if event.get("action") in TRANSFORM_ACTIONS:
            return True, False, "auto-approve"
        return None
    if decision == "audit":
        if explicit is not None:
            return explicit == "equivalent", True, "audit"
        verdict = event.get("audit")
        if verdict in ("approved", "rejected"):
            return verdict == "approved", True, "audit"
        return None
    if decision not in ("approve", "reject", "label"):
        return None
    if explicit is not None:
        return explicit == "equivalent", True, str(decision)
    if decision == "reject":
        return False, True, "reject"
    if decision == "approve" and event.get("action") in TRANSFORM_ACTIONS:
        return True, True, "approve"
    return None


def labels_from_events(events: Iterable[Mapping[str, Any]]) -> list[DecidedLabel]:
    """One label per mismatch from the decision log, in log order; see the module docstring."""
    entries: dict[str, list[DecidedLabel]] = {}
    for e in events:
        if e.get("decision") in _CANCELLING and e.get("refers_to"):
            undone = e["refers_to"]
            for mid, lst in entries.items():
                entries[mid] = [d for d in lst if d.decision_id != undone]
            continue
        said = label_of(e)
        if said is None:
            continue
        equivalent, human, source = said
        hashes = e.get("hashes") or {}
        entries.setdefault(e["mismatch_id"], []).append(
            DecidedLabel(
                mismatch_id=e["mismatch_id"],
                label=equivalent,
                human=human,
                source=source,
                decision_id=e["id"],
                path=e["path"],
                hash_before=hashes.get("before"),
                hash_after=hashes.get("after"),
                artifact_type=e.get("artifact_type"),
                mismatch_type=e.get("mismatch_type"),
            )
        )
    out: list[DecidedLabel] = []
    for lst in entries.values():
        if not lst:
            continue
        humans = [d for d in lst if d.human]
        out.append(humans[-1] if humans else lst[-1])
    return out


def _blob(oid: str | None, data: bytes | None, size: int | None) -> Blob | None:
    if oid is None:
        return None
    head = data[:8000] if data is not None else b""
    return Blob(oid=oid, size=size if size is not None else len(head), data=data, head=head)


def item_from_decision(
    d: DecidedLabel,
    before: bytes | None,
    after: bytes | None,
    sizes: tuple[int | None, int | None],
    csettings: ClassifySettings,
) -> LabeledItem:
    """The labelled item; types come from the decision, else from classifying the content."""
    art, mtype = d.artifact_type, d.mismatch_type
    if art is None or mtype is None:
        b = _blob(d.hash_before, before, sizes[0])
        a = _blob(d.hash_after, after, sizes[1])
        status: Status = "added" if b is None else "deleted" if a is None else "modified"
        change = Change(
            status=status,
            path=d.path,
            old_path=None,
            before=d.hash_before,
            after=d.hash_after,
            before_mode="100644" if b is not None else MODE_MISSING,
            after_mode="100644" if a is not None else MODE_MISSING,
        )
        cls = classify(change, b, a, csettings)
        art = art or cls.artifact_type
        mtype = mtype or cls.mismatch_type
    return LabeledItem(
        id=d.mismatch_id,
        path=d.path,
        artifact_type=art,
        mismatch_type=mtype,
        label=d.label,
        before=before,
        after=after,
        hash_before=d.hash_before,
        hash_after=d.hash_after,
        has_hashes=True,
        source=d.source,
        decision_id=d.decision_id,
    )


def assign_splits(items: Sequence[LabeledItem]) -> list[LabeledItem]:
    """The items, each with its split (see :func:`split_map`)."""
    splits = split_map(items)
    return [
        i if i.split == splits[i.id] else replace(i, split=splits[i.id])  # type: ignore[arg-type]
        for i in items
    ]


def merge(
    existing: Sequence[LabeledItem], incoming: Sequence[LabeledItem], *, drop_stale_decisions: bool
) -> tuple[list[LabeledItem], dict[str, int]]:
    """Incoming items replace existing ones of the same id (keeping the split already given,
    so the test split stays stable as the dataset grows). With ``drop_stale_decisions``,
    existing items that came from a decision no longer yielding a label (undone) go."""
    by_id = {i.id: i for i in existing}
    counts = {"added": 0, "updated": 0, "unchanged": 0, "removed": 0}
    new_ids = {i.id for i in incoming}
    merged: dict[str, LabeledItem] = {}
    for old in existing:
        if old.id in new_ids:
            continue
        if drop_stale_decisions and old.source in DECISION_SOURCES:
            counts["removed"] += 1
            continue
        merged[old.id] = old
    for item in incoming:
        prev = by_id.get(item.id)
        if prev is not None and item.split is None and prev.split is not None:
            item = replace(item, split=prev.split)
        if prev is None:
            counts["added"] += 1
        elif replace(prev, lineno=0) == replace(item, lineno=0):
            counts["unchanged"] += 1
        else:
            counts["updated"] += 1
        merged[item.id] = replace(item, lineno=0)
    items = assign_splits(sorted(merged.values(), key=lambda i: i.id))
    return items, counts


@dataclass(frozen=True)
class LabelsOutcome:
    path: Path
    total: int
    counts: dict[str, int]
    without_content: int
    by_label: dict[str, int]

    def render(self, verb: str) -> str:
        c = self.counts
        parts = [f"{c['added']} added", f"{c['updated']} updated", f"{c['unchanged']} unchanged"]
        if c.get("removed"):
            parts.append(f"{c['removed']} withdrawn")
        msg = (
            f"{verb} {self.path}: {self.total} labelled mismatches "
            f"({self.by_label['equivalent']} equivalent, {self.by_label['different']} different; "
            f"{', '.join(parts)})"
        )
        if self.without_content:
            msg += f"; {self.without_content} without recoverable content"
        return msg


def _outcome(path: Path, items: Sequence[LabeledItem], counts: dict[str, int]) -> LabelsOutcome:
    missing = sum(
        1
        for i in items
        if not i.content_in_git
        and (
            (i.has_hashes and i.hash_before and i.before is None)
            or (i.has_hashes and i.hash_after and i.after is None)
        )
    )
    eq = sum(1 for i in items if i.label)
    return LabelsOutcome(
        path, len(items), counts, missing, {"equivalent": eq, "different": len(items) - eq}
    )


def export_labels(
    root: Path,
    events: Iterable[Mapping[str, Any]],
    read_content: Any,
    csettings: ClassifySettings,
    *,
    output: Path | None = None,
    embed: bool = False,
) -> LabelsOutcome:
    """Build the dataset from decision events and write it (default ``.phase2/labels.jsonl``).
    ``embed``: copy the content into the file even where git has it (a self-contained dataset
    to take elsewhere, or to keep past a squash merge that leaves a branch's blobs to be
    pruned).

    ``read_content(oids) -> {oid: (data | None, size | None)}`` looks blob content up (the
    git layer, injected so this stays testable); a size of None means git does not have it.
    A label whose blobs git has names them by id; otherwise what was recovered, or what the
    existing file embedded for the same blobs, is embedded.
    """
    decided = labels_from_events(events)
    oids = [o for d in decided for o in (d.hash_before, d.hash_after) if o]
    content: Mapping[str, tuple[bytes | None, int | None]] = read_content(oids) if oids else {}
    path = output or root / LABELS_FILE
    existing = read_labels(path, _display(root, path)) if path.exists() else []
    known = {i.id: i for i in existing}
    incoming: list[LabeledItem] = []
    for d in decided:
        b = content.get(d.hash_before, (None, None)) if d.hash_before else (None, None)
        a = content.get(d.hash_after, (None, None)) if d.hash_after else (None, None)
        item = item_from_decision(d, b[0], a[0], (b[1], a[1]), csettings)
        in_git = (d.hash_before is None or b[1] is not None) and (
            d.hash_after is None or a[1] is not None
        )
        if in_git and not embed:
            item = replace(item, before=None, after=None, content_in_git=True)
        else:
            item = _keep_embedded(item, known.get(item.id))
        incoming.append(item)
    items, counts = merge(existing, incoming, drop_stale_decisions=True)
    write_labels(path, items)
    return _outcome(path, items, counts)


def _keep_embedded(item: LabeledItem, old: LabeledItem | None) -> LabeledItem:
    """``item`` with the content an earlier line embedded for the same blobs, where git no
    longer has it."""
    if old is None or old.content_in_git:
        return item
    if (old.hash_before, old.hash_after) != (item.hash_before, item.hash_after):
        return item
    return replace(
        item,
        before=item.before if item.before is not None else old.before,
        after=item.after if item.after is not None else old.after,
    )


def import_labels(root: Path, source: Path, *, output: Path | None = None) -> LabelsOutcome:
    """Validate ``source`` (every line, before anything is written) and merge it in."""
    incoming = [
        i if i.source is not None else replace(i, source="import")
        for i in read_labels(source, str(source))
    ]
    path = output or root / LABELS_FILE
    existing = read_labels(path, _display(root, path)) if path.exists() else []
    items, counts = merge(existing, incoming, drop_stale_decisions=False)
    write_labels(path, items)
    return _outcome(path, items, counts)


def _display(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def export_at(
    repo_path: str, *, config: str | None = None, output: str | None = None, embed: bool = False
) -> LabelsOutcome:
    """``phase2 labels export`` in the repository at ``repo_path``: its decision log, blob
    content read from its objects (no larger than ``[classify] max_file_size``)."""
    from phase2_git.app.context import open_repo
    from phase2_git.git.objects import read_objects
    from phase2_git.store.decisions import DecisionLog

    repo, cfg = open_repo(repo_path, config)
    limit = cfg.classify.max_file_size

    def read_content(oids: list[str]) -> dict[str, tuple[bytes | None, int | None]]:
        found = read_objects(repo, oids, max_size=limit)
        return {
            o: (c.data, c.size) if c is not None and c.type == "blob" else (None, None)
            for o, c in found.items()
        }

    return export_labels(
        repo.root,
        DecisionLog(repo.root).events(),
        read_content,
        cfg.classify,
        output=Path(output) if output else None,
        embed=embed,
    )


def import_at(repo_path: str, source: str, *, output: str | None = None) -> LabelsOutcome:
    """``phase2 labels import`` in the repository at ``repo_path``."""
    from phase2_git.git.repo import GitRepo

    repo = GitRepo.discover(repo_path)
    return import_labels(repo.root, Path(source), output=Path(output) if output else None)
