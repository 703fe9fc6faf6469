"""Classification on more than one core.

A large run hands its changes, in chunks, to forked worker processes; each reads the pairs of
contents through a ``git cat-file`` of its own (:class:`~phase2_git.git.blobs.BlobReader`) and
builds their mismatches (:func:`phase2_git.core.pipeline.build_mismatch`, pure: bytes in,
values out); the mismatches come back in order and this process reports them as a serial run
would. Classifying is most of a diff's time, and one core was all it had. A question about
every pair (:class:`~phase2_git.core.pipeline.PairCheck`: the hook's JSON syntax check, the
base sides resolve writes back) is asked there too. Where a partial clone must fetch the
missing objects first, this process reads the pairs through one stream and sends them on.

Workers are forked before any thread of this process starts (the cat-file feeder starts with
the first read), inherit the settings and ignore Ctrl-C (this process stops them): when the run
fails or is interrupted, the chunks not started are dropped and the workers exit once their
current one is done; one killed outright (the OOM killer) stops the run with exit 2. At most a
few chunks are in flight, so memory stays flat whatever the size of the run. ``PHASE2_WORKERS``
sets how many (0: none); fork is used only where it is the platform's safe default (Linux),
elsewhere a run stays serial (:func:`phase2_git.app.forking.count`, the policy ``report merge``
follows too).
"""

from __future__ import annotations

import io
import os
import pickle
import sys
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from phase2_git.core.methods import SHARED_VERDICTS
from phase2_git.core.model import Blob, Change, Mismatch
from phase2_git.core.pipeline import PairCheck, Settings, build_mismatch
from phase2_git.errors import Phase2Error
from phase2_git.git.blobs import BlobReader, promisor_remote, read_blobs
from phase2_git.git.repo import GitRepo

if TYPE_CHECKING:
    from concurrent.futures import Future

_CHUNK = 64  # pairs per task: a few hundred microseconds of work, about 100 KiB to send
# contents per task when their sizes are known (a run of fewer, larger files): 64 pairs of
# megabyte files would be one task for one worker, the other left idle
_CHUNK_BYTES = 1 << 19
_IN_FLIGHT = 4  # tasks queued per worker beyond the one whose result is awaited

# what a forked worker builds with: set in this process just before the fork
_TASK: tuple[Settings, tuple[str, ...]] | None = None
# the question a worker asks of every pair it reads (PairCheck.ask), set as _TASK
_ASK: Callable[[Mismatch, Blob | None, Blob | None], object] | None = None
# where a worker reads its own pairs (set before the fork, as _TASK), and the reader it opens
# on its first chunk
_SOURCE: tuple[GitRepo, int, bool] | None = None
_READER: BlobReader | None = None


# how often a worker looks whether the process that forked it is still there
_ORPHAN_POLL = 0.5


def _start_worker(parent: int) -> None:
    import signal
    import threading

    # Ctrl-C reaches the whole process group: the parent stops the workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    # the parent killed outright (SIGKILL, the OOM killer) never stops them: a worker waits
    # for a task, or to send a result, on pipes its siblings hold open, forever, with the
    # run's stdout and stderr (a hook or a CI step waiting on those waits with it). Each ends
    # itself once it has another parent; the standard library has no portable parent-death
    # signal (Linux's prctl needs ctypes).
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_ORPHAN_POLL)
        os._exit(1)

    threading.Thread(target=watch, name="phase2-orphan-watch", daemon=True).start()


def _build_changes(chunk: list[Change]) -> bytes:
    """:func:`_build` of the pairs of ``chunk``, read here by this worker's own cat-file."""
    global _READER
    if _READER is None:
        from multiprocessing.util import Finalize

        assert _SOURCE is not None
        repo, max_size, worktree = _SOURCE
        _READER = BlobReader(repo, max_size=max_size, worktree=worktree)
        Finalize(_READER, _READER.close, exitpriority=10)  # the worker's exit ends its git
    return _build(_READER.pairs(chunk))


def _build(chunk: Iterable[tuple[Change, Blob | None, Blob | None]]) -> bytes:
    assert _TASK is not None
    settings, selected = _TASK
    ask = _ASK
    built: list[Mismatch] = []
    answers: list[object] = []
    # each pair built as it is read (BlobReader.pairs): git writes the next ones meanwhile
    for c, before, after in chunk:
        m = build_mismatch(c, before, after, settings, selected)
        built.append(m)
        if ask is not None:
            answers.append(ask(m, before, after))
    out = io.BytesIO()
    _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(
        (built, answers if ask is not None else None)
    )
    return out.getvalue()


# the verdicts thousands of mismatches share cross the pipe as their index here, and come back
# as this process's own objects: unpickled, each mismatch would hold copies of its own (about
# 3 MiB more for the 5,000 mismatches a resolve holds, and their unpickling)
_SHARED = SHARED_VERDICTS
_SHARED_INDEX = {id(v): i for i, v in enumerate(_SHARED)}


def _shared(index: int) -> object:
    return _SHARED[index]


class _Pickler(pickle.Pickler):
    # reducer_override, not persistent_id: the pickler asks it only of objects that are not
    # plain str, int, tuple, list or dict, where persistent_id is a Python call for every
    # object. 5,000 mismatches pickle in 30 ms instead of 51, and the 20k diff ran 4% faster
    def reducer_override(self, obj: object) -> Any:
        index = _SHARED_INDEX.get(id(obj))
        return NotImplemented if index is None else (_shared, (index,))


