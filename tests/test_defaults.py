"""Defaults that must not block ordinary work: file modes of what phase2 writes, JSON with
comments, hand-written configuration, ``linguist-generated``, numbers in text, labels by blob
id. Each test runs the real CLI on a real repository."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.conftest import Cli, TestRepo

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


@pytest.fixture
def umask022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: os.PathLike[str] | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# ------------------------------------------------------------------------------ file modes


@posix_only
def test_written_files_get_the_mode_a_plain_write_gives(
    repo: TestRepo, cli: Cli, umask022: None
) -> None:
    repo.write("golden/a.json", '{"a": 1}\n')
    repo.commit("base")
    repo.write("golden/a.json", '{"a": 2}\n')
    repo.commit("head")
    code, _, err = cli("init", repo=repo)
    assert code == 0, err
    assert mode(repo.root / ".phase2/config.toml") == 0o644
    out = repo.root / "out"
    code, _, err = cli(
        "diff", "HEAD~1", "HEAD",
        "--junit", str(out / "j.xml"), "--prom", str(out / "m.prom"),
        "--summary", str(out / "s.md"),
        "--fail-on", "never",
        repo=repo,
    )  # fmt: skip
    assert code == 0, err
    for name in ("j.xml", "m.prom", "s.md"):
        assert mode(out / name) == 0o644, name


@posix_only
def test_an_existing_file_keeps_its_mode_and_the_umask_is_honoured(
    repo: TestRepo, cli: Cli
) -> None:
    repo.write("golden/a.json", '{"a": 1}\n')
    repo.commit("base")
    repo.write("golden/a.json", '{"a": 2}\n')
    repo.commit("head")
    out = repo.root / "out"
    out.mkdir()
    (out / "j.xml").write_text("old")
    (out / "j.xml").chmod(0o640)
    old = os.umask(0o027)
    try:
        code, _, err = cli(
            "diff", "HEAD~1", "HEAD", "--junit", str(out / "j.xml"),
            "--summary", str(out / "s.md"), "--fail-on", "never",
            repo=repo,
        )  # fmt: skip
    finally:
        os.umask(old)
    assert code == 0, err
    assert mode(out / "j.xml") == 0o640
    assert (out / "j.xml").read_text() != "old"
    assert mode(out / "s.md") == 0o640  # 0666 & ~027


# ------------------------------------------------------------------------ numbers in text

SEPARATORS = [",", ";", "=", "[", "]", "(", ")", '"', "'", "|", ":", "\t", ", ", "{"]


def _diff_json(cli: Cli, repo: TestRepo, *args: str) -> dict[str, Any]:
    code, out, err = cli("diff", *args, "--format", "json", "--fail-on", "never", repo=repo)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def _types(doc: dict[str, Any]) -> dict[str, str]:
    return {m["path"]: m["mismatch_type"] for m in doc["mismatches"]}


def test_float_jitter_in_a_csv_line_is_numeric_precision(repo: TestRepo, cli: Cli) -> None:
    repo.write("data/points.csv", "id,lat,lon\n1,34.57611111111112,-118.1\n")
    repo.write("data/spaced.txt", "1 34.57611111111112 -118.1\n")
    repo.write("data/real.csv", "id,lat,lon\n1,34.57611111111112,-118.1\n")
    repo.commit("base")
    repo.write("data/points.csv", "id,lat,lon\n1,34.57611111111458,-118.1\n")
    repo.write("data/spaced.txt", "1 34.57611111111458 -118.1\n")
    repo.write("data/real.csv", "id,lat,lon\n2,34.57611111111458,-118.1\n")  # an id changed
    repo.commit("regen")
    found = _types(_diff_json(cli, repo, "HEAD~1", "HEAD"))
    assert found == {
        "data/points.csv": "numeric_precision",
        "data/spaced.txt": "numeric_precision",
        "data/real.csv": "content",
    }


def _csv_settings() -> Any:
    from phase2_git.core.settings import ClassifySettings

    return ClassifySettings()


def _classify_text(path: str, before: str, after: str) -> str:
    from phase2_git.core.classify import Pair, classify_pair, whitespace_rules

    settings = _csv_settings()
    pair = Pair.of(before.encode(), after.encode(), "text", rules=whitespace_rules(path, settings))
    return classify_pair(pair, settings).mismatch_type


_floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).filter(lambda f: abs(f) > 1e-3)
_words = st.text(alphabet="abcxyz_", min_size=0, max_size=3)


@given(
    values=st.lists(_floats, min_size=1, max_size=5),
    seps=st.lists(st.sampled_from(SEPARATORS), min_size=6, max_size=6),
    words=st.lists(_words, min_size=6, max_size=6),
    which=st.integers(min_value=0, max_value=4),
    path=st.sampled_from(["t.csv", "t.txt", "t.tsv"]),
)
def test_jitter_is_found_whatever_separates_the_numbers(
    values: list[float], seps: list[str], words: list[str], which: int, path: str
) -> None:
    def render(nums: list[str]) -> str:
        parts = []
        for i, n in enumerate(nums):
            parts.append(words[i] + seps[i] + n)
        return "".join(parts) + seps[-1] + "\n"

    base = [f"{v:.12f}" for v in values]
    head = list(base)
    i = which % len(values)
    jittered = values[i] * (1 + 1e-12)
    head[i] = f"{jittered:.15f}"
    assume(head[i] != base[i])
    assert _classify_text(path, render(base), render(head)) == "numeric_precision"


@given(
    values=st.lists(_floats, min_size=1, max_size=4),
    sep=st.sampled_from(SEPARATORS),
    word=st.text(alphabet="abc,;=", min_size=1, max_size=3),
    other=st.text(alphabet="abc,;=", min_size=1, max_size=3),
)
def test_text_between_numbers_must_be_equal(
    values: list[float], sep: str, word: str, other: str
) -> None:
    assume(word != other)
    base = sep.join(f"{v:.12f}" for v in values) + sep + word + "\n"
    head = sep.join(f"{v * (1 + 1e-12):.15f}" for v in values) + sep + other + "\n"
    assert _classify_text("t.csv", base, head) == "content"


@given(
    a=st.integers(min_value=-(10**9), max_value=10**9),
    b=st.integers(min_value=-(10**9), max_value=10**9),
    sep=st.sampled_from(SEPARATORS),
)
def test_integers_between_separators_must_match_exactly(a: int, b: int, sep: str) -> None:
    assume(a != b)
    before = f"x{sep}{a}{sep}1.5\n"
    after = f"x{sep}{b}{sep}1.5\n"
    assert _classify_text("t.csv", before, after) == "content"


# ------------------------------------------------------------------------ artifact patterns

_seg = st.one_of(
    st.sampled_from(["a", "b", "x.json", "*", "?", "**", "*.json", "a*", "[ab]", "[!a]", ".g"]),
    st.text(alphabet="ab.*?", min_size=1, max_size=4),
)
_pattern = st.builds(
    lambda lead, segs, trail: lead + "/".join(segs) + trail,
    st.sampled_from(["", "/"]),
    st.lists(_seg, min_size=1, max_size=4),
    st.sampled_from(["", "/"]),
)
_path = st.lists(
    st.sampled_from(["a", "b", "x.json", "ab", "a.b", ".g", "ba", "aa.json"]),
    min_size=1,
    max_size=5,
).map("/".join)


@given(patterns=st.lists(_pattern, min_size=1, max_size=3), paths=st.lists(_path, max_size=8))
def test_the_fast_patterns_match_as_pathspec_does(patterns: list[str], paths: list[str]) -> None:
    import pathspec

    from phase2_git.core.globs import compile_patterns

    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    mine = compile_patterns(tuple(patterns))
    for path in paths:
        assert mine(path) == bool(spec.match_file(path)), (patterns, path)


# a folder or file name with a newline: pathspec's regexes do not cross one, git does
_odd_path = st.lists(
    st.sampled_from(["a", "b", "x.json", ".g", "a\nb", "x\n.json", "\n"]), min_size=1, max_size=4
).map("/".join)


# whole-segment wildcards only: "b**" inside a segment is read differently by git, pathspec
# and this module (a difference of its own, not about newlines)
_plain_pattern = st.builds(
    lambda lead, segs, trail: lead + "/".join(segs) + trail,
    st.sampled_from(["", "/"]),
    st.lists(
        st.sampled_from(["a", "b", "x.json", "*", "?", "**", "*.json", "[ab]", ".g"]),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(["", "/"]),
)


@settings(max_examples=40, deadline=None)
@given(
    patterns=st.lists(_plain_pattern, min_size=1, max_size=3),
    paths=st.lists(_odd_path, min_size=1, max_size=6),
)
def test_patterns_match_as_git_does_newlines_included(
    patterns: list[str], paths: list[str]
) -> None:
    """git itself is the oracle: ``git check-ignore --no-index`` with the patterns as a
    ``.gitignore`` (one git process an example). Lists this module leaves to pathspec
    (``a/**/``, ``***``) are not asked: pathspec does not cross a newline."""
    import subprocess
    import tempfile

    from phase2_git.core.globs import _FALLBACK, _translate, compile_patterns

    assume(all(_translate(p) is not _FALLBACK for p in patterns))

    mine = compile_patterns(tuple(patterns))
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["git", "init", "-q", tmp], check=True)
        Path(tmp, ".gitignore").write_text("".join(p + "\n" for p in patterns))
        proc = subprocess.run(
            ["git", "check-ignore", "--no-index", "-z", "--stdin"],
            cwd=tmp,
            input="".join(p + "\0" for p in paths).encode(),
            capture_output=True,
            check=False,
        )
    assert proc.returncode in (0, 1), proc.stderr
    ignored = set(proc.stdout.decode().split("\0"))
    for path in paths:
        assert mine(path) == (path in ignored), (patterns, path)


@given(
    patterns=st.lists(
        st.builds(
            lambda lead, segs, trail: lead + "/".join(segs) + trail,
            st.sampled_from(["", "/"]),
            st.lists(st.sampled_from(["a", "b", "x.json", ".g", "a.b"]), min_size=1, max_size=3),
            st.sampled_from(["", "/"]),
        ),
        min_size=1,
        max_size=4,
    ),
    paths=st.lists(_path, max_size=8),
)
def test_patterns_without_a_wildcard_match_as_pathspec_does(
    patterns: list[str], paths: list[str]
) -> None:
    """The default ``hand_written`` list's kind: matched without a regex (globs._literal)."""
    import pathspec

    from phase2_git.core.artifacts import DEFAULT_HAND_WRITTEN
    from phase2_git.core.globs import compile_patterns

    for listed in (patterns, list(DEFAULT_HAND_WRITTEN)):
        spec = pathspec.GitIgnoreSpec.from_lines(listed)
        mine = compile_patterns(tuple(listed))
        for path in [*paths, *(p.lstrip("/").rstrip("/") + "/x" for p in listed)]:
            assert mine(path) == bool(spec.match_file(path)), (listed, path)


