"""Sides of a comparison: a commit-ish, the index, or the working tree."""

# no `from __future__ import annotations`: NamedTuple fields stay cheap (see core/model.py)

from collections.abc import Mapping, Sequence
from typing import Literal, NamedTuple

from phase2_git.errors import UsageError
from phase2_git.git.repo import GitRepo, git_failure, quote_for_message

SideKind = Literal["commit", "index", "worktree"]

_HEX = frozenset("0123456789abcdef")  # what rev-parse prints an object id with

INDEX = ":index"
WORKTREE = ":worktree"

FETCH_DEPTH_HINT = (
    "this is a shallow clone, so the history may be cut: fetch all of it "
    "(`git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout)"
)


class Side(NamedTuple):
    spec: str
    kind: SideKind
    commit: str | None
    tree: str

    @property
    def label(self) -> str:
        """What reports name this side by: a commit id, ``:index`` or ``:worktree``."""
        if self.kind == "index":
            return INDEX
        if self.kind == "worktree":
            return WORKTREE
        return self.commit if self.commit is not None else self.tree


def _unknown_revision(repo: GitRepo, spec: str) -> UsageError:
    if repo.is_shallow():
        hint = FETCH_DEPTH_HINT
    else:
        hint = (
            "name a branch, tag or commit that exists here (`git branch -a`); "
            "fetch it first if it lives on a remote"
        )
    return UsageError(f"unknown revision '{quote_for_message(spec)}'", hint=hint)


def _verify_commit(repo: GitRepo, spec: str) -> str | None:
    proc = repo.run_status(
        "rev-parse", "--verify", "--quiet", "--end-of-options", f"{spec}^{{commit}}"
    )
    if proc.returncode != 0:
        return None
    return proc.stdout.decode().strip()


def _head_is_unborn(repo: GitRepo) -> bool:
    if repo.run_status("symbolic-ref", "--quiet", "HEAD").returncode != 0:
        return False  # detached HEAD always names a commit
    return repo.run_status("rev-parse", "--verify", "--quiet", "HEAD").returncode != 0


def resolve_commit(repo: GitRepo, spec: str) -> str:
    """Commit id for a commit-ish ``spec``; :class:`UsageError` naming it if there is none."""
    if not spec or "\0" in spec:
        raise _unknown_revision(repo, spec)
    commit = _verify_commit(repo, spec)
    if commit is None:
        raise _unknown_revision(repo, spec)
    return commit


def sides_from_env(environ: Mapping[str, str]) -> tuple[str, str]:
    """``HEAD`` vs ``:index``; pre-commit's ``PRE_COMMIT_FROM_REF``/``TO_REF`` when it sets
    them (pre-push and ``pre-commit run --from-ref/--to-ref``)."""
    frm = environ.get("PRE_COMMIT_FROM_REF", "")
    to = environ.get("PRE_COMMIT_TO_REF", "")
    if frm and to and frm.strip("0") and to.strip("0"):
        return frm, to
    return "HEAD", ":index"


def resolve_side(repo: GitRepo, spec: str) -> Side:
    """Turn a user's side name into a :class:`Side`."""
    if spec == INDEX:
        return Side(spec=spec, kind="index", commit=None, tree="")
    if spec == WORKTREE:
        return Side(spec=spec, kind="worktree", commit=None, tree="")
    early = repo.resolved.get(spec)
    if early is not None:  # resolved by GitRepo.discover (the hook's HEAD)
        return Side(spec=spec, kind="commit", commit=early[0], tree=early[1])
    found = _commit_sides(repo, (spec,))
    if found is not None:
        return found[0]
    if spec in ("HEAD", "@") and _verify_commit(repo, spec) is None and _head_is_unborn(repo):
        return Side(spec=spec, kind="commit", commit=None, tree=repo.empty_tree)
    commit = resolve_commit(repo, spec)
    tree = repo.run("rev-parse", "--verify", f"{commit}^{{tree}}").decode().strip()
    return Side(spec=spec, kind="commit", commit=commit, tree=tree)