def _loads(data: bytes, check: PairCheck | None) -> list[Mismatch]:
    built: list[Mismatch]
    answers: list[object] | None
    built, answers = pickle.loads(data)
    if check is not None and answers is not None:
        for m, value in zip(built, answers):
            check.answer(m.change, value)
    return built


def _chunks(source: Iterator[Any], sizes: Mapping[str, int] | None) -> Iterator[list[Any]]:
    """The tasks' lists: :data:`_CHUNK` items each, or (``sizes``: the changes' bytes by
    path) as many changes as hold :data:`_CHUNK_BYTES` together, at most :data:`_CHUNK`."""
    if sizes is None:
        while part := list(islice(source, _CHUNK)):
            yield part
        return
    chunk: list[Any] = []
    held = 0
    for change in source:
        chunk.append(change)
        held += sizes.get(change.path, 0)
        if held >= _CHUNK_BYTES or len(chunk) == _CHUNK:
            yield chunk
            chunk, held = [], 0
    if chunk:
        yield chunk


def _result(pending: Future[bytes]) -> bytes:
    """A chunk's result; exit 2 with one line when a worker died before giving it."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return pending.result()
    except BrokenProcessPool:
        raise Phase2Error(
            "a worker process classifying the diff was killed (out of memory?): the run "
            "stopped before writing anything"
        ) from None


def build_all(
    repo: GitRepo,
    changes: Iterable[Change],
    settings: Settings,
    selected: Sequence[str],
    *,
    max_size: int,
    workers: int,
    worktree: bool = False,
    beside: Callable[[], None] | None = None,
    check: PairCheck | None = None,
    sizes: Mapping[str, int] | None = None,
) -> Iterator[Mismatch]:
    """The mismatches of ``changes``, in their order, built by ``workers`` processes;
    ``worktree`` as :func:`~phase2_git.git.blobs.read_blobs` takes it; ``beside`` is called
    once the workers are forked (the caller's threads may start then); ``check``'s question
    is asked by the workers, its answers given here in order. ``sizes``: the bytes each
    change's pair holds, by path (:func:`~phase2_git.git.blobs.content_sizes`), when known:
    a task then holds up to :data:`_CHUNK_BYTES` of them rather than :data:`_CHUNK` pairs."""
    import multiprocessing

    global _TASK, _SOURCE, _ASK
    _TASK = (settings, tuple(selected))
    _ASK = check.ask if check is not None else None
    # the workers read their own pairs, each through a cat-file of its own, unless a partial
    # clone must fetch the missing objects first (read_blobs does, in one request): reading
    # every blob here and sending it on cost this process more than the workers (20k diff:
    # 95 ms of its 0.33 s)
    own = promisor_remote(repo) is None
    _SOURCE = (repo, max_size, worktree) if own else None
    # a forked child flushes what the parent had buffered when it exits: nothing may be
    sys.stdout.flush()
    sys.stderr.flush()
    # nor may a child hold a pipe of a git process started ahead (GitRepo.prestart): a forked
    # copy of a cat-file's stdin kept it from ever reading its end, and the run waited forever
    repo.discard_started()
    # what this process holds now (its imports, the settings) is never garbage: frozen, no
    # collection here or in a worker walks it again, and a worker's collections leave its
    # copy-on-write pages alone (the fork recipe of the gc module's documentation). Measured
    # side by side: diff 20k 0.596 -> 0.559 s, 20k mixed 0.712 -> 0.665 s. It stays frozen: a
    # command exits after its diff, and a caller that runs on (a test) only keeps whatever
    # cyclic garbage there was at this point
    import gc

    gc.freeze()
    # concurrent.futures' pool, not multiprocessing.Pool: a worker killed outright (the OOM
    # killer, SIGKILL) may die holding a lock of the queues a Pool's workers share, and take
    # its task with it; the Pool started another worker, never gave that result, and hung on
    # that lock when told to stop. This pool stops every worker and fails every pending
    # result (BrokenProcessPool) when one dies. With fork it starts all its workers on the
    # first submit, before its own thread: that submit comes before any thread here
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )
    pairs: Generator[tuple[Change, Blob | None, Blob | None], None, None] | None = None
    try:
        pool.submit(os.getpid)  # the workers are forked now
        if beside is not None:
            beside()
        # what a task is given: the changes (the worker reads them) or the pairs read here
        task: Callable[[Any], bytes] = _build_changes
        source: Iterator[Any] = iter(changes)
        if not own:
            pairs = read_blobs(repo, changes, max_size=max_size, worktree=worktree)
            task, source = _build, pairs
        pending: deque[Any] = deque()
        for chunk in _chunks(source, sizes if own else None):
            pending.append(pool.submit(task, chunk))
            if len(pending) > workers * _IN_FLIGHT:
                yield from _loads(_result(pending.popleft()), check)
        while pending:
            yield from _loads(_result(pending.popleft()), check)
    finally:
        if pairs is not None:
            pairs.close()
        # a failure or an interrupt: the chunks not started are dropped, those running end
        # (milliseconds); no thread of the pool outlives the run
        pool.shutdown(wait=True, cancel_futures=True)
        _TASK = _SOURCE = _ASK = None
