"""``phase2 diff`` end to end on real repositories: every case, every pair of sides."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import Cli, TestRepo
from tests.hostile_support import run_phase2

SCHEMA = json.loads((Path(__file__).parent.parent / "schemas" / "Phase2Diff.v1.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)


def diff_json(cli: Cli, repo: TestRepo, *args: str) -> dict[str, Any]:
    code, out, err = cli("diff", *args, "--format", "json", repo=repo)
    assert err == "", err
    doc: dict[str, Any] = json.loads(out)
    errors = list(VALIDATOR.iter_errors(doc))
    assert not errors, errors[0]
    assert code == doc["summary"]["exit_code"]
    return doc


def by_path(doc: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {
        m["path"]: (m["status"], m["artifact_type"], m["mismatch_type"]) for m in doc["mismatches"]
    }


BASE = {
    "reorder.json": b'{"a": 1, "b": 2}\n',
    "indent.json": b'{"a": [1, 2]}\n',
    "crlf.txt": b"one\ntwo\n",
    "eof.txt": b"last line\n",
    "bom.csv": b"a,b\n1,2\n",
    "jitter.json": b'{"x": 0.30000000000000004}\n',
    "real.json": b'{"accuracy": 0.81}\n',
    "invalid.json": b'{"ok": true}\n',
    "utf8.txt": b"caf\xc3\xa9\n",
    "gone.txt": b"bye\n",
    "moved_from.txt": b"moved content stays\n" * 5,
    "image.bin": b"\x00\x01\x02\x03",
    "big.json": b"{}\n",
}
HEAD = {
    "reorder.json": b'{"b": 2, "a": 1}\n',
    "indent.json": b'{\n    "a": [\n        1,\n        2\n    ]\n}\n',
    "crlf.txt": b"one\r\ntwo\r\n",
    "eof.txt": b"last line",
    "bom.csv": b"\xef\xbb\xbfa,b\n1,2\n",
    "jitter.json": b'{"x": 0.3000000000000001}\n',
    "real.json": b'{"accuracy": 0.79}\n',
    "invalid.json": b'{"ok": tru\n',
    "utf8.txt": b"caf\xe9\n",
    "moved_to.txt": b"moved content stays\n" * 5,
    "new.json": b"[]\n",
    "image.bin": b"\x00\x01\x02\x04",
    "big.json": b'{"pad": "' + b"x" * (30 * 1024 * 1024) + b'"}\n',
}
EXPECTED = {
    "reorder.json": ("modified", "json", "json_ordering"),
    "indent.json": ("modified", "json", "whitespace"),
    "crlf.txt": ("modified", "text", "line_endings"),
    "eof.txt": ("modified", "text", "trailing_newline"),
    "bom.csv": ("modified", "text", "bom"),
    "jitter.json": ("modified", "json", "numeric_precision"),
    "real.json": ("modified", "json", "content"),
    "invalid.json": ("modified", "json", "content"),
    "utf8.txt": ("modified", "text", "content"),
    "gone.txt": ("deleted", "text", "deleted"),
    "moved_to.txt": ("renamed", "text", "renamed"),
    "new.json": ("added", "json", "added"),
    "image.bin": ("modified", "binary", "binary"),
    "big.json": ("modified", "json", "content"),
    "link": ("modified", "symlink", "content"),
    "lfs.bin": ("modified", "lfs_pointer", "content"),
    "sub": ("modified", "submodule", "content"),
}


def lfs_pointer(n: str) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{n * 64}\nsize 12345\n".encode()


def apply_files(repo: TestRepo, files: dict[str, bytes], remove: tuple[str, ...] = ()) -> None:
    for path in remove:
        (repo.root / path).unlink()
    for path, data in files.items():
        repo.write(path, data)


@pytest.fixture
def case_repo(make_repo) -> tuple[TestRepo, str]:
    sub = make_repo(name="subsource")
    sub.write("README", "sub\n")
    sub.commit("one")
    repo = make_repo(name="main")
    apply_files(repo, BASE)
    repo.write("lfs.bin", lfs_pointer("a"))
    os.symlink("target-a", repo.root / "link")
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.root), "sub")
    base = repo.commit("base")
    sub.write("README", "sub two\n")
    sub.commit("two")
    repo.git("-C", "sub", "pull", "-q", "origin", "main")
    return repo, base


def change_to_head(repo: TestRepo) -> None:
    apply_files(repo, HEAD, remove=("gone.txt", "moved_from.txt"))
    repo.write("lfs.bin", lfs_pointer("b"))
    (repo.root / "link").unlink()
    os.symlink("/etc/passwd", repo.root / "link")


def test_every_case_between_commits(case_repo, cli: Cli) -> None:
    repo, base = case_repo
    change_to_head(repo)
    head = repo.commit("head")
    doc = diff_json(cli, repo, base, head)
    assert by_path(doc) == EXPECTED
    assert doc["base"] == base and doc["head"] == head
    assert doc["mismatches"] == sorted(doc["mismatches"], key=lambda m: m["path"])
    big = next(m for m in doc["mismatches"] if m["path"] == "big.json")
    assert "compared by hash" in big["detail"]
    # ids are bound to content and stable across runs
    again = diff_json(cli, repo, base, head)
    assert [m["id"] for m in again["mismatches"]] == [m["id"] for m in doc["mismatches"]]
    assert doc["summary"]["unresolved_real"] == sum(
        1
        for v in EXPECTED.values()
        if v[2] in ("content", "binary", "added", "deleted", "renamed", "mode")
    )


def test_every_case_head_vs_index_and_worktree(case_repo, cli: Cli) -> None:
    repo, _ = case_repo
    change_to_head(repo)
    worktree = diff_json(cli, repo)  # HEAD vs :worktree
    assert worktree["head"] == ":worktree"
    wt = by_path(worktree)
    # untracked files count, and a tracked file moved to an untracked name is a rename
    assert wt == EXPECTED
    repo.git("add", "-A")
    staged = diff_json(cli, repo, "--staged")
    assert staged["head"] == ":index"
    assert by_path(staged) == EXPECTED
    explicit = diff_json(cli, repo, "HEAD", ":index")
    assert explicit["mismatches"] == staged["mismatches"]
    # same content, same ids, whatever the side it comes from
    ids_index = {m["path"]: m["id"] for m in staged["mismatches"]}
    head = repo.commit("head")
    ids_commit = {m["path"]: m["id"] for m in diff_json(cli, repo, "HEAD~1", head)["mismatches"]}
    assert ids_index == ids_commit


def test_crlf_under_autocrlf_is_not_a_change(repo: TestRepo, cli: Cli) -> None:
    repo.git("config", "core.autocrlf", "true")
    repo.write("a.txt", b"one\ntwo\n")
    repo.commit("base")
    repo.write("a.txt", b"one\r\ntwo\r\n")
    doc = diff_json(cli, repo)
    assert doc["mismatches"] == []
    # without the conversion the same bytes are line-ending noise
    repo.git("config", "core.autocrlf", "false")
    doc = diff_json(cli, repo)
    assert by_path(doc) == {"a.txt": ("modified", "text", "line_endings")}


def test_sha256_repository_and_unborn_head(make_repo, cli: Cli) -> None:
    repo = make_repo(object_format="sha256")
    repo.write("a.json", b'{"a": 1, "b": 2}\n')
    doc = diff_json(cli, repo)  # unborn HEAD vs worktree: an addition
    assert by_path(doc) == {"a.json": ("added", "json", "added")}
    assert len(doc["mismatches"][0]["hashes"]["after"]) == 64
    repo.commit("one")
    repo.write("a.json", b'{"b": 2, "a": 1}\n')
    doc = diff_json(cli, repo)
    assert by_path(doc) == {"a.json": ("modified", "json", "json_ordering")}


def test_fail_on(repo: TestRepo, cli: Cli) -> None:
    repo.write("a.json", b'{"a": 1, "b": 2}\n')
    repo.commit("base")
    repo.write("a.json", b'{"b": 2, "a": 1}\n')
    for rule, code in (("real", 0), ("noise", 1), ("any", 1), ("never", 0)):
        assert cli("diff", "--fail-on", rule, repo=repo)[0] == code
    repo.write("a.json", b'{"b": 3, "a": 1}\n')
    for rule, code in (("real", 1), ("noise", 0), ("any", 1), ("never", 0)):
        assert cli("diff", "--fail-on", rule, repo=repo)[0] == code


def test_text_and_markdown_formats(repo: TestRepo, cli: Cli) -> None:
    repo.write("a.json", b'{"a": 1, "b": 2}\n')
    repo.write("evil\x1b[2J.txt", b"x\n")
    repo.commit("base")
    repo.write("a.json", b'{"b": 2, "a": 1}\n')
    repo.write("evil\x1b[2J.txt", b"y\n")
    code, out, err = cli("diff", repo=repo)
    assert code == 1 and err == ""
    assert "json_ordering" in out and "restore_base (safe)" in out
    assert "\x1b" not in out and "evil\\x1b[2J.txt" in out
    assert "2 mismatch(es)" in out
    code, out, _ = cli("diff", "--format", "markdown", repo=repo)
    assert out.startswith("## phase2: 1 real change(s), 1 noise")
    assert "| mismatch type | count |" in out and "<details>" in out
    summary = repo.root.parent / "summary.md"
    cli("diff", "--summary", str(summary), "--format", "json", repo=repo)
    assert summary.read_text().startswith("## phase2:")


def test_methods_option_and_config(repo: TestRepo, cli: Cli) -> None:
    repo.write("a.json", b'{"a": 1, "b": 2}\n')
    repo.commit("base")
    repo.write("a.json", b'{"b": 2, "a": 1}\n')
    doc = diff_json(cli, repo, "--methods", "exact canonical-json")
    assert doc["methods"] == ["exact", "canonical_json"]
    assert [v["method"] for v in doc["mismatches"][0]["verdicts"]] == ["exact", "canonical_json"]
    fp_default = doc["config_fingerprint"]
    repo.write(".phase2/config.toml", '[noise.strategy]\njson_ordering = "canonicalize"\n')
    doc = diff_json(cli, repo)
    assert doc["config_fingerprint"] != fp_default
    assert doc["mismatches"][0]["plan"]["action"] == "canonicalize_json"
    # .phase2/ itself is never an artifact
    assert all(not m["path"].startswith(".phase2/") for m in doc["mismatches"])
    repo.write(".phase2/config.toml", '[artifacts]\nexclude = ["*.json"]\n')
    assert diff_json(cli, repo)["mismatches"] == []


@pytest.mark.parametrize(
    ("args", "config", "needle"),
    [
        (["diff", "no-such-ref"], None, "unknown revision 'no-such-ref'"),
        (
            ["diff", "HEAD", "--methods", "exact,bogus"],
            None,
            "unknown method 'bogus' (valid methods: exact, whitespace",
        ),
        (["diff", "--fail-on", "sometimes"], None, "--fail-on must be one of"),
        (["diff", "--format", "yaml"], None, "--format must be one of"),
        (["diff", "--shard", "5/4"], None, "--shard"),
        (
            ["diff"],
            "[policy]\nmode = 'yolo'\n",
            ".phase2/config.toml: policy.mode: 'yolo' is not one of",
        ),
        (["diff"], "[policy\n", ".phase2/config.toml: invalid TOML"),
        (
            ["diff"],
            "[artifacts]\nincludes = ['x']\n",
            "config.toml: artifacts: Additional properties are not allowed",
        ),
        (
            ["diff"],
            "[methods]\nenabled = ['exact', 'nope']\n",
            "methods.enabled: unknown method 'nope'",
        ),
        (["diff", "--bogus-flag"], None, "No such option"),
    ],
)
def test_bad_input_exits_2_with_one_line(repo: TestRepo, cli: Cli, args, config, needle) -> None:
    repo.write("a.txt", "a\n")
    repo.commit("base")
    if config:
        repo.write(".phase2/config.toml", config)
    code, out, err = cli(*args[:1], *args[1:], repo=repo)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("phase2: error: "), err
    assert needle in err


def test_not_a_repository(tmp_path: Path, cli: Cli) -> None:
    code, _, err = cli("diff", repo=tmp_path)
    assert code == 2 and "not a git repository" in err and err.count("\n") == 1


def test_subprocess_exit_codes_and_no_traceback(repo: TestRepo) -> None:
    repo.write("a.txt", "a\n")
    repo.commit("base")
    env = dict(os.environ)
    bad = run_phase2(("diff", "nope"), cwd=repo.root, env=env)
    assert bad.code == 2 and b"Traceback" not in bad.err and bad.err.count(b"\n") == 1
    ok = run_phase2(("diff",), cwd=repo.root, env=env)
    assert ok.code == 0 and b"no artifact differs" in ok.out
    assert run_phase2(("--version",), cwd=repo.root, env=env).out.startswith(b"phase2 ")
    assert b"diff" in run_phase2(("--help",), cwd=repo.root, env=env).out
