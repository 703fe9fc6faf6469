"""``phase2 merge-driver`` under real ``git merge``, ``git rebase``, ``git cherry-pick`` and
``git pull`` in temporary repositories, registered by ``phase2 init --merge-driver``: git runs
the driver itself, from PATH, as it would on a developer's machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, TestRepo

ROOT = Path(__file__).resolve().parent.parent

BASE = b'{\n  "name": "model",\n  "score": 0.81,\n  "tags": ["a", "b"],\n  "size": 3\n}\n'
# a new serializer: 4 spaces, keys reordered, arrays exploded, CRLF, no final newline
NOISY = (
    b'{\r\n    "size": 3,\r\n    "tags": [\r\n        "a",\r\n        "b"\r\n    ],\r\n'
    b'    "score": 0.81,\r\n    "name": "model"\r\n}'
)


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``phase2`` on PATH that runs this checkout, as git will start it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "phase2"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m phase2_git "$@"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return bin_dir


def setup(repo: TestRepo, cli: Cli, files: dict[str, bytes] | None = None) -> str:
    code, _, err = cli("init", "--merge-driver", repo=repo)
    assert code == 0, err
    for path, data in (files or {"snap/model.json": BASE}).items():
        repo.write(path, data)
    return repo.commit("base")


def branch(repo: TestRepo, name: str, start: str, path: str, data: bytes) -> str:
    repo.git("checkout", "-q", "-b", name, start)
    repo.write(path, data)
    return repo.commit(name)


def moved(repo: TestRepo, timeout: float = 120.0) -> None:
    """Wait for the finisher to move the driver's journal into the log (it runs once git has
    released the work tree); a generous bound, only ever reached when something is broken."""
    git_dir = Path(repo.git("rev-parse", "--absolute-git-dir").strip()) / "phase2"
    deadline = time.monotonic() + timeout
    while (git_dir / "merge-decisions.jsonl").exists() or (
        git_dir / "merge-decisions.moving.jsonl"
    ).exists():
        assert time.monotonic() < deadline, "the finisher never moved the journal"
        time.sleep(0.05)


def merge_log(repo: TestRepo) -> list[dict[str, Any]]:
    moved(repo)
    path = repo.root / ".phase2" / "decisions.jsonl"
    if not path.exists():
        return []
    return [e for e in map(json.loads, path.read_text().splitlines()) if e["decision"] == "merge"]


def blob(repo: TestRepo, spec: str) -> str:
    return repo.git("rev-parse", spec).strip()


def git(repo: TestRepo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo.root, capture_output=True, text=True)


# ------------------------------------------------------------------------------ init


def test_init_registers_the_driver_once(repo: TestRepo, cli: Cli) -> None:
    repo.write(".gitattributes", "*.png binary")  # the user's own, without a final newline
    code, out, _ = cli("init", "--merge-driver", repo=repo)
    assert code == 0
    assert "set merge.phase2.driver in .git/config" in out
    assert "wrote .gitattributes: *.json merge=phase2" in out
    assert "merge-driver %O %A %B %P" in repo.git("config", "--local", "merge.phase2.driver")
    assert repo.git("config", "--local", "merge.phase2.name").strip()
    first = repo.read(".gitattributes")
    assert first.startswith(b"*.png binary\n*.json merge=phase2\n")
    code, out, _ = cli("init", "--merge-driver", repo=repo)
    assert code == 0 and "kept .gitattributes: *.json merge=phase2" in out
    assert "kept merge.phase2.driver" in out and "set merge" not in out
    assert repo.read(".gitattributes") == first  # nothing duplicated
    # the driver git sees for a JSON artifact
    assert repo.git("check-attr", "merge", "--", "x/y.json").strip() == "x/y.json: merge: phase2"


def test_init_writes_the_configured_globs(repo: TestRepo, cli: Cli) -> None:
    repo.write(
        ".phase2/config.toml",
        '[artifacts]\ninclude = ["snapshots/", "golden/*.txt", "!golden/keep.txt"]\n',
    )
    code, _, err = cli("init", "--merge-driver", repo=repo)
    assert code == 0, err
    assert repo.read(".gitattributes") == (
        b"snapshots/** merge=phase2\ngolden/*.txt merge=phase2\n"
    )


# ------------------------------------------------------------------------------ git merge


def test_noise_on_one_side_and_a_real_edit_on_the_other_merge_in_the_base_style(
    repo: TestRepo, cli: Cli, on_path: Path
) -> None:
    base = setup(repo, cli)
    edited = BASE.replace(b"0.81", b"0.84")
    branch(repo, "regen", base, "snap/model.json", NOISY)
    branch(repo, "fix", base, "snap/model.json", edited)
    for ours, theirs in (("fix", "regen"), ("regen", "fix")):  # either way round
        repo.git("checkout", "-q", "-B", f"m-{ours}", ours)
        proc = git(repo, "merge", "--no-edit", theirs)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert repo.read("snap/model.json") == edited  # the edit, in the base's bytes
        assert git(repo, "status", "--porcelain", "--untracked-files=no").stdout == ""
    events = merge_log(repo)
    assert len(events) == 2
    e = events[0]
    assert e["action"] == "merge" and e["path"] == "snap/model.json"
    assert e["merge"] == {
        "base": blob(repo, f"{base}:snap/model.json"),
        "ours": blob(repo, "fix:snap/model.json"),
        "theirs": blob(repo, "regen:snap/model.json"),
        "resolution": "ours",
    }
    assert e["result"] == blob(repo, "m-fix:snap/model.json") == e["hashes"]["after"]
    assert events[1]["merge"]["resolution"] == "theirs"
    code, out, _ = cli("log", "--decision", "merge", "--format", "json", repo=repo)
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == [x["id"] for x in events]


def test_a_string_that_became_a_number_survives_the_other_sides_noise(
    repo: TestRepo, cli: Cli, on_path: Path
) -> None:
    """``"3"`` → ``3`` is a real edit, even though the text of the value stays: merged with a
    re-serialization on the other side, it is kept (it was taken for the base's own value,
    and the merge wrote the string back)."""
    quoted = BASE.replace(b'"size": 3', b'"size": "3"')
    base = setup(repo, cli, {"snap/model.json": quoted})
    branch(repo, "regen", base, "snap/model.json", NOISY.replace(b'"size": 3', b'"size": "3"'))
    branch(repo, "typed", base, "snap/model.json", BASE)
    for ours, theirs in (("typed", "regen"), ("regen", "typed")):
        repo.git("checkout", "-q", "-B", f"m-{ours}", ours)
        proc = git(repo, "merge", "--no-edit", theirs)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert repo.read("snap/model.json") == BASE  # the number, in the base's bytes


def test_a_merge_that_also_brings_log_lines_keeps_its_own(
    repo: TestRepo, cli: Cli, on_path: Path
) -> None:
    """Git writes the work tree after the driver ran, from the index it read before: a line
    the driver put in .phase2/decisions.jsonl itself would be overwritten, without a word,
    by the other side's log. The journal and the finisher keep it."""
    base = setup(repo, cli)
    branch(repo, "regen", base, "snap/model.json", NOISY)
    branch(repo, "a", base, "snap/model.json", BASE.replace(b"0.81", b"0.84"))
    assert git(repo, "merge", "--no-edit", "regen").returncode == 0
    (first,) = merge_log(repo)
    repo.commit("log the merge")  # branch a now carries a log line
    branch(repo, "c", base, "snap/model.json", BASE.replace(b'"size": 3', b'"size": 4'))
    proc = git(repo, "merge", "--no-edit", "a")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert repo.read("snap/model.json") == BASE.replace(b"0.81", b"0.84").replace(
        b'"size": 3', b'"size": 4'
    )
    events = merge_log(repo)
    assert [e["id"] for e in events][:1] == [first["id"]]  # a's line, from the merge
    assert [e["merge"]["resolution"] for e in events] == ["ours", "structural"]


