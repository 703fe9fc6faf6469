"""``phase2 diff [BASE] [HEAD]``."""

from __future__ import annotations

import sys
import time

import typer

from phase2_git.cli import app
from phase2_git.cli._common import (
    AnnotationsOpt,
    JunitOpt,
    PromOpt,
    StepSummaryOpt,
    SummaryOpt,
    run,
    use_color,
)
from phase2_git.core.summary import FAIL_ON
from phase2_git.errors import UsageError

FORMATS = ("text", "json", "markdown")


@app.command()
def diff(
    base: str | None = typer.Argument(None, help="Base side (default HEAD)."),
    head: str | None = typer.Argument(
        None, help="Head side: a commit-ish, :index or :worktree (default :worktree)."
    ),
    staged: bool = typer.Option(False, "--staged", "--cached", help="Compare HEAD with :index."),
    fmt: str | None = typer.Option(None, "--format", "-f", help="text, json or markdown."),
    methods: str | None = typer.Option(
        None, "--methods", "-m", help="Methods to run, e.g. 'exact,canonical_json'."
    ),
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Exit 1 on: real (default), noise, any, never."
    ),
    summary: SummaryOpt = None,
    junit: JunitOpt = None,
    prom: PromOpt = None,
    annotations: AnnotationsOpt = None,
    step_summary: StepSummaryOpt = None,
    shard: str | None = typer.Option(None, "--shard", help="Only shard K of N (K/N)."),
    config: str | None = typer.Option(
        None,
        "--config",
        help="Configuration file to use (default: the working tree's; the base commit's when "
        "both sides are commits).",
    ),
    trust_from: str | None = typer.Option(
        None,
        "--trust-from",
        help="Commit whose [trust], [judge] and gate files count, and on two commits its "
        "configuration (default: the base side). CI: the target branch's tip.",
    ),
    repo_path: str = typer.Option(".", "-C", "--repo", help="Run in this repository."),
    no_color: bool = typer.Option(False, "--no-color", help="No colour, whatever the terminal."),
) -> None:
    """Find, classify, judge and plan every artifact mismatch between BASE and HEAD."""

    def go() -> int:
        started = time.monotonic()
        from phase2_git.app.diff import stream_diff
        from phase2_git.app.merge import CiOutputs, write_ci_outputs
        from phase2_git.app.sources import choose
        from phase2_git.core.artifacts import parse_shard
        from phase2_git.core.methods import parse_methods
        from phase2_git.git.repo import GitRepo
        from phase2_git.reports import jsonout, markdown
        from phase2_git.reports import text as textout

        if staged and head is not None:
            raise UsageError("--staged compares HEAD with :index; give no HEAD argument with it")
        b = base or "HEAD"
        h = ":index" if staged else (head or ":worktree")
        repo = GitRepo.discover(repo_path)
        # on two commits the configuration is the trust side's: the head may be a stranger's
        sources = choose(repo, b, h, config_path=config, trust_from=trust_from)
        cfg = sources.config
        selected = parse_methods(methods) if methods is not None else None
        out_format = fmt or cfg.data["reports"]["format"]
        if out_format not in FORMATS:
            raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got '{out_format}'")
        rule = fail_on or cfg.data["reports"]["fail_on"]
        if rule not in FAIL_ON:
            raise UsageError(f"--fail-on must be one of {', '.join(FAIL_ON)}, got '{rule}'")
        shard_kn = None
        if shard is not None:
            try:
                shard_kn = parse_shard(shard)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        # streamed: the mismatches wait in a spool as encoded lines, never all as objects
        with stream_diff(
            repo, b, h, config=cfg, methods=selected, shard=shard_kn, sources=sources
        ) as result:
            doc = result.to_json(rule)
            write_ci_outputs(
                doc,
                CiOutputs(junit, prom, summary, annotations, step_summary),
                repo=repo,
                duration=time.monotonic() - started,
                finished_at=time.time(),
                max_size=cfg.classify.max_file_size,
            )
            if out_format == "json":
                jsonout.write(doc, sys.stdout)
            elif out_format == "markdown":
                sys.stdout.write(markdown.render(doc))
            else:
                textout.render(
                    doc,
                    base_spec=b,
                    head_spec=h,
                    config_source=cfg.source,
                    file=sys.stdout,
                    color=use_color(no_color),
                    notices=result.notices,
                )
        code = doc["summary"]["exit_code"]  # type: ignore[index]
        return int(code)

    raise typer.Exit(run(go))
