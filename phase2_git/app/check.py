"""``phase2 check``: the pre-commit entry.

Compares the staged artifacts (``:index``, or whatever ``GIT_INDEX_FILE`` names: ``commit -a``
and ``commit <path>`` hand hooks a temporary index) with ``HEAD``; under ``pre-push`` the sides
are ``PRE_COMMIT_FROM_REF`` and ``PRE_COMMIT_TO_REF``. A staged artifact fails the check when it
carries noise no transform has removed yet, or when it is a JSON artifact that does not parse
(check-json semantics, duplicate keys included), or when it is *mixed*: a real change with
noise beside it that its plan's first step (``strip_noise``) strips safely. Real changes pass
unless ``require_decision``: reviewing them is what ``phase2 resolve`` and the Action are for.

``fix`` rewrites the working-tree files with the safe transform of their plan (a mixed file's:
its first step, which keeps the real change), the way
formatters do: the hook never touches the index and never commits (pre-commit holds the index
and may roll the fixes back). A file is only rewritten when its working-tree content is the
content being checked; anything else is refused and the run exits 3.

This module is on the hook's hot path: it imports nothing heavy at module level.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Collection, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from phase2_git.core.model import REGULAR_MODES, Blob, Change, Mismatch, Transform
from phase2_git.core.summary import is_unresolved_noise, is_unresolved_real
from phase2_git.core.values import Value
from phase2_git.errors import EXIT_FINDINGS, EXIT_OK, EXIT_REFUSED, UsageError
from phase2_git.git.repo import GitRepo, quote_for_message
from phase2_git.git.sides import Side, sides_from_env
from phase2_git.store.config import Config

if TYPE_CHECKING:
    import json

    from phase2_git.app.strips import Strip, StripHere
    from phase2_git.files import ManyWrites

FindingKind = Literal["noise", "malformed", "undecided", "fixed", "refused"]


class Finding(Value):
    # a Value, not a NamedTuple: never used as a tuple, and ~10x cheaper to define
    __slots__ = ("kind", "message", "path")

    def __init__(self, path: str, kind: FindingKind, message: str) -> None:
        self.path = path  # repository-relative, unsanitised: renderers sanitise
        self.kind = kind
        self.message = message


class CheckResult(Value):
    # a Value, not a NamedTuple: never used as a tuple, and ~10x cheaper to define
    __slots__ = ("base", "checked", "findings", "head")

    def __init__(self, base: str, head: str, checked: int, findings: tuple[Finding, ...]) -> None:
        self.base = base
        self.head = head
        # artifacts among the given files (or staged artifacts when none were given)
        self.checked = checked
        self.findings = findings

    @property
    def exit_code(self) -> int:
        kinds = {f.kind for f in self.findings}
        if "refused" in kinds:
            return EXIT_REFUSED
        return EXIT_FINDINGS if kinds else EXIT_OK


def repo_relative(root: Path, cwd: Path, name: str) -> str:
    """A file argument (relative to ``cwd``) as a path from the top of the work tree."""
    return repo_relative_all(root, cwd, [name])[0]


def _relative(top: Path, root: Path, cwd: Path, name: str) -> str:
    p = Path(name)
    full = p if p.is_absolute() else cwd / p
    # resolve the folder (a checkout reached through a symlink), never the file itself: the
    # artifact may be a symlink
    try:
        rel = (full.parent.resolve() / full.name).relative_to(top)
    except ValueError:
        raise UsageError(
            f"{quote_for_message(name)}: not inside the repository {quote_for_message(str(root))}"
        ) from None
    return rel.as_posix()


def repo_relative_all(root: Path, cwd: Path, names: Sequence[str]) -> list[str]:
    """:func:`repo_relative` of every file argument, each folder resolved once: a
    regeneration stages thousands of files in a few folders, and one ``resolve`` (an
    ``lstat`` per path component) per file was most of a 3,000-file hook run. A plain name
    (no ``.``/``..`` component, no doubled or trailing slash) splits into folder and file
    as :class:`~pathlib.Path` would; any other name, or a folder outside the work tree,
    takes the one-by-one way, errors included."""
    top = root.resolve()
    folders: dict[str, str | None] = {}  # folder as given -> from the top; None: outside
    out = []
    for name in names:
        wrapped = f"{name}/" if name.startswith("/") else f"/{name}/"
        plain = bool(name) and not any(bad in wrapped for bad in ("//", "/./", "/../"))
        rel: str | None = None
        if plain:
            folder, _, leaf = name.rpartition("/")
            if folder not in folders:
                # "": the cwd itself; an absolute folder stays absolute (``cwd / p``)
                where = cwd / folder if folder or not name.startswith("/") else Path("/")
                try:
                    folders[folder] = where.resolve().relative_to(top).as_posix()
                except ValueError:
                    folders[folder] = None
            base = folders[folder]
            if base is not None:
                rel = leaf if base == "." else f"{base}/{leaf}"
        out.append(rel if rel is not None else _relative(top, root, cwd, name))
    return out


def run_check(
    repo: GitRepo,
    files: Sequence[str],
    *,
    config: Config,
    fix: bool = False,
    require_decision: bool = False,
    cwd: Path | None = None,
    environ: Mapping[str, str] = os.environ,
    pathspecs: Sequence[str] = (),
) -> CheckResult:
    """Check ``files`` (all staged artifacts when empty); with ``fix`` rewrite the noisy ones.
    ``pathspecs`` (the globs after ``--``) narrow either to the artifacts they match."""
    from phase2_git.core.artifacts import ArtifactFilter, pathspec_filter

    base, head = sides_from_env(environ)
    keep = ArtifactFilter(config.include, config.exclude, config.hand_written)
    spec = pathspec_filter(pathspecs)
    here = cwd or Path.cwd()
    given = set(repo_relative_all(repo.root, here, files))
    _prestart(repo, base, head)
    try:
        generated = None
        if given and config.linguist_generated:
            from phase2_git.git.attributes import linguist_generated

            generated = linguist_generated(repo, [p for p in given if keep.candidate(p)])
            keep = keep.with_generated(generated)
        paths = sorted(p for p in given if keep(p) and (spec is None or spec(p)))
        if files and not paths:
            return CheckResult(base, head, 0, ())  # none of the files is an artifact

        from phase2_git.app.diff import run_diff
        from phase2_git.core.pipeline import PairCheck

        syntax = _Syntax(config)
        # path -> what the syntax check found in each pair the diff read (None: nothing);
        # asked where the pair is read, so a large run's workers read and check it
        seen: dict[str, object] = {}
        # path -> the strip of each mixed file --fix may rewrite, run where it is read too
        strips: dict[str, Strip] = {}
        refusal = _fix_refusal(config, environ) if fix else None
        if fix and refusal is None:
            from phase2_git.app.strips import StripHere

            asked = _SyntaxAndStrip(syntax, StripHere(repo, config.classify))
            check = PairCheck(asked, partial(_keep_both, seen, strips), strips=True)
        else:
            check = PairCheck(syntax.pair, lambda c, found: seen.__setitem__(c.path, found))
        result = run_diff(
            repo,
            base,
            head,
            config=config,
            paths=paths,
            approvals=require_decision,
            check=check,
            pathspecs=pathspecs,
            generated=generated,
        )
        findings: list[Finding] = []
        malformed = _malformed_json(repo, result.head, paths, result.mismatches, syntax, seen)
        bad = {f.path for f in malformed}
        findings += malformed
        # line endings git normalised come resolved, or with no strip planned (a mixed
        # file): the diff of the index tells them (app/normalized.py)
        noisy = [
            m
            for m in result.mismatches
            if (is_unresolved_noise(m) or m.strips_safely) and m.path not in bad
        ]
        if fix:
            findings += _fix(repo, noisy, config, refusal, strips)
        else:
            findings += [_noise_finding(m) for m in noisy]
        if require_decision:
            findings += [
                Finding(
                    m.path,
                    "undecided",
                    f"real change ({m.mismatch_type}, {m.status}) without a decision: "
                    f"phase2 approve {_shell_path(m.path)}",
                )
                for m in result.mismatches
                if is_unresolved_real(m) and m.path not in bad
            ]
        checked = len(paths) if paths else len(result.mismatches)
        return CheckResult(
            result.base.label, result.head.label, checked, tuple(sorted(findings, key=_order))
        )
    finally:
        repo.discard_started()


def _prestart(repo: GitRepo, base: str, head: str) -> None:
    """The diff's two git processes started now, to run beside ``check-attr`` and this
    process's own work: the hook's git commands ran one after the other, this process
    waiting on each one's start-up (bench/: the ``check`` row)."""
    from phase2_git.git import blobs, changes
    from phase2_git.git.sides import resolve_side

    if base in repo.resolved and head == ":index":  # resolved already: no git call here
        changes.prestart(repo, resolve_side(repo, base), resolve_side(repo, head))
        blobs.prestart(repo)


