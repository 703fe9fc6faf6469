"""Where a comparison reads what decides it: the configuration, ``[trust]``, the judge and the
gate files.

In CI the working tree is the pull request's merge commit, so a configuration read from it is
the pull request author's: ``[artifacts] exclude = ["**"]`` or ``rel_tol = 1.0`` would switch
detection off. So when both sides are commits the configuration in force is the one committed
on the *trust side* -- ``--trust-from``'s commit, by default the base -- as ``[trust]``, the
``[judge]`` table and the gate files are. A head that changes the configuration gets a notice
and the changed file as a real change to review (``content``, plan ``manual``), even though
``.phase2/`` is otherwise never an artifact: its approval binds to the file's blobs like any
other. With ``:index`` or ``:worktree`` on a side (a developer's own machine) the working
tree's configuration applies, and a difference from the trust side's is a notice.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from phase2_git.core.ids import mismatch_id, plan_id
from phase2_git.core.model import (
    MODE_MISSING,
    REGULAR_MODES,
    Change,
    Mismatch,
    MismatchType,
    Plan,
    Status,
)
from phase2_git.errors import UsageError
from phase2_git.git.repo import GitRepo, quote_for_message
from phase2_git.git.sides import Side, resolve_side, resolve_sides
from phase2_git.store.config import CONFIG_FILE, Config, load, parse_toml, resolve, table_from

if TYPE_CHECKING:
    from phase2_git.store.judge_settings import TrustedJudge

# where a commit's configuration can live, in the order the working tree's is looked up
CONFIG_PATHS = (CONFIG_FILE, "pyproject.toml")


class CommitConfig(NamedTuple):
    """phase2's configuration as one commit holds it."""

    table: dict[str, Any]  # the raw table ({} when there is none)
    source: str  # "<spec>:.phase2/config.toml", "<spec>:pyproject.toml [tool.phase2]", …
    path: str | None  # the file it came from
    entries: dict[str, tuple[str, str]]  # each of CONFIG_PATHS the commit has: (mode, oid)


def _config_entries(repo: GitRepo, commit: str | None) -> dict[str, tuple[str, str]]:
    """``path -> (mode, oid)`` of each of :data:`CONFIG_PATHS` that ``commit`` holds."""
    if commit is None:
        return {}
    out = repo.run(*_listing(commit))  # every git phase2 runs takes pathspecs literally
    found: dict[str, tuple[str, str]] = {}
    for rec in out.split(b"\0"):
        meta, _, name = rec.partition(b"\t")
        path = name.decode("utf-8", "surrogateescape")
        if rec and path in CONFIG_PATHS:
            mode, _kind, oid = meta.decode().split()
            found[path] = (mode, oid)
    return found


def _listing(commit: str) -> tuple[str, ...]:
    return ("ls-tree", "-z", "--full-tree", commit, "--", *CONFIG_PATHS)


def read_commit_config(repo: GitRepo, side: Side) -> CommitConfig:
    """The configuration of a commit side, looked up as in the working tree (one ``ls-tree``,
    one ``cat-file``); exit 2 naming ``<spec>:<file>`` when it is not valid TOML."""
    from phase2_git.git.objects import read_blob

    entries = _config_entries(repo, side.commit)
    for filename in CONFIG_PATHS:
        entry = entries.get(filename)
        if entry is None:
            continue
        where = f"{side.spec}:{filename}"
        if entry[0] not in REGULAR_MODES:
            raise UsageError(f"{where}: not a regular file (mode {entry[0]})")
        found = table_from(parse_toml(read_blob(repo, entry[1]), where), filename, where)
        if found is None:
            continue  # a pyproject.toml without [tool.phase2]
        shown = where if filename == CONFIG_FILE else f"{where} [tool.phase2]"
        return CommitConfig(found, shown, filename, entries)
    return CommitConfig({}, f"{side.spec}: defaults", None, entries)


class Sources:
    """What one comparison reads its configuration, trust, judge and gates from."""

    def __init__(
        self,
        base: Side,
        head: Side,
        config: Config,
        trust: Side | None,
        trust_table: Mapping[str, Any] | bool | None,
        judges: Sequence[TrustedJudge],
        notices: Sequence[str],
        config_changes: Sequence[Mismatch],
    ) -> None:
        self.base = base
        self.head = head
        self.config = config
        # the commit [trust] and the gate files are read from (None: the working tree's)
        self.trust = trust
        # that commit's [trust] table, read once (None: it has none; False: not read, its
        # configuration did not load and the trust model reads it when it is needed)
        self.trust_table = trust_table
        # [judge] tables the user vouches for (--trust-from's, a --config outside the repo)
        self.judges = tuple(judges)
        self.notices = list(notices)
        self.config_changes = tuple(config_changes)


