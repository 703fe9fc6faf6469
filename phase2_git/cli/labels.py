"""``phase2 labels export`` / ``phase2 labels import``: the calibration dataset."""

from __future__ import annotations

import typer

from phase2_git.cli import app
from phase2_git.cli._common import Command, Group, RepoOpt

labels_app = typer.Typer(
    cls=Group,
    name="labels",
    help="Build the labelled calibration dataset (.phase2/labels.jsonl).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(labels_app, name="labels")


@labels_app.command(
    "export", cls=Command, short_help="Labelled decisions of the log, as dataset lines."
)
def export_cmd(
    output: str | None = typer.Option(
        None, "--output", "-o", help="Write here instead of .phase2/labels.jsonl.", metavar="FILE"
    ),
    config: str | None = typer.Option(
        None, "--config", help="Configuration file to use.", metavar="FILE"
    ),
    repo_path: RepoOpt = ".",
    embed: bool = typer.Option(
        False,
        "--embed",
        help="Copy the content into the file (default: name it by blob id; git has it).",
    ),
) -> None:
    """Turn labelled decisions of .phase2/decisions.jsonl into LabeledMismatch lines."""
    from phase2_git.app.labels import export_at

    typer.echo(export_at(repo_path, config=config, output=output, embed=embed).render("wrote"))


@labels_app.command("import", cls=Command, short_help="Validate a labelled JSONL and merge it in.")
def import_cmd(
    file: str = typer.Argument(..., help="LabeledMismatch JSONL to bring in.", metavar="FILE"),
    output: str | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Merge into this file instead of .phase2/labels.jsonl.",
        metavar="FILE",
    ),
    repo_path: RepoOpt = ".",
) -> None:
    """Validate a labelled JSONL from elsewhere and merge it into the dataset."""
    from phase2_git.app.labels import import_at

    typer.echo(import_at(repo_path, file, output=output).render("wrote"))


@labels_app.command(
    "next", cls=Command, short_help="The labels the gate still needs, and what to label next."
)
def next_cmd(
    base: str | None = typer.Argument(
        None, help="Compare BASE with HEAD and rank its unlabelled mismatches.", metavar="BASE"
    ),
    head: str | None = typer.Argument(None, help="Head side (default: HEAD).", metavar="HEAD"),
    dataset: str | None = typer.Option(
        None,
        "--dataset",
        "-d",
        help="Labelled JSONL (default: .phase2/labels.jsonl).",
        metavar="FILE",
    ),
    method: str = typer.Option(
        "cosine_similarity",
        "--method",
        "-m",
        help="Whose scores rank the candidates.",
        metavar="METHOD",
    ),
    limit: int = typer.Option(
        20, "--limit", "-n", help="Show at most this many candidates.", metavar="N"
    ),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json.", metavar="FORMAT"),
    config: str | None = typer.Option(
        None, "--config", help="Configuration file to use.", metavar="FILE"
    ),
    repo_path: RepoOpt = ".",
) -> int:
    """Which labels the gate still needs, and which mismatches to label next (exit 1 while
    some are missing)."""
    import sys

    from phase2_git.app.label_next import NextOptions, labels_next

    opts = NextOptions(base, head, dataset, method, limit, fmt, config, repo_path)
    return labels_next(opts, sys.stdout)