def _order(f: Finding) -> tuple[str, str]:
    return f.path, f.kind


def _shell_path(path: str) -> str:
    from phase2_git.core.sanitize import shell_path

    return shell_path(path)


def _fix_step(m: Mismatch) -> tuple[str, Transform | None, bool, str]:
    """What ``--fix`` would apply: (action, transform, safe, reason) of the plan, or of its
    first step for a mixed file."""
    first = m.plan.first
    if m.plan.transform is None and first is not None:
        return first.action, first.transform, first.safe, first.reason
    return m.plan.action, m.plan.transform, m.plan.safe, m.plan.reason


def _noise_finding(m: Mismatch, note: str = "") -> Finding:
    action, _, safe, _ = _fix_step(m)
    how = "safe to fix" if safe else "needs a human"
    if m.strips_safely and m.changes is not None:
        kinds = ", ".join(m.changes.noise_types())
        msg = f"noise beside a real change ({kinds}): plan {action}, {how}, the real change stays"
    else:
        msg = f"noise only ({m.mismatch_type}): plan {action}, {how}"
    if note:
        msg += f"; not fixed: {note}"
    elif safe:
        msg += f"; run `phase2 check --fix {_shell_path(m.path)}` (the phase2-fix hook)"
    return Finding(m.path, "noise", msg)


