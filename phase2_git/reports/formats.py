"""A ``Phase2Diff.v1`` document in the format asked for: ``json``, ``markdown``, else the text
table. ``phase2 diff``, ``phase2 report merge`` and ``phase2 demo`` all print through here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO, Any


def render_document(
    doc: Mapping[str, Any],
    fmt: str,
    out: IO[str],
    *,
    base_spec: str,
    head_spec: str,
    config_source: str,
    color: bool,
    notices: Sequence[str] = (),
    measured: Any = None,
) -> None:
    """``measured``: the text table's column widths (:class:`reports.text.Widths`), when
    they were measured as the mismatches were made."""
    if fmt == "json":
        from phase2_git.reports import jsonout

        jsonout.write(doc, out)
    elif fmt == "markdown":
        from phase2_git.reports import markdown

        out.write(markdown.render(doc))
    else:
        from phase2_git.reports import text

        text.render(
            doc,
            base_spec=base_spec,
            head_spec=head_spec,
            config_source=config_source,
            file=out,
            color=color,
            notices=notices,
            measured=measured,
        )