def choose(
    repo: GitRepo,
    base: str,
    head: str,
    *,
    config_path: str | None = None,
    trust_from: str | None = None,
) -> Sources:
    """Resolve both sides and decide where the comparison's configuration comes from.

    The *trust side* is ``trust_from``'s commit (``--trust-from``), else the base when it is a
    commit: ``[trust]``, the gate files and -- given explicitly -- ``[judge]`` are read from
    it. The configuration in force is ``config_path``'s (``--config``: the user typed it),
    else the trust side's when both sides are commits or ``trust_from`` is given, else the
    working tree's. A notice says when the one in force is not the trust side's; on two
    commits a head that changes the configuration has that change listed for review."""
    from phase2_git.store.atomic import refuse_linked_store

    # every command refuses a symlinked .phase2, whichever configuration it reads
    refuse_linked_store(repo.root)
    b, h = resolve_sides(repo, base, head)
    trust = trust_side(repo, trust_from) if trust_from is not None else None
    ref = trust if trust is not None else (b if b.kind == "commit" else None)
    commits = b.kind == "commit" and h.kind == "commit"
    if commits and ref is not None and h.commit is not None and h.commit != ref.commit:
        # the head's configuration is listed (_head_changes) while the trust side's is read
        repo.prestart(*_listing(h.commit))
    notices: list[str] = []
    ref_cc: CommitConfig | None = None
    ref_config: Config | None = None
    if ref is not None:
        try:
            ref_cc = read_commit_config(repo, ref)
            ref_config = resolve(ref_cc.table, ref_cc.source)
        except UsageError as exc:
            if commits or trust is not None:
                raise  # the configuration in force: it must be valid
            # a developer's own working tree is in force: the base's only makes a notice
            from phase2_git.core.sanitize import sanitize_line

            why = sanitize_line(exc.message)[:300]
            notices.append(f"the base side's configuration is not valid ({why}): not compared")
            ref_cc = ref_config = None
    whose = ""
    if ref is not None:
        who = "--trust-from" if trust is not None else "the base side"
        whose = f"{quote_for_message(ref.spec)} ({who})"
    if config_path is not None:
        config = load(repo.root, config_path)
        if ref_config is not None and config.fingerprint != ref_config.fingerprint:
            notices.append(
                f"--config {quote_for_message(config_path)} is in force, not the "
                f"configuration of {whose}"
            )
    elif ref_config is not None and (commits or trust is not None):
        config = ref_config
        if not commits:  # --trust-from with the index or the working tree on a side
            try:
                own = load(repo.root)
            except UsageError:
                own = None
            if own is None or own.fingerprint != ref_config.fingerprint:
                notices.append(
                    f"the working tree's configuration differs from that of {whose}, which is "
                    "in force"
                )
    else:
        config = load(repo.root)
        if ref_config is not None and config.fingerprint != ref_config.fingerprint:
            notices.append(
                f"the configuration in force ({quote_for_message(config.source)}, "
                f"{config.fingerprint[:12]}) differs from that of {whose} "
                f"({ref_config.fingerprint[:12]})"
            )
    changes: list[Mismatch] = []
    if commits:
        known = None
        if ref == b and ref_cc is not None and ref_config is not None:
            known = (ref_cc, ref_config.fingerprint)  # read and resolved once
        changes, notice = _head_changes(repo, b, h, known)
        if notice:
            notices.append(notice)
    judges: list[TrustedJudge] = []
    if trust is not None and ref_cc is not None:
        judges.append((ref_cc.source, ref_cc.table.get("judge") or {}))
    judges += _named_judge(repo.root, config, config_path)
    trust_table: Mapping[str, Any] | bool | None = False
    if ref_cc is not None:
        found = ref_cc.table.get("trust")
        trust_table = dict(found) if isinstance(found, Mapping) else None
    return Sources(b, h, config, ref, trust_table, judges, notices, changes)


def trust_side(repo: GitRepo, spec: str) -> Side:
    """``--trust-from``'s side: a commit, never the index or the working tree."""
    side = resolve_side(repo, spec)
    if side.kind != "commit" or side.commit is None:
        raise UsageError(f"--trust-from must name a commit, got '{quote_for_message(spec)}'")
    return side


def trusted_judges(
    repo: GitRepo | None, config: Config, *, config_path: str | None, trust_from: str | None
) -> list[TrustedJudge]:
    """The ``[judge]`` tables the user vouches for when no comparison is made (``judge eval``,
    ``gate``): ``--trust-from``'s commit's and a ``--config`` file outside the repository."""
    found: list[TrustedJudge] = []
    if trust_from is not None:
        if repo is None:
            raise UsageError("--trust-from names a commit: run it inside a git repository")
        cc = read_commit_config(repo, trust_side(repo, trust_from))
        resolve(cc.table, cc.source)  # validated like any configuration in force
        found.append((cc.source, cc.table.get("judge") or {}))
    return found + _named_judge(repo.root if repo is not None else None, config, config_path)


