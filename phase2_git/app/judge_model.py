"""The ``cosine_similarity`` backends in ``judge eval``, ``gate`` and ``diff``: learn, load, score.

* :func:`fit_for_eval` learns the backend's model (``tfidf``: the lexical logistic model;
  ``char_tfidf``: char-gram document frequencies) from the TRAIN split of the labelled dataset
  (:func:`phase2_git.core.evaluation.split_map`, the split the figures use), never from the
  test split the figures report: ``phase2 judge eval --calibrate`` stores it once the
  evaluation is made (:mod:`phase2_git.store.judge_model`).
* :func:`method_settings` hands a stored model to core (``MethodSettings.cosine_model``): core
  does no I/O, and no network is involved.
* :func:`embedding_scores` puts the embeddings backend's scores in place of core's TF-IDF
  ones for the dataset's pairs, so that backend is measured, and can be gated, like any other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phase2_git.errors import UsageError

if TYPE_CHECKING:
    from phase2_git.core.settings import ClassifySettings, MethodSettings
    from phase2_git.store.config import Config
    from phase2_git.store.labels import LabeledItem

COSINE = "cosine_similarity"


def backend_of(config: Config) -> str:
    return str(config.data["methods"][COSINE]["backend"])


@dataclass(frozen=True)
class Fitted:
    """A model learned by ``--calibrate``, not stored yet."""

    backend: str
    doc: dict[str, Any]
    sha256: str


def method_settings(config: Config, root: Path | None, names: Sequence[str]) -> MethodSettings:
    """``config.methods`` with the backend's stored model, when ``cosine_similarity`` runs and
    one was learned; unchanged otherwise (the backend's unlearned form)."""
    from phase2_git.store.judge_model import read_model

    settings = config.methods
    if COSINE not in names or root is None:
        return settings
    found = read_model(root, backend_of(config))
    if found is None:
        return settings
    return settings._replace(cosine_model=_model(found[0], root, backend_of(config)))


def _model(doc: Mapping[str, Any], root: Path | None, backend: str) -> Any:
    from phase2_git.core.judge_model import JudgeModel
    from phase2_git.store.judge_model import model_relpath

    try:
        return JudgeModel.from_json(doc)
    except ValueError as exc:
        raise UsageError(
            f"{model_relpath(backend)}: {exc}", hint="run `phase2 judge eval --calibrate` again"
        ) from None


def _texts(
    item: LabeledItem, classify: ClassifySettings, msettings: MethodSettings
) -> tuple[str, str] | None:
    """The two sides as ``cosine_similarity`` reads them (the pair ``app.judge.method_input``
    builds: both sides' content, a text or JSON artifact, valid text), None when it reads none.
    """
    from phase2_git.core.classify import Pair, whitespace_rules

    if item.before is None or item.after is None or item.artifact_type not in ("json", "text"):
        return None
    rules = whitespace_rules(item.path or "", classify)
    pair = Pair.of(item.before, item.after, item.artifact_type, rules=rules)  # type: ignore[arg-type]
    a, b = pair.before.text, pair.after.text
    return None if a is None or b is None else (a, b)


def fit_for_eval(
    items: Sequence[LabeledItem],
    config: Config,
    trained: Mapping[str, Any],
) -> Fitted | None:
    """Learn the configured backend's model on the train split; None for a backend that
    learns nothing (``word_tfidf``, ``embeddings``)."""
    from phase2_git.core import judge_model as jm
    from phase2_git.core.evaluation import split_map
    from phase2_git.store.judge_model import LEARNED, model_sha256

    backend = backend_of(config)
    if backend not in LEARNED:
        return None
    splits = split_map(items)
    pairs: list[tuple[str, str]] = []
    labels: list[bool] = []
    for item in items:
        if splits[item.id] != "train":
            continue
        texts = _texts(item, config.classify, config.methods)
        if texts is not None and max(map(len, texts)) <= jm.MAX_CHARS:
            pairs.append(texts)
            labels.append(item.label)
    if not pairs:
        raise UsageError(
            f"--calibrate: {COSINE} ({backend}) learns from text pairs and the train split has none"
        )
    try:
        model = jm.fit_model(LEARNED[backend], pairs, labels, trained={**trained, "split": "train"})
    except ValueError:
        raise UsageError(
            f"--calibrate: {COSINE} ({backend}) needs both labels among the train split's "
            f"{len(pairs)} text pairs to learn its model"
        ) from None
    doc = model.to_json()
    return Fitted(backend, doc, model_sha256(doc))


def with_fitted(config: Config, fitted: Fitted) -> MethodSettings:
    return config.methods._replace(cosine_model=_model(fitted.doc, None, fitted.backend))


def embedding_scores(
    items: Sequence[LabeledItem],
    config: Config,
    msettings: MethodSettings,
    found: tuple[dict[str, bool], dict[str, float], dict[str, str]],
) -> None:
    """Replace core's TF-IDF scores of ``cosine_similarity`` by the embedding cosine, in
    place, on every item core read as text (the rest keep core's "not applicable": score 0).
    Raises :class:`UsageError` when the extra or the model is missing."""
    from phase2_git.judges import embeddings

    embeddings.check_available()
    predicted, scores, _ = found
    todo: list[tuple[str, tuple[str, str]]] = []
    for item in items:
        if item.id not in scores:
            continue
        texts = _texts(item, config.classify, msettings)
        if texts is not None:
            todo.append((item.id, texts))
    verdicts = embeddings.verdicts([t for _, t in todo], msettings.cosine_threshold)
    for (iid, _), v in zip(todo, verdicts):
        predicted[iid], scores[iid] = v.equivalent, v.score
