"""SIGKILL at random points of ``resolve --yes``: a rerun always reaches the end state of an
uninterrupted run, with no decision lost or duplicated (invariant 2). The same for Ctrl-C
(SIGINT to the process group, as a terminal sends it) and SIGKILL to the whole group (git's
children die too: a stale ``index.lock`` is then removed, as the refusal tells the user)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.conftest import TestRepo
from tests.hostile_support import finish, measured_once, start_phase2, untraced

N_FILES = 150
TRIALS = int(os.environ.get("PHASE2_FAULT_TRIALS", "20"))


def build(repo: TestRepo) -> None:
    for i in range(N_FILES):
        repo.write(f"golden/{i:03}.json", b'{"a": %d, "b": [1, 2]}\n' % i)
    for i in range(10):
        repo.write(f"eval/{i}.json", b'{"score": 0.%d}\n' % i)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    for i in range(N_FILES):
        if i % 3 == 0:
            repo.write(f"golden/{i:03}.json", b'{"b": [1, 2], "a": %d}\n' % i)
        elif i % 3 == 1:
            repo.write(f"golden/{i:03}.json", b'{\n "a": %d,\n "b": [1, 2]\n}\n' % i)
        else:
            repo.write(f"golden/{i:03}.json", b'{"a": %d, "b": [1, 2]}' % i)
    for i in range(10):
        repo.write(f"eval/{i}.json", b'{"score": 0.%d5}\n' % i)
    repo.commit("regen")


def resolve(root: Path, env: dict[str, str], *, group: bool = False) -> subprocess.Popen[bytes]:
    # group: its own process group, as a shell gives a job
    return start_phase2(
        ("resolve", "main", "--yes"), cwd=root, env=env, output=True, new_session=group
    )


# how a run is stopped: SIGKILL to phase2 alone (its git children live on), SIGINT to its
# process group (Ctrl-C), SIGKILL to the whole group
STOPS = {
    "sigkill": (signal.SIGKILL, False),
    "sigint-group": (signal.SIGINT, True),
    "sigkill-group": (signal.SIGKILL, True),
}


def stop(proc: subprocess.Popen[bytes], how: str) -> None:
    sig, group = STOPS[how]
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)


def refused_for_a_lock(code: int, err: bytes) -> bool:
    """A rerun's refusal (exit 3) because index.lock or the branch's lock is held."""
    return code == 3 and (b"index is locked" in err or b"cannot lock ref" in err)


def remove_locks(root: Path) -> None:
    """Remove index.lock and the ref locks: only once no process of the stopped runs is left,
    as the refusal (the index's) and the runbook (the branch's) tell the user."""
    (root / ".git" / "index.lock").unlink(missing_ok=True)
    for lock in (root / ".git" / "refs").rglob("*.lock"):
        lock.unlink()


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def end_state(root: Path) -> tuple[str, list[tuple[str, str]], int, int]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True
        ).stdout

    tree = "".join(
        line + "\n" for line in git("ls-tree", "-r", "HEAD").splitlines() if ".phase2/" not in line
    )
    log = [
        json.loads(line) for line in (root / ".phase2" / "decisions.jsonl").read_text().splitlines()
    ]
    ids = [e["id"] for e in log]
    assert len(ids) == len(set(ids)), "duplicate decision lines"
    decided = sorted((e["mismatch_id"], e["decision"]) for e in log)
    commits = int(git("rev-list", "--count", "main..HEAD"))
    # a run killed between commit-tree and update-ref leaves a dangling commit: unreferenced,
    # harmless (gc collects it), and exactly what compare-and-swap promises
    assert git("fsck", "--no-progress", "--no-dangling").strip() == ""
    assert git("status", "--porcelain") == ""
    committed = git("show", "HEAD:.phase2/decisions.jsonl").count("\n")
    return tree, decided, commits, committed


@pytest.mark.slow
@pytest.mark.parametrize(
    "how", ["sigkill", *(pytest.param(h, marks=pytest.mark.slow) for h in STOPS if "-" in h)]
)
def test_sigkill_anywhere_resumes_to_the_same_end(repo: TestRepo, tmp_path: Path, how: str) -> None:
    build(repo)
    group = STOPS[how][1]
    # the calibrating run without coverage's tracer, as the trials after the first
    env = untraced(os.environ)
    pristine = tmp_path / "pristine"
    shutil.copytree(repo.root, pristine, symlinks=True)

    clean = tmp_path / "clean"
    shutil.copytree(pristine, clean, symlinks=True)
    t0 = time.monotonic()
    proc = resolve(clean, env)
    _, err = finish(proc)
    duration = time.monotonic() - t0
    # eval/*.json are real changes left to a human: --fail-on real, exit 1
    assert proc.returncode == 1, err.decode()
    expected = end_state(clean)
    assert expected[1].count(expected[1][0]) == 1

    rng = random.Random(20261127)
    killed = 0
    trials = TRIALS if how == "sigkill" else max(2, TRIALS // 2)
    for trial in range(trials):
        work = tmp_path / f"trial{trial}"
        shutil.copytree(pristine, work, symlinks=True)
        env = measured_once(os.environ, trial)
        proc = resolve(work, env, group=group)
        groups = [proc.pid]
        time.sleep(rng.uniform(0.0, duration * 1.1))
        if proc.poll() is None:
            stop(proc, how)
            killed += 1
        finish(proc)
        # resume (a second kill at another point in about half the trials)
        if rng.random() < 0.5:
            again = resolve(work, env, group=group)
            groups.append(again.pid)
            time.sleep(rng.uniform(0.0, duration))
            if again.poll() is None:
                stop(again, how)
            finish(again)
        # a killed phase2's git children (update-index, checkout-index, update-ref …) are not
        # killed with it and may still hold index.lock or the branch's ref lock for a moment:
        # the rerun then refuses (exit 3), as it must, and the user runs it again once git is
        # done. Killed with it, git leaves the lock behind: the refusal (the index's) and the
        # runbook (the branch's) say to remove it when no git process runs, as here.
        for _attempt in range(20):
            final = resolve(work, env)
            _out, err = finish(final)
            if refused_for_a_lock(final.returncode, err):
                if group and all(group_gone(g) for g in groups):
                    remove_locks(work)
                time.sleep(0.25)
                continue
            break
        assert final.returncode == 1, (trial, err.decode())
        assert end_state(work) == expected, trial
        shutil.rmtree(work)
    # how many kills land mid-way depends on the machine's speed: at least one must
    assert killed >= 1, "no run was killed mid-way: the trial proved nothing"


# git on PATH for the tests below: the first `update-ref` (the run about to be killed) waits
# until a later one (a rerun's) opens the gate, then moves the branch; the rerun's waits until
# it has. With a file `fail` in the gate, a rerun's update-ref fails instead, as git does when
# it cannot lock the ref. The order is forced, never timed.
_GATED_GIT = """#!/bin/sh
case " $* " in *" update-ref "*)
  if mkdir "$GATE/first" 2>/dev/null; then
    while [ ! -e "$GATE/open" ]; do sleep 0.01; done
    "$REAL_GIT" "$@"; rc=$?
    touch "$GATE/landed"; exit $rc
  fi
  if [ -e "$GATE/fail" ]; then
    echo "fatal: cannot lock ref: held by the test" >&2; exit 128
  fi
  touch "$GATE/open"
  while [ ! -e "$GATE/landed" ]; do sleep 0.01; done
