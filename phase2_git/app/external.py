"""The judges that run outside core over a diff's mismatches: ``llm_rubric`` (a command or an
HTTP endpoint) and ``cosine_similarity`` on the embeddings backend.

Core gives every mismatch a placeholder verdict for them; :func:`judged` asks the judges
selected, puts their verdicts in place and plans each mismatch again. A judge
(:mod:`phase2_git.judges`) only returns verdicts: which contents it sees, which gates let a
verdict justify a plan and which configuration it runs with are decided here. They need every
mismatch at once (one ``cat-file`` process reads the contents, the model embeds every pair in
one pass), so a diff that runs one holds the whole list (:func:`phase2_git.app.diff.stream_diff`).

Both judges are statistical methods: a diff that selects none (the hook's defaults) never
imports this module. Judges and what they need load only when selected.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from phase2_git.app.diff_result import DiffResult
    from phase2_git.core.model import Mismatch, Verdict
    from phase2_git.core.settings import ClassifySettings, PolicySettings
    from phase2_git.git.repo import GitRepo
    from phase2_git.store.config import Config
    from phase2_git.store.judge_settings import TrustedJudge

LLM = "llm_rubric"
COSINE = "cosine_similarity"
_TEXTUAL = ("json", "jsonc", "text")
# what a run's judge spending reports (the diff document's ``judges``, the metrics' gauges)
SPEND_KEYS = ("calls", "input_tokens", "output_tokens", "cost", "cache_hits", "errors")


def _embeddings(config: Config, methods: Iterable[str]) -> bool:
    return COSINE in methods and config.data["methods"][COSINE]["backend"] == "embeddings"


def selected(config: Config, methods: Sequence[str]) -> bool:
    """Whether ``methods`` run a judge outside core."""
    return LLM in methods or _embeddings(config, methods)


def judged(
    repo: GitRepo,
    result: DiffResult,
    *,
    trusted: Sequence[TrustedJudge] = (),
    gated: frozenset[str] | None = None,
) -> DiffResult:
    """``result`` with the verdicts of the external judges among its methods, if any.

    ``trusted``: the ``[judge]`` tables the user vouches for (the trust side's); ``gated``:
    the GO gates the trust side holds (see :func:`attach_llm_verdicts`)."""
    if LLM in result.methods:
        # the judge runs a command or sends content and a key to a URL: a pull request
        # must not choose them, so they come from configuration the user trusts only
        result = attach_llm_verdicts(repo, result, trusted=trusted, gated=gated)
    if _embeddings(result.config, result.methods):
        result = attach_embedding_verdicts(repo, result, gated=gated)
    return result


def _reader(
    repo: GitRepo, todo: Sequence[Mismatch], max_size: int
) -> Callable[[str | None], bytes | None]:
    """The contents of both sides of ``todo``, read by one ``cat-file`` process."""
    from phase2_git.git.objects import read_objects

    oids = [o for m in todo for o in (m.change.before, m.change.after) if o]
    blobs = read_objects(repo, oids, max_size=max_size) if oids else {}

    def data(oid: str | None) -> bytes | None:
        obj = blobs.get(oid) if oid else None
        return obj.data if obj is not None else None

    return data


def _replanned(
    m: Mismatch,
    verdict: Verdict,
    policy: PolicySettings,
    classify: ClassifySettings,
    contents: tuple[bytes, bytes] | None,
) -> Mismatch:
    """``m`` with ``verdict`` in place of its method's placeholder, planned again."""
    from phase2_git.core.model import Classification
    from phase2_git.core.policy import make_plan

    verdicts = tuple(verdict if old.method == verdict.method else old for old in m.verdicts)
    cls = Classification(m.artifact_type, m.mismatch_type, m.detail)
    plan, resolved = make_plan(m.id, cls, verdicts, policy, classify, contents, path=m.path)
    return m._replace(verdicts=verdicts, plan=plan, resolved=resolved)


def _go(repo: GitRepo, config: Config, gated: frozenset[str] | None) -> frozenset[str]:
    from phase2_git.store.gate import gated_methods

    return gated_methods(repo.root, config) if gated is None else gated


def attach_llm_verdicts(
    repo: GitRepo,
    result: DiffResult,
    *,
    environ: Mapping[str, str] = os.environ,
    trusted: Sequence[TrustedJudge] = (),
    gated: frozenset[str] | None = None,
) -> DiffResult:
    """Ask the llm_rubric judge about every mismatch that carries its placeholder verdict,
    put the real verdict in its place and plan again.

    Shadow by construction: ``core.policy`` lets a statistical verdict justify a safe plan
    only for methods in ``policy.gated_methods``: ``gated`` when the caller gives it (a diff
    passes the gates the trusted commit holds), else what :func:`store.gate.gated_methods`
    says of the working tree's (GO and still valid), on top of the caller's set. The judge's
    command, URL and key variable come from ``trusted`` and the user's own configuration
    only (:func:`phase2_git.app.sources.trusted_judge_table`).
    One ``cat-file`` process reads the contents, the judge's budget and cache apply, and a
    budget that runs out becomes a notice.
    """
    from phase2_git.app.sources import trusted_judge_table
    from phase2_git.judges.llm_rubric import JudgeRequest, LlmRubricJudge
    from phase2_git.store.judge_settings import judge_settings

    todo = [m for m in result.mismatches if any(v.method == LLM for v in m.verdicts)]
    if not todo:
        return result
    config = result.config
    table, dropped = trusted_judge_table(config, trusted, environ)
    judge = LlmRubricJudge(
        judge_settings({**config.data, "judge": table}, repo.root),
        cache_root=repo.root,
        environ=environ,
    )
    if not judge.configured:
        return result.replaced(
            mismatches=result.mismatches,
            notices=[
                *result.notices,
                *dropped,
                "llm_rubric: no judge configured (judge.command or "
                "judge.url): its verdicts stay 'not applicable'",
            ],
        )
    go = _go(repo, config, gated)
    policy = config.policy._replace(gated_methods=config.policy.gated_methods | go)
    # in shadow, a soak asks about a nested, hash-seeded share of the mismatches; a GO judge
    # is asked about every one it may act on
    share = 1.0 if LLM in policy.gated_methods else judge.settings.shadow_share
    if share < 1.0:
        from phase2_git.core.ids import in_sample
        from phase2_git.core.model import Verdict

        outside = f"not applicable: outside the shadow share ({share:.0%} of mismatches)"
        skipped = {m.id for m in todo if not in_sample("shadow", m.id, share)}
        left_out = {
            m.id: m._replace(
                verdicts=tuple(
                    Verdict(LLM, False, 0.0, outside) if v.method == LLM else v for v in m.verdicts
                )
            )
            for m in todo
            if m.id in skipped
        }
        todo = [m for m in todo if m.id not in skipped]
    else:
        left_out = {}
    data = _reader(repo, todo, config.classify.max_file_size)
    threshold = float(config.data["judge"]["threshold"])
    replaced: dict[str, Mismatch] = {}
    for m in todo:
        before, after = data(m.change.before), data(m.change.after)
        v = judge.judge(
            JudgeRequest(
                m.id, m.path, m.artifact_type, before, after, m.change.before, m.change.after
            )
        ).to_verdict(threshold)
        contents = None
        if before is not None and after is not None and m.artifact_type in _TEXTUAL:
            contents = (before, after)
        replaced[m.id] = _replanned(m, v, policy, config.classify, contents)
    notices = [*result.notices, *dropped]
    if judge.budget.exhausted:
        notices.append(f"llm_rubric: {judge.budget.exhausted}; later mismatches have no verdict")
    spent = judge.summary()
    replaced.update(left_out)
    return result.replaced(
        mismatches=[replaced.get(m.id, m) for m in result.mismatches],
        notices=notices,
        judges={
            LLM: {
                **{k: spent[k] for k in SPEND_KEYS},
                "asked": len(todo),
                "shadow_share": share,
            }
        },
    )


def attach_embedding_verdicts(
    repo: GitRepo, result: DiffResult, gated: frozenset[str] | None = None
) -> DiffResult:
    """Put an embedding-cosine verdict in place of the TF-IDF one core computed, and plan again.

    Raises :class:`UsageError` when the extra or the model is missing. A mismatch core could
    not compare as text keeps core's "not applicable" verdict; the model loads only when there
    is a pair to embed. The verdict may justify a plan only when ``cosine_similarity``'s gate
    is GO and bound to this backend and model package (``judge eval`` measures the configured
    backend, and the gate's identity names it: a gate measured on TF-IDF does not count here).
    ``gated``: the GO gates the caller trusts (a diff: those the trusted commit holds), else
    the working tree's.
    """
    from phase2_git.core import whitespace
    from phase2_git.core.classify import Pair
    from phase2_git.judges import embeddings

    embeddings.check_available()
    config = result.config
    todo = [m for m in result.mismatches if any(v.method == COSINE for v in m.verdicts)]
    data = _reader(repo, todo, config.classify.max_file_size)
    texts: list[tuple[Mismatch, bytes, bytes, tuple[str, str]]] = []
    for m in todo:
        before, after = data(m.change.before), data(m.change.after)
        if before is None or after is None or m.artifact_type not in _TEXTUAL:
            continue
        pair = Pair.of(before, after, m.artifact_type, rules=whitespace.DEFAULT)  # text only
        ta, tb = pair.before.text, pair.after.text
        if ta is not None and tb is not None:
            texts.append((m, before, after, (ta, tb)))
    if not texts:
        return result

    policy = config.policy._replace(
        gated_methods=config.policy.gated_methods | _go(repo, config, gated)
    )
    notices = list(result.notices)
    found = embeddings.verdicts([t for _, _, _, t in texts], config.methods.cosine_threshold)
    replaced = {
        m.id: _replanned(m, v, policy, config.classify, (before, after))
        for (m, before, after, _), v in zip(texts, found)
    }
    return result.replaced(
        mismatches=[replaced.get(m.id, m) for m in result.mismatches], notices=notices
    )
