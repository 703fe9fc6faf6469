"""CI outputs of a run, and ``phase2 report merge`` (README: GitHub Action).

:func:`write_ci_outputs` writes JUnit, Prometheus, the Markdown summary and the GitHub Actions
side channels (step summary, ``$GITHUB_OUTPUT``, annotations) from a ``Phase2Diff.v1``
document. ``phase2 diff`` and ``phase2 report merge`` both call it, so a report merged from
shards is written by exactly the code an unsharded run uses.

:func:`merge_documents` combines the JSON outputs of ``phase2 diff --shard K/N`` into the
document the unsharded run would have printed (without the ``shard`` key). Every shard is
validated (strict parse and schema) once, on the bytes merged: :func:`merge_checked` does it
in a forked child, where ``app/forking.py`` allows one, while this process merges and renders
what needs neither a file nor git (:func:`prepare_ci_outputs`); nothing is written, and git
never runs on a shard's values, before the child says every shard is valid.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from phase2_git.core.model import Change
from phase2_git.core.summary import FAIL_ON, FailOn, Tally
from phase2_git.errors import Phase2Error, UsageError
from phase2_git.git.repo import GitRepo, quote_for_message

if TYPE_CHECKING:
    from phase2_git.reports import junit

# Reading blobs for diff excerpts costs a cat-file round trip per side; a JUnit file with
# thousands of failures is unreadable anyway, so only the first ones get an excerpt.
MAX_FAILURE_BODIES = 200


@dataclass(frozen=True)
class CiOutputs:
    """Which CI outputs to write. ``None`` for the GitHub switches means "when under Actions"."""

    junit: str | None = None
    prom: str | None = None
    summary: str | None = None
    annotations: bool | None = None
    step_summary: bool | None = None
    html: str | None = None  # the self-contained HTML report (the web extra)


def under_github_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def change_from_json(m: Mapping[str, Any]) -> Change:
    return Change(
        status=m["status"],
        path=m["path"],
        old_path=m["old_path"],
        before=m["hashes"]["before"],
        after=m["hashes"]["after"],
        before_mode=m["modes"]["before"],
        after_mode=m["modes"]["after"],
    )


# ---------------------------------------------------------------------------- CI outputs


def failure_bodies(repo: GitRepo, doc: Mapping[str, Any], *, max_size: int) -> dict[str, str]:
    """Sanitised diff excerpts of the failing cases, read from the repository's objects."""
    from phase2_git.git.blobs import read_blobs
    from phase2_git.reports import junit

    fail_on = doc["summary"]["fail_on"]
    failing = [
        m
        for m in doc["mismatches"]
        # a mixed file's body is its change list: its blobs are not read for a diff
        if junit.case_state(m, fail_on) == "failure" and junit.change_body(m) is None
    ]
    failing = failing[:MAX_FAILURE_BODIES]
    bodies: dict[str, str] = {}
    changes = [change_from_json(m) for m in failing]
    for m, (_, before, after) in zip(
        failing, read_blobs(repo, changes, max_size=max_size), strict=True
    ):
        body = junit.failure_body(
            before.data if before else None,
            after.data if after else None,
            before_truncated=before is not None and before.truncated,
            after_truncated=after is not None and after.truncated,
        )
        bodies[m["id"]] = body or "[no content difference: only the file mode changed]"
    return bodies


def html_blobs(
    repo: GitRepo | None, doc: Mapping[str, Any], max_size: int
) -> dict[str, tuple[bytes | None, bytes | None, bool]] | None:
    """The contents the HTML report shows side by side (its first mismatches), or None
    without a repository or its objects (a merge elsewhere: the page still lists them)."""
    from phase2_git.git.blobs import read_blobs
    from phase2_git.reports.html import wanted_blobs

    if repo is None:
        return None
    wanted = wanted_blobs(doc)
    out: dict[str, tuple[bytes | None, bytes | None, bool]] = {}
    try:
        changes = [change_from_json(m) for m in wanted]
        for m, (_, before, after) in zip(
            wanted, read_blobs(repo, changes, max_size=max_size), strict=True
        ):
            truncated = (before is not None and before.truncated) or (
                after is not None and after.truncated
            )
            out[m["id"]] = (
                before.data if before else None,
                after.data if after else None,
                truncated,
            )
    except Phase2Error:
        return None
    return out