# -------------------------------------------------------- hand-written configuration, attributes


def _stage_check(cli: Cli, repo: TestRepo, *files: str) -> tuple[int, str]:
    repo.git("add", "-A")
    code, out, err = cli("check", *files, repo=repo)
    return code, out + err


def test_a_workflow_edit_is_not_an_artifact_change(repo: TestRepo, cli: Cli) -> None:
    repo.write(".github/workflows/ci.yml", "on: push\njobs: {}\n")
    repo.write(".gitignore", "build/\n")
    repo.commit("base")
    # line endings only: noise in an artifact, an ordinary edit in hand-written configuration
    repo.write(".github/workflows/ci.yml", "on: push\r\njobs: {}\r\n")
    repo.write(".gitignore", "build/\r\n")
    code, out = _stage_check(cli, repo)
    assert code == 0, out
    code, out = _stage_check(cli, repo, ".github/workflows/ci.yml", ".gitignore")
    assert code == 0, out
    repo.commit("crlf")
    assert _types(_diff_json(cli, repo, "HEAD~1", "HEAD")) == {}


def test_hand_written_can_be_emptied_to_treat_them_as_artifacts(repo: TestRepo, cli: Cli) -> None:
    repo.write(".phase2/config.toml", "[artifacts]\nhand_written = []\n")
    repo.write(".github/workflows/ci.yml", "on: push\n")
    repo.commit("base")
    repo.write(".github/workflows/ci.yml", "on: push\r\n")
    code, out = _stage_check(cli, repo)
    assert code == 1 and "line_endings" in out, out


