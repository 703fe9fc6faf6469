"""Defaults that must not block ordinary work: file modes of what phase2 writes, JSON with
comments, hand-written configuration, ``linguist-generated``, numbers in text, labels by blob
id. Each test runs the real CLI on a real repository."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import assume, given
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