@dataclass(frozen=True)
class PreparedOutputs:
    """What :func:`write_ci_outputs` writes that comes from the document and the environment
    alone: no file, no git (the JUnit failure bodies are read later, from the repository)."""

    markdown: str | None
    junit: junit.Draft | None


def _step_summary_path(outputs: CiOutputs, environ: Mapping[str, str]) -> str | None:
    gha = under_github_actions(environ)
    want_step_summary = outputs.step_summary if outputs.step_summary is not None else gha
    return environ.get("GITHUB_STEP_SUMMARY") if want_step_summary else None


def prepare_ci_outputs(
    doc: Mapping[str, Any], outputs: CiOutputs, environ: Mapping[str, str] = os.environ
) -> PreparedOutputs:
    """The pure part of :func:`write_ci_outputs`: the Markdown summary and the JUnit draft.
    ``report merge`` makes it before the shards are known to be valid."""
    from phase2_git.reports import github, junit, markdown

    md: str | None = None
    if outputs.summary or _step_summary_path(outputs, environ):
        gha = under_github_actions(environ)
        base = github.link_base(environ, doc["head"]) if gha else None
        if base and not github.linkable([m["path"] for m in doc["mismatches"]]):
            base = None
        md = markdown.render(doc, link_base=base)
    return PreparedOutputs(md, junit.Draft(doc) if outputs.junit else None)


def write_ci_outputs(
    doc: Mapping[str, Any],
    outputs: CiOutputs,
    *,
    repo: GitRepo | None,
    duration: float,
    finished_at: float,
    max_size: int = 20 * 1024 * 1024,
    environ: Mapping[str, str] = os.environ,
    err: IO[str] | None = None,
    prepared: PreparedOutputs | None = None,
) -> None:
    """Write every requested report of ``doc``; under GitHub Actions also the side channels.

    ``repo`` provides the blobs for JUnit failure excerpts; without it (or when the objects are
    missing, e.g. merging shard outputs elsewhere) failures carry no excerpt. ``prepared``:
    :func:`prepare_ci_outputs` of the same document, outputs and environment, when the caller
    made it already.
    """
    gha = under_github_actions(environ)
    want_annotations = outputs.annotations if outputs.annotations is not None else gha
    step_summary_path = _step_summary_path(outputs, environ)
    output_path = environ.get("GITHUB_OUTPUT") if gha else None
    files = (outputs.junit, outputs.prom, outputs.summary, outputs.html, step_summary_path)
    if not (any(files) or output_path or want_annotations):
        return  # nothing asked for: no writer is imported (7 ms of a small diff's 0.1 s)
    from phase2_git import __version__
    from phase2_git.reports import github, prom
    from phase2_git.store.atomic import atomic_write_text

    if prepared is None:
        prepared = prepare_ci_outputs(doc, outputs, environ)
    md = prepared.markdown

    if outputs.junit:
        assert prepared.junit is not None
        bodies: dict[str, str] = {}
        if repo is not None:
            try:
                bodies = failure_bodies(repo, doc, max_size=max_size)
            except Phase2Error:
                bodies = {}  # objects not here (a merge elsewhere): the cases still report
        atomic_write_text(outputs.junit, prepared.junit.finish(bodies))
    if outputs.prom:
        facts = prom.RunFacts(
            duration_seconds=duration,
            finished_at=finished_at,
            autoresolve_disabled=prom.autoresolve_disabled(environ),
            version=__version__,
        )
        prom.write(outputs.prom, doc, facts)
    if outputs.summary and md is not None:
        atomic_write_text(outputs.summary, md)
    if outputs.html:
        from phase2_git.reports import html

        atomic_write_text(outputs.html, html.render(doc, blobs=html_blobs(repo, doc, max_size)))

    if step_summary_path and md is not None:
        target = Path(step_summary_path)
        used = target.stat().st_size if target.exists() else 0
        _append(target, github.fit_step_summary(md + "\n", used=used))
    if output_path:
        paths = {
            "junit": outputs.junit,
            "prom": outputs.prom,
            "summary": outputs.summary,
        }
        absolute = {k: str(Path(v).absolute()) if v else None for k, v in paths.items()}
        _append(Path(output_path), github.output_block(github.outputs(doc, absolute)))
    if want_annotations:
        # stderr: `--format json > out.json` stays clean; the runner reads workflow commands
        # on both streams
        stream = err or sys.stderr
        for line in github.annotation_lines(doc):
            print(line, file=stream)
        stream.flush()


