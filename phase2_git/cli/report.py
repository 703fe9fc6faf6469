"""``phase2 report merge FILE…``: one report from the JSON outputs of sharded runs."""

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

report_app = typer.Typer(
    name="report",
    help="Work with phase2's JSON reports.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(report_app, name="report")

FORMATS = ("json", "text", "markdown")


@report_app.command("merge")
def merge_cmd(
    files: list[str] = typer.Argument(
        ..., help="JSON outputs of `phase2 diff --shard K/N --format json`, one per shard."
    ),
    fmt: str = typer.Option("json", "--format", "-f", help="json (default), text or markdown."),
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Exit 1 on: real, noise, any, never (default: the shards' rule)."
    ),
    junit: JunitOpt = None,
    prom: PromOpt = None,
    summary: SummaryOpt = None,
    annotations: AnnotationsOpt = None,
    step_summary: StepSummaryOpt = None,
    repo_path: str | None = typer.Option(
        None,
        "-C",
        "--repo",
        help="Repository holding the blobs, for JUnit diff excerpts (default: the current one, "
        "if any).",
    ),
    no_color: bool = typer.Option(False, "--no-color", help="No colour, whatever the terminal."),
) -> None:
    """Merge shard outputs into the report the unsharded run gives; re-emit CI outputs.

    The shards must share base, head, configuration fingerprint and methods, and cover every
    shard of the run exactly once. Prometheus' run duration is the merge's own.
    """

    def go() -> int:
        started = time.monotonic()
        from phase2_git.app.merge import CiOutputs, merge_files, write_ci_outputs
        from phase2_git.core.summary import FAIL_ON
        from phase2_git.errors import Phase2Error, UsageError
        from phase2_git.git.repo import GitRepo
        from phase2_git.reports import jsonout, markdown
        from phase2_git.reports import text as textout

        if fmt not in FORMATS:
            raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got '{fmt}'")
        if fail_on is not None and fail_on not in FAIL_ON:
            raise UsageError(f"--fail-on must be one of {', '.join(FAIL_ON)}, got '{fail_on}'")
        doc = merge_files(files, fail_on)
        repo: GitRepo | None = None
        if repo_path is not None:
            repo = GitRepo.discover(repo_path)
        else:
            try:
                repo = GitRepo.discover(".")
            except Phase2Error:
                repo = None  # merging outside a checkout: JUnit failures carry no excerpt
        write_ci_outputs(
            doc,
            CiOutputs(junit, prom, summary, annotations, step_summary),
            repo=repo,
            duration=time.monotonic() - started,
            finished_at=time.time(),
        )
        if fmt == "json":
            jsonout.write(doc, sys.stdout)
        elif fmt == "markdown":
            sys.stdout.write(markdown.render(doc))
        else:
            textout.render(
                doc,
                base_spec=doc["base"],
                head_spec=doc["head"],
                config_source=f"merged from {len(files)} shard(s)",
                file=sys.stdout,
                color=use_color(no_color),
                notices=doc.get("notices", []),
            )
        return int(doc["summary"]["exit_code"])

    raise typer.Exit(run(go))
