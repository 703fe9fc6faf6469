"""How the working tree follows a transform commit (git/commit.py): files written in place from
bytes phase2 holds when a checkout would write exactly those bytes, ``checkout-index`` for the
rest, and either way the result a checkout would give, with the index refreshed."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from phase2_git.errors import GitError, UsageError
from phase2_git.files import ManyWrites, atomic_write_chunks
from phase2_git.git import commit as gitc
from phase2_git.git import worktree
from phase2_git.git.paths import beyond_symlinks, blob_id
from phase2_git.git.repo import GitRepo
from phase2_git.git.worktree import CONVERSION_ATTRIBUTES
from tests.conftest import Cli, TestRepo

posix_only = pytest.mark.skipif(os.name != "posix", reason="inodes, modes and links are POSIX")

BASE = b'{"a": 1, "b": [1, 2]}\n'
NOISE = b'{"b": [1, 2], "a": 1}\n'  # json_ordering: restore_base writes BASE back


def resolve(repo: TestRepo, cli: Cli) -> str:
    code, out, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 0, err
    return out


def regenerate(repo: TestRepo, paths: list[str]) -> None:
    for p in paths:
        repo.write(p, BASE)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    for p in paths:
        repo.write(p, NOISE)
    repo.commit("regen")


def clean(repo: TestRepo) -> None:
    assert repo.git("status", "--porcelain") == ""
    # the index's stat data is fresh: plumbing that trusts it sees no change either
    assert repo.git("diff-files", "--name-only") == ""


def perms(repo: TestRepo, path: str) -> int:
    return (repo.root / path).stat().st_mode & 0o777


@posix_only
def test_plain_files_are_rewritten_in_place_keeping_the_executable_bit(
    repo: TestRepo, cli: Cli
) -> None:
    repo.write("golden/a.json", BASE)
    repo.write("bin/tool.json", BASE)
    (repo.root / "bin/tool.json").chmod(0o755)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    repo.write("golden/a.json", NOISE)
    repo.write("bin/tool.json", NOISE)
    repo.commit("regen")
    # permissions git never sets show the file was written in place, not created anew
    (repo.root / "golden/a.json").chmod(0o600)
    (repo.root / "bin/tool.json").chmod(0o700)
    out = resolve(repo, cli)
    assert "2 transform(s)" in out
    assert repo.read("golden/a.json") == repo.read("bin/tool.json") == BASE
    assert (perms(repo, "golden/a.json"), perms(repo, "bin/tool.json")) == (0o600, 0o700)
    assert repo.git("ls-files", "-s", "bin/tool.json").startswith("100755 ")
    clean(repo)


@posix_only
def test_converted_files_are_checked_out_by_git(repo: TestRepo, cli: Cli) -> None:
    repo.write(".gitattributes", "crlf/*.json text eol=crlf\n")
    regenerate(repo, ["crlf/a.json", "plain/b.json"])
    for path in ("crlf/a.json", "plain/b.json"):
        (repo.root / path).chmod(0o600)
    resolve(repo, cli)
    # the eol attribute converts on checkout: git wrote that file (anew, CRLF)
    assert repo.read("crlf/a.json") == BASE.replace(b"\n", b"\r\n")
    umask = os.umask(0o022)
    os.umask(umask)
    assert perms(repo, "crlf/a.json") == 0o666 & ~umask
    assert repo.read("plain/b.json") == BASE
    assert perms(repo, "plain/b.json") == 0o600
    clean(repo)


@posix_only
def test_a_hard_linked_file_is_replaced_never_written_through(
    repo: TestRepo, cli: Cli, tmp_path_factory: pytest.TempPathFactory
) -> None:
    regenerate(repo, ["golden/a.json"])
    outside = tmp_path_factory.mktemp("links") / "other-name.json"
    os.link(repo.root / "golden/a.json", outside)
    resolve(repo, cli)
    assert repo.read("golden/a.json") == BASE
    assert outside.read_bytes() == NOISE  # the other name keeps its bytes
    clean(repo)


def test_direct_writes_only_where_nothing_converts(repo: TestRepo) -> None:
    repo.write(".gitattributes", "ident.json ident\nraw.json -text\n")
    for name in ("a.json", "ident.json", "raw.json", "big.json", "link.json"):
        repo.write(name, BASE)
    repo.commit("base")
    git = GitRepo.discover(repo.root)
    held = {"1" * 40: b"x", "2" * 40: b"y"}

    def update(path: str, new: str = "1" * 40, mode: str = "100644") -> gitc.TreeUpdate:
        return gitc.TreeUpdate(path, "0" * 40, new, mode)

    ups = [
        update("a.json"),
        update("ident.json"),  # $Id$ expansion: git writes it
        update("raw.json"),  # -text: no conversion, in place
        update("big.json", new="3" * 40),  # bytes not held
        update("missing.json"),
        update("a.json", mode="100755"),  # the file is not executable
    ]
    chosen = gitc.direct_writes(git, ups, held)
    expected = [("a.json", "100644"), ("raw.json", "100644")] if os.name == "posix" else []
    assert [(u.path, u.mode) for u in chosen] == expected
    # a .gitattributes among the synced paths could change what converts: none in place
    assert gitc.direct_writes(git, ups, held, every=["a.json", "sub/.gitattributes"]) == []
    # attributes asked before are used when they cover every path, else git is asked again
    plain = dict.fromkeys(CONVERSION_ATTRIBUTES, "unspecified")
    known = {"a.json": plain, "ident.json": plain}  # (ident.json's answer is stale here)
    posix = os.name == "posix"
    both = gitc.unconverted(git, ["a.json", "ident.json"], known=known)
    assert both == ({"a.json", "ident.json"} if posix else set())
    asked = gitc.unconverted(git, ["a.json", "raw.json"], known=known)
    assert asked == ({"a.json", "raw.json"} if posix else set())
    repo.git("config", "core.autocrlf", "true")
    assert gitc.direct_writes(git, ups, held) == []
    repo.git("config", "core.autocrlf", "input")  # converts when adding only
    assert len(gitc.direct_writes(git, ups, held)) == len(expected)


def test_attributes_hold_only_what_is_specified(repo: TestRepo) -> None:
    """``attributes`` leaves "unspecified" out, and every reader takes a name left out as
    unspecified: a plain path converts nothing, a set attribute still counts."""
    repo.write(".gitattributes", "ident.json ident\nraw.json -text\nf.json filter=strip\n")
    names = ("a.json", "ident.json", "raw.json", "f.json")
    for name in names:
        repo.write(name, BASE)
    repo.commit("base")
    git = GitRepo.discover(repo.root)
    attrs = worktree.attributes(git, list(names), CONVERSION_ATTRIBUTES)
    assert attrs == {
        "a.json": {},
        "ident.json": {"ident": "set"},
        "raw.json": {"text": "unset"},
        "f.json": {"filter": "strip"},
    }
    assert worktree.never_rewritten(attrs["a.json"]) is None
    assert worktree.never_rewritten(attrs["f.json"]) == "filter=strip"
    assert worktree.conversions(attrs["a.json"], "") == []
    assert worktree.conversions(attrs["ident.json"], "") == ["ident"]
    if os.name == "posix":
        assert gitc.unconverted(git, list(names), known=attrs) == {"a.json", "raw.json"}
    hidden = worktree.hidden_bytes(git, dict.fromkeys(names, None), attrs=attrs, crlf="")
    assert set(hidden) == {"f.json"}
    assert worktree.attributes(git, [], CONVERSION_ATTRIBUTES) == {}


def test_index_entries_read_in_pieces_are_the_ones_asked_by_path(repo: TestRepo) -> None:
    """Past 64 paths the whole index is streamed (records cut across pipe reads): the same
    entries as asked path by path."""
    paths = [f"golden/{'long-folder-name/' * 3}{i:04}.json" for i in range(1200)]
    for p in paths:
        repo.write(p, f'{{"n": {p[-9:-5]}}}\n')
    repo.commit("base")
    repo.git("update-index", "--assume-unchanged", paths[700])
    repo.git("update-index", "--skip-worktree", paths[-1])
    git = GitRepo.discover(repo.root)
    listing = repo.git("ls-files", "-z", "-s", "-v").encode()
    assert len(listing) > 2 * (1 << 16)  # more than a pipe's read
    wanted = [*paths[::7], paths[-1], "missing.json"]
    streamed = gitc.index_entries(git, wanted)
    one_by_one = {}
    for at in range(0, len(wanted), 64):
        one_by_one.update(gitc.index_entries(git, wanted[at : at + 64]))
    assert streamed == one_by_one
    assert set(streamed) == set(wanted) - {"missing.json"}
    assert streamed[paths[700]].assume_unchanged and streamed[paths[-1]].skip_worktree
    assert streamed[paths[0]] == gitc.IndexEntry("100644", streamed[paths[0]].oid, 0, False)


@pytest.mark.parametrize("object_format", ["sha1", "sha256"])
def test_a_spooled_blob_is_the_blob_of_its_pieces(
    make_repo: Callable[..., TestRepo], object_format: str
) -> None:
    repo = make_repo(object_format=object_format)
    git = GitRepo.discover(repo.root)
    pieces = [b"first line\n", b"", b"x" * (gitc.SpooledBlob.PIECE + 17), b"last\n"]
    data = b"".join(pieces)
    with gitc.SpooledBlob(git, iter(pieces)) as spool:
        assert (spool.size, spool.oid) == (len(data), blob_id(git, data))
        assert b"".join(spool.pieces()) == data
        assert max(len(p) for p in spool.pieces()) == gitc.SpooledBlob.PIECE
        assert spool.startswith(b"") and spool.startswith(data) and spool.startswith(data[:12])
        assert not spool.startswith(data + b"more") and not spool.startswith(b"second")
        assert not spool.startswith(data[: gitc.SpooledBlob.PIECE + 5] + b"!")
        assert spool.store(fast=True) == spool.oid
        assert repo.git("cat-file", "blob", spool.oid).encode() == data
        assert b"".join(spool.checked()) == data
        # bytes that are not the blob's after all: the write fed from them stops, nothing replaced
        target = repo.root / "log.jsonl"
        target.write_bytes(b"old\n")
        spool._file.seek(3)
        spool._file.write(b"?")
        with pytest.raises(UsageError, match="changed under phase2"):
            atomic_write_chunks(target, spool.checked())
        assert target.read_bytes() == b"old\n"
        assert sorted(p.name for p in repo.root.glob(".log.jsonl.*")) == []
    with gitc.SpooledBlob(git, []) as empty:
        assert empty.oid == blob_id(git, b"") and list(empty.pieces()) == []
        assert empty.startswith(b"") and not empty.startswith(b"x")


def test_a_spooled_blob_git_cannot_store_is_a_git_error(repo: TestRepo) -> None:
    git = GitRepo.discover(repo.root)
    not_a_folder = repo.write("objects-file", b"")
    with gitc.SpooledBlob(git, [b"data" * 100_000]) as spool:
        git.env = {**git.env, "GIT_OBJECT_DIRECTORY": str(not_a_folder)}
        with pytest.raises(GitError, match="hash-object"):
            spool.store()


def test_atomic_write_chunks_writes_them_all_or_nothing(repo: TestRepo) -> None:
    target = repo.root / "out.bin"
    atomic_write_chunks(target, iter([b"a", b"", b"bc"]))
    assert target.read_bytes() == b"abc"

    def failing() -> Iterator[bytes]:
        yield b"partial"
        raise UsageError("stopped")

    with pytest.raises(UsageError, match="stopped"):
        atomic_write_chunks(target, failing())
    assert target.read_bytes() == b"abc"
    assert [p.name for p in repo.root.glob(".out.bin.*")] == []


@pytest.mark.parametrize("count", [3, ManyWrites.FROM, 200])
def test_many_writes_write_each_file_whole_and_keep_its_mode(
    tmp_path: os.PathLike[str], count: int
) -> None:
    """One after the other below ``FROM``, on threads above it (with more files than the
    window of bytes held): the same files either way, each with its own permission bits,
    and no temporary file left."""
    folder = Path(tmp_path)
    paths = [folder / f"d{i % 7}" / f"f{i}.json" for i in range(count)]
    for i, p in enumerate(paths):
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"old" * i)
        p.chmod(0o600 if i % 2 else 0o644)
    with ManyWrites(count, window=8) as writes:
        for i, p in enumerate(paths):
            writes.write(p, b"new %d" % i)
    assert [p.read_bytes() for p in paths] == [b"new %d" % i for i in range(count)]
    modes = [stat.S_IMODE(p.stat().st_mode) for p in paths]
    assert modes == [0o600 if i % 2 else 0o644 for i in range(count)]
    assert not list(folder.rglob("*.tmp"))


def test_many_writes_stop_at_a_failure_and_name_the_file(tmp_path: os.PathLike[str]) -> None:
    """A file that cannot be written (its folder is a file) ends the block with that file's
    one-line error; every other file is its old self or its new self, whole."""
    folder = Path(tmp_path)
    (folder / "blocked").write_bytes(b"a file, not a folder")
    paths = [folder / f"f{i}.json" for i in range(100)]
    for p in paths:
        p.write_bytes(b"old")
    order = [*paths[:50], folder / "blocked" / "x.json", *paths[50:]]
    with pytest.raises(UsageError, match=r"blocked/x\.json: cannot write"):
        with ManyWrites(len(order), window=4) as writes:
            for p in order:
                writes.write(p, b"new")
    assert {p.read_bytes() for p in paths} <= {b"old", b"new"}
    assert paths[0].read_bytes() == b"new"
    assert not list(folder.rglob("*.tmp"))
    assert not [t for t in threading.enumerate() if t.name.startswith("phase2-write")]


def test_a_few_paths_are_refreshed_alone_and_nothing_is_staged(repo: TestRepo) -> None:
    """``refresh``: the stat data of the paths given (``git add --refresh``), never their
    content; a path the index does not hold makes it refresh the whole index instead. And
    ``stat_changed`` asked about a few paths answers for them as it does for all."""
    for name in ("a.json", "b.json", "c.json", "other.json"):
        repo.write(name, '{"a": 1}\n')
    repo.commit("base")
    git = GitRepo.discover(repo.root)
    staged = repo.git("ls-files", "-s")
    later = os.stat(repo.root / "a.json").st_mtime + 10
    for name in ("a.json", "b.json", "other.json"):
        os.utime(repo.root / name, (later, later))  # same bytes, stat data changed
    repo.write("c.json", '{"a": 2}\n')  # the user's unstaged edit
    changed = gitc.stat_changed(git)
    assert {b"a.json", b"b.json", b"c.json", b"other.json"} <= changed
    assert gitc.stat_changed(git, ["a.json", "c.json"]) - {b""} == {b"a.json", b"c.json"}
    gitc.refresh(git, ["a.json", "b.json", "c.json"])
    left = repo.git("diff-files", "--name-only").split()
    assert left == ["c.json", "other.json"]  # c.json differs; other.json was not asked about
    assert repo.git("ls-files", "-s") == staged  # nothing staged, c.json's edit included
    gitc.refresh(git, ["other.json", "gone.json"])  # not in the index: the whole index
    assert repo.git("diff-files", "--name-only").split() == ["c.json"]
    assert repo.git("ls-files", "-s") == staged


def _index_tree(git: GitRepo, parent: str, updates: list[gitc.TreeUpdate], tmp: Path) -> str:
    """The tree the temporary index gives: the parent read, the updates applied, written."""
    tmp.mkdir()
    env = {"GIT_INDEX_FILE": str(tmp / "index")}
    git.run("read-tree", parent, env=env)
    git.run("update-index", "-z", "--index-info", input=gitc._index_info(git, updates), env=env)
    return git.run("write-tree", "--missing-ok", env=env).decode().strip()


def test_folders_tree_is_the_tree_the_temporary_index_gives(repo: TestRepo, tmp_path: Path) -> None:
    """The tree written folder by folder, held to a temporary index's over random updates:
    files changed, removed (a folder emptied with them), added in new folders, modes
    changed, a submodule and a symlink beside them, odd names; and None, never another
    tree, where a file and a folder would trade places or there are too many folders."""
    import random

    names = [
        "top.json",
        "a/x.json",
        "a/y.txt",
        "a/b/z.json",
        "a/b/c/deep.json",
        "only/one.json",
        "we ird/ünï [1].json",
        "tab\tname/f.json",
        "exe/run.sh",
        "a/b/link",
    ]
    for name in names:
        if name == "a/b/link":
            os.symlink("z.json", repo.root / "a" / "b" / "link")
        else:
            repo.write(name, f"{name}\n")
    (repo.root / "exe" / "run.sh").chmod(0o755)
    repo.git("add", "-A")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},sub/module")
    parent = repo.commit("tree", all=False)  # the submodule has no folder to add
    assert "160000 commit" in repo.git("ls-tree", "-r", parent, "--", "sub/module")
    git = GitRepo.discover(repo.root)
    blobs = [
        git.run("hash-object", "-w", "--stdin", input=b"v%d\n" % i).decode().strip()
        for i in range(4)
    ]
    files = [n for n in names if n != "a/b/link"]
    fresh = ["new/deeper/n.json", "a/b/c/d/e.json", "a/new.json", "top2.json"]
    rng = random.Random(7)
    compared = 0
    for round_ in range(60):
        updates = []
        for path in rng.sample(files + fresh + ["a/b/link"], rng.randint(1, 6)):
            old = None
            new = None if rng.random() < 0.3 else rng.choice(blobs)
            mode = rng.choice(["100644", "100644", "100755", "120000"])
            updates.append(gitc.TreeUpdate(path, old, new, mode))
        got = gitc.folders_tree(git, parent, updates, missing_ok=True)
        assert got is not None, updates
        want = _index_tree(git, parent, updates, tmp_path / f"i{round_}")
        assert got == want, updates
        compared += 1
    assert compared == 60
    # a file where a folder is, a folder where a file is, into a submodule: the index's job
    for path in ("a/b", "top.json/inner.json", "sub/module/f.json", "sub/module"):
        assert gitc.folders_tree(git, parent, [gitc.TreeUpdate(path, None, blobs[0])]) is None
    many = [gitc.TreeUpdate(f"d{i}/f.json", None, blobs[0]) for i in range(20)]
    assert gitc.folders_tree(git, parent, many) is None
    # a gitlink's mode in an update is not a blob's
    gitlink = gitc.TreeUpdate("other.json", None, "1" * 40, "160000")
    assert gitc.folders_tree(git, parent, [gitlink]) is None


def test_write_in_place_failure_is_one_line(repo: TestRepo) -> None:
    (repo.root / "folder.json").mkdir()
    git = GitRepo.discover(repo.root)
    with pytest.raises(UsageError, match=r"cannot write the working tree: .*folder\.json"):
        gitc.write_in_place(git, [("folder.json", b"{}")])


def test_the_writer_never_writes_part_of_a_file(tmp_path: os.PathLike[str]) -> None:
    """A phase2 killed while it streams to the writer: the writer sees the stream end inside a
    record and leaves that file as it was (whole files before it are written)."""
    first, second = os.path.join(tmp_path, "a"), os.path.join(tmp_path, "b")
    for p in (first, second):
        with open(p, "wb") as fh:
            fh.write(b"old contents\n")
    a, b = os.fsencode(first), os.fsencode(second)
    stream = b"%d 4\n%snew!" % (len(a), a) + b"%d 100\n%snew but cut" % (len(b), b)
    proc = subprocess.run(
        [sys.executable, "-I", "-S", str(gitc.WRITER)], input=stream, capture_output=True
    )
    assert proc.returncode == 0, proc.stderr
    with open(first, "rb") as fh:
        assert fh.read() == b"new!"
    with open(second, "rb") as fh:
        assert fh.read() == b"old contents\n"


def test_a_file_the_user_restaged_follows_without_its_index_entry(repo: TestRepo) -> None:
    """The index entry holds the user's own staged blob, the file still the old one: the file
    moves (through a temporary index), the user's staged blob stays."""
    repo.write("a.json", NOISE)
    repo.commit("base")
    git = GitRepo.discover(repo.root)
    old = repo.git("rev-parse", "HEAD:a.json").strip()
    new = repo.git("hash-object", "-w", "--stdin", input=BASE).strip()
    staged = repo.git("hash-object", "-w", "--stdin", input=b'{"mine": 1}\n').strip()
    repo.git("update-index", "--cacheinfo", f"100644,{staged},a.json")
    kept = gitc.sync_after_move(git, [gitc.TreeUpdate("a.json", old, new)], {new: BASE})
    assert kept == []
    assert repo.read("a.json") == BASE
    assert repo.git("ls-files", "-s", "a.json").split()[1] == staged


