"""JUnit XML for CI test reporters (Jenkins, GitLab, GitHub): one suite per run, one test case
per artifact mismatch.

A case fails when the run's ``--fail-on`` rule counts it (by default: a real change without a
trusted approval bound to its hashes); an unresolved real change the rule does not count is
*skipped* (the policy let it through without a decision); everything else passes, with its type
and plan in ``system-out``. So the failure count always equals ``summary.failing``.

Every artifact-derived string (paths, details, diff excerpts) is sanitised before it reaches the
XML writer: illegal XML characters and terminal escapes never make it into the file.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from phase2_git.core.changes import change_lines, common_ends, is_mixed, noise_line
from phase2_git.core.model import is_noise
from phase2_git.core.sanitize import (
    BINARY_PLACEHOLDER,
    decode_for_display,
    excerpt,
    looks_binary,
    sanitize_line,
    sanitize_path,
    shell_path,
    xml_safe,
)
from phase2_git.reports.decisions import DECISION_WORDS, decision_state, rejected_by

CaseState = Literal["failure", "skipped", "passed"]

EXCERPT_LINES = 50  # invariant 5: at most 50 lines of 200 characters from an artifact
EXCERPT_WIDTH = 200
CONTEXT_LINES = 2
# difflib is quadratic in the worst case: after trimming the common ends, at most this many
# lines of each side are compared. The excerpt shows 50 lines anyway.
_DIFF_WINDOW = 500
_HUNK = re.compile(r"^@@ -(\d+)((?:,\d+)?) \+(\d+)((?:,\d+)?) @@")
MORE_HINT = "run `phase2 diff` for the whole change"


def _lines(data: bytes) -> list[str]:
    # split on LF only: a CR stays at the end of its line and shows as ␍ in the excerpt
    text = decode_for_display(data)
    if not text:
        return []
    parts = text.split("\n")
    if parts[-1] == "":
        parts.pop()
    else:
        parts[-1] += "\\ no newline at end of file"
    return parts


def diff_text(before: bytes | None, after: bytes | None) -> str:
    """A unified diff of two sides (either may be missing), not yet sanitised.

    Binary content is never diffed (``[binary content]``). The work is bounded: the common
    prefix and suffix are trimmed, then at most ``_DIFF_WINDOW`` lines per side are compared.
    """
    if (before is not None and looks_binary(before)) or (after is not None and looks_binary(after)):
        return BINARY_PLACEHOLDER
    a = _lines(before) if before is not None else []
    b = _lines(after) if after is not None else []
    start, tail = common_ends(a, b)
    lo = max(0, start - CONTEXT_LINES)
    keep = min(tail, CONTEXT_LINES)
    a_win = a[lo : len(a) - tail + keep]
    b_win = b[lo : len(b) - tail + keep]
    cut = len(a_win) > _DIFF_WINDOW or len(b_win) > _DIFF_WINDOW
    a_win, b_win = a_win[:_DIFF_WINDOW], b_win[:_DIFF_WINDOW]
    out: list[str] = []
    for line in difflib.unified_diff(a_win, b_win, lineterm="", n=CONTEXT_LINES):
        if line.startswith(("---", "+++")) and not out:
            continue  # the file header: the test case already names the file
        m = _HUNK.match(line)
        if m:
            # the window starts at line lo+1: make hunk headers name real line numbers
            line = (
                f"@@ -{int(m.group(1)) + lo}{m.group(2)} "
                f"+{int(m.group(3)) + lo}{m.group(4)} @@{line[m.end() :]}"
            )
        out.append(line)
    if cut:
        out.append(f"@@ diff cut after {_DIFF_WINDOW} lines @@")
    return "\n".join(out)


def failure_body(
    before: bytes | None,
    after: bytes | None,
    *,
    before_truncated: bool = False,
    after_truncated: bool = False,
) -> str:
    """The sanitised, bounded diff excerpt that goes into a failing case's body."""
    if before_truncated or after_truncated:
        return "[larger than artifacts.max_file_size: compared by hash only]"
    shown = excerpt(diff_text(before, after), max_lines=EXCERPT_LINES, max_width=EXCERPT_WIDTH)
    return shown.render(more_hint=MORE_HINT)


