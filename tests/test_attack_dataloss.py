"""Attack review, item 4: working-tree bytes lost to a rewrite.

Item 4: a file whose clean form is the committed blob may still hold bytes git does not store
(a clean filter that drops a notebook's ``"outputs"``, CRLF under ``text=auto`` or
``core.autocrlf=input``). Every command that writes working-tree files refuses those (exit 3,
one line naming the file and the attribute) and writes nothing.
"""

from __future__ import annotations

import json

import pytest

from phase2_git.cli import main
from phase2_git.git import commit as gitc
from phase2_git.git import worktree
from phase2_git.git.repo import GitRepo
from tests.conftest import TestRepo
from tests.hostile_support import record

# a notebook-like artifact: the clean filter drops the "outputs" line, so git stores the rest
HEAD_NB = b'{\n  "a": 1,\n  "b": 2\n}\n'
STAGED_NB = b'{\n  "b": 2,\n  "a": 1\n}\n'  # json_ordering noise against HEAD_NB
WORKTREE_NB = b'{\n  "b": 2,\n  "outputs": "my unsaved outputs",\n  "a": 1\n}\n'


def phase2(capsys: pytest.CaptureFixture[str], repo: TestRepo, *args: str) -> tuple[int, str, str]:
    code = main([args[0], "-C", str(repo.root), *args[1:]])
    out, err = capsys.readouterr()
    return code, out, err


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


def test_check_fix_never_rewrites_a_file_a_clean_filter_strips(
    repo: TestRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write("nb.json", HEAD_NB)
    repo.commit("base")
    strip_filter(repo, ".git/info/attributes")
    repo.write("nb.json", WORKTREE_NB)
    repo.git("add", "nb.json")
    # git stores the file without its outputs: the staged blob is the reordered document
    assert repo.git("cat-file", "blob", ":nb.json").encode() == STAGED_NB
    code, out, _ = phase2(capsys, repo, "check", "--fix", "nb.json")
    assert code == 3, out
    line = finding(out, "nb.json")
    assert line.startswith("nb.json: refused: filter=strip attribute"), line
    assert repo.read("nb.json") == WORKTREE_NB  # the outputs are still there
    record("attacks", "item4: check --fix vs a clean filter", True)


def test_revert_never_rewrites_a_file_a_clean_filter_strips(
    repo: TestRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write("nb.json", HEAD_NB)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    repo.write("nb.json", STAGED_NB)
    repo.commit("regen")
    code, _, err = phase2(capsys, repo, "resolve", "main", "--yes")
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
    code, _, err = phase2(capsys, repo, "revert", decision)
    assert code == 3, err
    line = one_line(err)
    assert "'nb.json'" in line and "filter=strip attribute" in line, line
    assert repo.read("nb.json") == with_outputs
    assert repo.head() == head  # nothing committed either
    record("attacks", "item4: revert vs a clean filter", True)


def test_resolve_refuses_crlf_that_text_auto_keeps_out_of_git(
    repo: TestRepo, capsys: pytest.CaptureFixture[str]
) -> None:
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
    code, _, err = phase2(capsys, repo, "resolve", "main", "--yes")
    assert code == 3, err
    line = one_line(err)
    assert "'a.json'" in line and "text=auto" in line, line
    assert repo.read("a.json") == mine
    assert repo.head() == head
    record("attacks", "item4: resolve vs CRLF under text=auto", True)


def test_check_fix_refuses_crlf_that_autocrlf_input_keeps_out_of_git(
    repo: TestRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.git("config", "core.autocrlf", "input")
    repo.write("a.json", b'{"a": 1, "b": 2}\n')
    repo.commit("base")
    mine = b'{"b": 2, "a": 1}\r\n'
    repo.write("a.json", mine)
    repo.git("add", "a.json")
    code, out, _ = phase2(capsys, repo, "check", "--fix")
    assert code == 3, out
    line = finding(out, "a.json")
    assert line.startswith("a.json: refused:") and "core.autocrlf=input" in line, line
    assert repo.read("a.json") == mine
    record("attacks", "item4: check --fix vs CRLF under autocrlf=input", True)


def test_resolve_never_rewrites_a_filtered_file(
    repo: TestRepo, capsys: pytest.CaptureFixture[str]
) -> None:
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
    code, out, err = phase2(capsys, repo, "resolve", "main", "--yes")
    assert code == 0, err
    assert "nb.json (json_ordering): filter=strip attribute: never rewritten" in out
    assert repo.read("nb.json") == WORKTREE_NB
    assert repo.read("plain.txt") == b"one\n"
    record("attacks", "item4: resolve skips a filtered file", True)


def test_converted_files_holding_only_what_git_writes_are_still_fixed(
    repo: TestRepo, capsys: pytest.CaptureFixture[str]
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
    code, out, _ = phase2(capsys, repo, "check", "--fix")
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