# ---------------------------------------------------------------------------- check-json


def _head_entries(repo: GitRepo, head: Side, paths: Sequence[str]) -> dict[str, tuple[str, str]]:
    """``path -> (mode, oid)`` on the head side (the index or a commit) for ``paths``."""
    if not paths:
        return {}
    literal = {"GIT_LITERAL_PATHSPECS": "1"}  # file names are names, never glob patterns
    if head.kind == "index":
        out = repo.run("ls-files", "-z", "-s", "--full-name", "--", *paths, env=literal)
    elif head.commit is not None:
        out = repo.run("ls-tree", "-r", "-z", "--full-tree", head.commit, "--", *paths, env=literal)
    else:  # pragma: no cover - check compares HEAD with the index, or two commits
        return {}
    entries: dict[str, tuple[str, str]] = {}
    for rec in out.split(b"\0"):
        if not rec:
            continue
        meta, _, name = rec.partition(b"\t")
        fields = meta.decode("ascii").split()
        if head.kind == "index":  # "<mode> <oid> <stage>"
            mode, oid, stage = fields
            if stage != "0":
                continue  # a conflicted entry: git refuses to commit it anyway
        else:  # "<mode> <type> <oid>"
            mode, _kind, oid = fields
        entries[os.fsdecode(name)] = (mode, oid)
    return entries


class _NotPlain(Exception):
    """A duplicate key or a NaN/Infinity: the fast parse gives way to the full one."""


def _unique_keys(pairs: list[tuple[str, object]]) -> None:
    if len({k for k, _ in pairs}) != len(pairs):
        raise _NotPlain
    # nothing kept: the fast parse only has to say whether the document is clean


def _refuse(name: str) -> object:
    raise _NotPlain


_FAST_DECODER: json.JSONDecoder | None = None


def _clean_json(data: bytes) -> bool:
    """True when ``data`` is a JSON document without duplicate keys or non-JSON constants:
    then :func:`_json_problem` finds nothing, in either mode (strict JSON has no comment or
    trailing comma for the JSONC scanner to blank). The stdlib's C scanner with nothing built
    but the pairs it checks: a regeneration stages thousands of files, and the full parse
    (numbers kept as text, objects as pair tuples) costs several times this. False says
    nothing: the full parse decides, and words the problem."""
    global _FAST_DECODER
    from phase2_git.core.jsonvalue import decode_text

    if _FAST_DECODER is None:
        import json

        _FAST_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_refuse)
    try:
        _FAST_DECODER.decode(decode_text(data))
    except (ValueError, RecursionError, _NotPlain):  # ValueError: JSONDecodeError, a huge int
        return False
    return True


