"""``phase2 serve``: the review in a local web page, and what keeps anyone else from driving it.

Every test starts the real server as a subprocess on a random port of 127.0.0.1 and sends
real HTTP requests with urllib: without the token, with another Host header (DNS rebinding),
with a GET where a POST changes state, cross-origin or without a JSON body, the answer is 403
(or 405) and the repository, the state file and the decision log are byte for byte what they
were. The keyboard review in a browser, compared with the terminal's, is
tests/test_serve_browser.py.
"""

from __future__ import annotations

import json
import os
import sys

from tests.conftest import TestRepo, require_module
from tests.web_support import serve

WEB = "pip install -e '.[web]'"


def _web() -> None:
    require_module("starlette", "phase2 serve", WEB)
    require_module("uvicorn", "phase2 serve", WEB)
    require_module("jinja2", "phase2 serve", WEB)


def review_repo(repo: TestRepo) -> str:
    """main holds a regeneration over ``base``: noise, a real change, a mixed file."""
    repo.write("golden/a.json", '{"a": 1, "b": 2}\n')
    repo.write("golden/b.json", '{"a": 1, "b": 2}\n')
    repo.write("snap/banner.txt", "Welcome to orders\n")
    repo.write("snap/render.txt", "a\nb\n")
    base = repo.commit("base")
    repo.write("golden/a.json", '{"b": 2, "a": 1}\n')
    repo.write("golden/b.json", '{"b": 2, "a": 1}\n')
    repo.write("snap/banner.txt", "Welcome to Orders 2.0\n")
    repo.write("snap/render.txt", "a\r\nb\r\n")
    repo.commit("regenerate")
    return base


def snapshot(repo: TestRepo) -> dict[str, object]:
    """What a request could change: the branch, the index and tree, every file of .phase2/."""
    files = {}
    p2 = repo.root / ".phase2"
    if p2.exists():
        for path in sorted(p2.rglob("*")):
            if path.is_file() and path.name != "lock":
                files[str(path.relative_to(repo.root))] = path.read_bytes()
    return {
        "head": repo.head(),
        "status": repo.git("status", "--porcelain", "--untracked-files=all", "--ignored"),
        "files": files,
    }


def test_requests_without_the_token_are_refused_and_change_nothing(repo):
    _web()
    base = review_repo(repo)
    with serve(repo.root, base) as s:
        before = snapshot(repo)
        token = s.token
        json_body = {"Content-Type": "application/json"}
        refused = [
            s.request("GET", "/"),
            s.request("GET", "/?token=wrong"),
            s.request("GET", "/api/state"),
            s.request("GET", "/api/state", headers={"X-Phase2-Token": token[:-1]}),
            s.request("POST", "/api/key", body=b'{"key": "a"}', headers=json_body),
            s.request("POST", "/api/commit", body=b"{}", headers=json_body),
            s.request(
                "POST",
                "/api/key",
                body=b'{"key": "a"}',
                headers={**json_body, "X-Phase2-Token": "x"},
            ),
            # the token of the page's URL does not authorise a POST: a cross-site form could
            # send it; the API takes it in a header no form or image can set
            s.request("POST", f"/api/key?token={token}", body=b'{"key": "a"}', headers=json_body),
            s.request("POST", f"/api/commit?token={token}", body=b"{}", headers=json_body),
        ]
        for status, body in refused:
            assert status == 403, (status, body)
            assert b"forbidden" in body
        assert snapshot(repo) == before
        # the same requests with the token work (the refusals were not a broken server)
        assert s.request("GET", f"/?token={token}")[0] == 200
        state = s.api("GET", "/api/state")
        assert state["total"] == 3 and state["k"] == 0  # a.json and b.json are one group
        assert snapshot(repo) == before  # a GET with the token changes nothing either
        code, _ = s.stop()
    assert code == 130


def test_a_foreign_host_header_is_refused(repo):
    """DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 sends
    ``Host: evil.example:PORT``; even with the token it gets 403 and changes nothing."""
    _web()
    base = review_repo(repo)
    with serve(repo.root, base) as s:
        before = snapshot(repo)
        auth = {"X-Phase2-Token": s.token, "Content-Type": "application/json"}
        for host in (f"evil.example:{s.port}", "127.0.0.1", f"127.0.0.1:{s.port + 1}", ""):
            for method, path, body in (
                ("GET", f"/?token={s.token}", None),
                ("GET", "/api/state", None),
                ("POST", "/api/key", b'{"key": "a"}'),
                ("POST", "/api/commit", b"{}"),
            ):
                status, text = s.request(method, path, body=body, headers={**auth, "Host": host})
                assert status == 403, (host, method, path, status, text)
        assert snapshot(repo) == before
        # the loopback names served are accepted
        for host in (f"127.0.0.1:{s.port}", f"localhost:{s.port}"):
            assert s.request("GET", "/api/state", headers={**auth, "Host": host})[0] == 200


