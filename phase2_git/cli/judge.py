"""``phase2 judge eval``: measure judges against the labelled dataset."""

from __future__ import annotations

import sys

import typer

from phase2_git.cli import app

judge_app = typer.Typer(
    name="judge",
    help="Measure equivalence judges against human labels.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(judge_app, name="judge")


@judge_app.command("eval")
def eval_cmd(
    dataset: str | None = typer.Option(
        None, "--dataset", "-d", help="Labelled JSONL (default .phase2/labels.jsonl)."
    ),
    results: str | None = typer.Option(
        None, "--results", "-r", help="JudgeResult JSONL; without it the methods are run."
    ),
    methods: str | None = typer.Option(
        None, "--methods", "-m", help="Methods to evaluate (default: configured, or all results)."
    ),
    calibrate: bool = typer.Option(
        False, "--calibrate", help="Tune statistical thresholds on the train split."
    ),
    bootstrap: int = typer.Option(2000, "--bootstrap", help="Bootstrap resamples for the CI."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
    prom: str | None = typer.Option(None, "--prom", help="Write Prometheus metrics here."),
    output: str | None = typer.Option(None, "--output", "-o", help="Also write the JSON here."),
    config: str | None = typer.Option(None, "--config", help="Configuration file to use."),
    trust_from: str | None = typer.Option(
        None,
        "--trust-from",
        help="Commit whose [judge] command or URL may run (default: only your own "
        "~/.config/phase2/config.toml or a --config file outside the repository).",
    ),
    repo_path: str = typer.Option(".", "-C", "--repo", help="Run in this repository."),
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
