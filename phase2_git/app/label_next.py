"""``phase2 labels next``: which labels the gate still needs, and which mismatches to label.

The needs come from :mod:`phase2_git.core.label_needs` (the dataset against ``[gate]``); with
BASE (and HEAD) the unlabelled mismatches of that comparison are ranked by how many needs each
would help: a mismatch of a type that lacks items or a label class first, and among the
mismatches that could give a missing 'different' label, the ones the judge doubts most (lowest
score) first, since real noise is almost never labelled 'different'.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from phase2_git.core.label_needs import Need
from phase2_git.core.model import Mismatch
from phase2_git.core.sanitize import sanitize_line, sanitize_path
from phase2_git.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from phase2_git.git.repo import quote_for_message

if TYPE_CHECKING:
    from phase2_git.store.config import Config

FORMATS = ("text", "json")


@dataclass(frozen=True)
class NextOptions:
    base: str | None = None
    head: str | None = None
    dataset: str | None = None
    method: str = "cosine_similarity"
    limit: int = 20
    fmt: str = "text"
    config: str | None = None
    repo: str = "."


@dataclass(frozen=True)
class Candidate:
    mismatch: Mismatch
    helps: tuple[str, ...]  # the criteria a label of it would help
    score: float | None  # the judge's score, when it gave one

    def to_json(self) -> dict[str, Any]:
        m = self.mismatch
        return {
            "id": m.id,
            "path": sanitize_path(m.path),
            "mismatch_type": m.mismatch_type,
            "artifact_type": m.artifact_type,
            "score": self.score,
            "helps": list(self.helps),
        }


def _score(m: Mismatch, method: str) -> float | None:
    for v in m.verdicts:
        if v.method == method and not v.detail.startswith("not applicable"):
            return v.score
    return None


def rank(
    mismatches: Sequence[Mismatch], needs: Sequence[Need], labelled: set[str], method: str
) -> list[Candidate]:
    """The unlabelled mismatches that would help a need, most helpful first."""
    by_type: dict[str, list[Need]] = {}
    overall: list[Need] = []
    for need in needs:
        if need.mismatch_type is None:
            overall.append(need)
        else:
            by_type.setdefault(need.mismatch_type, []).append(need)
    out: list[tuple[tuple[float, ...], Candidate]] = []
    for m in mismatches:
        if m.id in labelled:
            continue
        own = by_type.get(m.mismatch_type, [])
        helps = tuple(n.criterion for n in (*own, *overall) if n.missing > 0)
        if not helps:
            continue
        score = _score(m, method)
        wants_different = any(n.label == "different" for n in own)
        wants_equivalent = any(n.label == "equivalent" for n in own)
        # the most doubtful first where a label class is missing: low scores may be
        # 'different', high ones 'equivalent'
        doubt = 0.5 if score is None else score if wants_different else 1 - score
        if not (wants_different or wants_equivalent):
            doubt = 0.5
        key = (-float(len(own)), -float(len(helps)), doubt)
        out.append((key, Candidate(m, helps, score)))
    out.sort(key=lambda kv: (kv[0], kv[1].mismatch.path))
    return [c for _, c in out]


def labels_next(opts: NextOptions, out: IO[str]) -> int:
    """Print the needs (and the candidates of BASE..HEAD); exit 0 when the dataset already has
    what every criterion needs, 1 while something is missing."""
    from phase2_git.app.context import open_repo
    from phase2_git.core.gating import GateThresholds
    from phase2_git.core.label_needs import label_needs
    from phase2_git.store.labels import LABELS_FILE, read_labels

    if opts.fmt not in FORMATS:
        raise UsageError(f"--format must be text or json, got '{opts.fmt}'")
    if opts.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {opts.limit}")
    repo, cfg = open_repo(opts.repo, opts.config)
    path = Path(opts.dataset) if opts.dataset else repo.root / LABELS_FILE
    shown = opts.dataset or LABELS_FILE
    items = read_labels(path, shown) if path.exists() else []
    from phase2_git.core.methods import METHODS, parse_methods

    names = parse_methods(opts.method)
    method = names[0]
    if len(names) != 1 or METHODS[method].deterministic or method == "llm_rubric":
        raise UsageError(
            f"--method must be a statistical method phase2 runs itself (cosine_similarity), "
            f"got '{quote_for_message(opts.method)}'"
        )
    mismatches: list[Mismatch] = []
    if opts.base is not None:
        from phase2_git.app.diff import run_diff

        head = opts.head or "HEAD"
        # the ranking method runs whether or not it is enabled (it only orders the list); an
        # external judge is never asked here: ranking is not worth a paid call
        enabled = tuple(m for m in cfg.methods.enabled if m != "llm_rubric")
        methods = enabled if method in enabled else (*enabled, method)
        diff = run_diff(repo, opts.base, head, config=cfg, methods=methods, approvals=False)
        mismatches = diff.mismatches
    needs = label_needs(
        items,
        GateThresholds.from_config(cfg.data),
        types=sorted({m.mismatch_type for m in mismatches}),
    )
    labelled = {i.id for i in items}
    candidates = rank(mismatches, needs, labelled, method)
    if opts.fmt == "json":
        doc = {
            "dataset": shown,
            "items": len(items),
            "needs": [n.to_json() for n in needs],
            "candidates": [c.to_json() for c in candidates[: opts.limit]],
            "more_candidates": max(0, len(candidates) - opts.limit),
        }
        out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    else:
        _render(out, opts, shown, len(items), needs, candidates)
    return EXIT_FINDINGS if needs else EXIT_OK


def _render(
    out: IO[str],
    opts: NextOptions,
    dataset: str,
    n: int,
    needs: Sequence[Need],
    candidates: Sequence[Candidate],
) -> None:
    if not needs:
        out.write(f"{dataset}: {n} labelled items; the gate has the labels every criterion needs\n")
        return
    out.write(f"{dataset}: {n} labelled items; the gate still needs:\n")
    for need in needs:
        out.write(f"  - {need.detail}\n")
    if opts.base is None:
        out.write(
            "to see which mismatches to label: phase2 labels next BASE [HEAD] "
            "(e.g. phase2 labels next main)\n"
        )
        return
    if not candidates:
        out.write("no unlabelled mismatch of this comparison helps: label another one\n")
        return
    shown = candidates[: opts.limit]
    out.write(f"label next ({len(shown)} of {len(candidates)} that would help):\n")
    width = max(len(sanitize_path(c.mismatch.path)) for c in shown)
    for c in shown:
        score = "—" if c.score is None else f"{opts.method} {c.score:.2f}"
        out.write(
            f"  {sanitize_path(c.mismatch.path):<{width}}  {c.mismatch.mismatch_type:<17}  "
            f"{score}  helps: {', '.join(c.helps)}\n"
        )
    import shlex

    base = shlex.quote(quote_for_message(opts.base))
    head = shlex.quote(quote_for_message(opts.head or "HEAD"))
    out.write(
        f"label them in `phase2 resolve {base} {head}` (keys e = equivalent, n = different; "
        "approve and reject label too), then `phase2 labels export`\n"
    )


def review_hint(root: Path, cfg: Config, types: Iterable[str], base: str, head: str) -> list[str]:
    """What ``phase2 labels next`` would say, in two lines, for the end of the interactive
    review and its help key: the gate's first missing need (or that none is missing), and the
    command that lists them all and ranks the mismatches to label. Reads the labelled dataset
    only (no diff is run); a dataset that cannot be read is said in the first line."""
    import shlex

    from phase2_git.core.gating import GateThresholds
    from phase2_git.core.label_needs import label_needs
    from phase2_git.store.labels import LABELS_FILE, read_labels

    command = (
        f"phase2 labels next {shlex.quote(quote_for_message(base))} "
        f"{shlex.quote(quote_for_message(head))}"
    )
    path = root / LABELS_FILE
    try:
        items = read_labels(path, LABELS_FILE) if path.exists() else []
        needs = label_needs(items, GateThresholds.from_config(cfg.data), types=sorted(set(types)))
    except UsageError as exc:
        return [f"labels: {sanitize_line(str(exc))}", f"  fix it, then: {command}"]
    if not needs:
        return [
            f"labels: {LABELS_FILE} ({len(items)} items) has what every gate criterion needs",
            f"  new labels count after `phase2 labels export`; {command} says more",
        ]
    more = f" (and {len(needs) - 1} more)" if len(needs) > 1 else ""
    return [
        f"labels: the gate still needs {sanitize_line(needs[0].detail)}{more}",
        f"  this review's labels count after `phase2 labels export`; {command} ranks what to "
        "label next",
    ]
