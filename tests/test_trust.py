"""Who may approve: forged approvals in a PR never turn CI green (trust from the base side)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, TestRepo

UNVERIFIED = (
    "approvals are unverified: the trust side (the base, or --trust-from) has no [trust] table"
)

ADA = ("Ada Reviewer", "ada@example.com")
MALLORY = ("Mallory", "mallory@example.com")


def as_user(monkeypatch: pytest.MonkeyPatch, who: tuple[str, str]) -> None:
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", who[0])
        monkeypatch.setenv(f"GIT_{role}_EMAIL", who[1])


def pr_repo(repo: TestRepo, trust: str) -> None:
    repo.write(".phase2/config.toml", trust)
    repo.write("eval/real.json", b'{"accuracy": 0.81}\n')
    repo.commit("base with trust")
    repo.git("checkout", "-q", "-b", "pr")


def diff(cli: Cli, repo: TestRepo) -> tuple[int, dict[str, Any]]:
    code, out, err = cli("diff", "main", "pr", "--format", "json", "--fail-on", "real", repo=repo)
    assert err == "", err
    return code, json.loads(out)


def test_forged_approval_does_not_pass_and_a_reviewer_approval_does(
    repo: TestRepo, cli: Cli, monkeypatch
) -> None:
    pr_repo(
        repo, '[trust]\nreviewers = ["Ada Reviewer <ada@example.com>"]\nrequire_signed = false\n'
    )
    as_user(monkeypatch, MALLORY)
    repo.write("eval/real.json", b'{"accuracy": 0.99}\n')
    repo.commit("tune the numbers")
    # Mallory writes an approval claiming to be Ada
    code, _, err = cli(
        "approve",
        "eval/real.json",
        "--base",
        "main",
        "--user",
        "Ada Reviewer <ada@example.com>",
        "--role",
        "maintainer",
        repo=repo,
    )
    assert code == 0, err
    code, doc = diff(cli, repo)
    assert code == 1
    real = doc["mismatches"][0]
    assert real["decision"]["trusted"] is False
    assert "not a listed reviewer" in real["decision"]["why"]
    assert any("untrusted approval of eval/real.json" in n for n in doc["notices"])
    assert any("unverified identities" in n for n in doc["notices"])
    # text output says it too
    code, out, _ = cli("diff", "main", "pr", repo=repo)
    assert code == 1 and "untrusted approval" in out
    # the same approval committed by the reviewer counts
    as_user(monkeypatch, ADA)
    code, _, err = cli("approve", "eval/real.json", "--base", "main", repo=repo)
    assert code == 0, err
    code, doc = diff(cli, repo)
    assert code == 0
    assert doc["mismatches"][0]["decision"]["trusted"] is True
    assert doc["mismatches"][0]["decision"]["by"] == "Ada Reviewer <ada@example.com>"


def test_trust_table_is_read_from_the_base_side(repo: TestRepo, cli: Cli, monkeypatch) -> None:
    pr_repo(
        repo, '[trust]\nreviewers = ["Ada Reviewer <ada@example.com>"]\nrequire_signed = false\n'
    )
    as_user(monkeypatch, MALLORY)
    repo.write("eval/real.json", b'{"accuracy": 0.99}\n')
    # the PR adds Mallory as a reviewer: it must not count
    repo.write(
        ".phase2/config.toml",
        '[trust]\nreviewers = ["Mallory <mallory@example.com>"]\nrequire_signed = false\n',
    )
    repo.commit("make myself a reviewer")
    cli("approve", "eval/real.json", "--base", "main", repo=repo)
    code, doc = diff(cli, repo)
    assert code == 1
    by_path = {m["path"]: m for m in doc["mismatches"]}
    assert by_path["eval/real.json"]["decision"]["trusted"] is False
    # the PR's configuration change is itself a real change to review
    assert by_path[".phase2/config.toml"]["plan"]["action"] == "manual"


def test_without_trust_table_approvals_count_with_a_warning(repo: TestRepo, cli: Cli) -> None:
    repo.write("eval/real.json", b'{"accuracy": 0.81}\n')
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "pr")
    repo.write("eval/real.json", b'{"accuracy": 0.99}\n')
    repo.commit("change")
    cli("approve", "eval/real.json", "--base", "main", repo=repo)
    code, doc = diff(cli, repo)
    assert code == 0
    assert doc["notices"] == [UNVERIFIED]


def test_signatures_required(repo: TestRepo, cli: Cli, monkeypatch, tmp_path: Path) -> None:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen not installed")
    keys = {}
    for who in ("ada", "mallory"):
        key = tmp_path / who
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f", str(key)], check=True
        )
        keys[who] = key
    ada_pub = (tmp_path / "ada.pub").read_text().split()
    pr_repo(
        repo,
        '[trust]\nreviewers = ["Ada Reviewer <ada@example.com>"]\n'
        f'signing_keys = ["ada@example.com {ada_pub[0]} {ada_pub[1]}"]\nrequire_signed = true\n',
    )
    repo.write("eval/real.json", b'{"accuracy": 0.99}\n')
    repo.commit("change")
    as_user(monkeypatch, ADA)
    # unsigned commit by the trusted reviewer: not enough
    cli("approve", "eval/real.json", "--base", "main", repo=repo)
    code, doc = diff(cli, repo)
    assert code == 1 and "is not signed" in doc["mismatches"][0]["decision"]["why"]
    # signed with a key that is not Ada's: not enough either
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "commit.gpgsign", "true")
    repo.git("config", "user.signingkey", str(keys["mallory"]))
    cli("approve", "eval/real.json", "--base", "main", repo=repo)
    code, doc = diff(cli, repo)
    assert code == 1, doc["mismatches"][0]["decision"]
    # signed with Ada's listed key: trusted (phase2 signs its own commits: commit.gpgsign)
    repo.git("config", "user.signingkey", str(keys["ada"]))
    cli("approve", "eval/real.json", "--base", "main", repo=repo)
    code, doc = diff(cli, repo)
    assert code == 0, doc["mismatches"][0]["decision"]
    assert "listed SSH key" in doc["mismatches"][0]["decision"]["why"]
    assert doc["mismatches"][0]["decision"]["verified"] is True  # reports say "verified"
    junit = tmp_path / "junit.xml"
    assert cli("diff", "main", "pr", "--junit", str(junit), repo=repo).code == 0
    assert "decision: approve (trusted, verified)" in junit.read_text()
    assert "gpgsig -----BEGIN SSH SIGNATURE-----" in repo.git("cat-file", "commit", "HEAD")


def test_a_pull_request_cannot_choose_the_judge(repo: TestRepo, cli: Cli, tmp_path: Path) -> None:
    """[judge] runs a command or sends content with a key: on a commit base it is the base
    side's."""
    marker = tmp_path / "pwned"
    repo.write("out/a.txt", b"alpha beta\n")
    repo.write(".phase2/config.toml", '[methods]\nenabled = ["exact", "llm_rubric"]\n')
    repo.commit("base: llm_rubric enabled, no judge configured")
    repo.git("checkout", "-q", "-b", "pr")
    evil = f"touch {marker}"
    repo.write(
        ".phase2/config.toml",
        f'[methods]\nenabled = ["exact", "llm_rubric"]\n[judge]\ncommand = "sh -c \'{evil}\'"\n',
    )
    repo.write("out/a.txt", b"alpha   beta\n")
    repo.commit("pr: my own judge")
    _code, out, _err = cli("diff", "main", "pr", "--format", "json", repo=repo)
    assert not marker.exists(), "the pull request's judge command ran"
    doc = json.loads(out)
    assert any("no judge configured" in n for n in doc.get("notices", [])), doc.get("notices")
