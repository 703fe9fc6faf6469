"""The resolved configuration as the pure core sees it (built by ``store.config``).

NamedTuples, not dataclasses: the hook imports them (see :mod:`phase2_git.core.model`)."""

# no `from __future__ import annotations`: NamedTuple fields stay cheap (see core/model.py)

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from phase2_git.core.judge_model import JudgeModel
else:
    # What the annotation below names at run time: a string annotation would make NamedTuple
    # build a ForwardRef, whose compile() (the first of the process) costs the hook ~1 ms.
    # Nothing reads the annotation at run time; mypy sees the real class.
    JudgeModel = object

NoiseStrategy = Literal["restore_base", "canonicalize"]
PolicyMode = Literal["auto", "manual", "shadow"]

DEFAULT_METHODS: tuple[str, ...] = (
    "exact",
    "whitespace",
    "line_endings",
    "canonical_json",
    "numeric",
)
DEFAULT_AUTO_APPLY: tuple[str, ...] = (
    "bom",
    "line_endings",
    "trailing_newline",
    "whitespace",
    "json_ordering",
)
DEFAULT_JSON_EXTENSIONS: tuple[str, ...] = (
    ".json",
    ".geojson",
    ".har",
    ".ipynb",
    ".jsonld",
    ".webmanifest",
    ".avsc",
    ".gltf",
)

# JSON with comments and trailing commas (JSONC): compared as its own kind, ``jsonc``
DEFAULT_JSONC: tuple[str, ...] = (
    "*.jsonc",
    "tsconfig*.json",
    "jsconfig*.json",
    "/.vscode/**/*.json",
    ".devcontainer.json",
    "/.devcontainer/**/*.json",
)


class ClassifySettings(NamedTuple):
    rel_tol: float = 1e-9
    abs_tol: float = 0.0
    max_file_size: int = 20 * 1024 * 1024
    json_extensions: tuple[str, ...] = DEFAULT_JSON_EXTENSIONS
    json_indent: int = 2
    # canonical JSON rewrites sort keys (RFC 8785) only when asked: a curated order is content
    json_sort_keys: bool = False
    # gitignore-style patterns of artifacts whose whitespace is all noise (core/whitespace.py)
    whitespace_insignificant: tuple[str, ...] = ()
    # gitignore-style patterns of JSONC artifacts (a JSON file with a comment is one too)
    jsonc: tuple[str, ...] = DEFAULT_JSONC


class PolicySettings(NamedTuple):
    mode: PolicyMode = "auto"
    auto_apply_types: tuple[str, ...] = DEFAULT_AUTO_APPLY
    min_confidence: float = 0.9
    require_idempotent: bool = True
    sample_rate: float = 0.1
    noise_strategy: Mapping[str, NoiseStrategy] = MappingProxyType({})
    # statistical methods whose calibration gate is GO (``phase2 gate``)
    gated_methods: frozenset[str] = frozenset()

    def strategy(self, mismatch_type: str) -> NoiseStrategy:
        return self.noise_strategy.get(mismatch_type, "restore_base")


class MethodSettings(NamedTuple):
    enabled: tuple[str, ...] = DEFAULT_METHODS
    cosine_threshold: float = 0.95
    # methods.cosine_similarity.backend; "embeddings" is computed outside core (app/external.py)
    cosine_backend: str = "tfidf"
    # what ``phase2 judge eval --calibrate`` learned for the backend (loaded by the app layer);
    # None: the backend's unlearned form (tfidf: today's word TF-IDF fitted on the pair)
    cosine_model: JudgeModel | None = None
