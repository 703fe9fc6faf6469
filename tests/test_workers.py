"""Large runs classify in forked worker processes (app/workers.py): same report, same order,
whatever the number of workers; a bad PHASE2_WORKERS is refused."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest

from phase2_git.app import diff as diffmod
from phase2_git.app import forking, workers
from phase2_git.app import resolve as resolvemod
from phase2_git.errors import UsageError
from tests.conftest import Cli, TestRepo

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="workers are forked on Linux only"
)


def _regenerated(repo: TestRepo, n: int) -> None:
    """``n`` artifacts, then a regeneration: every kind of noise, real edits, a mixed file,
    an added and a deleted one."""
    for i in range(n):
        base = {"id": i, "score": 0.5 + i / 1000, "labels": ["a", "b"], "meta": {"k": i}}
        repo.write(f"out/case-{i:04d}.json", json.dumps(base, indent=2) + "\n")
    repo.commit("base")
    for i in range(n):
        labels = ["a", "b"]
        doc: dict[str, object] = {"id": i, "score": 0.5 + i / 1000, "labels": labels}
        doc["meta"] = {"k": i}
        kind = i % 7
        if kind == 0:
            text = json.dumps(doc, indent=4) + "\n"
        elif kind == 1:
            text = (json.dumps(doc, indent=2) + "\n").replace("\n", "\r\n")
        elif kind == 2:
            text = json.dumps(dict(reversed(list(doc.items()))), indent=2) + "\n"
        elif kind == 3:
            doc["score"] = 0.5 + i / 1000 + 1e-13
            text = json.dumps(doc, indent=2) + "\n"
        elif kind == 4:
            labels.append("c")  # a real edit
            text = json.dumps(doc, indent=2) + "\n"
        elif kind == 5:
            labels.append("c")  # a real edit beside a re-indent: mixed
            text = json.dumps(doc, indent=4) + "\n"
        else:
            continue
        repo.write(f"out/case-{i:04d}.json", text)
    repo.write("out/new.json", '{"new": true}\n')
    (repo.root / "out/case-0006.json").unlink()
    repo.commit("regenerated")


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The keyword arguments of every call of ``workers.build_all`` (a run that pools its
    workers; conftest's ``forks`` is the checking children's verdicts)."""
    calls: list[dict[str, Any]] = []
    real = workers.build_all

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(workers, "build_all", spy)
    return calls


@pytest.mark.parametrize("n_workers", ["1", "2"])
def test_a_parallel_run_reports_exactly_what_a_serial_one_does(
    repo: TestRepo,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    n_workers: str,
    pools: list[dict[str, Any]],
) -> None:
    _regenerated(repo, 60)
    monkeypatch.setattr(diffmod, "PARALLEL_FROM", 10)
    monkeypatch.setenv(forking.ENV, "0")
    code0, serial, _ = cli("diff", "HEAD~1", "HEAD", "--format", "json", repo=repo)
    assert pools == []
    monkeypatch.setenv(forking.ENV, n_workers)
    code1, parallel, _ = cli("diff", "HEAD~1", "HEAD", "--format", "json", repo=repo)
    assert [c["workers"] for c in pools] == [int(n_workers)]  # it did go through the workers
    assert code0 == code1 == 1
    assert parallel == serial
    found = json.loads(parallel)
    types = {m["mismatch_type"] for m in found["mismatches"]}
    assert {"whitespace", "line_endings", "json_ordering", "content", "added"} <= types
    assert any("first" in m["plan"] for m in found["mismatches"])  # the mixed ones
    assert workers._TASK is None  # nothing of the run is left behind


