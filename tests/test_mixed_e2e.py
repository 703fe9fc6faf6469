"""Mixed changes end to end, on real data: files of mdn/browser-compat-data (``tests/data/bcd``,
CC0-1.0) in a real repository, regenerated with every combination of noise beside one real
edit, then cleaned by ``phase2 resolve --yes``, by ``phase2 check --fix`` and by a human's
approval. What reaches the branch must differ from the base by exactly the edit's line.

The sample holds no JSON number (versions are strings), so float jitter is exercised on a
number-carrying document of its own (:func:`test_float_jitter_is_stripped_once_configured`).
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from phase2_git.app.resolve import Operation, open_session
from phase2_git.git.repo import GitRepo
from tests.conftest import Cli, TestRepo

DATA = Path(__file__).parent / "data" / "bcd"
SAMPLE = sorted(p.relative_to(DATA).as_posix() for p in DATA.rglob("*.json"))
NOISES = ("reindent", "crlf", "bom", "final", "reorder")
COMBOS = [c for n in range(1, len(NOISES) + 1) for c in itertools.combinations(NOISES, n)]
VERSION = re.compile(r"^(\d+)(?:\.(\d+))?$")


def dump(doc: Any, indent: int = 2) -> bytes:
    """The sample's own format: ``JSON.stringify(doc, null, 2)`` and a final newline."""
    return (json.dumps(doc, indent=indent, ensure_ascii=False) + "\n").encode()


def bumped(raw: bytes) -> tuple[Any, str]:
    """The document with its first numeric ``version_added`` raised by one (``"56"`` →
    ``"57"``, ``"16.4"`` → ``"16.5"``): a regeneration's one real edit. Also its JSON path."""
    doc = json.loads(raw)

    def walk(node: Any, path: str) -> str | None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "version_added" and isinstance(value, str) and VERSION.match(value):
                    major, minor = VERSION.match(value).groups()  # type: ignore[union-attr]
                    node[key] = f"{major}.{int(minor) + 1}" if minor else str(int(major) + 1)
                    return f"{path}.{key}"
                # a key that is not an identifier is written as a string: $.css["at-rules"]
                step = f".{key}" if key.isidentifier() else f"[{json.dumps(key)}]"
                found = walk(value, path + step)
                if found:
                    return found
        elif isinstance(node, list):
            for k, value in enumerate(node):
                found = walk(value, f"{path}[{k}]")
                if found:
                    return found
        return None

    where = walk(doc, "$")
    assert where is not None, "every sample file has a numeric version_added"
    return doc, where


def unquoted(raw: bytes) -> tuple[Any, str]:
    """The document with its first numeric ``version_added`` written as the number it spells
    (``"56"`` → ``56``): a generator that lost its quotes. Also its JSON path."""
    doc = json.loads(raw)
    where = bumped(raw)[1]  # the same leaf bumped() edits
    node: Any = doc
    steps = re.findall(r'\.([A-Za-z_][\w]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]', where[1:])
    *parents, last = steps
    for name, index, quoted in parents:
        node = node[int(index)] if index else node[json.loads(quoted) if quoted else name]
    key = last[0] or json.loads(last[2])
    node[key] = json.loads(node[key])
    return doc, where


def reordered(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: reordered(node[k]) for k in reversed(list(node))}
    if isinstance(node, list):
        return [reordered(v) for v in node]
    return node


def noisy(doc: Any, noise: tuple[str, ...]) -> bytes:
    text = json.dumps(
        reordered(doc) if "reorder" in noise else doc,
        indent=4 if "reindent" in noise else 2,
        ensure_ascii=False,
    )
    if "final" not in noise:
        text += "\n"
    if "crlf" in noise:
        text = text.replace("\n", "\r\n")
    return (b"\xef\xbb\xbf" if "bom" in noise else b"") + text.encode()


