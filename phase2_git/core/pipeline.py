"""One mismatch from one change: classify, judge, plan. Pure: bytes in, values out."""

# no `from __future__ import annotations`: NamedTuple fields stay cheap (see core/model.py)

import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple

from phase2_git.core.classify import (
    Pair,
    classify,
    detect_artifact_type,
    tolerance,
    whitespace_rules,
)
from phase2_git.core.gcpause import paused_when_large
from phase2_git.core.ids import mismatch_id
from phase2_git.core.methods import MethodInput, run_methods
from phase2_git.core.model import Blob, Change, Changes, Mismatch, Plan, Verdict
from phase2_git.core.policy import make_plan
from phase2_git.core.settings import ClassifySettings, MethodSettings, PolicySettings


class PairCheck:
    """A question asked of every pair of contents where the pair is read: by a worker of a
    large diff, or by the diff's own process in a serial one (``run_diff``'s ``check``).
    ``ask(mismatch, before, after)`` is asked once the pair's mismatch is built, in the process
    that read the pair (each worker asks its own copy: what it keeps is its own), and its
    answer must be picklable; ``answer(change, value)`` receives each answer in the diff's
    process, in the diff's order, before that change's mismatch comes out. A large diff's
    pairs never reach its process: what it needs of them is an answer (the hook's JSON syntax
    check, the base sides resolve writes back). ``strips``: ``ask`` runs the first step
    (strip_noise) of the mixed files it is given (:attr:`Settings.strips`)."""

    __slots__ = ("answer", "ask", "strips")

    def __init__(
        self,
        ask: Callable[[Mismatch, Blob | None, Blob | None], object],
        answer: Callable[[Change, object], None],
        *,
        strips: bool = False,
    ) -> None:
        self.ask = ask
        self.answer = answer
        self.strips = strips


class Settings(NamedTuple):
    classify: ClassifySettings
    methods: MethodSettings
    policy: PolicySettings
    # the caller strips the mixed files where it reads them, right after their mismatch is
    # built (resolve --yes, check --fix): their analysis keeps the strip it walks anyway
    # (changes.analyse_json's keep_strip)
    strips: bool = False


def build_mismatch(
    change: Change,
    before: Blob | None,
    after: Blob | None,
    settings: Settings,
    methods: Sequence[str],
) -> Mismatch:
    """The mismatch of one change, its pair's contents read (None: a side it does not have).

    For a large pair the cyclic garbage collector is paused meanwhile
    (:mod:`phase2_git.core.gcpause`): its two documents and the walks over them are trees of
    containers with no cycle among them, all freed by reference counting before this
    returns. With the collector on, a 19 MB JSON file with one number changed took 3.0 s,
    two thirds of it in collections that walked both documents again and again; paused,
    0.96 s. A small pair (most of a diff) is built as it is: its collections are few and
    short, and pausing cost more than it saved."""
    # the objects' sizes (one over max_file_size is not read: pausing for it costs nothing)
    size = (0 if before is None else before.size) + (0 if after is None else after.size)
    return paused_when_large(size, _build, change, before, after, settings, methods)


def _build(
    change: Change,
    before: Blob | None,
    after: Blob | None,
    settings: Settings,
    methods: Sequence[str],
) -> Mismatch:
    mid = mismatch_id(change.path, change.before, change.after)
    art = detect_artifact_type(change.path, before, after, settings.classify)
    pair: Pair | None = None
    contents: tuple[bytes, bytes] | None = None
    if (
        before is not None
        and after is not None
        and before.data is not None
        and after.data is not None
        and art in ("json", "jsonc", "text")
    ):
        rules = whitespace_rules(change.path, settings.classify)
        pair = Pair.of(
            before.data, after.data, art, rules=rules, tolerance=tolerance(settings.classify)
        )
        contents = (before.data, after.data)
    cls = classify(change, before, after, settings.classify, artifact_type=art, pair=pair)
    verdicts: tuple[Verdict, ...] = ()
    if before is not None and after is not None:
        # the same few details and reasons recur across thousands of mismatches: share one
        # copy of each (a large run holds every mismatch until its report is written)
        verdicts = tuple(
            map(
                _interned,
                run_methods(
                    methods, MethodInput(before, after, pair, settings.classify, settings.methods)
                ),
            )
        )
    changes = None
    structured = False
    if cls.mismatch_type == "content" and pair is not None:
        changes = real_changes(pair, settings.classify, keep_strip=settings.strips)
        structured = pair.is_json and pair.both_json() is not None
    plan, resolved = make_plan(
        mid,
        cls,
        verdicts,
        settings.policy,
        settings.classify,
        contents,
        path=change.path,
        changes=changes,
        structured=structured,
    )
    reason = sys.intern(plan.reason)
    if reason is not plan.reason:
        # not _replace, which maps every field through a dict of keywords (with the verdicts'
        # details, 14,000 calls a 20k diff); _make checks the number of fields as it does
        plan = Plan._make((*plan[:_REASON], reason, *plan[_REASON + 1 :]))
    m = Mismatch(
        id=mid,
        change=change,
        artifact_type=cls.artifact_type,
        mismatch_type=cls.mismatch_type,
        detail=sys.intern(cls.detail),
        verdicts=verdicts,
        plan=plan,
        resolved=resolved,
        changes=changes,
    )
    if settings.strips and changes is not None and changes.mixed and not m.strips_safely:
        # its strip will not run (the policy does not call it safe): what its analysis kept
        # (both sides and the stripped head) is dropped now, not held beside the next pair
        from phase2_git.core.changes import forget_kept_strip

        forget_kept_strip()
    return m


_REASON = Plan._fields.index("reason")


def _interned(v: Verdict) -> Verdict:
    detail = sys.intern(v.detail)
    return v if detail is v.detail else Verdict(v.method, v.equivalent, v.score, detail)


def real_changes(
    pair: Pair, settings: ClassifySettings, *, keep_strip: bool = False
) -> Changes | None:
    """What really changed in a ``content`` pair, and the noise beside it: as JSON documents
    when both sides parse, else line by line when both are UTF-8 (None otherwise). Only
    content mismatches pay for it: noise-only and identical files never come here. JSONC
    whose sides both parse is analysed as documents too (``analyse_json``'s ``jsonc``), and
    never stripped. ``keep_strip``: :attr:`Settings.strips` (only a JSON artifact is
    stripped)."""
    from phase2_git.core import changes

    # both_json: the JSONC documents of a JSONC artifact
    docs = pair.both_json() if pair.is_json or pair.is_jsonc else None
    if docs is not None:
        scans = None
        if pair.is_jsonc:
            a, b = pair.before.jsonc, pair.after.jsonc
            assert a is not None and b is not None  # both parsed: both scanned
            scans = (a, b)
        found = changes.analyse_json(
            pair.before.data,
            pair.after.data,
            docs[0],
            docs[1],
            rel_tol=settings.rel_tol,
            abs_tol=settings.abs_tol,
            keep_strip=keep_strip,
            jsonc=scans,
        )
        if found is not None or scans is None:
            return found
    if pair.before.text is None or pair.after.text is None:
        return None
    return changes.analyse_text(pair.before.data, pair.after.data, pair.rules)
