"""phase2_git.git against real repositories (never a mocked git)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

import tests.conftest as cf
from phase2_git.core.model import Change
from phase2_git.errors import GitError, UsageError
from phase2_git.git.blobs import missing_objects, prefetch_missing, read_blobs
from phase2_git.git.changes import changed_files, iter_changed_files
from phase2_git.git.repo import GitRepo
from phase2_git.git.sides import Side, default_base, merge_base, resolve_side, resolve_sides

MakeRepo = Callable[..., cf.TestRepo]
EMPTY_TREE_SHA1 = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="symlinks/odd names need POSIX")


@pytest.fixture
def mk(make_repo: MakeRepo) -> MakeRepo:
    return make_repo


def diff(repo: GitRepo, base: str, head: str, **kw: bool) -> list[Change]:
    return changed_files(repo, resolve_side(repo, base), resolve_side(repo, head), **kw)


def summary(changes: list[Change]) -> list[tuple[str, str, str | None]]:
    return [(c.status, c.path, c.old_path) for c in changes]


def blob_id(t: cf.TestRepo, data: bytes) -> str:
    return t.git("hash-object", "--stdin", input=data).strip()


def one_line(err: pytest.ExceptionInfo[Exception]) -> str:
    text = str(err.value)
    assert "\n" not in text and "\r" not in text
    return text


# ---------------------------------------------------------------------------- repo


def test_discover_reports_layout_and_ids(repo: cf.TestRepo) -> None:
    (repo.root / "sub" / "dir").mkdir(parents=True)
    g = GitRepo.discover(repo.root / "sub" / "dir")
    assert g.root == repo.root.resolve()
    assert g.git_dir == (repo.root / ".git").resolve()
    assert g.object_format == "sha1"
    assert (g.oid_len, g.zero_oid) == (40, "0" * 40)
    assert g.empty_tree == EMPTY_TREE_SHA1
    assert "env" not in repr(g)  # the environment may hold secrets


def test_discover_sha256(mk: MakeRepo) -> None:
    t = mk(object_format="sha256")
    g = GitRepo.discover(t.root)
    assert g.object_format == "sha256"
    assert g.oid_len == 64 and g.zero_oid == "0" * 64
    assert len(g.empty_tree) == 64
    assert g.empty_tree == t.git("hash-object", "-t", "tree", "--stdin", input=b"").strip()


def test_discover_not_a_repo_bare_and_git_dir(tmp_path: Path, repo: cf.TestRepo) -> None:
    plain = tmp_path / "plain dir"
    plain.mkdir()
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=str(tmp_path))
    with pytest.raises(UsageError) as err:
        GitRepo.discover(plain, env=env)
    assert one_line(err).startswith("not a git repository: ")
    assert "plain dir" in str(err.value)

    with pytest.raises(UsageError, match="not a git repository"):
        GitRepo.discover(tmp_path / "missing", env=env)

    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    with pytest.raises(UsageError, match="bare repository") as err:
        GitRepo.discover(bare, env=env)
    one_line(err)

    with pytest.raises(UsageError, match="git directory"):
        GitRepo.discover(repo.root / ".git")


def test_discovery_in_two_halves_gives_what_discover_gives(
    tmp_path: Path, repo: cf.TestRepo
) -> None:
    head = repo.commit()
    finish = GitRepo.begin_discovery(repo.root, resolve="HEAD")
    found = finish()
    assert found == GitRepo.discover(repo.root)
    assert found.resolved["HEAD"][0] == head
    # the errors are those of discover(), raised by the second half once git has answered
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=str(tmp_path))
    plain = tmp_path / "plain"
    plain.mkdir()
    later = GitRepo.begin_discovery(plain, env=env, resolve="HEAD")
    with pytest.raises(UsageError, match="not a git repository"):
        later()
    with pytest.raises(UsageError, match="no such directory"):
        GitRepo.begin_discovery(tmp_path / "missing", env=env)


def test_a_prestarted_command_is_taken_over_by_the_same_call(repo: cf.TestRepo) -> None:
    repo.write("a.json", "{}\n")
    repo.commit()
    repo.write("a.json", '{"a": 1}\n')
    repo.git("add", "a.json")
    g = GitRepo.discover(repo.root, resolve="HEAD")
    base, head = resolve_side(g, "HEAD"), resolve_side(g, ":index")
    expected = changed_files(g, base, head)

    from phase2_git.git import blobs, changes

    changes.prestart(g, base, head)
    blobs.prestart(g)
    started = dict(g._ahead)
    assert len(started) == 2
    assert changed_files(g, base, head) == expected  # diff-index: the started process
    (change,) = expected
    ((_, before, after),) = list(read_blobs(g, expected, max_size=1 << 20))  # cat-file too
    assert not g._ahead
    assert all(p.returncode == 0 for p in started.values())
    assert (before and before.data, after and after.data) == (b"{}\n", b'{"a": 1}\n')
    assert change.path == "a.json"
    # a second run starts its own processes, as before
    assert changed_files(g, base, head) == expected


def test_prestarted_commands_nothing_took_over_are_ended(repo: cf.TestRepo) -> None:
    repo.commit()
    g = GitRepo.discover(repo.root, resolve="HEAD")
    from phase2_git.git import blobs

    blobs.prestart(g)  # cat-file waits for input that never comes
    g.prestart("rev-parse", "HEAD")
    procs = list(g._ahead.values())
    # a call with other arguments or options does not take one over
    assert g.run("rev-parse", "HEAD", env={"GIT_TRACE": "0"}).strip() == repo.head().encode()
    assert len(g._ahead) == 2
    g.discard_started()
    assert not g._ahead
    assert all(p.returncode is not None for p in procs)


def test_discover_honours_inherited_environment(
    repo: cf.TestRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("a.txt", "a\n")
    repo.commit()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # a hook hands us GIT_DIR / GIT_WORK_TREE relative to its cwd
    monkeypatch.chdir(repo.root)
    env = dict(os.environ, GIT_DIR=".git", GIT_WORK_TREE=".")
    g = GitRepo.discover(elsewhere, env=env)
    assert g.root == repo.root.resolve()
    assert Path(g.env["GIT_DIR"]).is_absolute()

    # an alternate index (as `git commit -a` gives pre-commit hooks) is the :index side
    alt = tmp_path / "alt-index"
    subprocess.run(
        ["git", "read-tree", "HEAD"],
        cwd=repo.root,
        env=dict(os.environ, GIT_INDEX_FILE=str(alt)),
        check=True,
    )
    repo.write("staged-elsewhere.txt", "x\n")
    subprocess.run(
        ["git", "add", "staged-elsewhere.txt"],
        cwd=repo.root,
        env=dict(os.environ, GIT_INDEX_FILE=str(alt)),
        check=True,
    )
    g_alt = GitRepo.discover(repo.root, env=dict(os.environ, GIT_INDEX_FILE=str(alt)))
    assert summary(diff(g_alt, "HEAD", ":index")) == [("added", "staged-elsewhere.txt", None)]
    g_default = GitRepo.discover(repo.root)
    assert diff(g_default, "HEAD", ":index") == []


def test_run_errors_carry_git_stderr_and_config(repo: cf.TestRepo) -> None:
    g = GitRepo.discover(repo.root)
    with pytest.raises(GitError) as err:
        g.run("cat-file", "-p", "no-such-object")
    text = one_line(err)
    assert text.startswith("git cat-file failed: ")
    assert "no-such-object" in text
    assert g.run("cat-file", "-p", "no-such-object", check=False) == b""
    assert g.config_get("phase2.missing") is None
    repo.git("config", "phase2.key", "some value")
    assert g.config_get("phase2.key") == "some value"
    assert g.config_bool("core.bare", True) is False
    assert not g.is_shallow()


def test_stream_hands_out_what_run_returns_and_fails_like_it(repo: cf.TestRepo) -> None:
    for k in range(300):  # a listing longer than one read of the pipe
        repo.write(f"d{k % 7}/file-{k:04}-{'x' * 200}.json", "{}\n")
    head = repo.commit("many")
    g = GitRepo.discover(repo.root)
    pieces = list(g.stream("ls-tree", "-r", "-z", "--full-tree", head))
    assert len(pieces) > 1
    assert b"".join(pieces) == g.run("ls-tree", "-r", "-z", "--full-tree", head)
    with pytest.raises(GitError) as err:
        list(g.stream("ls-tree", "-r", "no-such-tree"))
    assert one_line(err).startswith("git ls-tree failed: ")
    # closed after its first piece: git is stopped and reaped, nothing raised
    gen = g.stream("ls-tree", "-r", "-z", "--full-tree", head)
    assert next(gen)
    gen.close()


# ---------------------------------------------------------------------------- sides


def test_resolve_side_kinds_and_labels(repo: cf.TestRepo) -> None:
    repo.write("a.txt", "a\n")
    c1 = repo.commit()
    repo.git("tag", "v1")
    repo.write("a.txt", "b\n")
    c2 = repo.commit()
    g = GitRepo.discover(repo.root)

    head = resolve_side(g, "HEAD")
    assert (head.kind, head.commit, head.label) == ("commit", c2, c2)
    assert head.tree == repo.git("rev-parse", "HEAD^{tree}").strip()
    assert resolve_side(g, "HEAD~1").commit == c1
    assert resolve_side(g, "v1").commit == c1  # a tag peels to its commit
    assert resolve_side(g, c1[:10]).commit == c1
    assert resolve_side(g, ":index") == Side(":index", "index", None, "")
    assert resolve_side(g, ":index").label == ":index"
    assert resolve_side(g, ":worktree").label == ":worktree"


def test_both_sides_at_once_resolve_as_each_alone(repo: cf.TestRepo) -> None:
    """resolve_sides (one rev-parse for two commits) gives what resolve_side gives for each,
    and a spec it cannot take whole goes the one-side way, errors worded alike."""
    repo.write("a.txt", "a\n")
    repo.commit()
    repo.git("tag", "v1")
    repo.write("a.txt", "b\n")
    repo.commit()
    g = GitRepo.discover(repo.root)
    specs = ["HEAD", "HEAD~1", "v1", ":index", ":worktree", "v1^{tree}"]
    for base in specs:
        for head in specs:
            try:
                alone: object = (resolve_side(g, base), resolve_side(g, head))
            except UsageError as exc:
                alone = exc.message
            try:
                together: object = resolve_sides(g, base, head)
            except UsageError as exc:
                together = exc.message
            assert together == alone, (base, head)
    for bad in ("no-such-branch", "--output=/tmp/phase2-pwned", "HEAD~99", ""):
        for pair in ((bad, "HEAD"), ("HEAD", bad)):
            with pytest.raises(UsageError) as err:
                resolve_sides(g, *pair)
            assert err.value.message.startswith("unknown revision '")
    assert not Path("/tmp/phase2-pwned").exists()


@pytest.mark.parametrize(
    "spec", ["no-such-branch", "--output=/tmp/phase2-pwned", "bad\nref", "HEAD~99", ""]
)
def test_bad_ref_is_a_one_line_usage_error(repo: cf.TestRepo, spec: str) -> None:
    repo.write("a.txt", "a\n")
    repo.commit()
    g = GitRepo.discover(repo.root)
    with pytest.raises(UsageError) as err:
        resolve_side(g, spec)
    text = one_line(err)
    assert err.value.message.startswith("unknown revision '")
    assert spec.replace("\n", "\\n") in text
    assert err.value.hint and "fetch-depth" not in err.value.hint
    assert not Path("/tmp/phase2-pwned").exists()


def test_unborn_head(repo: cf.TestRepo) -> None:
    g = GitRepo.discover(repo.root)
    head = resolve_side(g, "HEAD")
    assert (head.kind, head.commit, head.tree) == ("commit", None, g.empty_tree)
    assert head.label == g.empty_tree
    with pytest.raises(UsageError):
        resolve_side(g, "HEAD~1")

    repo.write("staged.txt", "s\n")
    repo.git("add", "staged.txt")
    repo.write("untracked.txt", "u\n")
    assert summary(diff(g, "HEAD", ":index")) == [("added", "staged.txt", None)]
    wt = diff(g, "HEAD", ":worktree")
    assert summary(wt) == [("added", "staged.txt", None), ("added", "untracked.txt", None)]
    assert wt[1].after == blob_id(repo, b"u\n")
    assert summary(diff(g, ":index", "HEAD")) == [("deleted", "staged.txt", None)]


def _history(mk: MakeRepo) -> cf.TestRepo:
    src = mk(name="src")
    for n in range(3):
        src.write("f.txt", f"{n}\n")
        src.commit(f"main {n}")
    src.git("checkout", "-q", "-b", "feature", "HEAD~2")
    src.write("g.txt", "feature\n")
    src.commit("feature")
    src.git("checkout", "-q", "main")
    return src


def test_merge_base_and_default_base(mk: MakeRepo) -> None:
    src = _history(mk)
    g = GitRepo.discover(src.root)
    fork = src.git("rev-parse", "main~2").strip()
    assert merge_base(g, "main", "feature") == fork
    src.git("checkout", "-q", "feature")
    assert default_base(g) == (fork, "merge base of HEAD and main")

    with pytest.raises(UsageError, match="unknown revision 'nope'"):
        merge_base(g, "nope", "main")

    src.git("checkout", "-q", "--orphan", "island")
    src.commit("unrelated")
    with pytest.raises(UsageError) as err:
        merge_base(g, "island", "main")
    assert one_line(err).startswith("no merge base between 'island' and 'main'")

    clone = mk(name="clone")
    clone.git("remote", "add", "origin", f"file://{src.root}")
    clone.git("fetch", "-q", "origin")
    clone.git("checkout", "-q", "-b", "work", "--track", "origin/feature")
    gc = GitRepo.discover(clone.root)
    assert default_base(gc) == (
        src.git("rev-parse", "feature").strip(),
        ("merge base of HEAD and origin/feature"),
    )
    clone.git("branch", "-q", "--unset-upstream")
    assert default_base(gc) == (fork, "merge base of HEAD and origin/main")


def test_default_base_without_candidates(repo: cf.TestRepo) -> None:
    repo.git("checkout", "-q", "-b", "topic")
    repo.commit("only")
    with pytest.raises(UsageError) as err:
        default_base(GitRepo.discover(repo.root))
    assert "no base to compare with" in one_line(err)


def test_shallow_clone_errors_mention_fetch_depth(mk: MakeRepo, tmp_path: Path) -> None:
    src = _history(mk)
    dest = tmp_path / "shallow"
    subprocess.run(
        [
            "git",
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            f"file://{src.root}",
            str(dest),
        ],
        check=True,
    )
    g = GitRepo.discover(dest)
    assert g.is_shallow()
    with pytest.raises(UsageError) as err:
        merge_base(g, "HEAD", "origin/feature")
    one_line(err)
    assert err.value.hint and "fetch-depth: 0" in err.value.hint
    with pytest.raises(UsageError) as err:
        resolve_side(g, "HEAD~2")
    assert err.value.hint and "fetch-depth: 0" in err.value.hint


# ---------------------------------------------------------------------------- statuses


def test_every_status_between_commits(repo: cf.TestRepo) -> None:
    body = "".join(f"line {n}\n" for n in range(40))
    repo.write("modified.txt", "old\n")
    repo.write("deleted.txt", "gone\n")
    repo.write("moved.txt", body)
    repo.write("moved-edit.txt", body + "tail\n")
    repo.write("script.sh", "echo hi\n")
    repo.write("becomes-link", "plain\n")
    base = repo.commit("base")
    repo.write("modified.txt", "new\n")
    (repo.root / "deleted.txt").unlink()
    repo.write("added.txt", "fresh\n")
    (repo.root / "moved.txt").rename(repo.root / "moved-to.txt")
    (repo.root / "moved-edit.txt").unlink()
    repo.write("moved-edit-to.txt", body + "other tail\n")
    (repo.root / "script.sh").chmod(0o755)
    (repo.root / "becomes-link").unlink()
    (repo.root / "becomes-link").symlink_to("modified.txt")
    repo.commit("head")
    g = GitRepo.discover(repo.root)

    got = diff(g, base, "HEAD")
    assert summary(got) == [
        ("added", "added.txt", None),
        ("modified", "becomes-link", None),
        ("deleted", "deleted.txt", None),
        ("modified", "modified.txt", None),
        ("renamed", "moved-edit-to.txt", "moved-edit.txt"),
        ("renamed", "moved-to.txt", "moved.txt"),
        ("mode", "script.sh", None),
    ]
    by = {c.path: c for c in got}
    assert by["added.txt"].before is None and by["added.txt"].before_mode == "000000"
    assert by["added.txt"].after == blob_id(repo, b"fresh\n")
    assert by["deleted.txt"].after is None and by["deleted.txt"].after_mode == "000000"
    assert by["moved-to.txt"].similarity == 100
    assert by["moved-to.txt"].before == by["moved-to.txt"].after
    sim = by["moved-edit-to.txt"].similarity
    assert sim is not None and 50 <= sim < 100
    assert by["script.sh"].before == by["script.sh"].after
    assert (by["script.sh"].before_mode, by["script.sh"].after_mode) == ("100644", "100755")
    assert (by["becomes-link"].before_mode, by["becomes-link"].after_mode) == ("100644", "120000")
    assert by["becomes-link"].after == blob_id(repo, b"modified.txt")
    for c in got:
        if c.status != "renamed":
            assert c.old_path is None and c.similarity is None

    plain = diff(g, base, "HEAD", renames=False)
    assert ("deleted", "moved.txt", None) in summary(plain)
    assert ("added", "moved-to.txt", None) in summary(plain)
    assert all(c.status != "renamed" for c in plain)
    assert diff(g, "HEAD", "HEAD") == []


def test_commits_compare_without_reading_the_index(repo: cf.TestRepo) -> None:
    repo.write("a.json", "1\n")
    repo.write("b.json", "1\n")
    repo.commit("base")
    repo.write("a.json", "2\n")
    (repo.root / "b.json").rename(repo.root / "c.json")
    repo.commit("head")
    g = GitRepo.discover(repo.root)
    before = summary(diff(g, "HEAD~1", "HEAD"))
    assert before == [("modified", "a.json", None), ("renamed", "c.json", "b.json")]
    # a 100,000-file index is 15 MiB of git diff-tree's memory; a corrupt one stops it
    (repo.root / ".git" / "index").write_bytes(b"DIRC not an index")
    with pytest.raises(AssertionError, match="index file"):
        repo.git("diff-tree", "-r", "HEAD~1", "HEAD")
    assert summary(diff(g, "HEAD~1", "HEAD")) == before
    assert list(iter_changed_files(g, resolve_side(g, "HEAD~1"), resolve_side(g, "HEAD"))) == (
        diff(g, "HEAD~1", "HEAD")
    )


def test_reversed_sides_mirror_forward(repo: cf.TestRepo) -> None:
    repo.write("keep.txt", "k\n")
    repo.write("old.txt", "".join(f"{n}\n" for n in range(30)))
    repo.commit()
    repo.git("mv", "old.txt", "new.txt")
    repo.write("staged.txt", "s\n")
    repo.git("add", "staged.txt")
    repo.write("keep.txt", "changed\n")
    repo.write("untracked.txt", "u\n")
    g = GitRepo.discover(repo.root)

    for a, b in [("HEAD", ":index"), ("HEAD", ":worktree"), (":index", ":worktree")]:
        fwd = diff(g, a, b)
        back = diff(g, b, a)
        assert fwd, (a, b)
        assert len(back) == len(fwd)
        mirror = {"added": "deleted", "deleted": "added"}
        by_path = {(c.old_path or c.path): c for c in back}
        for c in fwd:
            r = by_path[c.path]
            assert r.status == mirror.get(c.status, c.status)
            assert (r.before, r.after) == (c.after, c.before)
            assert (r.before_mode, r.after_mode) == (c.after_mode, c.before_mode)
            if c.status == "renamed":
                assert (r.path, r.old_path) == (c.old_path, c.path)
    assert ("renamed", "new.txt", "old.txt") in summary(diff(g, "HEAD", ":index"))
    assert ("renamed", "old.txt", "new.txt") in summary(diff(g, ":index", "HEAD"))
    assert diff(g, ":index", ":index") == []
    assert diff(g, ":worktree", ":worktree") == []


# ---------------------------------------------------------------------------- index/worktree


def test_index_and_worktree_sides(repo: cf.TestRepo) -> None:
    repo.write("a.txt", "one\n")
    repo.write("b.txt", "b\n")
    repo.write("gone.txt", "g\n")
    repo.commit()
    repo.write("a.txt", "two\n")
    repo.git("add", "a.txt")
    repo.write("a.txt", "three\n")
    (repo.root / "gone.txt").unlink()
    g = GitRepo.discover(repo.root)

    staged = diff(g, "HEAD", ":index")
    assert summary(staged) == [("modified", "a.txt", None)]
    assert staged[0].after == blob_id(repo, b"two\n")

    wt = diff(g, "HEAD", ":worktree")
    assert summary(wt) == [("modified", "a.txt", None), ("deleted", "gone.txt", None)]
    assert wt[0].after == blob_id(repo, b"three\n")
    # the worktree id is written, so cat-file can read it
    assert repo.git("cat-file", "-p", wt[0].after or "") == "three\n"

    iw = diff(g, ":index", ":worktree")
    assert summary(iw) == [("modified", "a.txt", None), ("deleted", "gone.txt", None)]
    assert (iw[0].before, iw[0].after) == (blob_id(repo, b"two\n"), blob_id(repo, b"three\n"))


def test_stat_only_dirt_and_crlf_under_autocrlf(repo: cf.TestRepo) -> None:
    repo.write("lf.txt", "a\nb\n")
    repo.write("touched.txt", "same\n")
    repo.commit()
    repo.git("config", "core.autocrlf", "true")
    # same content under a new mtime and a CRLF rewrite of an LF blob: not changes
    os.utime(repo.root / "touched.txt", (1_000_000_000, 1_000_000_000))
    repo.write("lf.txt", "a\r\nb\r\n")
    g = GitRepo.discover(repo.root)
    assert diff(g, "HEAD", ":worktree") == []
    assert diff(g, ":index", ":worktree") == []

    repo.write("lf.txt", "a\r\nc\r\n")
    wt = diff(g, "HEAD", ":worktree")
    assert summary(wt) == [("modified", "lf.txt", None)]
    assert wt[0].after == blob_id(repo, b"a\nc\n")  # the id after git's clean conversion

    # mixed endings under safecrlf: git add would refuse, but the id is still computable
    repo.git("config", "core.safecrlf", "true")
    repo.write("lf.txt", "a\r\nc\n")
    assert diff(g, "HEAD", ":worktree")[0].after == blob_id(repo, b"a\nc\n")


def test_untracked_ignored_and_executable(repo: cf.TestRepo) -> None:
    repo.write(".gitignore", "*.log\nbuild/\n")
    repo.commit()
    repo.write("new.txt", "n\n")
    repo.write("debug.log", "ignored\n")
    repo.write("build/out.bin", "ignored\n")
    repo.write("tool.sh", "#!/bin/sh\n").chmod(0o755)
    g = GitRepo.discover(repo.root)
    wt = diff(g, "HEAD", ":worktree")
    assert summary(wt) == [("added", "new.txt", None), ("added", "tool.sh", None)]
    assert [c.after_mode for c in wt] == ["100644", "100755"]
    assert summary(diff(g, ":index", ":worktree")) == summary(wt)
    assert diff(g, "HEAD", ":index") == []


def test_worktree_renames_deindexed_files_and_intent_to_add(repo: cf.TestRepo) -> None:
    repo.write("a.txt", "content a\n")
    repo.write("keep.txt", "keep\n")
    repo.commit()
    (repo.root / "a.txt").rename(repo.root / "b.txt")  # moved, not staged
    repo.git("rm", "-q", "--cached", "keep.txt")  # still on disk
    repo.write("ita.txt", "intent\n")
    repo.git("add", "-N", "ita.txt")
    g = GitRepo.discover(repo.root)

    wt = diff(g, "HEAD", ":worktree")
    assert summary(wt) == [("renamed", "b.txt", "a.txt"), ("added", "ita.txt", None)]
    assert wt[0].similarity == 100
    assert wt[1].after == blob_id(repo, b"intent\n")
    assert summary(diff(g, "HEAD", ":worktree", renames=False)) == [
        ("deleted", "a.txt", None),
        ("added", "b.txt", None),
        ("added", "ita.txt", None),
    ]
    # the index neither holds keep.txt nor (really) ita.txt
    assert summary(diff(g, "HEAD", ":index")) == [("deleted", "keep.txt", None)]


def test_unmerged_index_is_a_usage_error(repo: cf.TestRepo) -> None:
    repo.write("f.txt", "base\n")
    repo.commit()
    repo.git("checkout", "-q", "-b", "other")
    repo.write("f.txt", "other\n")
    repo.commit()
    repo.git("checkout", "-q", "main")
    repo.write("f.txt", "main\n")
    repo.commit()
    repo.git("merge", "-q", "other", check=False)
    g = GitRepo.discover(repo.root)
    with pytest.raises(UsageError, match=r"unmerged path in the index: 'f\.txt'") as err:
        diff(g, "HEAD", ":index")
    one_line(err)
    wt = diff(g, "HEAD", ":worktree")  # the conflicted file as it sits on disk
    assert summary(wt) == [("modified", "f.txt", None)]


# ---------------------------------------------------------------------------- symlinks, names


@posix_only
def test_symlinks_compare_targets_never_follow(repo: cf.TestRepo) -> None:
    (repo.root / "passwd-link").symlink_to("/etc/passwd")
    (repo.root / "moving-link").symlink_to("a")
    repo.commit()
    g = GitRepo.discover(repo.root)
    (repo.root / "moving-link").unlink()
    (repo.root / "moving-link").symlink_to("b")
    (repo.root / "new-link").symlink_to("/etc/passwd")
    (repo.root / "dangling").symlink_to("does/not/exist")

    wt = diff(g, "HEAD", ":worktree")
    assert summary(wt) == [
        ("added", "dangling", None),
        ("modified", "moving-link", None),
        ("added", "new-link", None),
    ]
    by = {c.path: c for c in wt}
    assert by["new-link"].after == blob_id(repo, b"/etc/passwd")
    assert by["new-link"].after_mode == "120000"
    assert by["moving-link"].after == blob_id(repo, b"b")
    assert by["dangling"].after == blob_id(repo, b"does/not/exist")

    blobs = {c.path: (b, a) for c, b, a in read_blobs(g, wt, max_size=1 << 20)}
    before, after = blobs["moving-link"]
    assert before is not None and after is not None
    assert (before.data, after.data, after.mode) == (b"a", b"b", "120000")
    assert blobs["new-link"][1] is not None and blobs["new-link"][1].data == b"/etc/passwd"

    repo.commit()
    committed = read_blobs(g, diff(g, "HEAD~1", "HEAD"), max_size=1 << 20)
    assert all(b"root:" not in (a.data or b"") for _, _, a in committed if a)


@posix_only
def test_awkward_file_names(repo: cf.TestRepo) -> None:
    names = [
        "with space.txt",
        "new\nline.txt",
        "ünïcödé.json",
        "-dash.txt",
        "--end-of-options",
        '"quoted".txt',
        "back\\slash",
        "tab\tname",
        "trailing-cr\r",
        os.fsdecode(b"latin1-\xe9.txt"),
    ]
    for n, name in enumerate(names):
        repo.write(name, f"v1 {n}\n")
    repo.commit()
    g = GitRepo.discover(repo.root)
    for n, name in enumerate(names):
        repo.write(name, f"v2 {n}\n")
    repo.commit()
    assert sorted(c.path for c in diff(g, "HEAD~1", "HEAD")) == sorted(names)

    # worktree: every name dirty (hash-object --stdin-paths) and untracked copies
    for n, name in enumerate(names):
        repo.write(name, f"v3 {n}\n")
        repo.write("u-" + name, f"u {n}\n")
    wt = diff(g, "HEAD", ":worktree")
    assert sorted(c.path for c in wt) == sorted(names + ["u-" + x for x in names])
    for n, name in enumerate(names):
        c = next(c for c in wt if c.path == name)
        assert c.status == "modified"
        assert c.after == blob_id(repo, f"v3 {n}\n".encode())
    contents = {c.path: a.data for c, _, a in read_blobs(g, wt, max_size=1000) if a}
    assert contents["new\nline.txt"] == b"v3 1\n"
    assert contents["u-trailing-cr\r"] == b"u 8\n"


# ---------------------------------------------------------------------------- submodules


def test_submodule_changes_and_blobs(mk: MakeRepo) -> None:
    lib = mk(name="lib")
    lib.write("lib.txt", "1\n")
    lib.commit()
    sup = mk(name="super")
    sup.write("top.txt", "t\n")
    sup.commit()
    sup.git(
        "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib.root), "vendor/lib"
    )
    sup.commit("add submodule")
    g = GitRepo.discover(sup.root)

    added = diff(g, "HEAD~1", "HEAD")
    assert summary(added) == [("added", ".gitmodules", None), ("added", "vendor/lib", None)]
    gitlink = added[1]
    old = lib.head()
    assert (gitlink.after, gitlink.after_mode) == (old, "160000")

    sub = cf.TestRepo(sup.root / "vendor" / "lib")
    sub.write("dirty.txt", "uncommitted\n")  # dirt inside the submodule is not a change
    assert diff(g, "HEAD", ":worktree") == []
    sub.commit("moved")
    new = sub.head()
    wt = diff(g, "HEAD", ":worktree")
    assert summary(wt) == [("modified", "vendor/lib", None)]
    assert (wt[0].before, wt[0].after) == (old, new)

    [(_, before, after)] = list(read_blobs(g, wt, max_size=10))
    assert before is not None and after is not None
    assert before.data == f"Subproject commit {old}\n".encode() == before.head
    assert (after.oid, after.mode, after.size) == (new, "160000", len(after.head))


# ---------------------------------------------------------------------------- sha256


def test_sha256_repository_end_to_end(mk: MakeRepo) -> None:
    t = mk(object_format="sha256")
    g = GitRepo.discover(t.root)
    t.write("a.json", '{"a": 1}\n')
    t.git("add", "a.json")
    unborn = diff(g, "HEAD", ":index")
    assert summary(unborn) == [("added", "a.json", None)]
    assert len(unborn[0].after or "") == 64
    t.commit()
    t.write("a.json", '{"a": 2}\n')
    t.write("b.txt", "b\n")
    wt = diff(g, "HEAD", ":worktree")
    assert summary(wt) == [("modified", "a.json", None), ("added", "b.txt", None)]
    assert all(len(c.after or "") == 64 for c in wt)
    pairs = list(read_blobs(g, wt, max_size=100))
    assert pairs[0][1] is not None and pairs[0][1].data == b'{"a": 1}\n'
    assert pairs[0][2] is not None and pairs[0][2].data == b'{"a": 2}\n'
    t.commit()
    assert summary(diff(g, "HEAD~1", "HEAD")) == summary(wt)
    assert merge_base(g, "HEAD", "HEAD~1") == t.git("rev-parse", "HEAD~1").strip()


# ---------------------------------------------------------------------------- blobs


def test_read_blobs_order_sizes_and_truncation(repo: cf.TestRepo) -> None:
    big = bytes(range(256)) * 100  # 25600 bytes
    for n in range(30):
        repo.write(f"f{n:02}.txt", f"before {n}\n")
    repo.write("big.bin", b"small\n")
    repo.write("gone.txt", "bye\n")
    repo.commit()
    for n in range(30):
        repo.write(f"f{n:02}.txt", f"after {n}\n")
    repo.write("big.bin", big)
    (repo.root / "gone.txt").unlink()
    repo.write("zz-new.txt", "hello\n")
    repo.commit()
    g = GitRepo.discover(repo.root)
    changes = diff(g, "HEAD~1", "HEAD")

    seen = list(read_blobs(g, changes, max_size=1000))
    assert [c for c, _, _ in seen] == changes
    by = {c.path: (b, a) for c, b, a in seen}
    before, after = by["big.bin"]
    assert before is not None and before.data == b"small\n" and not before.truncated
    assert after is not None and after.truncated
    assert (after.data, after.size, after.head) == (None, len(big), big[:8000])
    for n in range(30):
        b, a = by[f"f{n:02}.txt"]
        assert b is not None and a is not None
        assert (b.data, a.data) == (f"before {n}\n".encode(), f"after {n}\n".encode())
        assert b.head == b.data and b.size == len(b.data or b"")
    assert by["gone.txt"][1] is None and by["zz-new.txt"][0] is None
    assert list(read_blobs(g, [], max_size=10)) == []


def test_read_blobs_missing_object_names_it(repo: cf.TestRepo) -> None:
    g = GitRepo.discover(repo.root)
    ghost = "1" * 40
    change = Change("added", "ghost.txt", None, None, ghost, "000000", "100644")
    with pytest.raises(GitError) as err:
        list(read_blobs(g, [change], max_size=100))
    text = one_line(err)
    assert ghost in text and "ghost.txt" in text


def _children(pid: int) -> list[tuple[int, str, str]]:
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if int(ppid) == pid:
            kids.append((int(entry), state, comm))
    return kids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_read_blobs_closed_early_leaves_no_process(repo: cf.TestRepo) -> None:
    for n in range(200):
        repo.write(f"f{n:03}.txt", f"{n}\n" * 2000)
    repo.commit()
    g = GitRepo.discover(repo.root)
    empty = Side("empty", "commit", None, g.empty_tree)
    changes = changed_files(g, empty, resolve_side(g, "HEAD"))
    assert len(changes) == 200
    gen = read_blobs(g, changes, max_size=1 << 20)
    first = next(gen)
    assert first[0] == changes[0]
    assert any(comm == "git" for _, _, comm in _children(os.getpid()))
    gen.close()
    assert _children(os.getpid()) == []

    # an error mid-stream cleans up too
    ghost = Change("added", "ghost", None, None, "2" * 40, "000000", "100644")
    with pytest.raises(GitError):
        list(read_blobs(g, [*changes[:5], ghost, *changes[5:]], max_size=1 << 20))
    assert _children(os.getpid()) == []


def _packs(root: Path) -> list[str]:
    return sorted(p.name for p in (root / ".git" / "objects" / "pack").glob("*.promisor"))


def test_partial_clone_fetches_missing_blobs_in_one_batch(mk: MakeRepo, tmp_path: Path) -> None:
    src = mk(name="src")
    for n in range(12):
        src.write(f"data/{n}.json", f'{{"v": {n}}}\n')
    src.commit()
    for n in range(12):
        src.write(f"data/{n}.json", f'{{"v": {n + 100}}}\n')
    src.commit()
    dest = tmp_path / "partial"
    subprocess.run(
        ["git", "clone", "-q", "--filter=blob:none", f"file://{src.root}", str(dest)], check=True
    )
    g = GitRepo.discover(dest)
    changes = diff(g, "HEAD~1", "HEAD")  # trees are local; HEAD~1's blobs are not
    assert len(changes) == 12
    old_ids = [c.before or "" for c in changes]
    assert sorted(missing_objects(g, old_ids + [c.after or "" for c in changes])) == sorted(old_ids)
    packs = _packs(dest)

    got = {c.path: (b, a) for c, b, a in read_blobs(g, changes, max_size=1000)}
    assert len(_packs(dest)) == len(packs) + 1  # one fetch for all twelve blobs
    for n in range(12):
        before, after = got[f"data/{n}.json"]
        assert before is not None and before.data == f'{{"v": {n}}}\n'.encode()
        assert after is not None and after.data == f'{{"v": {n + 100}}}\n'.encode()
    assert missing_objects(g, old_ids) == []
    assert prefetch_missing(g, old_ids) == []


def test_not_a_partial_clone_never_fetches(repo: cf.TestRepo) -> None:
    repo.write("a", "a\n")
    repo.commit()
    g = GitRepo.discover(repo.root)
    assert prefetch_missing(g, ["3" * 40]) == []


def test_read_blobs_reports_what_git_said_when_cat_file_dies(repo: cf.TestRepo) -> None:
    """A corrupt object stops cat-file mid-batch: the error carries git's own message (its
    stderr, drained while the batch ran), not a bare "output ended"."""
    repo.write("a.txt", "one\n")
    repo.commit()
    repo.write("a.txt", "two\n")
    repo.commit()
    g = GitRepo.discover(repo.root)
    changes = diff(g, "HEAD~1", "HEAD")
    after = changes[0].after
    assert after is not None
    loose = repo.root / ".git" / "objects" / after[:2] / after[2:]
    loose.chmod(0o644)
    loose.write_bytes(zlib.compress(b"blob 4\x00two\n")[:-6])  # a stream cut short
    with pytest.raises(GitError) as caught:
        list(read_blobs(g, changes, max_size=1 << 20))
    message = str(caught.value)
    assert message.startswith("git cat-file failed: ") and f"unable to stream {after}" in message


def test_git_program_is_looked_up_once_on_absolute_path_entries(tmp_path: Path) -> None:
    from phase2_git.git.repo import _git_program

    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "git").write_text("#!/bin/sh\n")
    (fake / "git").chmod(0o755)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _git_program(os.pathsep.join([str(empty), str(fake), "/usr/bin"])) == str(fake / "git")
    # a relative entry is resolved against the child's cwd: the system decides
    assert _git_program(os.pathsep.join(["rel", str(fake)])) == "git"
    assert _git_program(os.pathsep.join(["", str(fake)])) == "git"
    assert _git_program(None) == "git"
    assert _git_program(str(empty)) == "git"  # not found: exec reports it as before
    (empty / "git").write_text("not executable")
    assert _git_program(str(empty) + os.pathsep + str(fake)) == str(fake / "git")


def test_blob_reader_gives_each_pair_as_it_is_taken(repo: cf.TestRepo) -> None:
    # a worker's reader (app/workers.py): pairs given one at a time, over more requests than
    # one piece holds (4 KiB of ids), the same as read_blobs gives them
    from phase2_git.git.blobs import BlobReader

    for i in range(150):
        repo.write(f"d/{i:03}.json", json.dumps({"i": i, "pad": "x" * (i * 37)}))
    base = repo.commit()
    for i in range(150):
        repo.write(f"d/{i:03}.json", json.dumps({"pad": "x" * (i * 37), "i": i}))
    repo.commit()
    g = GitRepo.discover(repo.root, resolve="HEAD")
    changes = diff(g, base, "HEAD")
    assert len(changes) == 150
    expected = [
        (c, b and b.data, a and a.data) for c, b, a in read_blobs(g, changes, max_size=1 << 20)
    ]
    reader = BlobReader(g, max_size=1 << 20)
    try:
        pairs = reader.pairs(changes)
        first = [next(pairs) for _ in range(100)]  # past the first piece's answers
        assert [(c, b and b.data, a and a.data) for c, b, a in first] == expected[:100]
        pairs.close()  # left before its end: the answers still in the pipe are never read
        again = list(reader.pairs(changes[120:] + changes[:5]))
        assert [(c, b and b.data, a and a.data) for c, b, a in again] == (
            expected[120:] + expected[:5]
        )
    finally:
        reader.close()


def test_a_reader_left_with_large_answers_pending_stops_its_git(
    repo: cf.TestRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a worker's pair that fails (a missing object in a shallow copy of a data repository)
    # leaves its reader while git is still writing the piece's next answers, each larger than
    # the pipe: git, blocked on the full pipe, never reads the end of its input. Stopping it
    # waited the whole grace period and killed it (10 s of a 0.2 s run); with the pipe closed
    # its write fails and it exits by itself
    from phase2_git.git import blobs
    from phase2_git.git.blobs import BlobReader

    for i in range(8):
        repo.write(f"d/{i}.json", json.dumps({"i": i, "pad": "x" * 300_000}))
    base = repo.commit()
    for i in range(8):
        repo.write(f"d/{i}.json", json.dumps({"pad": "y" * 300_000, "i": i}))
    repo.commit()
    g = GitRepo.discover(repo.root, resolve="HEAD")
    changes = diff(g, base, "HEAD")
    monkeypatch.setattr(blobs, "_STOP_WAIT", 120)  # a failure waits this long, then kills
    reader = BlobReader(g, max_size=1 << 20)
    pairs = reader.pairs(changes)
    _, before, _ = next(pairs)
    assert before is not None and before.size > 300_000
    proc = reader._proc
    assert proc is not None
    pairs.close()  # left with 15 answers of 300 KB unread
    assert proc.returncode is not None and proc.returncode != -signal.SIGKILL
    assert reader._proc is None