class Plan:
    """What the regeneration did to each path: ``mixed`` path -> (noise, expected stripped
    bytes, the edit's JSON path), ``edit_only`` path -> head bytes, ``noise_only`` paths."""

    def __init__(self) -> None:
        self.base: dict[str, bytes] = {}
        self.head: dict[str, bytes] = {}
        self.mixed: dict[str, tuple[tuple[str, ...], bytes, str]] = {}
        self.edit_only: list[str] = []
        self.noise_only: list[str] = []

    def build(self) -> Plan:
        for k, noise in enumerate(COMBOS):
            name = SAMPLE[k % len(SAMPLE)]
            raw = (DATA / name).read_bytes()
            doc, where = bumped(raw)
            path = f"mixed/{'+'.join(noise)}/{name}"
            self.base[path], self.head[path] = raw, noisy(doc, noise)
            # stripped: the base's bytes with the one edited line
            self.mixed[path] = (noise, dump(doc), where)
        for name in SAMPLE[:2]:
            raw = (DATA / name).read_bytes()
            path = f"edit/{name}"
            self.base[path], self.head[path] = raw, dump(bumped(raw)[0])
            self.edit_only.append(path)
        for name, noise in zip(SAMPLE[2:4], [("reindent", "crlf"), ("reorder",)], strict=True):
            raw = (DATA / name).read_bytes()
            path = f"noise/{name}"
            self.base[path], self.head[path] = raw, noisy(json.loads(raw), noise)
            self.noise_only.append(path)
        return self


def build_repo(repo: TestRepo, *, commit_head: bool = True) -> Plan:
    """main holds the sample as published; ``regen`` (checked out) the regenerated files,
    committed or, without ``commit_head``, staged."""
    plan = Plan().build()
    for path, data in plan.base.items():
        repo.write(path, data)
    repo.commit("browser-compat-data sample")
    repo.git("checkout", "-q", "-b", "regen")
    for path, data in plan.head.items():
        repo.write(path, data)
    if commit_head:
        repo.commit("regenerated")
    else:
        repo.git("add", "-A")
    return plan


def numstat(repo: TestRepo, a: str, b: str) -> dict[str, list[str]]:
    rows = [line.split("\t") for line in repo.git("diff", "--numstat", a, b).splitlines()]
    return {row[2]: row[:2] for row in rows}


def log_events(repo: TestRepo) -> list[dict[str, Any]]:
    log = repo.root / ".phase2" / "decisions.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()]


def diff_json(repo: TestRepo, cli: Cli, *sides: str) -> dict[str, dict[str, Any]]:
    code, out, err = cli("diff", *sides, "--format", "json", repo=repo)
    assert code in (0, 1), err
    return {m["path"]: m for m in json.loads(out)["mismatches"]}


def assert_clean_real_changes(plan: Plan, found: dict[str, dict[str, Any]]) -> None:
    """Every mixed and edit-only file is now a clean real change: one changed leaf, no noise,
    no first step left."""
    for path in [*plan.mixed, *plan.edit_only]:
        m = found[path]
        assert m["mismatch_type"] == "content", (path, m["mismatch_type"])
        assert m["changes"]["noise"] == [] and "first" not in m["plan"], path
        (real,) = m["changes"]["real"]
        assert real["kind"] == "changed" and real["path"].endswith(".version_added"), path


def test_the_sample_is_the_published_data() -> None:
    assert len(SAMPLE) >= 8
    assert (DATA / "LICENSE").read_text().startswith("CC0 1.0 Universal")
    sha = re.search(r"[0-9a-f]{40}", (DATA / "README.md").read_text())
    assert sha is not None, "the README names the commit the files come from"
    for name in SAMPLE:  # the format the transforms must give back, byte for byte
        raw = (DATA / name).read_bytes()
        assert dump(json.loads(raw)) == raw, name


