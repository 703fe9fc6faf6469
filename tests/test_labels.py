"""``phase2 labels export`` / ``import``: decisions become a labelled dataset judge eval reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from phase2_git.app.labels import labels_from_events
from phase2_git.store.decisions import DecisionLog
from tests.conftest import Cli, TestRepo

ROOT = Path(__file__).parent.parent
LABEL = Draft202012Validator(json.loads((ROOT / "schemas" / "LabeledMismatch.v1.json").read_text()))


def dataset(repo: TestRepo) -> list[dict[str, Any]]:
    rows = [json.loads(x) for x in (repo.root / ".phase2/labels.jsonl").read_text().splitlines()]
    for row in rows:
        errors = list(LABEL.iter_errors(row))
        assert not errors, errors[0]
    return rows


BASE = {
    "golden/a.json": b'{"a": 1, "b": [1, 2]}\n',
    "golden/b.json": b'{"x": "y"}\n',
    "snap/c.txt": b"one\ntwo\n",
    "snap/d.txt": b"keep\n",
    "eval/real.json": b'{"accuracy": 0.81}\n',
    "img.bin": b"\x00\x01\x02",
}
HEAD = {
    "golden/a.json": b'{"b": [1, 2], "a": 1}\n',  # json_ordering
    "golden/b.json": b'{\n  "x": "y"\n}\n',  # whitespace
    "snap/c.txt": b"one\r\ntwo\r\n",  # line_endings
    "snap/d.txt": b"keep",  # trailing_newline
    "eval/real.json": b'{"accuracy": 0.79}\n',  # content
    "img.bin": b"\x00\x01\x03",  # binary
}


def feature_repo(repo: TestRepo) -> None:
    for path, data in BASE.items():
        repo.write(path, data)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feat")
    for path, data in HEAD.items():
        repo.write(path, data)
    repo.commit("regen")


def session(repo: TestRepo, cli: Cli) -> None:
    """A scripted review: approve the real change, reject the binary, --yes the noise."""
    code, _, err = cli("approve", "eval/real.json", "--base", "main", repo=repo)
    assert code == 0, err
    code, _, err = cli("reject", "img.bin", "--base", "main", repo=repo)
    assert code == 0, err
    code, _, err = cli("resolve", "main", "--yes", repo=repo)
    assert code == 1, err  # the rejected binary is a real change without an approval


def test_export_after_a_yes_session_feeds_judge_eval(repo: TestRepo, cli: Cli) -> None:
    feature_repo(repo)
    session(repo, cli)
    code, out, err = cli("labels", "export", repo=repo)
    assert code == 0, err
    assert "6 labelled mismatches (4 equivalent, 2 different" in out
    rows = {r["path"]: r for r in dataset(repo)}
    assert set(rows) == set(BASE)
    for path in ("golden/a.json", "golden/b.json", "snap/c.txt", "snap/d.txt"):
        assert rows[path]["label"] == "equivalent"
        assert rows[path]["source"] == "auto-approve"
    assert rows["golden/a.json"]["mismatch_type"] == "json_ordering"
    assert rows["eval/real.json"]["label"] == "different"
    assert rows["eval/real.json"]["source"] == "approve"
    assert rows["img.bin"]["label"] == "different" and rows["img.bin"]["source"] == "reject"
    # content named by blob id: git has it, the file does not copy it
    for path, r in rows.items():
        assert r["content"] == "git"
        assert not {"before", "after", "before_base64", "after_base64"} & set(r)
        assert r["hashes"]["before"] == repo.git("rev-parse", f"main:{path}").strip()
        assert r["hashes"]["after"] == repo.git("hash-object", "--stdin", input=HEAD[path]).strip()
        assert r["split"] in ("train", "test")
    # judge eval consumes it as is (methods run on the content read from git by blob id)
    code, out, err = cli(
        "judge",
        "eval",
        "--format",
        "json",
        "--methods",
        "canonical_json,whitespace,line_endings,numeric",
        "--bootstrap",
        "100",
        repo=repo,
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["n"] == 6
    assert doc["methods"]["canonical_json"]["by_type"]["json_ordering"]["confusion"]["tp"] == 1
    assert doc["methods"]["line_endings"]["by_type"]["line_endings"]["confusion"]["tp"] == 1
    # export is idempotent: same decisions, same bytes
    first = (repo.root / ".phase2/labels.jsonl").read_bytes()
    code, out, _ = cli("labels", "export", repo=repo)
    assert "6 unchanged" in out
    assert (repo.root / ".phase2/labels.jsonl").read_bytes() == first


def event(n: int, decision: str, mismatch: str, **extra: Any) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "schema": "ResolutionDecision.v1",
        "id": f"dec_{n:016x}",
        "ts": "2026-01-01T00:00:00.000Z",
        "run_id": "run_000000000001",
        "env": "local",
        "mismatch_id": mismatch,
        "plan_id": None,
        "action": "restore_base",
        "decision": decision,
        "user": {"id": "someone", "role": "maintainer"},
        "ui": {"rich": False, "version": "0", "mode": "interactive"},
        "config_fingerprint": "0" * 64,
        "transform": None,
        "hashes": {"before": None, "after": None},
        "path": "x.json",
        "label": None,
        "commit": None,
        "methods": [],
    }
    ev.update(extra)
    return ev


def test_latest_human_label_wins_and_undo_withdraws() -> None:
    m = "mis_000000000001"
    auto = event(1, "auto-approve", m, label="equivalent")
    human = event(2, "label", m, label="different", action="manual")
    (d,) = labels_from_events([auto, human])
    assert (d.label, d.human, d.source) == (False, True, "label")
    # a later auto-approval never overrides a human
    (d,) = labels_from_events([auto, human, event(3, "auto-approve", m)])
    assert d.label is False
    # undoing the human label falls back to the auto-approval
    undo = event(4, "undo", m, refers_to=human["id"], action="manual")
    (d,) = labels_from_events([auto, human, undo])
    assert (d.label, d.source) == (True, "auto-approve")
    # skip / shadow / approve of a real change without a label say nothing
    assert labels_from_events([event(5, "skip", m), event(6, "shadow", m)]) == []
    assert labels_from_events([event(7, "approve", m, action="accept_change")]) == []
    # audits: the audit field, or the label
    (d,) = labels_from_events([event(8, "audit", m, audit="rejected")])
    assert (d.label, d.source) == (False, "audit")
    (d,) = labels_from_events([event(9, "reject", m)])
    assert (d.label, d.source) == (False, "reject")


def test_interactive_labels_audits_and_imports_merge(repo: TestRepo, cli: Cli) -> None:
    feature_repo(repo)
    session(repo, cli)
    cli("labels", "export", repo=repo)
    first = {r["id"]: r for r in dataset(repo)}
    a = next(r for r in first.values() if r["path"] == "golden/a.json")
    b = next(r for r in first.values() if r["path"] == "golden/b.json")
    hashes = a["hashes"]
    log = DecisionLog(repo.root)
    # the review loop's `n` on a.json, an audit of b.json's auto-approval, and a decision
    # without types whose blob is not in the repository
    log.append(
        [
            event(
                1,
                "label",
                a["id"],
                label="different",
                hashes=hashes,
                path="golden/a.json",
                action="manual",
            ),
            event(
                2,
                "audit",
                b["id"],
                audit="approved",
                label="equivalent",
                hashes=b["hashes"],
                path="golden/b.json",
                mismatch_type="whitespace",
                artifact_type="json",
            ),
            event(
                3,
                "reject",
                "mis_00000000abcd",
                path="gone.json",
                hashes={"before": "1" * 40, "after": "2" * 40},
            ),
        ]
    )
    imported = repo.root / "elsewhere.jsonl"
    imported.write_text(
        json.dumps(
            {
                "id": "ext-1",
                "artifact_type": "text",
                "mismatch_type": "content",
                "label": "different",
                "before": "a\n",
                "after": "b\n",
            }
        )
        + "\n"
    )
    code, out, err = cli("labels", "import", str(imported), repo=repo)
    assert code == 0, err
    assert "1 added" in out
    code, out, err = cli("labels", "export", repo=repo)
    assert code == 0, err
    assert "1 without recoverable content" in out
    rows = {r["id"]: r for r in dataset(repo)}
    assert rows[a["id"]]["label"] == "different" and rows[a["id"]]["source"] == "label"
    assert rows[a["id"]]["split"] == first[a["id"]]["split"]  # splits are stable
    assert rows[b["id"]]["source"] == "audit" and rows[b["id"]]["split"] == "train"
    gone = rows["mis_00000000abcd"]
    assert "before" not in gone and "before_base64" not in gone
    assert gone["mismatch_type"] == "content"  # classified: hash-only comparison
    assert rows["ext-1"]["source"] == "import"  # imports survive a re-export
    code, out, err = cli(
        "judge", "eval", "--methods", "exact", "--bootstrap", "50", "--format", "json", repo=repo
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["audit"]["n"] == 1 and doc["audit"]["fdr"] == 0.0
    assert doc["methods"]["exact"]["unjudged"] == 0


def test_import_validates_before_writing(repo: TestRepo, cli: Cli) -> None:
    good = {"id": "i1", "artifact_type": "json", "mismatch_type": "content", "label": "different"}
    src = repo.root / "in.jsonl"
    src.write_text(json.dumps(good) + "\n" + json.dumps({**good, "id": "i2", "label": "?"}) + "\n")
    code, out, err = cli("labels", "import", str(src), repo=repo)
    assert code == 2 and out == ""
    assert "in.jsonl:2: label:" in err and len(err.strip().splitlines()) == 1
    assert not (repo.root / ".phase2/labels.jsonl").exists()
    code, _, err = cli("labels", "import", str(repo.root / "missing.jsonl"), repo=repo)
    assert code == 2 and "missing.jsonl: no such file" in err
    src.write_text(json.dumps(good) + "\n")
    code, out, err = cli("labels", "import", str(src), repo=repo)
    assert code == 0, err
    (row,) = dataset(repo)
    assert row["split"] in ("train", "test") and row["source"] == "import"


def test_broken_labels_file_is_refused_on_export(repo: TestRepo, cli: Cli) -> None:
    feature_repo(repo)
    (repo.root / ".phase2").mkdir()
    (repo.root / ".phase2/labels.jsonl").write_text("{oops\n")
    code, _, err = cli("labels", "export", repo=repo)
    assert code == 2 and ".phase2/labels.jsonl:1: not JSON" in err
