"""The llm_rubric judge: command and HTTP transports (a local stub, never the network), the
cache, budgets, failures, and shadow mode."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phase2_git.app.diff import run_diff
from phase2_git.app.external import attach_llm_verdicts
from phase2_git.git.repo import GitRepo
from phase2_git.judges.llm_rubric import JudgeRequest, LlmRubricJudge, parse_reply
from phase2_git.store.config import load, resolve
from phase2_git.store.judge_settings import DEFAULT_RUBRIC, judge_settings
from tests.conftest import STUB, Cli, TestRepo

JUDGE = """\
import json, sys, time
req = json.load(sys.stdin)
log = sys.argv[1]
open(log, "a").write(json.dumps({"id": req["id"], "rubric": req["rubric"][:20]}) + "\\n")
mode = sys.argv[2] if len(sys.argv) > 2 else "ok"
if mode == "sleep":
    time.sleep(3600)
if mode == "fail":
    print("judge broke", file=sys.stderr)
    sys.exit(3)
if mode == "garbage":
    print("I think they are the same")
    sys.exit(0)
same = req["before"].split() == req["after"].split()
print(json.dumps({"equivalent": same, "score": 0.95 if same else 0.05, "reason": "tokens"}))
"""


def request(i: int, same: bool = True) -> JudgeRequest:
    before = f"value {i}\n".encode()
    after = f"value  {i}\n".encode() if same else f"value {i + 1}\n".encode()
    return JudgeRequest(f"mis_{i:012x}", f"f{i}.txt", "text", before, after)


def label_row(i: int) -> dict[str, str]:
    """A labelled item: even ``i`` a whitespace-only (equivalent) pair, odd a real change."""
    same = i % 2 == 0
    req = request(i, same)
    assert req.before is not None and req.after is not None
    return {
        "id": req.id,
        "artifact_type": "text",
        "mismatch_type": "whitespace" if same else "content",
        "label": "equivalent" if same else "different",
        "before": req.before.decode(),
        "after": req.after.decode(),
    }


def command_judge(tmp_path: Path, mode: str = "ok", **judge: Any) -> tuple[LlmRubricJudge, Path]:
    script = tmp_path / "judge.py"
    script.write_text(JUDGE)
    log = tmp_path / "calls.jsonl"
    cfg = resolve({"judge": {"command": [*STUB, str(script), str(log), mode], **judge}}, "test")
    return LlmRubricJudge(judge_settings(cfg.data, tmp_path), cache_root=tmp_path), log


def calls(log: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []


# -------------------------------------------------------------------------------- command


def test_command_judge_verdicts_and_cache(tmp_path: Path) -> None:
    judge, log = command_judge(tmp_path)
    v = judge.judge(request(1, same=True))
    assert v.score == 0.95 and v.called and not v.cached
    assert v.to_verdict(0.5).equivalent is True
    assert judge.judge(request(2, same=False)).to_verdict(0.5).equivalent is False
    assert len(calls(log)) == 2
    # a fresh judge (next run) is served from .phase2/cache/ without calling
    again, _ = command_judge(tmp_path)
    v = again.judge(request(1, same=True))
    assert v.cached and v.score == 0.95 and again.budget.calls == 0
    assert len(calls(log)) == 2
    assert list((tmp_path / ".phase2/cache/llm_rubric").rglob("*.json"))
    # another rubric is another judge: no cache hit
    other, _ = command_judge(tmp_path, rubric="Be strict.")
    assert not other.judge(request(1)).cached
    assert calls(log)[-1]["rubric"] == "Be strict."
    assert len(calls(log)) == 3


def test_not_applicable_without_a_call(tmp_path: Path) -> None:
    judge, log = command_judge(tmp_path)
    binary = JudgeRequest("mis_1", "a.bin", "binary", b"\0", b"\1")
    added = JudgeRequest("mis_2", "a.txt", "text", None, b"new\n")
    for req in (binary, added):
        v = judge.judge(req)
        assert v.score == 0.0 and not v.called and "not applicable" in v.reason
    assert calls(log) == []


@pytest.mark.parametrize(
    ("mode", "why"),
    [
        ("sleep", "timed out after 1 s"),
        ("fail", "command exited 3: judge broke"),
        ("garbage", "reply is not JSON"),
    ],
)
def test_command_failures_give_no_verdict_and_stop_after_three(
    tmp_path: Path, mode: str, why: str
) -> None:
    # the sleeping judge never answers: whatever the machine's load, each call is cut at the
    # timeout; the others answer at once, and a busy machine must not cut them, hence 60 s
    judge, log = command_judge(tmp_path, mode, timeout=1 if mode == "sleep" else 60)
    for i in range(3):
        v = judge.judge(request(i))
        assert v.score is None and why in (v.error or "")
    stopped = judge.judge(request(9))
    assert stopped.score is None and "judge stopped after 3 failures" in (stopped.error or "")
    assert judge.budget.calls == 3 and judge.errors == 3
    if mode != "sleep":
        assert len(calls(log)) == 3


@pytest.mark.parametrize(
    ("reply", "score"),
    [
        ('{"equivalent": true}', 1.0),
        ('{"equivalent": false, "score": 0.2, "reason": "x"}', 0.2),
        ('```json\n{"score": 0.7}\n```', 0.7),
    ],
)
def test_parse_reply(reply: str, score: float) -> None:
    assert parse_reply(reply)[0] == score


@pytest.mark.parametrize("reply", ['{"score": 2}', '{"reason": "x"}', "[]", '{"score": true}'])
def test_parse_reply_rejects(reply: str) -> None:
    from phase2_git.judges.llm_rubric import JudgeError

    with pytest.raises(JudgeError):
        parse_reply(reply)


def test_budget_max_calls_stops_the_judge(tmp_path: Path) -> None:
    judge, log = command_judge(tmp_path, max_calls=2)
    got = [judge.judge(request(i)) for i in range(4)]
    assert [v.score is not None for v in got] == [True, True, False, False]
    assert got[2].error == "budget exhausted: max_calls (2) reached"
    assert len(calls(log)) == 2
    assert judge.summary()["exhausted"] is True
    # cached verdicts cost nothing and are still served
    assert judge.judge(request(0)).cached


def test_budget_tokens_and_cost(tmp_path: Path) -> None:
    judge, _ = command_judge(tmp_path, max_input_tokens=10)
    v = judge.judge(request(1))
    assert v.score is None and "max_input_tokens (10) would be exceeded" in (v.error or "")
    (tmp_path / "c").mkdir()
    judge, _ = command_judge(tmp_path / "c", cost_per_1k_input_tokens=10.0, max_cost=2.0)
    results = [judge.judge(request(i)) for i in range(3)]
    assert results[0].score is not None
    assert any("max_cost (2) would be exceeded" in (r.error or "") for r in results)
    assert judge.budget.cost <= 2.0


# -------------------------------------------------------------------------------- HTTP


class Stub:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200

    def reply(self, body: dict[str, Any]) -> dict[str, Any]:
        text = body["messages"][1]["content"]
        before = text.split("----- BEFORE -----\n")[1].split("\n----- AFTER -----")[0]
        after = text.split("----- AFTER -----\n")[1].split("\n----- END -----")[0]
        same = before.split() == after.split()
        content = json.dumps({"equivalent": same, "score": 0.9 if same else 0.1, "reason": "stub"})
        return {
            "choices": [{"message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 10},
        }


@pytest.fixture
def stub() -> Iterator[tuple[Stub, str]]:
    state = Stub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(
                {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
            )
            if state.status != 200:
                self.send_response(state.status)
                self.end_headers()
                return
            data = json.dumps(state.reply(body)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def http_judge(root: Path, url: str, **judge: Any) -> LlmRubricJudge:
    cfg = resolve(
        {
            "judge": {
                "url": url,
                "model": "stub-1",
                "api_key_env": "STUB_KEY",
                "timeout": 60,  # the local stub answers at once: a busy machine must not cut it
                **judge,
            }
        },
        "test",
    )
    return LlmRubricJudge(
        judge_settings(cfg.data, root), cache_root=root, environ={"STUB_KEY": "sekrit"}
    )


def test_http_judge_against_the_local_stub(stub, tmp_path: Path) -> None:
    state, url = stub
    judge = http_judge(tmp_path, url)
    assert judge.judge(request(1, same=True)).score == 0.9
    assert judge.judge(request(2, same=False)).score == 0.1
    (first, _) = state.requests
    assert first["path"] == "/v1/chat/completions"
    assert first["auth"] == "Bearer sekrit"
    body = first["body"]
    assert body["model"] == "stub-1" and body["temperature"] == 0
    assert body["messages"][0] == {"role": "system", "content": DEFAULT_RUBRIC}
    assert "mismatch_type" not in json.dumps(body)  # the judge decides on its own
    # usage from the endpoint is what the budget counts
    assert judge.budget.input_tokens == 200 and judge.budget.output_tokens == 20
    # cached on the next run
    again = http_judge(tmp_path, url)
    assert again.judge(request(1, same=True)).cached
    assert len(state.requests) == 2


def test_http_errors_and_a_dead_endpoint(stub, tmp_path: Path) -> None:
    state, url = stub
    state.status = 500
    judge = http_judge(tmp_path, url)
    v = judge.judge(request(1))
    assert v.score is None and v.error == "judge error: HTTP 500 from the judge endpoint"
    dead = http_judge(tmp_path, "http://127.0.0.1:9/v1", timeout=2)
    v = dead.judge(request(1))
    assert v.score is None and "cannot reach the judge endpoint" in (v.error or "")


def test_judge_eval_with_the_http_judge(stub, repo: TestRepo, cli: Cli, monkeypatch) -> None:
    state, url = stub
    monkeypatch.setenv("STUB_KEY", "sekrit")
    rows = [label_row(i) for i in range(40)]
    d = repo.root / "labels.jsonl"
    d.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (repo.root / ".phase2").mkdir()
    judge = f'[judge]\nurl = "{url}"\nmodel = "stub-1"\napi_key_env = "STUB_KEY"\nmax_calls = 30\n'
    (repo.root / ".phase2/config.toml").write_text(judge)
    own_config(judge)  # the URL content goes to: named by the user, not only the repository
    code, out, err = cli(
        "judge", "eval", "--dataset", str(d), "--methods", "llm_rubric", "--format", "json",
        "--bootstrap", "50", repo=repo,
    )  # fmt: skip
    assert code == 0, err
    fig = json.loads(out)["methods"]["llm_rubric"]
    assert fig["n"] == 30 and fig["unjudged"] == 10 and fig["kappa"] == 1.0
    assert fig["budget"]["exhausted"] is True and fig["budget"]["calls"] == 30
    assert "budget exhausted" in fig["reasons"]["unjudged"]
    assert fig["identity"]["model"] == "stub-1" and fig["identity"]["transport"] == "http"
    assert fig["threshold"] == 0.5
    assert len(state.requests) == 30
    gate = json.loads(out)["gate"]["methods"]["llm_rubric"]
    budget = next(c for c in gate["criteria"] if c["name"] == "budget")
    assert budget["status"] == "FAIL" and "budget exhausted" in budget["detail"]
    prom = repo.root / "j.prom"
    cli(
        "judge", "eval", "--dataset", str(d), "--methods", "llm_rubric", "--prom", str(prom),
        "--bootstrap", "50", repo=repo,
    )  # fmt: skip
    assert 'phase2_judge_budget_exhausted{method="llm_rubric"} 0.0' in prom.read_text()  # cached


def test_llm_rubric_without_a_judge_is_a_usage_error(repo: TestRepo, cli: Cli) -> None:
    d = repo.root / "labels.jsonl"
    d.write_text(
        json.dumps(
            {
                "id": "a",
                "artifact_type": "text",
                "mismatch_type": "content",
                "label": "different",
                "before": "a",
                "after": "b",
            }
        )
        + "\n"
    )
    code, _, err = cli("judge", "eval", "--dataset", str(d), "--methods", "llm_rubric", repo=repo)
    assert code == 2 and "llm_rubric needs a judge" in err


# -------------------------------------------------------------------------------- shadow


def own_config(text: str) -> Path:
    """The user's own configuration file (under the test's own HOME)."""
    path = Path(os.environ["HOME"]) / ".config" / "phase2" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def shadow_repo(repo: TestRepo, tmp_path: Path) -> Path:
    """A whitespace change no deterministic method is asked about (only exact + llm_rubric)."""
    script = tmp_path / "judge.py"
    script.write_text(JUDGE)
    log = tmp_path / "calls.jsonl"
    repo.write("out/a.txt", b"alpha beta\n")
    repo.write("out/b.txt", b"one\n")
    judge = (
        "[judge]\n"
        f"command = {json.dumps([*STUB, str(script), str(log)])}\n"
        'model = "stub"\nmax_calls = 1000\n'
    )
    repo.write(".phase2/config.toml", '[methods]\nenabled = ["exact", "llm_rubric"]\n' + judge)
    # the command runs because the user's own configuration names it too: a repository's
    # configuration alone never chooses what runs
    own_config(judge)
    repo.commit("base")
    repo.write("out/a.txt", b"alpha beta   \n")  # trailing whitespace: noise
    repo.write("out/b.txt", b"two\n")  # content: real
    repo.commit("regen")
    return log


def plans(result: Any) -> dict[str, tuple[bool, str, tuple[str, ...]]]:
    return {m.path: (m.plan.safe, m.plan.action, m.plan.justified_by) for m in result.mismatches}


def test_shadow_verdicts_change_nothing_until_the_gate_is_go(
    repo: TestRepo, tmp_path: Path, cli: Cli
) -> None:
    shadow_repo(repo, tmp_path)
    git = GitRepo.discover(repo.root)
    cfg = load(repo.root)
    without = tuple(m for m in cfg.methods.enabled if m != "llm_rubric")
    plain = run_diff(git, "HEAD~1", "HEAD", config=cfg, methods=without)
    judged = run_diff(git, "HEAD~1", "HEAD", config=cfg)  # asks the judge itself
    by_path = {m.path: m for m in judged.mismatches}
    v = next(v for v in by_path["out/a.txt"].verdicts if v.method == "llm_rubric")
    assert v.equivalent and v.score == 0.95  # recorded beside the others ...
    assert "shadow verdict" in by_path["out/a.txt"].plan.reason
    # ... and the plans are exactly what they were without it
    assert {p: s for p, (s, _, _) in plans(judged).items()} == {
        p: s for p, (s, _, _) in plans(plain).items()
    }
    assert not any(safe for safe, _, _ in plans(judged).values())

    # a GO gate for llm_rubric (measured on 210 labelled items) lets it act, for
    # auto_apply_types only: the whitespace noise becomes safe, the content change does not
    rows = [label_row(i) for i in range(210)]
    labels = repo.root / ".phase2/labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out, err = cli("gate", "--dataset", str(labels), "--method", "llm_rubric", repo=repo)
    assert code == 0, out + err
    gated = attach_llm_verdicts(git, run_diff(git, "HEAD~1", "HEAD", config=cfg))
    now = plans(gated)
    assert now["out/a.txt"][0] is True and now["out/a.txt"][2] == ("llm_rubric",)
    assert now["out/b.txt"][0] is False
    # the kill switch / breaker are the apply step's business; a changed rubric is the gate's
    (repo.root / ".phase2/config.toml").write_text(
        (repo.root / ".phase2/config.toml").read_text() + 'rubric = "Be lenient."\n'
    )
    cfg2 = load(repo.root)
    again = attach_llm_verdicts(git, run_diff(git, "HEAD~1", "HEAD", config=cfg2))
    assert plans(again)["out/a.txt"][0] is False


def test_attach_without_a_configured_judge_is_a_notice(repo: TestRepo) -> None:
    repo.write("a.txt", b"x\n")
    repo.write(".phase2/config.toml", '[methods]\nenabled = ["exact", "llm_rubric"]\n')
    repo.commit("base")
    repo.write("a.txt", b"y\n")
    git = GitRepo.discover(repo.root)
    res = run_diff(git, "HEAD", ":worktree", config=load(repo.root))
    out = attach_llm_verdicts(git, res)
    assert any("no judge configured" in n for n in out.notices)
    assert out.mismatches == res.mismatches


def test_rubric_file_is_part_of_the_judge_identity(tmp_path: Path) -> None:
    from phase2_git.errors import UsageError
    from phase2_git.store.judge_settings import judge_identity

    (tmp_path / "rubric.md").write_text("Strict rubric.\n")
    cfg = resolve({"judge": {"command": "judge --fast 'a b'", "rubric_file": "rubric.md"}}, "t")
    s = judge_settings(cfg.data, tmp_path)
    assert s.command == ("judge", "--fast", "a b") and s.rubric == "Strict rubric.\n"
    assert s.model_id == "command:judge --fast 'a b'" and s.transport == "command"
    one = judge_identity("llm_rubric", cfg.data, tmp_path)
    (tmp_path / "rubric.md").write_text("Lenient rubric.\n")
    two = judge_identity("llm_rubric", cfg.data, tmp_path)
    assert one["rubric_sha256"] != two["rubric_sha256"]
    assert judge_identity("exact", cfg.data, tmp_path) == {"method": "exact"}
    with pytest.raises(UsageError, match=r"judge\.rubric_file: rubric\.md"):
        judge_settings(cfg.data, tmp_path / "elsewhere")
    bad = resolve({"judge": {"command": "judge 'unclosed"}}, "t")
    with pytest.raises(UsageError, match=r"judge\.command: cannot split"):
        judge_settings(bad.data, tmp_path)


def test_a_diff_reports_what_the_judge_spent(repo: TestRepo, tmp_path: Path, cli: Cli) -> None:
    """The judge's calls, tokens and cost reach the diff document and the metrics a cost
    alert watches (``dashboards/phase2-alerts.yml``); a cached rerun spends nothing."""
    from tests.test_junit import prom_samples, promtool_check

    script = tmp_path / "judge.py"
    script.write_text(JUDGE)
    log = tmp_path / "calls.jsonl"
    judge = (
        "[judge]\n"
        f"command = {json.dumps([*STUB, str(script), str(log)])}\n"
        'model = "stub"\nmax_calls = 1000\n'
        "cost_per_1k_input_tokens = 2.0\ncost_per_1k_output_tokens = 4.0\n"
    )
    repo.write(".phase2/config.toml", '[methods]\nenabled = ["exact", "llm_rubric"]\n' + judge)
    own_config(judge)
    repo.write("out/a.txt", b"alpha beta\n")
    repo.write("out/b.txt", b"one\n")
    repo.commit("base")
    repo.write("out/a.txt", b"alpha beta   \n")
    repo.write("out/b.txt", b"two\n")
    repo.commit("regen")
    prom = tmp_path / "d.prom"
    args = ("diff", "HEAD~1", "HEAD", "--format", "json", "--prom", str(prom))
    code, out, err = cli(*args, repo=repo)
    assert code == 1, err  # out/b.txt is a real change
    spent = json.loads(out)["judges"]["llm_rubric"]
    assert spent["calls"] == len(calls(log)) == 2 and spent["cache_hits"] == 0
    assert spent["input_tokens"] > 0 and spent["cost"] > 0
    promtool_check(prom)
    samples = prom_samples(prom)
    assert samples["phase2_judge_calls"] == [({"method": "llm_rubric"}, 2)]
    assert samples["phase2_judge_cost"] == [({"method": "llm_rubric"}, spent["cost"])]
    code, out, err = cli(*args, repo=repo)
    again = json.loads(out)["judges"]["llm_rubric"]
    assert again["calls"] == 0 and again["cost"] == 0 and again["cache_hits"] == 2
    assert len(calls(log)) == 2


# -------------------------------------------------------------------------------- shadow share


@given(
    ids=st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=50, unique=True),
    low=st.floats(0, 1),
    high=st.floats(0, 1),
)
def test_shadow_sample_is_deterministic_and_nested(ids: list[str], low: float, high: float) -> None:
    from phase2_git.core.ids import in_sample

    low, high = min(low, high), max(low, high)
    small = {i for i in ids if in_sample("shadow", i, low)}
    assert small <= {i for i in ids if in_sample("shadow", i, high)}  # widening only adds
    assert small == {i for i in ids if in_sample("shadow", i, low)}
    assert not any(in_sample("shadow", i, 0.0) for i in ids)
    assert all(in_sample("shadow", i, 1.0) for i in ids)


def test_shadow_sample_size_follows_the_share() -> None:
    from phase2_git.core.ids import in_sample

    ids = [f"mis_{i:012x}" for i in range(4000)]
    for share in (0.1, 0.3, 0.7):
        assert abs(sum(in_sample("shadow", i, share) for i in ids) / len(ids) - share) < 0.03
    # the audit sample is drawn independently of the shadow sample
    audit = {i for i in ids if in_sample("audit", i, 0.3)}
    shadow = {i for i in ids if in_sample("shadow", i, 0.3)}
    assert audit != shadow and 0.05 < len(audit & shadow) / len(ids) < 0.15


def soak_repo(make_repo: Any, tmp_path: Path, share: float) -> tuple[TestRepo, Path]:
    """40 whitespace-noise files judged only by exact + llm_rubric, in shadow at ``share``."""
    repo = make_repo(name=f"soak{share}")
    script = tmp_path / "judge.py"
    script.write_text(JUDGE)
    log = tmp_path / f"calls-{share}.jsonl"
    judge = f"[judge]\ncommand = {json.dumps([*STUB, str(script), str(log)])}\nmodel = 'stub'\n"
    own_config(judge)
    repo.write(
        ".phase2/config.toml",
        '[methods]\nenabled = ["exact", "llm_rubric"]\n'
        f"{judge}max_calls = 1000\nshadow_share = {share}\n",
    )
    for i in range(40):
        repo.write(f"out/{i}.txt", f"value {i}\n")
    repo.commit("base")
    for i in range(40):
        repo.write(f"out/{i}.txt", f"value {i}   \n")
    repo.commit("regen")
    return repo, log


def test_a_shadow_soak_asks_about_its_share_and_widens_without_dropping(
    make_repo: Any, tmp_path: Path, cli: Cli
) -> None:
    from tests.test_junit import prom_samples

    asked: dict[float, set[str]] = {}
    for share in (0.3, 0.7):
        repo, log = soak_repo(make_repo, tmp_path, share)
        prom = tmp_path / f"{share}.prom"
        code, out, err = cli(
            "diff", "HEAD~1", "HEAD", "--format", "json", "--prom", str(prom), repo=repo
        )
        assert code in (0, 1), err
        doc = json.loads(out)
        verdicts = {
            m["path"]: next(v for v in m["verdicts"] if v["method"] == "llm_rubric")
            for m in doc["mismatches"]
        }
        asked[share] = {p for p, v in verdicts.items() if "shadow share" not in v["detail"]}
        outside = set(verdicts) - asked[share]
        assert all(
            verdicts[p]["detail"]
            == f"not applicable: outside the shadow share ({share:.0%} of mismatches)"
            for p in outside
        )
        spent = doc["judges"]["llm_rubric"]
        assert spent["asked"] == len(asked[share]) == len(calls(log)) == spent["calls"]
        assert spent["shadow_share"] == share
        assert 0 < len(asked[share]) < 40
        shown = prom_samples(prom)["phase2_judge_shadow_share"]
        assert shown == [({"method": "llm_rubric"}, share)]
    assert asked[0.3] < asked[0.7]  # the soak widened: everything asked at 30 % still is


def test_every_judge_outside_core_is_a_statistical_method(tmp_path: Path) -> None:
    """A diff that selects no statistical method never asks app.external (app/diff.py): that
    holds only while every judge it can run is one."""
    from phase2_git.app import external
    from phase2_git.core.methods import METHODS

    config = load(tmp_path)
    deterministic = [name for name, m in METHODS.items() if m.deterministic]
    assert deterministic and not external.selected(config, deterministic)
    for name in (external.LLM, external.COSINE):
        assert not METHODS[name].deterministic