def test_resolve_yes_strips_every_combination_of_noise(repo: TestRepo, cli: Cli) -> None:
    plan = build_repo(repo)
    before = repo.head()
    found = diff_json(repo, cli, "main", "HEAD")
    for path, (noise, _, where) in plan.mixed.items():
        m = found[path]
        assert m["mismatch_type"] == "content" and m["plan"]["first"]["safe"], (path, noise)
        (real,) = m["changes"]["real"]
        assert real["path"] == where, path

    code, out, err = cli("resolve", "main", "--yes", repo=repo)
    # the noise is gone and every real edit waits for a human: --fail-on real (the default)
    # fails, and nothing is left for another --yes
    assert code == 1, err
    for path in plan.mixed:
        assert re.search(rf"^auto-approve +strip_noise +{re.escape(path)} \(content\)", out, re.M)
    real = len(plan.mixed) + len(plan.edit_only)
    assert (
        f"left: {real} mismatch(es), {real} real change(s) without a trusted approval "
        "and 0 unresolved noise" in out
    ), out
    assert not re.search(r"--yes[^`]*` applies", out), out
    assert repo.git("rev-list", "--count", f"{before}..HEAD").strip() == "1"
    assert repo.git("status", "--porcelain") == ""

    # exactly the edit's line, for every mixed file; the edit kept; edit-only files untouched
    counts = numstat(repo, "main", "HEAD")
    for path, (noise, stripped, _) in plan.mixed.items():
        assert counts[path] == ["1", "1"], (path, noise, counts[path])
        assert repo.read(path) == stripped, path
        assert json.loads(repo.read(path)) == json.loads(plan.head[path].decode("utf-8-sig"))
    for path in plan.edit_only:
        assert counts[path] == ["1", "1"]
        assert repo.git("rev-parse", f"HEAD~1:{path}") == repo.git("rev-parse", f"HEAD:{path}")
        assert repo.read(path) == plan.head[path]
    for path in plan.noise_only:  # restored: no difference left
        assert path not in counts and repo.read(path) == plan.base[path]

    # the log says what was done: the first step applied, the real change not decided
    events = {e["path"]: e for e in log_events(repo) if e["path"] in plan.mixed}
    message = repo.git("log", "-1", "--format=%B")
    assert message.startswith(
        f"phase2: resolve 2 noise mismatches and strip the noise of {len(plan.mixed)} mixed files"
    )
    for path, e in events.items():
        assert (e["decision"], e["action"], e["step"]) == ("auto-approve", "strip_noise", "first")
        assert e["transform"]["id"] == "strip_noise.v1" and e["label"] is None
        assert e["result"] == repo.git("rev-parse", f"HEAD:{path}").strip()
        assert "the real change waits for a human" in e["reason"]
        assert f'Phase2-Transform: {e["id"]} {e["hashes"]["after"]}..{e["result"]} "{path}"' in (
            message
        )
    code, out, _ = cli("verify", repo=repo)
    assert code == 0, out

    # a later diff: clean real changes, none of them approved by --yes
    found = diff_json(repo, cli, "main", "HEAD")
    assert_clean_real_changes(plan, found)
    assert all(found[p]["decision"] is None for p in plan.mixed)
    for path in plan.noise_only:
        assert path not in found
    # and the next --yes has nothing left to strip; the real edits still fail it, the noise not
    head = repo.head()
    code, out, _ = cli("resolve", "main", "--yes", repo=repo)
    assert code == 1 and "strip_noise" not in out and repo.head() == head
    assert "nothing to do: --yes has nothing new to apply" in out
    code, out, _ = cli("resolve", "main", "--yes", "--fail-on", "noise", repo=repo)
    assert code == 0 and "strip_noise" not in out and repo.head() == head