def _json_problem(data: bytes, *, comments: bool = False) -> str | None:
    """Why ``data`` is not a JSON document check-json accepts (JSONC with ``comments``)."""
    from phase2_git.core import jsonc, jsonvalue

    try:
        doc = jsonc.parse(data) if comments else jsonvalue.parse(data)
    except jsonvalue.JsonInvalid as exc:
        return str(exc)
    # check-json rejects duplicate keys: which value wins is parser-defined
    stack: list[object] = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, jsonvalue.JObj):
            keys = node.keys_in_order()
            seen: set[str] = set()
            for key in keys:
                if key in seen:
                    return f"duplicate key {key!r}"
                seen.add(key)
            stack.extend(v for _, v in node)
        elif isinstance(node, list):
            stack.extend(node)
    return None


class _Syntax:
    """Whether a JSON artifact's new content is a finding: it does not parse, and the file
    matches ``artifacts.strict_json`` or parsed before this change (a regression). A file
    that never parsed, or a new one, is someone's JSON5 or template: not the hook's business.
    JSONC artifacts (``artifacts.jsonc``, or a comment in the file) may hold comments and
    trailing commas. Pure (a large diff's workers ask it of the pairs they read)."""

    def __init__(self, config: Config) -> None:
        from phase2_git.core.classify import detect_artifact_type, is_jsonc_path
        from phase2_git.core.globs import compile_patterns

        self.config = config
        self.strict = compile_patterns(tuple(config.strict_json))
        self._is_jsonc_path = is_jsonc_path
        self._detect = detect_artifact_type

    def is_json(self, path: str) -> bool:
        settings = self.config.classify
        ext = posixpath.splitext(path)[1].lower()
        return ext in settings.json_extensions or self._is_jsonc_path(path, settings)

    def pair(self, m: Mismatch, before: Blob | None, after: Blob | None) -> Finding | None:
        """:meth:`blob` of a pair the diff read (``m``: its mismatch)."""
        change = m.change
        if after is None or after.mode not in REGULAR_MODES or not self.is_json(change.path):
            return None
        return self.blob(change.path, after, before)

    def blob(self, path: str, blob: Blob, old: Blob | None) -> Finding | None:
        """The finding for ``blob`` at ``path``, whose content before was ``old``."""
        if blob.data is None:
            return None  # larger than max_file_size: compared by hash only, never parsed
        must = self.strict(path)
        if not must and (old is None or old.data is None or old.oid == blob.oid):
            return None  # new, unreadable or unchanged: no regression to report
        if _clean_json(blob.data):
            return None  # parses in either mode: no need to know which applies
        settings = self.config.classify
        comments = not must and (self._detect(path, old, blob, settings) == "jsonc")
        problem = _json_problem(blob.data, comments=comments)
        if problem is None:
            return None
        if not must:
            assert old is not None and old.data is not None
            if _json_problem(old.data, comments=comments) is not None:
                return None  # it did not parse before either: not this change's doing
        from phase2_git.core.sanitize import sanitize_line  # here: clean runs never need it

        kind = "JSONC" if comments else "JSON"
        why = "" if must else f" (it was valid {kind} before this change)"
        return Finding(path, "malformed", f"invalid {kind}: {sanitize_line(problem)}{why}")


def _malformed_json(
    repo: GitRepo,
    head: Side,
    paths: Sequence[str],
    mismatches: Sequence[Mismatch],
    syntax: _Syntax,
    seen: Mapping[str, object] | None = None,
) -> list[Finding]:
    """JSON artifacts whose new content is a finding (:class:`_Syntax`). ``seen``: what the
    syntax check found in the pairs the diff read (path -> finding or None); the other
    files are read here: without files, every changed artifact the diff did not read (an
    unchanged file is no regression); with files, those that must always parse."""
    from phase2_git.git.blobs import read_blobs

    seen = seen or {}
    wanted: dict[str, tuple[str, str]] = {}
    if paths:
        unseen = [p for p in paths if syntax.is_json(p) and p not in seen and syntax.strict(p)]
        wanted = _head_entries(repo, head, unseen)
    else:
        for m in mismatches:
            c = m.change
            if c.after is not None and syntax.is_json(c.path) and c.path not in seen:
                wanted[c.path] = (c.after_mode, c.after)
    changes = [
        Change("added", path, None, None, oid, "000000", mode)
        for path, (mode, oid) in sorted(wanted.items())
        if mode in REGULAR_MODES
    ]
    findings = [f for _, f in sorted(seen.items()) if isinstance(f, Finding)]
    max_size = syntax.config.classify.max_file_size
    for change, _, blob in read_blobs(repo, changes, max_size=max_size) if changes else ():
        found = syntax.blob(change.path, blob, None) if blob is not None else None
        if found is not None:
            findings.append(found)
    return findings


