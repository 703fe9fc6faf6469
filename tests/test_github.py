"""GitHub Actions side channels: step summary, ``$GITHUB_OUTPUT``, workflow-command annotations."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from phase2_git.reports import github
from tests.conftest import Cli, TestRepo
from tests.test_junit import build_ci_repo, lint_markdown


def parse_github_output(text: str) -> dict[str, str]:
    """The runner's reading of a ``$GITHUB_OUTPUT`` file (``k=v`` and ``k<<DELIM`` forms)."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            value: list[str] = []
            while lines[i] != delim:
                value.append(lines[i])
                i += 1
            i += 1
            out[name] = "\n".join(value)
        else:
            name, value_s = line.split("=", 1)
            out[name] = value_s
    return out


ANNOTATION = re.compile(r"^::(error|notice|warning)(?: ([^:]*))?::(.*)$")


def parse_annotations(text: str) -> list[tuple[str, dict[str, str], str]]:
    """Workflow commands as the runner decodes them (unescaping properties and data)."""

    def unescape(s: str, prop: bool) -> str:
        if prop:
            s = s.replace("%2C", ",").replace("%3A", ":")
        return s.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")

    found = []
    for line in text.splitlines():
        m = ANNOTATION.match(line)
        if not m:
            continue
        props = {}
        for part in (m.group(2) or "").split(","):
            if part:
                k, v = part.split("=", 1)
                props[k] = unescape(v, True)
        found.append((m.group(1), props, unescape(m.group(3), False)))
    return found


def mismatch(i: int, mtype: str = "content", path: str | None = None, **kw: Any) -> dict[str, Any]:
    noise = mtype in ("whitespace", "json_ordering")
    m = {
        "id": f"mis_{i:012x}",
        "path": path or f"f{i}.json",
        "old_path": None,
        "status": "modified",
        "artifact_type": "json",
        "mismatch_type": mtype,
        "equivalent": noise,
        "plan": {"action": "restore_base" if noise else "manual", "safe": noise},
        "resolved": False,
        "decision": None,
    }
    m.update(kw)
    return m


def test_annotations_escape_per_workflow_command_rules() -> None:
    path = "a,b:c%d\nline2\x1b[2J.json"
    doc = {"mismatches": [mismatch(1, path=path), mismatch(2, "json_ordering", path="x:y.json")]}
    lines = github.annotation_lines(doc)
    assert len(lines) == 2 and all("\n" not in line and "\x1b" not in line for line in lines)
    (kind, props, msg), (kind2, props2, msg2) = parse_annotations("\n".join(lines))
    assert kind == "error" and kind2 == "notice"
    # escaped for display, never stripped; then protocol-escaped, so the runner reads it back
    assert props["file"] == "a,b:c%d\\x0aline2\\x1b[2J.json"
    assert props["title"] == "phase2: content"
    assert "phase2 approve 'a,b:c%d\\x0aline2\\x1b[2J.json'" in msg
    assert props2 == {"file": "x:y.json", "title": "phase2: json_ordering"}
    assert msg2 == "noise only (json_ordering): plan restore_base, safe to apply"
    assert lines[0].startswith("::error file=a%2Cb%3Ac%25d\\x0aline2")


def test_resolved_and_approved_are_not_annotated() -> None:
    approved = {"id": "d1", "decision": "approve", "trusted": True}
    untrusted = {"id": "d2", "decision": "approve", "trusted": False}
    doc = {
        "mismatches": [
            mismatch(1, decision=approved),
            mismatch(2, "whitespace", resolved=True),
            mismatch(3, decision=untrusted),
        ]
    }
    (line,) = github.annotation_lines(doc)
    assert "f3.json" in line and "approval is not trusted" in line


@pytest.mark.parametrize(("n_real", "n_noise"), [(10, 0), (11, 3), (40, 25)])
def test_at_most_ten_of_a_kind_then_a_pointer(n_real: int, n_noise: int) -> None:
    doc = {
        "mismatches": [mismatch(i) for i in range(n_real)]
        + [mismatch(100 + i, "whitespace") for i in range(n_noise)]
    }
    found = parse_annotations("\n".join(github.annotation_lines(doc)))
    for kind, n in (("error", n_real), ("notice", n_noise)):
        mine = [f for f in found if f[0] == kind]
        assert len(mine) == min(n, github.MAX_ANNOTATIONS)
        if n > github.MAX_ANNOTATIONS:
            what = "real changes" if kind == "error" else "noise-only changes"
            assert mine[-1][2] == f"{n - 9} more {what} are not annotated: see the job summary"
            assert "file" not in mine[-1][1]


