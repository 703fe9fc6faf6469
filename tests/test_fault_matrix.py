"""Fault injection for every write path of ``resolve --yes``.

Each fault -- disk full (RLIMIT_FSIZE at several sizes, and a real full tmpfs where the machine
lets us mount one), a read-only ``.phase2/``, a user's ``git commit`` between plan and apply, a
held ``index.lock``, a corrupt state file, a torn last line in the decision log, SIGKILL -- must
end with one clear line (exit 2 or 3) or success, ``git fsck`` clean, the user's own uncommitted
work intact, and a rerun after the fault is removed reaching exactly the end state of an
undisturbed run: no decision lost, none duplicated.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from phase2_git.errors import Phase2Error, RefusedError
from tests.hostile_support import (
    TIMEOUT,
    Result,
    assert_no_crash,
    assert_one_line_error,
    finish,
    git,
    hermetic_env,
    measured_once,
    record,
    run_phase2,
    start_phase2,
    untraced,
)

N = 40
# a finished `resolve --yes` exits 1: it leaves real.json, a real change, to a human
# (--fail-on real, as `phase2 diff` counts it)
DONE = 1
USER_FILE = "notes/wip.txt"
USER_TEXT = "my uncommitted work\n"


def build(root: Path, env: dict[str, str], n: int = N) -> None:
    root.mkdir(parents=True)
    git(root, "init", "-q", env=env)
    for i in range(n):
        (root / "golden").mkdir(exist_ok=True)
        (root / f"golden/{i:03}.json").write_text(f'{{"a": {i}, "b": [1, 2]}}\n')
    (root / "real.json").write_text('{"score": 1}\n')
    (root / "notes").mkdir()
    (root / USER_FILE).write_text("committed\n")
    git(root, "add", "-A", env=env)
    git(root, "commit", "-q", "-m", "base", env=env)
    git(root, "checkout", "-q", "-b", "feat", env=env)
    for i in range(n):
        body = f'{{"b": [1, 2], "a": {i}}}\n' if i % 2 else f'{{\n  "a": {i},\n  "b": [1, 2]\n}}\n'
        (root / f"golden/{i:03}.json").write_text(body)
    (root / "real.json").write_text('{"score": 2}\n')
    git(root, "commit", "-q", "-am", "regen", env=env)
    (root / USER_FILE).write_text(USER_TEXT)  # the user's own edit, never committed by us


EndState = tuple[str, list[tuple[str, str]], int]


def end_state(root: Path, env: dict[str, str]) -> EndState:
    """Tree (without .phase2/), decisions as (mismatch, decision), commits on the branch;
    asserts fsck clean, no duplicate decision, the user's edit intact."""
    assert git(root, "fsck", "--no-progress", "--no-dangling", env=env).strip() == ""
    assert (root / USER_FILE).read_text() == USER_TEXT, "the user's uncommitted edit was lost"
    tree = "".join(
        line + "\n"
        for line in git(root, "ls-tree", "-r", "HEAD", env=env).splitlines()
        if ".phase2/" not in line
    )
    data = git(root, "show", "HEAD:.phase2/decisions.jsonl", env=env)
    events = [json.loads(x) for x in data.splitlines()]
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids)), "duplicate decision lines"
    decided = sorted((e["mismatch_id"], e["decision"]) for e in events)
    assert len({m for m, _ in decided}) == len(decided), "a mismatch decided twice"
    commits = int(git(root, "rev-list", "--count", "main..HEAD", env=env))
    return tree, decided, commits


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], EndState]:
    base = tmp_path_factory.mktemp("faults")
    env = hermetic_env(base / "home")
    build(base / "pristine", env)
    clean = base / "clean"
    shutil.copytree(base / "pristine", clean, symlinks=True)
    res = run_phase2(("resolve", "main", "--yes"), cwd=clean, env=env)
    assert_no_crash(res, (DONE,))
    return base / "pristine", env, end_state(clean, env)


Trial = tuple[Callable[..., Path], dict[str, str], EndState]


@pytest.fixture
def trial(pristine: tuple[Path, dict[str, str], EndState], tmp_path: Path) -> Trial:
    src, env, expected = pristine

    def fresh(name: str = "work") -> Path:
        dest = tmp_path / name
        shutil.copytree(src, dest, symlinks=True)
        return dest

    return fresh, env, expected


def rerun_reaches_the_end(root: Path, env: dict[str, str], expected: EndState) -> None:
    res = run_phase2(("resolve", "main", "--yes"), cwd=root, env=env)
    assert_no_crash(res, (DONE,))
    assert end_state(root, env) == expected


