"""Prometheus textfile metrics (``--prom``): checked by promtool, served by node_exporter."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from phase2_git.core.model import ARTIFACT_TYPES, MISMATCH_TYPES
from phase2_git.reports import prom
from tests.conftest import Cli, TestRepo, require_tool
from tests.test_junit import build_ci_repo, prom_samples, promtool_check

RUN_GAUGES = {
    "phase2_mismatches",
    "phase2_resolved_mismatches",
    "phase2_unresolved_mismatches",
    "phase2_safe_mismatches",
    "phase2_failing_mismatches",
    "phase2_auto_applied_mismatches",
    "phase2_autoresolve_disabled",
    "phase2_run_duration_seconds",
    "phase2_last_run_timestamp_seconds",
    "phase2_config_info",
}
# label values come from closed sets: never a path or a commit id
ALLOWED_LABELS: dict[str, set[str]] = {
    "mismatch_type": set(MISMATCH_TYPES),
    "artifact_type": set(ARTIFACT_TYPES),
    "kind": {"real", "noise"},
    "fail_on": {"real", "noise", "any", "never"},
}
TIMED = ("phase2_run_duration_seconds", "phase2_last_run_timestamp_seconds")


@pytest.fixture
def ci_repo(repo: TestRepo) -> TestRepo:
    return build_ci_repo(repo)


def write_prom(cli: Cli, repo: TestRepo, path: Path, *args: str) -> dict[str, Any]:
    _, out, err = cli(
        "diff", "main", "HEAD", "--prom", str(path), "--format", "json", *args, repo=repo
    )
    assert err == ""
    promtool_check(path)
    doc: dict[str, Any] = json.loads(out)
    return doc


def test_run_gauges_and_labels(ci_repo: TestRepo, cli: Cli, tmp_path: Path) -> None:
    m = tmp_path / "m.prom"
    before = time.time()
    doc = write_prom(cli, ci_repo, m)
    samples = prom_samples(m)
    assert set(samples) == RUN_GAUGES
    for name, series in samples.items():
        for labels, _ in series:
            for key, value in labels.items():
                if name == "phase2_config_info":
                    continue
                assert value in ALLOWED_LABELS[key], (name, key, value)
    ((info_labels, one),) = samples["phase2_config_info"]
    assert one == 1 and info_labels["fingerprint"] == doc["config_fingerprint"]
    assert info_labels["version"]
    assert samples["phase2_auto_applied_mismatches"] == [({}, 0)]
    assert samples["phase2_autoresolve_disabled"] == [({}, 0)]
    resolved = {lab["kind"]: v for lab, v in samples["phase2_resolved_mismatches"]}
    assert resolved == {"noise": doc["summary"]["resolved"], "real": doc["summary"]["approved"]}
    assert samples["phase2_safe_mismatches"] == [({}, doc["summary"]["safe"])]
    ((_, stamp),) = samples["phase2_last_run_timestamp_seconds"]
    ((_, duration),) = samples["phase2_run_duration_seconds"]
    # seconds, within the run this test timed (not milliseconds, not a stale value)
    after = time.time()
    assert before - 1 <= stamp <= after + 1 and 0 <= duration <= after - before + 1
    # nothing in the file names a path or a commit
    text = m.read_text()
    assert "data/" not in text and doc["head"] not in text and doc["base"] not in text


@pytest.mark.parametrize("value", ["1", "true", "YES", "anything"])
def test_kill_switch_shows(
    ci_repo: TestRepo, cli: Cli, tmp_path: Path, monkeypatch, value: str
) -> None:
    monkeypatch.setenv("PHASE2_DISABLE_AUTORESOLVE", value)
    m = tmp_path / "m.prom"
    write_prom(cli, ci_repo, m)
    assert prom_samples(m)["phase2_autoresolve_disabled"] == [({}, 1)]


def test_empty_run_is_valid(repo: TestRepo, cli: Cli, tmp_path: Path) -> None:
    repo.write("a.txt", "a\n")
    repo.commit("one")
    m = tmp_path / "m.prom"
    code, _, _ = cli("diff", "--prom", str(m), repo=repo)
    assert code == 0
    promtool_check(m)
    samples = prom_samples(m)
    assert "phase2_mismatches" not in samples  # no series rather than made-up label values
    assert samples["phase2_unresolved_mismatches"] == [
        ({"kind": "noise"}, 0),
        ({"kind": "real"}, 0),
    ]


def test_deterministic_apart_from_the_marked_timestamps(
    ci_repo: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    a, b = tmp_path / "a.prom", tmp_path / "b.prom"
    write_prom(cli, ci_repo, a)
    write_prom(cli, ci_repo, b)

    def stable(p: Path) -> list[str]:
        return [line for line in p.read_text().splitlines() if not line.startswith(TIMED)]

    assert stable(a) == stable(b)


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    doc = {
        "summary": {
            "resolved": 0, "approved": 0, "unresolved_noise": 0, "unresolved_real": 0,
            "safe": 0, "fail_on": "real", "failing": 0,
        },
        "mismatches": [],
        "config_fingerprint": "0" * 64,
    }  # fmt: skip
    target = tmp_path / "out" / "m.prom"
    prom.write(target, doc, prom.RunFacts(1.5, 1_767_225_600.0))
    prom.write(target, doc, prom.RunFacts(2.5, 1_767_225_601.0))
    assert [p.name for p in target.parent.iterdir()] == ["m.prom"]
    promtool_check(target)
    assert "phase2_run_duration_seconds 2.5" in target.read_text()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_node_exporter_textfile_collector_serves_it(
    ci_repo: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    exporter = require_tool("prometheus-node-exporter")
    folder = tmp_path / "textfile"
    folder.mkdir()
    doc = write_prom(cli, ci_repo, folder / "phase2.prom")
    port = _free_port()
    proc = subprocess.Popen(
        [
            exporter,
            "--collector.disable-defaults",
            "--collector.textfile",
            f"--collector.textfile.directory={folder}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        body = ""
        for _ in range(150):  # bounded: at most ~30 s for the exporter to listen
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    body = r.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None:
                    break
                time.sleep(0.2)
        assert body, f"node_exporter did not serve metrics (exit {proc.poll()})"
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    # the collector accepted the file (a timestamped or malformed file sets the error to 1)
    assert "node_textfile_scrape_error 0" in body, err.decode(errors="replace")
    total = doc["summary"]["total"]
    served = [line for line in body.splitlines() if line.startswith("phase2_mismatches{")]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in served) == total
    assert "phase2_autoresolve_disabled 0" in body
    assert f'fingerprint="{doc["config_fingerprint"]}"' in body
