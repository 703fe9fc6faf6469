"""read_blobs(worktree=True): a long run takes an after side from its work-tree file only when
the file's bytes are that very blob; every other state of the file is read from git, and the
pairs are the same as git alone gives."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest

from phase2_git.core.model import Blob
from phase2_git.git import blobs
from phase2_git.git.changes import iter_changed_files
from phase2_git.git.repo import GitRepo
from phase2_git.git.sides import resolve_side
from tests.conftest import TestRepo

N = 24


def _staged(repo: TestRepo) -> None:
    """``N`` artifacts committed, then every one of them changed and staged."""
    repo.write(".gitattributes", "crlf-*.json text eol=crlf\n")
    for i in range(N):
        repo.write(f"a/f{i:02d}.json", json.dumps({"i": i, "v": [1, 2]}, indent=2) + "\n")
    repo.write("a/crlf-x.json", '{"x": 1}\n')
    repo.commit("base")
    for i in range(N):
        repo.write(f"a/f{i:02d}.json", json.dumps({"v": [1, 2], "i": i}, indent=4) + "\n")
    repo.write("a/crlf-x.json", '{"x": 2}\n')
    repo.git("add", "-A")
    (repo.root / "a/crlf-x.json").unlink()
    repo.git("checkout", "--", "a/crlf-x.json")  # the work tree holds CRLF, the blob LF
    assert (repo.root / "a/crlf-x.json").read_bytes() == b'{"x": 2}\r\n'


def _pairs(repo: TestRepo, *, worktree: bool, max_size: int = 1 << 20) -> list[Any]:
    git = GitRepo.discover(repo.root)
    changes = iter_changed_files(git, resolve_side(git, "HEAD"), resolve_side(git, ":index"))
    return list(blobs.read_blobs(git, changes, max_size=max_size, worktree=worktree))


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Streams from the 5th change (the hook's long runs), and lists the paths whose after
    side came from the work tree."""
    monkeypatch.setattr(blobs, "_SMALL", 4)
    taken: list[str] = []
    monkeypatch.setattr(blobs._Worktree, "blob", _counting(taken))
    return taken


def _counting(taken: list[str]) -> Callable[..., Blob | None]:
    real = blobs._Worktree.blob

    def spy(self: blobs._Worktree, c: Any, room: int) -> Blob | None:
        got = real(self, c, room)
        if got is not None:
            taken.append(c.path)
        return got

    return spy


def _edit_after_staging(repo: TestRepo) -> None:
    repo.write("a/f00.json", '{"edited": "after staging"}\n')


def _removed(repo: TestRepo) -> None:
    (repo.root / "a/f01.json").unlink()


def _symlink(repo: TestRepo) -> None:
    target = repo.root / "a/f02.json"
    data = target.read_bytes()
    repo.write("elsewhere.json", data)  # the very bytes, reached through a link
    target.unlink()
    target.symlink_to(repo.root / "elsewhere.json")


def _fifo(repo: TestRepo) -> None:
    target = repo.root / "a/f03.json"
    target.unlink()
    os.mkfifo(target)  # opening it for reading must not wait for a writer


def _folder(repo: TestRepo) -> None:
    target = repo.root / "a/f04.json"
    target.unlink()
    target.mkdir()


def _grown(repo: TestRepo) -> None:
    with (repo.root / "a/f05.json").open("ab") as f:
        f.write(b" ")


