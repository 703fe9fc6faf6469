"""Every git call phase2 makes lives in this package (docs/architecture.md, Layers).

- :mod:`.repo`: :class:`GitRepo`, the one door through which git processes are started
- :mod:`.sides`: naming the two sides of a comparison (commit-ish, ``:index``, ``:worktree``)
- :mod:`.changes`: which files differ between two sides
- :mod:`.blobs`: streaming their content through one ``git cat-file --batch``
"""

from __future__ import annotations
