"""``phase2 gate``: GO / NO-GO for auto-apply by a judge, from its measured agreement.

Orchestration only: the evaluation and the gate themselves are :mod:`phase2_git.app.judge`'s
(``run_eval``, ``run_gate``, ``save_gates`` …), the breaker's reset :mod:`phase2_git.app.breaker`'s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from phase2_git.errors import EXIT_FINDINGS, EXIT_OK, UsageError

FORMATS = ("text", "json")
FP_BOUNDS = ("point", "upper95")


@dataclass(frozen=True)
class GateOptions:
    dataset: str | None = None
    results: str | None = None
    method: str | None = None
    fp_bound: str | None = None
    calibrate: bool = False
    bootstrap: int = 2000
    seed: int = 0
    fmt: str = "text"
    prom: str | None = None
    reset_breaker: bool = False
    user: str | None = None
    role: str | None = None
    config: str | None = None
    trust_from: str | None = None
    repo: str = "."


def gate_main(opts: GateOptions, out: IO[str]) -> int:
    """Exit 0 (GO) when every gated judge meets the [gate] thresholds, 1 (NO-GO) otherwise;
    ``--reset-breaker`` re-arms a tripped circuit breaker instead (exit 0)."""
    from phase2_git.app import judge as appj
    from phase2_git.app.context import open_repo
    from phase2_git.app.evaluate import names_of
    from phase2_git.core.evaluation import EvalOptions
    from phase2_git.core.methods import parse_methods
    from phase2_git.reports.judge_metrics import render_gate, write_gate
    from phase2_git.store.decisions import now_ts
    from phase2_git.store.gate import read_breaker

    if opts.fmt not in FORMATS:
        raise UsageError(f"--format must be text or json, got '{opts.fmt}'")
    if opts.fp_bound is not None and opts.fp_bound not in FP_BOUNDS:
        raise UsageError(f"--fp-bound must be point or upper95, got '{opts.fp_bound}'")
    repo, cfg = open_repo(opts.repo, opts.config)
    root = repo.root
    if opts.reset_breaker:
        from phase2_git.app.breaker import reset_breaker
        from phase2_git.app.identity import identity

        event = reset_breaker(root, cfg, identity(repo, opts.user, opts.role))
        if event is None:
            out.write("the circuit breaker is not tripped: nothing to reset\n")
        else:
            out.write(f"circuit breaker re-armed (decision {event['id']})\n")
        return EXIT_OK
    selected = None
    if opts.method is not None:
        selected = parse_methods(opts.method) if opts.results is None else names_of(opts.method)
    if opts.dataset is not None:
        from phase2_git.app.sources import trusted_judges

        trusted = trusted_judges(repo, cfg, config_path=opts.config, trust_from=opts.trust_from)
        doc = appj.run_eval(
            cfg,
            root=root,
            dataset=Path(opts.dataset),
            results=Path(opts.results) if opts.results else None,
            methods=selected,
            options=EvalOptions(resamples=opts.bootstrap, seed=opts.seed, calibrate=opts.calibrate),
            trusted=trusted,
        )
    elif opts.results is not None:
        raise UsageError("--results needs --dataset (the labels the results are judged on)")
    else:
        doc = appj.load_evaluation(root)
    # gated before anything is stored: a gate that cannot run leaves the files as they were
    gate = appj.run_gate(cfg, doc, root=root, methods=selected, fp_bound=opts.fp_bound, ts=now_ts())
    if opts.dataset is not None:
        appj.save_evaluation(root, doc)
    appj.save_gates(root, gate)
    for r in gate.results:
        # --calibrate: where the threshold the gate measured lives, and how to use it
        note = doc["methods"][r["method"]]["reasons"].get("calibration")
        if opts.calibrate and note:
            gate.notices.append(f"{r['method']}: calibration: {note}")
    if opts.prom:
        write_gate(opts.prom, gate.results, read_breaker(root).tripped)
    if opts.fmt == "json":
        shown = {"go": gate.go, "results": gate.results, "notices": gate.notices}
        out.write(json.dumps(shown, indent=2, ensure_ascii=False) + "\n")
    else:
        render_gate(gate.results, gate.notices, out)
    return EXIT_OK if gate.go else EXIT_FINDINGS