@pytest.mark.parametrize(("batch", "few"), [(4096, 256), (2, 256), (4096, 1), (2, 1)])
def test_linguist_generated_marks_artifacts_both_ways(
    repo: TestRepo, cli: Cli, batch: int, few: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # batch=2: the attributes are read two changes at a time, the changes held by batch;
    # few=1: the diff's five changes are not few, and the whole tree's listing is read
    from phase2_git.app import diff as diff_mod

    monkeypatch.setattr(diff_mod, "_ATTRIBUTE_BATCH", batch)
    monkeypatch.setattr(diff_mod, "_FEW_CHANGES", few)
    repo.write(".phase2/config.toml", '[artifacts]\ninclude = ["golden/"]\n')
    repo.write(
        ".gitattributes",
        "gen/** linguist-generated\n"
        ".github/workflows/generated.yml linguist-generated=true\n"
        "golden/hand.json -linguist-generated\n",
    )
    for path in ("gen/a.json", "golden/b.json", "golden/hand.json", "other/c.json"):
        repo.write(path, '{"a": 1}\n')
    repo.write(".github/workflows/generated.yml", "on: push\n")
    repo.commit("base")
    for path in ("gen/a.json", "golden/b.json", "golden/hand.json", "other/c.json"):
        repo.write(path, '{"a": 2}\n')
    repo.write(".github/workflows/generated.yml", "on: pull_request\n")
    repo.commit("regen")
    found = _types(_diff_json(cli, repo, "HEAD~1", "HEAD"))
    assert sorted(found) == [".github/workflows/generated.yml", "gen/a.json", "golden/b.json"]
    # the hook reads the same attributes for the files it is given
    repo.write("gen/a.json", '{"a":  2}\n')
    repo.write("golden/hand.json", '{"a":  2}\n')
    code, out = _stage_check(cli, repo, "gen/a.json", "golden/hand.json")
    assert code == 1 and "gen/a.json" in out and "golden/hand.json" not in out, out


def test_the_attributes_of_a_few_paths_are_those_of_the_whole_tree(repo: TestRepo) -> None:
    """The ``.gitattributes`` listed by name for a few paths (those of their folders) give
    every one of them the answers the whole tree's files give: a macro defined at the top and
    used below, a folder's file overriding its parent's, files in folders no path is in, a
    symlink named .gitattributes (git never reads one from a tree), odd names."""
    from phase2_git.git.attributes import folders_files, reader
    from phase2_git.git.repo import GitRepo

    repo.write(".gitattributes", "[attr]gen linguist-generated\n*.json gen\nkeep/** -gen\n")
    repo.write("a/.gitattributes", "*.json -linguist-generated\nx.json linguist-generated\n")
    repo.write("a/b/.gitattributes", "*.json gen\n")
    repo.write("c/.gitattributes", "*.json -linguist-generated\n")  # in no path's folder
    (repo.root / "d").mkdir()
    os.symlink("../a/.gitattributes", repo.root / "d" / ".gitattributes")
    paths = [
        "top.json",
        "a/x.json",
        "a/y.json",
        "a/b/z.json",
        "a/b/c/deep.json",
        "c/w.json",
        "d/v.json",
        "keep/k.json",
        "we ird/ünï [1].json",
    ]
    for path in paths:
        repo.write(path, "{}\n")
    head = repo.commit("attributes")
    git = GitRepo.discover(repo.root)
    whole = reader(git, head)
    assert whole is not None
    expected = whole(paths)
    assert expected["a/b/z.json"] is True and expected["a/y.json"] is False, expected
    assert expected["c/w.json"] is False and expected.get("keep/k.json") is not True, expected
    for chosen in (paths, paths[:1], ["a/b/c/deep.json", "d/v.json"], ["we ird/ünï [1].json"]):
        few = reader(git, head, paths=chosen)
        assert few is not None
        assert few(chosen) == {p: v for p, v in expected.items() if p in chosen}, chosen
    assert folders_files(["a/b/c/deep.json", "top.json"]) == [
        ".gitattributes",
        "a/.gitattributes",
        "a/b/.gitattributes",
        "a/b/c/.gitattributes",
    ]
    # none of the files a path's folders hold names the attribute: nothing to read
    repo.write("e/.gitattributes", "*.json linguist-generated\n")
    repo.write("plain/p.json", "{}\n")
    repo.write(".gitattributes", "*.txt text\n")
    head = repo.commit("only e names it")
    assert reader(git, head, paths=["plain/p.json"]) is None
    assert reader(git, head) is not None


def test_the_whole_tree_listing_stops_when_asked(repo: TestRepo) -> None:
    """A caller that no longer wants the whole tree's listing stops it: git is stopped and
    no reader comes back."""
    import threading

    from phase2_git.git.attributes import _scan, reader
    from phase2_git.git.repo import GitRepo

    repo.write(".gitattributes", "*.json linguist-generated\n")
    for i in range(50):
        repo.write(f"f{i}/a.json", "{}\n")
    head = repo.commit("many")
    git = GitRepo.discover(repo.root)
    stop = threading.Event()
    stop.set()
    assert reader(git, head, stop=stop) is None
    closed: list[bool] = []

    def pieces() -> Iterator[bytes]:
        try:
            yield b"100644 blob " + b"a" * 40 + b"\t.gitattributes\0"
            yield b"never read"
        finally:
            closed.append(True)

    assert _scan(pieces(), stop) is None and closed == [True]


def test_a_pull_request_cannot_unmark_its_own_change(repo: TestRepo, cli: Cli) -> None:
    repo.write("golden/a.json", '{"a": 1}\n')
    repo.commit("base")
    base = repo.head()
    repo.git("checkout", "-q", "-b", "pr")
    repo.write("golden/a.json", '{"a": 2}\n')
    repo.write(".gitattributes", "golden/** -linguist-generated\n")
    repo.commit("hide it")
    found = _types(_diff_json(cli, repo, base, "HEAD"))
    assert found.get("golden/a.json") == "content", found
    # from a trust side that says so, the same line counts
    repo.git("checkout", "-q", "main")
    repo.write(".gitattributes", "golden/** -linguist-generated\n")
    trusted = repo.commit("main marks golden hand-written")
    found = _types(_diff_json(cli, repo, base, "pr", "--trust-from", trusted))
    assert "golden/a.json" not in found, found


_tree_name = st.text(alphabet="ab./ \t\né", min_size=1, max_size=6).filter(lambda n: "\0" not in n)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["100644", "100755", "120000", "160000"]),
            st.one_of(
                _tree_name,
                _tree_name.map(lambda n: n + "/.gitattributes"),
                _tree_name.map(lambda n: n + ".gitattributes"),
                st.just(".gitattributes"),
            ),
        ),
        max_size=12,
    )
)
def test_gitattributes_records_are_found_in_a_tree_listing(rows: list[tuple[str, str]]) -> None:
    from phase2_git.git.attributes import _entries

    records = [f"{mode} blob {'a' * 40}\t{path}".encode() for mode, path in rows]
    listing = b"".join(r + b"\0" for r in records)
    expected = [
        r
        for (mode, path), r in zip(rows, records)
        if mode in ("100644", "100755") and path.rsplit("/", 1)[-1] == ".gitattributes"
    ]
    assert _entries(listing) == expected


