"""``phase2 labels export`` / ``phase2 labels import``: the calibration dataset."""

from __future__ import annotations

import typer

from phase2_git.cli import app

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
    embed: bool = typer.Option(
        False,
        "--embed",
        help="Copy the content into the file (default: name it by blob id; git has it).",
    ),
    repo_path: str = typer.Option(".", "-C", "--repo", help="Run in this repository."),
) -> None:
    """Turn labelled decisions of .phase2/decisions.jsonl into LabeledMismatch lines."""
    from phase2_git.app.labels import export_at

    typer.echo(export_at(repo_path, config=config, output=output, embed=embed).render("wrote"))


@labels_app.command("import")
def import_cmd(
    file: str = typer.Argument(..., help="LabeledMismatch JSONL to bring in."),
    output: str | None = typer.Option(
        None, "--output", "-o", help="Merge into this file instead of .phase2/labels.jsonl."
    ),
    repo_path: str = typer.Option(".", "-C", "--repo", help="Run in this repository."),
) -> None:
    """Validate a labelled JSONL from elsewhere and merge it into the dataset."""
    from phase2_git.app.labels import import_at

    typer.echo(import_at(repo_path, file, output=output).render("wrote"))