# ---------------------------------------------------------------------------- --fix


def _fix_refusal(config: Config, environ: Mapping[str, str]) -> str | None:
    """Why ``--fix`` rewrites nothing at all in this run, or None."""
    from phase2_git.store.gate import kill_switch

    # the project's one kill-switch rule (fail-safe: any value but empty/0/false/no/off)
    why = kill_switch(environ)
    if why is None and config.policy.mode != "auto":
        why = f"policy mode is '{config.policy.mode}': a human applies plans (phase2 resolve)"
    return why


class _SyntaxAndStrip:
    """``--fix``'s question of each pair the diff reads: the syntax check's finding, and the
    strip of a mixed file (:class:`~phase2_git.app.strips.StripHere`), right after its
    analysis and in the process that read it."""

    def __init__(self, syntax: _Syntax, strip: StripHere) -> None:
        self.syntax = syntax
        self.strip = strip

    def __call__(
        self, m: Mismatch, before: Blob | None, after: Blob | None
    ) -> tuple[Finding | None, Strip | None]:
        return self.syntax.pair(m, before, after), self.strip(m, before, after)


def _keep_both(
    seen: dict[str, object], strips: dict[str, Strip], change: Change, answer: object
) -> None:
    assert isinstance(answer, tuple)
    found, stripped = answer
    seen[change.path] = found
    if stripped is not None:
        strips[change.path] = stripped


def _fix(
    repo: GitRepo,
    noisy: Sequence[Mismatch],
    config: Config,
    refusal: str | None,
    strips: Mapping[str, Strip],
) -> list[Finding]:
    """Rewrite the working-tree files of ``noisy`` with their safe step, unless ``refusal``
    (:func:`_fix_refusal`) says why none is; ``strips``: the strips already run where the
    diff read the pairs, by path."""
    if not noisy:
        return []
    if refusal is not None:
        return [_noise_finding(m, refusal) for m in noisy]
    findings: list[Finding] = []
    candidates: list[Mismatch] = []
    for m in noisy:
        _, transform, safe, reason = _fix_step(m)
        if not safe or transform is None:
            findings.append(_noise_finding(m, reason))
        else:
            candidates.append(m)
    if not candidates:
        return findings

    # Invariant 1: rewrite a file only if it holds exactly the content phase2 classified.
    clean = _clean_hashes(repo, [m.path for m in candidates])
    ready: list[Mismatch] = []
    for m in candidates:
        state = clean.get(m.path)
        if state is None:
            findings.append(
                Finding(m.path, "refused", "refused: not a regular file in the working tree")
            )
        elif state != m.change.after:
            findings.append(
                Finding(
                    m.path,
                    "refused",
                    "refused: the working-tree file differs from the content being "
                    "committed (unstaged edits?); stage or stash them, then fix again",
                )
            )
        else:
            ready.append(m)
    # the file cleans to the staged blob, but may hold more than git stores (a clean filter's
    # dropped lines, CRLF under text=auto): a rewrite would destroy that
    from phase2_git.git.commit import unconverted
    from phase2_git.git.worktree import CONVERSION_ATTRIBUTES, attributes, autocrlf, hidden_bytes

    paths = [m.path for m in ready]
    # git asked once for both: the attributes, and core.autocrlf
    attrs, crlf = attributes(repo, paths, CONVERSION_ATTRIBUTES), autocrlf(repo)
    hidden = hidden_bytes(repo, {m.path: m.change.after for m in ready}, attrs=attrs, crlf=crlf)
    findings += [Finding(h.path, "refused", f"refused: {h.reason}") for h in hidden.values()]
    todo = [m for m in ready if m.path not in hidden]
    plain = unconverted(repo, [m.path for m in todo], every=paths, known=attrs, crlf=crlf)
    findings += _apply(repo, todo, config, plain, strips)
    return findings


