"""Mixed changes: a real edit that comes with noise is taken apart (core/changes.py).

The fixtures have the shape of mdn/browser-compat-data, the curated repository where a new
user found the problem: nested ``__compat`` entries, hand-ordered keys, support statements
as objects or arrays of them, notes with escapes. Every combination of noise (re-indent,
CRLF, BOM, final newline, key reorder, float jitter) with one real edit is checked through
the change list, the plan, the stripping transform, a real repository and every report."""

from __future__ import annotations

import difflib
import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from phase2_git.core import changes, jsonvalue, transforms, whitespace
from phase2_git.core.model import Blob, Change
from phase2_git.core.pipeline import Settings, build_mismatch
from phase2_git.core.settings import (
    DEFAULT_METHODS,
    ClassifySettings,
    MethodSettings,
    PolicySettings,
)
from tests.conftest import Cli, TestRepo
from tests.hostile_support import record
from tests.test_github import parse_annotations
from tests.test_junit import lint_markdown, validate_junit

SCHEMA = json.loads((Path(__file__).parent.parent / "schemas" / "Phase2Diff.v1.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)
SETTINGS = Settings(ClassifySettings(), MethodSettings(), PolicySettings())
BROWSERS = (
    "chrome",
    "chrome_android",
    "edge",
    "firefox",
    "firefox_android",
    "opera",
    "safari",
    "safari_ios",
    "samsunginternet_android",
    "webview_android",
)


def compat(api: str, feature: str, seed: int) -> dict[str, Any]:
    """One browser-compat-data style file: curated key order (not sorted), nested support
    statements, an array of statements with a prefix, notes."""
    support: dict[str, Any] = {}
    for k, browser in enumerate(BROWSERS):
        version = str(10 + (seed * 7 + k * 3) % 90)
        if k % 4 == 3:
            support[browser] = [
                {"version_added": version},
                {"version_added": str(int(version) - 5), "prefix": "webkit"},
            ]
        else:
            support[browser] = {"version_added": version}
        if k == 5:
            support[browser]["notes"] = f"Before version {version}, the {feature}() method threw."
    return {
        "api": {
            api: {
                feature: {
                    "__compat": {
                        "mdn_url": f"https://developer.mozilla.org/docs/Web/API/{api}/{feature}",
                        "spec_url": f"https://example.org/spec/#dom-{api.lower()}-{feature}",
                        "support": support,
                        "status": {
                            "experimental": False,
                            "standard_track": True,
                            "deprecated": seed % 5 == 0,
                        },
                    }
                }
            }
        }
    }


def dump(doc: Any, indent: int | str | None = 2) -> bytes:
    return (json.dumps(doc, indent=indent, ensure_ascii=False) + "\n").encode()


def bump(doc: dict[str, Any], browser: str = "safari") -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(doc))
    (entry,) = out["api"].values()
    (feature,) = entry.values()
    statement = feature["__compat"]["support"][browser]
    target = statement[0] if isinstance(statement, list) else statement
    target["version_added"] = str(int(target["version_added"]) + 1)
    return out


def reordered(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: reordered(node[k]) for k in reversed(list(node))}
    if isinstance(node, list):
        return [reordered(v) for v in node]
    return node


NOISES = ("reindent", "crlf", "bom", "final", "reorder")


def noisy(doc: Any, noise: tuple[str, ...]) -> bytes:
    data = json.dumps(
        reordered(doc) if "reorder" in noise else doc,
        indent=4 if "reindent" in noise else 2,
        ensure_ascii=False,
    )
    if "final" not in noise:
        data += "\n"
    if "crlf" in noise:
        data = data.replace("\n", "\r\n")
    return (b"\xef\xbb\xbf" if "bom" in noise else b"") + data.encode()


def changed_lines(a: bytes, b: bytes) -> tuple[list[str], list[str]]:
    diff = list(difflib.unified_diff(a.decode().splitlines(), b.decode().splitlines(), n=0))
    minus = [x for x in diff if x.startswith("-") and not x.startswith("---")]
    plus = [x for x in diff if x.startswith("+") and not x.startswith("+++")]
    return minus, plus


def mismatch(before: bytes, after: bytes, path: str = "api/fetch.json", settings=SETTINGS):
    change = Change("modified", path, None, "a" * 40, "b" * 40, "100644", "100644")
    return build_mismatch(
        change,
        Blob("a" * 40, len(before), before, before[:8000]),
        Blob("b" * 40, len(after), after, after[:8000]),
        settings,
        DEFAULT_METHODS,
    )


ALL_COMBOS = [c for n in range(1, len(NOISES) + 1) for c in itertools.combinations(NOISES, n)]


# ------------------------------------------------------------------------------ core


@pytest.mark.parametrize("noise", ALL_COMBOS, ids="+".join)
def test_one_real_edit_with_any_noise_strips_to_one_line(noise: tuple[str, ...]) -> None:
    doc = compat("Window", "fetch", 3)
    base = dump(doc)
    head = noisy(bump(doc), noise)
    m = mismatch(base, head)
    assert m.mismatch_type == "content" and not m.equivalent
    assert m.changes is not None and m.changes.mixed
    (real,) = m.changes.real
    assert real.kind == "changed"
    assert real.path == "$.api.Window.fetch.__compat.support.safari.version_added"
    expected = {
        "reindent": "whitespace",
        "crlf": "line_endings",
        "bom": "bom",
        "final": "trailing_newline",
        "reorder": "json_ordering",
    }
    assert set(m.changes.noise_types()) == {expected[n] for n in noise}
    # the first step is safe: every kind of noise here is in the default auto_apply_types
    first = m.plan.first
    assert m.plan.action == "manual" and first is not None and first.safe
    assert first.transform.id == "strip_noise.v1" and first.justified_by == ("canonical_json",)
    spec = transforms.spec_for(
        first.transform.id, "content", "json", SETTINGS.classify, whitespace.JSON_TEXT
    )
    assert spec is not None
    out = transforms.apply(spec, base, head)
    minus, plus = changed_lines(base, out)
    assert len(minus) == len(plus) == 1 and '"version_added"' in plus[0]
    assert transforms.apply(spec, base, out) == out
    # the head's line of the change, in the head as it was written
    line = head.decode("utf-8-sig").splitlines()[real.line - 1]
    assert '"version_added"' in line and real.after is not None and real.after in line
    # stripped, the file is a clean real change: its plan has no first step left
    again = mismatch(base, out)
    assert again.changes is not None and not again.changes.noise and again.plan.first is None


def test_change_list_kinds_values_and_places() -> None:
    doc = compat("Window", "fetch", 1)
    head = bump(doc)
    support = head["api"]["Window"]["fetch"]["__compat"]["support"]
    del support["opera"]
    support["deno"] = {"version_added": "1.0"}
    head["api"]["Window"]["fetch"]["__compat"]["tags"] = ["web-features:fetch"]
    found = changes.analyse_json(
        dump(doc),
        noisy(head, ("reorder", "crlf")),
        jsonvalue.parse(dump(doc)),
        jsonvalue.parse(noisy(head, ("reorder", "crlf"))),
    )
    assert found is not None
    by_kind = {(c.kind, c.path) for c in found.real}
    compat_path = "$.api.Window.fetch.__compat"
    assert by_kind == {
        ("changed", f"{compat_path}.support.safari.version_added"),
        ("removed", f"{compat_path}.support.opera"),
        ("added", f"{compat_path}.support.deno"),
        ("added", f"{compat_path}.tags"),
    }
    added = next(c for c in found.real if c.path == f"{compat_path}.tags")
    assert added.before is None and added.after == '["web-features:fetch"]'
    removed = next(c for c in found.real if c.kind == "removed")
    assert removed.after is None and removed.before is not None
    assert removed.before.startswith('{"version_added": ')
    noise = {n.type: n for n in found.noise}
    assert set(noise) == {"line_endings", "json_ordering"}
    assert noise["line_endings"].detail == "line endings LF → CRLF"
    # reordered everywhere: where (the objects with two keys or more), in the head's order
    at = noise["json_ordering"].at
    assert at[0] == "$.api.Window.fetch.__compat" and f"{compat_path}.status" in at
    # the list is in the head's order, each with its head line
    lines = [c.line for c in found.real]
    assert None not in lines and lines == sorted(n for n in lines if n is not None)


@pytest.mark.parametrize("at", [0, 7, 30])
@pytest.mark.parametrize("indent", [2, 4])
def test_an_addition_names_the_base_line_it_goes_before(at: int, indent: int) -> None:
    """An element inserted at ``$[at]`` goes before the base's ``$[at]`` (after its last one
    when ``at`` is past the end): its base line is that element's line, with the head
    re-indented or not (the base's closing bracket was every addition's line)."""
    base = [{"id": k, "v": k * 1.5} for k in range(30)]
    head = [*base[:at], {"id": -1, "v": 0.0}, *base[at:]]
    a = (json.dumps(base, indent=2) + "\n").encode()
    b = (json.dumps(head, indent=indent) + "\n").encode()
    found = changes.analyse_json(a, b, jsonvalue.parse(a), jsonvalue.parse(b))
    assert found is not None
    (added,) = found.real
    assert (added.kind, added.path) == ("added", f"$[{at}]")
    # the base's lines of the element it goes before (4 each, from line 2), or of the end:
    # a head with the base's formatting names the line where the texts first differ
    first = 2 + 4 * min(at, len(base))
    near = range(first, first + 4) if at < len(base) else range(first - 1, first + 1)
    assert added.base_line is not None and added.base_line in near, added
    assert [n.type for n in found.noise] == ([] if indent == 2 else ["whitespace"])


@pytest.mark.parametrize("noise", ["none", "reindent", "reorder"])
@pytest.mark.parametrize("edit", ["insert", "remove"])
def test_an_insertion_beside_another_change_is_two_changes_not_a_cascade(
    noise: str, edit: str
) -> None:
    """A record inserted (or removed) at the top of a long array and another record changed
    further down: two real changes, the records between them unchanged, whatever the noise;
    the strip writes exactly those two into the base's bytes."""
    base = [{"id": k, "name": f"n{k}", "v": k * 1.5} for k in range(40)]
    head = [{"id": -1, "name": "new", "v": 0.0}, *base] if edit == "insert" else base[1:]
    head = [dict(r) for r in head]
    head[20]["v"] = 99.5
    shown = [dict(reversed(r.items())) for r in head] if noise == "reorder" else head
    a = (json.dumps(base, indent=2) + "\n").encode()
    b = (json.dumps(shown, indent=4 if noise == "reindent" else 2) + "\n").encode()
    found = changes.analyse_json(a, b, jsonvalue.parse(a), jsonvalue.parse(b))
    assert found is not None
    first = ("added", "$[0]") if edit == "insert" else ("removed", "$[0]")
    assert sorted((c.kind, c.path) for c in found.real) == sorted([first, ("changed", "$[20].v")])
    assert found.more == 0
    # the base's bytes with the two edits; a new record keeps the head's key order (the base
    # has none of its own)
    if edit == "insert" and noise == "reorder":
        head[0] = shown[0]
    expected = (json.dumps(head, indent=2) + "\n").encode()
    assert changes.strip_json(a, b, rel_tol=1e-9) == expected


@pytest.mark.parametrize("noise", ["none", "reindent", "reorder"])
def test_an_array_of_the_same_length_shifted_by_one_is_two_changes(noise: str) -> None:
    """A sorted list that lost its first record and gained a last one, and a record edited
    in between: the lengths are equal, yet the records line up one place apart. Paired index
    to index, every record read as changed, field by field; aligned, it is the removal, the
    addition and the edit, and the strip writes exactly those into the base's bytes."""
    base = [{"id": k, "name": f"n{k:03d}", "v": k * 1.5} for k in range(300)]
    head = [dict(r) for r in base[1:]] + [{"id": 300, "name": "n300", "v": 450.0}]
    head[150]["name"] = "edited"
    shown = [dict(reversed(r.items())) for r in head] if noise == "reorder" else head
    a = (json.dumps(base, indent=2) + "\n").encode()
    b = (json.dumps(shown, indent=4 if noise == "reindent" else 2) + "\n").encode()
    found = changes.analyse_json(a, b, jsonvalue.parse(a), jsonvalue.parse(b), rel_tol=1e-9)
    assert found is not None
    assert sorted((c.kind, c.path) for c in found.real) == [
        ("added", "$[299]"),
        ("changed", "$[150].name"),
        ("removed", "$[0]"),
    ]
    assert found.more == 0
    if noise == "reorder":
        head[-1] = shown[-1]  # the new record keeps the head's key order: the base has none
    expected = (json.dumps(head, indent=2) + "\n").encode()
    once = changes.strip_json(a, b, rel_tol=1e-9)
    assert once == expected
    assert changes.strip_json(a, once, rel_tol=1e-9) == once
    names = [f"name-{k:04d}" for k in range(1000)]
    a, b = json.dumps(names).encode(), json.dumps([*names[1:], "name-1000"]).encode()
    found = changes.analyse_json(a, b, jsonvalue.parse(a), jsonvalue.parse(b))
    assert found is not None
    assert [(c.kind, c.path) for c in found.real] == [("removed", "$[0]"), ("added", "$[999]")]


def test_an_array_of_the_same_length_keeps_index_pairs_where_they_list_less() -> None:
    """Equal lengths align only where that lists fewer elements than pairing by index: two
    strings that traded places, one of them edited, around a record whose keys were
    reordered are two changes (the two places), not two removals and two additions; a
    number edited in place is the walk's."""
    a = b'["p", {"a": 0, "b": 0}, "q"]'
    b = b'["q", {"b": 0, "a": 0}, "p2"]'
    found = changes.analyse_json(a, b, jsonvalue.parse(a), jsonvalue.parse(b))
    assert found is not None
    assert [(c.kind, c.path) for c in found.real] == [("changed", "$[0]"), ("changed", "$[2]")]
    assert [n.type for n in found.noise] == ["json_ordering"]
    a, b = b'[{"n": "x", "v": 1}, {"n": "y", "v": 2}]', b'[{"n": "x", "v": 1}, {"n": "y", "v": 3}]'
    found = changes.analyse_json(a, b, jsonvalue.parse(a), jsonvalue.parse(b))
    assert found is not None
    assert [(c.kind, c.path) for c in found.real] == [("changed", "$[1].v")]


def test_elements_moved_with_noise_in_them_are_moves_and_the_strip_keeps_them() -> None:
    """Records that traded places, one of them with its keys reordered and each written in
    its own spacing: two moves and the key order as noise. The strip writes the moved
    records as the base wrote them, and its output finds the same moves (it stripped to
    something else on its second run when the moves were found only among exact copies)."""
    a = b'[{"ok":true, "id":1}, {"v": 1, "id": 0}, {"id": 2}]'
    b = b'[{"v": 1, "id": 0}, {"id":1, "ok":true}, {"id": 2}]'
    found = changes.analyse_json(a, b, jsonvalue.parse(a), jsonvalue.parse(b))
    assert found is not None
    assert [(c.kind, c.path, c.source) for c in found.real] == [
        ("moved", "$[0]", "$[1]"),
        ("moved", "$[1]", "$[0]"),
    ]
    assert [n.type for n in found.noise] == ["json_ordering"]
    once = changes.strip_json(a, b, rel_tol=1e-9)
    assert once == b'[{"v": 1, "id": 0}, {"ok":true, "id":1}, {"id": 2}]'
    assert changes.strip_json(a, once, rel_tol=1e-9) == once
    again = changes.analyse_json(a, once, jsonvalue.parse(a), jsonvalue.parse(once))
    assert again is not None and not again.noise and again.total == 2


def test_a_text_of_noise_alone_strips_back_to_the_base_however_its_lines_repeat() -> None:
    """Lines equal byte for byte were matched first: ``:`` and ``  :`` against ``  :`` and
    ``    :`` (indentation insignificant) paired the two ``  :`` lines, and the head, which is
    only noise, kept a line of its own (hypothesis found it)."""
    rules = whitespace.WhitespaceRules(
        format="files declared whitespace-insignificant",
        trailing=True,
        indent=True,
        inner=True,
        blank_lines=True,
        line_breaks=True,
        outside_strings=False,
    )
    base, head = b":\n  :", b"  :\r\n    :"
    assert changes.strip_text(base, head, rules) == base
    found = changes.analyse_text(base, head, rules)
    assert found is not None and found.total == 0


def test_a_section_moved_past_an_edited_block_is_a_move_not_the_block_rewritten() -> None:
    """Lines are aligned by their normal forms, on the lines found once on each side first:
    difflib alone took the moved section (equal once its trailing blanks are set aside) as
    the longest match and called the whole edited block removed and added again, as it did
    on mledoze/countries' README. The strip keeps the head's edits and the section's move,
    and takes each line the head left alike from the base."""
    block = [f'    "field{i}": "value {i}",' for i in range(30)]
    section = ["#### About", "Read this: ", "- one ", "- two "]
    base = "\n".join(["# Title", *section, *block, "end"]) + "\n"
    edited = [
        line.replace("value", "VALUE") if i % 10 == 0 else line for i, line in enumerate(block)
    ]
    head_lines = ["# Title", *edited, *(line.rstrip() for line in section), "end"]
    head = "\n".join(head_lines) + "\n"
    found = changes.analyse_text(base.encode(), head.encode(), whitespace.DEFAULT)
    assert found is not None
    # the three edits, the section's four lines removed above and added below
    assert found.total == 3 + 4 + 4
    assert not found.noise
    out = changes.strip_text(base.encode(), head.encode(), whitespace.DEFAULT)
    assert out == head.encode()
    assert changes.strip_text(base.encode(), out, whitespace.DEFAULT) == out


def test_a_removed_line_beside_one_that_looks_like_it_leaves_the_head_as_it_was() -> None:
    """``:`` and ``: `` are alike once trailing blanks are set aside; the head removed the
    first. Lines equal byte for byte are aligned first, so the head's ``: `` pairs with the
    base's ``: `` and the strip has nothing to do; the same beside an edit, and where the
    normal-form alignment the strip falls back on slides a removal to an exact pair."""
    base, head = b":\n: \nx\n", b": \nx\n"
    found = changes.analyse_text(base, head, whitespace.DEFAULT)
    assert found is not None and found.total == 1 and not found.noise
    (c,) = found.real
    assert (c.kind, c.before, c.base_line) == ("removed", ":", 1)
    assert changes.strip_text(base, head, whitespace.DEFAULT) == head
    for base, head in ((b" \n\nx", b"\nZ"), (b"a\t\na\nx\n", b"a\nZ\n")):
        assert changes.strip_text(base, head, whitespace.DEFAULT) == head
        found = changes.analyse_text(base, head, whitespace.DEFAULT)
        assert found is not None and not found.noise
    la = changes._split(":\n: \nx", whitespace.DEFAULT)
    lb = changes._split(": \nx", whitespace.DEFAULT)
    assert changes._normal_opcodes(la, lb) == [("delete", 0, 1, 0, 0), ("equal", 1, 3, 0, 2)]


def test_a_strip_that_does_not_settle_falls_back_to_the_normal_form_alignment() -> None:
    """Aligned exact lines first, this head's strip strips to something else three rounds
    running (one case in about 200,000 random look-alike texts); the head is then stripped
    by the normal-form alignment, whose output strips to itself."""
    rules = whitespace.DEFAULT
    base, head = b"b\n \na \n \n ", b"\\\na\t\n\t\n \n\n\\"
    first = changes._strip_once(base, head, rules, exact=True)
    assert changes._settle(base, head, first, rules) is None
    out = changes.strip_text(base, head, rules)
    assert out == changes._strip_once(base, head, rules, exact=False) == b"\\\na \n \n \n\n\\"
    assert changes.strip_text(base, out, rules) == out
    key = whitespace.key
    assert key(out.decode(), rules) == key(head.decode(), rules)


def test_a_lone_cr_before_an_added_empty_line_does_not_swallow_it() -> None:
    """A base with a lone CR line ending: the strip wrote the base's ``\\r`` and then the
    added empty line's ``\\n``, which reads back as one CRLF, and the empty line (a real
    change) was lost (the review found it; 21 of 20,000 mixed-ending texts lost a change)."""
    base, head = b"a\rb\nc\n", b"a\n\nb\nc\n"
    out = changes.strip_text(base, head, whitespace.DEFAULT)
    assert out == b"a\n\nb\nc\n"
    key = whitespace.key
    assert key(out.decode(), whitespace.DEFAULT) == key(head.decode(), whitespace.DEFAULT)
    assert changes.strip_text(base, out, whitespace.DEFAULT) == out


def test_a_line_moved_past_repeated_lines_is_two_changes() -> None:
    """The unique-line anchors alone pin a title moved below lines that repeat and call every
    repeated line removed and added again; difflib's alignment lists fewer and is kept."""
    base, head = "T\n" + "|---|\n" * 50, "|---|\n" * 50 + "T\n"
    found = changes.analyse_text(base.encode(), head.encode(), whitespace.DEFAULT)
    assert found is not None and found.total == 2


def test_a_long_text_with_few_edits_lists_those_edits() -> None:
    """Past difflib's window (4,000 lines a side once the common ends are set aside), the
    middle was one block of changes: every line listed. It is aligned on its unique lines,
    and a gap difflib may not search pairs its lines index to index."""
    lines = [f"row {i}, value {i * 7 % 1000}" for i in range(20_000)]
    head = list(lines)
    for k in range(0, 20_000, 500):
        head[k] += " edited"
    a, b = "\n".join(lines).encode(), ("\n".join(head) + "  ").encode()
    found = changes.analyse_text(a, b, whitespace.DEFAULT)
    assert found is not None and found.total == 40
    assert set(found.noise_types()) == {"whitespace"}
    out = changes.strip_text(a, b, whitespace.DEFAULT)
    assert out == "\n".join(head).encode()
    # a gap beyond the budget difflib shares: index to index, equal lines kept equal
    ops = changes._by_index(["a", "b", "c", "d"], ["a", "x", "c"], 10)
    assert ops == [
        ("equal", 10, 11, 10, 11),
        ("replace", 11, 12, 11, 12),
        ("equal", 12, 13, 12, 13),
        ("replace", 13, 14, 13, 13),
    ]


def test_the_alignment_sees_what_a_strip_cannot_change() -> None:
    """Elements are aligned on what no strip rewrites (not a number's text, not key order):
    a strip aligns its own output as it aligned the head (idempotent), and an element
    within tolerance still meets its counterpart and reads as noise."""
    a, b = b"[1.0, 1.0, 2]", b"[0, 1.0000000000001, 1.0000000000001, 3]"
    once = changes.strip_json(a, b, rel_tol=1e-9)
    assert changes.strip_json(a, once, rel_tol=1e-9) == once
    a, b = b"[1.5, 1.5, 1.5, 1.5, 1.5, 2]", b"[1.5, 0, 1.5, 1.5000000000001, 1.5]"
    found = changes.analyse_json(a, b, jsonvalue.parse(a), jsonvalue.parse(b), rel_tol=1e-9)
    assert found is not None
    assert [(c.kind, c.path) for c in found.real] == [("changed", "$[1]"), ("removed", "$[5]")]
    assert [n.type for n in found.noise] == ["numeric_precision"]
    assert changes.strip_json(a, b, rel_tol=1e-9) == b"[1.5, 0, 1.5, 1.5, 1.5]"


def test_the_alignment_anchors_on_elements_found_once_on_each_side() -> None:
    """Only an element whose key occurs once on each side anchors the alignment (numbers all
    key alike, and a few hundred strings repeated through a long array anchor nothing: such
    a middle pairs by index); between anchors, elements pair by index. Every second element
    changed and one inserted (difflib's quadratic case) aligns on the unchanged ones. An
    element larger than the key's bound keys as its shape."""
    numbers = [jsonvalue.JNum(str(k % 105)) for k in range(5000)]
    assert changes._aligned(numbers, [*numbers, jsonvalue.JNum("1")], 0) is None
    levels = [f"level-{k % 105}" for k in range(5000)]
    assert changes._aligned(levels, levels[1:], 0) is None
    names = [f"name-{k}" for k in range(5000)]
    head = [n if k % 2 else n + "!" for k, n in enumerate(names)]
    head.insert(1, "new")
    aligned = changes._aligned(names, head, 0)
    assert aligned is not None
    pairs, removed, added = aligned
    assert added == [1] and removed == []
    assert pairs == [(0, 0), *((k, k + 1) for k in range(1, 5000))]
    big = jsonvalue.parse(json.dumps({"features": [{"id": k} for k in range(1000)]}).encode())
    assert changes._align_key(big) == ("{#", 1)


def test_the_common_ends_are_found_start_first_so_a_strip_strips_to_itself() -> None:
    """Where lengths differ, the start is found whole (equal, then equal but for noise)
    before the end: the end found first took a run of equal elements the next strip's start
    took, and the strip was not idempotent; nested, the alignment reached the same case."""
    for a, b in (
        (b'[1.0, {"a":1}, {"a": 1}]', b'[1.0000000000001, {"a":1}]'),
        (b'["x", [[[[1.0, 2, [ ]]]]]]', b"[[[[[1.0000000000001,2, [ ], [ ]]]]]]"),
    ):
        once = changes.strip_json(a, b, rel_tol=1e-9)
        assert changes.strip_json(a, once, rel_tol=1e-9) == once, (a, b, once)
        found = changes.analyse_json(
            a, once, jsonvalue.parse(a), jsonvalue.parse(once), rel_tol=1e-9
        )
        assert found is not None and not found.noise


def test_an_added_key_names_the_base_line_the_strip_writes_it_at() -> None:
    a = (json.dumps({"a": 1, "b": 2, "c": 3}, indent=2) + "\n").encode()
    b = (json.dumps({"c": 3, "new": 0, "a": 1, "b": 9}, indent=2) + "\n").encode()
    found = changes.analyse_json(a, b, jsonvalue.parse(a), jsonvalue.parse(b))
    assert found is not None
    added = next(c for c in found.real if c.kind == "added")
    assert added.base_line is not None
    # after "c", the key the head put before it: where the base's closing brace was
    assert a.decode().splitlines()[added.base_line - 1] == "}"
    stripped = changes.strip_json(a, b, rel_tol=1e-9).decode().splitlines()
    assert stripped[added.base_line - 1].strip() == '"new": 0'


def test_a_long_change_list_is_capped_and_counted() -> None:
    base = {f"k{i}": i for i in range(100)}
    head = {f"k{i}": i + 1 for i in range(100)}
    found = changes.analyse_json(
        dump(base), dump(head, 4), jsonvalue.parse(dump(base)), jsonvalue.parse(dump(head, 4))
    )
    assert found is not None
    assert len(found.real) == changes.LISTED and found.more == 100 - changes.LISTED
    assert found.total == 100
    # values are cut, the change stays visible
    long_a, long_b = "1" * 5000 + "2", "1" * 5000 + "3"
    a, b = f'{{"n": {long_a}}}'.encode(), f'{{"n": {long_b}}}'.encode()
    found = changes.analyse_json(a, b, jsonvalue.parse(a), jsonvalue.parse(b))
    assert found is not None
    (c,) = found.real
    assert c.before is not None and c.after is not None
    assert len(c.before) < 120 and c.before.endswith("2") and c.after.endswith("3")


def test_styles_no_serializer_reproduces_survive_stripping() -> None:
    base = (
        b'{\n  "name":       "caf\\u00e9",\n  "sizes": [1, 2, 3],\n'
        b'  "nested" : {"a": 1,  "b": [true,false]},\n  "version": "1.0"\n}\n'
    )
    head_doc = json.loads(base)
    head_doc["version"] = "2.0"
    head = json.dumps(head_doc, indent=4, ensure_ascii=False).encode()  # re-indented, é raw
    out = changes.strip_json(base, head)
    minus, plus = changed_lines(base, out)
    assert minus == ['-  "version": "1.0"'] and plus == ['+  "version": "2.0"']
    # aligned values, \u escapes, compact arrays and odd spacing are the base's
    assert b'"name":       "caf\\u00e9"' in out and b'"sizes": [1, 2, 3]' in out
    assert b'"nested" : {"a": 1,  "b": [true,false]}' in out
    # a new key takes the base's style, not the head's 4-space indentation
    head_doc["added"] = {"x": [1, 2]}
    head = json.dumps(head_doc, indent=4, ensure_ascii=False).encode()
    out = changes.strip_json(base, head)
    assert out.endswith(b'  "added": {\n    "x": [\n      1,\n      2\n    ]\n  }\n}\n'), out
    assert changes.strip_json(base, out) == out


def test_numbers_within_tolerance_keep_the_base_text_but_are_not_auto_applied() -> None:
    base = b'{"loss": 0.30000000000000004, "accuracy": 0.81, "cases": 412}\n'
    head = b'{"loss": 0.3, "accuracy": 0.79, "cases": 412}\n'
    m = mismatch(base, head, "eval/results.json")
    assert m.changes is not None
    assert m.changes.noise_types() == ("numeric_precision",)
    assert [c.path for c in m.changes.real] == ["$.accuracy"]
    first = m.plan.first
    assert first is not None and not first.safe
    assert "numeric_precision is not in auto_apply_types" in first.reason
    assert first.justified_by == ("numeric",)
    out = changes.strip_json(base, head, rel_tol=1e-9)
    assert out == b'{"loss": 0.30000000000000004, "accuracy": 0.79, "cases": 412}\n'
    policy = PolicySettings(auto_apply_types=("numeric_precision",))
    settings = Settings(ClassifySettings(), MethodSettings(), policy)
    m = mismatch(base, head, "eval/results.json", settings)
    assert m.plan.first is not None and m.plan.first.safe


def test_moved_array_elements_and_text_lines() -> None:
    a = b'{"order": ["x", "y", "z"]}\n'
    b = b'{"order": ["z", "x", "y"]}\n'
    found = changes.analyse_json(a, b, jsonvalue.parse(a), jsonvalue.parse(b))
    assert found is not None
    assert {(c.kind, c.path, c.source) for c in found.real} == {
        ("moved", "$.order[0]", "$.order[2]"),
        ("moved", "$.order[1]", "$.order[0]"),
        ("moved", "$.order[2]", "$.order[1]"),
    }
    assert changes.strip_json(a, b) == b
    # text: the changed line once trailing blanks (noise in plain text) and CRLF are set aside
    base = b"header\nvalue: 1\nfooter\n"
    head = b"header  \r\nvalue: 2\r\nfooter\r\n"
    found = changes.analyse_text(base, head, whitespace.DEFAULT)
    assert found is not None
    (c,) = found.real
    assert (c.kind, c.before, c.after, c.line, c.base_line) == (
        "changed",
        "value: 1",
        "value: 2",
        2,
        2,
    )
    assert set(found.noise_types()) == {"line_endings", "whitespace"}
    assert changes.strip_text(base, head, whitespace.DEFAULT) == b"header\nvalue: 2\nfooter\n"
    # YAML: indentation is content, so it is a real change, never stripped
    yaml_head = b"header\n  value: 1\nfooter\n"
    found = changes.analyse_text(base, yaml_head, whitespace.rules_for("a.yaml"))
    assert found is not None and found.total == 1 and not found.noise


def test_mismatches_without_a_change_list_keep_their_bytes() -> None:
    # noise only, or not both sides readable: no `changes`, no `first`, the same JSON as before
    m = mismatch(b'{"a": 1, "b": 2}\n', b'{"b": 2, "a": 1}\n')
    assert m.changes is None and m.plan.first is None
    out = m.to_json()
    assert "changes" not in out and "first" not in out["plan"]
    assert list(out) == [
        "id", "path", "old_path", "status", "artifact_type", "mismatch_type", "equivalent",
        "detail", "verdicts", "plan", "hashes", "modes", "resolved", "decision",
    ]  # fmt: skip
    m = mismatch(b"\xff\xfe\n", b"\xff\xfd\n", "x.txt")
    assert m.mismatch_type == "content" and m.changes is None
    # a clean real change has its list and no first step
    m = mismatch(b'{"a": 1}\n', b'{"a": 2}\n')
    assert m.changes is not None and m.changes.noise == () and m.plan.first is None
    assert m.plan.reason == "a real change needs a human decision"


def test_canonicalize_keeps_key_order_unless_sorting_is_asked_for() -> None:
    base = b'{"zeta": 1, "alpha": {"y": 1, "x": 2}}\n'
    head = b'{"zeta": 1,   "alpha": {"y": 1, "x": 2}}\n'
    kept = b'{\n  "zeta": 1,\n  "alpha": {\n    "y": 1,\n    "x": 2\n  }\n}\n'
    rfc8785 = b'{\n  "alpha": {\n    "x": 2,\n    "y": 1\n  },\n  "zeta": 1\n}\n'
    for sort, expected, tid in (
        (False, kept, "canonicalize_json.indent2.ordered.v1"),
        (True, rfc8785, "canonicalize_json.indent2.v1"),
    ):
        classify = ClassifySettings(json_sort_keys=sort)
        policy = PolicySettings(noise_strategy={"whitespace": "canonicalize"})
        m = mismatch(base, head, "a.json", Settings(classify, MethodSettings(), policy))
        assert m.plan.action == "canonicalize_json" and m.plan.transform is not None
        assert m.plan.transform.id == tid
        spec = transforms.spec_for(tid, "whitespace", "json", classify, whitespace.JSON_TEXT)
        assert spec is not None and transforms.apply(spec, base, head) == expected
    # duplicate keys: keeping their order is safe, sorting them is refused
    dup = b'{"a": 1, "a": 2}'
    assert (
        transforms.make_canonicalize_json(2, sort_keys=False)(dup) == b'{\n  "a": 1,\n  "a": 2\n}\n'
    )
    with pytest.raises(transforms.TransformError):
        transforms.make_canonicalize_json(2, sort_keys=True)(dup)


def test_kind_of_change_groups_what_happened_alike() -> None:
    def kind(a: bytes, b: bytes, art: str = "json") -> changes.KindOfChange:
        found = changes.kind_of_change(a, b, art, whitespace.rules_for(f"x.{art}"))
        assert found is not None
        return found

    docs = [compat("Window", f"f{i}", i) for i in range(5)]
    reindented = [kind(dump(d), dump(d, 4)) for d in docs]
    assert len({k.key for k in reindented}) == 1
    assert reindented[0].label == "re-indented 2 spaces → 4 spaces"
    crlf = kind(dump(docs[0]), dump(docs[0]).replace(b"\n", b"\r\n"))
    assert crlf.key != reindented[0].key and crlf.label == "line endings LF → CRLF"
    order = [kind(dump(d), dump(reordered(d))) for d in docs]
    assert len({k.key for k in order}) == 1 and order[0].label == "keys reordered"
    # the same real change in two files is one kind; another value is another
    base = {"version": "1", "x": 1}
    same1 = kind(dump(base), dump({**base, "version": "2"}, 4))
    same2 = kind(dump({**base, "x": 7}), dump({**base, "x": 7, "version": "2"}, 4))
    other = kind(dump(base), dump({**base, "version": "3"}, 4))
    assert same1.key == same2.key != other.key
    assert same1.label == 're-indented 2 spaces → 4 spaces · $.version: "1" → "2"'
    # values that only look alike once cut for display are never one kind
    long1, long2 = "x" * 200 + "1", "x" * 200 + "2"
    k1 = kind(b'{"v": "a"}', json.dumps({"v": long1}).encode())
    k2 = kind(b'{"v": "a"}', json.dumps({"v": long2}).encode())
    assert k1.key != k2.key
    # text: the same changed line, wherever it is
    t1 = kind(b"a\nb\nold\n", b"a\nb\nnew\n", "txt")
    t2 = kind(b"old\n", b"new\n", "txt")
    assert t1.key == t2.key


# ------------------------------------------------------------------------------ end to end

FILES = {f"api/{name}.json": compat(api, name, k) for k, (api, name) in enumerate(
    [("Window", "fetch"), ("Request", "clone"), ("Response", "json"), ("Headers", "append"),
     ("URL", "parse"), ("Blob", "text"), ("Worker", "terminate"), ("Cache", "match")]
)}  # fmt: skip


def build_repo(repo: TestRepo) -> dict[str, tuple[str, ...]]:
    """main: the curated files; regen: each mixed file with its noise and one bump, one
    edit-only file, one noise-only file. Returns each file's noise."""
    for path, doc in FILES.items():
        repo.write(path, dump(doc))
    repo.commit("curated")
    repo.git("checkout", "-q", "-b", "regen")
    plan: dict[str, tuple[str, ...]] = {}
    combos = [
        ("reindent",),
        ("crlf",),
        ("bom", "final"),
        ("reorder",),
        ("reindent", "crlf", "reorder"),
    ]
    for (path, doc), noise in zip(FILES.items(), combos, strict=False):
        repo.write(path, noisy(bump(doc), noise))
        plan[path] = noise
    edit_only, noise_only = list(FILES)[5], list(FILES)[6]
    repo.write(edit_only, dump(bump(FILES[edit_only], "chrome")))
    plan[edit_only] = ()
    repo.write(noise_only, noisy(FILES[noise_only], ("reindent",)))
    repo.commit("regenerated")
    return plan


def test_a_repository_of_mixed_files_end_to_end(repo: TestRepo, cli: Cli, tmp_path: Path) -> None:
    plan = build_repo(repo)
    junit, summary = tmp_path / "j.xml", tmp_path / "s.md"
    code, out, err = cli(
        "diff",
        "main",
        "HEAD",
        "--format",
        "json",
        "--junit",
        str(junit),
        "--summary",
        str(summary),
        repo=repo,
    )
    assert code == 1 and err == ""
    doc = json.loads(out)
    assert not list(VALIDATOR.iter_errors(doc))
    found = {m["path"]: m for m in doc["mismatches"]}
    for path, noise in plan.items():
        m = found[path]
        assert m["mismatch_type"] == "content" and m["plan"]["action"] == "manual"
        (real,) = m["changes"]["real"]
        assert real["path"].endswith(".version_added") and real["kind"] == "changed"
        if noise:
            assert m["changes"]["noise"] and m["plan"]["first"]["safe"]
        else:  # edit-only: a clean real change, nothing to strip
            assert m["changes"]["noise"] == [] and "first" not in m["plan"]
    assert found[list(FILES)[6]]["mismatch_type"] == "whitespace"
    assert "changes" not in found[list(FILES)[6]]

    # what resolve --yes will commit for the first steps: the stripped heads
    for path, noise in plan.items():
        if not noise:
            continue
        base = repo.git("show", f"main:{path}").encode()
        spec = transforms.strip_noise("json", whitespace.JSON_TEXT, ClassifySettings())
        repo.write(path, transforms.apply(spec, base, repo.read(path)))
    repo.commit("strip the noise")
    numstat = repo.git("diff", "--numstat", "main", "HEAD").splitlines()
    counts = {line.split("\t")[2]: line.split("\t")[:2] for line in numstat}
    for path in plan:
        assert counts[path] == ["1", "1"], (path, counts[path])
    # edit-only file untouched by the stripping, noise-only file still its own (restored later)
    assert repo.read(list(FILES)[5]) == dump(bump(FILES[list(FILES)[5]], "chrome"))
    # a later diff shows every mixed file as a clean real change
    code, out, _ = cli("diff", "main", "HEAD", "--format", "json", repo=repo)
    after = {m["path"]: m for m in json.loads(out)["mismatches"]}
    for path in plan:
        assert after[path]["changes"]["noise"] == [] and "first" not in after[path]["plan"]


def test_every_report_shows_the_change_list(
    repo: TestRepo, cli: Cli, tmp_path: Path, monkeypatch
) -> None:
    build_repo(repo)
    mixed = "api/fetch.json"
    change = '$.api.Window.fetch.__compat.support.safari.version_added: "'
    junit, summary = tmp_path / "j.xml", tmp_path / "s.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "step.md"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(
        "diff", "main", "HEAD", "--junit", str(junit), "--summary", str(summary), repo=repo
    )
    assert code == 1
    # the text table: a CHANGE column, every row one greppable line
    row = next(line for line in out.splitlines() if line.startswith(mixed + " "))
    assert "strip_noise (safe) + manual" in row
    assert '.version_added: "' in row and "noise: whitespace" in row
    # JUnit: the change list, not 50 lines of a re-indented file
    xml = validate_junit(junit)
    case = next(c for c in next(iter(xml)) if c.name == mixed)
    body = case.result[0].text
    assert change in body and "noise beside it: re-indented 2 spaces → 4 spaces" in body
    assert "first step: strip_noise.v1 (safe)" in body
    assert len(body.split("\n\n")[0].splitlines()) == 3  # change, noise, first step
    assert '"chrome"' not in body  # no line of the whole-file diff
    # Markdown: the change in the row of the real change
    tables = lint_markdown(summary.read_text())
    rows = tables["path|status|type|plan|approved|change"]
    cell = next(r for r in rows if r[0] == mixed)
    assert cell[3] == "strip_noise (safe), then manual"
    assert "version\\_added: &quot;" in cell[5] or "version\\_added:" in cell[5]
    assert "noise beside it: whitespace" in cell[5]
    # annotations: at the changed line of the head file
    found = {props.get("file"): (props, message) for kind, props, message in parse_annotations(err)}
    props, message = found[mixed]
    head_lines = repo.read(mixed).decode().splitlines()
    assert '"version_added"' in head_lines[int(props["line"]) - 1]
    assert change in message and "strip_noise.v1 strips it safely" in message


