"""Hostile artifacts: every command and report writer over the corpus of
``tests/data/hostile/make_corpus.py``.

Each case must end in the right classification (or exit 2 with one line): never a traceback, a
hang (every process runs with a timeout and a 1.5 GiB address-space limit), a partial report,
or artifact content echoed raw to the terminal, a report file or an annotation.

One repository holds every small case (base on ``main``, head on ``feat``), built once per
module; the 50 MB document has a repository of its own.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.data.hostile import make_corpus as corpus
from tests.hostile_support import (
    ROOT,
    Result,
    assert_no_crash,
    assert_safe,
    git,
    hermetic_env,
    record,
    run_phase2,
)

SCHEMA = json.loads((ROOT / "schemas" / "Phase2Diff.v1.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)
NOISE = {"bom", "line_endings", "trailing_newline", "whitespace", "json_ordering"}
# the JSON cases the hook must reject on the head side (invalid, or duplicate keys) because
# they were valid JSON before: a regression
MALFORMED = {
    "deep/array.json",
    "num/nan.json",
    "enc/bad.json",
    "enc/utf16.json",  # RFC 8259: JSON exchanged between systems is UTF-8
    "esc/raw.json",
}
# invalid on both sides: no regression, so not a malformed finding (their noise still is one)
NEVER_VALID = {
    "deep/both.json",
    "deep/object.json",
    "dup/swapped.json",
    "dup/reformatted.json",
    "num/infinity.json",
}


class Corpus:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env

    def phase2(self, *args: str, cwd: Path | None = None, **kw: object) -> Result:
        return run_phase2(args, cwd=cwd or self.root, env=kw.pop("env", self.env), **kw)  # type: ignore[arg-type]

    def git(self, *args: str, cwd: Path | None = None) -> str:
        return git(cwd or self.root, *args, env=self.env)

    def copy(self, dest: Path) -> Path:
        shutil.copytree(self.root, dest, symlinks=True)
        return dest


def _add_gitlinks(root: Path, env: dict[str, str], cases: list[corpus.Case], side: str) -> None:
    for case in cases:
        content = case.base if side == "base" else case.head
        assert isinstance(content, corpus.Gitlink)
        (root / case.path).mkdir(parents=True, exist_ok=True)  # as an uninitialised clone has
        git(
            root,
            "update-index",
            "--add",
            "--cacheinfo",
            f"160000,{content.commit},{case.path}",
            env=env,
        )


def build_corpus_repo(root: Path, env: dict[str, str]) -> None:
    """``main`` holds every case's base side, ``feat`` (checked out) its head side."""
    root.mkdir()
    git(root, "init", "-q", env=env)
    links = corpus.materialize(root, "base")
    git(root, "add", "-A", env=env)
    _add_gitlinks(root, env, links, "base")
    git(root, "commit", "-q", "-m", "base", env=env)
    git(root, "checkout", "-q", "-b", "feat", env=env)
    git(root, "rm", "-r", "-q", "--cached", ".", env=env)
    for child in root.iterdir():
        if child.name != ".git":
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    links = corpus.materialize(root, "head")
    git(root, "add", "-A", env=env)
    _add_gitlinks(root, env, links, "head")
    git(root, "commit", "-q", "-m", "head", env=env)
    assert git(root, "status", "--porcelain", env=env) == ""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    base = tmp_path_factory.mktemp("hostile")
    env = hermetic_env(base / "home")
    build_corpus_repo(base / "repo", env)
    return Corpus(base / "repo", env)


@pytest.fixture
def work(hostile: Corpus, tmp_path: Path) -> Iterator[Corpus]:
    """A private copy of the corpus repository for a test that writes."""
    yield Corpus(hostile.copy(tmp_path / "repo"), hostile.env)