def test_a_killed_runs_torn_log_write_is_cleaned_up(repo: TestRepo, cli: Cli) -> None:
    regenerate(repo, ["golden/a.json"])
    torn = repo.write(".phase2/.decisions.jsonl.k1ll3d.tmp", b'{"schema": "Resolution')
    resolve(repo, cli)
    assert not torn.exists()
    clean(repo)


@posix_only
def test_when_the_writer_cannot_run_git_checks_the_files_out(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    regenerate(repo, ["golden/a.json", "golden/b.json"])
    (repo.root / "golden/a.json").chmod(0o600)
    monkeypatch.setattr(sys, "executable", str(repo.root / "no-such-python"))
    resolve(repo, cli)
    assert repo.read("golden/a.json") == repo.read("golden/b.json") == BASE
    umask = os.umask(0o022)
    os.umask(umask)
    assert perms(repo, "golden/a.json") == 0o666 & ~umask  # written anew, by git
    clean(repo)


def test_plumbing_helpers_on_their_edges(repo: TestRepo) -> None:
    repo.write("ok/a.json", BASE)
    repo.write("file", b"x")
    for i in range(70):
        repo.write(f"many/{i:02}.json", b"%d\n" % i)
    head = repo.commit("base")
    git = GitRepo.discover(repo.root)
    # blobs: one piped, several through temporary files, ids as git computes them
    one, two = b"one\n", b"two\n"
    assert gitc.write_blobs(git, [one]) == [repo.git("hash-object", "--stdin", input=one).strip()]
    ids = gitc.write_blobs(git, [one, two])
    assert [repo.git("cat-file", "blob", i).encode() for i in ids] == [one, two]
    # tree entries: a few by pathspec, many from one listing
    few = gitc.tree_entries(git, head, ["ok/a.json", "missing.json"])
    assert list(few) == ["ok/a.json"]
    many = [f"many/{i:02}.json" for i in range(70)]
    assert set(gitc.tree_entries(git, head, many)) == set(many)
    # folders that are missing, a file, or a name the OS refuses: refused, never an error
    odd = ["nodir/a.json", "file/b.json", "bad\0dir/c.json", "ok/a.json", "top.json"]
    assert beyond_symlinks(repo.root, odd) == {
        "nodir/a.json",
        "file/b.json",
        "bad\0dir/c.json",
    }
    hashes = gitc.clean_hashes(git, ["ok/a.json", "ok/gone.json", "ok/bad\0.json", "many"])
    assert hashes == {
        "ok/a.json": repo.git("rev-parse", "HEAD:ok/a.json").strip(),
        "ok/gone.json": None,
        "ok/bad\0.json": None,
        "many": None,
    }


def test_build_commit_without_late_updates_or_when_late_says_nothing(repo: TestRepo) -> None:
    repo.write("a.json", BASE)
    head = repo.commit("base")
    git = GitRepo.discover(repo.root)
    new = repo.git("hash-object", "-w", "--stdin", input=NOISE).strip()
    update = gitc.TreeUpdate("a.json", None, new)
    commit = gitc.build_commit(git, head, [update], "plain\n", sign=False)
    assert commit is not None and repo.git("show", f"{commit}:a.json").encode() == NOISE
    assert gitc.build_commit(git, head, [], "none\n", late=lambda: None) is None

    def broken() -> list[gitc.TreeUpdate]:
        raise RuntimeError("the log could not be made")

    with pytest.raises(RuntimeError, match="could not be made"):
        gitc.build_commit(git, head, [update], "broken\n", late=broken)
    assert repo.head() == head


def test_worktree_hashes_take_the_index_only_where_git_checked_the_file(repo: TestRepo) -> None:
    for name in ("same", "assumed", "touched", "edited", "skipped"):
        repo.write(f"{name}.json", BASE)
    repo.commit("base")
    repo.git("update-index", "--assume-unchanged", "assumed.json")
    repo.git("update-index", "--skip-worktree", "skipped.json")
    for name in ("assumed", "edited", "skipped"):
        repo.write(f"{name}.json", NOISE)  # git trusts the first and last without looking
    os.utime(repo.root / "touched.json", (1, 1))  # stat data differs, the bytes do not
    git = GitRepo.discover(repo.root)
    paths = [f"{n}.json" for n in ("same", "assumed", "touched", "edited", "skipped", "gone")]
    entries = gitc.index_entries(git, paths)
    assert entries["assumed.json"].assume_unchanged and entries["skipped.json"].skip_worktree
    hashes = gitc.worktree_hashes(git, paths, entries, gitc.stat_changed(git))
    assert hashes == gitc.clean_hashes(git, paths)
    assert hashes["assumed.json"] != entries["assumed.json"].oid


def test_an_edit_git_is_told_to_ignore_still_stops_resolve(repo: TestRepo, cli: Cli) -> None:
    regenerate(repo, ["golden/a.json"])
    repo.git("update-index", "--assume-unchanged", "golden/a.json")
    repo.write("golden/a.json", b'{"mine": true}\n')
    code, _, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 3 and "uncommitted changes" in err
    assert repo.read("golden/a.json") == b'{"mine": true}\n'


@posix_only
def test_many_files_are_written_by_two_writers(repo: TestRepo, cli: Cli) -> None:
    paths = [f"golden/{i:03}.json" for i in range(300)]
    regenerate(repo, paths)
    for p in paths:
        (repo.root / p).chmod(0o600)
    assert "300 transform(s)" in resolve(repo, cli)
    assert all(repo.read(p) == BASE and perms(repo, p) == 0o600 for p in paths)
    clean(repo)
    # a file the second writer cannot write: its error reaches the caller (which then lets
    # checkout-index write them all)
    git = GitRepo.discover(repo.root)
    (repo.root / "golden/299.json").unlink()
    (repo.root / "golden/299.json").mkdir()
    with pytest.raises(UsageError, match=r"299\.json"):
        gitc.write_in_place(git, [(p, NOISE) for p in paths])
