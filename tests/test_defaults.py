"""Defaults that must not block ordinary work: file modes of what phase2 writes, JSON with
comments, hand-written configuration, ``linguist-generated``, numbers in text, labels by blob
id. Each test runs the real CLI on a real repository."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

import pytest

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