def by_path(doc: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {
        m["path"]: (m["status"], m["artifact_type"], m["mismatch_type"]) for m in doc["mismatches"]
    }


def check_classification(doc: dict[str, Any], label: str) -> None:
    """Every case classified as expected; each case is one entry of the reliability ledger."""
    errors = list(VALIDATOR.iter_errors(doc))
    assert not errors, errors[0]
    got = by_path(doc)
    wrong = []
    for case in corpus.CASES:
        ok = got.get(case.path) == case.expect
        record("hostile", f"{label}:{case.name}", ok)
        if not ok:
            wrong.append((case.name, case.expect, got.get(case.path)))
    assert not wrong, wrong
    assert len(got) == len(corpus.CASES), sorted(set(got) - set(corpus.BY_PATH))


# ---------------------------------------------------------------------------------- diff


@pytest.mark.slow
def test_diff_json_classifies_every_case(hostile: Corpus) -> None:
    res = hostile.phase2("diff", "main", "feat", "--format", "json")
    assert_no_crash(res, (1,))
    doc = json.loads(res.out)
    check_classification(doc, "diff-json")
    # deterministic, and a second run does not read anything new (ids bound to content)
    again = hostile.phase2("diff", "main", "feat", "--format", "json")
    assert again.out == res.out
    # the diff of a 100,000-deep document says why it is a finding, in a bounded line
    deep = next(m for m in doc["mismatches"] if m["path"] == "deep/array.json")
    assert "nested too deeply" in deep["detail"]


def test_diff_worktree_side_classifies_every_case(hostile: Corpus) -> None:
    res = hostile.phase2("diff", "main", "--format", "json")  # main vs :worktree
    assert_no_crash(res, (1,))
    check_classification(json.loads(res.out), "diff-worktree")


@pytest.mark.slow
def test_text_markdown_and_every_report_writer(hostile: Corpus, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    step, gh_out = out / "step.md", out / "github_output"
    env = dict(hostile.env, GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(step))
    env.update(GITHUB_OUTPUT=str(gh_out), GITHUB_REPOSITORY="o/r", GITHUB_SERVER_URL="https://x")
    reports: tuple[str, ...] = ("--junit", str(out / "j.xml"), "--prom", str(out / "m.prom"))
    reports += ("--summary", str(out / "s.md"))
    for fmt in ("text", "markdown", "json"):
        res = hostile.phase2("diff", "main", "feat", "--format", fmt, *reports, env=env)
        assert_no_crash(res, (1,))
        record("hostile", f"report-{fmt}", True)
        # annotations (stderr) name real changes without echoing content
        assert res.err.count(b"::error ") == 10, res.err
    for f in sorted(out.iterdir()):
        assert_safe(f.read_bytes(), f.name)
        record("hostile", f"report-file:{f.name}", True)
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "temp files left behind"
    tree = ET.parse(out / "j.xml")
    cases = tree.getroot().iter("testcase")
    assert sum(1 for _ in cases) == len(corpus.CASES)
    import xmlschema

    xmlschema.XMLSchema(str(ROOT / "tests" / "data" / "junit.xsd")).validate(str(out / "j.xml"))
    promtool = shutil.which("promtool")
    if promtool:
        proc = subprocess.run(
            [promtool, "check", "metrics"],
            input=(out / "m.prom").read_bytes(),
            capture_output=True,
            check=False,
        )
        assert proc.returncode == 0 and not proc.stdout + proc.stderr, proc.stdout + proc.stderr
    # the escapes in content and names are shown escaped, never stripped from names
    junit = (out / "j.xml").read_text()
    assert "\\x1b]52;c;" in junit and "names/new\\x0aline.json" in junit


@pytest.mark.slow
def test_shards_merge_to_the_unsharded_report(hostile: Corpus, tmp_path: Path) -> None:
    whole = json.loads(hostile.phase2("diff", "main", "feat", "--format", "json").out)
    parts = []
    for k in (1, 2, 3):
        res = hostile.phase2("diff", "main", "feat", "--format", "json", "--shard", f"{k}/3")
        assert_no_crash(res, (0, 1))
        part = tmp_path / f"shard{k}.json"
        part.write_bytes(res.out)
        parts.append(str(part))
    j, p, s = tmp_path / "j.xml", tmp_path / "m.prom", tmp_path / "s.md"
    args = ("--junit", str(j), "--prom", str(p), "--summary", str(s))
    for fmt in ("json", "text", "markdown"):
        res = hostile.phase2("report", "merge", *parts, "--format", fmt, *args)
        assert_no_crash(res, (1,))
        if fmt == "json":
            merged = json.loads(res.out)
            assert merged["mismatches"] == whole["mismatches"]
            assert merged["summary"] == whole["summary"]
        for f in (j, p, s):
            assert_safe(f.read_bytes(), f"merge {fmt} {f.name}")
        record("hostile", f"report-merge-{fmt}", True)


# ---------------------------------------------------------------------------------- check


@pytest.mark.slow
def test_check_and_fix_over_staged_hostile_content(work: Corpus) -> None:
    # HEAD = main, index and worktree = feat: what a pre-commit hook sees
    work.git("reset", "-q", "--soft", "main")
    res = work.phase2("check")
    assert_no_crash(res, (1,))
    text = res.out.decode("utf-8")
    for path in MALFORMED:
        ok = f"{path}: invalid JSON" in text
        record("hostile", f"check-malformed:{path}", ok)
        assert ok, (path, text)
    for path in NEVER_VALID:
        assert f"{path}: invalid JSON" not in text, (path, text)
    noisy = [c for c in corpus.CASES if c.expect[2] in NOISE and c.path not in MALFORMED]
    human = [c for c in corpus.CASES if c.expect[2] == "numeric_precision"]
    # names with control characters show escaped: one finding per line, whatever the name;
    # past SHOWN findings the rest are counted on the summary line (malformed ones first)
    from phase2_git.app.precommit import SHOWN

    total = len(MALFORMED) + len(noisy) + len(human)
    assert len(text.splitlines()) == min(total, SHOWN) + 1, text
    assert total <= SHOWN or f"{SHOWN} of {total} shown" in text.splitlines()[-1], text

    fixed = work.phase2("check", "--fix")
    assert_no_crash(fixed, (1,))
    for case in noisy:
        assert isinstance(case.base, bytes)
        ok = (work.root / case.path).read_bytes() == case.base
        record("hostile", f"check-fix:{case.name}", ok)
        assert ok, case.name
    # links and real changes are never touched
    assert (work.root / "links/passwd").readlink() == Path("/etc/passwd")
    assert (work.root / "links/config.json").is_symlink()
    # fixed files are left for the user to stage (formatter semantics): stage, check again
    work.git("add", "-A")
    again = work.phase2("check")
    assert_no_crash(again, (1,))
    assert again.out.count(b"noise only") == len(human), again.out


def test_check_given_hostile_file_names(work: Corpus) -> None:
    work.git("reset", "-q", "--soft", "main")
    names = ["-rf.json", "--help.json", "names/:(glob)*.json", "names/new\nline.json"]
    res = work.phase2("check", "--", *names)
    assert_no_crash(res, (1,))
    assert res.out.count(b"json_ordering") == len(names), res.out
    outside = work.phase2("check", "--", "../../etc/passwd", "/etc/passwd")
    assert_no_crash(outside, (2,))
    assert b"not inside the repository" in outside.err
    record("hostile", "check-file-names", True)


# ---------------------------------------------------------------------------------- resolve


@pytest.mark.slow
def test_resolve_yes_applies_only_safe_noise(work: Corpus) -> None:
    before_passwd = Path("/etc/passwd").read_bytes()
    res = work.phase2("resolve", "main", "--yes")
    assert_no_crash(res, (1,))  # the corpus's real changes are left to a human: --fail-on real
    assert work.git("fsck", "--no-progress", "--no-dangling").strip() == ""
    assert work.git("status", "--porcelain") == ""
    assert_safe(work.git("log", "-1", "--format=%B").encode("utf-8", "surrogateescape"), "commit")
    doc = json.loads(work.phase2("diff", "main", "HEAD", "--format", "json").out)
    left = by_path(doc)
    for case in corpus.CASES:
        if case.expect[2] in NOISE:
            ok = case.path not in left  # restored to the base bytes: no longer a mismatch
        else:
            ok = left.get(case.path) == case.expect
        record("hostile", f"resolve-yes:{case.name}", ok)
        assert ok, (case.name, left.get(case.path))
    assert (work.root / "links/passwd").readlink() == Path("/etc/passwd")
    assert Path("/etc/passwd").read_bytes() == before_passwd
    # resumable and idempotent: a rerun has nothing to do
    again = work.phase2("resolve", "main", "--yes")
    assert_no_crash(again, (1,))
    assert b"nothing to do" in again.out
    for args in (("log",), ("log", "--format", "json"), ("verify",)):
        assert_no_crash(work.phase2(*args), (0,))
        record("hostile", f"{args[0]}-after-resolve", True)


# ---------------------------------------------------------------------------------- labels


def _label_line(case: corpus.Case) -> dict[str, object] | None:
    if not isinstance(case.base, bytes) or not isinstance(case.head, bytes):
        return None
    line: dict[str, object] = {
        "id": case.name,
        "path": case.path,
        "artifact_type": case.expect[1],
        "mismatch_type": case.expect[2],
        "label": "equivalent" if case.expect[2] in NOISE else "different",
    }
    for key, data in (("before", case.base), ("after", case.head)):
        try:
            line[key] = data.decode("utf-8")
        except UnicodeDecodeError:
            line[f"{key}_base64"] = base64.b64encode(data).decode()
    return line


@pytest.mark.slow
def test_judge_eval_on_labels_built_from_hostile_content(work: Corpus, tmp_path: Path) -> None:
    lines = [x for x in (_label_line(c) for c in corpus.CASES) if x is not None]
    dataset = tmp_path / "labels.jsonl"
    dataset.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    for fmt in ("text", "json"):
        res = work.phase2(
            "judge",
            "eval",
            "-d",
            str(dataset),
            "--format",
            fmt,
            "--bootstrap",
            "50",
            "--prom",
            str(tmp_path / "j.prom"),
        )
        assert_no_crash(res, (0,))
        assert_safe((tmp_path / "j.prom").read_bytes(), "judge prom")
        record("hostile", f"judge-eval-{fmt}", True)
    # the same content as the repository's own dataset, through labels export
    assert_no_crash(work.phase2("resolve", "main", "--yes"), (1,))  # real changes are left
    exported = work.phase2("labels", "export")
    assert_no_crash(exported, (0,))
    res = work.phase2("judge", "eval", "--bootstrap", "50")
    assert_no_crash(res, (0,))
    record("hostile", "judge-eval-exported", True)


# ---------------------------------------------------------------------------------- 50 MB


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    base = tmp_path_factory.mktemp("big")
    env = hermetic_env(base / "home")
    root = base / "repo"
    root.mkdir()
    git(root, "init", "-q", env=env)
    (root / "big.json").write_bytes(corpus.big_json(order="ab"))
    line = ("x" + corpus.OSC52 + corpus.CSI2J) * (corpus.BIG_BYTES // 40)
    (root / "big.txt").write_bytes(line.encode())
    git(root, "add", "-A", env=env)
    git(root, "commit", "-q", "-m", "base", env=env)
    git(root, "checkout", "-q", "-b", "feat", env=env)
    (root / "big.json").write_bytes(corpus.big_json(order="ba"))
    (root / "big.txt").write_bytes(line.encode() + b"\x1b]8;;https://evil\x07")
    git(root, "commit", "-q", "-am", "head", env=env)
    return Corpus(root, env)


@pytest.mark.slow
@pytest.mark.parametrize("limit", ["default", "raised"])
def test_50mb_single_line_json(big: Corpus, tmp_path: Path, limit: str) -> None:
    """Over ``max_file_size`` (20 MB) the documents are compared by hash; with the limit raised
    to 64 MB they are parsed, found reordered, and the reorder is undone."""
    env = dict(big.env)
    args: tuple[str, ...] = ()
    if limit == "raised":
        cfg = tmp_path / "cfg.toml"
        cfg.write_text("[artifacts]\nmax_file_size = 67108864\n")
        args = ("--config", str(cfg))
    reports = (
        "--junit",
        str(tmp_path / "j.xml"),
        "--summary",
        str(tmp_path / "s.md"),
        "--prom",
        str(tmp_path / "m.prom"),
    )
    res = big.phase2("diff", "main", "feat", "--format", "json", *args, *reports, env=env)
    assert_no_crash(res, (1,))
    got = by_path(json.loads(res.out))
    want_json = "json_ordering" if limit == "raised" else "content"
    assert got == {
        "big.json": ("modified", "json", want_json),
        "big.txt": ("modified", "text", "content"),
    }
    for name in ("j.xml", "s.md", "m.prom"):
        data = (tmp_path / name).read_bytes()
        assert_safe(data, name)
        assert len(data) < 200_000, (name, len(data))  # excerpts are bounded
    text = big.phase2("diff", "main", "feat", *args)
    assert_no_crash(text, (1,))
    work = Corpus(big.copy(tmp_path / "repo"), env)
    work.git("reset", "-q", "--soft", "main")
    # a real change passes check; the reordered document is noise once it can be parsed
    assert_no_crash(work.phase2("check", *args), (1,) if limit == "raised" else (0,))
    work.git("reset", "-q", "--hard", "feat")
    res = work.phase2("resolve", "main", "--yes", *args)
    assert_no_crash(res, (0,))
    if limit == "raised":
        assert (work.root / "big.json").read_bytes() == corpus.big_json(order="ab")
    assert work.git("fsck", "--no-progress", "--no-dangling").strip() == ""
    record("hostile", f"50mb-{limit}", True)