def test_check_fix_rewrites_the_same_in_parallel(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch, pools: list[dict[str, Any]]
) -> None:
    """The hook's fixer strips the mixed files where the workers read them, right after their
    analysis: it rewrites the working tree exactly as a serial run does, and reads none of
    those pairs again."""
    from phase2_git.app import check as checkmod

    _regenerated(repo, 60)
    repo.git("reset", "-q", "--soft", "HEAD~1")  # the regeneration staged, not committed
    monkeypatch.setattr(diffmod, "PARALLEL_FROM", 10)
    held: list[set[str]] = []
    real_apply = checkmod._apply

    def spy(*args: Any) -> Any:
        held.append(set(args[-1]))  # the strips the diff's pairs gave, by path
        return real_apply(*args)

    monkeypatch.setattr(checkmod, "_apply", spy)
    files = sorted(repo.git("diff", "--cached", "--name-only").split())
    wrote: list[dict[str, bytes]] = []
    outs = []
    for n in ("0", "2"):
        monkeypatch.setenv(forking.ENV, n)
        code, out, err = cli("check", "--fix", repo=repo)
        assert code == 1, err
        outs.append(out)
        wrote.append({p: repo.read(p) for p in files if (repo.root / p).exists()})
        repo.git("checkout", "-q", "--", ".")  # the staged files back in the working tree
    assert [c["workers"] for c in pools] == [2]  # the second run went through the workers
    assert outs[0] == outs[1] and wrote[0] == wrote[1]
    mixed = {f"out/case-{i:04d}.json" for i in range(60) if i % 7 == 5}
    assert held == [mixed, mixed]  # stripped where read, serial or not
    for path in mixed:
        assert wrote[1][path] != repo.read(path)  # rewritten: the re-indent is gone
        assert "stripped the noise beside a real change" in outs[1]


def test_resolve_yes_applies_the_same_in_parallel(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch, pools: list[dict[str, Any]]
) -> None:
    _regenerated(repo, 30)
    repo.git("checkout", "-q", "-b", "regen")
    monkeypatch.setattr(diffmod, "PARALLEL_FROM", 10)
    monkeypatch.setenv(forking.ENV, "2")
    kept: list[dict[str, bytes]] = []
    real_restored = resolvemod._BlobKeeper.restored

    def restored(self: Any, mismatches: Any) -> dict[str, bytes]:
        kept.append(real_restored(self, mismatches))
        return kept[-1]

    monkeypatch.setattr(resolvemod._BlobKeeper, "restored", restored)
    restores = {  # the re-indented, CRLF and reordered files of _regenerated
        f"out/case-{i:04d}.json" for i in range(30) if i % 7 in (0, 1, 2)
    }
    base = {p: repo.git("rev-parse", f"HEAD~1:{p}").strip() for p in restores}
    code, out, err = cli("resolve", "HEAD~1", "--yes", repo=repo)
    # resolve asks git about the files it may rewrite in a thread, started only once the
    # workers are forked (a fork copies one thread): its diff does go through them, and they
    # send back the base sides its restore_base plans write (this process reads no pair)
    assert [c["workers"] for c in pools] == [2]
    assert len(kept) == 1 and set(base.values()) <= set(kept[0])
    for oid, data in kept[0].items():
        assert data == repo.git("cat-file", "blob", oid).encode("utf-8", "surrogateescape")
    for path, oid in base.items():
        assert repo.read(path) == kept[0][oid]
    assert code == 1, err  # real changes are left for review
    assert "auto-approve" in out
    assert repo.git("status", "--porcelain").strip() == ""
    # what is left after the commit: the real changes, and float jitter (not auto-applied
    # by default); the safe noise is gone and every mixed file is a clean real change
    code, out, _ = cli("diff", "HEAD~2", "HEAD", "--format", "json", repo=repo)
    left = json.loads(out)["mismatches"]
    assert {m["mismatch_type"] for m in left} == {
        "content",
        "added",
        "deleted",
        "numeric_precision",
    }
    assert not any("first" in m["plan"] for m in left)


