"""``phase2 judge eval``: measure judges against the labelled dataset."""

from __future__ import annotations

import sys

import typer

from phase2_git.cli import app
from phase2_git.cli._common import Command, Group, RepoOpt

judge_app = typer.Typer(
    cls=Group,
    name="judge",
    help="Measure equivalence judges against human labels.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(judge_app, name="judge")


@judge_app.command(
    "eval", cls=Command, short_help="Score each judge against human labels (kappa, FP rate)."
)
def eval_cmd(
    dataset: str | None = typer.Option(
        None,
        "--dataset",
        "-d",
        help="Labelled JSONL (default .phase2/labels.jsonl).",
        metavar="FILE",
    ),
    results: str | None = typer.Option(
        None,
        "--results",
        "-r",
        help="JudgeResult JSONL; without it the methods are run.",
        metavar="FILE",
    ),
    methods: str | None = typer.Option(
        None,
        "--methods",
        "-m",
        help="Methods to evaluate (default: configured, or all results).",
        metavar="METHODS",
    ),
    calibrate: bool = typer.Option(
        False, "--calibrate", help="Tune statistical thresholds on the train split."
    ),
    bootstrap: int = typer.Option(
        2000, "--bootstrap", help="Bootstrap resamples for the CI.", metavar="N"
    ),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed.", metavar="N"),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json.", metavar="FORMAT"),
    prom: str | None = typer.Option(
        None, "--prom", help="Write Prometheus metrics here.", metavar="FILE"
    ),
    output: str | None = typer.Option(
        None, "--output", "-o", help="Also write the JSON here.", metavar="FILE"
    ),
    config: str | None = typer.Option(
        None, "--config", help="Configuration file to use.", metavar="FILE"
    ),
    trust_from: str | None = typer.Option(
        None,
        "--trust-from",
        help="Commit whose [judge] command or URL may run (default: only your own "
        "~/.config/phase2/config.toml or a --config file outside the repository).",
        metavar="COMMIT",
    ),
    repo_path: RepoOpt = ".",
) -> int:
    """Confusion matrix, Cohen's kappa with CIs, per-type kappa and FP rate per method."""
    from phase2_git.app.evaluate import EvaluateOptions, evaluate_main

    opts = EvaluateOptions(
        dataset=dataset,
        results=results,
        methods=methods,
        calibrate=calibrate,
        bootstrap=bootstrap,
        seed=seed,
        fmt=fmt,
        prom=prom,
        output=output,
        config=config,
        trust_from=trust_from,
        repo=repo_path,
    )
    return evaluate_main(opts, sys.stdout)
