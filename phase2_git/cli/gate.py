"""``phase2 gate``: GO / NO-GO for auto-apply by a judge, from its measured agreement."""

from __future__ import annotations

import sys

import typer

from phase2_git.cli import app
from phase2_git.cli._common import Command, RepoOpt


@app.command("gate", cls=Command)
def gate_cmd(
    dataset: str | None = typer.Option(
        None,
        "--dataset",
        "-d",
        help="Labelled JSONL to evaluate (default: the stored evaluation).",
        metavar="FILE",
    ),
    results: str | None = typer.Option(
        None, "--results", "-r", help="JudgeResult JSONL.", metavar="FILE"
    ),
    method: str | None = typer.Option(
        None,
        "--method",
        "-m",
        help="Gate these methods (default: every evaluated statistical or external judge).",
        metavar="METHOD",
    ),
    fp_bound: str | None = typer.Option(
        None,
        "--fp-bound",
        help="point (FP rate) or upper95 (its Clopper-Pearson bound).",
        metavar="RATE",
    ),
    calibrate: bool = typer.Option(False, "--calibrate", help="Tune thresholds on train first."),
    bootstrap: int = typer.Option(
        2000, "--bootstrap", help="Bootstrap resamples for the CI.", metavar="N"
    ),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed.", metavar="N"),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json.", metavar="FORMAT"),
    prom: str | None = typer.Option(
        None, "--prom", help="Write gate metrics here.", metavar="FILE"
    ),
    reset_breaker: bool = typer.Option(
        False, "--reset-breaker", help="Re-arm a tripped circuit breaker (logged as a decision)."
    ),
    user: str | None = typer.Option(
        None, "--user", help="Who resets the breaker (default: git identity).", metavar="USER"
    ),
    role: str | None = typer.Option(
        None, "--role", help="Their role (default: ci in CI, else developer).", metavar="ROLE"
    ),
    config: str | None = typer.Option(
        None, "--config", help="Configuration file to use.", metavar="FILE"
    ),
    trust_from: str | None = typer.Option(
        None,
        "--trust-from",
        help="Commit whose [judge] command or URL may run with --dataset (default: only your "
        "own ~/.config/phase2/config.toml or a --config file outside the repository).",
        metavar="COMMIT",
    ),
    repo_path: RepoOpt = ".",
) -> int:
    """Exit 0 (GO) when every gated judge meets the [gate] thresholds, 1 (NO-GO) otherwise."""
    from phase2_git.app.gate import GateOptions, gate_main

    opts = GateOptions(
        dataset=dataset,
        results=results,
        method=method,
        fp_bound=fp_bound,
        calibrate=calibrate,
        bootstrap=bootstrap,
        seed=seed,
        fmt=fmt,
        prom=prom,
        reset_breaker=reset_breaker,
        user=user,
        role=role,
        config=config,
        trust_from=trust_from,
        repo=repo_path,
    )
    return gate_main(opts, sys.stdout)
