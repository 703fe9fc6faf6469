"""``phase2 labels export`` / ``phase2 labels import``: the calibration dataset."""

from __future__ import annotations

from pathlib import Path

import typer

from phase2_git.cli import app
from phase2_git.cli._common import run

labels_app = typer.Typer(
    name="labels",
    help="Build the labelled calibration dataset (.phase2/labels.jsonl).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(labels_app, name="labels")


@labels_app.command("export")
def export_cmd(
    output: str | None = typer.Option(
        None, "--output", "-o", help="Write here instead of .phase2/labels.jsonl."
    ),
    config: str | None = typer.Option(None, "--config", help="Configuration file to use."),
    repo_path: str = typer.Option(".", "-C", "--repo", help="Run in this repository."),
) -> None:
    """Turn labelled decisions of .phase2/decisions.jsonl into LabeledMismatch lines."""

    def go() -> None:
        from phase2_git.app.labels import export_labels
        from phase2_git.git.objects import read_objects
        from phase2_git.git.repo import GitRepo
        from phase2_git.store.config import load
        from phase2_git.store.decisions import DecisionLog

        repo = GitRepo.discover(repo_path)
        cfg = load(repo.root, config)
        limit = cfg.classify.max_file_size

        def read_content(oids: list[str]) -> dict[str, tuple[bytes | None, int | None]]:
            found = read_objects(repo, oids, max_size=limit)
            return {
                o: (c.data, c.size) if c is not None else (None, None) for o, c in found.items()
            }

        outcome = export_labels(
            repo.root,
            DecisionLog(repo.root).events(),
            read_content,
            cfg.classify,
            output=Path(output) if output else None,
        )
        typer.echo(outcome.render("wrote"))

    run(go)


@labels_app.command("import")
def import_cmd(
    file: str = typer.Argument(..., help="LabeledMismatch JSONL to bring in."),
    output: str | None = typer.Option(
        None, "--output", "-o", help="Merge into this file instead of .phase2/labels.jsonl."
    ),
    repo_path: str = typer.Option(".", "-C", "--repo", help="Run in this repository."),
) -> None:
    """Validate a labelled JSONL from elsewhere and merge it into the dataset."""

    def go() -> None:
        from phase2_git.app.labels import import_labels
        from phase2_git.git.repo import GitRepo

        repo = GitRepo.discover(repo_path)
        outcome = import_labels(repo.root, Path(file), output=Path(output) if output else None)
        typer.echo(outcome.render("wrote"))

    run(go)
