"""Fuzz the labelled dataset reader (LabeledMismatch JSONL): whatever it accepts writes back
to lines that read back as the same items. See _harness.py."""

from __future__ import annotations

import _harness


def setup() -> _harness.Target:
    from phase2_git.errors import UsageError
    from phase2_git.store import labels

    def target(data: bytes) -> None:
        try:
            items = labels.parse_labels(data, labels.LABELS_FILE)
        except UsageError as exc:
            assert "\n" not in str(exc)
            return
        again = labels.parse_labels(labels.encode_labels(items), "re-encoded")
        assert [i.to_json() for i in items] == [j.to_json() for j in again]

    return target


if __name__ == "__main__":
    _harness.main("labels", setup)