def test_output_block_random_delimiters_survive_hostile_values() -> None:
    tokens = iter(["aaa", "aaa", "bbb", "ccc"])
    block = github.output_block(
        {"summary": "/tmp/x\nghadelimiter_aaa\nend", "total": "3"}, token=lambda: next(tokens)
    )
    parsed = parse_github_output(block)
    assert parsed == {"summary": "/tmp/x\nghadelimiter_aaa\nend", "total": "3"}
    assert "summary<<ghadelimiter_bbb\n" in block
    # real tokens differ every time
    a, b = github.output_block({"x": "1"}), github.output_block({"x": "1"})
    assert a != b and parse_github_output(a) == parse_github_output(b) == {"x": "1"}


def test_step_summary_is_kept_under_the_cap() -> None:
    md = "## t\n\n<details>\n<summary>n</summary>\n\n" + "| a |\n| --- |\n" + "| x |\n" * 5000
    fitted = github.fit_step_summary(md, used=100, limit=10_000)
    assert len(fitted.encode()) + 100 <= 10_000
    assert fitted.count("<details>") == fitted.count("</details>")
    assert "report truncated" in fitted
    assert github.fit_step_summary("small\n", limit=10_000) == "small\n"
    assert github.fit_step_summary("x" * 100, used=10_000, limit=10_000) == ""


# ---------------------------------------------------------------------------- end to end


@pytest.fixture
def gha(repo: TestRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    build_ci_repo(repo)
    summary = tmp_path / "step_summary.md"
    summary.write_text("# earlier step\n")
    output = tmp_path / "output"
    output.write_text("earlier=1\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo/repo")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")
    monkeypatch.chdir(tmp_path)
    return {"repo": repo, "summary": summary, "output": output, "tmp": tmp_path}


def test_diff_under_github_actions(gha: dict[str, Any], cli: Cli) -> None:
    repo = gha["repo"]
    code, out, err = cli(
        "diff",
        "main",
        "HEAD",
        "--format",
        "json",
        "--junit",
        "j.xml",
        "--summary",
        "s.md",
        repo=repo,
    )
    doc = json.loads(out)  # stdout stays pure JSON: annotations go to stderr
    s = doc["summary"]
    assert code == 1
    # step summary: appended after the earlier step's content, links to the head commit
    text = gha["summary"].read_text()
    assert text.startswith("# earlier step\n## phase2:")
    assert f"](https://github.example/octo/repo/blob/{doc['head']}/root.json)" in text
    lint_markdown(text[len("# earlier step\n") :])
    # outputs: counts and absolute report paths, after what earlier steps wrote
    outputs = parse_github_output(gha["output"].read_text())
    assert outputs["earlier"] == "1"
    assert outputs["total"] == str(s["total"]) and outputs["failing"] == str(s["failing"])
    assert outputs["unresolved_real"] == str(s["unresolved_real"])
    assert outputs["exit_code"] == "1"
    assert outputs["junit"] == str(gha["tmp"] / "j.xml") and outputs["prom"] == ""
    assert outputs["summary"] == str(gha["tmp"] / "s.md")
    # annotations: an error per unresolved real change, a notice per unresolved noise
    found = parse_annotations(err)
    assert sum(1 for f in found if f[0] == "error") == s["unresolved_real"]
    assert sum(1 for f in found if f[0] == "notice") == s["unresolved_noise"]
    assert all(line.startswith("::") for line in err.splitlines())


def test_switches_turn_the_side_channels_off(gha: dict[str, Any], cli: Cli) -> None:
    repo = gha["repo"]
    code, _, err = cli("diff", "main", "HEAD", "--no-annotations", "--no-step-summary", repo=repo)
    assert code == 1 and "::error" not in err
    assert gha["summary"].read_text() == "# earlier step\n"
    assert "total<<" in gha["output"].read_text()  # outputs are always written under Actions


def test_nothing_written_outside_github_actions(gha: dict[str, Any], cli: Cli, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "false")
    code, _, err = cli("diff", "main", "HEAD", repo=gha["repo"])
    assert code == 1 and err == ""
    assert gha["summary"].read_text() == "# earlier step\n"
    assert gha["output"].read_text() == "earlier=1\n"
    # but annotations can be asked for anywhere (e.g. other CI systems that read them)
    _, _, err = cli("diff", "main", "HEAD", "--annotations", repo=gha["repo"])
    assert err.startswith("::error ")


def test_unwritable_github_output_is_one_line(gha: dict[str, Any], cli: Cli, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_OUTPUT", str(gha["tmp"] / "missing-dir" / "out"))
    code, _, err = cli("diff", "main", "HEAD", "--no-annotations", repo=gha["repo"])
    assert code == 2 and err.startswith("phase2: error: ") and err.count("\n") == 1
