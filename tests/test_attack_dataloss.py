"""Attack review, items 4 and 5: working-tree bytes lost to a rewrite.

Item 4: a file whose clean form is the committed blob may still hold bytes git does not store
(a clean filter that drops a notebook's ``"outputs"``, CRLF under ``text=auto`` or
``core.autocrlf=input``). Every command that writes working-tree files refuses those (exit 3,
one line naming the file and the attribute) and writes nothing.

Item 5: ``resolve --yes`` interrupted (Ctrl-C to the process group, SIGKILL) while the working
tree follows its commit left files torn (new bytes followed by the tail of the old ones), and
the rerun took them for the user's own edits. The writer is now out of reach of signals to
phase2's process group, and a rerun repairs what an interrupted run left.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from phase2_git.git import _writer, worktree
from phase2_git.git import commit as gitc
from phase2_git.git.repo import GitRepo
from tests.conftest import Cli, TestRepo
from tests.hostile_support import (
    copy_tree,
    git,
    hermetic_env,
    import_commits,
    measured_once,
    record,
    untraced,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="signals, sessions and modes")

# a notebook-like artifact: the clean filter drops the "outputs" line, so git stores the rest
HEAD_NB = b'{\n  "a": 1,\n  "b": 2\n}\n'
STAGED_NB = b'{\n  "b": 2,\n  "a": 1\n}\n'  # json_ordering noise against HEAD_NB
WORKTREE_NB = b'{\n  "b": 2,\n  "outputs": "my unsaved outputs",\n  "a": 1\n}\n'


def strip_filter(repo: TestRepo, where: str = ".gitattributes") -> None:
    """A real clean filter, nbstripout-like: it drops every line naming "outputs"."""
    repo.git("config", "filter.strip.clean", "sed -e '/outputs/d'")
    repo.git("config", "filter.strip.smudge", "cat")
    target = repo.root / where
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("*.json filter=strip\n")


def one_line(err: str) -> str:
    assert err.count("\n") == 1, err
    return err


def finding(out: str, path: str) -> str:
    """The one line ``check`` prints about ``path`` (then comes its summary line)."""
    lines = [line for line in out.splitlines() if line.startswith(f"{path}: ")]
    assert len(lines) == 1, out
    return lines[0]


# ---------------------------------------------------------------------------- item 4


def test_check_fix_never_rewrites_a_file_a_clean_filter_strips(repo: TestRepo, cli: Cli) -> None:
    repo.write("nb.json", HEAD_NB)
    repo.commit("base")
    strip_filter(repo, ".git/info/attributes")
    repo.write("nb.json", WORKTREE_NB)
    repo.git("add", "nb.json")
    # git stores the file without its outputs: the staged blob is the reordered document
    assert repo.git("cat-file", "blob", ":nb.json").encode() == STAGED_NB
    code, out, _ = cli("check", "--fix", "nb.json", repo=repo)
    assert code == 3, out
    line = finding(out, "nb.json")
    assert line.startswith("nb.json: refused: filter=strip attribute"), line
    assert repo.read("nb.json") == WORKTREE_NB  # the outputs are still there
    record("attacks", "item4: check --fix vs a clean filter", True)


def test_revert_never_rewrites_a_file_a_clean_filter_strips(repo: TestRepo, cli: Cli) -> None:
    repo.write("nb.json", HEAD_NB)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    repo.write("nb.json", STAGED_NB)
    repo.commit("regen")
    code, _, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 0, err
    assert repo.read("nb.json") == HEAD_NB
    decision = next(
        e["id"]
        for e in map(json.loads, repo.read(".phase2/decisions.jsonl").splitlines())
        if e.get("result")
    )
    # later the user adds a notebook filter and runs the notebook: git still sees HEAD_NB
    strip_filter(repo, ".git/info/attributes")
    with_outputs = HEAD_NB.replace(b'"a": 1,', b'"a": 1,\n  "outputs": "unsaved",')
    repo.write("nb.json", with_outputs)
    repo.git("add", "nb.json")  # stages nothing new: git stores the file without its outputs
    assert repo.git("status", "--porcelain") == ""
    head = repo.head()
    code, _, err = cli("revert", decision, repo=repo)
    assert code == 3, err
    line = one_line(err)
    assert "'nb.json'" in line and "filter=strip attribute" in line, line
    assert repo.read("nb.json") == with_outputs
    assert repo.head() == head  # nothing committed either
    record("attacks", "item4: revert vs a clean filter", True)


def test_resolve_refuses_crlf_that_text_auto_keeps_out_of_git(repo: TestRepo, cli: Cli) -> None:
    repo.write(".gitattributes", "*.json text=auto\n")
    repo.write("a.json", b'{"a": 1, "b": 2}\n')
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    repo.write("a.json", b'{"b": 2, "a": 1}\n')
    head = repo.commit("regen")
    # the user's editor saved CRLF: git stores LF, so git sees no change at all
    mine = b'{"b": 2, "a": 1}\r\n'
    repo.write("a.json", mine)
    repo.git("add", "a.json")  # stages nothing new
    assert repo.git("status", "--porcelain") == ""
    code, _, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 3, err
    line = one_line(err)
    assert "'a.json'" in line and "text=auto" in line, line
    assert repo.read("a.json") == mine
    assert repo.head() == head
    record("attacks", "item4: resolve vs CRLF under text=auto", True)


def test_check_fix_refuses_crlf_that_autocrlf_input_keeps_out_of_git(
    repo: TestRepo, cli: Cli
) -> None:
    repo.git("config", "core.autocrlf", "input")
    repo.write("a.json", b'{"a": 1, "b": 2}\n')
    repo.commit("base")
    mine = b'{"b": 2, "a": 1}\r\n'
    repo.write("a.json", mine)
    repo.git("add", "a.json")
    code, out, _ = cli("check", "--fix", repo=repo)
    assert code == 3, out
    line = finding(out, "a.json")
    assert line.startswith("a.json: refused:") and "core.autocrlf=input" in line, line
    assert repo.read("a.json") == mine
    record("attacks", "item4: check --fix vs CRLF under autocrlf=input", True)


def test_resolve_never_rewrites_a_filtered_file(repo: TestRepo, cli: Cli) -> None:
    """resolve's rule, now the shared one: the file is skipped, named, and left alone."""
    strip_filter(repo)
    repo.write("nb.json", HEAD_NB)
    repo.write("plain.txt", b"one\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    repo.write("nb.json", STAGED_NB)
    repo.write("plain.txt", b"one")
    repo.commit("regen")
    repo.write("nb.json", WORKTREE_NB)  # cleans to what is committed
    code, out, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 0, err
    assert "nb.json (json_ordering): filter=strip attribute: never rewritten" in out
    assert repo.read("nb.json") == WORKTREE_NB
    assert repo.read("plain.txt") == b"one\n"
    record("attacks", "item4: resolve skips a filtered file", True)


def test_converted_files_holding_only_what_git_writes_are_still_fixed(
    repo: TestRepo, cli: Cli
) -> None:
    """No over-refusal: a CRLF file that is exactly a checkout of its blob (eol=crlf), or a
    file that is exactly its blob, loses nothing to a rewrite."""
    repo.write(".gitattributes", "crlf/*.json text eol=crlf\nauto/*.json text=auto\n")
    repo.write("crlf/a.json", b'{"a": 1, "b": 2}\n')
    repo.write("auto/b.json", b'{"a": 1, "b": 2}\n')
    repo.commit("base")
    repo.write("crlf/a.json", b'{"b": 2, "a": 1}\r\n')  # what a checkout would write
    repo.write("auto/b.json", b'{"b": 2, "a": 1}\n')  # the blob's own bytes
    repo.git("add", "-A")
    code, out, _ = cli("check", "--fix", repo=repo)
    assert code == 1, out
    assert out.count("fixed json_ordering noise") == 2, out
    assert repo.read("crlf/a.json") == b'{"a": 1, "b": 2}\r\n'
    assert repo.read("auto/b.json") == b'{"a": 1, "b": 2}\n'


def test_the_sync_after_a_commit_keeps_a_file_holding_bytes_git_does_not_store(
    repo: TestRepo,
) -> None:
    """The git layer's own guard, whatever the command above it checked."""
    repo.write(".gitattributes", "*.json text=auto\n")
    repo.write("a.json", b'{"b": 2, "a": 1}\n')
    repo.write("b.json", b'{"b": 2, "a": 1}\n')
    repo.commit("base")
    g = GitRepo.discover(repo.root)
    old = repo.git("rev-parse", "HEAD:a.json").strip()
    new = repo.git("hash-object", "-w", "--stdin", input=b'{"a": 1, "b": 2}\n').strip()
    repo.write("a.json", b'{"b": 2, "a": 1}\r\n')
    ups = [gitc.TreeUpdate("a.json", old, new), gitc.TreeUpdate("b.json", old, new)]
    kept = gitc.sync_after_move(g, ups)
    assert kept == ["a.json"]
    assert repo.read("a.json") == b'{"b": 2, "a": 1}\r\n'
    assert repo.read("b.json") == b'{"a": 1, "b": 2}\n'
    record("attacks", "item4: the sync keeps hidden bytes", True)


def test_hidden_bytes_names_what_converts(repo: TestRepo) -> None:
    repo.write(
        ".gitattributes",
        "enc.txt working-tree-encoding=UTF-16\nid.txt ident\nbin.txt -text\n",
    )
    for name in ("plain.txt", "id.txt", "bin.txt"):
        repo.write(name, b"$Id$\none\n")
    repo.commit("base")
    g = GitRepo.discover(repo.root)
    blob = repo.git("rev-parse", "HEAD:plain.txt").strip()
    files = {"plain.txt": blob, "id.txt": blob, "bin.txt": blob, "enc.txt": blob}
    # id.txt still holds the blob's bytes (git expands $Id$ only when it writes the file)
    hidden = worktree.hidden_bytes(g, files)
    assert hidden == {"enc.txt": worktree.Hidden("enc.txt", "working-tree-encoding=UTF-16", True)}
    assert "never rewritten" in hidden["enc.txt"].reason
    # as a checkout writes it: expanded, then nothing is hidden; edited inside $Id: …$: hidden
    (repo.root / "id.txt").unlink()
    repo.git("checkout", "--", "id.txt")
    assert repo.read("id.txt").startswith(b"$Id: ")
    assert "id.txt" not in worktree.hidden_bytes(g, files)
    repo.write("id.txt", b"$Id: my own words $\none\n")
    assert worktree.hidden_bytes(g, files)["id.txt"] == worktree.Hidden("id.txt", "ident", False)
    # the conversions git applies, by attribute and by core.autocrlf
    assert worktree.conversions({}, "") == []
    assert worktree.conversions({}, "true") == ["core.autocrlf=true"]
    assert worktree.conversions({"text": "unset"}, "true") == []
    assert worktree.conversions({"text": "set", "eol": "crlf"}, "input") == ["text", "eol=crlf"]
    assert worktree.hidden_bytes(g, {}) == {}


# ---------------------------------------------------------------------------- item 5


def test_torn_is_exactly_what_an_interrupted_rewrite_leaves() -> None:
    old, new = b"0123456789", b"abcdef"
    assert worktree.torn(b"abc", old, new)  # created anew, cut short
    assert worktree.torn(b"", old, new)
    assert worktree.torn(b"abc3456789", old, new)  # overwritten part-way
    assert worktree.torn(b"abcdef6789", old, new)  # overwritten, not yet cut to length
    assert not worktree.torn(old, old, new) and not worktree.torn(new, old, new)
    assert not worktree.torn(b"abcdef67890", old, new)  # longer: someone else's bytes
    assert not worktree.torn(b"abcXef6789", old, new)  # an edit inside
    assert not worktree.torn(b"012345678X", old, new)
    longer = b"abcdefghijklmn"
    assert worktree.torn(b"abcdefghij", old, longer)  # grown part-way: a prefix


OLD_J = b'{\n    "a": %d,\n    "b": [1, 2]\n}\n'  # the regenerated (re-indented) head
NEW_J = b'{"a": %d, "b": [1, 2]}\n'  # the base, written back: shorter


def interrupted_repo(repo: TestRepo, n: int = 6, attributes: str | None = None) -> list[str]:
    if attributes:
        repo.write(".gitattributes", attributes)
    paths = [f"golden/{i}.json" for i in range(n)]
    for i, p in enumerate(paths):
        repo.write(p, NEW_J % i)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    for i, p in enumerate(paths):
        repo.write(p, OLD_J % i)
    repo.commit("regen")
    if attributes:  # the working tree as a checkout writes it
        for p in paths:
            (repo.root / p).unlink()
        repo.git("checkout", "--", ".")
    return paths


def uninterrupted_tree(repo: TestRepo, tmp_path: Path, cli: Cli) -> str:
    clean = TestRepo(tmp_path / "uninterrupted")
    shutil.copytree(repo.root, clean.root, symlinks=True)
    code, _, err = cli("resolve", "main", "--yes", repo=clean)
    assert code == 0, err
    return tree(clean)


def tree(repo: TestRepo) -> str:
    return "".join(
        line + "\n"
        for line in repo.git("ls-tree", "-r", "HEAD").splitlines()
        if ".phase2/" not in line
    )


def test_a_rerun_repairs_a_file_the_writer_left_torn(
    repo: TestRepo,
    tmp_path: Path,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A writer stopped between writing a shrinking file and cutting it to length (what a
    SIGKILL of the old writer left): new bytes, then the tail of the old ones."""
    paths = interrupted_repo(repo)
    expected = uninterrupted_tree(repo, tmp_path, cli)

    def torn_then_interrupted(g: GitRepo, files: list[tuple[str, bytes]]) -> None:
        path, data = sorted(files)[2]
        target = g.root / path
        old = target.read_bytes()
        assert len(data) < len(old)
        target.write_bytes(data + old[len(data) :])
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(gitc, "write_in_place", torn_then_interrupted)
        code, _, _ = cli("resolve", "main", "--yes", repo=repo)
    assert code == 130
    assert repo.read(paths[2]) != NEW_J % 2
    code, out, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 0, err
    assert "left alone" not in out
    assert [repo.read(p) for p in paths] == [NEW_J % i for i in range(len(paths))]
    assert repo.git("status", "--porcelain") == ""
    assert tree(repo) == expected
    record("attacks", "item5: rerun repairs a torn in-place write", True)


@pytest.mark.parametrize("how", ["cut-short", "removed"])
def test_a_rerun_repairs_a_file_git_left_cut_short_or_removed(
    repo: TestRepo,
    tmp_path: Path,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """Converted files are written by ``checkout-index``, which removes a file and writes it
    anew: interrupted, it leaves a prefix of the checkout form, or nothing."""
    paths = interrupted_repo(repo, attributes="*.json text eol=crlf\n")
    expected = uninterrupted_tree(repo, tmp_path, cli)
    crlf = [(NEW_J % i).replace(b"\n", b"\r\n") for i in range(len(paths))]

    def interrupted(g: GitRepo, names: list[str]) -> None:
        target = g.root / sorted(names)[1]
        target.unlink()
        if how == "cut-short":
            target.write_bytes(crlf[1][:7])
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(gitc, "checkout_paths", interrupted)
        code, _, _ = cli("resolve", "main", "--yes", repo=repo)
    assert code == 130
    code, out, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 0, err
    assert "left alone" not in out
    assert [repo.read(p) for p in paths] == crlf
    assert repo.git("status", "--porcelain") == ""
    assert tree(repo) == expected
    record("attacks", f"item5: rerun repairs a checkout {how}", True)


def test_a_rerun_still_keeps_the_users_own_edit(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only what an interrupted rewrite can leave is repaired: an edit made since is kept."""
    paths = interrupted_repo(repo)

    def interrupted(g: GitRepo, files: list[tuple[str, bytes]]) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(gitc, "write_in_place", interrupted)
        assert cli("resolve", "main", "--yes", repo=repo)[0] == 130
    mine = b'{"a": 0, "b": [1, 2], "mine": true}\n'
    repo.write(paths[0], mine)
    code, out, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 0, err
    assert repo.read(paths[0]) == mine
    assert f"left alone (your own changes): {paths[0]}" in out
    assert [repo.read(p) for p in paths[1:]] == [NEW_J % i for i in range(1, len(paths))]


def test_the_writer_writes_whole_records_only_and_reports_failures(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"old contents\n")
    b.write_bytes(b"old\n")
    ra, rb = os.fsencode(a), os.fsencode(b)
    errors = io.BytesIO()
    # a shrinking file is cut to length, a growing one extended; a cut record is not written
    stream = b"%d 4\n%snew!" % (len(ra), ra) + b"%d 100\n%snew but cut" % (len(rb), rb)
    assert _writer.main(io.BytesIO(stream), errors) == 0
    assert a.read_bytes() == b"new!" and b.read_bytes() == b"old\n"
    stream = b"%d 9\n%sgrown now" % (len(rb), rb)
    assert _writer.main(io.BytesIO(stream), errors) == 0
    assert b.read_bytes() == b"grown now"
    assert _writer.main(io.BytesIO(b"x y\n"), errors) == 1
    folder = os.fsencode(tmp_path)
    assert _writer.main(io.BytesIO(b"%d 1\n%sx" % (len(folder), folder)), errors) == 1
    assert folder in errors.getvalue()


@posix_only
def test_the_writer_ignores_interrupts(tmp_path: Path) -> None:
    """Ctrl-C aimed at the writer itself does not stop it inside its input either."""
    target = tmp_path / "a.json"
    target.write_bytes(b"old contents\n")
    raw = os.fsencode(target)
    proc = subprocess.Popen(
        [sys.executable, "-I", "-S", str(gitc.WRITER)],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    proc.stdin.write(b"%d 4\n%s" % (len(raw), raw))
    proc.stdin.flush()
    # wait until it has ignored the signals (it blocks reading the rest of the record then)
    deadline = time.monotonic() + 60
    while not _ignores_sigint(proc.pid):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        proc.send_signal(sig)
    proc.stdin.write(b"new!")
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0
    assert target.read_bytes() == b"new!"


@posix_only
def test_ignore_interrupts_ignores_them() -> None:
    names = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    before = {sig: signal.getsignal(sig) for sig in names}
    try:
        _writer.ignore_interrupts()
        assert all(signal.getsignal(sig) == signal.SIG_IGN for sig in names)
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _ignores_sigint(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        pytest.skip("no /proc here")
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:"))
    return bool(int(mask, 16) & (1 << (signal.SIGINT - 1)))


# ---------------------------------------------------------------------------- real signals

N_WRITER = 3000  # two writers (from 256 files), each long enough to be caught mid-way
SIGNAL_TRIALS = int(os.environ.get("PHASE2_SIGNAL_TRIALS", "6"))


def _writers_of(root: Path) -> list[int]:
    """The writer processes working in ``root`` (they outlive phase2 by a file at most)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if os.fsencode(gitc.WRITER) in cmd and cwd == str(root):
            out.append(int(entry))
    return out


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.slow
@posix_only
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_a_signal_to_the_process_group_while_files_are_written_tears_none(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """Ctrl-C (SIGINT to the process group) or SIGKILL to the whole group, sent as soon as
    the writers have begun (a file a quarter of the way through the list changed): no file is
    torn once the writers have stopped, and a rerun reaches the uninterrupted end state."""
    env = hermetic_env(tmp_path / "home")
    pristine = tmp_path / "pristine"
    pristine.mkdir()
    git(pristine, "init", "-q", env=env)
    paths = sorted(f"g{i % 30:02}/{i:05}.json" for i in range(N_WRITER))
    old: dict[str, bytes] = {}
    new: dict[str, bytes] = {}
    for p in paths:
        i = int(p[4:9])
        new[p] = b'{"a": %d, "b": [1, 2, 3, 4, 5, 6, 7, 8]}\n' % i
        # half shrink when written back, half keep their length (keys reordered)
        old[p] = (
            b'{"b": [1, 2, 3, 4, 5, 6, 7, 8], "a": %d}\n' % i
            if i % 2
            else b'{\n  "a": %d,\n  "b": [\n    1, 2, 3, 4, 5, 6, 7, 8\n  ]\n}\n' % i
        )
    # packed, as fast-import writes it: each trial copies the repository, and 6,000 loose
    # objects were most of its files (copying them was half of this test's time)
    import_commits(pristine, [("main", "base", new), ("feat", "regen", old)], env=env)
    watched = paths[len(paths) // 4]

    def resolve(root: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "phase2_git", "resolve", "main", "--yes"],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, as a shell gives a job
        )

    def rerun(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
        for _ in range(3):
            done = subprocess.run(
                [sys.executable, "-m", "phase2_git", "resolve", "main", "--yes"],
                cwd=root,
                env=env,
                capture_output=True,
                check=False,
            )
            # git processes killed with the group leave index.lock; the message says to
            # remove it when no git process runs, which is certain here
            if done.returncode == 3 and b"index is locked" in done.stderr:
                (root / ".git" / "index.lock").unlink()
                continue
            break
        return done

    def state(root: Path) -> tuple[str, str]:
        listing = git(root, "ls-tree", "-r", "HEAD", env=env).splitlines()
        return "\n".join(x for x in listing if ".phase2/" not in x), git(
            root, "status", "--porcelain", env=env
        )

    clean = tmp_path / "clean"
    copy_tree(pristine, clean)
    assert rerun(clean, untraced(env)).returncode == 0
    expected = state(clean)
    assert expected[1] == ""
    rng = random.Random(int(sig))
    caught = 0
    for trial in range(SIGNAL_TRIALS):
        work = tmp_path / f"trial{trial}"
        copy_tree(pristine, work)
        run_env = measured_once(env, trial)
        proc = resolve(work, run_env)
        target = work / watched
        while proc.poll() is None and target.read_bytes() == old[watched]:
            # a millisecond between looks: spinning took a core from the run it waits for
            time.sleep(0.001)
        for _ in range(rng.randrange(0, 20000)):  # a little later, or not
            pass
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            caught += 1
        proc.communicate()
        hang = time.monotonic() + 120  # a hang guard, not a speed requirement
        while not _group_gone(proc.pid) or _writers_of(work):
            assert time.monotonic() < hang, "a process of the run never ended"
            time.sleep(0.01)
        torn = [p for p in paths if (work / p).read_bytes() not in (old[p], new[p])]
        assert torn == [], (trial, torn[:3], (work / torn[0]).read_bytes())
        done = rerun(work, run_env)
        assert done.returncode == 0, (trial, done.stderr.decode())
        assert state(work) == expected, trial
        assert all((work / p).read_bytes() == new[p] for p in paths), trial
        shutil.rmtree(work)
    assert caught >= SIGNAL_TRIALS // 2, "too few runs were caught while writing to mean anything"
    record("attacks", f"item5: {sig.name} to the process group while writing", True)