def resolve_sides(repo: GitRepo, base: str, head: str) -> tuple[Side, Side]:
    """:func:`resolve_side` of both, with one ``rev-parse`` for two commits (a diff's start
    waits on each git process in turn); anything else, or a spec that does not resolve, goes
    the one-side way, which words the error."""
    specs = (base, head)
    if base != head and not any(s in (INDEX, WORKTREE) or s in repo.resolved for s in specs):
        found = _commit_sides(repo, specs)
        if found is not None:
            return found[0], found[1]
    return resolve_side(repo, base), resolve_side(repo, head)


def _commit_sides(repo: GitRepo, specs: Sequence[str]) -> list[Side] | None:
    """Each of ``specs`` as a commit and its tree, from one ``rev-parse`` (the common case),
    or None when one of them does not resolve so. Without --verify, git 2.39 echoes
    --end-of-options back: it is dropped, and only object ids are accepted, two a spec."""
    if not all(s and "\0" not in s and not s.startswith("-") for s in specs):
        return None
    proc = repo.run_status(
        "rev-parse", "--quiet", "--end-of-options",
        *(f"{s}^{{{kind}}}" for s in specs for kind in ("commit", "tree")),
    )  # fmt: skip
    ids = [x for x in proc.stdout.decode().split() if x != "--end-of-options"]
    if (
        proc.returncode != 0
        or len(ids) != 2 * len(specs)
        or not all(len(x) == repo.oid_len and set(x) <= _HEX for x in ids)
    ):
        return None
    return [
        Side(spec=s, kind="commit", commit=ids[2 * k], tree=ids[2 * k + 1])
        for k, s in enumerate(specs)
    ]


def merge_base(repo: GitRepo, a: str, b: str) -> str:
    """The best common ancestor of two commit-ishes."""
    ca = resolve_commit(repo, a)
    cb = resolve_commit(repo, b)
    proc = repo.run_status("merge-base", ca, cb)
    if proc.returncode == 0:
        return proc.stdout.decode().split()[0]
    message = f"no merge base between '{quote_for_message(a)}' and '{quote_for_message(b)}'"
    if repo.is_shallow():
        raise UsageError(message, hint=FETCH_DEPTH_HINT)
    if proc.returncode == 1:
        raise UsageError(
            message,
            hint="the histories share no commit; if history was fetched partially, fetch all "
            "of it (`fetch-depth: 0` in actions/checkout)",
        )
    raise git_failure(("merge-base",), proc.stderr)


def _ref_exists(repo: GitRepo, ref: str) -> bool:
    return _verify_commit(repo, ref) is not None


def default_base(repo: GitRepo) -> tuple[str, str]:
    """Merge base of HEAD with the branch it will merge into, and how it was chosen.

    Tries, in order: the current branch's upstream, ``origin/HEAD``, ``main``, ``master``
    (local branch first, then ``origin/``).
    """
    candidates: list[str] = []
    upstream = repo.run_status(
        "rev-parse", "--verify", "--quiet", "--symbolic-full-name", "@{upstream}"
    )
    if upstream.returncode == 0 and upstream.stdout.strip():
        candidates.append(upstream.stdout.decode().strip())
    candidates += [
        "refs/remotes/origin/HEAD",
        "refs/heads/main",
        "refs/remotes/origin/main",
        "refs/heads/master",
        "refs/remotes/origin/master",
    ]
    for ref in candidates:
        if not _ref_exists(repo, ref):
            continue
        name = _short_name(repo, ref)
        return merge_base(repo, ref, "HEAD"), f"merge base of HEAD and {name}"
    raise UsageError(
        "no base to compare with: no upstream, origin/HEAD, main or master",
        hint="name the base explicitly, e.g. `phase2 resolve origin/develop HEAD`",
    )


def _short_name(repo: GitRepo, ref: str) -> str:
    if ref == "refs/remotes/origin/HEAD":
        target = repo.run_status("symbolic-ref", "--quiet", "--short", ref)
        if target.returncode == 0 and target.stdout.strip():
            return target.stdout.decode().strip()
        return "origin/HEAD"
    for prefix in ("refs/heads/", "refs/remotes/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref
