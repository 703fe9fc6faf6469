"""The guided review (``phase2 resolve --guided``, ``phase2 serve --guided``): the same review,
in an order that explains itself, one step at a time with its count and one sentence:

1. noise groups: approving restores the base's bytes;
2. mixed files: a real change with noise beside it;
3. real changes, one by one;
4. auto-approvals waiting for an audit;
5. the labels the calibration gate still needs.

The groups are the review's own (:func:`phase2_git.ui.review.build_groups`), only reordered;
every key does what it does in the plain review (:class:`~phase2_git.ui.review.Review`).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from phase2_git.app.resolve import Session
from phase2_git.core.model import Mismatch, is_noise
from phase2_git.ui.review import (
    Group,
    KeyReader,
    Review,
    Tally,
    _console,
    audit_review,
    build_groups,
    run_and_apply,
    summary,
)

ORDER = ("noise", "mixed", "real")
TITLES = {
    "noise": "Noise groups",
    "mixed": "Mixed files",
    "real": "Real changes, one by one",
    "audits": "Pending audits",
    "labels": "Labels the gate still needs",
}


def kind_of(m: Mismatch) -> str:
    """Which step a mismatch belongs to."""
    if is_noise(m.mismatch_type):
        return "noise"
    return "mixed" if m.plan.first is not None else "real"


def ordered(groups: Sequence[Group]) -> list[Group]:
    """Noise first (the safe groups before the rest), then mixed files, then real changes;
    the review's path order within each."""
    rank = {k: n for n, k in enumerate(ORDER)}
    return sorted(
        groups,
        key=lambda g: (rank[kind_of(g.first)], not all(m.plan.safe for m in g.members)),
    )


@dataclass(frozen=True)
class StepInfo:
    key: str
    title: str
    count: int  # groups, audits or labels
    files: int
    sentence: str

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "count": self.count,
            "files": self.files,
            "sentence": self.sentence,
        }


def _labels_needed(session: Session, events: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    from phase2_git.app.labels import labels_from_events

    need = int(session.config.data.get("gate", {}).get("min_items", 0))
    have = len(labels_from_events(events))
    return max(0, need - have), need


def steps(session: Session, groups: Sequence[Group]) -> list[StepInfo]:
    """The five steps with their counts, each explained in one sentence."""
    from phase2_git.app.audit import audit_pending
    from phase2_git.store.decisions import DecisionLog

    by_kind: dict[str, list[Group]] = {k: [] for k in ORDER}
    for g in groups:
        by_kind[kind_of(g.first)].append(g)
    events = list(DecisionLog(session.repo.root).events())
    audits = len(audit_pending(events))
    needed, min_items = _labels_needed(session, events)
    safe = sum(1 for g in by_kind["noise"] if all(m.plan.safe for m in g.members))

    def files(kind: str) -> int:
        return sum(len(g.members) for g in by_kind[kind])

    return [
        StepInfo(
            "noise",
            TITLES["noise"],
            len(by_kind["noise"]),
            files("noise"),
            "These files differ from the base only by formatting, line endings, key order or "
            f"number jitter: approving a group restores the base's bytes ({safe} group(s) are "
            "safe: A approves them all at once).",
        ),
        StepInfo(
            "mixed",
            TITLES["mixed"],
            len(by_kind["mixed"]),
            files("mixed"),
            "Each holds a real change with noise beside it: the diff collapses the noise so "
            "you judge only the change (its plan strips the noise first, strip_noise).",
        ),
        StepInfo(
            "real",
            TITLES["real"],
            len(by_kind["real"]),
            files("real"),
            "Each needs a human: approve a change that is meant, reject one that is not, "
            "skip to decide later.",
        ),
        StepInfo(
            "audits",
            TITLES["audits"],
            audits,
            audits,
            "Auto-approvals sampled for audit: say whether each really was noise, so that the "
            "circuit breaker and the calibration stay honest.",
        ),
        StepInfo(
            "labels",
            TITLES["labels"],
            needed,
            needed,
            f"The calibration gate wants {min_items} labelled mismatches before a statistical "
            f"judge may act alone; {needed} more to go: every approve and reject is one, and "
            "e/n label without acting.",
        ),
    ]


def plan_lines(infos: Sequence[StepInfo]) -> list[str]:
    out = []
    for n, s in enumerate(infos, start=1):
        if s.key in ORDER:
            what = f"{s.count} group(s), {s.files} file(s)"
        elif s.key == "audits":
            what = f"{s.count} waiting"
        else:
            what = f"{s.count} needed"
        out.append(f"{n}. {s.title} ({what}): {s.sentence}")
    return out


@dataclass
class GuidedReview(Review):
    """The review loop, announcing each step as its first group comes up; every key and its
    feedback are the review's own."""

    announced: str | None = None
    infos: dict[str, StepInfo] = field(default_factory=dict)

    def run(self, keys: KeyReader) -> None:
        self.infos = {s.key: s for s in steps(self.session, self.groups)}
        super().run(keys)

    def show(self) -> None:
        kind = kind_of(self.groups[self.k].first)
        if kind != self.announced:
            # the last key's feedback (``approved 3 safe group(s)``) belongs to the step it
            # ended: said before the next step is announced
            for line in self.notice:
                self.console.print(line, markup=False)
            self.notice = []
            self.console.rule(style="dim")
            self.console.print(
                f"Step {ORDER.index(kind) + 1}: {TITLES[kind]}. {self.infos[kind].sentence}",
                markup=False,
            )
            self.announced = kind
        super().show()


def guided_review(
    session: Session,
    out: IO[str],
    *,
    color: bool,
    resume: str = "phase2 resolve --guided",
    keys: KeyReader | None = None,
) -> int:
    """``phase2 resolve --guided``: the plan of steps, the review in their order, the commit,
    then the audits waiting and the labels the gate still needs."""
    console = _console(out, color)
    keys = keys or KeyReader(sys.stdin)
    tally = Tally()
    groups = ordered(build_groups(session, session.todo()))
    infos = steps(session, groups)
    console.print("Guided review, in five steps:", markup=False)
    for line in plan_lines(infos):
        console.print(f"  {line}", markup=False)
    guided = GuidedReview(session, console, color, groups, tally)
    result = run_and_apply(session, console, tally, resume, lambda: guided.run(keys))
    if result is None:
        return 130
    summary(console, tally, result, color)
    audits = steps(session, [])[3]
    console.rule(style="dim")
    console.print(f"Step 4: {audits.title} ({audits.count}). {audits.sentence}", markup=False)
    if audits.count:
        code = audit_review(session, console, keys, color)
        if code:
            return code
    console.rule(style="dim")
    labels = steps(session, [])[4]
    console.print(f"Step 5: {labels.title} ({labels.count}). {labels.sentence}", markup=False)
    return 0
