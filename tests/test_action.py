"""The GitHub Action: ``action.yml`` checked by zizmor and the actions schema, and its steps run
locally, as the runner would, against temporary repositories with a simulated ``GITHUB_*``
environment (event payload, ``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY`` files per step)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import TestRepo, require_tool
from tests.test_github import parse_annotations, parse_github_output
from tests.test_junit import lint_markdown, promtool_check, validate_junit

CHECKOUT = Path(__file__).resolve().parent.parent
ACTION = CHECKOUT / "action.yml"
SCRIPT = CHECKOUT / "scripts" / "action-run.sh"
RUN_LINE = re.compile(r'^bash "\$GITHUB_ACTION_PATH/scripts/action-run\.sh" (\w+)$')

ORDERED = b'{"a": 1, "b": 2}\n'
REORDERED = b'{"b": 2, "a": 1}\n'
REAL = b'{"a": 1, "b": 3}\n'

pytestmark = pytest.mark.slow


def load_action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    return data


# ---------------------------------------------------------------------------- static checks


def test_zizmor_offline_is_clean() -> None:
    zizmor = require_tool("zizmor")
    proc = subprocess.run(
        [zizmor, "--offline", "--persona", "pedantic", str(ACTION)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings" in proc.stdout


def test_github_actions_schema_is_clean() -> None:
    tool = require_tool("check-jsonschema")
    proc = subprocess.run(
        [tool, "--builtin-schema", "vendor.github-actions", str(ACTION)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_expression_is_interpolated_into_a_script() -> None:
    action = load_action()
    inputs = action["inputs"]
    for name in ("base", "head", "fail-on", "junit", "prom", "summary", "annotations",
                 "python-version", "args", "apply"):  # fmt: skip
        assert name in inputs and inputs[name]["description"].strip()
    assert inputs["apply"]["default"] == "false"
    used: set[str] = set()
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            assert RUN_LINE.match(step["run"]), step["run"]
        for value in step.get("env", {}).values():
            used.update(re.findall(r"inputs\.([\w-]+)", value))
    assert {"base", "head", "fail-on", "junit", "prom", "summary", "annotations", "args"} <= used
    assert SCRIPT.stat().st_mode & 0o111, "the script is executable"
    for name, out in action["outputs"].items():
        assert out["description"].strip() and out["value"].startswith("${{ steps."), name
    setup = next(s for s in action["runs"]["steps"] if "uses" in s)
    assert re.fullmatch(r"actions/setup-python@[0-9a-f]{40}", setup["uses"])
    assert setup["if"] == "inputs.python-version != ''"


WORKFLOW = Path(__file__).parent / "data" / "workflow.snippet.yml"


def test_readme_workflow_snippet() -> None:
    """The README's copy-paste workflow: schema-valid, zizmor-clean but for pinning our own
    action by tag (users pin a release sha), and it only uses inputs the action declares."""
    schema_tool = require_tool("check-jsonschema")
    proc = subprocess.run(
        [schema_tool, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    zizmor = require_tool("zizmor")
    proc = subprocess.run(
        [zizmor, "--offline", "--format", "json", str(WORKFLOW)], capture_output=True, text=True
    )
    findings = json.loads(proc.stdout)
    for f in findings:
        feature = f["locations"][0]["concrete"]["feature"]
        assert f["ident"] == "unpinned-uses" and "phase2-git/phase2@" in feature, f
    inputs = set(load_action()["inputs"])
    workflow = yaml.safe_load(WORKFLOW.read_text())
    ours = [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("phase2-git/phase2@")
    ]
    assert len(ours) == 2
    for step in ours:
        assert set(step.get("with", {})) <= inputs
    for job in workflow["jobs"].values():
        checkout = job["steps"][0]
        assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}
    autofix = workflow["jobs"]["autofix"]
    assert autofix["permissions"] == {"contents": "write"}
    assert "head.repo.full_name == github.repository" in autofix["if"]


def test_script_passes_bash_syntax_check() -> None:
    proc = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# ---------------------------------------------------------------------------- the local runner


@dataclass
class ActionRun:
    """What a workflow run would show: per-step exit codes and logs, outputs, summary."""

    codes: dict[str, int] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)
    step_outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    summary: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    failed_at: str | None = None

    @property
    def log(self) -> str:
        return "".join(self.logs.values())


def _expr(value: str, inputs: Mapping[str, str], steps: Mapping[str, Mapping[str, str]]) -> str:
    """The few expression forms action.yml uses, evaluated like the runner would."""

    def one(m: re.Match[str]) -> str:
        e = m.group(1).strip()
        if e.startswith("inputs."):
            return inputs[e[len("inputs.") :]]
        if e == "github.token":
            return "fake-token"
        sm = re.fullmatch(r"steps\.(\w+)\.outputs\.(\w+)", e)
        if sm:
            return steps.get(sm.group(1), {}).get(sm.group(2), "")
        raise AssertionError(f"unsupported expression {e!r}")

    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


def _condition(cond: str, inputs: Mapping[str, str]) -> bool:
    m = re.fullmatch(r"inputs\.([\w-]+) (==|!=) '([^']*)'", cond)
    assert m, f"unsupported if: {cond!r}"
    equal = inputs[m.group(1)] == m.group(3)
    return equal if m.group(2) == "==" else not equal


def install_step(tmp_path_factory: pytest.TempPathFactory, snapshot: tuple[str, str]) -> Path:
    """The install step: a venv under a RUNNER_TEMP, phase2 pip-installed into it from the
    action's own checkout (a snapshot of this working tree). The ``venv`` session fixture
    (conftest.py) runs it once per test process."""
    temp = tmp_path_factory.mktemp("runner-temp")
    home = tmp_path_factory.mktemp("install-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))}
    env.update(HOME=str(home), RUNNER_TEMP=str(temp), GITHUB_ACTION_PATH=snapshot[0])
    proc = subprocess.run(
        ["bash", str(SCRIPT), "install"], env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("phase2 ")
    return temp / "phase2-venv"


def run_action(
    workspace: Path,
    tmp: Path,
    venv: Path,
    *,
    event_name: str,
    event: Mapping[str, Any],
    inputs: Mapping[str, str] | None = None,
    repository: str = "octo/repo",
) -> ActionRun:
    """Walk action.yml's steps like the runner: evaluate `if:` and `env:`, give each step its
    own GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, stop at the first failing step."""
    action = load_action()
    values = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    values["token"] = "fake-token"
    values.update(inputs or {})
    tmp.mkdir(parents=True, exist_ok=True)
    event_path = tmp / "event.json"
    event_path.write_text(json.dumps(event))
    runner_temp = tmp / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    result = ActionRun()
    for i, step in enumerate(action["runs"]["steps"]):
        if "if" in step and not _condition(step["if"], values):
            continue
        if "uses" in step:
            raise AssertionError("setup-python runs only when python-version is given")
        m = RUN_LINE.match(step["run"])
        assert m
        command = m.group(1)
        if command == "install":
            continue  # done once per session by the `venv` fixture
        output, summary = tmp / f"output-{i}", tmp / f"summary-{i}"
        output.touch()
        summary.touch()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
        env.update(
            GITHUB_ACTIONS="true",
            GITHUB_EVENT_NAME=event_name,
            GITHUB_EVENT_PATH=str(event_path),
            GITHUB_OUTPUT=str(output),
            GITHUB_STEP_SUMMARY=str(summary),
            GITHUB_WORKSPACE=str(workspace),
            GITHUB_REPOSITORY=repository,
            GITHUB_SERVER_URL="https://github.com",
            GITHUB_ACTION_PATH=str(CHECKOUT),
            RUNNER_TEMP=str(runner_temp),
            PHASE2_VENV=str(venv),
        )
        for key, value in step.get("env", {}).items():
            env[key] = _expr(str(value), values, result.step_outputs)
        proc = subprocess.run(
            ["bash", str(SCRIPT), command],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        name = step.get("id", command)
        result.codes[name] = proc.returncode
        result.logs[name] = proc.stdout + proc.stderr
        result.step_outputs[name] = parse_github_output(output.read_text())
        result.summary += summary.read_text()
        if proc.returncode != 0:
            result.failed_at = name
            break
    for name, out in action["outputs"].items():
        result.outputs[name] = _expr(out["value"], values, result.step_outputs)
    return result


# ---------------------------------------------------------------------------- scenarios


@pytest.fixture
def pr_repo(repo: TestRepo) -> dict[str, Any]:
    """main, a feature branch with one noise and one real change, main moving on meanwhile,
    and the synthetic merge commit actions/checkout gives a pull_request run (detached)."""
    repo.write("data/a.json", ORDERED)
    repo.write("data/b.json", ORDERED)
    repo.write("notes.txt", "v1\n")
    fork_point = repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("data/a.json", REORDERED)
    repo.write("data/b.json", REAL)
    head = repo.commit("regenerate")
    repo.git("checkout", "-q", "main")
    repo.write("notes.txt", "v2\n")  # a later commit on the base branch
    base_tip = repo.commit("main moves on")
    repo.git("checkout", "-q", "--detach", base_tip)
    repo.git("merge", "-q", "--no-ff", "-m", "Merge feature into main", head)
    event = {
        "number": 7,
        "pull_request": {
            "number": 7,
            "base": {"sha": base_tip, "ref": "main", "repo": {"full_name": "octo/repo"}},
            "head": {"sha": head, "ref": "feature", "repo": {"full_name": "octo/repo"}},
        },
        "repository": {"full_name": "octo/repo", "default_branch": "main"},
    }
    return {"repo": repo, "fork_point": fork_point, "head": head, "event": event}


def test_pull_request_run(pr_repo: dict[str, Any], venv: Path, tmp_path: Path) -> None:
    repo: TestRepo = pr_repo["repo"]
    run = run_action(repo.root, tmp_path, venv, event_name="pull_request", event=pr_repo["event"])
    # the comparison is the PR's own change: merge base .. PR head, not the synthetic merge
    assert run.outputs["base"] == pr_repo["fork_point"]
    assert run.outputs["head"] == pr_repo["head"]
    assert run.codes == {"diff": 0, "gate": 1} and run.failed_at == "gate", run.log
    o = run.outputs
    assert (o["total"], o["real"], o["noise"]) == ("2", "1", "1")
    assert (o["unresolved-real"], o["unresolved-noise"], o["failing"]) == ("1", "1", "1")
    assert o["exit-code"] == "1" and o["applied-commits"] == ""
    report = json.loads(Path(o["report"]).read_text())
    assert report["summary"]["total"] == 2
    assert {m["path"] for m in report["mismatches"]} == {"data/a.json", "data/b.json"}
    # report files, each checked by its reader
    validate_junit(Path(o["junit"]))
    promtool_check(Path(o["prom"]))
    assert Path(o["summary"]).read_text().startswith("## phase2: 1 real change(s), 1 noise")
    # the job summary, with links to the files at the PR head
    assert run.summary.startswith("## phase2: 1 real change(s), 1 noise — FAIL")
    assert f"(https://github.com/octo/repo/blob/{pr_repo['head']}/data/b.json)" in run.summary
    lint_markdown(run.summary)
    # the HTML report beside the others, named by the job summary
    page = Path(o["html"]).read_text()
    assert page.startswith("<!DOCTYPE html>") and "data/b.json" in page
    assert "**HTML report**" in run.summary and "`report.html`" in run.summary
    # annotations: the real change is an error, the noise a notice
    found = parse_annotations(run.logs["diff"])
    kinds = {(kind, props.get("file")) for kind, props, _ in found}
    assert kinds == {("error", "data/b.json"), ("notice", "data/a.json")}
    assert "fetch-depth" not in run.log


def test_inputs_switch_outputs_and_fail_on(
    pr_repo: dict[str, Any],
    venv: Path,
    tmp_path: Path,
) -> None:
    repo: TestRepo = pr_repo["repo"]
    junit = tmp_path / "out" / "my junit.xml"
    run = run_action(
        repo.root,
        tmp_path,
        venv,
        event_name="pull_request",
        event=pr_repo["event"],
        inputs={
            "fail-on": "never",
            "junit": str(junit),
            "prom": "false",
            "summary": "false",
            "html": "false",
            "annotations": "false",
            "args": '--methods "exact canonical_json"',
        },
    )
    assert run.codes == {"diff": 0, "gate": 0}, run.log
    assert run.outputs["junit"] == str(junit) and junit.is_file()
    assert run.outputs["prom"] == "" and run.outputs["summary"] == ""
    assert run.outputs["html"] == ""
    assert run.summary == ""
    assert not parse_annotations(run.log)
    report = json.loads(Path(run.outputs["report"]).read_text())
    assert report["methods"] == ["exact", "canonical_json"]
    assert report["summary"]["fail_on"] == "never"


def test_explicit_base_and_head(pr_repo: dict[str, Any], venv: Path, tmp_path: Path) -> None:
    repo: TestRepo = pr_repo["repo"]
    run = run_action(
        repo.root, tmp_path, venv, event_name="workflow_dispatch", event={},
        inputs={"base": "main", "head": "feature"},
    )  # fmt: skip
    assert run.outputs["base"] == "main" and run.outputs["head"] == "feature"
    # main..feature also shows main's own later change (two-dot, as asked)
    assert run.outputs["total"] == "3"


def test_push_events(pr_repo: dict[str, Any], venv: Path, tmp_path: Path) -> None:
    repo: TestRepo = pr_repo["repo"]
    head, fork_point = pr_repo["head"], pr_repo["fork_point"]
    repo.git("checkout", "-q", "feature")
    plain = run_action(
        repo.root, tmp_path / "a", venv, event_name="push",
        event={"before": fork_point, "after": head, "repository": {"default_branch": "main"}},
    )  # fmt: skip
    assert plain.outputs["base"] == fork_point and plain.outputs["head"] == head
    # a new branch: all-zero `before`, compare with the merge base of the default branch
    first = run_action(
        repo.root, tmp_path / "b", venv, event_name="push",
        event={"before": "0" * 40, "after": head, "created": True,
               "repository": {"default_branch": "main"}},
    )  # fmt: skip
    assert first.outputs["base"] == fork_point and first.outputs["total"] == "2"
    assert first.codes["diff"] == 0


def test_shallow_checkout_asks_for_full_history(
    pr_repo: dict[str, Any],
    venv: Path,
    tmp_path: Path,
) -> None:
    repo: TestRepo = pr_repo["repo"]
    repo.git("checkout", "-q", "feature")
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)], check=True
    )
    run = run_action(clone, tmp_path, venv, event_name="pull_request", event=pr_repo["event"])
    assert run.failed_at == "diff" and run.codes["diff"] == 2
    assert "::error title=phase2::this is a shallow checkout" in run.log
    assert "set fetch-depth: 0 on actions/checkout" in run.log


def test_missing_base_commit_is_a_clear_error(
    pr_repo: dict[str, Any],
    venv: Path,
    tmp_path: Path,
) -> None:
    event = json.loads(json.dumps(pr_repo["event"]))
    event["pull_request"]["base"]["sha"] = "1" * 40
    run = run_action(pr_repo["repo"].root, tmp_path, venv, event_name="pull_request", event=event)
    assert run.failed_at == "diff" and run.codes["diff"] == 2
    assert f"commit {'1' * 40} is not in this checkout" in run.log


@pytest.fixture
def with_origin(pr_repo: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    repo: TestRepo = pr_repo["repo"]
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    repo.git("remote", "add", "origin", str(origin))
    repo.git("push", "-q", "origin", "main", "feature")
    return {**pr_repo, "origin": origin}


def _origin(origin: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(origin), *args], capture_output=True, text=True, check=True
    ).stdout


def test_apply_pushes_safe_transforms_to_the_pr_branch(
    with_origin: dict[str, Any],
    venv: Path,
    tmp_path: Path,
) -> None:
    repo: TestRepo = with_origin["repo"]
    origin, head = with_origin["origin"], with_origin["head"]
    run = run_action(
        repo.root, tmp_path, venv, event_name="pull_request", event=with_origin["event"],
        inputs={"apply": "true", "token": "s3cret"},
    )  # fmt: skip
    assert run.codes["apply"] == 0, run.log
    assert int(run.outputs["applied-commits"]) >= 1
    tip = _origin(origin, "rev-parse", "refs/heads/feature").strip()
    assert tip != head
    assert _origin(origin, "merge-base", "--is-ancestor", head, tip) == ""  # fast-forward only
    assert _origin(origin, "show", f"{tip}:data/a.json").encode() == ORDERED  # noise undone
    assert _origin(origin, "show", f"{tip}:data/b.json").encode() == REAL  # real change kept
    assert "::add-mask::" in run.logs["apply"] and "s3cret" not in run.log
    # the diff still fails the job on the real change
    assert run.codes["gate"] == 1


def test_apply_refuses_forks(with_origin: dict[str, Any], venv: Path, tmp_path: Path) -> None:
    event = json.loads(json.dumps(with_origin["event"]))
    event["pull_request"]["head"]["repo"]["full_name"] = "mallory/repo"
    origin = with_origin["origin"]
    before = _origin(origin, "rev-parse", "refs/heads/feature")
    run = run_action(
        with_origin["repo"].root, tmp_path, venv, event_name="pull_request", event=event,
        inputs={"apply": "true"},
    )  # fmt: skip
    assert run.failed_at == "apply" and run.codes["apply"] == 2
    assert "apply refuses pull requests from forks (mallory/repo)" in run.log
    assert _origin(origin, "rev-parse", "refs/heads/feature") == before


def test_apply_only_on_pull_requests(pr_repo: dict[str, Any], venv: Path, tmp_path: Path) -> None:
    repo: TestRepo = pr_repo["repo"]
    repo.git("checkout", "-q", "feature")
    run = run_action(
        repo.root, tmp_path, venv, event_name="push",
        event={"before": pr_repo["fork_point"], "after": pr_repo["head"]},
        inputs={"apply": "true"},
    )  # fmt: skip
    assert run.failed_at == "apply" and "only runs on pull_request events" in run.log


LOCAL_WORKFLOW = Path(__file__).parent / "data" / "workflow-local.snippet.yml"


def test_readme_local_workflow_snippet() -> None:
    """The README's workflow for before a release: phase2 checked out at a commit and used by
    path. Schema-valid; zizmor's only remark is its suggestion of the newer `$/` spelling of
    a path in the workflow's own repository, which `./` still is."""
    schema_tool = require_tool("check-jsonschema")
    proc = subprocess.run(
        [schema_tool, "--builtin-schema", "vendor.github-workflows", str(LOCAL_WORKFLOW)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    zizmor = require_tool("zizmor")
    proc = subprocess.run(
        [zizmor, "--offline", "--format", "json", str(LOCAL_WORKFLOW)],
        capture_output=True,
        text=True,
    )
    for f in json.loads(proc.stdout):
        assert f["ident"] == "self-repository", f
    workflow = yaml.safe_load(LOCAL_WORKFLOW.read_text())
    steps = workflow["jobs"]["artifacts"]["steps"]
    fetch = next(s for s in steps if "repository" in s.get("with", {}))
    ours = next(s for s in steps if s.get("id") == "phase2")
    assert ours["uses"] == "./" + fetch["with"]["path"]
    assert set(ours.get("with", {})) <= set(load_action()["inputs"])
    assert steps[0]["with"] == {"fetch-depth": 0, "persist-credentials": False}