@pytest.mark.parametrize("raw", ["many", "-1", "1.5"])
def test_a_bad_worker_count_is_refused(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    _regenerated(repo, 12)
    monkeypatch.setattr(diffmod, "PARALLEL_FROM", 10)
    monkeypatch.setenv(forking.ENV, raw)
    code, _, err = cli("diff", "HEAD~1", "HEAD", "--format", "json", repo=repo)
    assert code == 2
    assert "PHASE2_WORKERS must be a whole number" in err and raw in err


def test_count_reads_the_environment() -> None:
    assert forking.count({forking.ENV: "0"}) == 0
    assert forking.count({forking.ENV: " 3 "}) == 3
    cpus = len(os.sched_getaffinity(0))
    assert forking.count({}) == max(0, min(cpus - 1, 4))
    # a default below `least` is raised to it where there are that many CPUs (two at least),
    # else none; an explicit number is taken as it is
    assert forking.count({}, least=cpus + 1) == 0
    assert forking.count({}, least=2) == (max(2, min(cpus - 1, 4)) if cpus >= 2 else 0)
    assert forking.count({forking.ENV: "1"}, least=2) == 1
    assert forking.count({forking.ENV: ""}) == forking.count({})
    with pytest.raises(UsageError):
        forking.count({forking.ENV: "two"})


def test_no_fork_beside_another_thread() -> None:
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert forking.count({forking.ENV: "2"}) == 0
    finally:
        stop.set()
        other.join()
    assert forking.count({forking.ENV: "2"}) == 2


def test_the_hook_reports_the_same_in_parallel(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch, pools: list[dict[str, Any]]
) -> None:
    """The pre-commit hook's JSON syntax check runs where each pair is read, in the workers
    of a large run: the same findings, in the same order, with or without workers (a
    regression, a strict file that never parsed, a duplicate key, JSONC that stays valid)."""
    _regenerated(repo, 40)
    repo.write(".phase2/config.toml", '[artifacts]\nstrict_json = ["out/strict-*.json"]\n')
    repo.git("add", "-A")
    repo.git("commit", "-q", "--amend", "--no-edit")
    repo.git("reset", "-q", "--soft", "HEAD~1")  # the regeneration, staged
    repo.write("out/case-0001.json", '{"a": 1,,}\n')  # valid in HEAD: a regression
    repo.write("out/case-0002.json", '{"a": 1, "a": 2}\n')  # duplicate key: a regression
    repo.write("out/case-0003.json", '// a comment\n{"a": 1,}\n')  # JSONC: valid
    repo.write("out/strict-new.json", "{nope}\n")  # strict: must parse, new or not
    repo.git("add", "-A")
    files = sorted(
        line.split("\t")[-1]
        for line in repo.git("diff", "--cached", "--name-status").splitlines()
        if not line.startswith("D")
    )
    monkeypatch.setattr(diffmod, "PARALLEL_FROM", 10)
    monkeypatch.setenv(forking.ENV, "0")
    serial = cli("check", *files, repo=repo)
    monkeypatch.setenv(forking.ENV, "2")
    parallel = cli("check", *files, repo=repo)
    # the workers read and check the pairs: nothing is read in this process
    assert [c["check"] is not None for c in pools] == [True]
    assert serial.code == parallel.code == 1
    assert parallel.out == serial.out and parallel.err == serial.err
    for path in ("out/case-0001.json", "out/case-0002.json", "out/strict-new.json"):
        assert f"{path}: invalid JSON" in serial.out, serial.out
    assert "out/case-0003.json: invalid" not in serial.out


def test_shared_verdicts_come_back_as_this_process_objects(
    repo: TestRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from phase2_git.app.diff import run_diff
    from phase2_git.core.methods import SHARED_VERDICTS
    from phase2_git.git.repo import GitRepo
    from phase2_git.store.config import load

    _regenerated(repo, 30)
    monkeypatch.setattr(diffmod, "PARALLEL_FROM", 10)
    monkeypatch.setenv(forking.ENV, "1")
    git = GitRepo.discover(repo.root)
    result = run_diff(git, "HEAD~1", "HEAD", config=load(repo.root), approvals=False)
    shared = {id(v) for v in SHARED_VERDICTS}
    modified = [m for m in result.mismatches if m.change.status == "modified"]
    assert modified and all(id(m.verdicts[0]) in shared for m in modified)  # "bytes differ"


def test_the_hook_with_workers_ends_as_a_serial_one_does(repo: TestRepo) -> None:
    """A real hook run past the workers' threshold, in its own process (in pytest's, another
    thread keeps workers off): the git processes the hook starts ahead must not be inherited by
    the forked workers, or cat-file never sees the end of its input and the commit hangs."""
    import subprocess

    n = diffmod.PARALLEL_FROM * 7 // 6 + 20  # six files in seven change
    _regenerated(repo, n)
    repo.git("reset", "-q", "--soft", "HEAD~1")  # the regeneration, staged
    files = [
        line.split("\t")[-1]
        for line in repo.git("diff", "--cached", "--name-status").splitlines()
        if not line.startswith("D")
    ]
    runs = []
    for count in ("0", "1"):
        env = dict(os.environ, **{forking.ENV: count})
        runs.append(
            subprocess.run(
                [sys.executable, "-m", "phase2_git", "check", *files],
                cwd=repo.root,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        )
    serial, parallel = runs
    assert serial.returncode == parallel.returncode == 1, serial.stderr
    assert parallel.stdout == serial.stdout and parallel.stderr == serial.stderr
    assert "phase2 check:" in serial.stdout


def test_workers_read_the_index_side_as_a_serial_run_does(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``diff --staged`` past the threshold: each worker reads its pairs through a cat-file
    of its own and takes an after side from the work tree when that file is the staged blob;
    a file edited since it was staged is read from the index, as in a serial run."""
    _regenerated(repo, 40)
    repo.git("reset", "-q", "--soft", "HEAD~1")  # the regeneration, staged
    repo.write("out/case-0000.json", '{"edited": "after staging"}\n')  # not the staged blob
    monkeypatch.setattr(diffmod, "PARALLEL_FROM", 10)
    monkeypatch.setenv(forking.ENV, "0")
    serial = cli("diff", "--staged", "--format", "json", repo=repo)
    monkeypatch.setenv(forking.ENV, "2")
    parallel = cli("diff", "--staged", "--format", "json", repo=repo)
    assert parallel == serial and serial.code == 1
    first = json.loads(serial.out)["mismatches"][0]
    assert first["path"] == "out/case-0000.json" and first["mismatch_type"] == "whitespace"
    assert workers._SOURCE is None and workers._TASK is None


def test_a_missing_object_stops_a_parallel_run_as_a_serial_one(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blob gone from the object store (a broken clone): the worker that meets it stops
    the run with git's finding on one line, exit 2, as the serial run does."""
    _regenerated(repo, 40)
    oid = repo.git("rev-parse", "HEAD:out/case-0021.json").strip()
    (repo.root / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    monkeypatch.setattr(diffmod, "PARALLEL_FROM", 10)
    runs = []
    for count in ("0", "2"):
        monkeypatch.setenv(forking.ENV, count)
        runs.append(cli("diff", "HEAD~1", "HEAD", "--format", "json", repo=repo))
    serial, parallel = runs
    assert serial.code == parallel.code == 2
    assert parallel.out == serial.out == ""
    assert parallel.err == serial.err
    assert f"object {oid} of 'out/case-0021.json' is missing" in serial.err


def test_resolve_keeps_base_sides_within_its_budget(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the keeper's budget a base side is not sent back nor held: the restore reads it
    from git instead, and the files come out the same."""
    _regenerated(repo, 30)
    repo.git("checkout", "-q", "-b", "regen")
    monkeypatch.setattr(diffmod, "PARALLEL_FROM", 10)
    monkeypatch.setenv(forking.ENV, "2")
    one = len(repo.read("out/case-0000.json"))
    monkeypatch.setattr(resolvemod._BlobKeeper, "BUDGET", 2 * one + one // 2)
    sizes: list[int] = []
    real_restored = resolvemod._BlobKeeper.restored

    def restored(self: Any, mismatches: Any) -> dict[str, bytes]:
        sizes.append(self.size)
        return real_restored(self, mismatches)

    monkeypatch.setattr(resolvemod._BlobKeeper, "restored", restored)
    base = repo.git("rev-parse", "HEAD~1:out/case-0014.json").strip()  # re-indented
    code, _, err = cli("resolve", "HEAD~1", "--yes", repo=repo)
    assert code == 1, err
    assert 0 < sizes[0] <= 2 * one + one // 2
    blob = repo.git("cat-file", "blob", base).encode()
    assert repo.read("out/case-0014.json") == blob
    assert repo.git("status", "--porcelain").strip() == ""


def test_a_worker_killed_outright_stops_the_run_instead_of_waiting_forever(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The OOM killer or a SIGKILL takes a worker's task with it: the pool starts another
    worker and never gives that result. The run says so (exit 2, one line) and stops."""
    import signal

    _regenerated(repo, 60)
    monkeypatch.setattr(diffmod, "PARALLEL_FROM", 10)
    monkeypatch.setenv(forking.ENV, "2")
    real = workers._build

    def killed(chunk: Any) -> bytes:
        if any(c.path == "out/case-0040.json" for c, _, _ in chunk):
            os.kill(os.getpid(), signal.SIGKILL)
        return real(chunk)

    monkeypatch.setattr(workers, "_build", killed)  # looked up in the worker, never pickled
    code, out, err = cli("diff", "HEAD~1", "HEAD", "--format", "json", repo=repo)
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == [
        "phase2: error: a worker process classifying the diff was killed (out of memory?): "
        "the run stopped before writing anything"
    ]
    assert workers._TASK is None


def test_a_table_for_a_terminal_still_forks_its_workers(
    repo: TestRepo, monkeypatch: pytest.MonkeyPatch, pools: list[dict[str, Any]]
) -> None:
    """rich's console is imported in a thread while git answers the first questions of a
    table for a terminal; that thread is gone before the workers fork (a fork beside another
    thread is refused: the run would have gone serial), and the table is the same."""
    import io
    import threading

    from phase2_git.app.report import DiffOptions, diff_main

    _regenerated(repo, 60)
    monkeypatch.setattr(diffmod, "PARALLEL_FROM", 10)
    opts = DiffOptions(base="HEAD~1", head="HEAD", fmt="text", repo=str(repo.root), color=True)
    monkeypatch.setenv(forking.ENV, "0")
    serial = io.StringIO()
    assert diff_main(opts, serial) == 1
    monkeypatch.setenv(forking.ENV, "2")
    parallel = io.StringIO()
    assert diff_main(opts, parallel) == 1
    assert [c["workers"] for c in pools] == [2]
    assert parallel.getvalue() == serial.getvalue()
    assert "\x1b[" in serial.getvalue()  # coloured: the console's escape codes
    assert not [t for t in threading.enumerate() if t.name == "phase2-git"]


# phase2 diff in a process of its own, with workers from 10 changes on whose tasks never end:
# each worker prints its pid as it takes one
_STUCK_WORKERS = """
import os, sys, time
from phase2_git.app import diff as diffmod, workers
from phase2_git.entry import main

diffmod.PARALLEL_FROM = 10

def stuck(chunk):
    os.write(1, b"%d\\n" % os.getpid())  # one write: two workers' lines never interleave
    time.sleep(600)

workers._build_changes = stuck
sys.exit(main(["diff", "HEAD~1", "HEAD", "--format", "json"]))
"""


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] == "Z"  # a zombie nobody reaps
    except FileNotFoundError:
        return True


def test_workers_end_when_their_parent_is_killed_outright(
    repo: TestRepo, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL to phase2 alone (or the OOM killer) never stops its workers: they wait on
    pipes their siblings hold open, forever, holding the run's stdout and stderr. Each ends
    itself once its parent is gone."""
    import select
    import subprocess
    import time

    _regenerated(repo, 200)  # three chunks of changes: both workers take one
    script = tmp_path / "stuck.py"
    script.write_text(_STUCK_WORKERS)
    env = {**os.environ, forking.ENV: "2"}
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=repo.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 120  # a hang guard, not a speed check
    printed = b""
    try:
        while printed.count(b"\n") < 2:
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            assert time.monotonic() < deadline, "the workers never took their tasks"
            if ready:
                printed += os.read(proc.stdout.fileno(), 4096)
    finally:
        proc.kill()
        proc.wait()
    pids = {int(line) for line in printed.split()}
    assert len(pids) == 2
    while not all(_gone(p) for p in pids):
        assert time.monotonic() < deadline, f"workers {pids} outlived their parent"
        time.sleep(0.05)
    assert proc.stdout.read() == b""  # nobody holds the run's stdout any more


def _heavy(repo: TestRepo, n: int, rows: int) -> None:
    """``n`` data files of ``rows`` records each, then a regeneration that reorders every
    record's keys and changes one value: few files, many bytes."""
    for i in range(n):
        data = [{"id": k, "name": f"r{k}", "score": k / 7} for k in range(rows)]
        repo.write(f"data/part-{i}.json", json.dumps(data, indent=2) + "\n")
    repo.commit("base")
    for i in range(n):
        data = [{"score": k / 7, "name": f"r{k}", "id": k} for k in range(rows)]
        data[i]["name"] = "changed"
        repo.write(f"data/part-{i}.json", json.dumps(data, indent=2) + "\n")
    repo.commit("regenerated")


def test_content_sizes_are_what_a_read_reads(repo: TestRepo) -> None:
    from phase2_git.core.model import Change
    from phase2_git.git.blobs import content_sizes
    from phase2_git.git.repo import GitRepo

    repo.write("a.json", "1" * 100)
    repo.write("big.json", "2" * 5000)
    repo.commit("base")
    repo.write("a.json", "3" * 40)
    repo.write("big.json", "4" * 6000)
    repo.write("new.json", "5" * 7)
    repo.commit("head")
    git = GitRepo.discover(repo.root)
    oid = {
        (rev, p): repo.git("rev-parse", f"{rev}:{p}").strip()
        for rev in ("HEAD~1", "HEAD")
        for p in ("a.json", "big.json")
    }
    changes = [
        Change("modified", p, None, oid["HEAD~1", p], oid["HEAD", p], "100644", "100644")
        for p in ("a.json", "big.json")
    ]
    new = repo.git("rev-parse", "HEAD:new.json").strip()
    changes.append(Change("added", "new.json", None, None, new, "000000", "100644"))
    # an object over max_size is compared by its id alone: it counts nothing
    assert content_sizes(git, changes, 5500) == {"a.json": 140, "big.json": 5000, "new.json": 7}
    assert content_sizes(git, [], 5500) == {}


def test_chunks_hold_a_number_of_pairs_or_of_bytes() -> None:
    from phase2_git.core.model import Change

    def change(i: int) -> Change:
        return Change("modified", f"f{i}", None, "a", "b", "100644", "100644")

    items = [change(i) for i in range(150)]
    assert [len(c) for c in workers._chunks(iter(items), None)] == [64, 64, 22]
    big = workers._CHUNK_BYTES // 2
    sizes = {f"f{i}": big if i < 6 else 1 for i in range(150)}
    # two large pairs fill a task; the small ones after them go 64 at a time
    assert [len(c) for c in workers._chunks(iter(items), sizes)] == [2, 2, 2, 64, 64, 16]
    assert [c.path for chunk in workers._chunks(iter(items), sizes) for c in chunk] == [
        c.path for c in items
    ]


def test_a_few_large_files_are_classified_by_the_workers(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch, pools: list[dict[str, Any]]
) -> None:
    """Fewer changes than PARALLEL_FROM whose pairs hold PARALLEL_BYTES or more go to the
    workers, a task holding _CHUNK_BYTES of them: the report is the serial one."""
    _heavy(repo, 6, 300)
    monkeypatch.setattr(diffmod, "PARALLEL_BYTES", 60_000)
    monkeypatch.setattr(workers, "_CHUNK_BYTES", 20_000)
    monkeypatch.setenv(forking.ENV, "0")
    code0, serial, _ = cli("diff", "HEAD~1", "HEAD", "--format", "json", repo=repo)
    assert pools == []
    monkeypatch.setenv(forking.ENV, "2")
    code1, parallel, _ = cli("diff", "HEAD~1", "HEAD", "--format", "json", repo=repo)
    assert len(pools) == 1 and pools[0]["workers"] == 2
    sizes = pools[0]["sizes"]
    assert set(sizes) == {f"data/part-{i}.json" for i in range(6)}
    assert all(s > 20_000 for s in sizes.values())  # each pair its own task
    assert code0 == code1 == 1
    assert parallel == serial
    found = json.loads(parallel)["mismatches"]
    assert len(found) == 6 and all(m["changes"]["noise"] for m in found)  # mixed: reordered


def test_few_or_light_changes_stay_in_one_process(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch, pools: list[dict[str, Any]]
) -> None:
    _heavy(repo, 6, 300)
    monkeypatch.setenv(forking.ENV, "2")
    # six pairs well under the default PARALLEL_BYTES
    assert cli("diff", "HEAD~1", "HEAD", "--format", "json", repo=repo).code == 1
    assert pools == []
    # heavy enough, but fewer than PARALLEL_SOME: not even asked
    monkeypatch.setattr(diffmod, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(diffmod, "PARALLEL_SOME", 7)
    assert cli("diff", "HEAD~1", "HEAD", "--format", "json", repo=repo).code == 1
    assert pools == []


def test_the_hook_sends_a_few_large_staged_files_to_the_workers(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch, pools: list[dict[str, Any]]
) -> None:
    """The hook asks no git process for sizes: twice each staged file's size in the work
    tree stands for its pair."""
    _heavy(repo, 6, 300)
    repo.git("reset", "-q", "--soft", "HEAD~1")  # the regeneration, staged
    files = [f"data/part-{i}.json" for i in range(6)]
    monkeypatch.setattr(diffmod, "PARALLEL_BYTES", 60_000)
    monkeypatch.setenv(forking.ENV, "0")
    serial = cli("check", *files, repo=repo)
    assert pools == []
    monkeypatch.setenv(forking.ENV, "2")
    parallel = cli("check", *files, repo=repo)
    assert len(pools) == 1
    assert pools[0]["sizes"] == {p: 2 * (repo.root / p).stat().st_size for p in files}
    assert serial.code == parallel.code == 1
    assert parallel.out == serial.out and parallel.err == serial.err
    assert all(f"{p}: noise beside a real change" in serial.out for p in files), serial.out


def test_resolve_yes_strips_where_the_workers_read(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch, pools: list[dict[str, Any]]
) -> None:
    """--yes runs each safe strip where its pair is read (a worker), not again once the diff
    is done: the commit is the one a run in one process makes."""
    from phase2_git.git import blobs

    _regenerated(repo, 30)
    repo.git("checkout", "-q", "-b", "regen")
    monkeypatch.setattr(diffmod, "PARALLEL_FROM", 10)
    trees: list[tuple[str, list[str]]] = []
    for count in ("0", "2"):
        repo.git("reset", "-q", "--hard", "regen@{0}" if not trees else trees[0][0])
        repo.git("clean", "-qfdx")
        start = repo.git("rev-parse", "HEAD").strip()
        monkeypatch.setenv(forking.ENV, count)
        reads: list[int] = []
        real = blobs.read_blobs

        def spy(*args: Any, **kwargs: Any) -> Any:
            reads.append(1)
            return real(*args, **kwargs)

        monkeypatch.setattr(resolvemod, "read_blobs", spy)  # prepare_strips' own reading
        code, _, err = cli("resolve", "HEAD~1", "--yes", repo=repo)
        assert code == 1, err
        assert "strip the noise of" in repo.git("log", "-1", "--format=%s")
        assert reads == []  # every strip came with the diff
        files = [
            line
            for line in repo.git("ls-tree", "-r", "HEAD").splitlines()
            if ".phase2/" not in line
        ]
        trees.append((start, files))
    assert [c["workers"] for c in pools] == [2]
    assert trees[0][1] == trees[1][1]


def test_a_strip_refused_in_a_worker_is_skipped(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch, pools: list[dict[str, Any]]
) -> None:
    from phase2_git.core import changes as changesmod

    _regenerated(repo, 30)
    repo.git("checkout", "-q", "-b", "regen")
    head = repo.git("rev-parse", "HEAD").strip()
    mixed = [f"out/case-{i:04d}.json" for i in range(30) if i % 7 == 5]
    before = {p: repo.read(p) for p in mixed}
    monkeypatch.setattr(diffmod, "PARALLEL_FROM", 10)
    monkeypatch.setenv(forking.ENV, "2")
    # a stripper that drops the real change: the workers (forked after this) run it
    monkeypatch.setattr(changesmod, "strip_json", lambda a, b, **_: a)
    code, out, err = cli("resolve", "HEAD~1", "--yes", repo=repo)
    assert [c["workers"] for c in pools] == [2]
    assert code == 1, err
    assert out.count("not the head's document") >= len(mixed), out
    assert {p: repo.read(p) for p in mixed} == before  # none of them rewritten
    assert repo.git("rev-parse", "HEAD~1").strip() == head  # the noise-only files committed
