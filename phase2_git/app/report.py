"""The commands that end in a report: ``phase2 diff`` and ``phase2 report merge``.

Each checks its options, builds the ``Phase2Diff.v1`` document, writes the CI outputs
(:func:`phase2_git.app.merge.write_ci_outputs`) and prints the document in the format asked
for; the exit code is the document's. ``report merge`` validates its shards on a second core
while it merges and renders them (:func:`phase2_git.app.merge.merge_checked`). The engine's
imports wait inside the functions, on the clock of the run's duration, as they did in the
commands.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from phase2_git.app.merge import (
    CiOutputs,
    PreparedOutputs,
    merge_checked,
    prepare_ci_outputs,
    write_ci_outputs,
)
from phase2_git.errors import Phase2Error, UsageError
from phase2_git.reports.formats import render_document

if TYPE_CHECKING:
    from phase2_git.core.summary import FailOn
    from phase2_git.git.background import Background
    from phase2_git.git.repo import GitRepo

DIFF_FORMATS = ("text", "json", "markdown")
MERGE_FORMATS = ("json", "text", "markdown")


@dataclass(frozen=True)
class DiffOptions:
    base: str | None = None
    head: str | None = None
    staged: bool = False
    fmt: str | None = None
    methods: str | None = None
    fail_on: str | None = None
    ci: CiOutputs = field(default_factory=CiOutputs)
    shard: str | None = None
    config: str | None = None
    trust_from: str | None = None
    repo: str = "."
    color: bool = False
    pathspecs: tuple[str, ...] = ()  # globs after `--`: only the artifacts they match


def diff_main(opts: DiffOptions, out: IO[str]) -> int:
    """``phase2 diff``: find, classify, judge and plan every mismatch; report; exit code."""
    started = time.monotonic()
    if opts.staged and opts.head is not None:
        raise UsageError("--staged compares HEAD with :index; give no HEAD argument with it")
    b = opts.base or "HEAD"
    h = ":index" if opts.staged else (opts.head or ":worktree")
    warming = _warm_terminal(opts, out)
    try:
        return _diff(opts, out, b, h, warming, started)
    finally:
        if warming is not None:
            warming.join()  # no thread outlives the run


def _diff(
    opts: DiffOptions,
    out: IO[str],
    b: str,
    h: str,
    warming: Background[object] | None,
    started: float,
) -> int:
    from phase2_git.app.diff import stream_diff
    from phase2_git.app.sources import choose
    from phase2_git.core.artifacts import parse_shard
    from phase2_git.core.methods import parse_methods
    from phase2_git.core.summary import FAIL_ON
    from phase2_git.git.repo import GitRepo

    repo = GitRepo.discover(opts.repo)
    # on two commits the configuration is the trust side's: the head may be a stranger's
    sources = choose(repo, b, h, config_path=opts.config, trust_from=opts.trust_from)
    cfg = sources.config
    selected = parse_methods(opts.methods) if opts.methods is not None else None
    out_format = opts.fmt or cfg.data["reports"]["format"]
    if out_format not in DIFF_FORMATS:
        raise UsageError(f"--format must be one of {', '.join(DIFF_FORMATS)}, got '{out_format}'")
    rule = opts.fail_on or cfg.data["reports"]["fail_on"]
    if rule not in FAIL_ON:
        raise UsageError(f"--fail-on must be one of {', '.join(FAIL_ON)}, got '{rule}'")
    shard_kn = None
    if opts.shard is not None:
        try:
            shard_kn = parse_shard(opts.shard)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    measured = None
    if out_format == "text":
        # the table's first pass (column widths), made as the mismatches are encoded
        from phase2_git.reports.text import Widths

        measured = Widths()
    # streamed: the mismatches wait in a spool as encoded lines, never all as objects
    with stream_diff(
        repo,
        b,
        h,
        config=cfg,
        methods=selected,
        shard=shard_kn,
        sources=sources,
        pathspecs=opts.pathspecs,
        on_json=measured.add if measured is not None else None,
        # the import goes on while git lists the changes; it ends before the workers fork
        ready=warming.join if warming is not None else None,
    ) as result:
        doc = result.to_json(rule)
        write_ci_outputs(
            doc,
            opts.ci,
            repo=repo,
            duration=time.monotonic() - started,
            finished_at=time.time(),
            max_size=cfg.classify.max_file_size,
        )
        render_document(
            doc,
            out_format,
            out,
            base_spec=b,
            head_spec=h,
            config_source=cfg.source,
            color=opts.color,
            notices=result.notices,
            measured=measured,
        )
    code = doc["summary"]["exit_code"]  # type: ignore[index]
    return int(code)


def _warm_terminal(opts: DiffOptions, out: IO[str]) -> Background[object] | None:
    """A table for a terminal is written through rich's console (its escape codes, its
    width), a 15-25 ms import: made in a thread while git answers the first questions of the
    run (discovery, both sides, their configuration, the changed files), when the table will
    likely be one (the configuration may still ask for another format: the import is then
    spent for nothing). ``stream_diff`` joins it before any worker forks."""
    if opts.fmt not in (None, "text"):
        return None
    from phase2_git.reports.text import is_terminal  # the table's own test (imported for it)

    if not (opts.color or is_terminal(out)):
        return None
    import importlib

    from phase2_git.git.background import Background

    return Background(lambda: importlib.import_module("rich.console"))


@dataclass(frozen=True)
class MergeOptions:
    files: Sequence[str]
    fmt: str = "json"
    fail_on: str | None = None
    ci: CiOutputs = field(default_factory=CiOutputs)
    repo: str | None = None
    color: bool = False


def merge_main(opts: MergeOptions, out: IO[str]) -> int:
    """``phase2 report merge``: one report from the JSON outputs of sharded runs."""
    started = time.monotonic()
    from phase2_git.core.gcpause import gc_paused
    from phase2_git.core.summary import FAIL_ON

    if opts.fmt not in MERGE_FORMATS:
        raise UsageError(f"--format must be one of {', '.join(MERGE_FORMATS)}, got '{opts.fmt}'")
    if opts.fail_on is not None and opts.fail_on not in FAIL_ON:
        raise UsageError(f"--fail-on must be one of {', '.join(FAIL_ON)}, got '{opts.fail_on}'")
    # every shard's mismatches are held at once, as millions of small objects; they are freed
    # when _merge returns, before the collector is back (else its first pass walks them all)
    with gc_paused():
        return _merge(opts, opts.fail_on, out, started)


def _merge(opts: MergeOptions, fail_on: FailOn | None, out: IO[str], started: float) -> int:
    from phase2_git.git.repo import GitRepo

    def prepare(doc: dict[str, Any]) -> tuple[PreparedOutputs, list[str] | None]:
        # pure: no file, no git, no output (app.merge.merge_checked); the JSON document, the
        # default format, is the largest part. Kept in the pieces it is written in: joined, it
        # would be copied once more, and encoded for the stream in one 29 MB block
        from phase2_git.reports import jsonout

        pieces = list(jsonout.chunks(doc)) if opts.fmt == "json" else None
        return prepare_ci_outputs(doc, opts.ci), pieces

    doc, ready = merge_checked(opts.files, fail_on, prepare)
    prepared, pieces = ready if ready is not None else (None, None)
    repo: GitRepo | None = None
    if opts.repo is not None:
        repo = GitRepo.discover(opts.repo)
    else:
        try:
            repo = GitRepo.discover(".")
        except Phase2Error:
            repo = None  # merging outside a checkout: JUnit failures carry no excerpt
    write_ci_outputs(
        doc,
        opts.ci,
        repo=repo,
        duration=time.monotonic() - started,
        finished_at=time.time(),
        prepared=prepared,
    )
    if pieces is not None:
        for piece in pieces:  # what render_document writes for json (jsonout.write)
            out.write(piece)
    else:
        render_document(
            doc,
            opts.fmt,
            out,
            base_spec=doc["base"],
            head_spec=doc["head"],
            config_source=f"merged from {len(opts.files)} shard(s)",
            color=opts.color,
            notices=doc.get("notices", []),
        )
    return int(doc["summary"]["exit_code"])