def test_real_edits_at_different_keys_merge(repo: TestRepo, cli: Cli, on_path: Path) -> None:
    base = setup(repo, cli)
    ours = b'{\n    "name": "model",\n    "score": 0.9,\n    "tags": ["a", "b"],\n    "size": 3\n}'
    theirs = b'{"name": "model", "score": 0.81, "tags": ["a", "b", "c"], "size": 3, "new": 1}'
    branch(repo, "theirs", base, "snap/model.json", theirs)
    branch(repo, "ours", base, "snap/model.json", ours)
    proc = git(repo, "merge", "--no-edit", "theirs")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert repo.read("snap/model.json") == (
        b'{\n  "name": "model",\n  "score": 0.9,\n  "tags": ["a", "b", "c"],\n  "size": 3,\n'
        b'  "new": 1\n}\n'
    )
    (event,) = merge_log(repo)
    assert event["merge"]["resolution"] == "structural"


def test_the_same_key_changed_on_both_sides_conflicts_and_names_it(
    repo: TestRepo, cli: Cli, on_path: Path
) -> None:
    base = setup(repo, cli)
    branch(repo, "theirs", base, "snap/model.json", NOISY.replace(b"0.81", b"0.70"))
    branch(repo, "ours", base, "snap/model.json", BASE.replace(b"0.81", b"0.90"))
    proc = git(repo, "merge", "--no-edit", "theirs")
    assert proc.returncode == 1
    assert "phase2 merge-driver: snap/model.json: both sides changed $.score" in proc.stderr
    assert "CONFLICT (content)" in proc.stdout
    assert git(repo, "status", "--porcelain").stdout.startswith("UU snap/model.json")
    # the markers surround the one real conflict; theirs' noise is set aside
    assert repo.read("snap/model.json") == (
        b'{\n  "name": "model",\n<<<<<<< ours\n  "score": 0.90,\n=======\n  "score": 0.70,\n'
        b'>>>>>>> theirs\n  "tags": ["a", "b"],\n  "size": 3\n}\n'
    )
    assert merge_log(repo) == []  # a conflict is no decision
    git(repo, "merge", "--abort")
    assert repo.read("snap/model.json") == BASE.replace(b"0.81", b"0.90")


