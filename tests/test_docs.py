"""The manifests and the manual agree: snippets, hook ids, action inputs, every command."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from phase2_git.app.init import ACTION_SNIPPET, PRE_COMMIT_SNIPPET

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
DATA = Path(__file__).parent / "data"


def test_snippets_are_the_tested_ones() -> None:
    pre_commit = (DATA / "pre-commit-config.snippet.yaml").read_text()
    workflow = (DATA / "workflow.snippet.yml").read_text()
    assert pre_commit in README and workflow in README
    assert PRE_COMMIT_SNIPPET == pre_commit and ACTION_SNIPPET == workflow


def test_every_hook_and_action_input_is_documented() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    for hook in hooks:
        assert f"`{hook['id']}`" in README, hook["id"]
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    for name in action["inputs"]:
        assert f"`{name}`" in README, name


def test_every_command_is_documented() -> None:
    import typer.main

    from phase2_git.cli import app

    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subs = getattr(command, "commands", None)
        if subs:
            for sub in subs:
                assert f"phase2 {name} {sub}" in README, f"{name} {sub}"
        else:
            assert f"phase2 {name}" in README, name


ARCHITECTURE = ROOT / "docs" / "architecture.md"
# built from parts so that this file does not match itself
_OUTSIDE_DOC = "DESIGN" + ".md"
_ISSUE = re.compile(rb"issue [0-9]", re.IGNORECASE)
_SECTION_REF = re.compile(r"docs/architecture\.md,\s+([A-Z][A-Za-z -]*[a-z])")


def _repository_files(*tops: str) -> list[Path]:
    """Tracked and untracked, not ignored, files under ``tops`` (git's own list, so generated
    output such as bench/out/ is left out)."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *tops],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return [
        ROOT / os.fsdecode(p) for p in out.split(b"\0") if p and (ROOT / os.fsdecode(p)).is_file()
    ]


def test_no_citation_of_documents_outside_the_repository_or_of_issue_numbers() -> None:
    files = _repository_files("phase2_git", "tests", "bench")
    assert len(files) > 50
    bad = []
    for path in files:
        data = path.read_bytes()
        if _OUTSIDE_DOC.encode() in data or _ISSUE.search(data):
            bad.append(str(path.relative_to(ROOT)))
    assert not bad, f"cite docs/architecture.md, the README or a test instead: {bad}"


def test_architecture_names_every_package_and_schema() -> None:
    doc = ARCHITECTURE.read_text(encoding="utf-8")
    pkg = ROOT / "phase2_git"
    packages = sorted(p.name for p in pkg.iterdir() if (p / "__init__.py").is_file())
    assert packages
    for name in packages:
        assert f"`{name}`" in doc or f"`{name}/`" in doc, name
    schemas = sorted(p.name for p in (ROOT / "schemas").glob("*.json"))
    assert schemas
    for name in schemas:
        assert f"`{name}`" in doc, name


def test_section_references_to_the_architecture_exist() -> None:
    headings = {
        line.lstrip("#").strip()
        for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }
    for path in _repository_files("phase2_git", "tests", "bench"):
        if path.suffix not in (".py", ".md"):
            continue
        for ref in _SECTION_REF.findall(path.read_text(encoding="utf-8", errors="replace")):
            section = " ".join(ref.split())
            assert section in headings, f"{path.relative_to(ROOT)}: no section {section!r}"