def test_a_version_string_that_became_a_number_is_a_real_change(repo: TestRepo, cli: Cli) -> None:
    """``"56"`` → ``56`` changes the document's type at that leaf: never noise, alone or beside
    noise, and neither ``--yes`` nor ``check --fix`` may put the string back."""
    raw = (DATA / SAMPLE[0]).read_bytes()
    doc, where = unquoted(raw)
    for path in ("alone.json", "mixed.json", "staged.json"):
        repo.write(path, raw)
    repo.commit("browser-compat-data sample")
    repo.write("alone.json", dump(doc))
    repo.write("mixed.json", noisy(doc, ("reindent",)))
    repo.commit("regenerated")
    found = diff_json(repo, cli, "HEAD~1", "HEAD")
    for path in ("alone.json", "mixed.json"):
        m = found[path]
        assert m["mismatch_type"] == "content", (path, m["detail"])
        (real,) = m["changes"]["real"]
        assert (real["kind"], real["path"]) == ("changed", where), real
    assert found["alone.json"]["plan"]["action"] == "manual"
    assert found["mixed.json"]["plan"]["first"]["action"] == "strip_noise"

    code, out, err = cli("resolve", "HEAD~1", "--yes", repo=repo)
    assert code == 1, err
    assert repo.read("alone.json") == dump(doc)  # untouched
    assert repo.read("mixed.json") == dump(doc)  # the re-indent stripped, the number kept

    repo.write("staged.json", noisy(doc, ("reorder",)))
    repo.git("add", "staged.json")
    code, out, err = cli("check", "--fix", "staged.json", repo=repo)
    assert code == 1 and "noise beside a real change" in out, out
    assert json.loads(repo.read("staged.json")) == doc
    assert repo.read("staged.json") == dump(doc)


def test_check_fix_strips_staged_files_like_a_formatter(repo: TestRepo, cli: Cli) -> None:
    plan = build_repo(repo, commit_head=False)
    staged = repo.git("diff", "--cached", "--numstat")
    code, out, err = cli("check", repo=repo)
    assert code == 1, err
    # the hook shows 20 findings, then the counts: mixed and noise-only files are noise to fix
    noisy_files = len(plan.mixed) + len(plan.noise_only)
    *shown, summary = out.splitlines()
    assert len(shown) == 20 and summary.startswith(
        f"phase2 check: {noisy_files} noise (20 of {noisy_files} shown;"
    ), summary
    # each mixed file's own line: named, at most 20 at a time
    mixed = list(plan.mixed)
    for k in range(0, len(mixed), 20):
        code, out, err = cli("check", *mixed[k : k + 20], repo=repo)
        assert code == 1, err
        for path in mixed[k : k + 20]:
            noise = plan.mixed[path][0]
            line = next(x for x in out.splitlines() if x.startswith(f"{path}: "))
            assert "noise beside a real change" in line and "the real change stays" in line, line
            assert f"`phase2 check --fix {path}`" in line, (noise, line)
    code, out, _ = cli("check", *plan.edit_only, *plan.noise_only, repo=repo)
    assert code == 1
    for path in plan.edit_only:  # a real change alone passes the hook
        assert f"{path}: " not in out
    for path in plan.noise_only:
        assert f"{path}: noise only" in out
    # named files: only those are checked
    one = next(iter(plan.mixed))
    code, out, _ = cli("check", one, plan.edit_only[0], repo=repo)
    assert code == 1 and out.splitlines()[0].startswith(f"{one}: noise beside a real change")

    code, out, err = cli("check", "--fix", repo=repo)
    assert code == 1, err
    *shown, summary = out.splitlines()  # 20 lines, the mixed files first (path order)
    assert summary.startswith(f"phase2 check: {noisy_files} fixed (20 of {noisy_files} shown;")
    for line, path in zip(shown, sorted(mixed)[:20], strict=True):
        assert line.startswith(f"{path}: stripped the noise beside a real change"), line
    # as formatters do: the working tree is rewritten, the index is the user's to update
    assert repo.git("diff", "--cached", "--numstat") == staged
    for path, (_, stripped, _) in plan.mixed.items():
        assert repo.read(path) == stripped, path
    for path in plan.edit_only:
        assert repo.read(path) == plan.head[path]
    repo.git("add", "-A")
    code, out, _ = cli("check", repo=repo)
    assert code == 0 and out == ""
    repo.commit("regenerated, noise stripped by the hook", all=False)
    counts = numstat(repo, "main", "HEAD")
    for path in [*plan.mixed, *plan.edit_only]:
        assert counts[path] == ["1", "1"], (path, counts[path])
    assert not set(plan.noise_only) & set(counts)
    assert_clean_real_changes(plan, diff_json(repo, cli, "main", "HEAD"))