def change_body(m: Mapping[str, Any]) -> str | None:
    """A mixed file's failure body: its real changes (``$.path: old → new``, at most
    ``EXCERPT_LINES``), the noise beside them and the step that strips it, instead of a
    diff of the whole file whose every line the noise touched. None for any other case."""
    if not is_mixed(m):
        return None
    changes = m["changes"]
    lines = change_lines(changes, EXCERPT_LINES - 2)
    lines.append(noise_line(changes))
    first = m["plan"].get("first")
    if first:
        how = "safe" if first["safe"] else "not safe under the policy"
        lines.append(
            f"first step: {first['transform']['id']} ({how}) strips the noise and keeps the change"
        )
    return "\n".join(_cut(sanitize_line(line)) for line in lines)


def _cut(line: str) -> str:
    return line if len(line) <= EXCERPT_WIDTH else line[: EXCERPT_WIDTH - 1] + "…"


def _approved(m: Mapping[str, Any]) -> bool:
    d = m.get("decision") or {}
    return bool(d.get("trusted")) and d.get("decision") == "approve"


def case_state(m: Mapping[str, Any], fail_on: str) -> CaseState:
    """Outcome of one mismatch (a dict of ``Phase2Diff.v1``) under a ``--fail-on`` rule.

    Mirrors ``core.summary.failing`` on the JSON form, so a merged report (which only has the
    JSON) decides exactly as the run did; tests cross-check the two.
    """
    noise = is_noise(m["mismatch_type"])
    unresolved_real = not noise and not _approved(m)
    unresolved_noise = noise and not m["resolved"]
    fails = {
        "real": unresolved_real,
        "noise": unresolved_noise,
        "any": unresolved_real or unresolved_noise,
    }.get(fail_on, False)
    if fails:
        return "failure"
    if unresolved_real:
        return "skipped"
    return "passed"


def _plan_text(m: Mapping[str, Any]) -> str:
    plan = m["plan"]
    transform = plan["transform"]
    parts = [plan["action"]]
    if transform:
        parts.append(f"transform {transform['id']}")
    if m["resolved"]:
        parts.append("already resolved")
    elif decision_state(m) == "rejected":
        parts.append("rejected")
    elif plan["safe"]:
        parts.append("safe")
    return ", ".join(parts)


def _info(m: Mapping[str, Any]) -> str:
    lines = [
        f"id: {m['id']}",
        f"status: {m['status']}",
        f"artifact type: {m['artifact_type']}",
        f"type: {m['mismatch_type']} ({'noise' if m['equivalent'] else 'real change'})",
        f"plan: {_plan_text(m)}",
        f"reason: {sanitize_line(m['plan']['reason'])}",
    ]
    if m.get("old_path"):
        lines.append(f"renamed from: {sanitize_path(m['old_path'])}")
    if m.get("detail"):
        lines.append(f"detail: {sanitize_line(m['detail'])}")
    proved = [v["method"] for v in m["verdicts"] if v["equivalent"]]
    if proved:
        lines.append(f"equivalent under: {', '.join(proved)}")
    decision = m.get("decision")
    if decision:
        lines.append(f"decision: {DECISION_WORDS[decision_state(m)]}")
        if decision.get("by"):
            lines.append(f"decided by: {sanitize_line(str(decision['by']))}")
        if decision.get("why") and decision_state(m) != "rejected":  # the reason says it
            lines.append(f"why: {sanitize_line(str(decision['why']))}")
    return "\n".join(lines)


def _classname(path: str) -> str:
    folder = posixpath.dirname(path)
    return sanitize_path(folder) if folder else "."


