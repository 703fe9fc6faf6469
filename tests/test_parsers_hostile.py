"""The parsers of phase2's own files under hostile input: configuration, state file,
decision log, labels, judge results, shard reports, and our JSON parser.

Every input ends in a value or in the one domain error whose message is one line; through the
CLI, exit 2 with one terminal-safe line. Paths such as ``../../.bashrc``, ``/etc/passwd`` or
``.git/HEAD`` in a state file or a decision are rejected, and phase2 never reads or writes
outside the work tree and ``.git``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phase2_git.app import merge
from phase2_git.core import jsonvalue
from phase2_git.errors import UsageError
from phase2_git.funnel import one_line
from phase2_git.store import config, decisions, labels, schemas, state
from tests import strategies as hs
from tests.hostile_support import (
    assert_no_crash,
    assert_one_line_error,
    assert_safe,
    git,
    hermetic_env,
    record,
    run_phase2,
)

FP = "a" * 64


def slow(*values: object) -> list[object]:
    """Parameters run only with the slow tests (CI and bench/reliability.py run them all)."""
    return [
        pytest.param(*(v if isinstance(v, tuple) else (v,)), marks=pytest.mark.slow) for v in values
    ]


OID_A, OID_B = "1" * 40, "2" * 40


def _tmp_file(data: bytes) -> Path:
    fd, name = tempfile.mkstemp(prefix="phase2-hostile-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return Path(name)


def parse_config(data: bytes) -> object:
    return config.resolve(config.parse_toml(data, "config.toml"), "config.toml")


def parse_state(data: bytes) -> object:
    path = _tmp_file(data)
    try:
        return state.load(
            path,
            path.parent,
            base_spec="main",
            head_spec="HEAD",
            base="0" * 40,
            branch="refs/heads/feat",
            config_fingerprint=FP,
        )
    finally:
        path.unlink()


def parse_report(data: bytes) -> object:
    path = _tmp_file(data)
    try:
        return merge.load_document(str(path))
    finally:
        path.unlink()


def parse_json(data: bytes) -> object:
    try:
        return jsonvalue.parse(data)
    except jsonvalue.JsonInvalid as exc:
        raise UsageError(f"artifact: {exc}") from None


PARSERS: dict[str, Callable[[bytes], object]] = {
    "config": parse_config,
    "state": parse_state,
    "decisions": lambda d: decisions.parse_lines(d, decisions.LOG_FILE),
    "labels": lambda d: labels.parse_labels(d, labels.LABELS_FILE),
    "results": lambda d: labels.parse_results(d, "results.jsonl"),
    "report": parse_report,
    "json": parse_json,
}


def outcome(name: str, data: bytes) -> str:
    """``"ok"`` or ``"error"``; anything but the domain error fails the test."""
    try:
        PARSERS[name](data)
    except UsageError as exc:
        message = str(exc)
        assert "\n" not in message, (name, message[:300])
        assert_safe(one_line(message).encode("utf-8", "surrogateescape"), f"{name} error")
        assert len(one_line(message)) <= 2100
        return "error"
    return "ok"


# ---------------------------------------------------------------------------- valid objects


def event(**over: Any) -> dict[str, Any]:
    """A valid ResolutionDecision line (an approval of a real change)."""
    ev: dict[str, Any] = {
        "schema": "ResolutionDecision.v1",
        "id": "dec_" + "0" * 16,
        "ts": "2026-01-01T00:00:00.000Z",
        "run_id": "run_" + "0" * 12,
        "env": "local",
        "mismatch_id": "mis_" + "0" * 12,
        "plan_id": None,
        "action": "accept_change",
        "decision": "approve",
        "user": {"id": "Mallory <m@example.com>", "role": "developer"},
        "ui": {"rich": False, "version": "0"},
        "config_fingerprint": FP,
        "transform": None,
        "hashes": {"before": OID_A, "after": OID_B},
        "path": "a.json",
        "label": "different",
        "commit": None,
        "methods": [],
    }
    ev.update(over)
    return ev


def state_doc(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": "Phase2State.v1",
        "run_id": "run_" + "0" * 12,
        "base_spec": "main",
        "head_spec": "HEAD",
        "base": None,
        "config_fingerprint": FP,
        "started_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "processed": [],
        "skipped": [],
        "pending": [],
        "unsynced": None,
        "commits": [],
        "stats": {},
    }
    doc.update(over)
    return doc


def label_line(**over: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "id": "x",
        "artifact_type": "text",
        "mismatch_type": "content",
        "label": "different",
        "before": "a",
        "after": "b",
    }
    line.update(over)
    return line


def jl(*objs: Any) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objs)


def update(path: str, old: str | None = OID_A, new: str | None = None) -> dict[str, Any]:
    return {"path": path, "old": old, "new": new, "mode": "100644"}


DEEP = b"[" * 100_000 + b"]" * 100_000

# (parser, case name, input, expected outcome, needle in the error)
TABLE: list[tuple[str, str, bytes, str, str]] = [
    (
        "config",
        "deep-toml",
        b"a = " + DEEP.replace(b"[]", b"[1]") + b"\n",
        "error",
        "nested too deeply",
    ),
    (
        "config",
        "deep-inline-table",
        b"a = " + b"{b = " * 5000 + b"1" + b"}" * 5000,
        "error",
        "TOML",
    ),
    ("config", "invalid-utf8", b'[policy]\nmode = "\xff"\n', "error", "not UTF-8"),
    ("config", "nul", b"[policy]\x00\n", "error", "invalid TOML"),
    (
        "config",
        "escape-method",
        b'[methods]\nenabled = ["\\u001b]52;c;aGk=\\u0007"]\n',
        "error",
        "unknown method",
    ),
    (
        "config",
        "10mb-value",
        b'[policy]\nmode = "' + b"x" * 10_000_000 + b'"\n',
        "error",
        "policy.mode",
    ),
    (
        "config",
        "duplicate-key",
        b"[policy]\nmode = 'auto'\nmode = 'auto'\n",
        "error",
        "invalid TOML",
    ),
    ("config", "nan-tolerance", b"[methods.numeric]\nrel_tol = nan\n", "error", "rel_tol"),
    ("config", "inf-size", b"[artifacts]\nmax_file_size = inf\n", "error", "max_file_size"),
    (  # found by tests/fuzz/fuzz_config.py: the RFC 8785 fingerprint cannot encode it
        "config",
        "int-beyond-2**53",
        b"[artifacts]\nmax_file_size = 9007199254740992\n",
        "error",
        "max_file_size",
    ),
    ("config", "utf16", "[policy]\nmode = 'auto'\n".encode("utf-16"), "error", "not UTF-8"),
    ("state", "deep", DEEP, "error", "nested too deeply"),
    (
        "state",
        "nan",
        json.dumps(state_doc()).replace('"stats": {}', '"stats": {"x": NaN}').encode(),
        "error",
        "NaN",
    ),
    (
        "state",
        "dup-keys",
        b'{"schema": "Phase2State.v1", "schema": "Phase2State.v1"}',
        "error",
        "duplicate key",
    ),
    (
        "state",
        "update-dotdot",
        json.dumps(state_doc(pending=[{"event": {}, "update": update("../../.bashrc")}])).encode(),
        "error",
        "pending.0.update",
    ),
    (
        "state",
        "update-absolute",
        json.dumps(state_doc(pending=[{"event": {}, "update": update("/etc/passwd")}])).encode(),
        "error",
        "pending.0.update",
    ),
    (
        "state",
        "update-dotgit",
        json.dumps(state_doc(pending=[{"event": {}, "update": update(".git/config")}])).encode(),
        "error",
        "pending.0.update",
    ),
    (
        "state",
        "unsynced-dotgit",
        json.dumps(
            state_doc(unsynced={"commit": OID_A, "updates": [update(".git/HEAD")], "log": None})
        ).encode(),
        "error",
        "unsynced.updates.0.path",
    ),
    (
        "state",
        "unsynced-dotdot",
        json.dumps(
            state_doc(unsynced={"commit": OID_A, "updates": [update("a/../../x")], "log": None})
        ).encode(),
        "error",
        "unsynced.updates.0.path",
    ),
    (
        "state",
        "unsynced-bad-log",
        json.dumps(
            state_doc(
                unsynced={"commit": OID_A, "updates": [], "log": {"old": "../x", "new": None}}
            )
        ).encode(),
        "error",
        "unsynced.log",
    ),
    ("state", "not-utf8", b"\xff\xfe{}", "error", "not UTF-8"),
    ("state", "valid", json.dumps(state_doc()).encode(), "ok", ""),
    ("decisions", "valid", jl(event()), "ok", ""),
    ("decisions", "path-dotdot", jl(event(path="../../.bashrc")), "error", ":1: path"),
    ("decisions", "path-absolute", jl(event(path="/etc/passwd")), "error", ":1: path"),
    ("decisions", "path-dotgit", jl(event(path=".git/hooks/pre-commit")), "error", ":1: path"),
    ("decisions", "path-nul", jl(event(path="a\x00b")), "error", ":1: path"),
    (
        "decisions",
        "truncated-last-line",
        jl(event(), event())[:-40],
        "error",
        ":2: truncated last line",
    ),
    (
        "decisions",
        "dup-decision-key",
        jl(event())[:-2] + b',"decision":"reject"}\n',
        "error",
        "duplicate key",
    ),
    (
        "decisions",
        "nan-score",
        jl(event(methods=[{"method": "m", "equivalent": True, "score": 0.5}])).replace(
            b"0.5", b"NaN"
        ),
        "error",
        "NaN",
    ),
    ("decisions", "deep", DEEP + b"\n", "error", ":1: not JSON"),
    (
        "decisions",
        "escape-user",
        jl(event(user={"id": "\x1b]52;c;aGk=\x07", "role": "x"})),
        "ok",
        "",
    ),
    ("decisions", "crlf", jl(event()).replace(b"\n", b"\r\n"), "ok", ""),
    ("decisions", "blank-line", jl(event()) + b"\n", "error", ":2: empty line"),
    ("labels", "nan", b'{"id": NaN}\n', "error", "NaN"),
    (
        "labels",
        "dup-keys",
        b'{"id": "a", "id": "b", "artifact_type": "text", "mismatch_type": "content", '
        b'"label": "different"}\n',
        "error",
        "duplicate key",
    ),
    ("labels", "deep", DEEP + b"\n", "error", ":1: not JSON"),
    (  # found by tests/fuzz/fuzz_labels.py: an unhashable value crashed the fast path
        "labels",
        "unhashable-artifact-type",
        b'{"id": "x", "artifact_type": {"a": null}, "mismatch_type": "content", '
        b'"label": "different"}\n',
        "error",
        "artifact_type",
    ),
    (
        "labels",
        "bad-base64",
        jl(label_line(before=None, before_base64="A")).replace(b'"before": null, ', b""),
        "error",
        "base64",
    ),
    ("labels", "path-passwd", jl(label_line(path="/etc/passwd")), "ok", ""),
    ("labels", "repeated-id", jl(label_line(), label_line()), "error", "already labelled"),
    ("labels", "lone-surrogates", jl(label_line(before="\ud800", after="\udcff")), "ok", ""),
    (
        "results",
        "nan-score",
        b'{"id": "a", "method": "m", "predicted": "equivalent", "score": NaN}\n',
        "error",
        "NaN",
    ),
    (
        "results",
        "1e400-score",
        b'{"id": "a", "method": "m", "predicted": "equivalent", "score": 1e400}\n',
        "error",
        "score",
    ),
    (
        "results",
        "5000-digit-score",
        b'{"id": "a", "method": "m", "predicted": "equivalent", "score": 1' + b"0" * 5000 + b"}\n",
        "error",
        "not JSON",
    ),
    (
        "results",
        "escape-method",
        b'{"id": "a", "method": "\\u001b[2J", "predicted": "equivalent"}\n',
        "error",
        "method",
    ),
    (
        "results",
        "twice",
        b'{"id": "a", "method": "m", "predicted": "equivalent"}\n' * 2,
        "error",
        "second result",
    ),
    ("report", "deep", DEEP, "error", "not a phase2 JSON report"),
    ("report", "nan", b'{"schema": "Phase2Diff.v1", "x": NaN}', "error", "NaN"),
    ("report", "not-utf8", b"\xff" * 10, "error", "not a phase2 JSON report"),
    ("json", "deep", DEEP, "error", "nested too deeply"),
    ("json", "nan", b'{"a": NaN}', "error", "NaN"),
    ("json", "dup-keys", b'{"a": 1, "a": 2}', "ok", ""),
    ("json", "1e400", b"[1e400, 1e999999999]", "ok", ""),
    ("json", "lone-surrogate", b'"\\ud800"', "ok", ""),
    ("json", "utf16-bom", '{"a": 1}'.encode("utf-16"), "error", "not UTF-8"),
]


@pytest.mark.parametrize(
    ("parser", "name", "data", "want", "needle"), TABLE, ids=[f"{p}-{n}" for p, n, *_ in TABLE]
)
def test_hostile_input_table(parser: str, name: str, data: bytes, want: str, needle: str) -> None:
    try:
        got = outcome(parser, data)
        if want == "error":
            with pytest.raises(UsageError) as info:
                PARSERS[parser](data)
            assert needle in str(info.value), str(info.value)[:300]
        ok = got == want
    except AssertionError:
        record("parsers", f"{parser}:{name}", False)
        raise
    record("parsers", f"{parser}:{name}", ok)
    assert ok, (got, want)


def test_the_state_file_schema_names_every_written_path() -> None:
    """Every path-valued field of a state file is a safePath (the unsynced sync deletes)."""
    st_schema = json.loads((schemas.schema_dir() / "Phase2State.v1.json").read_text())
    upd = st_schema["$defs"]["update"]
    assert upd["properties"]["path"] == {"$ref": "#/$defs/safePath"}
    assert st_schema["properties"]["unsynced"]["properties"]["updates"]["items"] == {
        "$ref": "#/$defs/update"
    }


# ---------------------------------------------------------------------------- properties

FAST = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FAST
@given(data=hs.hostile_json())
@pytest.mark.parametrize("parser", sorted(PARSERS))
def test_any_json_ish_input_is_a_value_or_one_line(parser: str, data: bytes) -> None:
    outcome(parser, data)


@FAST
@given(data=hs.hostile_bytes(max_size=400))
@pytest.mark.parametrize("parser", sorted(PARSERS))
def test_any_bytes_are_a_value_or_one_line(parser: str, data: bytes) -> None:
    outcome(parser, data)


@FAST
@given(ev=hs.mutate_object(event()))
def test_mutated_decisions_never_escape_the_work_tree(ev: dict[str, Any]) -> None:
    try:
        lines = decisions.parse_lines(jl(ev), decisions.LOG_FILE)
    except UsageError:
        return
    path = lines[0].event["path"]
    parts = path.split("/")
    assert not path.startswith("/") and ".." not in parts and ".git" not in parts
    assert "\x00" not in path


@FAST
@given(path=hs.hostile_paths())
def test_state_update_paths_are_safe_or_refused(path: str) -> None:
    doc = state_doc(unsynced={"commit": OID_A, "updates": [update(path)], "log": None})
    data = json.dumps(doc).encode()
    parts = path.split("/")
    unsafe = path.startswith("/") or ".." in parts or ".git" in parts or "\x00" in path
    result = outcome("state", data)
    assert result == ("error" if unsafe or not path else "ok"), path


@FAST
@given(text=hs.hostile_text(200))
def test_error_lines_are_always_safe(text: str) -> None:
    line = one_line(f"unknown method '{text}'")
    assert "\n" not in line
    assert_safe(line.encode("utf-8", "surrogateescape"), "error line")


@FAST
@given(value=st.one_of(hs.hostile_text(), hs.json_values(8)))
def test_hostile_config_values_are_refused_in_one_line(value: object) -> None:
    table = {"policy": {"mode": value}, "artifacts": {"include": [value]}}
    try:
        config.resolve(table, "config.toml")
    except UsageError as exc:
        assert "\n" not in str(exc)


# ---------------------------------------------------------------------------- end to end


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return hermetic_env(tmp_path / "home")


def pr_repo(root: Path, env: dict[str, str]) -> str:
    """``main`` with a.json; ``feat`` (checked out) changes it for real; returns the head."""
    root.mkdir()
    git(root, "init", "-q", env=env)
    (root / "a.json").write_text('{"a": 1}\n')
    (root / "n.json").write_text('{"x": 1, "y": 2}\n')
    git(root, "add", "-A", env=env)
    git(root, "commit", "-q", "-m", "base", env=env)
    git(root, "checkout", "-q", "-b", "feat", env=env)
    (root / "a.json").write_text('{"a": 2}\n')
    git(root, "commit", "-q", "-am", "real change", env=env)
    return git(root, "rev-parse", "HEAD", env=env).strip()


@pytest.mark.parametrize("path", ["../../.bashrc", "/etc/passwd", *slow(".git/config", "a/../x")])
def test_a_decision_naming_a_path_outside_is_refused(
    tmp_path: Path, env: dict[str, str], path: str
) -> None:
    root = tmp_path / "repo"
    pr_repo(root, env)
    (root / ".phase2").mkdir()
    (root / ".phase2" / "decisions.jsonl").write_bytes(jl(event(), event(path=path)))
    git(root, "add", "-A", env=env)
    git(root, "commit", "-q", "-m", "approve", env=env)
    for args in (("diff", "main", "feat"), ("log",), ("labels", "export")):
        res = run_phase2(args, cwd=root, env=env)
        assert_one_line_error(res, 2, ".phase2/decisions.jsonl:2: path")
    verify = run_phase2(("verify",), cwd=root, env=env)  # verify lists problems: exit 1
    assert_no_crash(verify, (1,))
    assert b"problem: .phase2/decisions.jsonl:2: path" in verify.out
    record("parsers", f"e2e-decision-path:{path}", True)


def _state_after_a_run(root: Path, env: dict[str, str]) -> Path:
    res = run_phase2(("resolve", "main", "--yes"), cwd=root, env=env)
    assert_no_crash(res, (1,))  # a.json, a real change, is left: --fail-on real
    (path,) = (root / ".phase2" / "state").glob("feat-*.json")  # the branch's state
    return path


@pytest.mark.parametrize(
    ("where", "path"),
    [
        ("pending", "../../.bashrc"),
        ("unsynced", ".git/HEAD"),
        *slow(("pending", "/etc/passwd"), ("pending", ".git/config"), ("unsynced", "../victim")),
    ],
)
def test_a_state_file_naming_a_path_outside_is_refused(
    tmp_path: Path, env: dict[str, str], where: str, path: str
) -> None:
    root = tmp_path / "repo"
    head = pr_repo(root, env)
    victim = tmp_path / "victim"
    victim.write_text("victim\n")
    state_path = _state_after_a_run(root, env)
    doc = json.loads(state_path.read_text())
    old = git(root, "hash-object", str(victim), env=env).strip()
    if where == "pending":
        doc["pending"] = [{"event": event(), "update": update(path, old)}]
    else:
        doc["unsynced"] = {"commit": head, "updates": [update(path, old)], "log": None}
    state_path.write_text(json.dumps(doc))
    git_head = (root / ".git" / "HEAD").read_bytes()
    res = run_phase2(("resolve", "main", "--yes"), cwd=root, env=env)
    assert_one_line_error(res, 2, f"{where}")
    assert victim.read_text() == "victim\n" and (root / ".git" / "HEAD").read_bytes() == git_head
    assert git(root, "fsck", "--no-progress", "--no-dangling", env=env).strip() == ""
    record("parsers", f"e2e-state-path:{where}:{path}", True)


@pytest.mark.parametrize("both_null", [False, True])
def test_a_state_file_cannot_delete_through_a_symlinked_folder(
    tmp_path: Path, env: dict[str, str], both_null: bool
) -> None:
    root = tmp_path / "repo"
    head = pr_repo(root, env)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("precious\n")
    os.symlink(outside, root / "lnk")
    state_path = _state_after_a_run(root, env)
    doc = json.loads(state_path.read_text())
    old = None if both_null else git(root, "hash-object", str(outside / "passwd"), env=env).strip()
    doc["unsynced"] = {"commit": head, "updates": [update("lnk/passwd", old)], "log": None}
    state_path.write_text(json.dumps(doc))
    res = run_phase2(("resolve", "main", "--yes"), cwd=root, env=env)
    assert_no_crash(res, (1,))  # a.json is left to a human
    assert (outside / "passwd").read_text() == "precious\n"
    record("parsers", f"e2e-state-symlinked-folder:{both_null}", True)


def test_a_symlinked_dot_phase2_is_refused(tmp_path: Path, env: dict[str, str]) -> None:
    root = tmp_path / "repo"
    pr_repo(root, env)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "config.toml").write_text("[policy]\nmode = 'auto'\n")
    os.symlink(outside, root / ".phase2")
    git(root, "add", "-A", env=env)
    git(root, "commit", "-q", "-m", "link", env=env)
    for args in (
        ("diff", "main", "feat"),
        ("check",),
        ("resolve", "main", "--yes"),
        ("labels", "export"),
        ("judge", "eval"),
        ("gate",),
    ):
        res = run_phase2(args, cwd=root, env=env)
        assert_one_line_error(res, 2, ".phase2 is a symbolic link")
        record("parsers", f"e2e-dot-phase2-symlink:{args[0]}", True)
    assert sorted(p.name for p in outside.iterdir()) == ["config.toml"]


@pytest.mark.parametrize("rubric", ["/etc/passwd", "../../../../../../etc/passwd"])
def test_rubric_file_outside_the_repository_is_refused(
    tmp_path: Path, env: dict[str, str], rubric: str
) -> None:
    root = tmp_path / "repo"
    pr_repo(root, env)
    spy = tmp_path / "judge-input"
    (root / ".phase2").mkdir()
    (root / ".phase2" / "config.toml").write_text(
        f'[judge]\nrubric_file = "{rubric}"\ncommand = ["sh", "-c", "cat > {spy}; echo 1"]\n'
    )
    data = tmp_path / "l.jsonl"
    data.write_bytes(
        jl(
            label_line(),
            label_line(id="y", label="equivalent", mismatch_type="whitespace", after="a "),
        )
    )
    res = run_phase2(
        ("judge", "eval", "-d", str(data), "--methods", "llm_rubric"), cwd=root, env=env
    )
    assert_one_line_error(res, 2, "outside the repository")
    assert not spy.exists()
    record("parsers", f"e2e-rubric-outside:{rubric}", True)


HOSTILE_ARGS = [
    ("diff", "x\x1b]52;c;aGk=\x07"),
    ("diff", "--format", "\x1b[2J"),
    ("diff", "--methods", "\x1b]8;;http://e\x1b\\x"),
    ("diff", "--shard", "\x9b2J"),
    ("diff", "--fail-on", "a\nb"),
    ("diff", "--bogus\x1b[2J"),
    ("diff", "--config", "/nonexistent/\x1b[2J"),
    ("check", "/tmp/\x1b[2J"),
    ("resolve", "\x1b[2J", "--yes"),
    ("report", "merge", "/nonexistent\x1b[2J"),
    ("judge", "eval", "-d", "/nonexistent\x1b[2J"),
    ("labels", "import", "/nonexistent\x07"),
    ("diff", "-C", "/nonexistent\x1b]52;c;aGk=\x07"),
]


@pytest.mark.parametrize(
    "args", HOSTILE_ARGS[:4] + [pytest.param(a, marks=pytest.mark.slow) for a in HOSTILE_ARGS[4:]]
)
def test_hostile_arguments_get_one_safe_line(
    tmp_path: Path, env: dict[str, str], args: tuple[str, ...]
) -> None:
    root = tmp_path / "repo"
    pr_repo(root, env)
    res = run_phase2(args, cwd=root, env=env)
    assert_one_line_error(res, 2)
    record("parsers", f"e2e-args:{args!r}", True)


def test_a_hostile_pathspec_prints_nothing_raw(tmp_path: Path, env: dict[str, str]) -> None:
    """After ``--`` a name is a pathspec (a gitignore glob from the repository's top), so
    ``/tmp/<ESC>[2J`` is an anchored glob that matches nothing: no error, and no raw escape
    reaches the terminal on any command."""
    root = tmp_path / "repo"
    pr_repo(root, env)
    for args in (("check", "--", "/tmp/\x1b[2J"), ("diff", "--", "\x1b]52;c;aGk=\x07")):
        res = run_phase2(args, cwd=root, env=env)
        assert_no_crash(res)
        assert_safe(res.out + res.err, repr(args))
    record("parsers", "e2e-pathspec-escapes", True)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("escape-in-method", b'[methods]\nenabled = ["\\u001b]52;c;aGk=\\u0007"]\n'),
        ("deep", b"a = " + b"[" * 100_000 + b"1" + b"]" * 100_000 + b"\n"),
        *slow(
            ("10mb", b'[policy]\nmode = "' + b"\x1b[2J" * 2_000_000 + b'"\n'),
            ("nul", b"[policy\x00]\n"),
            ("latin1", b"[policy]\nmode = '\xe9'\n"),
        ),
    ],
)
def test_hostile_config_files_exit_2_in_one_line(
    tmp_path: Path, env: dict[str, str], name: str, text: bytes
) -> None:
    root = tmp_path / "repo"
    pr_repo(root, env)
    # committed on main: a comparison of two commits reads the base's configuration
    git(root, "checkout", "-q", "main", env=env)
    (root / ".phase2").mkdir()
    (root / ".phase2" / "config.toml").write_bytes(text)
    git(root, "add", "-A", env=env)
    git(root, "commit", "-q", "-m", "hostile config", env=env)
    git(root, "checkout", "-q", "feat", env=env)
    # and in the working tree, where the hook reads it
    (root / ".phase2").mkdir()
    (root / ".phase2" / "config.toml").write_bytes(text)
    for args in (("diff", "main", "feat"), ("check",), ("resolve", "main", "--yes")):
        res = run_phase2(args, cwd=root, env=env)
        assert_one_line_error(res, 2, ".phase2/config.toml")
        assert len(res.err) < 2200
    record("parsers", f"e2e-config:{name}", True)


def test_hostile_shard_reports(tmp_path: Path, env: dict[str, str]) -> None:
    root = tmp_path / "repo"
    pr_repo(root, env)
    (root / "\x1b]52;c;aGk=\x07.json").write_text("{}\n")
    outs = []
    for k in (1, 2):
        res = run_phase2(
            ("diff", "main", "--format", "json", "--shard", f"{k}/2"), cwd=root, env=env
        )
        assert_no_crash(res, (0, 1))
        outs.append(tmp_path / f"s{k}.json")
        outs[-1].write_bytes(res.out)
    for fmt in ("text", "markdown", "json"):
        res = run_phase2(("report", "merge", *map(str, outs), "--format", fmt), cwd=root, env=env)
        assert_no_crash(res, (1,))
    bad = {
        "deep": b"[" * 100_000 + b"]" * 100_000,
        "nan": re.sub(
            rb'"confidence": ?[0-9.]+', b'"confidence": NaN', outs[0].read_bytes(), count=1
        ),
        "dup": outs[0].read_bytes().replace(b"{", b'{"base": "x",', 1),
        "cut": outs[0].read_bytes()[:-50],
    }
    for name, data in bad.items():
        f = tmp_path / f"bad-{name}.json"
        f.write_bytes(data)
        res = run_phase2(("report", "merge", str(f), str(outs[1])), cwd=root, env=env)
        assert_one_line_error(res, 2)
        record("parsers", f"e2e-report-merge:{name}", True)


def test_a_key_with_a_newline_is_named_in_one_line() -> None:
    """Hypothesis found it: a quoted TOML key may hold a newline, and the refusal of a huge
    number under it named the key raw."""
    table = {"policy": {"mode": {"a\nb": 2**60}}}
    with pytest.raises(UsageError) as found:
        config.resolve(table, "config.toml")
    assert "\n" not in str(found.value) and "2**53" in str(found.value)
