"""Fuzz ``phase2_git.core.jsonvalue.parse`` (our JSON parser for artifacts) and the canonical
form built on it: whatever parses must canonicalise to UTF-8 that parses back to an equal
document, and canonicalising is idempotent. See _harness.py for how to run it."""

from __future__ import annotations

import _harness


def setup() -> _harness.Target:
    from phase2_git.core import jsonvalue

    def target(data: bytes) -> None:
        try:
            value = jsonvalue.parse(data)
        except jsonvalue.JsonInvalid as exc:
            assert "\n" not in str(exc)
            return
        try:
            text = jsonvalue.dumps_canonical(value)
        except jsonvalue.JsonInvalid:
            return  # duplicate keys: refuses to reorder, as documented
        again = jsonvalue.parse(text.encode("utf-8"))
        assert jsonvalue.compare(value, again, ordered=False).equal, text[:200]
        assert jsonvalue.dumps_canonical(again) == text

    return target


if __name__ == "__main__":
    _harness.main("json", setup)