esac
exec "$REAL_GIT" "$@"
"""


class _Gated(NamedTuple):
    work: Path  # the repository whose run was killed at the gate
    gate: Path
    gated: dict[str, str]  # the environment whose git waits at the gate
    expected: tuple[str, list[tuple[str, str]], int, int]  # an uninterrupted run's end
    deadline: float


def _killed_at_the_gate(repo: TestRepo, tmp_path: Path) -> _Gated:
    """A run killed (SIGKILL to phase2 alone) while its ``git update-ref`` waits at the gate of
    ``_GATED_GIT``, beside the end an uninterrupted run reaches from the same start."""
    build(repo)
    pristine = tmp_path / "pristine"
    shutil.copytree(repo.root, pristine, symlinks=True)
    env = dict(os.environ)
    clean = tmp_path / "clean"
    shutil.copytree(pristine, clean, symlinks=True)
    finish(resolve(clean, env))
    expected = end_state(clean)

    real_git = shutil.which("git")
    assert real_git is not None
    bin_dir, gate = tmp_path / "bin", tmp_path / "gate"
    bin_dir.mkdir()
    gate.mkdir()
    shim = bin_dir / "git"
    shim.write_text(_GATED_GIT)
    shim.chmod(0o755)
    gated = {**env, "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}"}
    gated.update(GATE=str(gate), REAL_GIT=real_git)

    work = tmp_path / "work"
    shutil.copytree(pristine, work, symlinks=True)
    killed = resolve(work, gated)
    deadline = time.monotonic() + 120
    while not (gate / "first").exists():
        assert killed.poll() is None, finish(killed)[1].decode()
        assert time.monotonic() < deadline, "the run never moved its branch"
        time.sleep(0.01)
    killed.kill()  # phase2 alone: its update-ref waits at the gate
    finish(killed)
    return _Gated(work, gate, gated, expected, deadline)


def _wait_landed(g: _Gated) -> None:
    while not (g.gate / "landed").exists():
        assert time.monotonic() < g.deadline, "the killed run's git never moved the branch"
        time.sleep(0.01)


@pytest.mark.parametrize("rerun_move", ["moved", "refused"])
def test_a_branch_move_landing_after_its_run_was_killed_is_taken_over(
    repo: TestRepo, tmp_path: Path, rerun_move: str
) -> None:
    """SIGKILL to phase2 while its ``git update-ref`` runs: that git lives on and can move the
    branch while a rerun works, after the rerun found it unmoved.

    moved: the rerun's own move finds the branch moved, to the commit its state recorded
    before the killed run's move; it finishes that run's sync and reaches the end of an
    uninterrupted run instead of refusing. refused: the rerun's move fails for another reason
    before the late move lands; its state still names the killed run's commit, so the run
    after it finishes that sync."""
    g = _killed_at_the_gate(repo, tmp_path)
    if rerun_move == "refused":
        (g.gate / "fail").touch()
        _out, err = finish(resolve(g.work, g.gated))
        assert b"was not moved" in err, err.decode()
        (g.gate / "fail").unlink()
        (g.gate / "open").touch()
        _wait_landed(g)
    rerun = resolve(g.work, g.gated)
    out, err = finish(rerun)
    assert (g.gate / "landed").exists()  # the killed run's move came first
    assert rerun.returncode == 1, err.decode()
    assert end_state(g.work) == g.expected
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=g.work, capture_output=True, text=True, check=True
    ).stdout
    took_over = f"the interrupted run's commit {head[:12]} landed while this run worked"
    assert (took_over in out.decode()) == (rerun_move == "moved")


def test_a_late_move_after_a_no_commit_rerun_is_still_synced(
    repo: TestRepo, tmp_path: Path
) -> None:
    """The killed run's ``git update-ref`` (as above) lands after a ``--no-commit`` rerun,
    which moves no branch and so cannot settle which came first: that rerun keeps the killed
    run's record, and the run after the late move finishes its sync (the working tree and
    index brought up to the commit), reaching the end of an uninterrupted run."""
    g = _killed_at_the_gate(repo, tmp_path)
    rerun = start_phase2(
        ("resolve", "main", "--yes", "--no-commit"), cwd=g.work, env=g.gated, output=True
    )
    _out, err = finish(rerun)
    assert rerun.returncode in (0, 1), err.decode()
    assert not (g.gate / "landed").exists()  # it moved no branch
    (g.gate / "open").touch()  # now the killed run's git moves it
    _wait_landed(g)
    final = resolve(g.work, dict(os.environ))
    _out, err = finish(final)
    assert final.returncode == 1, err.decode()
    assert end_state(g.work) == g.expected
