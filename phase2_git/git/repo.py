"""The one door to git: locate the repository and run git subprocesses.

Every git process phase2 starts goes through :meth:`GitRepo.run` or :meth:`GitRepo.popen`.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Generator, Mapping
from functools import cache, cached_property
from pathlib import Path
from typing import Any, NoReturn

from phase2_git.errors import GitError, UsageError

# Repository-local variables that git itself unsets before running git in another repository
# (a submodule); see `git rev-parse --local-env-vars`.
LOCAL_ENV_VARS: tuple[str, ...] = (
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_OBJECT_DIRECTORY",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_GRAFT_FILE",
    "GIT_INDEX_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE",
    "GIT_PREFIX",
    "GIT_SHALLOW_FILE",
    "GIT_COMMON_DIR",
)

# Path-valued variables a hook may hand us relative to its cwd; we run git at the top of the
# work tree, so they are made absolute (same meaning) against the process cwd.
_PATH_ENV_VARS: tuple[str, ...] = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_COMMON_DIR",
)


# Every path phase2 hands git is a file name, never a pattern: a file named `:odd.json` or
# `:(top)x.json` is not pathspec magic, `*.json` no glob. The other global pathspec settings
# are incompatible with this one (git refuses to run), so they are dropped.
_LITERAL_PATHSPECS = "GIT_LITERAL_PATHSPECS"
_OTHER_PATHSPEC_VARS: tuple[str, ...] = (
    "GIT_GLOB_PATHSPECS",
    "GIT_NOGLOB_PATHSPECS",
    "GIT_ICASE_PATHSPECS",
)


def _literal_pathspecs(env: Mapping[str, str]) -> Mapping[str, str]:
    if env.get(_LITERAL_PATHSPECS) == "1" and not any(v in env for v in _OTHER_PATHSPEC_VARS):
        return env
    out = {k: v for k, v in env.items() if k not in _OTHER_PATHSPEC_VARS}
    out[_LITERAL_PATHSPECS] = "1"
    return out


def quote_for_message(text: str) -> str:
    """Render ``text`` for a one-line message: control characters escaped, never a newline."""
    if text.isprintable() and "\\" not in text:
        return text  # the common case, without a loop over every character
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F or 0xDC80 <= ord(ch) <= 0xDCFF:
            # surrogateescape'd raw bytes show as \xNN
            code = ord(ch) - 0xDC00 if ord(ch) >= 0xDC80 else ord(ch)
            out.append(f"\\x{code:02x}")
        elif not ch.isprintable():
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def _first_line(data: bytes) -> str:
    for line in data.decode("utf-8", "replace").splitlines():
        if line.strip():
            return quote_for_message(line.strip())
    return "(no message)"


def _absolutize_env(env: Mapping[str, str]) -> dict[str, str]:
    out = dict(_literal_pathspecs(env))
    cwd = Path.cwd()
    for var in _PATH_ENV_VARS:
        value = out.get(var)
        if value and not Path(value).is_absolute():
            out[var] = str(cwd / value)
    return out


class GitRepo:
    """A non-bare repository with a work tree, and the environment its git processes get.

    A plain class (not a dataclass: the hook imports it, see :mod:`phase2_git.core.model`).
    Equal and hashed by where it is; the environment may hold secrets, so it stays out of
    ``repr``, equality and hash.
    """

    def __init__(
        self,
        root: Path,
        git_dir: Path,
        object_format: str,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root
        self.git_dir = git_dir
        self.object_format = object_format
        self.env: Mapping[str, str] = dict(os.environ) if env is None else env
        # revisions resolved while discovering (spec -> (commit, tree)): see discover()
        self.resolved: dict[str, tuple[str, str]] = {}
        # processes started ahead of their use (see prestart()): arguments -> process
        self._ahead: dict[tuple[str, ...], subprocess.Popen[bytes]] = {}

    def _key(self) -> tuple[Path, Path, str]:
        return self.root, self.git_dir, self.object_format

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GitRepo) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"GitRepo(root={self.root!r}, git_dir={self.git_dir!r}, "
            f"object_format={self.object_format!r})"
        )

    def at(self, root: Path, env: Mapping[str, str]) -> GitRepo:
        """The repository whose work tree is ``root`` (a submodule's checkout), same git."""
        return GitRepo(root, self.git_dir, self.object_format, env)

    # ------------------------------------------------------------------ discovery

    @classmethod
    def discover(
        cls,
        path: str | os.PathLike[str] = ".",
        env: Mapping[str, str] | None = None,
        *,
        resolve: str | None = None,
    ) -> GitRepo:
        """Find the repository containing ``path`` (one git call when it succeeds).

        ``resolve``: a revision to turn into its commit and tree in the same call (the hook
        saves a git process: ``HEAD``); found in :attr:`resolved` when it names a commit.
        """
        return cls.begin_discovery(path, env, resolve=resolve)()

    @classmethod
    def begin_discovery(
        cls,
        path: str | os.PathLike[str] = ".",
        env: Mapping[str, str] | None = None,
        *,
        resolve: str | None = None,
    ) -> Callable[[], GitRepo]:
        """:meth:`discover` in two halves: its git call starts now, and the function returned
        waits for it and gives the repository (or raises what :meth:`discover` raises). The
        hook imports the rest of what it needs while git runs."""
        env_used = _absolutize_env(os.environ if env is None else env)
        start = Path(path)
        shown = quote_for_message(os.fspath(path))
        if start.exists() and not start.is_dir():
            start = start.parent
        if not start.is_dir():
            raise UsageError(f"not a git repository: {shown} (no such directory)")
        args = ("rev-parse", "--show-toplevel", "--absolute-git-dir", "--show-object-format")
        resolving = bool(resolve and not resolve.startswith("-") and "\0" not in resolve)
        first: tuple[str, ...] = args
        if resolve and resolving:
            first = (*args, "--end-of-options", f"{resolve}^{{commit}}", f"{resolve}^{{tree}}")
        started = _start(
            first,
            cwd=start,
            env=env_used,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

        def finish() -> GitRepo:
            proc: subprocess.CompletedProcess[bytes] | None = _collect(started, first)
            early: tuple[str, str] | None = None
            if resolving:
                assert proc is not None
                # git 2.39 echoes --end-of-options back: the last three lines are it and
                # two ids
                tail = proc.stdout.split(b"\n")[-4:-1]
                if proc.returncode == 0 and len(tail) == 3 and tail[0] == b"--end-of-options":
                    early = tail[1].decode(), tail[2].decode()
                    proc.stdout = proc.stdout[: -len(b"\n".join(tail)) - 1]
                else:
                    proc = None  # an unborn HEAD, a tag of a tree …: the plain call decides
            if proc is None:
                proc = _spawn_run(args, cwd=start, env=env_used, input=None)
            if proc.returncode != 0:
                _not_a_work_tree(start, env_used, shown)
            lines = proc.stdout.split(b"\n")
            body = lines[:-1] if lines[-1] == b"" else lines
            if len(body) < 3:
                raise GitError(f"unexpected output from git rev-parse in {shown}")
            object_format = body[-1].decode()
            git_dir = os.fsdecode(body[-2])
            root = os.fsdecode(b"\n".join(body[:-2]))
            repo = cls(
                root=Path(root),
                git_dir=Path(git_dir),
                object_format=object_format,
                env=env_used,
            )
            if early is not None and resolve is not None:
                repo.resolved[resolve] = early
            return repo

        return finish

    # ------------------------------------------------------------------ ids

    @property
    def oid_len(self) -> int:
        """Hex length of an object id in this repository (40 for sha1, 64 for sha256)."""
        return {"sha1": 40, "sha256": 64}.get(self.object_format) or len(self.empty_tree)

    @property
    def zero_oid(self) -> str:
        return "0" * self.oid_len

    @cached_property
    def empty_tree(self) -> str:
        """Id of the empty tree in this repository's hash (computed by git, once)."""
        return self.run("hash-object", "-t", "tree", "--stdin", input=b"").decode().strip()

    # ------------------------------------------------------------------ running git

    def _env(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        env = dict(self.env)
        if extra:
            env.update(extra)
        return env

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
        cwd: Path | None = None,
    ) -> bytes:
        """Run ``git *args`` at the work tree top and return its stdout.

        ``env`` is laid over :attr:`env`. With ``check`` a non-zero exit raises
        :class:`GitError` carrying the first line of git's stderr.
        """
        proc = self.run_status(*args, input=input, env=env, cwd=cwd)
        if check and proc.returncode != 0:
            raise git_failure(args, proc.stderr)
        return proc.stdout

    def run_status(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        """Like :meth:`run` but never raises on exit status: for callers that read it."""
        if self._ahead and input is None and env is None and cwd is None:
            ahead = self._ahead.pop(args, None)
            if ahead is not None:
                return _collect(ahead, args)
        return _spawn_run(args, cwd=cwd or self.root, env=self._env(env), input=input)

    def prestart(self, *args: str) -> None:
        """Start ``git *args`` now, for the next :meth:`run`, :meth:`run_status` (no input,
        environment or cwd of its own) or :meth:`popen` (stdin, stdout and stderr piped,
        nothing else) of exactly these arguments to take over.

        The hook's git processes ran one after the other, each a few milliseconds of start-up
        with this process waiting: one started ahead runs on the other core meanwhile. Its
        stdin is a pipe: a command that reads none gets it closed at once, one that does
        (``cat-file --batch``) waits for its input. :meth:`discard_started` ends those never
        taken over; a fork must end them first (its child would hold their pipes open)."""
        if args in self._ahead:
            return
        proc = _start(
            args,
            cwd=self.root,
            env=self._env(None),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._ahead[args] = proc

    def discard_started(self) -> None:
        """End the processes :meth:`prestart` started that nothing took over."""
        while self._ahead:
            _, proc = self._ahead.popitem()
            with proc:
                if proc.poll() is None:
                    proc.kill()

    def stream(
        self, *args: str, env: Mapping[str, str] | None = None
    ) -> Generator[bytes, None, None]:
        """Run ``git *args`` and yield its stdout as git writes it, a pipe's read at a time.

        For output that grows with the repository (a whole tree's listing): :meth:`run`
        holds all of it, and twice over for a moment (the pieces it read, then their join).
        Raises :class:`GitError` after the last piece when git fails; closing the generator
        early stops git."""
        import threading

        proc = self.popen(
            *args,
            env=env,
            bufsize=0,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        stderr = proc.stderr
        err: list[bytes] = []
        # stderr drained by a thread: git never blocks on it while stdout is read here
        drain = threading.Thread(target=lambda: err.append(stderr.read()), daemon=True)
        drain.start()
        finished = False
        try:
            while chunk := proc.stdout.read(_STREAM_READ):
                yield chunk
            finished = True
        finally:
            if not finished and proc.poll() is None:
                proc.kill()
            proc.wait()
            drain.join()
            proc.stdout.close()
            stderr.close()
        if proc.returncode != 0:
            raise git_failure(args, b"".join(err))

    def popen(self, *args: str, **kw: Any) -> subprocess.Popen[bytes]:
        """Start ``git *args`` (cwd: work tree top; ``env=`` is laid over :attr:`env`)."""
        if self._ahead and kw == _PIPES:
            ahead = self._ahead.pop(args, None)
            if ahead is not None:
                return ahead
        env = self._env(kw.pop("env", None))
        cwd = kw.pop("cwd", None) or self.root
        return _start(args, cwd=cwd, env=env, **kw)

    # ------------------------------------------------------------------ queries

    def is_shallow(self) -> bool:
        return self.run("rev-parse", "--is-shallow-repository").strip() == b"true"

    def config_get(self, key: str) -> str | None:
        """The (last) value of ``key``, or None when unset."""
        proc = self.run_status("config", "--get", "--end-of-options", key)
        if proc.returncode == 1:
            return None
        if proc.returncode != 0:
            raise git_failure(("config", "--get", key), proc.stderr)
        return os.fsdecode(proc.stdout.rstrip(b"\n"))

    def config_bool(self, key: str, default: bool) -> bool:
        """``key`` read as a git boolean (git's own parsing), ``default`` when unset."""
        proc = self.run_status("config", "--type=bool", "--get", "--end-of-options", key)
        if proc.returncode == 1:
            return default
        if proc.returncode != 0:
            raise git_failure(("config", "--get", key), proc.stderr)
        return proc.stdout.strip() == b"true"


# one read of a pipe returns at most what it buffers (64 KiB on Linux)
_STREAM_READ = 1 << 16
# what popen() must be asked for to take over a process prestart() started
_PIPES = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}


def git_failure(args: tuple[str, ...] | list[str], stderr: bytes) -> GitError:
    """A :class:`GitError` naming the git subcommand and the first line of its stderr."""
    cmd, skip = "", False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-c", "-C"):
            skip = True
        elif not arg.startswith("-"):
            cmd = arg
            break
    return GitError(f"git {quote_for_message(cmd)} failed: {_first_line(stderr)}")


@cache
def _git_program(search: str | None) -> str:
    """git's absolute path on ``search`` (a PATH), found once per process.

    Popen given a bare ``git`` looks it up itself, on every start: 1.2 ms a process measured
    (bench/: the hook runs three). The first absolute folder holding an executable ``git``
    wins, as for exec; a relative entry before it (resolved against the child's cwd), no PATH
    or Windows (PATHEXT) leave the lookup to the system. Not shutil.which: its import costs
    the hook more than the lookup saves."""
    if os.name != "posix" or not search:
        return "git"
    for folder in search.split(os.pathsep):
        candidate = Path(folder, "git")
        if not candidate.is_absolute():
            return "git"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return "git"


def _start(
    args: tuple[str, ...], *, cwd: Path, env: Mapping[str, str], **kw: Any
) -> subprocess.Popen[bytes]:
    """The only place phase2 starts a process."""
    env = _literal_pathspecs(env)
    try:
        # subprocess, not GitPython: 90 ms import, 15x slower Diffs, object APIs fail on SHA-256.
        return subprocess.Popen([_git_program(env.get("PATH")), *args], cwd=cwd, env=env, **kw)
    except FileNotFoundError:
        if not Path(cwd).is_dir():
            raise UsageError(f"no such directory: {quote_for_message(str(cwd))}") from None
        raise UsageError("git executable not found", hint="install git 2.30 or newer") from None


def _spawn_run(
    args: tuple[str, ...], *, cwd: Path, env: Mapping[str, str], input: bytes | None
) -> subprocess.CompletedProcess[bytes]:
    stdin = subprocess.PIPE if input is not None else subprocess.DEVNULL
    proc = _start(
        args, cwd=cwd, env=env, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    return _collect(proc, args, input)


def _collect(
    proc: subprocess.Popen[bytes], args: tuple[str, ...], input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """What a started git process wrote, once it has ended."""
    with proc:
        out, err = proc.communicate(input)
    return subprocess.CompletedProcess(["git", *args], proc.returncode, out, err)


def _not_a_work_tree(start: Path, env: Mapping[str, str], shown: str) -> NoReturn:
    """Why ``rev-parse`` found no work tree at ``start``, as the error to raise."""
    probe = _spawn_run(
        ("rev-parse", "--is-bare-repository", "--is-inside-git-dir"),
        cwd=start,
        env=env,
        input=None,
    )
    if probe.returncode == 0:
        bare, inside = [*probe.stdout.decode().split(), "", ""][:2]
        if bare == "true":
            raise UsageError(
                f"bare repository has no work tree: {shown}",
                hint="run phase2 in a clone with a checkout (or set GIT_WORK_TREE)",
            )
        if inside == "true":
            raise UsageError(
                f"inside the git directory, not a work tree: {shown}",
                hint="run phase2 from the top of the work tree",
            )
    raise UsageError(
        f"not a git repository: {shown}",
        hint="run phase2 inside a git work tree (or use `git init`)",
    )
