"""A mixed file is walked once when it is stripped right after its analysis (``resolve
--yes``, ``check --fix``): the analysis that reads the text emits the stripped head as it
walks and keeps it (core/changes.py ``_KeptStrip``), and ``strip_json``, asked next for the
very same pair, returns it. Held here to the analysis without it (the same change list) and
to ``strip_json``'s own walk (the same bytes), and shown to spare the second walk."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given

from phase2_git.core import changes, jsonvalue
from tests.conftest import Cli, TestRepo
from tests.test_mixed_props import PROPS, REL_TOL, json_cases


@contextlib.contextmanager
def counted_walks() -> Iterator[list[dict[str, Any]]]:
    """The keyword arguments of every ``_walk_json`` call meanwhile (a wrapper of our own
    function, set and restored by hand: hypothesis runs many examples in one test)."""
    calls: list[dict[str, Any]] = []
    real = changes._walk_json

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(*args, **kwargs)

    changes._walk_json = counting
    try:
        yield calls
    finally:
        changes._walk_json = real


def fresh_strip(a: bytes, b: bytes) -> bytes:
    changes._KEPT.clear()
    return changes.strip_json(a, b, rel_tol=REL_TOL)


@PROPS
@given(json_cases())
def test_the_kept_strip_is_strip_json_s_own(case: tuple[bytes, bytes, bool, bool]) -> None:
    a, b, _, _ = case
    expected = fresh_strip(a, b)
    a_doc, b_doc = jsonvalue.parse(a), jsonvalue.parse(b)
    plain = changes.analyse_json(a, b, a_doc, b_doc, rel_tol=REL_TOL)
    with counted_walks() as analysed:
        kept = changes.analyse_json(a, b, a_doc, b_doc, rel_tol=REL_TOL, keep_strip=True)
    assert kept == plain  # emitting as it walks changes nothing the walk finds
    with counted_walks() as stripping:
        assert changes.strip_json(a, b, rel_tol=REL_TOL) == expected
    emitted = any(kw.get("emit") for kw in analysed)
    assert kept is not None
    if emitted and kept.mixed:
        assert stripping == []  # taken, not walked again
    else:
        assert stripping != [] or expected == a  # nothing kept: strip_json walked (or not JSON)
    assert changes._KEPT.take(a, b, REL_TOL, 0.0) is None  # taken once, then gone


MIXED_A = json.dumps([{"id": i, "v": i / 7, "tag": "x"} for i in range(50)], indent=2) + "\n"
MIXED_B_DOC = [{"tag": "x", "v": i / 7, "id": i} for i in range(50)]  # every key reordered
MIXED_B_DOC[17]["tag"] = "y"  # and one real edit


def mixed_pair() -> tuple[bytes, bytes]:
    return MIXED_A.encode(), (json.dumps(MIXED_B_DOC, indent=2) + "\n").encode()


def test_strip_json_takes_only_the_pair_it_was_kept_for() -> None:
    a, b = mixed_pair()
    expected = fresh_strip(a, b)
    a_doc, b_doc = jsonvalue.parse(a), jsonvalue.parse(b)

    def analysed() -> None:
        found = changes.analyse_json(a, b, a_doc, b_doc, rel_tol=REL_TOL, keep_strip=True)
        assert found is not None and found.mixed

    # another head, another base, another tolerance: walked as if nothing were kept
    other = b.replace(b'"y"', b'"z"')
    for args, tol in (((a, other), REL_TOL), ((b, a), REL_TOL), ((a, b), 1e-3)):
        analysed()
        with counted_walks() as walks:
            assert changes.strip_json(*args, rel_tol=tol) == fresh_strip(*args) or tol != REL_TOL
        assert walks, (args, tol)
    # equal bytes, other objects: taken (compared whole, never by identity)
    analysed()
    with counted_walks() as walks:
        assert changes.strip_json(bytes(bytearray(a)), bytes(bytearray(b)), rel_tol=REL_TOL) == (
            expected
        )
    assert walks == []
    # without keep_strip the analysis keeps nothing, and drops nothing either
    analysed()
    changes.analyse_json(a, other, a_doc, jsonvalue.parse(other), rel_tol=REL_TOL)
    with counted_walks() as walks:
        assert changes.strip_json(a, b, rel_tol=REL_TOL) == expected
    assert walks == []
    # the next analysis that keeps its strip drops what nobody took
    analysed()
    found = changes.analyse_json(a, a, a_doc, a_doc, rel_tol=REL_TOL, keep_strip=True)
    assert found is not None and not found.mixed
    with counted_walks() as walks:
        assert changes.strip_json(a, b, rel_tol=REL_TOL) == expected
    assert walks


def _staged_mixed(repo: TestRepo) -> tuple[bytes, bytes]:
    a, b = mixed_pair()
    repo.write("out/records.json", a)
    repo.commit("base")
    repo.write("out/records.json", b)
    repo.git("add", "-A")
    return a, b


def test_check_fix_walks_a_mixed_file_once(repo: TestRepo, cli: Cli) -> None:
    a, b = _staged_mixed(repo)
    with counted_walks() as walks:
        code, out, err = cli("check", "--fix", repo=repo)
    assert code == 1, err
    assert "out/records.json: stripped the noise beside a real change" in out, out
    assert repo.read("out/records.json") == fresh_strip(a, b)
    # the value walk stops at the first reordered key; the text walk emits the strip: before,
    # strip_json walked the file once more
    assert [bool(kw.get("emit")) for kw in walks] == [False, True], walks


def test_resolve_yes_walks_a_mixed_file_once(repo: TestRepo, cli: Cli) -> None:
    a, b = _staged_mixed(repo)
    repo.git("checkout", "-q", "-b", "regen")
    repo.commit("regenerated", all=False)
    with counted_walks() as walks:
        code, out, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 1, err  # the real change is left for review
    assert "strip the noise of 1 mixed file" in repo.git("log", "-1", "--format=%s")
    assert "auto-approve" in out, out
    assert repo.git("show", "HEAD:out/records.json").encode() == fresh_strip(a, b)
    assert [bool(kw.get("emit")) for kw in walks] == [False, True], walks


def test_a_strip_the_policy_does_not_allow_is_not_kept(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # key order is not noise resolve may strip by itself here: the analysis kept the strip it
    # walked, and it is dropped once the file is left alone, not held beside the next pair
    repo.write(".phase2/config.toml", '[policy]\nauto_apply_types = ["whitespace"]\n')
    a, b = _staged_mixed(repo)  # the configuration is the base's (trusted)
    expected = fresh_strip(a, b)
    repo.git("checkout", "-q", "-b", "regen")
    repo.commit("regenerated", all=False)
    kept: list[bytes] = []
    real_keep = changes._KeptStrip.keep

    def keep(self: changes._KeptStrip, *args: Any) -> None:
        kept.append(args[-1])
        real_keep(self, *args)

    monkeypatch.setattr(changes._KeptStrip, "keep", keep)
    code, _, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 1, err
    assert repo.git("show", "HEAD:out/records.json").encode() == b  # nothing stripped
    assert kept == [expected]  # kept by the analysis...
    assert changes._KEPT.take(a, b, REL_TOL, 0.0) is None  # ...and dropped
