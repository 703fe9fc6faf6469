"""SIGKILL at random points of ``resolve --yes``: a rerun always reaches the end state of an
uninterrupted run, with no decision lost or duplicated (invariant 2)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import TestRepo
from tests.hostile_support import start_phase2

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


def resolve(root: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return start_phase2(("resolve", "main", "--yes"), cwd=root, env=env, output=True)


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
def test_sigkill_anywhere_resumes_to_the_same_end(repo: TestRepo, tmp_path: Path) -> None:
    build(repo)
    env = dict(os.environ)
    pristine = tmp_path / "pristine"
    shutil.copytree(repo.root, pristine, symlinks=True)

    clean = tmp_path / "clean"
    shutil.copytree(pristine, clean, symlinks=True)
    t0 = time.monotonic()
    proc = resolve(clean, env)
    _, err = proc.communicate()
    duration = time.monotonic() - t0
    assert proc.returncode == 0, err.decode()
    expected = end_state(clean)
    assert expected[1].count(expected[1][0]) == 1

    rng = random.Random(20261127)
    killed = 0
    for trial in range(TRIALS):
        work = tmp_path / f"trial{trial}"
        shutil.copytree(pristine, work, symlinks=True)
        proc = resolve(work, env)
        time.sleep(rng.uniform(0.0, duration * 1.1))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate()
        # resume (a second kill at another point in about half the trials)
        if rng.random() < 0.5:
            again = resolve(work, env)
            time.sleep(rng.uniform(0.0, duration))
            if again.poll() is None:
                again.send_signal(signal.SIGKILL)
            again.communicate()
        # a killed phase2's git children (update-index, checkout-index …) are not killed with
        # it and may still hold index.lock for a moment: the rerun then refuses (exit 3), as it
        # must, and the user runs it again once git is done
        for _attempt in range(20):
            final = resolve(work, env)
            _out, err = final.communicate()
            if final.returncode == 3 and b"index is locked" in err:
                time.sleep(0.25)
                continue
            break
        assert final.returncode == 0, (trial, err.decode())
        assert end_state(work) == expected, trial
        shutil.rmtree(work)
    assert killed >= TRIALS // 3, "too few runs were killed mid-way to mean anything"
