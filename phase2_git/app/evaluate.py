"""``phase2 judge eval``: measure judges against the labelled dataset.

Orchestration only: the evaluation itself is :func:`phase2_git.app.judge.run_eval`. It needs
no repository when ``--dataset`` names the labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from phase2_git.errors import EXIT_OK, UsageError

FORMATS = ("text", "json")


@dataclass(frozen=True)
class EvaluateOptions:
    dataset: str | None = None
    results: str | None = None
    methods: str | None = None
    calibrate: bool = False
    bootstrap: int = 2000
    seed: int = 0
    fmt: str = "text"
    prom: str | None = None
    output: str | None = None
    config: str | None = None
    trust_from: str | None = None
    repo: str = "."


def evaluate_main(opts: EvaluateOptions, out: IO[str]) -> int:
    """Confusion matrix, Cohen's kappa with CIs, per-type kappa and FP rate per method; the
    evaluation is stored for ``phase2 gate`` when there is a repository."""
    from phase2_git.app.context import repo_or_none
    from phase2_git.app.judge import dumps, run_eval, save_evaluation
    from phase2_git.app.sources import trusted_judges
    from phase2_git.core.evaluation import EvalOptions
    from phase2_git.core.methods import parse_methods
    from phase2_git.reports.judge_metrics import render_evaluation, write_evaluation
    from phase2_git.store.atomic import atomic_write_text
    from phase2_git.store.config import load
    from phase2_git.store.labels import LABELS_FILE

    if opts.fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got '{opts.fmt}'")
    repo = repo_or_none(opts.repo)
    root = repo.root if repo is not None else None
    if opts.dataset is None and root is None:
        raise UsageError("--dataset is required outside a git repository")
    # outside a repository: the folder's own .phase2/config.toml, or --config
    cfg = load(root or Path(opts.repo), opts.config)
    trusted = trusted_judges(repo, cfg, config_path=opts.config, trust_from=opts.trust_from)
    selected = None
    if opts.methods is not None:
        selected = parse_methods(opts.methods) if opts.results is None else names_of(opts.methods)
    data_path = Path(opts.dataset) if opts.dataset else (root or Path()) / LABELS_FILE
    doc = run_eval(
        cfg,
        root=root,
        dataset=data_path,
        results=Path(opts.results) if opts.results else None,
        methods=selected,
        options=EvalOptions(resamples=opts.bootstrap, seed=opts.seed, calibrate=opts.calibrate),
        trusted=trusted,
    )
    text = dumps(doc)
    if opts.prom:
        write_evaluation(opts.prom, doc)
    if opts.output:
        atomic_write_text(opts.output, text)
    if root is not None:
        save_evaluation(root, doc)
    if opts.fmt == "json":
        out.write(text)
    else:
        render_evaluation(doc, out)
    return EXIT_OK


def names_of(spec: str) -> tuple[str, ...]:
    """Method names as a results file spells them: any judge's name, not only built-in ones."""
    names = tuple(dict.fromkeys(t for t in re.split(r"[,\s]+", spec) if t))
    if not names:
        raise UsageError("no method given")
    return names
