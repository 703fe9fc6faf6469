"""``phase2 merge-driver %O %A %B %P``: git's merge driver for artifacts (README: "Merge
driver"), and what ``phase2 init --merge-driver`` registers.

Git calls the driver for a path whose ``.gitattributes`` say ``merge=phase2`` when both sides
changed it: ``%O`` holds the ancestor, ``%A`` ours (the driver writes the result there), ``%B``
theirs, ``%P`` is the path. Exit 0: resolved; anything else: a conflict, and ``%A`` must then
hold what the user resolves (git's conflict markers).

The three-way logic is :func:`phase2_git.core.merge3.merge3`. Here: the configuration (from
the working tree, ours: theirs is not checked out), whether the path is an artifact at all,
the decision line for every automatic resolution, and the fallbacks. Whatever the driver
cannot merge (not an artifact, binary, too large, a malformed side, a bad configuration, the
kill switch) gets exactly what git would do without it: ``git merge-file`` on the three
files, its exit code, and one line on stderr saying why.

The decision line. Git runs the driver in the middle of its command, before it writes the
work tree: a line appended to ``.phase2/decisions.jsonl`` then would be overwritten, silently,
whenever the same merge changes the log (git marked the file up to date when it read the index,
so it does not look again). So the driver appends the validated line to a journal in the git
directory (``phase2/merge-decisions.jsonl``: git never touches it) and starts a finisher, a
detached ``phase2 merge-driver --finish``, which waits until git has released the index (and a
rebase or a multi-commit pick has ended), then moves every journal line not yet in the log into
``.phase2/decisions.jsonl`` under ``.phase2/lock``. A finisher that cannot finish (a rebase
stopped for hours, a log left in conflict) leaves the journal as it is: the next one takes it.

Started by git once per conflicting artifact: imports stay lazy, as the hook's do.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from phase2_git.errors import Phase2Error, UsageError

if TYPE_CHECKING:
    from phase2_git.core.merge3 import Merge3
    from phase2_git.git.repo import GitRepo
    from phase2_git.store.config import Config

NAME = "phase2"
DESCRIPTION = "phase2: merge generated artifacts once their noise is set aside"
# Registered in the repository's own git config. Where phase2 is not on PATH (a GUI client,
# a removed virtualenv) the shell falls back to git's own text merge: nothing breaks.
DRIVER = (
    "command -v phase2 >/dev/null 2>&1 || exec git merge-file --marker-size=%L "
    "-L ours -L base -L theirs %A %O %B; exec phase2 merge-driver %O %A %B %P %L"
)
LABELS = ("ours", "base", "theirs")
# under the git directory of the work tree: the journal, the file a finisher is moving into
# the log, and the finishers' lock
JOURNAL = "phase2/merge-decisions.jsonl"
MOVING = "phase2/merge-decisions.moving.jsonl"
FINISHER_LOCK = "phase2/finisher.lock"
# how long a finisher waits for git (a stopped rebase may wait for its user much longer: the
# journal then waits for the next finisher)
FINISH_WAIT = 600.0
_SNIFF = 8000
_SNIFFED_EXTENSIONS = ("", ".txt", ".out", ".snap", ".golden", ".expected")


class DriverResult(NamedTuple):
    code: int  # 0: resolved (written to %A); else a conflict (markers in %A)
    message: str  # one line for stderr, "" for none


def merge_driver(
    ancestor: str,
    current: str,
    other: str,
    path: str,
    marker_size: int = 7,
    *,
    cwd: str | os.PathLike[str] = ".",
) -> DriverResult:
    """Merge one artifact as git's merge driver; see the module docstring."""
    from phase2_git.git.repo import GitRepo

    here = Path(cwd)
    files = (here / ancestor, here / current, here / other)
    repo = GitRepo.discover(here)
    driver = _Driver(repo, files, path, marker_size)
    try:
        return driver.run()
    except Phase2Error as exc:
        return driver.fallback(exc.message)
    except Exception:
        driver.merge_file(None)  # a bug: git's own merge in %A, then the funnel reports it
        raise