def _clean_hashes(repo: GitRepo, paths: Sequence[str]) -> dict[str, str | None]:
    """The blob id git would store for each working-tree file (clean filters and eol
    conversion applied, nothing written); None when it is absent or not a regular file."""
    out: dict[str, str | None] = {}
    present: list[str] = []
    from phase2_git.git.paths import beyond_symlink

    for p in paths:
        if beyond_symlink(repo.root, p):  # never read or write through a symlinked folder
            out[p] = None
            continue
        try:
            st = os.lstat(repo.root / p)
        except OSError:
            out[p] = None
            continue
        if stat.S_ISREG(st.st_mode):
            present.append(p)
        else:
            out[p] = None
    if present:
        res = repo.run("-c", "core.safecrlf=false", "hash-object", "--", *present)
        for p, oid in zip(present, res.decode().split(), strict=True):
            out[p] = oid
    return out


def _apply(
    repo: GitRepo,
    ready: Sequence[Mismatch],
    config: Config,
    plain: Collection[str],
    strips: Mapping[str, Strip],
) -> list[Finding]:
    """Rewrite each of ``ready`` with its plan's bytes, as a checkout would write them.
    ``plain``: the paths a checkout writes byte for byte as their blobs hold them
    (:func:`~phase2_git.git.commit.unconverted`): their new bytes go to the file as they are.
    Any other file gets git's own conversion of them (smudge, eol), a ``cat-file`` each: one
    for every file was 0.7 s of a 316-file fix, and 5 s of 3,000. ``strips``: the mixed files
    stripped where the diff read them, whose pairs are not read again."""
    from phase2_git.files import ManyWrites
    from phase2_git.git.blobs import read_blobs

    findings: list[Finding] = []
    max_size = config.classify.max_file_size
    todo = [m.change for m in ready if m.path not in strips]
    pairs = read_blobs(repo, todo, max_size=max_size)
    with ManyWrites(len(ready)) as writes:
        for m in ready:
            held = strips.get(m.path)
            before = after = None
            if held is None:
                _, before, after = next(pairs)
            findings.append(_fixed(repo, m, before, after, config, plain, writes, held))
    return findings


def _fixed(
    repo: GitRepo,
    m: Mismatch,
    before: Blob | None,
    after: Blob | None,
    config: Config,
    plain: Collection[str],
    writes: ManyWrites,
    held: Strip | None = None,
) -> Finding:
    """The finding of one file :func:`_apply` rewrites, its write handed to ``writes``;
    ``held``: its strip, run where the diff read the pair (then ``before`` and ``after`` are
    not read)."""
    from phase2_git.core import transforms
    from phase2_git.core.classify import whitespace_rules

    _, plan_t, _, _ = _fix_step(m)
    assert plan_t is not None  # filtered by _fix
    oid: str | None
    if held is not None:
        assert plan_t.id == transforms.STRIP_NOISE_ID  # only a mixed file's step is held
        if isinstance(held, str):
            return _noise_finding(m, held)  # the transform refused the content
        oid, data = None, held[1]  # its blob is not written yet (hash-object -w below)
    elif before is None or after is None or before.data is None or after.data is None:
        return _noise_finding(m, "content not readable")
    elif plan_t.id == transforms.RESTORE_BASE.transform.id:
        oid, data = before.oid, before.data  # the base blob, and its bytes
    else:
        spec = transforms.spec_for(
            plan_t.id,
            m.mismatch_type,
            m.artifact_type,
            config.classify,
            whitespace_rules(m.path, config.classify),
        )
        if spec is None:
            return _noise_finding(m, f"transform {plan_t.id} is not available")
        try:
            data = transforms.apply(spec, before.data, after.data)
        except transforms.TransformError as exc:
            return _noise_finding(m, str(exc))
        oid = None
    if m.path not in plain:
        if oid is None:
            written = repo.run("hash-object", "-w", "--no-filters", "--stdin", input=data)
            oid = written.decode().strip()
        # smudged exactly as a checkout would write it
        data = repo.run("cat-file", "--filters", f"--path={m.path}", oid)
    # the file keeps its permission bits (checked a regular file by _clean_hashes)
    writes.write(repo.root / m.path, data)
    what = (
        "stripped the noise beside a real change, which stays"
        if m.strips_safely
        else f"fixed {m.mismatch_type} noise"
    )
    return Finding(m.path, "fixed", f"{what} ({plan_t.id}); review it and `git add` it")