# ---------------------------------------------------------------------------- disk full


def slow(*values: object) -> list[object]:
    """Parameters run only with the slow tests (CI and bench/reliability.py run them all)."""
    return [pytest.param(v, marks=pytest.mark.slow) for v in values]


FSIZE_LIMITS = [0, 2048, *slow(64, 512, 8192, 32768)]


@pytest.mark.parametrize("limit", FSIZE_LIMITS)
@pytest.mark.parametrize("no_commit", [False, True], ids=["commit", "no-commit"])
def test_disk_full_by_file_size_limit(trial, limit: int, no_commit: bool) -> None:
    """RLIMIT_FSIZE: every write past ``limit`` bytes fails with EFBIG (SIGXFSZ ignored), in
    phase2 and in the git processes it starts."""
    fresh, env, expected = trial
    root = fresh()
    args = ("resolve", "main", "--yes") + (("--no-commit",) if no_commit else ())
    res = run_phase2(args, cwd=root, env=env, fsize=limit)
    ok = False
    try:
        assert_no_crash(res, (DONE, 2))
        if not no_commit:
            rerun_reaches_the_end(root, env, expected)
        else:
            # the appended log must hold whole lines only: every reader parses it
            assert_no_crash(run_phase2(("log",), cwd=root, env=env), (0,))
            again = run_phase2(args, cwd=root, env=env)
            assert_no_crash(again, (DONE,))
            assert git(root, "fsck", "--no-progress", "--no-dangling", env=env).strip() == ""
            assert (root / USER_FILE).read_text() == USER_TEXT
            lines = (root / ".phase2" / "decisions.jsonl").read_text().splitlines()
            ids = [json.loads(x)["id"] for x in lines]
            # the N auto-approvals; what --yes leaves to a human (real.json) is not logged
            assert len(ids) == len(set(ids)) == N, (len(ids), len(set(ids)))
        ok = True
    finally:
        record("faults", f"disk-full-fsize:{limit}:{'no-commit' if no_commit else 'commit'}", ok)


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[bool]:
    path.mkdir()
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.parametrize("free_kib", [4, *slow(64, 256)])
def test_disk_full_on_a_real_tmpfs(trial, tmp_path: Path, free_kib: int) -> None:
    fresh, env, expected = trial
    with tmpfs(tmp_path / "disk", "8m") as mounted:
        if not mounted:
            pytest.skip("cannot mount a tmpfs here (needs root and mount permission)")
        src = fresh()
        root = tmp_path / "disk" / "repo"
        shutil.copytree(src, root, symlinks=True)
        filler = tmp_path / "disk" / "filler"
        st = os.statvfs(root)
        free = st.f_bavail * st.f_frsize
        filler.write_bytes(b"\0" * max(0, free - free_kib * 1024))
        res = run_phase2(("resolve", "main", "--yes"), cwd=root, env=env)
        ok = False
        try:
            assert_no_crash(res, (DONE, 2))
            filler.unlink()
            rerun_reaches_the_end(root, env, expected)
            ok = True
        finally:
            record("faults", f"disk-full-tmpfs:{free_kib}KiB", ok)


# ---------------------------------------------------------------------------- read-only


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    if os.geteuid() == 0:  # root ignores permissions: a read-only bind mount
        subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
            yield
        finally:
            subprocess.run(["umount", str(folder)], check=False)
    else:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(mode)


@pytest.mark.parametrize("with_state", [False, *slow(True)])
def test_read_only_phase2_folder(trial, with_state: bool) -> None:
    fresh, env, expected = trial
    root = fresh()
    (root / ".phase2" / "state").mkdir(parents=True)
    if with_state:
        # a run that stopped part-way: kill it as soon as it has a state file
        proc = start_phase2(("resolve", "main", "--yes"), cwd=root, env=env)
        deadline = time.monotonic() + TIMEOUT  # a hang guard, not a speed check
        while not list((root / ".phase2" / "state").glob("*.json")):
            assert time.monotonic() < deadline, "no state file"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        finish(proc)
        with contextlib.suppress(FileNotFoundError):
            (root / ".phase2" / "lock").unlink()  # as if on another host: not taken over
    ok = False
    try:
        head = git(root, "rev-parse", "HEAD", env=env)
        try:
            with read_only(root / ".phase2"):
                res = run_phase2(("resolve", "main", "--yes"), cwd=root, env=env)
                assert_one_line_error(res, 2)
                assert b"read-only" in res.err.lower() or b"cannot write" in res.err, res.err
                # reading still works
                assert_no_crash(run_phase2(("diff", "main"), cwd=root, env=env), (1,))
        except subprocess.CalledProcessError:
            pytest.skip("cannot bind-mount read-only here")
        assert git(root, "rev-parse", "HEAD", env=env) == head or with_state
        rerun_reaches_the_end(root, env, expected)
        ok = True
    finally:
        record("faults", f"read-only-phase2:{'resumed' if with_state else 'fresh'}", ok)