def test_state_changes_only_by_post(repo):
    _web()
    base = review_repo(repo)
    with serve(repo.root, base) as s:
        before = snapshot(repo)
        auth = {"X-Phase2-Token": s.token}
        for path in ("/api/key?key=a", "/api/commit", "/api/audit?id=x&answer=equivalent"):
            status, _ = s.request("GET", f"{path}{'&' if '?' in path else '?'}token={s.token}")
            assert status == 405, path
            status, _ = s.request("GET", path, headers=auth)
            assert status == 405, path
        # a POST that is not JSON (what a cross-site form can send) is refused too
        status, _ = s.request(
            "POST",
            "/api/key",
            body=b"key=a",
            headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 403
        status, _ = s.request(
            "POST",
            "/api/key",
            body=b'{"key": "a"}',
            headers={**auth, "Content-Type": "application/json", "Origin": "http://evil.example"},
        )
        assert status == 403
        assert snapshot(repo) == before
        assert s.api("GET", "/api/state")["tally"]["approved"] == 0


def test_keys_decide_commit_and_ctrl_c_saves(repo):
    """The API does what the terminal keys do, through the same session: decisions in the
    state file as they are made, the commit from the one apply step, Ctrl-C exits 130."""
    _web()
    base = review_repo(repo)
    start = repo.head()
    with serve(repo.root, base) as s:
        st = s.api("GET", "/api/state")
        assert [g["path"] for g in st["groups"]] == [
            "golden/a.json",
            "snap/banner.txt",
            "snap/render.txt",
        ]
        assert st["groups"][0]["members"] == 2
        st = s.api("POST", "/api/key", {"key": "a"})  # the group of two json_ordering files
        assert st["tally"]["approved"] == 2 and st["k"] == 1 and st["pending"] == 2
        st = s.api("POST", "/api/key", {"key": "s"})
        assert st["tally"]["skipped"] == 1 and st["k"] == 2
        st = s.api("POST", "/api/key", {"key": "u"})
        assert st["tally"]["skipped"] == 0 and st["k"] == 1
        st = s.api("POST", "/api/key", {"key": "r"})
        assert st["tally"]["rejected"] == 1
        status, body = s.request(
            "POST",
            "/api/key",
            body=b'{"key": "x"}',
            headers={"X-Phase2-Token": s.token, "Content-Type": "application/json"},
        )
        assert status == 400 and b"unknown key" in body
        assert repo.head() == start  # nothing committed before the commit
        st = s.api("POST", "/api/commit", {})
        assert len(st["commits"]) == 1
        commit = st["commits"][0]
        assert repo.head() == commit
        assert any(m.startswith(f"commit {commit}") for m in st["messages"])
        # the commit restored the base's bytes of both noise files and logged the decisions
        assert repo.read("golden/a.json") == b'{"a": 1, "b": 2}\n'
        assert repo.read("golden/b.json") == b'{"a": 1, "b": 2}\n'
        log = repo.git("show", f"{commit}:.phase2/decisions.jsonl").splitlines()
        assert sorted(json.loads(line)["decision"] for line in log) == [
            "approve",
            "approve",
            "reject",
        ]
        # one more decision, not committed: Ctrl-C keeps it in the state file
        st = s.api("POST", "/api/key", {"key": "s"})
        assert st["pending"] == 1
        code, out = s.stop()
    assert code == 130
    assert "interrupted: " in out and "1 not yet committed" in out
    states = list((repo.root / ".phase2" / "state").glob("*.json"))
    assert len(states) == 1
    saved = json.loads(states[0].read_text())
    assert [p["event"]["decision"] for p in saved["pending"]] == ["skip"]


def test_q_commits_and_stops(repo):
    _web()
    base = review_repo(repo)
    with serve(repo.root, base) as s:
        s.api("POST", "/api/key", {"key": "A"})  # every safe group
        st = s.api("POST", "/api/key", {"key": "q"})
        assert len(st["commits"]) == 1
        code, out = s.stop(signal_it=False)  # q stops the server itself
    assert f"commit {st['commits'][0]}" in out
    # it ends as the terminal review ends: the banner's real change is neither reviewed nor
    # approved, so --fail-on real (the default) exits 1, saying what is left and how to resume
    assert code == 1, out
    assert f"1 mismatch(es) not yet reviewed. Resume with: phase2 serve {base}" in out
    assert "left: 1 mismatch(es), 1 real change(s) without a trusted approval" in out
    with serve(repo.root, base, "--fail-on", "never") as s:
        s.api("POST", "/api/key", {"key": "q"})
        code, out = s.stop(signal_it=False)
    assert code == 0, out
    assert "left: 1 mismatch(es)" in out


def test_a_bad_fail_on_is_refused(repo, cli):
    _web()
    review_repo(repo)
    code, _, err = cli("serve", "--fail-on", "sometimes", "--no-browser", repo=repo)
    assert code == 2
    assert "--fail-on must be one of real, noise, any, never, got 'sometimes'" in err


def test_only_loopback_unless_allowed(repo, cli):
    _web()
    review_repo(repo)
    code, _, err = cli("serve", "--host", "0.0.0.0", "--no-browser", repo=repo)
    assert code == 2
    assert "not a loopback address" in err and "--allow-remote" in err
    code, _, err = cli("serve", "--host", "example.com", "--no-browser", repo=repo)
    assert code == 2


def test_missing_extra_names_the_install_command(repo, cli, monkeypatch):
    review_repo(repo)
    monkeypatch.setitem(sys.modules, "starlette", None)
    code, _, err = cli("serve", "--no-browser", repo=repo)
    assert code == 2
    assert "pip install 'phase2-git[web]'" in err


def test_a_second_review_is_refused_while_one_serves(repo):
    """The server holds the session's lock, as the terminal review does."""
    _web()
    base = review_repo(repo)
    with serve(repo.root, base):
        from tests.hostile_support import run_phase2

        result = run_phase2(["resolve", base, "--yes"], cwd=repo.root, env=dict(os.environ))
        assert result.code != 0
        assert b"lock" in result.err.lower() or b"another" in result.err.lower(), result
