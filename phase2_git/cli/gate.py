"""``phase2 gate``: GO / NO-GO for auto-apply by a judge, from its measured agreement."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from phase2_git.cli import app
from phase2_git.cli._common import run
from phase2_git.errors import EXIT_FINDINGS, EXIT_OK


@app.command("gate")
def gate_cmd(
    dataset: str | None = typer.Option(
        None, "--dataset", "-d", help="Labelled JSONL to evaluate (default: the stored evaluation)."
    ),
    results: str | None = typer.Option(None, "--results", "-r", help="JudgeResult JSONL."),
    method: str | None = typer.Option(
        None,
        "--method",
        "-m",
        help="Gate these methods (default: every evaluated statistical or external judge).",
    ),
    fp_bound: str | None = typer.Option(
        None, "--fp-bound", help="point (FP rate) or upper95 (its Clopper-Pearson bound)."
    ),
    calibrate: bool = typer.Option(False, "--calibrate", help="Tune thresholds on train first."),
    bootstrap: int = typer.Option(2000, "--bootstrap", help="Bootstrap resamples for the CI."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
    prom: str | None = typer.Option(None, "--prom", help="Write gate metrics here."),
    reset_breaker: bool = typer.Option(
        False, "--reset-breaker", help="Re-arm a tripped circuit breaker (logged as a decision)."
    ),
    user: str | None = typer.Option(None, "--user", help="Who resets the breaker."),
    config: str | None = typer.Option(None, "--config", help="Configuration file to use."),
    trust_from: str | None = typer.Option(
        None,
        "--trust-from",
        help="Commit whose [judge] command or URL may run with --dataset (default: only your "
        "own ~/.config/phase2/config.toml or a --config file outside the repository).",
    ),
    repo_path: str = typer.Option(".", "-C", "--repo", help="Run in this repository."),
) -> None:
    """Exit 0 (GO) when every gated judge meets the [gate] thresholds, 1 (NO-GO) otherwise."""

    def go() -> int:
        import json

        from phase2_git.app import judge as appj
        from phase2_git.cli.judge import names_of
        from phase2_git.core.methods import parse_methods
        from phase2_git.errors import UsageError
        from phase2_git.git.repo import GitRepo
        from phase2_git.reports.judge_metrics import render_gate, write_gate
        from phase2_git.store.config import load
        from phase2_git.store.decisions import now_ts
        from phase2_git.store.gate import read_breaker

        if fmt not in ("text", "json"):
            raise UsageError(f"--format must be text or json, got '{fmt}'")
        if fp_bound is not None and fp_bound not in ("point", "upper95"):
            raise UsageError(f"--fp-bound must be point or upper95, got '{fp_bound}'")
        repo = GitRepo.discover(repo_path)
        root = repo.root
        cfg = load(root, config)
        if reset_breaker:
            uid, role = appj.who(repo, user)
            event = appj.reset_breaker(root, cfg, uid, role)
            if event is None:
                typer.echo("the circuit breaker is not tripped: nothing to reset")
            else:
                typer.echo(f"circuit breaker re-armed (decision {event['id']})")
            return EXIT_OK
        selected = None
        if method is not None:
            selected = parse_methods(method) if results is None else names_of(method)
        if dataset is not None:
            from phase2_git.app.sources import trusted_judges

            trusted = trusted_judges(repo, cfg, config_path=config, trust_from=trust_from)
            doc = appj.run_eval(
                cfg,
                root=root,
                dataset=Path(dataset),
                results=Path(results) if results else None,
                methods=selected,
                options=appj.EvalOptions(resamples=bootstrap, seed=seed, calibrate=calibrate),
                trusted=trusted,
            )
            appj.save_evaluation(root, doc)
        elif results is not None:
            raise UsageError("--results needs --dataset (the labels the results are judged on)")
        else:
            doc = appj.load_evaluation(root)
        gate = appj.run_gate(cfg, doc, root=root, methods=selected, fp_bound=fp_bound, ts=now_ts())
        appj.save_gates(root, gate)
        if prom:
            write_gate(prom, gate.results, read_breaker(root).tripped)
        if fmt == "json":
            out = {"go": gate.go, "results": gate.results, "notices": gate.notices}
            sys.stdout.write(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
        else:
            render_gate(gate.results, gate.notices, sys.stdout)
        return EXIT_OK if gate.go else EXIT_FINDINGS

    raise typer.Exit(run(go))
