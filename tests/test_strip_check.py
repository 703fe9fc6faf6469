"""A mixed file's first step is planned by the diff and checked where it runs.

``phase2 diff`` plans ``strip_noise.v1`` from the change list without running it; the
transform checks its own result every time it runs (the stripped head must be the head's
document). These tests break the stripper on purpose (fault injection in phase2's own code,
never in git) and show that nothing is written and --yes says why.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phase2_git.core import changes, jsonvalue, transforms, whitespace
from phase2_git.core import classify as classifymod
from phase2_git.core.settings import ClassifySettings
from tests.conftest import Cli, TestRepo
from tests.strategies import hostile_json

BASE = {"name": "fetch", "support": {"chrome": "42", "safari": "10.1"}, "status": "stable"}


def _dump(doc: Any, indent: int = 2) -> bytes:
    return (json.dumps(doc, indent=indent) + "\n").encode()


def _mixed_head() -> bytes:
    head = json.loads(json.dumps(BASE))
    head["support"]["safari"] = "10.2"  # the real edit
    return _dump(head, indent=4)  # beside a re-indent: noise


def _spec() -> transforms.TransformSpec:
    return transforms.strip_noise("json", whitespace.JSON_TEXT, ClassifySettings())


def test_the_strip_keeps_the_edit_and_proves_it() -> None:
    out = transforms.apply(_spec(), _dump(BASE), _mixed_head())
    assert b'"safari": "10.2"' in out and out.startswith(b'{\n  "name"')
    assert (
        transforms.stripped_proof(out, _mixed_head(), whitespace.JSON_TEXT, ClassifySettings())
        == "canonical_json"
    )


def test_a_strip_that_loses_the_edit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # a stripper bug that drops the real change: the base comes back
    monkeypatch.setattr(changes, "strip_json", lambda a, b, **_: a)
    with pytest.raises(transforms.TransformError, match="not the head's document"):
        transforms.apply(_spec(), _dump(BASE), _mixed_head())


def test_diff_plans_the_step_without_running_it(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("data/a.json", _dump(BASE).decode())
    repo.commit("base")
    repo.write("data/a.json", _mixed_head().decode())
    repo.commit("regenerated")

    def boom(*_: object, **__: object) -> bytes:
        raise AssertionError("the diff ran the strip")

    monkeypatch.setattr(changes, "strip_json", boom)
    code, out, _ = cli("diff", "HEAD~1", "HEAD", "--format", "json", repo=repo)
    assert code == 1
    (m,) = json.loads(out)["mismatches"]
    first = m["plan"]["first"]
    assert first["transform"]["id"] == "strip_noise.v1" and first["safe"] is True
    assert first["justified_by"] == ["canonical_json"]


def test_yes_skips_a_refused_strip_and_writes_nothing(
    repo: TestRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("data/a.json", _dump(BASE).decode())
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "regen")
    repo.write("data/a.json", _mixed_head().decode())
    repo.commit("regenerated")
    head = repo.git("rev-parse", "HEAD").strip()
    monkeypatch.setattr(changes, "strip_json", lambda a, b, **_: a)
    code, out, err = cli("resolve", "main", "--yes", repo=repo)
    assert "its noise cannot be stripped" in out + err
    assert "not the head's document" in out + err
    assert repo.git("rev-parse", "HEAD").strip() == head  # no commit
    assert (repo.root / "data/a.json").read_bytes() == _mixed_head()
    assert code == 1  # the real change is left, as --fail-on real says


# ------------------------------------------------ a document parsed once for twin sides


def _twin(data: bytes, how: str) -> bytes:
    if how == "bom":
        return data[3:] if data.startswith(jsonvalue.UTF8_BOM) else jsonvalue.UTF8_BOM + data
    if how == "crlf":
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if how == "cr":
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    return data.rstrip(b"\r\n") if data.endswith(b"\n") else data + b"\n\n"


@given(
    data=hostile_json(),
    indent=st.sampled_from([None, 2, "\t"]),
    how=st.sampled_from(["bom", "crlf", "cr", "final"]),
)
def test_twin_sides_share_exactly_the_document_a_parse_gives(
    data: bytes, indent: object, how: str
) -> None:
    """Sides that differ by a BOM, line endings or final newlines share the base's parsed
    document (classify's share_document): it must be what parsing the head gives."""
    try:
        pretty = json.dumps(json.loads(data), indent=indent).encode()  # type: ignore[arg-type]
    except (ValueError, RecursionError):
        pretty = data
    head = _twin(pretty, how)
    pair = classifymod.Pair.of(pretty, head, "json", rules=whitespace.JSON_TEXT)
    found = classifymod.classify_pair(pair, ClassifySettings())
    if pretty == head or found.mismatch_type not in ("bom", "line_endings", "trailing_newline"):
        return  # a second BOM, say: not a twin, each side is parsed on its own
    shared = pair.after.json
    own = classifymod._Side(head).json
    if isinstance(own, jsonvalue.JsonInvalid):
        assert isinstance(shared, jsonvalue.JsonInvalid)
        return
    assert not isinstance(shared, jsonvalue.JsonInvalid)
    assert jsonvalue.deep_equal(shared, own)
    assert jsonvalue.dumps_canonical(shared, sort_keys=False) == jsonvalue.dumps_canonical(
        own, sort_keys=False
    )