class _Driver:
    def __init__(self, repo: GitRepo, files: tuple[Path, Path, Path], path: str, marker_size: int):
        self.repo, self.files, self.path, self.marker_size = repo, files, path, marker_size

    def say(self, text: str) -> str:
        """One line for stderr: the reasons quote keys of the artifact (escaped here)."""
        from phase2_git.core.sanitize import escape_controls, sanitize_path

        return f"phase2 merge-driver: {sanitize_path(self.path)}: {escape_controls(text)}"

    def run(self) -> DriverResult:
        from phase2_git.core.artifacts import ArtifactFilter
        from phase2_git.store.config import load
        from phase2_git.store.gate import kill_switch

        off = kill_switch(os.environ)
        if off is not None:
            return self.fallback(off)
        try:
            base, ours, theirs = (f.read_bytes() for f in self.files)
        except OSError as exc:
            return self.fallback(f"cannot read a side: {exc.strerror}")
        try:
            cfg = load(self.repo.root)
        except Phase2Error as exc:
            return self.fallback(f"configuration: {exc.message}")
        if not ArtifactFilter(cfg.include, cfg.exclude, cfg.hand_written)(self.path):
            return self.fallback("")  # not an artifact: git's own merge, nothing to say
        sides = (base, ours, theirs)
        limit = cfg.classify.max_file_size
        if any(len(x) > limit for x in sides):
            return self.fallback(f"a side is larger than artifacts.max_file_size ({limit})")
        if any(b"\0" in x[:_SNIFF] for x in sides):
            return self.fallback("binary")
        merged = self.merge(cfg, *sides)
        if merged.data is None:
            return self.conflict(merged)
        try:
            self.record(cfg, sides, merged)
        except Phase2Error as exc:
            return self.conflict(merged, f"cannot record the decision ({exc.message})")
        self.files[1].write_bytes(merged.data)
        return DriverResult(0, "")

    def merge(self, cfg: Config, base: bytes, ours: bytes, theirs: bytes) -> Merge3:
        from phase2_git.core.classify import whitespace_rules
        from phase2_git.core.jsonvalue import looks_like_json
        from phase2_git.core.merge3 import merge3

        settings = cfg.classify
        ext = posixpath.splitext(self.path)[1].lower()
        json_type = ext in settings.json_extensions or (
            ext in _SNIFFED_EXTENSIONS and all(looks_like_json(x) for x in (base, ours, theirs))
        )
        return merge3(
            base,
            ours,
            theirs,
            artifact_type="json" if json_type else "text",
            rules=whitespace_rules(self.path, settings),
            settings=settings,
            strategy=cfg.policy.strategy("whitespace"),
        )

    # ------------------------------------------------------------------ outcomes

    def fallback(self, reason: str) -> DriverResult:
        """What git does without the driver: its own line merge of the three files."""
        code = self.merge_file(None)
        if not reason:
            return DriverResult(code, "")
        tail = "git's text merge" + (" left a conflict" if code else " merged it")
        return DriverResult(code, self.say(f"{reason}: {tail}"))

    def conflict(self, merged: Merge3, why: str = "") -> DriverResult:
        """Both sides changed the same places: git's conflict markers, drawn between the
        sides with their noise set aside (so only the real changes are in conflict)."""
        from phase2_git.core.merge3 import MALFORMED

        if merged.resolution == MALFORMED:
            return self.fallback(merged.reason)
        code = self.merge_file(merged.stripped)
        reason = why or merged.reason
        if code == 0:
            reason += " (git's line merge joined them: review the result)"
        return DriverResult(max(code, 1), self.say(f"{reason}: left as a conflict"))

    def merge_file(self, stripped: tuple[bytes, bytes] | None) -> int:
        """``git merge-file`` into %A (``stripped``: ours and theirs to merge instead of the
        files git gave); its exit code: 0 clean, else the number of conflicts."""
        import tempfile

        ancestor, current, other = self.files
        theirs_file = other
        tmp: Path | None = None
        if stripped is not None:
            current.write_bytes(stripped[0])
            fd, name = tempfile.mkstemp(prefix="phase2-merge-", dir=self.repo.git_dir)
            tmp = Path(name)
            with os.fdopen(fd, "wb") as fh:
                fh.write(stripped[1])
            theirs_file = tmp
        try:
            labels = [arg for label in LABELS for arg in ("-L", label)]
            proc = self.repo.run_status(
                "merge-file",
                f"--marker-size={self.marker_size}",
                *labels,
                "--",
                str(current),
                str(ancestor),
                str(theirs_file),
            )
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        return proc.returncode if proc.returncode >= 0 else 2

    def record(self, cfg: Config, sides: tuple[bytes, bytes, bytes], merged: Merge3) -> None:
        """The decision line: ``merge`` with the three blob ids and the result's. It records
        what the driver did; it approves nothing (only ``approve`` lines are approvals)."""
        from phase2_git.app.identity import identity
        from phase2_git.core.env import env_name
        from phase2_git.core.ids import mismatch_id
        from phase2_git.store.decisions import encode, new_event, now_ts, validate
        from phase2_git.store.state import new_run_id

        assert merged.data is not None
        base, ours, theirs = (blob_id(x, self.repo.object_format) for x in sides)
        result = blob_id(merged.data, self.repo.object_format)
        who = identity(self.repo, None)
        event = new_event(
            run_id=new_run_id(),
            mismatch_id=mismatch_id(self.path, base, result),
            decision="merge",
            seq=0,
            ts=now_ts(),
            env=env_name(os.environ),
            plan_id=None,
            action="merge",
            user=(who.id, who.role),
            ui=(False, "merge-driver"),
            config_fingerprint=cfg.fingerprint,
            transform=None,
            hashes={"before": base, "after": result},
            path=self.path,
            label=None,
            commit=None,
            methods=[],
            result=result,
            merge={"base": base, "ours": ours, "theirs": theirs, "resolution": merged.resolution},
            reason=merged.reason,
        )
        # the log is the finisher's to write (see the module docstring): the journal first
        validate(event)
        journal = self.repo.git_dir / JOURNAL
        try:
            journal.parent.mkdir(exist_ok=True)
            fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, encode(event))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise UsageError(f"{journal}: cannot write: {exc.strerror}") from None
        start_finisher(self.repo)