def test_approving_a_mixed_file_commits_the_strip_and_binds_to_it(repo: TestRepo, cli: Cli) -> None:
    plan = build_repo(repo)
    path = next(iter(plan.mixed))
    code, out, err = cli("approve", path, "--base", "main", repo=repo)
    assert code == 0, err
    assert numstat(repo, "main", "HEAD")[path] == ["1", "1"]
    assert repo.read(path) == plan.mixed[path][1] and repo.git("status", "--porcelain") == ""
    strip, approval = [e for e in log_events(repo) if e["path"] == path]
    assert (strip["decision"], strip["step"], strip["label"]) == ("approve", "first", None)
    new_blob = repo.git("rev-parse", f"HEAD:{path}").strip()
    assert strip["result"] == new_blob
    # the approval is about the content the branch holds: CI finds it bound
    assert approval["decision"] == "approve" and "step" not in approval
    assert approval["hashes"]["after"] == new_blob and approval["refers_to"] == strip["id"]
    assert approval["label"] == "different" and approval["transform"] is None
    found = diff_json(repo, cli, "main", "HEAD")
    assert found[path]["decision"]["decision"] == "approve"
    assert found[path]["id"] == approval["mismatch_id"]
    others = [p for p in plan.mixed if p != path]
    assert all(found[p]["decision"] is None for p in others)
    code, out, _ = cli("verify", repo=repo)
    assert code == 0, out


def test_review_session_auto_strips_and_binds_human_decisions(repo: TestRepo, cli: Cli) -> None:
    """What the interactive review does through the session: ``--auto-approve-safe`` records
    the first steps before the review, a human's approve or reject binds to the stripped
    content, ``u`` takes back an approval (and the strip recorded with it)."""
    plan = build_repo(repo)
    paths = list(plan.mixed)
    git = GitRepo.discover(str(repo.root))
    with open_session(git, "main", ui_mode="interactive") as session:
        by_path = {m.path: m for m in session.mismatches}
        assert session.record_first_steps() == len(plan.mixed)
        pending = len(session.state.pending)
        # the real changes are still to be reviewed
        assert {m.path for m in session.todo()} >= set(plan.mixed)
        first, second = by_path[paths[0]], by_path[paths[1]]
        session.record(Operation(first, "approve"))
        assert first not in session.todo() and len(session.state.pending) == pending + 1
        session.undo_last()
        assert first in session.todo() and len(session.state.pending) == pending
        session.record(Operation(first, "approve"))
        session.record(Operation(second, "reject"))
        session.state.save()
    # the strips wait in the state until applied: a resumed review does not record them again,
    # and applies them
    with open_session(git, "main", ui_mode="interactive") as session:
        assert session.record_first_steps() == 0
        op = session.auto_operation(by_path[paths[2]])  # what --yes would do now: no second strip
        assert op.decision == "skip" and op.step is None
        result = session.apply()
    assert len(result.commits) == 1
    counts = numstat(repo, "main", "HEAD")
    assert all(counts[p] == ["1", "1"] for p in plan.mixed)
    found = diff_json(repo, cli, "main", "HEAD")
    assert found[paths[0]]["decision"]["decision"] == "approve"
    # a reject binds to the stripped content too, and is no approval
    assert found[paths[1]]["decision"]["decision"] == "reject"
    assert not found[paths[1]]["decision"]["trusted"] and not found[paths[1]]["plan"]["safe"]
    rejected = next(e for e in log_events(repo) if e["decision"] == "reject")
    assert rejected["hashes"]["after"] == repo.git("rev-parse", f"HEAD:{paths[1]}").strip()
    code, out, _ = cli("verify", repo=repo)  # no mismatch both approved and rejected
    assert code == 0, out
    # a human approval without an auto strip records the strip with it; undo takes both back
    repo.git("reset", "-q", "--hard", "HEAD~1")
    with open_session(git, "main", ui_mode="interactive", restart=True) as session:
        m = next(x for x in session.mismatches if x.path == paths[2])
        session.record(Operation(m, "approve"))
        assert [p["event"].get("step") for p in session.state.pending] == ["first", None]
        session.undo_last()
        assert session.state.pending == [] and m in session.todo()


