"""``phase2 judge eval``: measure judges against the labelled dataset."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from phase2_git.cli import app
from phase2_git.cli._common import run

if TYPE_CHECKING:
    from phase2_git.git.repo import GitRepo

judge_app = typer.Typer(
    name="judge",
    help="Measure equivalence judges against human labels.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(judge_app, name="judge")

FORMATS = ("text", "json")


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
) -> None:
    """Confusion matrix, Cohen's kappa with CIs, per-type kappa and FP rate per method."""

    def go() -> None:
        from phase2_git.app.judge import EvalOptions, dumps, run_eval, save_evaluation
        from phase2_git.cli._common import write_output
        from phase2_git.core.methods import parse_methods
        from phase2_git.errors import UsageError
        from phase2_git.reports.judge_metrics import render_evaluation, write_evaluation
        from phase2_git.store.config import load
        from phase2_git.store.labels import LABELS_FILE

        if fmt not in FORMATS:
            raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got '{fmt}'")
        from phase2_git.app.sources import trusted_judges

        repo = optional_repo(repo_path)
        root = repo.root if repo is not None else None
        if dataset is None and root is None:
            raise UsageError("--dataset is required outside a git repository")
        cfg = load(root or Path(repo_path), config)
        trusted = trusted_judges(repo, cfg, config_path=config, trust_from=trust_from)
        selected = None
        if methods is not None:
            selected = parse_methods(methods) if results is None else names_of(methods)
        data_path = Path(dataset) if dataset else (root or Path()) / LABELS_FILE
        doc = run_eval(
            cfg,
            root=root,
            dataset=data_path,
            results=Path(results) if results else None,
            methods=selected,
            options=EvalOptions(resamples=bootstrap, seed=seed, calibrate=calibrate),
            trusted=trusted,
        )
        text = dumps(doc)
        if prom:
            write_evaluation(prom, doc)
        if output:
            write_output(output, text)
        if root is not None:
            save_evaluation(root, doc)
        if fmt == "json":
            sys.stdout.write(text)
        else:
            render_evaluation(doc, sys.stdout)

    run(go)


def names_of(spec: str) -> tuple[str, ...]:
    """Method names as a results file spells them: any judge's name, not only built-in ones."""
    import re

    from phase2_git.errors import UsageError

    names = tuple(dict.fromkeys(t for t in re.split(r"[,\s]+", spec) if t))
    if not names:
        raise UsageError("no method given")
    return names


def optional_repo(repo_path: str) -> GitRepo | None:
    """The repository, or None when not inside one (evaluation needs no repository)."""
    from phase2_git.errors import UsageError
    from phase2_git.git.repo import GitRepo

    try:
        return GitRepo.discover(repo_path)
    except UsageError:
        return None