def test_a_malformed_side_is_left_to_git_with_one_line(
    repo: TestRepo, cli: Cli, on_path: Path
) -> None:
    base = setup(repo, cli)
    branch(repo, "theirs", base, "snap/model.json", BASE.replace(b'"size": 3', b'"size": 4,'))
    branch(repo, "ours", base, "snap/model.json", BASE.replace(b"0.81", b"0.84"))
    proc = git(repo, "merge", "--no-edit", "theirs")
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("phase2")]
    assert lines == [
        "phase2 merge-driver: snap/model.json: theirs is not valid JSON (Expecting property "
        "name enclosed in double quotes at line 6 column 1): git's text merge merged it"
    ]
    assert "Traceback" not in proc.stderr
    # exactly what git merges without the driver: its line merge of the two edits
    assert proc.returncode == 0
    assert repo.read("snap/model.json") == BASE.replace(b"0.81", b"0.84").replace(
        b'"size": 3', b'"size": 4,'
    )
    assert merge_log(repo) == []


def test_text_artifacts_set_line_endings_aside_but_not_yaml_indentation(
    repo: TestRepo, cli: Cli, on_path: Path
) -> None:
    repo.write(".phase2/config.toml", '[artifacts]\ninclude = ["*.txt", "*.yaml"]\n')
    text = b"one\ntwo\nthree\nfour\n"
    yaml = b"a:\n  b: 1\nc: 2\n"
    base = setup(repo, cli, {"out.txt": text, "conf.yaml": yaml})
    repo.git("checkout", "-q", "-b", "theirs", base)
    # plain text: CRLF and trailing blanks are noise
    repo.write("out.txt", b"one  \r\ntwo\r\nthree\r\nFOUR\r\n")
    repo.write("conf.yaml", b"  a:\r\n    b: 1\r\n  c: 2\r\n")  # re-indented: real in YAML
    repo.commit("theirs")
    repo.git("checkout", "-q", "-b", "ours", base)
    repo.write("out.txt", text.replace(b"one", b"ONE"))
    repo.write("conf.yaml", b"a:\n  b: 1\nc: 3\n")
    repo.commit("ours")
    proc = git(repo, "merge", "--no-edit", "theirs")
    assert repo.read("out.txt") == b"ONE\ntwo\nthree\nFOUR\n"
    # YAML's indentation is content: every line changed on theirs, so a conflict; its line
    # endings are still noise, so the markers are drawn in LF
    assert proc.returncode == 1
    assert "phase2 merge-driver: conf.yaml: both sides changed lines 1-3" in proc.stderr
    assert repo.read("conf.yaml") == (
        b"<<<<<<< ours\na:\n  b: 1\nc: 3\n=======\n  a:\n    b: 1\n  c: 2\n>>>>>>> theirs\n"
    )
    assert {e["path"]: e["merge"]["resolution"] for e in merge_log(repo)} == {"out.txt": "lines"}


# ------------------------------------------------------------------------------ other commands


