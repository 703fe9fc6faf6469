"""Learned ``cosine_similarity`` models: ``.phase2/gate/models/cosine_similarity.<backend>.json``.

Beside the gate results, to be committed with them: the gate of ``cosine_similarity`` is bound
to the sha256 of the model file's bytes (:func:`phase2_git.store.judge_settings.judge_identity`),
so a changed model invalidates the gate as a changed rubric does. Every file is validated
against ``schemas/JudgeModel.v1.json``; a damaged one is exit 2 naming it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from phase2_git.errors import UsageError
from phase2_git.store import schemas
from phase2_git.store.atomic import atomic_write_text

MODEL_DIR = ".phase2/gate/models"
MODEL_SCHEMA = "JudgeModel.v1"
# the backends whose model is learned, and the kind of model each learns
LEARNED = {"tfidf": "lexical-logreg", "char_tfidf": "char-tfidf"}


def model_relpath(backend: str) -> str:
    return f"{MODEL_DIR}/cosine_similarity.{backend}.json"


def dumps(doc: Mapping[str, Any]) -> bytes:
    """The file's bytes: deterministic, so the same model always has the same sha256."""
    text = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def model_sha256(doc: Mapping[str, Any]) -> str:
    return hashlib.sha256(dumps(doc)).hexdigest()


def save_model(root: Path, backend: str, doc: Mapping[str, Any]) -> Path:
    """Validate and write a learned model atomically; returns its path."""
    rel = model_relpath(backend)
    schemas.check(dict(doc), MODEL_SCHEMA, rel)
    path = root / rel
    atomic_write_text(path, dumps(doc).decode("utf-8"))
    return path


def read_model(root: Path, backend: str) -> tuple[dict[str, Any], str] | None:
    """``(document, sha256 of the file)`` of the backend's stored model, None when there is
    none (or the backend learns none); a damaged file is a :class:`UsageError`."""
    if backend not in LEARNED:
        return None
    rel = model_relpath(backend)
    try:
        raw = (root / rel).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"{rel}: cannot read: {exc.strerror}") from None
    try:
        doc = schemas.loads_strict(raw)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{rel}: not JSON: {exc}") from None
    schemas.check(doc, MODEL_SCHEMA, rel)
    if doc["kind"] != LEARNED[backend]:
        raise UsageError(
            f"{rel}: kind: '{doc['kind']}' is not what backend '{backend}' learns "
            f"('{LEARNED[backend]}')"
        )
    return dict(doc), hashlib.sha256(raw).hexdigest()


def file_sha256(root: Path, backend: str) -> str | None:
    """The sha256 of the backend's model file, None when there is none (no validation: the
    gate compares it with what it was bound to; loading for use validates)."""
    if backend not in LEARNED:
        return None
    try:
        return hashlib.sha256((root / model_relpath(backend)).read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"{model_relpath(backend)}: cannot read: {exc.strerror}") from None
