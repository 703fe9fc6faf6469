"""The one error funnel (phase2_git/funnel.py): every kind of failure becomes one stderr line
and an exit code, the same through the typer CLI and through the lean pre-commit hook.

In-process through :func:`phase2_git.funnel.report` for each kind, then as real processes
(``python -m phase2_git``) where the exit code and the traceback are what matter.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from phase2_git.cli import main as cli_main
from phase2_git.errors import ArgumentError, GitError, Phase2Error, RefusedError, UsageError
from phase2_git.funnel import MAX_ERROR, one_line, report, run
from phase2_git.hook import main as hook_main
from tests.conftest import TestRepo
from tests.hostile_support import assert_no_crash, hermetic_env, run_phase2

DEBUG = {"PHASE2_DEBUG": "1"}


def funnel(exc: BaseException, **kw: object) -> tuple[int | None, str, str]:
    err, out = io.StringIO(), io.StringIO()
    code = report(exc, err=err, out=out, environ=kw.pop("environ", {}), **kw)  # type: ignore[arg-type]
    return code, err.getvalue(), out.getvalue()


# ------------------------------------------------------------------ each kind, in-process


@pytest.mark.parametrize(
    ("exc", "code"),
    [(UsageError("bad ref"), 2), (RefusedError("lock held"), 3), (GitError("git said no"), 2)],
)
def test_a_phase2_error_is_one_line_and_its_own_exit_code(exc: Phase2Error, code: int) -> None:
    assert funnel(exc) == (code, f"phase2: error: {exc}\n", "")


def test_a_phase2_error_quoting_escapes_stays_one_safe_line() -> None:
    code, err, _ = funnel(UsageError("no such file 'a\x1b]0;owned\x07\nb'"))
    assert code == 2 and err.count("\n") == 1
    assert "\x1b" not in err and "\x07" not in err and "\\x1b" in err


def test_phase2_debug_re_raises_a_phase2_error_and_a_bug() -> None:
    assert funnel(UsageError("bad"), environ=DEBUG) == (None, "", "")
    assert funnel(ValueError("bug"), environ=DEBUG) == (None, "", "")
    with pytest.raises(UsageError):
        run(lambda: (_ for _ in ()).throw(UsageError("bad")), environ=DEBUG)


def test_ctrl_c_wrapped_by_python_is_still_an_interrupt() -> None:
    """Python 3.11 wraps an exception raised in a ``__set_name__`` in a RuntimeError caused by
    it; Ctrl-C landing there (importing a module that defines a ``cached_property``) is an
    interrupt, not an internal error. A RuntimeError of any other cause stays a bug."""
    wrapped = RuntimeError("Error calling __set_name__ on 'cached_property' instance")
    wrapped.__cause__ = KeyboardInterrupt()
    assert funnel(wrapped) == (130, "phase2: interrupted\n", "")
    other = RuntimeError("boom")
    other.__cause__ = ValueError("cause")
    code, err, _ = funnel(other)
    assert code == 2 and err.startswith("phase2: internal error: RuntimeError: boom")


def test_an_argument_error_points_at_the_commands_help_even_under_debug() -> None:
    want = "phase2: error: no such option: --fixx (see 'phase2 check --help')\n"
    exc = ArgumentError("no such option: --fixx", command="check")
    assert funnel(exc) == (2, want, "")
    assert funnel(exc, environ=DEBUG) == (2, want, "")
    assert (
        funnel(ArgumentError("no command"))[1]
        == "phase2: error: no command (see 'phase2 --help')\n"
    )


def test_a_long_usage_message_is_cut_but_keeps_its_help_pointer() -> None:
    code, err, _ = funnel(ArgumentError("no such option: --" + "x" * 5000, command="check"))
    assert code == 2 and err.count("\n") == 1
    assert err.endswith("more characters] (see 'phase2 check --help')\n")
    assert len(one_line("y" * 5000)) <= MAX_ERROR


class _Abort(RuntimeError):
    """Stands for typer.Abort: the funnel does not import typer, the caller names it."""


def test_an_interrupt_is_130() -> None:
    assert funnel(KeyboardInterrupt()) == (130, "phase2: interrupted\n", "")
    assert funnel(_Abort(), interrupts=(_Abort,)) == (130, "phase2: interrupted\n", "")
    assert funnel(KeyboardInterrupt(), environ=DEBUG)[0] == 130


def test_a_bug_is_one_line_with_the_debug_hint() -> None:
    code, err, _ = funnel(ValueError("boom\nsecond line"))
    assert code == 2
    assert err == (
        "phase2: internal error: ValueError: boom\\x0asecond line "
        "(set PHASE2_DEBUG=1 for the traceback)\n"
    )
    # an exception the caller did not name as its interrupt is a bug like any other
    assert funnel(_Abort("x"))[0] == 2


def test_run_returns_what_the_call_returns_and_lets_system_exit_through() -> None:
    assert run(lambda: 3) == 3
    assert run(lambda: None) == 0
    with pytest.raises(SystemExit):
        run(lambda: sys.exit(1))


# -------------------------------------------------- click's usage errors, through cli.main


def test_click_usage_errors_name_the_command_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["bogus"]) == 2
    _, err = capsys.readouterr()
    assert err == "phase2: error: No such command 'bogus'. (see 'phase2 --help')\n"
    assert cli_main(["diff", "--bogus"]) == 2
    _, err = capsys.readouterr()
    assert err == "phase2: error: No such option: --bogus (see 'phase2 diff --help')\n"


def test_no_arguments_print_the_help_and_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main([]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.startswith("Usage: phase2") and "diff" in out
    assert cli_main(["judge"]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("Usage: phase2 judge") and "eval" in out


def test_the_hook_and_the_cli_fail_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same Phase2Error through both entry points: the same line, the same code."""
    missing = str(tmp_path / "nowhere")
    assert hook_main(["-C", missing]) == 2
    hook_err = capsys.readouterr().err
    assert cli_main(["check", "-C", missing]) == 2
    cli_err = capsys.readouterr().err
    assert (
        hook_err
        == cli_err
        == f"phase2: error: not a git repository: {missing} (no such directory)\n"
    )