@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=6))
def test_gitattributes_records_are_found_in_a_listing_read_piece_by_piece(
    noise: bytes, cuts: list[int]
) -> None:
    from phase2_git.git.attributes import _entries, _scan

    oid = b"b" * 40
    attrs = [b"100644 blob " + oid + b"\t" + p for p in (b".gitattributes", b"x/.gitattributes")]
    # records as ls-tree -z writes them (every one NUL-terminated), attributes among others
    records = [r for r in noise.split(b"\0") if r] + attrs
    listing = b"".join(r + b"\0" for r in sorted(records))
    bounds = sorted({0, len(listing), *(c % (len(listing) + 1) for c in cuts)})
    pieces = [listing[a:b] for a, b in pairwise(bounds)]
    found = _scan(pieces)
    assert found == _entries(listing)
    assert all(a in found for a in attrs)


def test_attributes_of_odd_file_names(repo: TestRepo, cli: Cli) -> None:
    odd = ["gen/we ird.json", "gen/new\nline.json", "gen/ünï.json", "gen/star*.json"]
    repo.write(".phase2/config.toml", '[artifacts]\ninclude = ["golden/"]\n')
    repo.write(".gitattributes", "gen/* linguist-generated\n")
    for path in odd:
        repo.write(path, '{"a": 1}\n')
    repo.commit("base")
    for path in odd:
        repo.write(path, '{"a": 2}\n')
    repo.commit("regen")
    found = _types(_diff_json(cli, repo, "HEAD~1", "HEAD"))
    assert sorted(found) == sorted(odd)