def _append(path: Path, text: str) -> None:
    # the runner's files are shared by every step: append, never replace
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"{quote_for_message(str(path))}: cannot write: {exc.strerror}") from None


# ---------------------------------------------------------------------------- merge


def load_document(path: str) -> dict[str, Any]:
    """Read and validate one ``phase2 diff --format json`` output."""
    return parse_document(read_report(path), path)


def read_report(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{quote_for_message(path)}: cannot read: {exc.strerror}") from None


def parse_document(raw: bytes, path: str) -> dict[str, Any]:
    """Parse and validate the bytes of one ``phase2 diff --format json`` output read from
    ``path``: exactly what :func:`load_document` does once it has read them."""
    from phase2_git.store import schemas

    shown = quote_for_message(path)
    try:
        doc = schemas.loads_strict(raw)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError too
        raise UsageError(f"{shown}: not a phase2 JSON report: {exc}") from None
    schemas.check(doc, "Phase2Diff.v1", shown)
    assert isinstance(doc, dict)  # the schema says "object"
    return doc


def merge_documents(
    named: Sequence[tuple[str, Mapping[str, Any]]], fail_on: FailOn | None = None
) -> dict[str, Any]:
    """One document from the outputs of ``--shard 1/N`` … ``--shard N/N``.

    The shards must come from the same comparison: same base, head, config fingerprint,
    methods and ``--fail-on`` rule, and together cover every shard exactly once. The summary is
    recomputed with ``core.summary`` from the merged mismatches (``fail_on`` overrides the
    shards' rule).
    """
    if not named:
        raise UsageError("report merge needs at least one JSON report")
    first_name, first = named[0]
    keys = ("base", "head", "config_fingerprint", "methods")
    count: int | None = None
    seen: dict[int, str] = {}
    ids: dict[str, str] = {}
    notices: list[str] = []
    judges: dict[str, dict[str, float]] = {}
    mismatches: list[Mapping[str, Any]] = []
    for name, doc in named:
        shown = quote_for_message(name)
        for key in keys:
            if doc[key] != first[key]:
                raise UsageError(
                    f"{shown}: {key} differs from {quote_for_message(first_name)}: "
                    "shards must come from the same comparison"
                )
        if doc["summary"]["fail_on"] != first["summary"]["fail_on"] and fail_on is None:
            raise UsageError(
                f"{shown}: summary.fail_on differs from {quote_for_message(first_name)} "
                "(pass --fail-on to choose one)"
            )
        shard = doc.get("shard")
        if not shard:
            raise UsageError(f"{shown}: not a shard output (run `phase2 diff --shard K/N`)")
        if count is None:
            count = shard["count"]
        elif shard["count"] != count:
            raise UsageError(
                f"{shown}: shard {shard['index']}/{shard['count']}, the others are /{count}"
            )
        if shard["index"] > shard["count"]:
            raise UsageError(f"{shown}: shard {shard['index']}/{shard['count']} is out of range")
        if shard["index"] in seen:
            raise UsageError(
                f"{shown}: shard {shard['index']}/{count} given twice "
                f"(also {quote_for_message(seen[shard['index']])})"
            )
        seen[shard["index"]] = name
        for notice in doc.get("notices", []):
            if notice not in notices:
                notices.append(notice)
        # each shard's judge spent its own budget: the whole run spent the sum
        for judge, spent in doc.get("judges", {}).items():
            total = judges.setdefault(judge, {})
            for key, value in spent.items():
                # the share is the configuration's (the same in every shard); the rest adds up
                total[key] = value if key == "shadow_share" else total.get(key, 0) + value
        for m in doc["mismatches"]:
            if m["id"] in ids:
                raise UsageError(
                    f"{shown}: mismatch {m['id']} is also in {quote_for_message(ids[m['id']])}"
                )
            ids[m["id"]] = name
            mismatches.append(m)
    assert count is not None
    missing = [str(k) for k in range(1, count + 1) if k not in seen]
    if missing:
        raise UsageError(
            f"shard(s) {', '.join(missing)} of {count} missing: merge needs every shard's output"
        )
    rule: FailOn = fail_on or first["summary"]["fail_on"]
    if rule not in FAIL_ON:  # pragma: no cover - the schema already restricts it
        raise UsageError(f"--fail-on must be one of {', '.join(FAIL_ON)}, got '{rule}'")
    # the order run_diff uses: by path
    mismatches.sort(key=lambda m: m["path"])
    out: dict[str, Any] = {
        "schema": "Phase2Diff.v1",
        "base": first["base"],
        "head": first["head"],
        "config_fingerprint": first["config_fingerprint"],
        "methods": list(first["methods"]),
    }
    if notices:
        out["notices"] = notices
    if judges:
        out["judges"] = {
            judge: {k: round(v, 6) if k == "cost" else v for k, v in spent.items()}
            for judge, spent in sorted(judges.items())
        }
    out["mismatches"] = [dict(m) for m in mismatches]
    tally = Tally()
    for m in mismatches:
        tally.add_json(m)
    out["summary"] = tally.summary(rule)
    return out


def merge_files(paths: Sequence[str], fail_on: FailOn | None = None) -> dict[str, Any]:
    return merge_documents([(p, load_document(p)) for p in paths], fail_on)


_T = TypeVar("_T")


def merge_checked(
    paths: Sequence[str], fail_on: FailOn | None, prepare: Callable[[dict[str, Any]], _T]
) -> tuple[dict[str, Any], _T | None]:
    """``merge_files(paths, fail_on)``, with the same result and the same error, on two cores
    where :func:`forking.count` allows it; then also ``prepare`` of the merged document, made
    while the shards were validated. None instead where the merge ran serially: the caller
    renders as it always did.

    Every shard is read here first. A forked child then does what :func:`load_document`
    does with those bytes (the strict parse and the schema, shard by shard, up to the first
    failure) and sends back only its verdict, while this process parses the same bytes
    without those checks, merges them and runs ``prepare``, which must be pure: it may not
    write anything or run git, for nothing here is known to be valid yet. The child's error
    is the error, whatever this process met meanwhile (a ``KeyError`` on a document the schema
    rejects, a later shard that is not JSON); on a valid verdict this process's own error
    stands. A child that gives no verdict (it died, was killed) is never trusted: the shards
    are validated here, as the serial path does.
    """
    from phase2_git.app import forking

    if not paths or not forking.count():
        return merge_files(paths, fail_on), None
    raws: list[bytes] = []
    for path in paths:
        try:
            raws.append(read_report(path))
        except UsageError:
            # the serial order: a shard before this one may be invalid, and that error comes
            # first
            for before, raw in zip(paths, raws, strict=False):
                parse_document(raw, before)
            raise

    def validate() -> None:
        for path, raw in zip(paths, raws, strict=True):
            parse_document(raw, path)

    child = forking.check_in_child(validate)
    if child is None:  # no fork (out of processes or memory): the serial path
        return _merged_serially(paths, raws, fail_on), None
    from phase2_git.store import schemas

    docs: list[dict[str, Any]] | None = None
    done: tuple[dict[str, Any], _T] | None = None
    failure: Exception | None = None
    try:
        try:
            docs = [schemas.loads_unchecked(raw) for raw in raws]
        except Exception:  # the verdict decides what is said
            docs = None
        if docs is not None:
            try:
                doc = merge_documents(list(zip(paths, docs, strict=True)), fail_on)
                done = doc, prepare(doc)
            except Exception as exc:  # raised below unless the child says more
                failure = exc
        child.settle(validate)  # no verdict: validated here, raising what the serial path does
    finally:
        child.close()
    if docs is None:
        # the shards did not parse here although no check refused them (none has: the strict
        # parse accepts less): the serial path on the same bytes says what is wrong
        return _merged_serially(paths, raws, fail_on), None
    if failure is not None:
        raise failure
    assert done is not None
    return done


def _merged_serially(
    paths: Sequence[str], raws: Sequence[bytes], fail_on: FailOn | None
) -> dict[str, Any]:
    docs = [parse_document(raw, path) for path, raw in zip(paths, raws, strict=True)]
    return merge_documents(list(zip(paths, docs, strict=True)), fail_on)