def test_the_policy_gates_hold_for_first_steps(repo: TestRepo, cli: Cli, monkeypatch) -> None:
    plan = build_repo(repo)
    head = repo.head()
    mixed = next(iter(plan.mixed))
    monkeypatch.setenv("PHASE2_DISABLE_AUTORESOLVE", "1")
    code, out, _ = cli("resolve", "main", "--yes", repo=repo)
    # nothing applied: the real edits and the noise beside them fail the run
    assert code == 1 and repo.head() == head and "strip_noise" not in out
    waits = rf"^skip +manual +{re.escape(mixed)} .*PHASE2_DISABLE_AUTORESOLVE is set"
    assert re.search(waits, out, re.M)
    assert f"PHASE2_DISABLE_AUTORESOLVE is set: {len(plan.mixed) + 2} safe plan(s) wait" in out
    code, out, _ = cli("check", "--fix", repo=repo)  # nothing staged: HEAD vs index is clean
    assert code == 0
    monkeypatch.delenv("PHASE2_DISABLE_AUTORESOLVE")
    repo.git("checkout", "-q", "--", ".")

    # shadow mode: the first steps are logged as shadow decisions, nothing is rewritten
    repo.write(".phase2/config.toml", '[policy]\nmode = "shadow"\n')
    repo.commit("shadow")
    own = str(repo.root / ".phase2/config.toml")
    code, _, err = cli("resolve", "main", "--yes", "--restart", "--config", own, repo=repo)
    assert code == 1, err  # the real edits are left, as every file is
    shadows = [e for e in log_events(repo) if e["path"] == mixed and e["decision"] == "shadow"]
    assert len(shadows) == 1 and shadows[0]["step"] == "first" and "result" not in shadows[0]
    assert repo.read(mixed) == plan.head[mixed]
    code, _, err = cli("resolve", "main", "--yes", "--config", own, repo=repo)
    assert code == 1, err  # a shadow is logged once
    assert [e for e in log_events(repo) if e["path"] == mixed and e["decision"] == "shadow"] == (
        shadows
    )
    repo.git("checkout", "-q", "--", ".")
    repo.git("reset", "-q", "--hard", head)

    # a filter attribute: never rewritten; bytes git does not store: refused, exit 3
    repo.write(".gitattributes", f"/{mixed} filter=keep\n")
    repo.git("config", "filter.keep.clean", "cat")
    repo.git("config", "filter.keep.smudge", "cat")
    repo.commit("filter")
    code, out, _ = cli("resolve", "main", "--yes", "--restart", repo=repo)
    assert code == 1 and re.search(rf"skip +manual +{re.escape(mixed)} .*never rewritten", out)
    assert numstat(repo, "main", "HEAD")[mixed] != ["1", "1"]
    repo.git("reset", "-q", "--hard", head)
    crlf_free = next(p for p, (noise, _, _) in plan.mixed.items() if noise == ("reindent",))
    repo.write(".gitattributes", "* text=auto\n")
    repo.commit("text=auto")
    repo.write(crlf_free, plan.head[crlf_free].replace(b"\n", b"\r\n"))  # cleans to the blob
    assert (
        repo.git("hash-object", crlf_free).strip()
        == repo.git("rev-parse", f"HEAD:{crlf_free}").strip()
    )
    code, _, err = cli("resolve", "main", "--yes", "--restart", repo=repo)
    assert code == 3 and crlf_free in err and err.count("\n") == 1