# ------------------------------------------------------------------------------------ JSONC

TSCONFIG = """{
  // see https://aka.ms/tsconfig
  "compilerOptions": {
    "target": "es2020", /* the oldest browser we ship to */
    "strict": true,
  },
}
"""


def test_editing_jsonc_files_passes_the_hook(repo: TestRepo, cli: Cli) -> None:
    repo.write("tsconfig.json", TSCONFIG)
    repo.write(".vscode/settings.json", '{\n  "editor.tabSize": 2, // team default\n}\n')
    repo.write("golden/a.json", '{"a": 1}\n')
    repo.commit("base")
    repo.write("tsconfig.json", TSCONFIG.replace("es2020", "es2022"))
    repo.write(".vscode/settings.json", '{\n  "editor.tabSize": 4, // team default\n}\n')
    code, out = _stage_check(cli, repo)
    assert code == 0, out
    code, out = _stage_check(cli, repo, "tsconfig.json", ".vscode/settings.json")
    assert code == 0, out
    repo.commit("edit")
    doc = _diff_json(cli, repo, "HEAD~1", "HEAD")
    found = {m["path"]: (m["artifact_type"], m["mismatch_type"]) for m in doc["mismatches"]}
    assert found == {
        "tsconfig.json": ("jsonc", "content"),
        ".vscode/settings.json": ("jsonc", "content"),
    }
    # a real change inside a JSONC document is named by its path, as in JSON
    tsc = next(m for m in doc["mismatches"] if m["path"] == "tsconfig.json")
    assert "compilerOptions.target" in tsc["detail"], tsc["detail"]


