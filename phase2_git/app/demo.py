"""``phase2 demo``: a throwaway repository where a regeneration mixed noise with real changes."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from phase2_git.app.diff import run_diff
from phase2_git.app.diff_result import DiffResult
from phase2_git.git.repo import GitRepo
from phase2_git.git.scratch import commit_all, init_scratch, new_branch
from phase2_git.store.config import resolve

_SCHEMA = {
    "title": "Order",
    "type": "object",
    "properties": {"id": {"type": "string"}, "total": {"type": "number"}},
    "required": ["id", "total"],
}
_METRICS = {"accuracy": 0.8125, "f1": 0.7931, "latency_ms": 41.5}
_RESULTS = {"model": "ranker-v3", "accuracy": 0.81, "cases": 412}
_CONFIG = {"service": "orders", "replicas": 3, "features": ["audit", "export"]}
# a curated compatibility table (the shape of mdn/browser-compat-data): the regeneration
# re-indents it and bumps one version, the case phase2 takes apart
_COMPAT = {
    "api": {
        "fetch": {
            "__compat": {
                "support": {
                    "chrome": {"version_added": "42"},
                    "firefox": {"version_added": "39"},
                    "safari": {"version_added": "10.1"},
                },
                "status": {"experimental": False, "standard_track": True, "deprecated": False},
            }
        }
    }
}


def _dump(obj: object, indent: int | None = 2, sort: bool = False) -> bytes:
    return (json.dumps(obj, indent=indent, sort_keys=sort) + "\n").encode()


BASE_FILES: dict[str, bytes] = {
    "golden/order.schema.json": _dump(_SCHEMA),
    "golden/service.json": _dump(_CONFIG),
    "golden/compat/fetch.json": _dump(_COMPAT),
    "golden/legacy_case.json": _dump({"case": "legacy", "expected": [1, 2, 3]}),
    "golden/broken_fixture.json": _dump({"ok": True}),
    "eval/metrics.json": _dump(_METRICS),
    "eval/results.json": _dump(_RESULTS),
    "snapshots/render.txt": b"<h1>Orders</h1>\n<p>3 open</p>\n",
    "snapshots/cli_help.txt": b"usage: orders [-h] [--json]\n\noptions:\n  -h  help\n",
    "snapshots/summary.csv": b"id,total\nA-1,10.50\nA-2,7.25\n",
    "snapshots/banner.txt": b"Welcome to orders\n",
    "snapshots/old_name.txt": b"kept as is, only moved\n",
    "assets/logo.bin": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64)),
}


def _bumped() -> object:
    compat = json.loads(json.dumps(_COMPAT))
    compat["api"]["fetch"]["__compat"]["support"]["safari"]["version_added"] = "10.3"
    return compat


def regenerated() -> dict[str, bytes | None]:
    """What a regeneration run writes: mostly noise, a few real changes (None = deleted)."""
    metrics = dict(_METRICS, accuracy=0.8125000000000001)
    return {
        # noise
        "golden/order.schema.json": _dump(_SCHEMA, sort=True),  # keys reordered
        "golden/service.json": _dump(_CONFIG, indent=4),  # re-indented
        "eval/metrics.json": _dump(metrics),  # float jitter
        "snapshots/render.txt": b"<h1>Orders</h1>\r\n<p>3 open</p>\r\n",  # CRLF
        "snapshots/cli_help.txt": b"usage: orders [-h] [--json]\n\noptions:\n  -h  help",
        "snapshots/summary.csv": b"\xef\xbb\xbfid,total\nA-1,10.50\nA-2,7.25\n",  # BOM
        # real changes
        "eval/results.json": _dump(dict(_RESULTS, accuracy=0.79)),
        # mixed: re-indented (noise) and one version bumped (real)
        "golden/compat/fetch.json": _dump(_bumped(), indent=4),
        "golden/broken_fixture.json": b'{"ok": true,\n',
        "golden/new_case.json": _dump({"case": "refund", "expected": [4]}),
        "golden/legacy_case.json": None,
        "snapshots/banner.txt": b"Welcome to Orders 2.0\n",
        "snapshots/old_name.txt": None,
        "snapshots/new_name.txt": BASE_FILES["snapshots/old_name.txt"],
        "assets/logo.bin": BASE_FILES["assets/logo.bin"][:-4] + b"\xff\xfe\x00\x01",
    }


# what the demo suggests trying in its repository, in order, each with what it shows (a test
# runs every one there); the regeneration is the branch `regen`, checked out, over `main`
TRY: tuple[tuple[str, str], ...] = (
    ("phase2 diff main regen", "the table above: which changes are noise, which are real"),
    ("phase2 diff main regen -- 'golden/**'", "the same, for the paths a glob matches"),
    ("phase2 diff main regen --format markdown", "the report a pull request gets"),
    ("phase2 resolve main --yes", "commit the safe fixes, log each decision, leave the rest"),
    ("phase2 log", "the decisions resolve logged, who made them and when"),
    ("phase2 diff main", "what is left to review after resolve"),
)
# `phase2 diff` alone compares HEAD with the working tree: said, so that its
# "no artifact differs" there does not read as a failure
PLAIN_DIFF = "`phase2 diff` alone compares HEAD with your working tree: edit a file to see it."


@dataclass
class DemoResult:
    path: Path
    result: DiffResult


def build_demo_repo(root: Path) -> GitRepo:
    repo = init_scratch(root)
    for rel, data in BASE_FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    commit_all(repo, "Generated artifacts, as reviewed")
    new_branch(repo, "regen")
    for rel, new in regenerated().items():
        target = root / rel
        if new is None:
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(new)
    commit_all(repo, "Regenerate artifacts")
    return repo


def demo(parent: Path | None = None) -> DemoResult:
    root = Path(tempfile.mkdtemp(prefix="phase2-demo-", dir=parent))
    repo = build_demo_repo(root)
    result = run_diff(repo, "main", "regen", config=resolve({}, "defaults"))
    return DemoResult(root, result)