def test_hostile_values_in_a_change_list_are_shown_escaped(
    repo: TestRepo, cli: Cli, tmp_path: Path, monkeypatch
) -> None:
    evil = "\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\u202e##[error]x\n::error::forged"
    repo.write("a.json", dump({"note": "fine", "list": [1, 2]}))
    repo.commit("base")
    repo.write("a.json", dump({"note": evil, evil: 1, "list": [1, 2]}, 4))
    repo.commit("head")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "step.md"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    junit = tmp_path / "j.xml"
    code, out, err = cli(
        "diff", "HEAD~1", "HEAD", "--format", "json", "--junit", str(junit), repo=repo
    )
    assert code == 1
    doc = json.loads(out)
    (m,) = doc["mismatches"]
    shown = [c[k] or "" for c in m["changes"]["real"] for k in ("path", "before", "after")]
    assert any("ZWNobyBwd25lZA==" in text for text in shown)  # the value is there, escaped:
    for text in shown:  # no raw control, no bidi override, no workflow command
        assert not re.search(r"[\x00-\x1f\x7f\u202e]", text) and "##[" not in text
    validate_junit(junit)
    text = junit.read_text()
    assert "\x1b" not in text and "\u202e" not in text
    for line in err.splitlines():
        assert line.startswith(("::error ", "::notice "))
        assert "\x1b" not in line and "::error::forged" not in line
    record("attacks", "mixed: hostile values in a change list are shown escaped", True)


def test_json_sort_keys_is_a_checked_setting(repo: TestRepo, cli: Cli) -> None:
    repo.write("a.json", b'{"b": 1, "a": 2}\n')
    repo.commit("base")
    repo.write(".phase2/config.toml", '[noise]\njson_sort_keys = "yes"\n')
    code, out, err = cli("diff", repo=repo)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert ".phase2/config.toml" in err and "json_sort_keys" in err
    repo.write(".phase2/config.toml", "[noise]\njson_sort_keys = true\n")
    code, _, err = cli("diff", repo=repo)
    assert code == 0 and err == ""