def test_float_jitter_is_stripped_once_configured(repo: TestRepo, cli: Cli) -> None:
    """numeric_precision is not auto-applied by default: the first step is planned, not safe,
    and --yes leaves the file alone; once configured, the numbers keep the base's text."""
    base = {"model": "atlas-3b", "metrics": {"loss": 0.30000000000000004, "accuracy": 0.81}}
    repo.write("eval/results.json", dump(base))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "regen")
    head = {"model": "atlas-3b", "metrics": {"loss": 0.3, "accuracy": 0.79}}
    repo.write("eval/results.json", dump(head, 4))
    repo.commit("regenerated")
    found = diff_json(repo, cli, "main", "HEAD")
    first = found["eval/results.json"]["plan"]["first"]
    assert not first["safe"] and "numeric_precision is not in auto_apply_types" in first["reason"]
    before = repo.head()
    code, out, _ = cli("resolve", "main", "--yes", repo=repo)
    assert code == 1 and repo.head() == before and "strip_noise" not in out
    assert "left: 1 mismatch(es), 1 real change(s) without a trusted approval" in out
    repo.write(".phase2/config.toml", "[policy]\nauto_apply_types = "
               '["whitespace", "numeric_precision"]\n')  # fmt: skip
    repo.commit("numbers within tolerance are noise here")
    own = str(repo.root / ".phase2/config.toml")
    code, out, err = cli("resolve", "main", "--yes", "--restart", "--config", own, repo=repo)
    assert code == 1, err  # the accuracy's change and the new configuration wait for a human
    assert "strip_noise" in out and "left: 2 mismatch(es), 2 real change(s)" in out
    expected = dump(
        {"model": "atlas-3b", "metrics": {"loss": 0.30000000000000004, "accuracy": 0.79}}
    )
    assert repo.read("eval/results.json") == expected
    assert numstat(repo, "main", "HEAD")["eval/results.json"] == ["1", "1"]


@pytest.mark.parametrize("noise", [("reindent",), ("crlf", "bom"), ("reorder", "final")])
def test_a_one_file_regeneration_reads_as_one_line(
    make_repo, cli: Cli, noise: tuple[str, ...]
) -> None:
    """The user's story: one file, regenerated; ``phase2 resolve main --yes`` commits the
    strip and ``git diff --numstat main`` shows the one edited line."""
    repo = make_repo()
    name = SAMPLE[0]
    raw = (DATA / name).read_bytes()
    repo.write(name, raw)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "regen")
    doc, _ = bumped(raw)
    repo.write(name, noisy(doc, noise))
    repo.commit("regen")
    code, out, _ = cli("resolve", "main", repo=repo)  # no terminal: the plans are listed
    assert (
        code == 1
        and f"manual                 {name} (content) (its noise: strip_noise, safe)" in out
    )
    code, out, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 1, err  # the edit waits for a human
    assert "left: 1 mismatch(es), 1 real change(s) without a trusted approval" in out
    assert repo.git("diff", "--numstat", "main", "HEAD", "--", name) == f"1\t1\t{name}\n"


def small_mixed_repo(repo: TestRepo, names: list[str]) -> dict[str, bytes]:
    """main: ``names`` from the sample; ``regen``: each re-indented with one edit. Returns the
    stripped bytes each should end up as."""
    stripped = {}
    for name in names:
        repo.write(name, (DATA / name).read_bytes())
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "regen")
    for name in names:
        doc, _ = bumped((DATA / name).read_bytes())
        repo.write(name, noisy(doc, ("reindent",)))
        stripped[name] = dump(doc)
    repo.commit("regen")
    return stripped


def spawn_review(repo: TestRepo, *args: str) -> Any:
    import os
    import sys

    pexpect = pytest.importorskip("pexpect")
    env = {k: v for k, v in os.environ.items() if k not in ("CI",)}
    env.update({"TERM": "xterm", "COLUMNS": "120", "LINES": "40", "PAGER": "cat"})
    return pexpect.spawn(
        sys.executable,
        ["-m", "phase2_git", "resolve", "main", *args],
        cwd=str(repo.root),
        env=env,
        timeout=60,
        dimensions=(40, 120),
    )


