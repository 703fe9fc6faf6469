"""Shared by the hostile-input, fault and fuzz suites: run ``phase2`` as a real
process with bounded time and memory, build hermetic git environments without pytest's
``monkeypatch`` (so module-scoped fixtures and ``bench/reliability.py`` can use them), and the
assertions every output must pass.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MEMORY_LIMIT = 1536 * 1024 * 1024  # RLIMIT_AS of every phase2 process: 1.5 GiB
TIMEOUT = 120.0
ROOT = Path(__file__).resolve().parent.parent
PASSWD_MARKER = b"root:x:0:0"

# Bytes that must never reach a terminal, a log, a report or an annotation: ESC, BEL, NUL, the
# other C0 controls except TAB/LF, DEL, C1 controls in their UTF-8 form, and the bidi overrides.
_UNSAFE = re.compile(
    rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]"
)


def hermetic_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of tests/conftest.py's ``hermetic_git``, as a dict for subprocesses."""
    home.mkdir(parents=True, exist_ok=True)
    templates = home / "templates"
    templates.mkdir(exist_ok=True)
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
        "[commit]\n\tgpgsign = false\n"
        "[tag]\n\tgpgsign = false\n"
        '[protocol "file"]\n\tallow = always\n'
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GIT_", "PHASE2_", "PRE_COMMIT", "GITHUB_"))
        and k not in ("CI", "XDG_CONFIG_HOME")
    }
    env.update(
        HOME=str(home),
        GIT_CONFIG_GLOBAL=str(gitconfig),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TEMPLATE_DIR=str(templates),
        GIT_AUTHOR_DATE="2026-01-01T00:00:00Z",
        GIT_COMMITTER_DATE="2026-01-01T00:00:00Z",
        NO_COLOR="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def git(root: Path, *args: str, env: Mapping[str, str], input: bytes | None = None) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=root, env=dict(env), input=input, capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode("utf-8", "surrogateescape")


def import_commits(
    root: Path, commits: Sequence[tuple[str, str, Mapping[str, bytes]]], *, env: Mapping[str, str]
) -> None:
    """Write ``commits`` (branch, message, files) into the repository at ``root`` with one
    ``git fast-import``, each commit on top of the one before, and check out the last one.
    Thousands of files take a second where ``git add`` and ``commit`` of a written tree took
    seven: the files are written once, by the checkout, and the objects land in one pack."""
    stream = bytearray()
    for n, (branch, message, files) in enumerate(commits, start=1):
        msg = message.encode()
        stream += b"commit refs/heads/%s\nmark :%d\n" % (branch.encode(), n)
        stream += b"committer T <t@example.com> 1767225600 +0000\n"
        stream += b"data %d\n%s\n" % (len(msg), msg)
        if n > 1:
            stream += b"from :%d\n" % (n - 1)
        for path, data in files.items():
            stream += b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data)
    git(root, "fast-import", "--quiet", env=env, input=bytes(stream))
    git(root, "checkout", "-q", "-f", commits[-1][0], env=env)


def copy_tree(src: Path, dst: Path) -> None:
    """A copy of the repository at ``src`` (modes, times and symlinks kept, as git's index
    needs them): ``cp -a`` copies 3,000 small files in half the time ``shutil.copytree`` takes."""
    subprocess.run(["cp", "-a", "--", str(src), str(dst)], check=True)