def _case(m: Mapping[str, Any], fail_on: str, body: str | None) -> Any:
    from junit_xml import TestCase

    path = sanitize_path(m["path"])  # escaped, never stripped: no look-alike names
    case = TestCase(name=path, classname=_classname(m["path"]), file=path)
    info = _info(m)
    state = case_state(m, fail_on)
    if state == "failure":
        shown = shell_path(m["path"])
        decided = decision_state(m)
        if is_noise(m["mismatch_type"]) and decided == "rejected":
            what = f"unresolved noise whose plan was rejected{rejected_by(m)}: resolve it by hand"
        elif is_noise(m["mismatch_type"]):
            what = f"unresolved noise: apply its plan (phase2 check --fix {shown})"
        else:
            what = f"needs a decision: phase2 approve {shown}"
            if decided == "untrusted":
                what += " (its approval is not trusted)"
            elif decided == "rejected":
                what += rejected_by(m)
        message = f"{m['mismatch_type']} ({m['status']}), plan {m['plan']['action']}: {what}"
        text = change_body(m) or body
        if text is None:
            text = "[diff excerpt unavailable: content not readable]"
        case.add_failure_info(
            message=xml_safe(message),
            output=xml_safe(f"{text}\n\n{info}"),
            failure_type=m["mismatch_type"],
        )
    elif state == "skipped":
        case.add_skipped_info(
            message=f"real change not counted by --fail-on {fail_on}", output=xml_safe(info)
        )
    else:
        case.stdout = xml_safe(info)
    return case


def render(doc: Mapping[str, Any], *, bodies: Mapping[str, str] | None = None) -> str:
    """The JUnit XML document of a ``Phase2Diff.v1`` document.

    ``bodies`` maps mismatch ids to their :func:`failure_body`; it is optional because a
    report merged from shard outputs may run where the blobs are not available.
    """
    return to_xml(suite(doc, bodies=bodies))


def suite(doc: Mapping[str, Any], *, bodies: Mapping[str, str] | None = None) -> Any:
    """The run as a ``junit_xml.TestSuite``: one case per mismatch."""
    fail_on = doc["summary"]["fail_on"]
    mismatches: Sequence[Mapping[str, Any]] = doc["mismatches"]
    bodies = bodies or {}
    return _suite(doc, [_case(m, fail_on, bodies.get(m["id"])) for m in mismatches])


def _suite(doc: Mapping[str, Any], cases: list[Any]) -> Any:
    from junit_xml import TestSuite

    fail_on = doc["summary"]["fail_on"]
    name = "phase2"
    shard = doc.get("shard")
    if shard:
        name += f" (shard {shard['index']}/{shard['count']})"
    properties = {
        "base": doc["base"],
        "head": doc["head"],
        "config_fingerprint": doc["config_fingerprint"],
        "methods": ",".join(doc["methods"]),
        "fail_on": fail_on,
    }
    # the run's notices (an untrusted approval, a configuration the head changes …) as
    # properties: the schema has a suite's system-out after its cases, junit_xml before them
    for i, notice in enumerate(doc.get("notices", []), start=1):
        properties[f"notice.{i}"] = xml_safe(sanitize_line(notice))
    # no timestamp, no hostname: the same inputs give byte-identical XML (invariant 8)
    return TestSuite(name=name, test_cases=cases, properties=properties)


# Written by hand, not by junit_xml's to_xml_report_string(prettyprint=True): that one builds
# an ElementTree, serialises it, then parses the text again with minidom only to indent it,
# 1.4 s of the 1.9 s a 25,000-case report took (and a DOM of the whole report in memory).
# to_xml writes the same suite, in the same layout, straight from junit_xml's TestSuite and
# TestCase objects, for the fields phase2 sets (name, classname, file; one failure or skipped
# entry; system-out; properties). tests/test_junit.py compares it with the library on the
# same suites: byte for byte, and parsed. One difference, on purpose: a TAB, CR or LF in an
# attribute value is written as a character reference; the minidom pass wrote it raw, so
# every XML reader turned it into a space.
_ILLEGAL_XML = re.compile(
    # what junit_xml removes from the whole document (its _clean_illegal_xml_chars), removed
    # here from each value: the markup around them is ASCII
    r"[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufddf\ufffe\uffff"
    + "".join(rf"\U{p | 0xFFFE:08x}\U{p | 0xFFFF:08x}" for p in range(0x10000, 0x110000, 0x10000))
    + "]"
)