def test_interactive_review_strips_first_and_reviews_the_edit(repo: TestRepo, cli: Cli) -> None:
    """A real terminal: ``--auto-approve-safe`` strips both mixed files without asking, the
    review still asks about both edits; ``a`` approves one, ``s`` skips the other."""
    pexpect = pytest.importorskip("pexpect")
    names = SAMPLE[:2]
    stripped = small_mixed_repo(repo, names)
    child = spawn_review(repo, "--auto-approve-safe")
    child.expect(r"\[1/2\]")
    child.expect(re.escape(names[0]))
    child.expect(r"\?\]  > ")
    child.send("a")
    child.expect(r"\[2/2\]")
    child.expect(r"\?\]  > ")
    child.send("s")
    child.expect(r"left: 1 mismatch\(es\), 1 real change\(s\) without a trusted approval")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1  # the skipped edit is left
    for name in names:
        assert repo.read(name) == stripped[name]
        assert numstat(repo, "main", "HEAD")[name] == ["1", "1"]
    found = diff_json(repo, cli, "main", "HEAD")
    assert found[names[0]]["decision"]["decision"] == "approve"
    assert found[names[1]]["decision"] is None
    steps = [e for e in log_events(repo) if e.get("step") == "first"]
    assert [(e["path"], e["decision"]) for e in steps] == [(n, "auto-approve") for n in names]
    assert repo.git("status", "--porcelain") == ""


def test_yes_after_an_interrupted_review_counts_its_approval(repo: TestRepo, cli: Cli) -> None:
    """A review approved the mixed file and stopped before applying; ``--yes`` commits the
    strip and the approval together, and what is left is what ``phase2 diff`` then says:
    nothing, exit 0."""
    (name,) = SAMPLE[:1]
    stripped = small_mixed_repo(repo, [name])
    git = GitRepo.discover(str(repo.root))
    with open_session(git, "main", ui_mode="interactive") as session:
        (m,) = session.mismatches
        session.record(Operation(m, "approve"))
        session.state.save()
    code, out, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 0 and "nothing left" in out, out + err
    assert repo.read(name) == stripped[name]
    assert diff_json(repo, cli, "main", "HEAD")[name]["decision"]["decision"] == "approve"


def test_a_sampled_strip_is_audited_head_against_its_stripped_form(
    repo: TestRepo, cli: Cli
) -> None:
    pexpect = pytest.importorskip("pexpect")
    stripped = small_mixed_repo(repo, SAMPLE[:1])
    repo.write(".phase2/config.toml", "[policy]\nsample_rate = 1.0\n")
    repo.commit("audit every auto-approval")
    own = str(repo.root / ".phase2/config.toml")
    code, out, err = cli("resolve", "main", "--yes", "--config", own, repo=repo)
    assert code == 1 and "[sampled for audit]" in out, err  # the edit waits for a human
    assert repo.read(SAMPLE[0]) == stripped[SAMPLE[0]]
    child = spawn_review(repo, "--audit", "--config", own)
    child.expect(r"\[audit 1/1\]")
    child.expect("a it was noise")
    child.send("a")
    child.expect("1 audit")
    child.expect(pexpect.EOF)
    (strip,) = [e for e in log_events(repo) if e.get("step") == "first"]
    (audit,) = [e for e in log_events(repo) if e["decision"] == "audit"]
    assert audit["refers_to"] == strip["id"] and audit["action"] == "strip_noise"
    # an audit of a strip says the stripped head is the head's document: no label of the
    # mismatch (its two sides differ by the edit)
    code, out, err = cli("labels", "export", repo=repo)
    assert code == 0, err
    labels = repo.root / ".phase2" / "labels.jsonl"
    assert not labels.exists() or strip["mismatch_id"] not in labels.read_text()


def test_undoing_a_strip_takes_back_its_own_count(repo: TestRepo) -> None:
    """A first step is counted under ``first_step`` (not under its decision): undoing one
    takes back that count, and the decision's count is left as it was."""
    plan = build_repo(repo)
    git = GitRepo.discover(str(repo.root))
    with open_session(git, "main", ui_mode="interactive") as session:
        n = session.record_first_steps()
        assert n == len(plan.mixed)
        stats = dict(session.state.stats)
        assert stats["first_step"] == n
        undone = session.undo_last()
        assert undone is not None and undone["step"] == "first"
        assert session.state.stats["first_step"] == n - 1
        for decision in ("approve", "auto-approve"):
            assert session.state.stats.get(decision, 0) == stats.get(decision, 0)
