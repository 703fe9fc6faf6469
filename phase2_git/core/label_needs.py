"""What the gate still needs from the labelled dataset before it can decide (``phase2 labels
next``).

Pure: it reads the labels (their mismatch type, label and split) and the ``[gate]`` thresholds
and says, per criterion, how many labels of which kind are missing. A criterion that lacks data
is "insufficient" in the gate, never a pass, so a dataset with gaps keeps every judge NO-GO (or
leaves a type "not gated") however good the judge is; this module names the gaps.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from phase2_git.core.evaluation import TEST_SHARE, Labelled, split_map
from phase2_git.core.gating import GateThresholds
from phase2_git.core.stats import n_in_test

LabelName = Literal["equivalent", "different"]


@dataclass(frozen=True)
class Need:
    """``missing`` more labels (of ``label`` when not None, of ``mismatch_type`` when not None)
    for the gate ``criterion``; ``detail`` says it in words."""

    criterion: str
    missing: int
    detail: str
    mismatch_type: str | None = None
    label: LabelName | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "criterion": self.criterion,
            "missing": self.missing,
            "mismatch_type": self.mismatch_type,
            "label": self.label,
            "detail": self.detail,
        }


def negatives_for_fp_bound(max_fp_rate: float, fp_bound: str) -> int:
    """'different' labels the test split needs before the false-positive criterion can pass:
    one for the point estimate (the rate is undefined without any); for the one-sided 95 %
    Clopper-Pearson bound, the n whose bound with no false positive, 1 - 0.05^(1/n), is
    within ``max_fp_rate`` (150 for 2 %)."""
    if fp_bound != "upper95":
        return 1
    if max_fp_rate <= 0:
        return 0  # never passes: no number of labels helps (the detail says so)
    if max_fp_rate >= 1:
        return 1
    return math.ceil(math.log(0.05) / math.log(1.0 - max_fp_rate) - 1e-9)


def label_needs(
    items: Sequence[Labelled], t: GateThresholds, types: Iterable[str] = ()
) -> list[Need]:
    """Every gap between the dataset and what the gate needs to decide, biggest first within
    each kind: the dataset's size, each mismatch type's size and label classes (for the types
    in the dataset and in ``types``, e.g. the current diff's), and the test split's 'different'
    labels the false-positive criterion needs."""
    needs: list[Need] = []
    n = len(items)
    if n < t.min_items:
        missing = t.min_items - n
        needs.append(
            Need("min_items", missing, f"{missing} more labelled items ({n} of {t.min_items})")
        )
    by_type: dict[str, list[Labelled]] = {}
    for item in items:
        by_type.setdefault(item.mismatch_type, []).append(item)
    for mtype in types:
        by_type.setdefault(mtype, [])
    for mtype in sorted(by_type, key=lambda m: (len(by_type[m]), m)):
        group = by_type[mtype]
        size = len(group)
        if size < t.min_type_items:
            needs.append(
                Need(
                    f"type_items:{mtype}",
                    t.min_type_items - size,
                    f"type {mtype}: {t.min_type_items - size} more items ({size} of "
                    f"{t.min_type_items}); until then its kappa is not gated",
                    mtype,
                )
            )
        eq = sum(1 for i in group if i.label)
        for label, have, other in (("different", size - eq, eq), ("equivalent", eq, size - eq)):
            if have == 0 and other > 0:
                needs.append(
                    Need(
                        f"type_labels:{mtype}",
                        1,
                        f"type {mtype}: all {other} labels are "
                        f"'{'equivalent' if label == 'different' else 'different'}': at least "
                        f"one '{label}' label before its kappa is defined",
                        mtype,
                        label,  # type: ignore[arg-type]
                    )
                )
    splits = split_map(items)
    negatives = [i for i in items if not i.label]
    in_test = sum(1 for i in negatives if splits[i.id] == "test")
    want = negatives_for_fp_bound(t.max_fp_rate, t.fp_bound)
    if t.fp_bound == "upper95" and t.max_fp_rate <= 0:
        needs.append(
            Need("fp_rate", 0, "max_fp_rate is 0: the upper bound never reaches it (raise it)")
        )
    elif in_test < want:
        # new 'different' labels are split like the others: about 30 % reach the test split
        more = 0
        while n_in_test(len(negatives) + more, TEST_SHARE) < want:
            more += 1
        more = max(more, 1)
        bound = "point estimate" if t.fp_bound != "upper95" else "one-sided 95 % upper bound"
        needs.append(
            Need(
                "fp_rate",
                more,
                f"false-positive rate ({bound}): the test split has {in_test} 'different' "
                f"label(s), it needs {want}: about {more} more 'different' labels "
                f"({TEST_SHARE:.0%} of new labels go to the test split)",
                None,
                "different",
            )
        )
    return needs