def test_malformed_json_fails_only_as_a_regression_or_when_strict(repo: TestRepo, cli: Cli) -> None:
    repo.write("golden/valid.json", '{"a": 1}\n')
    repo.write("golden/template.json", '{"a": {{ value }}}\n')
    repo.commit("base")
    repo.write("golden/valid.json", '{"a": 1,\n')  # was valid: a regression
    repo.write("golden/template.json", '{"a": {{ other }}}\n')  # never was JSON
    repo.write("golden/new.json", "{nope\n")  # new
    code, out = _stage_check(cli, repo)
    assert code == 1, out
    assert "golden/valid.json: invalid JSON" in out and "valid JSON before" in out
    assert "template.json: invalid" not in out and "new.json: invalid" not in out
    repo.write(".phase2/config.toml", '[artifacts]\nstrict_json = ["golden/new.json"]\n')
    code, out = _stage_check(cli, repo)
    assert "golden/new.json: invalid JSON" in out and "template.json: invalid" not in out


def test_a_comment_in_a_json_file_makes_it_jsonc(repo: TestRepo, cli: Cli) -> None:
    repo.write("conf/app.json", '{\n  // hand-tuned\n  "a": 1\n}\n')
    repo.commit("base")
    # valid JSONC before, broken after: a regression, named as JSONC
    repo.write("conf/app.json", '{\n  // hand-tuned\n  "a": \n}\n')
    code, out = _stage_check(cli, repo)
    assert code == 1 and "conf/app.json: invalid JSONC" in out, out


def test_jsonc_formatting_comments_and_trailing_commas(repo: TestRepo, cli: Cli) -> None:
    repo.write("tsconfig.json", TSCONFIG)
    repo.write("tsconfig.base.json", TSCONFIG)
    repo.write("jsconfig.json", TSCONFIG)
    repo.commit("base")
    # re-indented and a trailing comma dropped: formatting
    repo.write("tsconfig.json", TSCONFIG.replace("  ", "    ").replace("true,", "true"))
    # a comment changed: content, even though the values are the same
    repo.write("tsconfig.base.json", TSCONFIG.replace("oldest browser", "newest browser"))
    # a comment marker inside a string is not a comment
    repo.write("jsconfig.json", TSCONFIG.replace('"es2020"', '"es2020 // not a comment"'))
    repo.commit("edit")
    doc = _diff_json(cli, repo, "HEAD~1", "HEAD")
    found = {m["path"]: m for m in doc["mismatches"]}
    assert found["tsconfig.json"]["mismatch_type"] == "whitespace"
    assert found["tsconfig.json"]["artifact_type"] == "jsonc"
    assert found["tsconfig.base.json"]["mismatch_type"] == "content"
    assert "comment 2 changed" in found["tsconfig.base.json"]["detail"]
    assert found["jsconfig.json"]["mismatch_type"] == "content"
    assert "compilerOptions.target" in found["jsconfig.json"]["detail"]
    # no method calls a changed comment equivalent
    assert not any(v["equivalent"] for v in found["tsconfig.base.json"]["verdicts"])


def test_a_re_indented_jsonc_file_lists_its_real_changes_by_path(repo: TestRepo, cli: Cli) -> None:
    """A JSONC document re-indented beside a real change is walked as JSON with its comments
    and trailing commas blanked: the value change by its path and line, a comment edited or
    added as a change of its own, the re-indent as noise (it listed every line before); and
    nothing is planned to strip it, JSONC is never rewritten."""
    repo.write("tsconfig.json", TSCONFIG)
    repo.commit("base")
    head = (
        TSCONFIG.replace("  ", "    ")
        .replace("es2020", "es2022")
        .replace("oldest browser", "newest browser")
        .replace("true,", "true,\n        // strictest")
    )
    repo.write("tsconfig.json", head)
    repo.commit("edit")
    doc = _diff_json(cli, repo, "HEAD~1", "HEAD")
    (m,) = doc["mismatches"]
    assert (m["artifact_type"], m["mismatch_type"]) == ("jsonc", "content")
    real = [(c["kind"], c["path"], c["line"], c["base_line"]) for c in m["changes"]["real"]]
    assert real == [
        ("changed", "$.compilerOptions.target", 4, 4),
        ("changed", None, 4, 4),
        ("added", None, 6, None),
    ]
    comment = m["changes"]["real"][1]
    assert (comment["before"], comment["after"]) == (
        "/* the oldest browser we ship to */",
        "/* the newest browser we ship to */",
    )
    assert [n["type"] for n in m["changes"]["noise"]] == ["whitespace"]
    assert m["plan"]["action"] == "manual" and "first" not in m["plan"]


