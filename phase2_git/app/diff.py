"""The main job: find, classify, judge and plan every artifact mismatch between two sides."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from phase2_git.app.diff_result import DiffReport, DiffResult
from phase2_git.core.artifacts import ArtifactFilter, pathspec_filter, shard_of
from phase2_git.core.methods import METHODS
from phase2_git.core.model import Change, Mismatch, is_noise
from phase2_git.core.pipeline import PairCheck, Settings, build_mismatch
from phase2_git.core.summary import Tally
from phase2_git.git.blobs import read_blobs
from phase2_git.git.changes import iter_changed_files
from phase2_git.git.repo import GitRepo, quote_for_message
from phase2_git.git.sides import Side, resolve_side
from phase2_git.store.config import Config

if TYPE_CHECKING:
    import threading

    from phase2_git.app.sources import Sources
    from phase2_git.core.trust import TrustPolicy
    from phase2_git.store.decisions import LogLine


# a run with fewer changes stays in one process (forking workers costs a few milliseconds),
PARALLEL_FROM = 1000
# unless its pairs hold this many bytes together (asked of git, one `cat-file --batch-check`,
# when there are at least PARALLEL_SOME of them): classified at some 30 MB/s, about 0.13 s of
# work. Measured on two CPUs, mledoze/countries HEAD~300..HEAD (786 changes, 27 MB, its
# regenerated dist/ and data/ files): 1.18 s in one process, 0.85 s with two workers
PARALLEL_BYTES = 4 << 20
PARALLEL_SOME = 4
# and then with at least two workers, also where there are only two CPUs: this process reads,
# reports and waits while they build. Measured on two CPUs (bench/, repositories packed as a
# clone packs them, medians of alternating runs, none against two workers): diff 20k/5k 0.61
# against 0.54 s, 20k with 1k mixed 0.77 against 0.63 s, 100k 2.71 against 2.26 s, 3,000
# changes 0.39 against 0.37 s; the hook on 3,000 staged files 0.334 against 0.346 s (its JSON
# syntax check then stayed in this process; it runs in the workers since, as a PairCheck). One
# worker won less than half of that (0.59 and 0.75 s).
LEAST_WORKERS = 2


class _Job:
    """What a diff needs before the first blob is read: both sides, the filtered changes, the
    methods and the settings (gate notices included)."""

    __slots__ = (
        "base",
        "changes",
        "config",
        "config_changes",
        "gated",
        "head",
        "judges",
        "notices",
        "repo",
        "selected",
        "settings",
        "shard",
        "statistical",
        "trust",
        "trust_table",
    )

    def __init__(
        self,
        repo: GitRepo,
        base: str,
        head: str,
        config: Config,
        methods: Sequence[str] | None,
        shard: tuple[int, int] | None,
        paths: Sequence[str],
        sources: Sources | None = None,
        pathspecs: Sequence[str] = (),
        generated: Mapping[str, bool] | None = None,
    ) -> None:
        self.repo = repo
        self.config = config
        self.shard = shard
        only = set(paths)
        spec = pathspec_filter(pathspecs)

        def wanted(path: str, old_path: str | None = None) -> bool:
            return (
                (not only or path in only or (old_path is not None and old_path in only))
                and (spec is None or spec(path) or (old_path is not None and spec(old_path)))
                and (shard is None or shard_of(path, shard[1]) == shard[0])
            )

        self.notices: list[str] = []
        self.config_changes: tuple[Mismatch, ...] = ()
        self.judges: tuple[tuple[str, Mapping[str, Any]], ...] = ()
        self.trust_table: Mapping[str, Any] | bool | None = False  # False: not read yet
        if sources is not None:
            self.base, self.head = sources.base, sources.head
            self.notices.extend(sources.notices)
            # the configuration files a head changes are reviewed as real changes
            self.config_changes = tuple(m for m in sources.config_changes if wanted(m.path))
            self.judges = sources.judges
            self.trust = sources.trust or self.base
            if sources.trust is not None:
                self.trust_table = sources.trust_table  # False: read when needed
        else:
            self.base = resolve_side(repo, base)
            self.head = resolve_side(repo, head)
            self.trust = self.base
        self.selected = tuple(methods) if methods else config.methods.enabled
        self.statistical = any(not METHODS[name].deterministic for name in self.selected)
        keep = ArtifactFilter(config.include, config.exclude, config.hand_written, generated)
        held = {m.path for m in self.config_changes}
        # in path order (changed_files'), so the mismatches come out in report order; taken
        # one at a time by read_blobs (git runs now)
        attributes = config.linguist_generated and generated is None
        reading = None
        few: list[Change] | None = None
        if attributes and self.base.kind == "commit" and self.head.kind == "commit":
            # the trust side's .gitattributes files are listed while git diffs the two sides
            # (two git processes, two cores: 15 ms of a 20,000-artifact diff's start); the
            # working tree's are asked only when the paths are known
            import threading

            from phase2_git.git.background import Background

            stop = threading.Event()
            reading = Background(lambda: _attribute_reader(self, stop=stop))
        try:
            changes = iter_changed_files(repo, self.base, self.head)
            if reading is not None:
                # a few changes (a pull request's, in a large repository): the listing of the
                # whole tree is stopped, and only their folders' files are listed, by name
                from itertools import chain, islice

                first = list(islice(changes, _FEW_CHANGES))
                if len(first) < _FEW_CHANGES:
                    stop.set()
                    few = first
                changes = chain(first, changes)
        finally:
            if reading is not None:
                reading.join()  # no thread outlives this: the workers fork later
        kept = None
        if attributes:
            if few is not None:
                read = _attribute_reader(self, paths=[c.path for c in few])
            else:
                read = reading.result() if reading is not None else _attribute_reader(self)
            kept = _attributes(changes, keep, read)
        if kept is None:
            kept = (c for c in changes if keep(c.path))
        self.changes: Iterator[Change] = (
            c for c in kept if c.path not in held and wanted(c.path, c.old_path)
        )
        policy = config.policy
        self.gated: frozenset[str] = frozenset()
        if self.statistical:
            # a statistical judge may justify safe plans only while its calibration gate is GO
            # and the trusted commit holds that very gate
            from phase2_git.store.gate import gated_methods

            go = _gates_unchanged(repo, self.trust, gated_methods(repo.root, config), self.notices)
            self.gated = go
            if go:
                policy = policy._replace(gated_methods=policy.gated_methods | go)
        msettings = config.methods
        if "cosine_similarity" in self.selected:
            # the model `judge eval --calibrate` learned, read from disk here (core does no I/O)
            from phase2_git.app.judge_model import method_settings

            msettings = method_settings(config, repo.root, self.selected)
        self.settings = Settings(config.classify, msettings, policy)

    def external(self) -> bool:
        """Whether a judge outside core runs: it needs every mismatch at once."""
        if not self.statistical:
            return False  # every judge outside core is a statistical method
        from phase2_git.app import external

        return external.selected(self.config, self.selected)

    def mismatches(
        self,
        beside: Callable[[], None] | None = None,
        check: PairCheck | None = None,
    ) -> Iterator[Mismatch]:
        """One mismatch per change, in path order; each pair of contents is dropped as soon
        as its mismatch is made. ``beside`` is called once, as soon as this process may run
        threads beside the classification: once the workers are forked, or before a serial
        run reads its first pair (:func:`run_diff`)."""
        max_size = self.config.classify.max_file_size
        # the index's blobs are most often the work tree's files (the hook): read there
        worktree = self.head.kind == "index"
        settings = self.settings
        if check is not None and check.strips:
            settings = settings._replace(strips=True)
        # the index or the working tree: line endings git normalised there are git's, not
        # noise (app/normalized.py), told where each pair is read
        made: set[str] | None = None
        if self.head.kind in ("index", "worktree"):
            from phase2_git.app.normalized import told

            made = set()
            check = told(check, made)

        def built() -> Iterator[Mismatch]:
            # a large run classifies on more than one core (app/workers.py); the few files
            # of a commit never import it
            from itertools import chain, islice

            first = list(islice(self.changes, PARALLEL_FROM))
            changes: Iterator[Change] = chain(first, self.changes)
            sizes = None if len(first) == PARALLEL_FROM else self._heavy(first, max_size)
            if len(first) == PARALLEL_FROM or sizes is not None:
                from phase2_git.app import forking

                n = forking.count(least=LEAST_WORKERS)
                if n:
                    from phase2_git.app import workers

                    yield from workers.build_all(
                        self.repo,
                        changes,
                        settings,
                        self.selected,
                        max_size=max_size,
                        workers=n,
                        worktree=worktree,
                        beside=beside,
                        check=check,
                        sizes=sizes,
                    )
                    return
            if beside is not None:
                beside()
            pairs = read_blobs(self.repo, changes, max_size=max_size, worktree=worktree)
            for change, before, after in pairs:
                m = build_mismatch(change, before, after, settings, self.selected)
                if check is not None:
                    check.answer(change, check.ask(m, before, after))
                yield m

        out = built()
        if made is not None:
            from phase2_git.app.normalized import marked

            out = marked(self.repo, out, made)
        if not self.config_changes:
            yield from out
            return
        import heapq

        yield from heapq.merge(self.config_changes, out, key=lambda m: m.path)

    def _heavy(self, changes: list[Change], max_size: int) -> dict[str, int] | None:
        """The bytes of each change's pair (by path) when there are fewer changes than
        :data:`PARALLEL_FROM` but they hold :data:`PARALLEL_BYTES` or more together, else
        None. Between commits git is asked (never in a partial clone: git would fetch what it
        does not have); the hook, whose new sides are the work tree's files, counts twice
        their size instead (a git process was 5% of a hook run on 13 files)."""
        if len(changes) < PARALLEL_SOME:
            return None
        if self.head.kind == "index":
            sizes = _worktree_sizes(str(self.repo.root), changes, max_size)
        else:
            from phase2_git.git.blobs import content_sizes, promisor_remote

            if promisor_remote(self.repo) is not None:
                return None
            sizes = content_sizes(self.repo, changes, max_size)
        return sizes if sum(sizes.values()) >= PARALLEL_BYTES else None

    def result(
        self,
        beside: Callable[[], None] | None = None,
        check: PairCheck | None = None,
    ) -> DiffResult:
        """Every mismatch at once, sorted by path (for callers that want the list)."""
        mismatches = list(self.mismatches(beside, check))
        mismatches.sort(key=lambda m: m.path)
        return DiffResult(
            self.base, self.head, self.config, self.selected, mismatches, self.shard, self.notices
        )

    def judged(self, result: DiffResult) -> DiffResult:
        """``result`` with the verdicts of the external judges selected, if any."""
        if not self.statistical:
            # no judge outside core can be selected (they are all statistical methods): the
            # hook's default methods never import app.external
            return result
        from phase2_git.app import external

        return external.judged(self.repo, result, trusted=self.judges, gated=self.gated)

    def trust_policy(self) -> TrustPolicy | None:
        """The ``[trust]`` table of the trust side (``--trust-from``'s commit, else the base)."""
        if self.trust_table is False:
            return base_trust(self.repo, self.trust, self.config)
        from phase2_git.core.trust import TrustPolicy

        table = self.trust_table
        return TrustPolicy.from_table(table) if isinstance(table, Mapping) else None


# changes whose linguist-generated attribute is read by one git check-attr: a batch is held
# (some 2 MiB), not the whole run's changes (11 MiB at 25,000)
_ATTRIBUTE_BATCH = 4096
# fewer changes than this between two commits: the attributes of their folders are read by
# name rather than from the whole tree's listing (git/attributes.py: reader)
_FEW_CHANGES = 256


def _worktree_sizes(root: str, changes: Sequence[Change], max_size: int) -> dict[str, int]:
    """Twice the size of each change's work-tree file (by path): the pair's bytes, guessed
    from the one side at hand (0 for a file that is missing, not a regular file, or over
    ``max_size``: compared by id alone)."""
    import os
    import stat

    out: dict[str, int] = {}
    for c in changes:
        try:
            st = os.lstat(f"{root}/{c.path}")
        except (OSError, ValueError):
            out[c.path] = 0
            continue
        fits = stat.S_ISREG(st.st_mode) and st.st_size <= max_size
        out[c.path] = 2 * st.st_size if fits else 0
    return out


def _attribute_reader(
    job: _Job, *, paths: Sequence[str] | None = None, stop: threading.Event | None = None
) -> Callable[[list[str]], dict[str, bool]] | None:
    """What reads the ``linguist-generated`` attribute: from the trust side's commit when
    both sides are commits (a pull request's own ``.gitattributes`` lines decide nothing),
    else from the working tree. None when the trusted .gitattributes never name it.
    ``paths`` and ``stop`` as :func:`phase2_git.git.attributes.reader` takes them."""
    from phase2_git.git.attributes import reader

    both = job.base.kind == "commit" and job.head.kind == "commit"
    return reader(job.repo, job.trust.commit if both else None, paths=paths, stop=stop)


def _attributes(
    changes: Iterator[Change],
    keep: ArtifactFilter,
    read: Callable[[list[str]], dict[str, bool]] | None,
) -> Iterator[Change] | None:
    """The changes ``keep`` keeps once the ``linguist-generated`` attribute of their paths is
    known (``read``: :func:`_attribute_reader`), read a batch at a time. None when there is
    no reader (``keep`` alone decides)."""
    if read is None:
        return None
    from itertools import islice

    def kept() -> Iterator[Change]:
        while batch := list(islice(changes, _ATTRIBUTE_BATCH)):
            marks = keep.with_generated(read([c.path for c in batch if keep.candidate(c.path)]))
            yield from (c for c in batch if marks(c.path))

    return kept()


def _approved(job: _Job, mismatches: Iterable[Mismatch], notices: list[str]) -> Iterator[Mismatch]:
    """Each mismatch with the decision bound to it, if any (an approval, or a rejection of its
    plan); the trust notices are appended to ``notices`` once the last one has gone by. The
    decision log is read when the first mismatch comes by (a rejected noise plan must show as
    rejected); the trust model only when a real change does (a run of noise has no use for it,
    and a rejection needs no trust)."""
    decisions: dict[str, Mapping[str, Any]] | None = None
    trusting = False
    trust_policy: TrustPolicy | None = None
    judge: Callable[[Mapping[str, Any]], tuple[bool, str]] | None = None
    given: list[dict[str, object]] = []
    untrusted: list[str] = []
    repeats: list[str] = []
    data = b""
    lines: Sequence[LogLine] = ()
    for m in mismatches:
        if decisions is None:
            # the log: imported only when a run asks for decisions (the hook without
            # --require-decision never does)
            from phase2_git.core.approvals import attach, current_decisions, repeat_notices
            from phase2_git.core.trust import notices as trust_notices
            from phase2_git.store.decisions import LOG_FILE, parse_lines

            data = side_log(job.repo, job.head)
            lines = parse_lines(data, LOG_FILE)
            decisions = current_decisions(line.event for line in lines)
        if not trusting and not is_noise(m.mismatch_type):
            trusting = True
            trust_policy = job.trust_policy()
            known = mismatches if isinstance(mismatches, Sequence) else None
            judge, repeated = _line_judge(
                job.repo, job.base, job.head, trust_policy, data, lines, decisions, known
            )
            repeats = repeat_notices(
                repeated, {line.lineno: line.event["id"] for line in lines}, LOG_FILE
            )
            rewritten = _log_rewritten(job.repo, job.base, job.head, data)
            if rewritten is not None:
                repeats.append(rewritten)
                judge = _void(rewritten)
        event = decisions.get(m.id)
        if event is not None:
            # attach() binds the one decision that holds for this mismatch, or none
            (m,) = attach([m], [event], judge) if judge else attach([m], [event])
            if m.decision and m.decision["decision"] == "approve":
                # verified: a [trust] table checked the committer and their signature; without
                # one, or under require_signed = false, an approval counts unverified
                checked = trust_policy is not None and trust_policy.require_signed
                decision = {**m.decision, "verified": bool(m.decision["trusted"]) and checked}
                m = m._replace(decision=decision)
                given.append(decision)
                if not decision["trusted"]:
                    untrusted.append(
                        f"untrusted approval of {quote_for_message(m.path)}: {decision['why']}"
                    )
        yield m
    if trusting:
        notices.extend(repeats)
        notices.extend(trust_notices(trust_policy, given))
        notices.extend(untrusted)


def run_diff(
    repo: GitRepo,
    base: str,
    head: str,
    *,
    config: Config,
    methods: Sequence[str] | None = None,
    shard: tuple[int, int] | None = None,
    paths: Sequence[str] = (),
    approvals: bool = True,
    sources: Sources | None = None,
    pathspecs: Sequence[str] = (),
    generated: Mapping[str, bool] | None = None,
    beside: Callable[[], None] | None = None,
    check: PairCheck | None = None,
) -> DiffResult:
    """Compare two sides (commit-ish, ``:index`` or ``:worktree``) of ``repo``.

    ``approvals=False`` skips reading the decision log and the trust model (the hook, unless
    it must require decisions, has no use for them).
    ``check`` (:class:`PairCheck`) asks a question of every pair where it is read, and hands
    its answers here: the hook checks JSON syntax, resolve keeps the base sides it writes
    back, neither reading the blobs a second time.
    ``sources`` (:func:`phase2_git.app.sources.choose`, whose ``config`` must be ``config``)
    says where trust, judge and gates come from and which configuration files the head
    changes; without it they come from the base side and no configuration change is listed.
    ``paths`` are exact paths to compare; ``pathspecs`` globs (:func:`pathspec_filter`): a
    change is compared when it passes both (and the configured globs).
    ``generated``: the ``linguist-generated`` attribute of ``paths``, when the caller read it
    already (else it is read here, once).
    ``beside``: called once, when the caller may start a thread of its own (a fork copies
    only the thread that forks, so the workers are started with no other thread alive):
    once the workers are forked, or before a serial run reads its first pair."""
    job = _Job(repo, base, head, config, methods, shard, paths, sources, pathspecs, generated)
    result = job.judged(job.result(beside, check))
    if approvals:
        # approvals attach to the judged list (the external judges above replace mismatches)
        result.mismatches = list(_approved(job, result.mismatches, result.notices))
    return result


# mismatches encoded together: the encoder's work in one burst, not interleaved with the
# classification's, took 4% less of a 20,000-artifact run; 64 of them are about 100 KiB
_ENCODE_BATCH = 64


def stream_diff(
    repo: GitRepo,
    base: str,
    head: str,
    *,
    config: Config,
    methods: Sequence[str] | None = None,
    shard: tuple[int, int] | None = None,
    sources: Sources | None = None,
    pathspecs: Sequence[str] = (),
    on_json: Callable[[dict[str, Any]], None] | None = None,
    ready: Callable[[], None] | None = None,
) -> DiffReport:
    """:func:`run_diff` for a report: the same document, with flat memory.

    Each mismatch is counted and encoded into a :class:`MismatchSpool` as soon as it is
    classified and then dropped, with its contents; the report holds the counts and the
    spool. Only an external judge (:mod:`phase2_git.app.external`), which needs every
    mismatch at once, makes the run hold them all first, as :func:`run_diff` does.
    ``on_json`` sees each mismatch's document as it is encoded (the text table's widths).
    ``ready()`` is called once the changes are listed, before any pair is read (a caller's
    thread ends there: no thread may run when the workers fork)."""
    from phase2_git.reports.jsonout import MismatchSpool

    job = _Job(repo, base, head, config, methods, shard, (), sources, pathspecs)
    if ready is not None:
        ready()
    notices = job.notices
    judges: dict[str, dict[str, object]] = {}
    found: Iterable[Mismatch]
    if job.external():
        result = job.judged(job.result())
        notices, judges = result.notices, result.judges
        found = result.mismatches
    else:
        found = job.mismatches()
    tally = Tally()
    spool = MismatchSpool()
    batch: list[Mismatch] = []
    try:
        for m in _approved(job, found, notices):
            tally.add(m)
            batch.append(m)
            if len(batch) == _ENCODE_BATCH:
                spool.add_lines(_lines(batch, on_json))
                batch.clear()
        spool.add_lines(_lines(batch, on_json))
    except BaseException:
        spool.close()
        raise
    return DiffReport(
        job.base, job.head, config, job.selected, spool, tally, shard, notices, judges
    )


def _lines(
    batch: Sequence[Mismatch], on_json: Callable[[dict[str, Any]], None] | None
) -> list[str]:
    from phase2_git.reports.jsonout import encode_mismatch

    if on_json is not None:
        for m in batch:
            on_json(m.to_json())
    return [encode_mismatch(m) for m in batch]


def base_table(repo: GitRepo, base: Side, key: str) -> dict[str, Any] | None:
    """One table of the configuration as the BASE commit has it (validated), or None."""
    from phase2_git.app.sources import read_commit_config
    from phase2_git.store import schemas

    if base.commit is None:
        return None
    found = read_commit_config(repo, base)
    if found.path is None:
        return None
    schemas.check(found.table, "Config.v1", found.source)
    table = found.table.get(key)
    return dict(table) if table is not None else None


def base_trust(repo: GitRepo, base: Side, config: Config) -> TrustPolicy | None:
    """The ``[trust]`` table of the BASE side: a pull request cannot vouch for itself."""
    from phase2_git.core.trust import TrustPolicy

    if base.kind != "commit":
        table = config.data.get("trust")
        return TrustPolicy.from_table(table) if table is not None else None
    trust = base_table(repo, base, "trust")
    return TrustPolicy.from_table(trust) if trust is not None else None


def _gates_unchanged(
    repo: GitRepo, base: Side, go: frozenset[str], notices: list[str]
) -> frozenset[str]:
    """A GO gate counts only as the base commit has it: a pull request could commit one."""
    if not go or base.kind != "commit":
        return go
    from phase2_git.git.objects import read_blob, tree_entry
    from phase2_git.store.gate import gate_path

    kept = set()
    for method in sorted(go):
        path = gate_path(repo.root, method)
        rel = path.relative_to(repo.root).as_posix()
        entry = tree_entry(repo, base.commit, rel) if base.commit else None
        try:
            same = entry is not None and read_blob(repo, entry[1]) == path.read_bytes()
        except OSError:
            same = False
        if same:
            kept.add(method)
        else:
            notices.append(f"gate for {method} differs from the base side's: not trusted")
    return frozenset(kept)


def _log_rewritten(repo: GitRepo, base: Side, head: Side, data: bytes) -> str | None:
    """Why the head side's decision log cannot be trusted as append-only, or None.

    Every commit between the sides may only add lines (git/history.py ``log_rewrite``); an
    index or working-tree head must keep the committed log as its start."""
    from phase2_git.git.history import log_rewrite
    from phase2_git.git.sides import resolve_side

    tip = head.commit if head.kind == "commit" else resolve_side(repo, "HEAD").commit
    if tip is None:
        return None
    where = log_rewrite(repo, base.commit if base.kind == "commit" else None, tip)
    if where is not None:
        return (
            f"the decision log was rewritten in commit {where[:12]} (lines removed or changed; "
            "it is append-only): no approval on the head side counts"
        )
    if head.kind != "commit" and not data.startswith(side_log(repo, resolve_side(repo, "HEAD"))):
        return (
            f"the decision log on {head.label} does not keep the committed lines (lines removed "
            "or changed; it is append-only): no approval on the head side counts"
        )
    return None


def _void(why: str) -> Callable[[Mapping[str, Any]], tuple[bool, str]]:
    def judge(_: Mapping[str, Any]) -> tuple[bool, str]:
        return False, why

    return judge


def _line_judge(
    repo: GitRepo,
    base: Side,
    head: Side,
    policy: TrustPolicy | None,
    data: bytes,
    lines: Sequence[LogLine],
    decisions: Mapping[str, Mapping[str, Any]],
    known: Sequence[Mismatch] | None = None,
) -> tuple[Callable[[Mapping[str, Any]], tuple[bool, str]] | None, dict[int, int]]:
    """The verdict on each approval line, and the log's repeated ids (line -> first line).

    A line whose id an earlier line holds is void, trust table or not. Otherwise, under a
    ``[trust]`` table, the line's exact bytes are traced to the commit that introduced them
    (never its id: any line can claim one). The lines that can bind to a mismatch of this
    run (``known``, the whole list when the caller holds it) are traced in one history walk
    when the first verdict is asked for."""
    from phase2_git.core.approvals import repeated_ids, void_reason

    repeated = repeated_ids((line.lineno, line.event["id"]) for line in lines)
    holder: dict[str, LogLine] = {}
    for held in lines:
        holder.setdefault(held.event["id"], held)

    def own_line(event: Mapping[str, Any]) -> LogLine | None:
        line = holder.get(event["id"])
        return line if line is not None and line.event is event else None

    if policy is None:
        if not repeated:
            return None, repeated

        def unverified(event: Mapping[str, Any]) -> tuple[bool, str]:
            if own_line(event) is None:
                return False, void_reason(event["id"], holder[event["id"]].lineno)
            return True, (
                "no [trust] table on the trust side (the base, or --trust-from): "
                "approvals count unverified"
            )

        return unverified, repeated

    from phase2_git.core.trust import CommitFacts, verdict
    from phase2_git.git.commit import tree_entries
    from phase2_git.git.history import commit_facts, line_origins
    from phase2_git.git.sides import resolve_side

    tip = head.commit if head.kind == "commit" else resolve_side(repo, "HEAD").commit
    signers = policy.allowed_signers()
    approvals: dict[int, Mapping[str, Any]] = {}
    for event in decisions.values():
        line = own_line(event)
        if event["decision"] == "approve" and line is not None:
            approvals[line.lineno] = event
    # an approval binds only to its exact blobs: every other line needs no tracing (the
    # oldest lines cost a walk of the whole history)
    if known is not None:
        sides = {(m.path, m.change.before, m.change.after) for m in known}
        approvals = {
            n: e
            for n, e in approvals.items()
            if (e["path"], e["hashes"]["before"], e["hashes"]["after"]) in sides
        }
    elif approvals:
        # streaming: the side that is a commit tells, in one listing, which blobs can bind
        for side, key in ((head, "after"), (base, "before")):
            if side.kind == "commit" and side.commit is not None:
                paths = sorted({e["path"] for e in approvals.values()})
                now = tree_entries(repo, side.commit, paths)
                approvals = {
                    n: e for n, e in approvals.items() if now.get(e["path"]) == e["hashes"][key]
                }
                break
    # the exact bytes of those lines only, not a second copy of the whole log
    texts = {
        n: text.removesuffix(b"\r")
        for n, text in enumerate(data.split(b"\n"), start=1)
        if n in approvals
    }
    origins: dict[bytes, str | None] = {}
    traced: set[bytes] = set()
    facts: dict[str, CommitFacts] = {}

    def origin_of(text: bytes) -> str | None:
        if text not in traced:
            # the first verdict traces every line that may be asked for, in one walk
            batch = {text} | (set(texts.values()) if not traced else set())
            origins.update(line_origins(repo, tip, batch) if tip else {})
            traced.update(batch)
        return origins.get(text)

    def judge(event: Mapping[str, Any]) -> tuple[bool, str]:
        line = own_line(event)
        if line is None:
            return False, void_reason(event["id"], holder[event["id"]].lineno)
        text = texts.get(line.lineno)
        if text is None:
            # a line no filter foresaw (never on a hot path)
            text = data.split(b"\n")[line.lineno - 1].removesuffix(b"\r")
        origin = origin_of(text)
        if origin is None:
            if text in origins:
                return False, "history traces the approval line to another file, not this log"
            return verdict(policy, CommitFacts(None))
        if origin not in facts:
            facts[origin] = commit_facts(repo, origin, signers)
        return verdict(policy, facts[origin])

    return judge, repeated


def side_log(repo: GitRepo, side: Side) -> bytes:
    """The decision log as it is on a side: committed, staged, or in the working tree."""
    from phase2_git.git.objects import read_blob, tree_entry
    from phase2_git.store.decisions import LOG_FILE, DecisionLog

    if side.kind == "worktree":
        return DecisionLog(repo.root).read_bytes()
    if side.kind == "index":
        from phase2_git.git.commit import index_entries

        entry = index_entries(repo, [LOG_FILE]).get(LOG_FILE)
        return read_blob(repo, entry.oid) if entry is not None else b""
    if side.commit is None:
        return b""
    found = tree_entry(repo, side.commit, LOG_FILE)
    return read_blob(repo, found[1]) if found is not None else b""