def _text(value: str) -> str:
    # minidom's escaping of character data, which the old output had
    if not value.isascii():
        value = _ILLEGAL_XML.sub("", value)
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if '"' in value:
        value = value.replace('"', "&quot;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    return value


def _attr(value: object) -> str:
    text = _text(str(value))
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;")
    return text


def _element(tag: str, attrs: str, text: str | None, indent: str) -> str:
    # a text of nothing but characters junit_xml removes leaves an empty element, which the
    # pretty print wrote as one tag
    body = _text(text) if text else ""
    if body:
        return f"{indent}<{tag}{attrs}>{body}</{tag}>\n"
    return f"{indent}<{tag}{attrs}/>\n"


def to_xml(test_suite: Any) -> str:
    """``to_xml_report_string([test_suite], prettyprint=True, encoding="utf-8")``, written
    directly (see above)."""
    head, cases, tail = _xml_parts(test_suite)
    return head + "".join(cases) + tail


def _xml_parts(test_suite: Any) -> tuple[str, list[str], str]:
    """The document around its cases, and each case's element."""
    cases = test_suite.test_cases
    counts = (
        f'disabled="{sum(1 for c in cases if not c.is_enabled)}" '
        f'errors="{sum(1 for c in cases if c.is_error())}" '
        f'failures="{sum(1 for c in cases if c.is_failure())}"'
    )
    skipped = sum(1 for c in cases if c.is_skipped())
    suite_tag = (
        f'\t<testsuite {counts} name="{_attr(test_suite.name)}" skipped="{skipped}" '
        f'tests="{len(cases)}" time="0"'
    )
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n',
        f'<testsuites {counts} tests="{len(cases)}" time="0.0">\n',
    ]
    if not cases and not test_suite.properties:
        out.append(f"{suite_tag}/>\n</testsuites>\n")
        return "".join(out), [], ""
    out.append(f"{suite_tag}>\n")
    if test_suite.properties:
        out.append("\t\t<properties>\n")
        for key, value in test_suite.properties.items():
            out.append(f'\t\t\t<property name="{_attr(key)}" value="{_attr(value)}"/>\n')
        out.append("\t\t</properties>\n")
    return "".join(out), [_case_xml(case) for case in cases], "\t</testsuite>\n</testsuites>\n"


def _case_xml(case: Any) -> str:
    head = f'\t\t<testcase name="{_attr(case.name)}"'
    if case.classname:
        head += f' classname="{_attr(case.classname)}"'
    if case.file:
        head += f' file="{_attr(case.file)}"'
    children = []
    for failure in case.failures:
        if failure["output"] or failure["message"]:
            attrs = f' type="{_attr(failure["type"] or "failure")}"'
            if failure["message"]:
                attrs += f' message="{_attr(failure["message"])}"'
            children.append(_element("failure", attrs, failure["output"], "\t\t\t"))
    for skip in case.skipped:
        attrs = ' type="skipped"'
        if skip["message"]:
            attrs += f' message="{_attr(skip["message"])}"'
        children.append(_element("skipped", attrs, skip["output"], "\t\t\t"))
    if case.stdout:
        children.append(_element("system-out", "", case.stdout, "\t\t\t"))
    if children:
        return f"{head}>\n{''.join(children)}\t\t</testcase>\n"
    return f"{head}/>\n"


class Draft:
    """The JUnit XML of a document written before its failure bodies are known: every case
    once, without a body; :meth:`finish` writes again only the cases a body is given for.
    ``Draft(doc).finish(bodies) == render(doc, bodies=bodies)`` (tests/test_junit.py).

    The bodies come from the repository's objects, the rest from the document alone: ``report
    merge`` drafts the XML while the shards are still being validated, and reads the blobs
    only once they are known to be valid.
    """

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self._doc = doc
        fail_on = doc["summary"]["fail_on"]
        self._ids: list[str] = []
        cases = []
        for m in doc["mismatches"]:  # one pass: a diff's mismatches may be a spool
            self._ids.append(m["id"])
            cases.append(_case(m, fail_on, None))
        self._head, self._cases, self._tail = _xml_parts(_suite(doc, cases))

    def finish(self, bodies: Mapping[str, str] | None = None) -> str:
        cases = self._cases
        if bodies:
            cases = list(cases)
            fail_on = self._doc["summary"]["fail_on"]
            mismatches = self._doc["mismatches"]
            for k, mid in enumerate(self._ids):
                body = bodies.get(mid)
                if body is not None:  # a case's state never depends on its body: same counts
                    cases[k] = _case_xml(_case(mismatches[k], fail_on, body))
        return self._head + "".join(cases) + self._tail