def test_rebase_and_cherry_pick_use_the_driver(repo: TestRepo, cli: Cli, on_path: Path) -> None:
    base = setup(repo, cli)
    edited = BASE.replace(b'"size": 3', b'"size": 5')
    branch(repo, "regen", base, "snap/model.json", NOISY)
    fix = branch(repo, "fix", base, "snap/model.json", edited)
    proc = git(repo, "rebase", "regen")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert repo.read("snap/model.json") == edited
    assert blob(repo, "HEAD~1") == blob(repo, "regen")  # a rebase, not a merge
    repo.git("checkout", "-q", "-b", "picked", "regen")
    proc = git(repo, "cherry-pick", fix)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert repo.read("snap/model.json") == edited
    assert [e["merge"]["resolution"] for e in merge_log(repo)] == ["theirs", "theirs"]


def test_a_rebase_stopped_by_a_conflict_logs_the_merge_when_it_ends(
    repo: TestRepo, cli: Cli, on_path: Path
) -> None:
    base = setup(repo, cli, {"snap/model.json": BASE, "snap/other.json": b'{"x": 1}\n'})
    repo.git("checkout", "-q", "-b", "upstream", base)
    repo.write("snap/model.json", NOISY)
    repo.write("snap/other.json", b'{"x": 2}\n')
    repo.commit("regenerated")
    branch(repo, "feature", base, "snap/model.json", BASE.replace(b"0.81", b"0.84"))
    repo.write("snap/other.json", b'{"x": 3}\n')
    repo.commit("x")
    proc = git(repo, "rebase", "upstream")
    assert proc.returncode == 1 and "both sides changed $.x" in proc.stderr
    # stopped: the first pick's line waits in the journal, the log is not touched mid-rebase
    journal = Path(repo.git("rev-parse", "--absolute-git-dir").strip()) / "phase2"
    assert (journal / "merge-decisions.jsonl").exists()
    assert not (repo.root / ".phase2" / "decisions.jsonl").exists()
    repo.write("snap/other.json", b'{"x": 3}\n')
    repo.git("add", "snap/other.json")
    proc = subprocess.run(
        ["git", "rebase", "--continue"],
        cwd=repo.root,
        env={**os.environ, "GIT_EDITOR": "true"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (event,) = merge_log(repo)
    assert event["merge"]["resolution"] == "theirs"
    assert event["result"] == blob(repo, "HEAD~1:snap/model.json")


def test_pull_uses_the_driver_of_the_clone(
    make_repo: Any, cli: Cli, on_path: Path, tmp_path: Path
) -> None:
    origin = make_repo(name="origin")
    base = setup(origin, cli)
    clone = TestRepo(tmp_path / "clone")
    subprocess.run(["git", "clone", "-q", str(origin.root), str(clone.root)], check=True)
    origin.write("snap/model.json", NOISY)
    origin.commit("regenerated")
    clone.write("snap/model.json", BASE.replace(b"model", b"model-2"))
    clone.commit("renamed")
    # a fresh clone has the attributes but not the driver: git's own merge conflicts
    proc = git(clone, "pull", "--no-rebase", "--no-edit", "origin", "main")
    assert proc.returncode == 1 and "CONFLICT (content)" in proc.stdout
    assert b"<<<<<<<" in clone.read("snap/model.json")
    git(clone, "merge", "--abort")
    code, _, err = cli("init", "--merge-driver", repo=clone)
    assert code == 0, err
    proc = git(clone, "pull", "--no-rebase", "--no-edit", "origin", "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert clone.read("snap/model.json") == BASE.replace(b"model", b"model-2")
    assert base != clone.head()


def test_a_machine_without_phase2_gets_gits_own_merge(repo: TestRepo, cli: Cli) -> None:
    """The driver is registered but phase2 is not on PATH (a GUI client, a removed venv):
    the registered command falls back to git's text merge, with its markers."""
    base = setup(repo, cli)
    branch(repo, "theirs", base, "snap/model.json", NOISY)
    branch(repo, "ours", base, "snap/model.json", BASE.replace(b"0.81", b"0.84"))
    env = {**os.environ, "PATH": os.pathsep.join(_git_only_path(repo))}
    proc = subprocess.run(
        ["git", "merge", "--no-edit", "theirs"], cwd=repo.root, env=env, capture_output=True
    )
    assert proc.returncode == 1, proc
    data = repo.read("snap/model.json")
    assert data.startswith(b"<<<<<<< ours\n") and b">>>>>>> theirs\n" in data
    assert merge_log(repo) == []


def _git_only_path(repo: TestRepo) -> list[str]:
    """PATH entries that give git and sh but no phase2."""
    dirs = []
    for d in os.environ["PATH"].split(os.pathsep):
        if d and not (Path(d) / "phase2").exists():
            dirs.append(d)
    return dirs


# ------------------------------------------------------------------------------ trust


def test_a_merge_decision_is_never_an_approval(repo: TestRepo, cli: Cli, on_path: Path) -> None:
    base = setup(repo, cli)
    branch(repo, "regen", base, "snap/model.json", NOISY)
    branch(repo, "fix", base, "snap/model.json", BASE.replace(b"0.81", b"0.84"))
    assert git(repo, "merge", "--no-edit", "regen").returncode == 0
    repo.commit("log the merge")
    (event,) = merge_log(repo)
    # the merge line names exactly the mismatch base → merged result: it still needs a human
    code, out, _ = cli("diff", base, "HEAD", "--format", "json", repo=repo)
    assert code == 1
    report = json.loads(out)
    (m,) = [m for m in report["mismatches"] if m["path"] == "snap/model.json"]
    assert m["id"] == event["mismatch_id"]
    assert m.get("decision") is None
    code, out, _ = cli("verify", repo=repo)
    assert code == 0, out


# ------------------------------------------------------------------------------ start-up


def test_the_driver_takes_the_lean_path(tmp_path: Path, repo: TestRepo) -> None:
    for name, data in (("O", b'{"a": 1}'), ("A", b'{"a": 2}'), ("B", b'{"a": 1, "b": 2}')):
        (repo.root / name).write_bytes(data)
    code = (
        "import sys\n"
        "from phase2_git.entry import main\n"
        "rc = main(['merge-driver', 'O', 'A', 'B', 'x.json', '7'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('typer', 'click', 'rich', 'pydantic'))\n"
        "print(rc, heavy)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=repo.root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout.strip() == "0 []", proc.stderr
    assert (repo.root / "A").read_bytes() == b'{"a": 2, "b": 2}'
    assert [e["merge"]["resolution"] for e in merge_log(repo)] == ["structural"]


def test_bad_arguments_are_one_line(cli: Cli, repo: TestRepo) -> None:
    code, _, err = cli("merge-driver", "only-one", repo=None)
    assert code == 2
    assert err.strip().startswith("phase2: error: expects 4 or 5 arguments")
    assert len(err.strip().splitlines()) == 1


def test_hostile_keys_are_escaped_in_the_message(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "k\x1b]0;owned\x07\nx"
    for name, value in (("O", 1), ("A", 2), ("B", 3)):
        (repo.root / name).write_text(json.dumps({key: value}))
    monkeypatch.chdir(repo.root)
    code, out, err = cli("merge-driver", "O", "A", "B", "a.json", "7")
    assert code == 1 and out == ""
    (line,) = err.splitlines()
    assert line.startswith("phase2 merge-driver: a.json: both sides changed $[")
    assert "\x1b" not in line and "\x07" not in line
    assert (repo.root / "A").read_text().startswith("<<<<<<< ours\n")


def test_the_kill_switch_and_paths_outside_the_artifacts_get_gits_merge(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write(".phase2/config.toml", '[artifacts]\nexclude = ["vendor/"]\n')
    monkeypatch.chdir(repo.root)

    def drive(path: str) -> tuple[int, str, bytes]:
        (repo.root / "O").write_bytes(BASE)
        (repo.root / "A").write_bytes(NOISY)
        (repo.root / "B").write_bytes(BASE.replace(b"0.81", b"0.84"))
        code, _, err = cli("merge-driver", "O", "A", "B", path)
        return code, err, (repo.root / "A").read_bytes()

    code, err, data = drive("vendor/x.json")
    assert code == 1 and err == ""  # not an artifact: git's own merge, said by git
    assert data.startswith(b"<<<<<<< ours\n{\r\n")  # the raw sides, noise and all
    monkeypatch.setenv("PHASE2_DISABLE_AUTORESOLVE", "1")
    code, err, data = drive("snap/x.json")
    assert code == 1 and data.startswith(b"<<<<<<< ours\n{\r\n")
    assert err.startswith("phase2 merge-driver: snap/x.json: PHASE2_DISABLE_AUTORESOLVE is set")
    monkeypatch.delenv("PHASE2_DISABLE_AUTORESOLVE")
    code, err, data = drive("snap/x.json")
    assert (code, err, data) == (0, "", BASE.replace(b"0.81", b"0.84"))
    assert [e["path"] for e in merge_log(repo)] == ["snap/x.json"]
