"""Whitespace that carries meaning is a real change (attack review, item 6).

``server:\\n  admin: false\\n  debug: false`` → ``…\\ndebug: false`` moves ``debug`` out of
``server``; a Python line moved into an ``if`` block changes the program. Called
``whitespace`` noise with a safe plan, either would let ``phase2 diff --fail-on real`` pass. Which
whitespace is noise is decided per kind of file (core/whitespace.py); the classification,
the ``whitespace`` method and the transforms read the same table.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from phase2_git.core import transforms, whitespace
from phase2_git.core.classify import Pair, whitespace_rules
from phase2_git.core.methods import METHODS, MethodInput
from phase2_git.core.model import Blob, Change, is_noise
from phase2_git.core.pipeline import Settings, build_mismatch
from phase2_git.core.settings import (
    DEFAULT_METHODS,
    ClassifySettings,
    MethodSettings,
    PolicySettings,
)
from phase2_git.core.whitespace import WhitespaceRules
from tests.conftest import Cli, TestRepo
from tests.hostile_support import record

SETTINGS = Settings(ClassifySettings(), MethodSettings(), PolicySettings())
CANONICALIZE = SETTINGS._replace(
    policy=PolicySettings(noise_strategy={"whitespace": "canonicalize"})
)

# formats where indentation (and every whitespace but line endings, BOM, final newline) counts
STRICT_PATHS = (
    "deploy/config.yaml",
    "ci.yml",
    "app/main.py",
    "Makefile",
    "rules.mk",
    "README.md",
    "fix.patch",
    "data/table.csv",
    "data/table.tsv",
    "run.sh",
    "pyproject.toml",
    "app.properties",
)
# formats where only trailing whitespace is also noise
TRAILING_PATHS = ("snap/out.txt", "docs/index.rst", "golden/page.html", "Dockerfile", "x.golden")
BUILTIN_PATHS = STRICT_PATHS + TRAILING_PATHS
YAML_BASE = b"server:\n  admin: false\n  debug: false\n"
YAML_HEAD = b"server:\n  admin: false\ndebug: false\n"  # debug left the server mapping


# ----------------------------------------------------------------------------------- helpers


def _oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def mismatch(path: str, a: bytes, b: bytes, settings: Settings = SETTINGS):
    ba = Blob(_oid(a), len(a), a, a[:8000], "100644")
    bb = Blob(_oid(b), len(b), b, b[:8000], "100644")
    change = Change("modified", path, None, ba.oid, bb.oid, "100644", "100644")
    return build_mismatch(change, ba, bb, settings, DEFAULT_METHODS)


def verdict(m, method: str):
    return next(v for v in m.verdicts if v.method == method)


def ws_equivalent(a: bytes, b: bytes, rules: WhitespaceRules) -> bool:
    pair = Pair.of(a, b, "text", rules=rules)
    blob_a, blob_b = Blob("a", len(a), a, a[:8000]), Blob("b", len(b), b, b[:8000])
    m = MethodInput(blob_a, blob_b, pair, ClassifySettings(), MethodSettings())
    return METHODS["whitespace"].fn(m).equivalent


def assert_real(m) -> None:
    assert m.mismatch_type == "content", (m.mismatch_type, m.detail)
    assert not m.equivalent
    assert m.plan.action == "manual" and not m.plan.safe
    assert not verdict(m, "whitespace").equivalent


# words never hold whitespace, never start a JSON document, never end with a backslash
WORD = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"), blacklist_characters="{[\\"
    ),
    min_size=1,
    max_size=6,
)
INDENTS = ("", " ", "  ", "    ", "\t", "\t  ")


@st.composite
def lines(draw: st.DrawFn) -> list[str]:
    """A text as its lines: indented runs of words, some blank lines, at least one word."""
    out = draw(
        st.lists(
            st.one_of(
                st.just(""),
                st.builds(
                    lambda i, ws: i + " ".join(ws),
                    st.sampled_from(INDENTS),
                    st.lists(WORD, min_size=1, max_size=4),
                ),
            ),
            min_size=1,
            max_size=8,
        )
    )
    assume(any(line.strip() for line in out))
    return out


def text(ls: list[str]) -> bytes:
    return ("\n".join(ls) + "\n").encode("utf-8")


# ------------------------------------------------------------------------- the table itself


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("a/b.yaml", "YAML"),
        ("B.YML", "YAML"),
        ("x.py", "Python"),
        ("stubs/x.pyi", "Python"),
        ("Makefile", "Makefile"),
        ("sub/GNUmakefile", "Makefile"),
        ("x.mk", "Makefile"),
        ("README.md", "Markdown"),
        ("a.diff", "diff"),
        ("a.csv", "CSV/TSV"),
        ("a.tsv", "CSV/TSV"),
        ("a.sh", "shell"),
        ("a.toml", "TOML"),
        ("a.properties", "Java properties"),
        ("a.rst", "reStructuredText"),
        ("a.txt", "plain text"),
        ("a.go", "plain text"),
        ("noext", "plain text"),
        ("a.json", "JSON"),
        ("a.ipynb", "JSON"),
    ],
)
def test_rules_by_path(path: str, fmt: str) -> None:
    assert whitespace_rules(path, ClassifySettings()).format == fmt


def test_table_rows_are_consistent() -> None:
    keys = [k for _, ks in whitespace.TABLE for k in ks]
    assert len(keys) == len(set(keys)), "a key in two rows"
    assert all(k == k.lower() for k in keys)
    for rules, _ in whitespace.TABLE:
        # no built-in format calls indentation, inner runs, blank lines or line breaks noise
        assert not (rules.indent or rules.inner or rules.blank_lines or rules.tokens_only)


def test_declared_patterns_win() -> None:
    cs = ClassifySettings(whitespace_insignificant=("snap/*.txt", "*.md"))
    assert whitespace_rules("snap/a.txt", cs) is whitespace.INSIGNIFICANT
    assert whitespace_rules("docs/x.md", cs) is whitespace.INSIGNIFICANT
    assert whitespace_rules("other/a.txt", cs).format == "plain text"


# ------------------------------------------------------------------ properties of the rules


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    ls=lines(),
    path=st.sampled_from(BUILTIN_PATHS),
    pick=st.integers(min_value=0),
    new=st.sampled_from(INDENTS),
)
def test_changing_indentation_is_never_noise(ls: list[str], path: str, pick: int, new: str) -> None:
    """For every built-in format (YAML, Python, Makefile, Markdown … and plain text): changing
    the leading indentation of any non-blank line is a real change, whatever else moved."""
    candidates = [i for i, line in enumerate(ls) if line.strip()]
    i = candidates[pick % len(candidates)]
    body = ls[i].lstrip(" \t")
    assume(ls[i] != new + body)
    head = list(ls)
    head[i] = new + body
    assert_real(mismatch(path, text(ls), text(head)))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    ls=lines(),
    path=st.sampled_from(TRAILING_PATHS),
    pads=st.lists(st.sampled_from(["", " ", "  ", "\t", " \t "]), min_size=8, max_size=8),
)
def test_trailing_spaces_are_noise_where_the_table_says(
    ls: list[str], path: str, pads: list[str]
) -> None:
    head = [line + pad for line, pad in zip(ls, pads)]
    assume(head != ls)
    m = mismatch(path, text(ls), text(head))
    assert m.mismatch_type == "whitespace", m.detail
    assert m.equivalent and m.plan.safe and verdict(m, "whitespace").equivalent


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(ls=lines(), path=st.sampled_from(STRICT_PATHS), pick=st.integers(min_value=0))
def test_trailing_spaces_are_real_where_they_are_content(
    ls: list[str], path: str, pick: int
) -> None:
    """Markdown hard breaks, YAML block scalars, CSV fields, make variables, here-documents."""
    i = pick % len(ls)
    head = list(ls)
    head[i] += "  "
    assert_real(mismatch(path, text(ls), text(head)))


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(ls=lines(), path=st.sampled_from(BUILTIN_PATHS), pick=st.integers(min_value=0))
def test_joining_or_splitting_lines_is_never_noise(ls: list[str], path: str, pick: int) -> None:
    splittable = [i for i, line in enumerate(ls) if " " in line.strip(" \t")]
    assume(splittable)
    i = splittable[pick % len(splittable)]
    indent = ls[i][: len(ls[i]) - len(ls[i].lstrip(" \t"))]
    first, rest = ls[i][len(indent) :].split(" ", 1)
    split = [*ls[:i], indent + first, indent + rest, *ls[i + 1 :]]
    assert_real(mismatch(path, text(ls), text(split)))  # split
    assert_real(mismatch(path, text(split), text(ls)))  # joined
    blank = [*ls[:i], "", *ls[i:]]
    assert_real(mismatch(path, text(ls), text(blank)))  # a blank line added


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(ls=lines())
def test_declared_insignificant_accepts_any_whitespace(ls: list[str]) -> None:
    cs = ClassifySettings(whitespace_insignificant=("*.txt",))
    declared = SETTINGS._replace(classify=cs)
    head = [" \t" + " ".join(line.split()) for line in ls if line.strip()]
    assume(head != ls)
    m = mismatch("a.txt", text(ls), text(head) + b"\n\n  \n", declared)
    assert m.mismatch_type in ("whitespace", "trailing_newline"), m.detail
    assert m.plan.safe


# transforms: idempotent and equivalence-preserving under the rules that justified them
ALL_RULES = (
    [rules for rules, _ in whitespace.TABLE]
    + [whitespace.DEFAULT, whitespace.INSIGNIFICANT]
    + [
        WhitespaceRules("combo", trailing=t, indent=i, inner=n, blank_lines=b)
        for t, i, n, b in itertools.product((False, True), repeat=4)
    ]
)
MESSY = st.lists(
    st.one_of(
        st.text(max_size=6),
        st.sampled_from(["\r\n", "\r", "\n", "\n\n", " ", "\t", "\\", "\\ ", "\ufeff", "\xa0"]),
    ),
    max_size=20,
).map("".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(rules=st.sampled_from(ALL_RULES), body=MESSY, bom=st.booleans())
def test_whitespace_transforms_are_idempotent_and_equivalent(
    rules: WhitespaceRules, body: str, bom: bool
) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + body.encode("utf-8", "surrogatepass")
    fn = transforms.make_normalize_whitespace(rules)
    try:
        once = fn(data)
    except transforms.TransformError:
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        return
    assert fn(once) == once
    assert ws_equivalent(data, once, rules)
    assert b"\r" not in once


@settings(max_examples=200)
@given(rules=st.sampled_from(ALL_RULES), body=MESSY)
def test_line_ending_bom_and_final_newline_are_noise_in_every_format(
    rules: WhitespaceRules, body: str
) -> None:
    # a U+FEFF after the BOM is content: which of the two is the BOM is not a question here
    assume(not body.startswith("\ufeff"))
    data = body.encode("utf-8", "surrogatepass")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return
    for fn in (
        transforms.t_strip_bom,
        transforms.t_normalize_line_endings,
        transforms.t_final_newline,
    ):
        assert ws_equivalent(data, fn(data), rules)
    assert ws_equivalent(data, b"\xef\xbb\xbf" + data, rules)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
# found by hypothesis: a JSON file ending inside a string lost its final newline, which the
# classification called trailing_newline and the whitespace method a difference
@example(ls=['"'], path="a.json", edits=[("eof", 0)])
@given(
    ls=lines(),
    path=st.sampled_from((*BUILTIN_PATHS, "a.json")),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["trail", "indent", "inner", "blank", "split", "crlf", "bom", "eof"]),
            st.integers(min_value=0),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_type_verdict_and_plan_agree(ls: list[str], path: str, edits) -> None:
    """Whatever whitespace a regeneration touched: classified ``whitespace`` exactly when the
    ``whitespace`` method proves it under the file's rules, and then the plan is safe and its
    transform keeps the head equivalent to the base; otherwise ``content`` and manual."""
    head = list(ls)
    crlf = bom = eof = False
    for kind, n in edits:
        i = n % len(head)
        if kind == "trail":
            head[i] += " "
        elif kind == "indent":
            head[i] = "  " + head[i]
        elif kind == "inner":
            head[i] = head[i].replace(" ", "  ", 1)
        elif kind == "blank":
            head.insert(i, "")
        elif kind == "split":
            head[i] = head[i].replace(" ", "\n", 1)
        crlf, bom, eof = crlf or kind == "crlf", bom or kind == "bom", eof or kind == "eof"
    out = "\n".join(head) + ("" if eof else "\n")
    data = (b"\xef\xbb\xbf" if bom else b"") + out.replace("\n", "\r\n" if crlf else "\n").encode()
    base = text(ls)
    assume(data != base)
    for settings_ in (SETTINGS, CANONICALIZE):
        m = mismatch(path, base, data, settings_)
        rules = whitespace_rules(path, ClassifySettings())
        event(f"{m.mismatch_type} / {m.plan.action}")
        if m.mismatch_type in ("bom", "line_endings", "trailing_newline"):
            assert ws_equivalent(base, data, rules)
            continue
        assert (m.mismatch_type == "whitespace") == ws_equivalent(base, data, rules), m.detail
        if m.mismatch_type == "whitespace":
            assert verdict(m, "whitespace").equivalent and m.plan.safe
            spec = transforms.canonicalizer("whitespace", m.artifact_type, 2, rules)
            if m.plan.action == "normalize_whitespace":
                assert spec is not None and m.plan.transform == spec.transform
                assert ws_equivalent(base, transforms.apply(spec, base, data), rules)
        else:
            assert not is_noise(m.mismatch_type) or m.mismatch_type == "numeric_precision"
            assert not verdict(m, "whitespace").equivalent
            assert m.plan.action == "manual" or m.mismatch_type == "numeric_precision"


# ------------------------------------------------------------------ JSON and its strings


@pytest.mark.parametrize(
    ("path", "a", "b", "expected"),
    [
        # formatting between tokens is never meaningful ...
        (
            "a.json",
            b'{"a": [1, 2]}\n',
            b'{\n    "a": [\n        1,\n        2\n    ]\n}\n',
            "whitespace",
        ),
        # ... whitespace inside a string is content, in values and in keys
        ("a.json", b'{"a": "x y"}\n', b'{"a": "x  y"}\n', "content"),
        ("a.json", b'{"a": "x y"}\n', b'{"a": "x\\ty"}\n', "content"),
        ("a.json", b'{"a b": 1}\n', b'{"a  b": 1}\n', "content"),
        ("a.json", b'{"a": "x "}\n', b'{"a": "x"}\n', "content"),
        # JSON that does not parse (NaN, as Python writes it): the same, token by token
        ("a.json", b'{"a": NaN, "b": 1}\n', b'{\n  "a": NaN,\n  "b": 1\n}\n', "whitespace"),
        ("a.json", b'{"a": NaN, "b": "x y"}\n', b'{"a": NaN, "b": "x  y"}\n', "content"),
        ("a.json", b"{'a': 'x y', b: NaN}\n", b"{'a': 'x  y', b: NaN}\n", "content"),
        ("a.json", b'{"a": NaN, "b": "x y}\n', b'{"a": NaN,  "b": "x  y}\n', "content"),
    ],
)
def test_json_whitespace(path: str, a: bytes, b: bytes, expected: str) -> None:
    m = mismatch(path, a, b)
    assert m.mismatch_type == expected, m.detail
    if expected == "content":
        assert_real(m)
    else:
        assert m.plan.safe and verdict(m, "whitespace").equivalent


def test_details_say_what_and_where() -> None:
    m = mismatch("c.yaml", YAML_BASE, YAML_HEAD)
    assert m.detail == "indentation changed at line 3: whitespace is significant in YAML"
    assert verdict(m, "whitespace").detail == m.detail
    cases = {
        (b"a\n", b"a  \n", "x.md"): "trailing whitespace changed at line 1",
        (b"a b\n", b"a\tb\n", "x.tsv"): "whitespace inside line 1 changed",
        (b"a\nb\n", b"a\n\nb\n", "x.txt"): "blank line added or removed at line 2",
        (b"a b\n", b"a\nb\n", "x.txt"): "lines joined or split at line 1",
        (b"RUN a \\\n  b\n", b"RUN a \\ \n  b\n", "Dockerfile"): (
            "whitespace after a line-ending backslash changed at line 1"
        ),
    }
    for (a, b, path), where in cases.items():
        assert mismatch(path, a, b).detail.startswith(where + ": "), (path, where)


def test_numeric_jitter_never_carries_a_reindented_line() -> None:
    a = b"server:\n  admin: false\n  timeout: 1.5\n"
    b = b"server:\n  admin: false\ntimeout: 1.5000000000001\n"
    m = mismatch("c.yaml", a, b)
    assert_real(m)
    assert "numbers within tolerance, but whitespace" in m.detail
    assert not verdict(m, "numeric").equivalent
    # the same jitter in place is still numeric noise
    same_place = mismatch("c.yaml", a, b"server:\n  admin: false\n  timeout: 1.5000000000001\n")
    assert same_place.mismatch_type == "numeric_precision"


def test_canonicalize_keeps_what_the_format_means() -> None:
    """``noise.strategy.whitespace = "canonicalize"`` rewrites the head: never the trailing
    spaces of a Markdown hard break, always those of plain text."""
    md_base = b"line one  \nline two\n"
    md_head = b"\xef\xbb\xbfline one  \r\nline two\r\n"
    m = mismatch("README.md", md_base, md_head, CANONICALIZE)
    assert m.mismatch_type == "whitespace" and m.plan.action == "normalize_whitespace"
    assert m.plan.transform is not None
    assert m.plan.transform.id == "normalize_whitespace.eol.v1"
    rules = whitespace_rules("README.md", ClassifySettings())
    spec = transforms.canonicalizer("whitespace", "text", 2, rules)
    assert spec is not None and transforms.apply(spec, md_base, md_head) == md_base
    txt = mismatch("a.txt", b"x\ny\n", b"x  \r\ny\t\r\n", CANONICALIZE)
    assert txt.plan.transform is not None
    assert txt.plan.transform.id == "normalize_whitespace.trailing.v1"
    # a line-ending backslash keeps its space: "\\ " is not "\\"
    fn = transforms.make_normalize_whitespace(whitespace.DEFAULT)
    assert fn(b"a \\ \nb  \n") == b"a \\ \nb\n"
    # JSON that does not parse is only ever restored
    assert transforms.canonicalizer("whitespace", "json", 2, whitespace.JSON_TEXT) is not None
    assert transforms.canonicalizer("whitespace", "text", 2, whitespace.JSON_TEXT) is None


def test_a_second_bom_is_content_and_survives_normalising() -> None:
    data = b"\xef\xbb\xbf\xef\xbb\xbfx \n"
    for rules in (whitespace.DEFAULT, whitespace.INSIGNIFICANT):
        fn = transforms.make_normalize_whitespace(rules)
        once = fn(data)
        assert fn(once) == once and ws_equivalent(data, once, rules)
    assert transforms.t_normalize_whitespace(data) == b"\xef\xbb\xbf\xef\xbb\xbfx\n"


# ------------------------------------------------------- through the CLI, on real repositories

REAL = ("content", False, "manual")


def diff(cli: Cli, repo: TestRepo, base: str, head: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli("diff", base, head, "--fail-on", "real", "--format", "json", repo=repo)
    assert err == "", err
    doc = json.loads(out)
    assert doc["summary"]["exit_code"] == code
    return code, {m["path"]: m for m in doc["mismatches"]}


def regen(repo: TestRepo, base: dict[str, bytes], head: dict[str, bytes]) -> None:
    for path, data in base.items():
        repo.write(path, data)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "regen")
    for path, data in head.items():
        repo.write(path, data)
    repo.commit("regen")


def test_cli_yaml_key_moved_out_of_its_mapping_is_real(repo: TestRepo, cli: Cli) -> None:
    regen(repo, {"deploy/config.yaml": YAML_BASE}, {"deploy/config.yaml": YAML_HEAD})
    code, found = diff(cli, repo, "main", "regen")
    m = found["deploy/config.yaml"]
    assert code == 1
    assert (m["mismatch_type"], m["equivalent"], m["plan"]["action"]) == REAL
    assert "indentation changed at line 3" in m["detail"]
    record("attacks", "item6: YAML key dedented out of its mapping is real", True)


def test_cli_python_line_moved_into_an_if_block_is_real(repo: TestRepo, cli: Cli) -> None:
    before = b"def check(user):\n    if user.admin:\n        log(user)\n    allow(user)\n"
    after = b"def check(user):\n    if user.admin:\n        log(user)\n        allow(user)\n"
    regen(repo, {"gen/rules.py": before}, {"gen/rules.py": after})
    code, found = diff(cli, repo, "main", "regen")
    m = found["gen/rules.py"]
    assert code == 1
    assert (m["mismatch_type"], m["equivalent"], m["plan"]["action"]) == REAL
    assert m["plan"]["safe"] is False
    record("attacks", "item6: Python line moved into an if block is real", True)


def test_cli_reindented_yaml_with_float_jitter_is_real(repo: TestRepo, cli: Cli) -> None:
    regen(
        repo,
        {"c.yaml": b"server:\n  admin: false\n  timeout: 1.5\n"},
        {"c.yaml": b"server:\n  admin: false\ntimeout: 1.5000000000001\n"},
    )
    code, found = diff(cli, repo, "main", "regen")
    assert code == 1 and found["c.yaml"]["mismatch_type"] == "content"
    record("attacks", "item6: float jitter does not carry a dedented YAML line", True)


def test_cli_json_reindent_is_still_noise(repo: TestRepo, cli: Cli) -> None:
    regen(
        repo,
        {"golden/a.json": b'{"a": [1, 2], "s": "x y"}\n'},
        {"golden/a.json": b'{\n    "a": [\n        1,\n        2\n    ],\n    "s": "x y"\n}\n'},
    )
    code, found = diff(cli, repo, "main", "regen")
    m = found["golden/a.json"]
    assert code == 0
    assert (m["mismatch_type"], m["equivalent"], m["plan"]["safe"]) == ("whitespace", True, True)
    # a space added inside the string is content
    repo.write("golden/a.json", b'{"a": [1, 2], "s": "x  y"}\n')
    repo.commit("string")
    code, found = diff(cli, repo, "main", "regen")
    assert code == 1 and found["golden/a.json"]["mismatch_type"] == "content"
    record("attacks", "item6: JSON re-indent is noise, whitespace inside a string is not", True)


TRAILING_CASES = [
    # (path, base, head, mismatch type, exit code)
    ("snap/out.txt", b"total 3\nok\n", b"total 3   \nok\t\n", "whitespace", 0),
    ("docs/index.rst", b"Title\n=====\n", b"Title  \n=====\n", "whitespace", 0),
    ("data/table.csv", b"a,b\n1,2\n", b"a,b \n1,2\n", "content", 1),
    ("data/table.tsv", b"a\tb\n", b"a\tb\t\n", "content", 1),
    ("README.md", b"one\ntwo\n", b"one  \ntwo\n", "content", 1),
    ("fix.patch", b" context\n+added\n", b" context \n+added\n", "content", 1),
    ("c.yaml", b"k: |\n  text\n", b"k: |\n  text  \n", "content", 1),
    ("snap/out.txt", b"a  b\n", b"a b\n", "content", 1),  # inner runs: real in plain text
    ("Makefile", b"all:\n\techo hi\n", b"all:\n        echo hi\n", "content", 1),  # tab → spaces
    ("Dockerfile", b"RUN a \\\n  b\n", b"RUN a \\ \n  b\n", "content", 1),  # "\\ " ends the line
]


@pytest.mark.parametrize(("path", "base", "head", "mtype", "code"), TRAILING_CASES)
def test_cli_whitespace_per_format(
    repo: TestRepo, cli: Cli, path: str, base: bytes, head: bytes, mtype: str, code: int
) -> None:
    regen(repo, {path: base}, {path: head})
    got, found = diff(cli, repo, "main", "regen")
    assert (found[path]["mismatch_type"], got) == (mtype, code), found[path]["detail"]
    record("attacks", f"item6: whitespace per format ({path})", True)


def test_cli_check_fix_leaves_a_real_reindent_alone(repo: TestRepo, cli: Cli) -> None:
    """Taken for noise, the change would have ``--fix`` put the old indentation back."""
    repo.write("deploy/config.yaml", YAML_BASE)
    repo.commit("base")
    repo.write("deploy/config.yaml", YAML_HEAD)
    repo.git("add", "-A")
    for args in ((), ("--fix",)):
        code, out, err = cli("check", *args, "deploy/config.yaml", repo=repo)
        assert (code, out, err) == (0, "", "")
    assert repo.read("deploy/config.yaml") == YAML_HEAD
    record("attacks", "item6: check --fix keeps a meaningful re-indent", True)


def test_cli_resolve_canonicalize_keeps_markdown_hard_breaks(repo: TestRepo, cli: Cli) -> None:
    repo.write(".phase2/config.toml", '[noise.strategy]\nwhitespace = "canonicalize"\n')
    regen(
        repo,
        {"docs/a.md": b"line one  \nline two\n", "snap/b.txt": b"x\ny\n"},
        {"docs/a.md": b"\xef\xbb\xbfline one  \r\nline two\r\n", "snap/b.txt": b"x  \ny\t\n"},
    )
    code, _, err = cli("resolve", "main", "--yes", repo=repo)
    assert (code, err) == (0, ""), err
    assert repo.git("show", "HEAD:docs/a.md").encode() == b"line one  \nline two\n"
    assert repo.git("show", "HEAD:snap/b.txt").encode() == b"x\ny\n"
    record("attacks", "item6: canonicalize keeps Markdown hard breaks", True)


def test_cli_declared_insignificant_whitespace(repo: TestRepo, cli: Cli) -> None:
    repo.write(".phase2/config.toml", '[noise]\nwhitespace_insignificant = ["snap/*.txt"]\n')
    regen(
        repo,
        {"snap/a.txt": b"a  b\nc\n", "other/a.txt": b"a  b\nc\n"},
        {"snap/a.txt": b"  a b\n\nc\n", "other/a.txt": b"  a b\n\nc\n"},
    )
    code, found = diff(cli, repo, "main", "regen")
    assert found["snap/a.txt"]["mismatch_type"] == "whitespace"
    assert found["snap/a.txt"]["plan"]["safe"] is True
    assert found["other/a.txt"]["mismatch_type"] == "content"
    assert code == 1
    # a bad value is a usage error naming the file and the key (the working tree's
    # configuration is the one in force when the head is the working tree)
    (repo.root / ".phase2/config.toml").write_text('[noise]\nwhitespace_insignificant = "*.txt"\n')
    code, out, err = cli("diff", "main", repo=repo)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert ".phase2/config.toml" in err and "whitespace_insignificant" in err
    record("attacks", "item6: declared whitespace-insignificant files", True)
