"""Fuzz the decision log reader (.phase2/decisions.jsonl): whatever it accepts is whole lines
of schema-valid events whose paths stay inside the work tree. See _harness.py."""

from __future__ import annotations

import _harness
from fuzz_state import safe


def setup() -> _harness.Target:
    from phase2_git.errors import UsageError
    from phase2_git.store import decisions

    def target(data: bytes) -> None:
        try:
            lines = decisions.parse_lines(data, decisions.LOG_FILE)
        except UsageError as exc:
            assert "\n" not in str(exc)
            return
        assert not data or data.endswith(b"\n")
        for line in lines:
            assert safe(line.event["path"]), line.event["path"]
        # appending nothing to an accepted log leaves it byte for byte
        assert decisions.appended_content(data, []) == data

    return target


if __name__ == "__main__":
    _harness.main("decisions", setup)