def test_a_command_returns_its_exit_code_through_the_funnel(
    repo: TestRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write("a.json", b'{"a": 1}\n')
    repo.commit()
    repo.write("a.json", b'{"a": 2}\n')  # a real change: diff exits 1 under --fail-on real
    assert cli_main(["diff", "-C", str(repo.root), "--format", "json"]) == 1
    assert cli_main(["diff", "-C", str(repo.root), "--fail-on", "never"]) == 0
    assert cli_main(["verify", "-C", str(repo.root)]) == 0
    capsys.readouterr()


# ---------------------------------------------------------------- as real processes

_PATCHED = """
import sys
import phase2_git.{module} as target
def broken(*args, **kwargs):
    raise {exc}
target.{name} = broken
from phase2_git.entry import main
sys.exit(main(sys.argv[1:]))
"""


def _patched(
    cwd: Path, env: dict[str, str], module: str, name: str, exc: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """``phase2 ARGS`` in a process whose ``module.name`` raises ``exc``: the only way to make
    a bug or an interrupt happen where the command would run (git itself is never faked)."""
    code = _PATCHED.format(module=module, name=name, exc=exc)
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return hermetic_env(tmp_path / "home")


def test_processes_exit_2_with_one_line_on_both_paths(tmp_path: Path, env: dict[str, str]) -> None:
    missing = str(tmp_path / "nowhere")
    line = f"phase2: error: not a git repository: {missing} (no such directory)\n".encode()
    for args in (["check", "-C", missing], ["diff", "-C", missing], ["log", "-C", missing]):
        res = run_phase2(args, cwd=tmp_path, env=env)
        assert_no_crash(res, (2,))
        assert res.err == line, str(res)
    res = run_phase2(["check", "--fixx"], cwd=tmp_path, env=env)  # the hook's own parser
    assert res.code == 2
    assert res.err == b"phase2: error: no such option: --fixx (see 'phase2 check --help')\n"
    res = run_phase2(["diff", "--fixx"], cwd=tmp_path, env=env)  # click's
    assert res.code == 2
    assert res.err == b"phase2: error: No such option: --fixx (see 'phase2 diff --help')\n"


def test_phase2_debug_shows_the_traceback_of_an_error_on_both_paths(
    tmp_path: Path, env: dict[str, str]
) -> None:
    missing = str(tmp_path / "nowhere")
    debug = {**env, **DEBUG}
    for args in (["check", "-C", missing], ["diff", "-C", missing]):
        res = run_phase2(args, cwd=tmp_path, env=debug)
        assert res.code == 1 and b"Traceback" in res.err, str(res)
        assert b"UsageError: not a git repository" in res.err
    # usage errors need no traceback, debug or not
    res = run_phase2(["check", "--fixx"], cwd=tmp_path, env=debug)
    assert res.code == 2 and res.err.count(b"\n") == 1 and b"Traceback" not in res.err


@pytest.mark.parametrize(
    ("module", "name", "args"),
    [
        ("app.precommit", "check_command", ["check"]),  # the hook
        ("app.audit", "verify_at", ["verify"]),  # typer
    ],
)
def test_a_bug_is_one_line_exit_2_and_debug_shows_it(
    tmp_path: Path, env: dict[str, str], module: str, name: str, args: list[str]
) -> None:
    proc = _patched(tmp_path, env, module, name, "ValueError('boom\\x1b[2J')", *args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        "phase2: internal error: ValueError: boom\\x1b[2J (set PHASE2_DEBUG=1 for the traceback)\n"
    )
    proc = _patched(tmp_path, {**env, **DEBUG}, module, name, "ValueError('boom')", *args)
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "ValueError: boom" in proc.stderr


def test_an_interrupt_exits_130(tmp_path: Path, env: dict[str, str]) -> None:
    # the hook: the funnel's own line
    proc = _patched(tmp_path, env, "app.precommit", "check_command", "KeyboardInterrupt", "check")
    assert (proc.returncode, proc.stderr) == (130, "phase2: interrupted\n")
    # typer: end of input is its Abort, which the CLI names to the funnel as an interrupt
    proc = _patched(tmp_path, env, "app.audit", "verify_at", "EOFError", "verify")
    assert proc.returncode == 130 and proc.stderr.endswith("phase2: interrupted\n")
    assert "Traceback" not in proc.stderr
    # typer turns Ctrl-C inside a command into exit 130 itself, before the funnel sees it
    proc = _patched(tmp_path, env, "app.audit", "verify_at", "KeyboardInterrupt", "verify")
    assert proc.returncode == 130 and "Traceback" not in proc.stderr


# A process with phase2's Ctrl-C handler: a finder calls the handler as Ctrl-C would while
# the import machinery runs (the frame it is called from is importlib's), then imports go on.
# The handler returns there; the interrupt comes a few milliseconds later, wherever the
# process is then (the import done, or in a module's own code: a loaded machine decides).
_INTERRUPTED_IMPORT = """
import _imp, sys, threading, time
from phase2_git import entry, funnel

entry._handle_interrupts()
seen = []

class Finder:
    def find_spec(self, name, path, target=None):
        if name == "json.tool" and not seen:
            seen.append(sys._getframe(1).f_code.co_filename)
            entry._interrupt(2, sys._getframe(1))  # what Ctrl-C here calls
            seen.append("returned")
        return None

sys.meta_path.insert(0, Finder())
try:
    import json.tool
    time.sleep(5)
    print("never interrupted")
except (KeyboardInterrupt, RuntimeError) as exc:
    # Python 3.11 wraps it in a RuntimeError where it lands in a __set_name__ (ipaddress's
    # cached_property, imported by json.tool): the funnel reads that as an interrupt too
    if not isinstance(exc, KeyboardInterrupt) and not funnel._caused_by_interrupt(exc):
        raise
    print("interrupted later", *seen, "import lock held:", _imp.lock_held())
t = threading.Thread(target=lambda: __import__("csv"))
t.start()
t.join(5)
print("a thread imports", not t.is_alive())
try:
    entry._interrupt(2, sys._getframe())
except KeyboardInterrupt:
    print("interrupted at once elsewhere")
"""


def test_ctrl_c_inside_the_import_machinery_waits_for_the_import(tmp_path: Path) -> None:
    """Raised inside importlib's own code, KeyboardInterrupt can leave the global import lock
    held, and the next thread that imports waits forever (a resolve hung on one Ctrl-C): the
    handler raises it a moment later there, and at once anywhere else."""
    script = tmp_path / "interrupted.py"
    script.write_text(_INTERRUPTED_IMPORT)
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stdout.splitlines() == [
        "interrupted later <frozen importlib._bootstrap> returned import lock held: False",
        "a thread imports True",
        "interrupted at once elsewhere",
    ], proc.stderr


_LEAKED_IMPORT_LOCK = """
import _imp
from phase2_git.git.background import Background

_imp.acquire_lock()  # as a KeyboardInterrupt inside importlib leaves it: held, never released
job = Background(lambda: __import__("json.tool").tool.__name__)
print(job.result(), _imp.lock_held())
"""


def test_a_leaked_import_lock_does_not_hang_a_join(tmp_path: Path) -> None:
    """Should the import lock leak all the same, the thread joined still imports: the join
    releases the lock its own thread holds (nothing of phase2 runs while importlib holds it)."""
    script = tmp_path / "leaked.py"
    script.write_text(_LEAKED_IMPORT_LOCK)
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stdout == "json.tool False\n", proc.stderr