# ---------------------------------------------------------------------------- index.lock


def test_held_index_lock(trial) -> None:
    fresh, env, expected = trial
    root = fresh()
    lock = root / ".git" / "index.lock"
    lock.write_text("")
    ok = False
    try:
        res = run_phase2(("resolve", "main", "--yes"), cwd=root, env=env)
        assert_one_line_error(res, 3, "index.lock")
        assert_no_crash(run_phase2(("diff", "main"), cwd=root, env=env), (1,))
        lock.unlink()
        rerun_reaches_the_end(root, env, expected)
        ok = True
    finally:
        record("faults", "index-lock-held", ok)


def test_held_branch_lock(trial) -> None:
    """Another git holds the branch's ref lock when phase2 moves it: the branch did not move,
    and the refusal says what git said instead of claiming someone moved it."""
    fresh, env, expected = trial
    root = fresh()
    branch = git(root, "symbolic-ref", "--short", "HEAD", env=env).strip()
    head = git(root, "rev-parse", "HEAD", env=env).strip()
    status = git(root, "status", "--porcelain", env=env)
    lock = root / ".git" / "refs" / "heads" / f"{branch}.lock"
    lock.write_text("")
    ok = False
    try:
        res = run_phase2(("resolve", "main", "--yes"), cwd=root, env=env)
        assert_one_line_error(res, 3, f"branch '{branch}' was not moved")
        assert b"moved while" not in res.err
        # the hint names the lock a killed git would leave behind, for the user to remove
        assert f"{branch}.lock is the branch's lock".encode() in res.err, res.err
        assert git(root, "rev-parse", "HEAD", env=env).strip() == head
        assert git(root, "status", "--porcelain", env=env) == status
        lock.unlink()
        rerun_reaches_the_end(root, env, expected)
        ok = True
    finally:
        record("faults", "branch-lock-held", ok)


def test_index_lock_taken_during_apply(trial, monkeypatch: pytest.MonkeyPatch) -> None:
    """git takes index.lock between phase2's plan and its sync: the branch move stands (it is
    the commit), the sync fails in one line, and the rerun finishes the sync."""
    fresh, env, expected = trial
    root = fresh()
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    from phase2_git.app import resolve as engine
    from phase2_git.git.repo import GitRepo
    from phase2_git.store.config import load

    repo = GitRepo.discover(root)
    ok = False
    try:
        with engine.open_session(repo, "main", config=load(repo.root), environ=env) as session:
            for m in session.todo():
                session.record_auto(session.auto_operation(m))  # as --yes records
            (root / ".git" / "index.lock").write_text("")
            with pytest.raises(Phase2Error) as info:
                session.apply()
            assert info.value.exit_code in (2, 3), repr(info.value)
        (root / ".git" / "index.lock").unlink()
        rerun_reaches_the_end(root, env, expected)
        ok = True
    finally:
        record("faults", "index-lock-during-apply", ok)


# ---------------------------------------------------------------------------- corrupt state


CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda b: b[: len(b) // 2],
    "empty": lambda b: b"",
    "garbage": lambda b: b"\x00\xff garbage \x1b[2J",
    "wrong-schema": lambda b: b'{"schema": "Phase2State.v1"}',
    "nan": lambda b: re.sub(rb'"stats": ?\{', b'"stats": {"x": NaN, ', b, count=1),
    "deep": lambda b: b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize(
    "how", ["truncated", "wrong-schema", *slow("empty", "garbage", "nan", "deep")]
)
def test_corrupt_state_file(trial, how: str) -> None:
    fresh, env, expected = trial
    root = fresh()
    # a run that stopped after a few decisions, then its state file was damaged
    res = run_phase2(("resolve", "main", "--yes", "--no-commit"), cwd=root, env=env)
    assert_no_crash(res, (DONE,))
    git(root, "checkout", "-q", "--", ".", env=env)
    (root / ".phase2" / "decisions.jsonl").unlink()
    (root / USER_FILE).write_text(USER_TEXT)
    (state,) = (root / ".phase2" / "state").glob("*.json")
    state.write_bytes(CORRUPTIONS[how](state.read_bytes()))
    ok = False
    try:
        res = run_phase2(("resolve", "main", "--yes"), cwd=root, env=env)
        assert_one_line_error(res, 2, ".phase2/state/")
        assert b"--restart" in res.err
        res = run_phase2(("resolve", "main", "--yes", "--restart"), cwd=root, env=env)
        assert_no_crash(res, (DONE,))
        assert end_state(root, env)[0] == expected[0]
        ok = True
    finally:
        record("faults", f"corrupt-state:{how}", ok)


# ---------------------------------------------------------------------------- torn log line


@pytest.mark.parametrize("cut", [10, *slow(1, 100)])
def test_truncated_last_line_in_the_decision_log(
    trial, monkeypatch: pytest.MonkeyPatch, cut: int
) -> None:
    """A crash in the middle of appending: the decisions are recorded in the state file, the
    log holds all but the last line whole and the last one torn."""
    fresh, env, _expected = trial
    root = fresh()
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    from phase2_git.app import resolve as engine
    from phase2_git.git.repo import GitRepo
    from phase2_git.store.config import load
    from phase2_git.store.decisions import encode

    repo = GitRepo.discover(root)
    with engine.open_session(repo, "main", config=load(repo.root), environ=env,
                             no_commit=True) as session:  # fmt: skip
        for m in session.todo():
            session.record_auto(session.auto_operation(m), save=True)  # as --yes, saved
        lines = [encode(p["event"]) for p in session.state.pending]
    log = root / ".phase2" / "decisions.jsonl"
    torn = b"".join(lines[:-1]) + lines[-1][:-cut]
    log.write_bytes(torn)
    n = len(lines)
    ok = False
    try:
        for args in (
            ("log",),
            ("diff", "main"),
            ("resolve", "main", "--yes"),
            ("labels", "export"),
        ):
            r = run_phase2(args, cwd=root, env=env)
            assert_one_line_error(r, 2, f".phase2/decisions.jsonl:{n}: truncated last line")
        assert log.read_bytes() == torn, "the torn log was modified"
        # the fix the message asks for: remove the partial line; the rerun appends it whole
        log.write_bytes(b"".join(lines[:-1]))
        r = run_phase2(("resolve", "main", "--yes", "--no-commit"), cwd=root, env=env)
        assert_no_crash(r, (DONE,))
        assert log.read_bytes() == b"".join(lines), "a decision was dropped or duplicated"
        assert (root / USER_FILE).read_text() == USER_TEXT
        assert git(root, "fsck", "--no-progress", "--no-dangling", env=env).strip() == ""
        ok = True
    finally:
        record("faults", f"torn-log-line:{cut}", ok)


# ---------------------------------------------------------------------------- concurrency


def _user_commit(root: Path, env: dict[str, str], kind: str) -> str:
    if kind == "unrelated":
        (root / "user.txt").write_text("a user's commit\n")
        git(root, "add", "user.txt", env=env)
        git(root, "commit", "-q", "-m", "user", env=env)
    elif kind == "same-artifact":
        (root / "golden/001.json").write_text('{"a": 1, "b": [1, 2, 3]}\n')
        git(root, "add", "golden/001.json", env=env)
        git(root, "commit", "-q", "-m", "user edits an artifact", env=env)
    elif kind == "amend":
        git(root, "commit", "-q", "--amend", "-m", "reworded", env=env)
    elif kind == "reset":
        git(root, "reset", "-q", "--soft", "HEAD~1", env=env)
        git(root, "commit", "-q", "-m", "recommitted", env=env)
    return git(root, "rev-parse", "HEAD", env=env).strip()


@pytest.mark.parametrize("kind", ["unrelated", "same-artifact", *slow("amend", "reset")])
def test_user_commit_between_plan_and_apply(
    trial, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """The engine records its decisions, the user commits, then the engine applies: the
    compare-and-swap refuses (exit 3), nothing of the user's is lost, and a rerun finishes."""
    fresh, env, _expected = trial
    root = fresh()
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    from phase2_git.app import resolve as engine
    from phase2_git.git.repo import GitRepo
    from phase2_git.store.config import load

    repo = GitRepo.discover(root)
    ok = False
    try:
        with engine.open_session(repo, "main", config=load(repo.root), environ=env) as session:
            for m in session.todo():
                session.record_auto(session.auto_operation(m))  # as --yes records
            user_head = _user_commit(root, env, kind)
            with pytest.raises(RefusedError) as info:
                session.apply()
            assert info.value.exit_code == 3 and "moved" in str(info.value)
        assert git(root, "rev-parse", "HEAD", env=env).strip() == user_head
        assert git(root, "fsck", "--no-progress", "--no-dangling", env=env).strip() == ""
        assert (root / USER_FILE).read_text() == USER_TEXT
        res = run_phase2(("resolve", "main", "--yes"), cwd=root, env=env)
        assert_no_crash(res, (DONE,))
        # the user's commit is in the history of the result
        assert git(root, "merge-base", "--is-ancestor", user_head, "HEAD", env=env) == ""
        left = json.loads(
            run_phase2(("diff", "main", "HEAD", "--format", "json"), cwd=root, env=env).out
        )
        assert not [m for m in left["mismatches"] if m["mismatch_type"] == "json_ordering"]
        end_state(root, env)
        ok = True
    finally:
        record("concurrency", f"user-commit-before-apply:{kind}", ok)


CONCURRENT_TRIALS = int(os.environ.get("PHASE2_CONCURRENT_TRIALS", "2"))


def test_two_writers_at_once(trial) -> None:
    """Two ``resolve --yes`` started together: the loser is refused by the lock (exit 3, one
    line) or finds nothing left to do; never a lost or duplicated decision."""
    fresh, env, expected = trial
    for t in range(CONCURRENT_TRIALS):
        root = fresh(f"race{t}")
        results: list[Result | None] = [None, None]

        def go(k: int, root: Path = root) -> None:
            results[k] = run_phase2(("resolve", "main", "--yes"), cwd=root, env=env)

        threads = [threading.Thread(target=go, args=(k,)) for k in (0, 1)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        ok = False
        try:
            for r in results:
                assert r is not None
                assert_no_crash(r, (DONE, 3))
                if r.code == 3:
                    assert b"holds .phase2/lock" in r.err or b"moved" in r.err, r
            rerun_reaches_the_end(root, env, expected)
            ok = True
        finally:
            record("concurrency", f"two-writers:{t}", ok)


# ---------------------------------------------------------------------------- SIGKILL

KILL_TRIALS = int(os.environ.get("PHASE2_KILL_TRIALS", "12"))


@pytest.mark.slow
@pytest.mark.parametrize("how", ["sigkill", "sigint-group"])
def test_sigkill_at_random_points_over_hundreds_of_mismatches(tmp_path: Path, how: str) -> None:
    """tests/test_faults.py's scenario (160 mismatches), every kill counted for the figures;
    also as Ctrl-C does it (SIGINT to the process group)."""
    from tests import test_faults

    env = hermetic_env(tmp_path / "home")
    pristine = tmp_path / "pristine"
    pristine.mkdir()
    git(pristine, "init", "-q", env=env)

    class Repo:
        root = pristine

        def write(self, path: str, data: bytes) -> None:
            p = pristine / path
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)

        def commit(self, message: str) -> None:
            git(pristine, "add", "-A", env=env)
            git(pristine, "commit", "-q", "-m", message, env=env)

        def git(self, *args: str) -> str:
            return git(pristine, *args, env=env)

    test_faults.build(Repo())  # type: ignore[arg-type]
    clean = tmp_path / "clean"
    shutil.copytree(pristine, clean, symlinks=True)
    t0 = time.monotonic()  # calibrated without coverage's tracer, as the trials after the first
    res = run_phase2(("resolve", "main", "--yes"), cwd=clean, env=untraced(env))
    assert_no_crash(res, (DONE,))
    duration = time.monotonic() - t0
    expected = test_faults.end_state(clean)
    rng = random.Random(7)
    group = test_faults.STOPS[how][1]
    for t in range(KILL_TRIALS):
        work = tmp_path / f"kill{t}"
        shutil.copytree(pristine, work, symlinks=True)
        run_env = measured_once(env, t)
        proc = start_phase2(("resolve", "main", "--yes"), cwd=work, env=run_env, new_session=group)
        time.sleep(rng.uniform(0.0, duration * 1.1))
        killed = proc.poll() is None
        if killed:
            test_faults.stop(proc, how)
        finish(proc)
        ok = False
        try:
            # git children of the stopped run (update-index, update-ref …) may hold index.lock
            # or the branch's lock a moment longer: the rerun refuses (exit 3), as it must, and
            # is run again; a lock left once the whole group is gone is removed (test_faults)
            for _attempt in range(20):
                res = run_phase2(("resolve", "main", "--yes"), cwd=work, env=run_env)
                if not test_faults.refused_for_a_lock(res.code, res.err):
                    break
                if group and test_faults.group_gone(proc.pid):
                    test_faults.remove_locks(work)
                time.sleep(0.25)
            assert_no_crash(res, (DONE,))
            assert test_faults.end_state(work) == expected
            ok = True
        finally:
            record("faults", f"{how}:{t}:{'killed' if killed else 'finished'}", ok)
        shutil.rmtree(work)
