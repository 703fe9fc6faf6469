"""``--format json``: exactly ``schemas/Phase2Diff.v1.json``, byte-for-byte deterministic."""

from __future__ import annotations

import json


def dumps(document: object) -> str:
    # ensure_ascii keeps artifact paths with odd bytes (surrogate escapes) printable JSON
    return json.dumps(document, indent=2, ensure_ascii=True, allow_nan=False) + "\n"
