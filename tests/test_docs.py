"""The manifests and the manual agree: snippets, hook ids, action inputs, every command."""

from __future__ import annotations

from pathlib import Path

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