def untraced(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without coverage's subprocess hook (``COVERAGE_PROCESS_CONFIG``): a phase2 run
    with it is measured, and traced, which makes it two to three times slower."""
    return {k: v for k, v in env.items() if not k.startswith("COVERAGE_")}


def measured_once(env: Mapping[str, str], trial: int) -> dict[str, str]:
    """The environment of a trial loop's runs: coverage measures the first trial (its killed
    and resumed paths), the others run untraced and prove the same end state at other points."""
    return dict(env) if trial == 0 else untraced(env)


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    code: int
    out: bytes
    err: bytes
    seconds: float

    def __str__(self) -> str:
        return (
            f"phase2 {' '.join(self.args)!r} -> {self.code} in {self.seconds:.1f}s\n"
            f"stderr: {self.err[-2000:]!r}\nstdout: {self.out[:2000]!r}"
        )


def _limits(memory: int | None, fsize: int | None) -> None:  # pragma: no cover - in the child
    if memory is not None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if fsize is not None:
        # a write past the limit fails with EFBIG instead of killing the process
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))


def run_phase2(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float = TIMEOUT,
    memory: int | None = MEMORY_LIMIT,
    fsize: int | None = None,
    input: bytes | None = None,
) -> Result:
    """``python -m phase2_git ARGS`` with bounded memory and time; a hang is a test failure."""
    t0 = time.monotonic()
    run_env = dict(env)
    if fsize is not None:
        # coverage's own data file in a measured subprocess would hit the limit first
        run_env = untraced(run_env)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "phase2_git", *args],
            cwd=cwd,
            env=run_env,
            input=input if input is not None else b"",
            capture_output=True,
            timeout=timeout,
            preexec_fn=lambda: _limits(memory, fsize),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"phase2 {' '.join(args)!r} hung (> {timeout:.0f}s)") from None
    return Result(tuple(args), proc.returncode, proc.stdout, proc.stderr, time.monotonic() - t0)


def start_phase2(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    output: bool = False,
    new_session: bool = False,
) -> subprocess.Popen[bytes]:
    """``python -m phase2_git ARGS`` started, not awaited: for tests that kill it part-way.
    Its output is piped when ``output`` (read it with ``communicate()``), else discarded;
    ``new_session`` gives it a process group of its own, as a shell gives a job."""
    stream = subprocess.PIPE if output else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "phase2_git", *args],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=stream,
        stderr=stream,
        start_new_session=new_session,
    )


def finish(proc: subprocess.Popen[bytes], timeout: float = TIMEOUT) -> tuple[bytes, bytes]:
    """What a started phase2 printed once it ended; a hang is a test failure (the process is
    killed), not a stalled run of the suite."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"{proc.args!r} hung (> {timeout:.0f}s)") from None
    return out or b"", err or b""


def unsafe_bytes(data: bytes) -> list[bytes]:
    """The unsafe sequences in ``data`` (empty when it is safe to show)."""
    return [m.group() for m in _UNSAFE.finditer(data)][:5]


def assert_safe(data: bytes, where: str) -> None:
    """No escape or control byte, no OSC payload, nothing read from /etc/passwd."""
    bad = unsafe_bytes(data)
    assert not bad, f"{where}: raw control bytes {bad!r}"
    assert PASSWD_MARKER not in data, f"{where}: /etc/passwd content leaked"


def assert_no_crash(res: Result, allowed: Sequence[int] = (0, 1, 2, 3)) -> None:
    """An expected exit code, no traceback, no internal error, safe output on both streams;
    exit 2 and 3 come with exactly one line on stderr."""
    assert res.code in allowed, str(res)
    assert b"Traceback" not in res.err and b"Traceback" not in res.out, str(res)
    assert b"internal error" not in res.err, str(res)
    assert_safe(res.out, "stdout")
    assert_safe(res.err, "stderr")
    if res.code in (2, 3):
        assert res.err.count(b"\n") == 1 and res.err.startswith(b"phase2: error: "), str(res)


def assert_one_line_error(res: Result, code: int = 2, needle: str | None = None) -> None:
    assert res.code == code, str(res)
    assert_no_crash(res, (code,))
    if needle is not None:
        assert needle.encode() in res.err, str(res)


LEDGER_ENV = "PHASE2_RELIABILITY_LEDGER"
# read at import: the hermetic fixture of tests/conftest.py removes PHASE2_* before each test
_LEDGER = os.environ.get(LEDGER_ENV)


def record(suite: str, item: str, ok: bool, **detail: object) -> None:
    """One line of the reliability ledger (``bench/reliability.py`` sets the file): which
    hostile input, fault point or trial ran, and whether phase2 handled it."""
    path = _LEDGER
    if not path:
        return
    import json

    line = json.dumps({"suite": suite, "item": item, "ok": bool(ok), **detail}, default=str)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