def trusted_judge_table(
    config: Config,
    trusted: Sequence[TrustedJudge] = (),
    environ: Mapping[str, str] = os.environ,
) -> tuple[dict[str, Any], list[str]]:
    """The ``[judge]`` table an external judge runs with, and the notices of what was dropped.

    The program it runs, the URL it sends content to and the variable its key is read from
    come only from configuration the user trusts: ``trusted`` (``--trust-from``'s commit, a
    ``--config`` file outside the repository) and the user's own configuration file, never
    from the repository's configuration alone (it may be a pull request's)."""
    from phase2_git.store.config import DEFAULTS, user_config_path, user_judge_table
    from phase2_git.store.judge_settings import vetted_judge

    own = user_judge_table(environ)
    return vetted_judge(
        config.data["judge"],
        config.source,
        [*trusted, *([own] if own is not None else [])],
        defaults=DEFAULTS["judge"],
        own_file=str(user_config_path(environ)),
    )


def _named_judge(root: Path | None, config: Config, config_path: str | None) -> list[TrustedJudge]:
    """A ``--config`` file outside the repository is the user's own: its judge is trusted."""
    if config_path is None or (root is not None and not _outside(root, Path(config_path))):
        return []
    return [(config_path, config.data["judge"])]


def _outside(root: Path, path: Path) -> bool:
    try:
        return not path.resolve().is_relative_to(root.resolve())
    except OSError:  # pragma: no cover - resolve() of a name that cannot be looked up
        return False


def _examined(repo: GitRepo, side: Side) -> tuple[CommitConfig, str | None, str]:
    """A side's configuration, its fingerprint (None when it is not valid) and why not."""
    try:
        found = read_commit_config(repo, side)
    except UsageError as exc:
        return CommitConfig({}, "", None, _config_entries(repo, side.commit)), None, exc.message
    try:
        return found, resolve(found.table, found.source).fingerprint, ""
    except UsageError as exc:
        return found, None, exc.message


def _head_changes(
    repo: GitRepo, base: Side, head: Side, known: tuple[CommitConfig, str] | None
) -> tuple[list[Mismatch], str]:
    """The mismatches of the configuration files the head changes when the resolved
    configuration differs (a comment or a blank line does not count), and the notice.

    A head whose configuration is not valid changes it too: its files are listed, never read
    into the run (an exit 2 would give the pull request's author a run without a report)."""
    base_fp: str | None
    base_cc, base_fp = known if known is not None else _examined(repo, base)[:2]
    head_cc, head_fp, why = _examined(repo, head)
    if head_fp == base_fp and (head_fp is not None or head_cc.entries == base_cc.entries):
        return [], ""
    paths = set(CONFIG_PATHS)
    if head_fp is not None and base_fp is not None:
        paths = {p for p in (base_cc.path, head_cc.path) if p}
    changed = sorted(p for p in paths if base_cc.entries.get(p) != head_cc.entries.get(p))
    files = ", ".join(quote_for_message(p) for p in changed)
    if head_fp is None:
        from phase2_git.core.sanitize import sanitize_line

        # the error may quote the pull request's text: shown escaped, and only so much of it
        what = f"the head side's configuration is not valid ({sanitize_line(why)[:300]})"
    else:
        before = base_fp[:12] if base_fp else "not valid"
        what = (
            f"the head side changes phase2's configuration ({files}: fingerprint "
            f"{before} → {head_fp[:12]})"
        )
    notice = (
        f"{what}: the head's configuration is not in force, and its change is a real change "
        f"to review (phase2 approve {' '.join(quote_for_message(p) for p in changed)})"
    )
    found = [_mismatch(p, base_cc.entries.get(p), head_cc.entries.get(p), what) for p in changed]
    return found, notice


def _mismatch(
    path: str, before: tuple[str, str] | None, after: tuple[str, str] | None, what: str
) -> Mismatch:
    """A configuration file's change as a real change: reviewed, approved or not, like any."""
    status: Status = "modified" if before and after else ("added" if after else "deleted")
    mtype: MismatchType = "content" if status == "modified" else status
    change = Change(
        status,
        path,
        None,
        before[1] if before else None,
        after[1] if after else None,
        before[0] if before else MODE_MISSING,
        after[0] if after else MODE_MISSING,
    )
    mid = mismatch_id(path, change.before, change.after)
    reason = "a change to phase2's own configuration needs a human decision"
    plan = Plan(plan_id(mid, "manual", None), "manual", None, False, 0.0, reason)
    return Mismatch(mid, change, "text", mtype, what[:500], (), plan)
