"""JUnit XML (``--junit``), read back by the tools that consume it: an XSD of the consumers'
format (tests/data/junit.xsd) and junitparser. Also the issue's end-to-end "Done when": one
``phase2 diff main HEAD --junit --prom --summary`` run whose three files agree with the JSON."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import junit_xml
import pytest
import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st
from junitparser import Failure, JUnitXml, Skipped
from markdown_it import MarkdownIt
from prometheus_client.parser import text_string_to_metric_families

from phase2_git.core.sanitize import sanitize_path, xml_safe
from phase2_git.reports import junit
from tests.conftest import Cli, TestRepo, require_tool
from tests.strategies import hostile_text

XSD = xmlschema.XMLSchema(str(Path(__file__).parent / "data" / "junit.xsd"))

BASE_FILES: dict[str, bytes] = {
    "data/reorder.json": b'{"a": 1, "b": 2}\n',
    "data/crlf.txt": b"one\ntwo\n",
    "data/real.json": b'{"accuracy": 0.81}\n',
    "root.json": b"[1, 2]\n",
    "gone.txt": b"bye\n",
    'data/evil\x1b[31m<&>".txt': b"line\n",
    "deep/er/x.txt": b"same\n",
}
HEAD_FILES: dict[str, bytes] = {
    "data/reorder.json": b'{"b": 2, "a": 1}\n',
    "data/crlf.txt": b"one\r\ntwo\r\n",
    "data/real.json": b'{"accuracy": 0.79}\n',
    "root.json": b"[1, 2, 3]\n",
    "new.txt": b"hello\n",
    # illegal XML characters, terminal escapes, an OSC 8 hyperlink, a noncharacter
    'data/evil\x1b[31m<&>".txt': (
        "a\x01b\x0bc\x1b]8;;http://x\x07link\x1b]8;;\x07 \ufffe ]]> </failure>\n".encode()
    ),
    "deep/er/x.txt": b"changed\n",
}


def build_ci_repo(repo: TestRepo) -> TestRepo:
    """``main`` holds the base files; ``feature`` (checked out) the head files, committed."""
    for path, data in BASE_FILES.items():
        repo.write(path, data)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    (repo.root / "gone.txt").unlink()
    for path, data in HEAD_FILES.items():
        repo.write(path, data)
    repo.commit("head")
    return repo


@pytest.fixture
def ci_repo(repo: TestRepo) -> TestRepo:
    return build_ci_repo(repo)


def validate_junit(path: Path) -> JUnitXml:
    """Schema-valid, and readable by junitparser; returns the parsed document."""
    XSD.validate(str(path))
    xml = JUnitXml.fromfile(str(path))
    assert isinstance(xml, JUnitXml)
    return xml


def cases(xml: JUnitXml) -> dict[str, Any]:
    suites = list(xml)
    assert len(suites) == 1, "one test suite per run"
    return {c.name: c for c in suites[0]}


def promtool_check(path: Path) -> None:
    promtool = require_tool("promtool")
    proc = subprocess.run(
        [promtool, "check", "metrics"], input=path.read_bytes(), capture_output=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == b"" and proc.stderr == b"", proc.stdout + proc.stderr


def prom_samples(path: Path) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(path.read_text()):
        for s in family.samples:
            assert s.timestamp is None, "textfile samples never carry timestamps"
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def lint_markdown(text: str) -> dict[str, list[list[str]]]:
    """A structural lint: headings start at h2 and never skip a level, every table row has the
    header's number of cells, every <details> is closed. Returns the tables' body rows by their
    header cells joined with "|"."""
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(text)
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    assert levels and levels[0] == 2, levels
    for prev, cur in itertools.pairwise(levels):
        assert cur <= prev + 1, f"heading level jumps from h{prev} to h{cur}"
    tables: dict[str, list[list[str]]] = {}
    rows: list[list[str]] = []
    row: list[str] = []
    in_cell = False
    for t in tokens:
        if t.type == "table_open":
            rows = []
        elif t.type == "tr_open":
            row = []
        elif t.type in ("th_open", "td_open"):
            in_cell = True
            row.append("")
        elif t.type in ("th_close", "td_close"):
            in_cell = False
        elif t.type == "inline" and in_cell:
            row[-1] = t.content
        elif t.type == "tr_close":
            rows.append(row)
        elif t.type == "table_close":
            width = len(rows[0])
            assert all(len(r) == width for r in rows), rows
            tables["|".join(rows[0])] = rows[1:]
    assert text.count("<details>") == text.count("</details>")
    return tables


# ---------------------------------------------------------------------------- end to end


def test_done_when_three_files_agree_with_json(ci_repo: TestRepo, cli: Cli, tmp_path: Path) -> None:
    j, m, s = tmp_path / "j.xml", tmp_path / "m.prom", tmp_path / "s.md"
    code, out, err = cli(
        "diff",
        "main",
        "HEAD",
        "--junit",
        str(j),
        "--prom",
        str(m),
        "--summary",
        str(s),
        "--format",
        "json",
        repo=ci_repo,
    )
    assert err == ""
    doc = json.loads(out)
    summ = doc["summary"]
    assert code == summ["exit_code"] == 1
    assert summ["total"] == 8 and summ["noise"] == 2 and summ["real"] == 6

    # JUnit: schema-valid, one case per mismatch, failures == failing
    xml = validate_junit(j)
    suite = next(iter(xml))
    assert suite.tests == summ["total"]
    assert suite.failures == summ["failing"] == summ["unresolved_real"]
    assert suite.skipped == 0 and suite.errors == 0
    by_name = cases(xml)
    assert len(by_name) == summ["total"]

    # Prometheus: promtool-clean, the same counts
    promtool_check(m)
    samples = prom_samples(m)
    per_type: dict[str, float] = {}
    for labels, value in samples["phase2_mismatches"]:
        per_type[labels["mismatch_type"]] = per_type.get(labels["mismatch_type"], 0) + value
    assert per_type == summ["by_mismatch_type"]
    assert sum(per_type.values()) == summ["total"]
    unresolved = {lab["kind"]: v for lab, v in samples["phase2_unresolved_mismatches"]}
    assert unresolved == {"real": summ["unresolved_real"], "noise": summ["unresolved_noise"]}
    assert samples["phase2_failing_mismatches"] == [({"fail_on": "real"}, summ["failing"])]

    # Markdown: structurally sound, the same counts
    text = s.read_text()
    tables = lint_markdown(text)
    assert {r[0]: int(r[1]) for r in tables["mismatch type|count"]} == summ["by_mismatch_type"]
    assert len(tables["path|status|type|plan|approved|change"]) == summ["real"]
    assert len(tables["path|type|plan|safe"]) == summ["noise"]
    assert text.startswith(f"## phase2: {summ['real']} real change(s), {summ['noise']} noise")


# ---------------------------------------------------------------------------- cases


def test_cases_pass_fail_and_carry_file(ci_repo: TestRepo, cli: Cli, tmp_path: Path) -> None:
    j = tmp_path / "j.xml"
    cli("diff", "main", "HEAD", "--junit", str(j), repo=ci_repo)
    by_name = cases(validate_junit(j))
    reorder = by_name["data/reorder.json"]
    assert reorder.is_passed and reorder.classname == "data"
    assert reorder._elem.get("file") == "data/reorder.json"
    assert "type: json_ordering (noise)" in reorder.system_out
    assert "plan: restore_base, transform restore_base.v1, safe" in reorder.system_out
    root = by_name["root.json"]
    assert root.classname == "." and not root.is_passed
    (failure,) = root.result
    assert isinstance(failure, Failure)
    assert failure.type == "content"
    assert failure.message.startswith("content (modified), plan manual: needs a decision")
    assert "phase2 approve root.json" in failure.message
    body = failure.text
    assert "@@ -1 +1 @@" in body and "-[1, 2]" in body and "+[1, 2, 3]" in body
    assert by_name["deep/er/x.txt"].classname == "deep/er"
    added = by_name["new.txt"].result[0]
    assert "+hello" in added.text and "added" in added.message
    deleted = by_name["gone.txt"].result[0]
    assert "-bye" in deleted.text


def test_illegal_xml_and_escapes_never_break_the_file(
    ci_repo: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    j = tmp_path / "j.xml"
    cli("diff", "main", "HEAD", "--junit", str(j), repo=ci_repo)
    raw = j.read_bytes()
    assert b"\x1b" not in raw and b"\x01" not in raw and b"\x0b" not in raw
    assert "\ufffe".encode() not in raw
    by_name = cases(validate_junit(j))
    evil = by_name['data/evil\\x1b[31m<&>".txt']
    assert evil._elem.get("file") == 'data/evil\\x1b[31m<&>".txt'
    body = evil.result[0].text
    assert "a\\x01b\\x0bc" in body and "link" in body and "http://x" not in body
    assert "\\ufffe ]]> </failure>" in body


def test_skipped_when_fail_on_does_not_count_real_changes(
    ci_repo: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    j = tmp_path / "j.xml"
    _, out, _ = cli(
        "diff",
        "main",
        "HEAD",
        "--junit",
        str(j),
        "--fail-on",
        "noise",
        "--format",
        "json",
        repo=ci_repo,
    )
    summ = json.loads(out)["summary"]
    suite = next(iter(validate_junit(j)))
    assert suite.failures == summ["failing"] == summ["unresolved_noise"] == 2
    assert suite.skipped == summ["unresolved_real"]
    skipped = cases(validate_junit(j))["root.json"].result[0]
    assert isinstance(skipped, Skipped)
    assert skipped.message == "real change not counted by --fail-on noise"
    failed = cases(validate_junit(j))["data/crlf.txt"].result[0]
    assert "unresolved noise" in failed.message
    # the body shows the CRLF line endings visibly
    assert "␍" in failed.text


@pytest.mark.parametrize("rule", ["real", "noise", "any", "never"])
def test_failures_match_summary_for_every_rule(
    ci_repo: TestRepo, cli: Cli, tmp_path: Path, rule: str
) -> None:
    j = tmp_path / "j.xml"
    _, out, _ = cli(
        "diff",
        "main",
        "HEAD",
        "--junit",
        str(j),
        "--fail-on",
        rule,
        "--format",
        "json",
        repo=ci_repo,
    )
    doc = json.loads(out)
    suite = next(iter(validate_junit(j)))
    assert suite.failures == doc["summary"]["failing"]
    states = [junit.case_state(m, rule) for m in doc["mismatches"]]
    assert states.count("failure") == doc["summary"]["failing"]


def test_deterministic_bytes(ci_repo: TestRepo, cli: Cli, tmp_path: Path) -> None:
    a, b = tmp_path / "a.xml", tmp_path / "b.xml"
    cli("diff", "main", "HEAD", "--junit", str(a), repo=ci_repo)
    cli("diff", "main", "HEAD", "--junit", str(b), repo=ci_repo)
    assert a.read_bytes() == b.read_bytes()
    assert re.search(rb"timestamp|hostname", a.read_bytes()) is None


def test_empty_run_is_a_valid_empty_suite(repo: TestRepo, cli: Cli, tmp_path: Path) -> None:
    repo.write("a.txt", "a\n")
    repo.commit("one")
    j = tmp_path / "j.xml"
    code, _, _ = cli("diff", "--junit", str(j), repo=repo)
    assert code == 0
    suite = next(iter(validate_junit(j)))
    assert suite.tests == 0 and suite.failures == 0


def test_unwritable_junit_path_is_a_usage_error(
    ci_repo: TestRepo, cli: Cli, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, out, err = cli("diff", "main", "HEAD", "--junit", str(blocker / "j.xml"), repo=ci_repo)
    assert code == 2 and out == "" and err.startswith("phase2: error: ") and err.count("\n") == 1


# ---------------------------------------------------------------------------- pure parts

DIFF_CASES = [
    (b"a\nb\nc\n", b"a\nB\nc\n", ["@@ -1,3 +1,3 @@", " a", "-b", "+B", " c"]),
    (None, b"x\ny\n", ["@@ -0,0 +1,2 @@", "+x", "+y"]),
    (b"x\n", None, ["@@ -1 +0,0 @@", "-x"]),
    (b"x", b"x\n", ["@@ -1 +1 @@", "-x\\ no newline at end of file", "+x"]),
    (b"\x00bin", b"\x00bon", ["[binary content]"]),
]


@pytest.mark.parametrize(("before", "after", "expected"), DIFF_CASES)
def test_diff_text(before: bytes | None, after: bytes | None, expected: list[str]) -> None:
    assert junit.diff_text(before, after).split("\n") == expected


def test_diff_text_names_real_line_numbers_and_is_bounded() -> None:
    before = b"".join(b"line %d\n" % i for i in range(100_000))
    after = before.replace(b"line 70000\n", b"line seventy thousand\n")
    text = junit.diff_text(before, after)
    assert text.splitlines()[0] == "@@ -69999,5 +69999,5 @@"
    many = junit.failure_body(b"", b"".join(b"%d\n" % i for i in range(5000)))
    lines = many.split("\n")
    assert len(lines) == junit.EXCERPT_LINES + 1 and "more lines" in lines[-1]
    assert junit.failure_body(b"a", b"b", after_truncated=True).startswith("[larger than")


# ---------------------------------------------------------------------------- the writer


def _tree(xml: str) -> Any:
    """An element as (tag, attributes, text, children), indentation left out."""

    def walk(e: ET.Element) -> Any:
        text = e.text if e.text and e.text.strip() else None
        return (e.tag, dict(e.attrib), text, [walk(c) for c in e])

    return walk(ET.fromstring(xml.encode("utf-8")))


def _same_as_the_library(test_suite: Any) -> None:
    """junit.to_xml writes what junit_xml writes for the same suite: the same document once
    parsed, and the same bytes as its pretty-printed form unless an attribute holds a TAB,
    CR or LF (which minidom wrote raw, and a reader then took for a space)."""
    ours = junit.to_xml(test_suite)
    flat = junit_xml.to_xml_report_string([test_suite], prettyprint=False, encoding="utf-8")
    assert _tree(ours) == _tree(flat)
    values = [test_suite.name, *test_suite.properties.keys(), *test_suite.properties.values()]
    for c in test_suite.test_cases:
        values += [c.name, c.classname, c.file]
        values += [f["message"] or "" for f in c.failures] + [k["message"] for k in c.skipped]
    if not any(ch in v for v in values for ch in "\t\r\n"):
        pretty = junit_xml.to_xml_report_string([test_suite], prettyprint=True, encoding="utf-8")
        assert ours == pretty


def test_writer_is_the_library_on_a_real_run(ci_repo: TestRepo, cli: Cli) -> None:
    for rule in ("real", "noise", "any", "never"):
        _, out, _ = cli("diff", "main", "HEAD", "--fail-on", rule, "--format", "json", repo=ci_repo)
        doc = json.loads(out)
        doc["notices"] = ["a notice with <&> and \x1b[31m"]
        doc["shard"] = {"index": 2, "count": 3}
        _same_as_the_library(junit.suite(doc))
    _same_as_the_library(junit_xml.TestSuite(name="phase2", test_cases=[], properties={"a": "b"}))


def test_a_draft_finishes_as_render_writes(ci_repo: TestRepo, cli: Cli) -> None:
    """``report merge`` drafts the XML before it reads the failure bodies: the draft with
    the bodies is the document render writes with them, whichever cases get one."""
    for rule in ("real", "noise", "any", "never"):
        _, out, _ = cli("diff", "main", "HEAD", "--fail-on", rule, "--format", "json", repo=ci_repo)
        doc = json.loads(out)
        doc["notices"] = ["a notice with <&> and \x1b[31m"]
        ids = [m["id"] for m in doc["mismatches"]]
        draft = junit.Draft(doc)
        assert draft.finish() == junit.render(doc) == draft.finish({})
        for bodies in (
            {i: f"body of {i} <&> \x1b[31m ]]>" for i in ids},
            {ids[0]: "only the first", "mis_000000000000": "not in the run"},
        ):
            assert draft.finish(bodies) == junit.render(doc, bodies=bodies)
        assert draft.finish() == junit.render(doc)  # finishing changes nothing of the draft


_TEXT = st.one_of(hostile_text(), st.text(alphabet="ab\t<>&\"' \ufdd0\U0001fffe\x85é\n"))


@st.composite
def _suites(draw: st.DrawFn) -> Any:
    cases = []
    for _ in range(draw(st.integers(0, 4))):
        name = sanitize_path(draw(_TEXT))
        case = junit_xml.TestCase(name=name, classname=sanitize_path(draw(_TEXT)) or ".", file=name)
        state = draw(st.sampled_from(["failure", "skipped", "passed"]))
        out = xml_safe(draw(_TEXT))
        if state == "failure":
            case.add_failure_info(
                message=xml_safe(draw(_TEXT)) or "m", output=out, failure_type="content"
            )
        elif state == "skipped":
            case.add_skipped_info(message=xml_safe(draw(_TEXT)) or "m", output=out)
        else:
            case.stdout = out
        cases.append(case)
    properties = {f"notice.{i}": xml_safe(draw(_TEXT)) for i in range(draw(st.integers(0, 2)))}
    return junit_xml.TestSuite(
        name=sanitize_path(draw(_TEXT)), test_cases=cases, properties=properties
    )


@settings(max_examples=300, deadline=None)
@given(_suites())
def test_prop_writer_is_the_library(test_suite: Any) -> None:
    """Hostile paths, bodies and notices as phase2 hands them to the writer (sanitised, so
    never a lone surrogate or an illegal control), and the characters junit_xml removes."""
    _same_as_the_library(test_suite)


def test_a_body_the_library_removes_entirely_is_an_empty_element() -> None:
    """A body of nothing but characters junit_xml drops (U+FDD0…) is an empty element, as
    the library's pretty print wrote it (hypothesis found it)."""
    failing = junit_xml.TestCase(name="a", classname=".", file="a")
    failing.add_failure_info(message="m", output="\ufdd0", failure_type="content")
    passing = junit_xml.TestCase(name="b", classname=".", file="b", stdout="\ufdd0\ufffe")
    _same_as_the_library(
        junit_xml.TestSuite(name="s", test_cases=[failing, passing], properties={})
    )