# ---------------------------------------------------------------------------- the finisher


def start_finisher(repo: GitRepo) -> None:
    """``phase2 merge-driver --finish`` in its own session, detached from git's terminal and
    pipes (git, and whoever reads git's output, must not wait for it)."""
    import subprocess
    import sys

    import phase2_git

    # the very phase2 that runs now, wherever it was imported from
    env = dict(repo.env)
    here = str(Path(phase2_git.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
    subprocess.Popen(
        [sys.executable, "-m", "phase2_git", "merge-driver", "--finish"],
        cwd=repo.root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def finish(cwd: str | os.PathLike[str] = ".", *, wait: float = FINISH_WAIT) -> int:
    """The finisher: move the journal into ``.phase2/decisions.jsonl`` once git is done with
    the work tree; the number of lines moved. One finisher at a time per work tree (the others
    leave at once: the one running takes their lines too)."""
    import time

    from phase2_git.errors import RefusedError
    from phase2_git.git.repo import GitRepo

    repo = GitRepo.discover(cwd)
    moved = 0
    deadline = time.monotonic() + wait
    while (repo.git_dir / JOURNAL).exists() or (repo.git_dir / MOVING).exists():
        with _finisher_lock(repo) as mine:
            if not mine:
                return moved
            if not _wait_for_git(repo, deadline - time.monotonic()):
                return moved
            try:
                moved += _move(repo)
            except RefusedError:  # another phase2 run holds .phase2/lock: wait for it
                if time.monotonic() > deadline:
                    return moved
                time.sleep(0.2)
        # a driver may have written between the last move and the release of the lock, its
        # finisher leaving because this one held it: look again
    return moved


class _finisher_lock:
    def __init__(self, repo: GitRepo) -> None:
        self.path = repo.git_dir / FINISHER_LOCK
        self.fd = -1

    def __enter__(self) -> bool:
        self.path.parent.mkdir(exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no flock (Windows): moves may overlap,
            return True  # each appends only the lines the log does not hold yet
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)  # releases the flock


def _busy(repo: GitRepo) -> bool:
    """Whether git still holds the work tree: its index lock, or a rebase or a sequence of
    picks in progress (each step releases the lock; the log is written once they end)."""
    index = Path(repo.env.get("GIT_INDEX_FILE") or repo.git_dir / "index")
    if not index.is_absolute():
        index = repo.root / index
    if index.with_name(index.name + ".lock").exists():
        return True
    return any((repo.git_dir / d).exists() for d in ("rebase-merge", "rebase-apply", "sequencer"))


def _wait_for_git(repo: GitRepo, wait: float) -> bool:
    import time

    start = time.monotonic()
    pause = 0.01
    while _busy(repo):
        if time.monotonic() - start > wait:
            return False
        time.sleep(pause)
        pause = min(pause * 1.5, 0.5)
    return True


def _move(repo: GitRepo) -> int:
    """Journal lines not yet in the log, appended to it; the journal then removed. A log that
    cannot be read (a conflict in it) keeps them in the journal."""
    from phase2_git.store.decisions import DecisionLog, parse_lines
    from phase2_git.store.lock import hold

    journal, moving = repo.git_dir / JOURNAL, repo.git_dir / MOVING
    if not moving.exists():
        try:
            os.replace(journal, moving)  # drivers now append to a new journal
        except FileNotFoundError:
            return 0
    where = str(moving)
    events = [line.event for line in parse_lines(moving.read_bytes(), where)]
    with hold(repo.root, "phase2 merge-driver --finish"):
        log = DecisionLog(repo.root)
        have = log.ids()
        new = [e for e in events if e["id"] not in have]
        log.append(new)
    moving.unlink()
    return len(new)


def blob_id(data: bytes, object_format: str) -> str:
    """The id git gives ``data`` as a blob (``git hash-object --no-filters``, without a
    process: git hashes the driver's files as they are)."""
    import hashlib

    h = hashlib.new("sha256" if object_format == "sha256" else "sha1")
    h.update(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


# ---------------------------------------------------------------------------- registering


class Registered(NamedTuple):
    config: list[str]  # "merge.phase2.driver" … set now
    config_kept: list[str]  # already as wanted
    attributes: list[str]  # lines added to .gitattributes
    attributes_kept: list[str]  # lines already there


def attribute_patterns(include: list[str], json_extensions: tuple[str, ...]) -> list[str]:
    """The ``.gitattributes`` patterns for the configured artifact globs.

    ``artifacts.include`` is gitignore-style, ``.gitattributes`` nearly so: a folder pattern
    (``snap/``) becomes ``snap/**``, negations are left out (the driver itself skips what
    ``artifacts.exclude`` and a negation leave out, with git's own merge). The default,
    every file (``**``), is narrowed to the JSON extensions: the driver's structural merge is
    for JSON, and a text glob can be added to the configuration."""
    out: list[str] = []
    pats = [p.strip() for p in include if p.strip() and not p.startswith(("!", "#"))]
    if pats == ["**"] or "**" in pats or "*" in pats:
        pats = [f"*{ext}" for ext in json_extensions]
    for p in pats:
        p = p + "**" if p.endswith("/") else p
        if any(c.isspace() for c in p) or p.startswith('"'):
            continue  # an attributes line cannot hold it unquoted; left to git
        if p not in out:
            out.append(p)
    return out


def register(repo: GitRepo, cfg: Config) -> Registered:
    """``phase2 init --merge-driver``: the driver in the repository's own git config, and a
    ``merge=phase2`` line in ``.gitattributes`` for each artifact glob (idempotent)."""
    from phase2_git.store.atomic import atomic_write_text

    done = Registered([], [], [], [])
    for key, value in ((f"merge.{NAME}.name", DESCRIPTION), (f"merge.{NAME}.driver", DRIVER)):
        if repo.config_get(key) == value:
            done.config_kept.append(key)
        else:
            repo.run("config", "--local", "--end-of-options", key, value)
            done.config.append(key)
    target = repo.root / ".gitattributes"
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f".gitattributes: cannot read: {exc}") from None
    have = {line.strip() for line in text.splitlines()}
    new: list[str] = []
    for pattern in attribute_patterns(cfg.include, cfg.classify.json_extensions):
        line = f"{pattern} merge={NAME}"
        (done.attributes_kept if line in have else new).append(line)
    if new:
        sep = "" if not text or text.endswith("\n") else "\n"
        atomic_write_text(target, text + sep + "".join(f"{line}\n" for line in new))
        done.attributes.extend(new)
    return done