_json_strings = st.lists(
    st.sampled_from([*'ab /*,\\"\n}]{[', "//", "/*", "*/", "é"]), max_size=8
).map(lambda chars: json.dumps("".join(chars)))
_fill = st.sampled_from([" ", "\n", "  ", "\t", "1", "true", ":", ",", "{", "}", "[", "]"])
_comment = st.one_of(
    st.text(alphabet='ab "*/,', max_size=8).map(lambda s: "//" + s + "\n"),
    st.text(alphabet='ab "/,\n', max_size=8).map(lambda s: "/*" + s.replace("*/", "") + "*/"),
)


@given(st.lists(st.one_of(_json_strings, _fill, _comment), max_size=20))
def test_the_jsonc_scanner_never_changes_strings(parts: list[str]) -> None:
    from phase2_git.core import jsonc

    text = "".join(parts)
    found = jsonc.scan(text)
    assert len(found.text) == len(text)  # every position kept
    assert found.text.count("\n") == text.count("\n")  # and so every line number
    strings = [p for p in parts if p.startswith('"')]
    # each string literal is where it was, untouched
    pos = 0
    for p in parts:
        if p in strings:
            assert found.text[pos : pos + len(p)] == p
        pos += len(p)


@given(st.lists(st.one_of(_json_strings, _fill), max_size=20))
def test_comment_free_input_without_trailing_commas_is_unchanged(parts: list[str]) -> None:
    import re

    from phase2_git.core import jsonc

    text = "".join(parts)
    outside = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    assume(not re.search(r",\s*[\]}]", outside))
    found = jsonc.scan(text)
    assert found.text == text and found.comments == () and found.trailing_commas == 0


@given(
    st.recursive(
        st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none()),
        lambda kids: st.one_of(
            st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=3), kids, max_size=3)
        ),
        max_leaves=10,
    ),
    st.sampled_from(["// c\n", "/* c */", "/* a\nb */"]),
)
def test_commented_json_with_trailing_commas_parses_as_the_json(value: Any, comment: str) -> None:
    from phase2_git.core import jsonc, jsonvalue

    text = json.dumps(value, indent=1)
    # a comment after every line break and a trailing comma before every closing bracket
    # outside strings (json.dumps escapes newlines inside strings)
    noisy = re.sub(r"\n(\s*)([\]}])", r",\n\1\2", text) if "\n" in text else text
    noisy = noisy.replace("\n", "\n" + comment)
    assert jsonc.parse(noisy.encode()) == jsonvalue.parse(text.encode())


# ------------------------------------------------------------------------ labels by blob id


def _labels_repo(repo: TestRepo, cli: Cli) -> list[dict[str, Any]]:
    from tests.test_labels import dataset, feature_repo, session

    feature_repo(repo)
    session(repo, cli)
    code, _, err = cli("labels", "export", repo=repo)
    assert code == 0, err
    return dataset(repo)


def _eval(cli: Cli, repo: TestRepo, *args: str) -> dict[str, Any]:
    code, out, err = cli(
        "judge", "eval", "--format", "json", "--methods", "canonical_json,line_endings",
        "--bootstrap", "100", *args, repo=repo,
    )  # fmt: skip
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


@posix_only
def test_labels_name_content_by_blob_id_and_judges_read_it_from_git(
    repo: TestRepo, cli: Cli, umask022: None
) -> None:
    from tests.test_labels import BASE, HEAD

    rows = _labels_repo(repo, cli)
    labels = repo.root / ".phase2/labels.jsonl"
    assert mode(labels) == 0o644
    assert all(r["content"] == "git" and "before" not in r and "after" not in r for r in rows)
    # the committed file holds no copy of the content
    text = labels.read_text()
    assert '"accuracy"' not in text and len(text) < 400 * len(rows)
    doc = _eval(cli, repo)
    assert doc["n"] == len(BASE) == len(HEAD)
    assert doc["methods"]["canonical_json"]["by_type"]["json_ordering"]["confusion"]["tp"] == 1
    assert doc["methods"]["line_endings"]["by_type"]["line_endings"]["confusion"]["tp"] == 1


def test_old_embedded_labels_are_still_read_and_imports_keep_their_text(
    repo: TestRepo, cli: Cli, tmp_path: Any
) -> None:
    from tests.test_labels import BASE, HEAD

    _labels_repo(repo, cli)
    labels = repo.root / ".phase2/labels.jsonl"
    fresh = _eval(cli, repo)
    # the same dataset as an older phase2 wrote it: content embedded, no "content" key
    old_rows = []
    for line in labels.read_text().splitlines():
        row = json.loads(line)
        del row["content"]
        path = row["path"]
        if path == "img.bin":
            row["before_base64"], row["after_base64"] = "AAEC", "AAED"
        else:
            row["before"], row["after"] = BASE[path].decode(), HEAD[path].decode()
        old_rows.append(row)
    labels.write_text("".join(json.dumps(r) + "\n" for r in old_rows))
    old = _eval(cli, repo)
    for method in ("canonical_json", "line_endings"):
        assert old["methods"][method]["confusion"] == fresh["methods"][method]["confusion"]
    # --embed writes the content as older versions did (a self-contained dataset)
    embedded = tmp_path / "embedded.jsonl"
    code, out, err = cli("labels", "export", "--embed", "-o", str(embedded), repo=repo)
    assert code == 0, out + err
    rows = {json.loads(x)["path"]: json.loads(x) for x in embedded.read_text().splitlines()}
    assert rows["snap/c.txt"]["after"] == HEAD["snap/c.txt"].decode()
    assert rows["img.bin"]["before_base64"] == "AAEC" and "content" not in rows["img.bin"]
    # re-exporting moves them to blob ids
    code, out, err = cli("labels", "export", repo=repo)
    assert code == 0 and "6 updated" in out, out + err
    assert all(json.loads(x)["content"] == "git" for x in labels.read_text().splitlines())
    # a dataset from elsewhere carries its text, and keeps it
    outside = tmp_path / "external.jsonl"
    outside.write_text(
        json.dumps(
            {"id": "ext-1", "artifact_type": "text", "mismatch_type": "whitespace",
             "label": "equivalent", "before": "a b\n", "after": "a  b\n"}
        ) + "\n"
    )  # fmt: skip
    code, out, err = cli("labels", "import", str(outside), repo=repo)
    assert code == 0, err
    rows = {json.loads(x)["id"]: json.loads(x) for x in labels.read_text().splitlines()}
    assert rows["ext-1"]["before"] == "a b\n" and "content" not in rows["ext-1"]


def test_content_git_no_longer_has_stays_embedded(tmp_path: Any) -> None:
    from phase2_git.app.labels import export_labels
    from phase2_git.core.settings import ClassifySettings
    from phase2_git.store.labels import read_labels
    from tests.test_labels import event

    before, after = "1" * 40, "2" * 40
    ev = event(
        1, "approve", "mis_000000000001", hashes={"before": before, "after": after},
        artifact_type="text", mismatch_type="whitespace",
    )  # fmt: skip
    root = tmp_path
    (root / ".phase2").mkdir()
    (root / ".phase2/labels.jsonl").write_text(
        json.dumps(
            {"id": "mis_000000000001", "path": "x.json", "artifact_type": "text",
             "mismatch_type": "whitespace", "label": "equivalent", "before": "a\n",
             "after": "a \n", "hashes": {"before": before, "after": after},
             "source": "approve", "decision_id": "dec_0000000000000001"}
        ) + "\n"
    )  # fmt: skip

    def pruned(oids: list[str]) -> dict[str, tuple[bytes | None, int | None]]:
        return dict.fromkeys(oids, (None, None))  # git no longer has either blob

    export_labels(root, [ev], pruned, ClassifySettings())
    (item,) = read_labels(root / ".phase2/labels.jsonl")
    assert (item.before, item.after, item.content_in_git) == (b"a\n", b"a \n", False)


def test_a_content_git_line_must_name_its_blobs_and_embed_nothing(repo: TestRepo, cli: Cli) -> None:
    repo.commit("empty")
    base = {"id": "x", "artifact_type": "text", "mismatch_type": "content", "label": "different"}
    for bad in (
        {**base, "content": "git"},  # no hashes
        {**base, "content": "git", "hashes": {"before": None, "after": None}, "before": "a"},
        {**base, "content": "inline", "hashes": {"before": None, "after": None}},
    ):
        (repo.root / "bad.jsonl").write_text(json.dumps(bad) + "\n")
        code, _, err = cli("labels", "import", str(repo.root / "bad.jsonl"), repo=repo)
        assert code == 2 and "bad.jsonl:1" in err, err
