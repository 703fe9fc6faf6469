"""Which paths are artifacts and which shard a path belongs to.

A file is an artifact when (README "Configuration", first rule that applies):

1. it is under ``.phase2/``: never;
2. it matches ``artifacts.exclude``: never;
3. ``linguist-generated`` is set (or ``=true``) for it in ``.gitattributes``: it is;
4. ``-linguist-generated`` (or ``=false``): it is not;
5. it matches ``artifacts.hand_written`` (CI workflows, repository metadata): it is not;
6. it matches ``artifacts.include``: it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from phase2_git.core.globs import compile_patterns

PHASE2_DIR = ".phase2/"

# Configuration people write by hand and CI or git reads: never an artifact by default (a
# whitespace-only edit of a workflow is an edit, not regeneration noise). An artifact all the
# same when marked ``linguist-generated``.
DEFAULT_HAND_WRITTEN: tuple[str, ...] = (
    "/.github/",
    "/.gitlab-ci.yml",
    "/.gitlab/",
    "/.circleci/",
    "/.buildkite/",
    "/azure-pipelines.yml",
    "/.travis.yml",
    "/Jenkinsfile",
    "/.pre-commit-config.yaml",
    "/.pre-commit-hooks.yaml",
    ".gitattributes",
    ".gitignore",
    "/.gitmodules",
    "/.mailmap",
    ".editorconfig",
    "CODEOWNERS",
)


class ArtifactFilter:
    """The rules above; ``generated`` holds the ``linguist-generated`` attribute of the paths
    that set it either way (``git/attributes.py``), absent for the others."""

    def __init__(
        self,
        include: Sequence[str],
        exclude: Sequence[str],
        hand_written: Sequence[str] = (),
        generated: Mapping[str, bool] | None = None,
    ) -> None:
        self._everything = list(include) == ["**"]
        self._include = compile_patterns(tuple(include))
        self._exclude = compile_patterns(tuple(exclude))
        self._hand_written = compile_patterns(tuple(hand_written))
        self.generated: Mapping[str, bool] = generated or {}

    def with_generated(self, generated: Mapping[str, bool]) -> ArtifactFilter:
        out = ArtifactFilter.__new__(ArtifactFilter)
        out.__dict__.update(self.__dict__)
        out.generated = generated
        return out

    def candidate(self, path: str) -> bool:
        """Whether the attribute can still make ``path`` an artifact (rules 1 and 2)."""
        if path.startswith(PHASE2_DIR) or path == PHASE2_DIR.rstrip("/"):
            return False
        return not self._exclude(path)

    def __call__(self, path: str) -> bool:
        if not self.candidate(path):
            return False
        marked = self.generated.get(path)
        if marked is not None:
            return marked
        if self._hand_written(path):
            return False
        return self._everything or self._include(path)


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
