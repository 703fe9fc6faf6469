"""Which paths are artifacts (include/exclude globs) and which shard a path belongs to."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

PHASE2_DIR = ".phase2/"


class ArtifactFilter:
    """gitignore-style include/exclude patterns; ``.phase2/`` itself is never an artifact."""

    def __init__(self, include: Sequence[str], exclude: Sequence[str]) -> None:
        self._include = list(include)
        self._exclude = list(exclude)

    @cached_property
    def _specs(self) -> tuple[object, object]:
        # pathspec implements git's wildmatch rules; writing our own would miss its corners
        import pathspec

        inc = pathspec.GitIgnoreSpec.from_lines(self._include)
        exc = pathspec.GitIgnoreSpec.from_lines(self._exclude)
        return inc, exc

    def __call__(self, path: str) -> bool:
        if path.startswith(PHASE2_DIR) or path == PHASE2_DIR.rstrip("/"):
            return False
        if self._include == ["**"] and not self._exclude:
            return True
        inc, exc = self._specs
        return bool(inc.match_file(path)) and not exc.match_file(path)  # type: ignore[attr-defined]


def pathspec_filter(specs: Sequence[str]) -> ArtifactFilter | None:
    """The pathspecs given after ``--`` (``phase2 diff A B -- 'css/**'``) as a filter, or None
    when there are none. They are globs read as the configured include/exclude globs are
    (gitignore rules, from the top of the repository: ``css/**``, ``*.json`` at any depth,
    ``/x.json`` only at the top, ``!pattern`` takes back, and exclusions alone take back from
    every path); ``.`` is every path and a leading ``./`` is dropped, as a shell user types them."""
    cleaned = []
    for spec in specs:
        if not spec:
            from phase2_git.errors import UsageError

            raise UsageError("an empty string is not a pathspec (use '.' for every path)")
        while spec.startswith("./"):
            spec = spec[2:]
        cleaned.append("**" if spec in (".", "") else spec)
    if cleaned and all(spec.startswith("!") for spec in cleaned):
        cleaned.insert(0, "**")  # only exclusions: everything but them, as git reads `:!x`
    return ArtifactFilter(cleaned, []) if cleaned else None


def parse_shard(spec: str) -> tuple[int, int]:
    """``"K/N"`` with 1 ≤ K ≤ N → (K, N); raises ValueError with a readable message."""
    try:
        k_s, n_s = spec.split("/")
        k, n = int(k_s), int(n_s)
    except ValueError:
        raise ValueError(f"--shard must look like K/N (e.g. 2/4), got '{spec}'") from None
    if not (1 <= k <= n):
        raise ValueError(f"--shard K/N needs 1 ≤ K ≤ N, got '{spec}'")
    return k, n


def shard_of(path: str, count: int) -> int:
    """1-based shard of a path: a stable hash, the same on every machine and run."""
    from phase2_git.core.ids import sha256

    digest = sha256(path.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1