STATES: dict[str, tuple[Callable[[TestRepo], None], str]] = {
    "edited after staging": (_edit_after_staging, "a/f00.json"),
    "removed": (_removed, "a/f01.json"),
    "a symlink to the same bytes": (_symlink, "a/f02.json"),
    "a FIFO": (_fifo, "a/f03.json"),
    "a folder": (_folder, "a/f04.json"),
    "one byte longer": (_grown, "a/f05.json"),
}


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and symlinks are POSIX here")
@pytest.mark.parametrize("state", sorted(STATES))
def test_a_file_that_is_not_the_blob_is_read_from_git(
    repo: TestRepo, counted: list[str], state: str
) -> None:
    _staged(repo)
    expected = _pairs(repo, worktree=False)
    make, path = STATES[state]
    make(repo)
    got = _pairs(repo, worktree=True)
    assert got == expected  # the staged contents, whatever the work tree holds
    assert path not in counted
    assert "a/crlf-x.json" not in counted  # converted on checkout: its bytes are no blob
    # every other staged file was taken from the work tree
    assert sorted(counted) == sorted(
        f"a/f{i:02d}.json" for i in range(N) if f"a/f{i:02d}.json" != path
    )


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks are POSIX here")
def test_never_through_a_symlinked_folder(repo: TestRepo, counted: list[str]) -> None:
    """The same bytes behind a folder that is now a symlink: git would not read there, and
    neither does phase2 (a link to ``/dev`` must never be opened)."""
    _staged(repo)
    expected = _pairs(repo, worktree=False)
    (repo.root / "a").rename(repo.root / "b")
    (repo.root / "a").symlink_to(repo.root / "b")
    assert _pairs(repo, worktree=True) == expected
    assert counted == []


def test_a_sha256_repository_hashes_with_sha256(
    make_repo: Callable[..., TestRepo], counted: list[str]
) -> None:
    repo = make_repo(object_format="sha256")
    _staged(repo)
    got = _pairs(repo, worktree=True)
    assert len(counted) == N
    assert got == _pairs(repo, worktree=False)
    assert all(len(after.oid) == 64 for _, _, after in got)


def test_over_the_size_limit_or_the_budget_git_answers(
    repo: TestRepo, counted: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _staged(repo)
    small = 40  # every document is larger: compared by hash, never read whole
    expected = _pairs(repo, worktree=False, max_size=small)
    assert all(after.data is None for c, _, after in expected if c.path.startswith("a/f"))
    assert _pairs(repo, worktree=True, max_size=small) == expected
    assert counted == []
    # a budget of one file's bytes: held contents never pass it, the pairs stay the same
    size = len((repo.root / "a/f00.json").read_bytes())
    monkeypatch.setattr(blobs, "_LOCAL_BUDGET", size + blobs._EACH)
    assert _pairs(repo, worktree=True) == _pairs(repo, worktree=False)
    assert 0 < len(counted) < N


def test_a_short_run_never_reads_the_work_tree(repo: TestRepo, counted: list[str]) -> None:
    """The hook's few files go through cat-file alone (no hashing module imported for them)."""
    repo.write("x.json", '{"a": 1}\n')
    repo.commit("base")
    repo.write("x.json", '{"a": 2}\n')
    repo.git("add", "-A")
    assert len(_pairs(repo, worktree=True)) == 1
    assert counted == []


def test_the_hook_reads_the_work_tree_and_reports_the_same(
    repo: TestRepo, counted: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``phase2 check`` on a long staged run, with an unstaged edit on top of one file: the
    findings are those of the staged contents."""
    from phase2_git.app.check import run_check
    from phase2_git.store.config import load

    _staged(repo)
    _edit_after_staging(repo)
    git = GitRepo.discover(repo.root)
    files = [f"a/f{i:02d}.json" for i in range(N)]
    monkeypatch.setattr(blobs._Worktree, "blob", lambda self, c, room: None)
    serial = run_check(git, files, config=load(repo.root), cwd=repo.root)
    monkeypatch.undo()
    monkeypatch.setattr(blobs, "_SMALL", 4)
    monkeypatch.setattr(blobs._Worktree, "blob", _counting(counted))
    fast = run_check(git, files, config=load(repo.root), cwd=repo.root)
    assert fast == serial
    assert len(counted) == N - 1 and "a/f00.json" not in counted
    # f00's staged content is the regeneration's noise too; its unstaged edit is not checked
    assert [f.path for f in fast.findings] == files
    assert {f.kind for f in fast.findings} == {"noise"}
