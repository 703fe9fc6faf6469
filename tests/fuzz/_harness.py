"""Shared driver of the fuzz targets in this folder.

Each ``fuzz_<name>.py`` defines ``setup()``, which imports the parser under test and returns
``target(data: bytes) -> None``. A target raises only for a crash: any exception other than the
parser's own clear error (``UsageError``, ``JsonInvalid``), or a broken invariant of the parsed
value. With atheris installed the imports are instrumented and libFuzzer drives the target::

    python tests/fuzz/fuzz_config.py -atheris_runs=100000 [CORPUS_DIR ...]

Without atheris (it needs a wheel or a clang toolchain) the same target runs under a
**hypothesis-based fallback loop** (random hostile bytes and JSON-ish documents, mutated seeds)
with the same command line; its last line reads like atheris's, ``Done N in S
second(s)``, so ``bench/reliability.py`` reads both alike.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "tests" / "data" / "hostile" / "seeds"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

Target = Callable[[bytes], None]


def _runs(argv: list[str], default: int) -> int:
    for arg in argv:
        if arg.startswith(("-atheris_runs=", "-runs=")):
            return int(arg.split("=", 1)[1])
    return default


def seeds(name: str) -> list[bytes]:
    folder = SEEDS / name
    return [p.read_bytes() for p in sorted(folder.iterdir())] if folder.is_dir() else []


def main(name: str, setup: Callable[[], Target], argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    if os.environ.get("PHASE2_FUZZ_FALLBACK") != "1":
        try:
            import atheris
        except ImportError:
            atheris = None
        if atheris is not None:
            with atheris.instrument_imports(include=["phase2_git"]):
                target = setup()
            corpus = [a for a in argv[1:] if not a.startswith("-")]
            if not corpus and (SEEDS / name).is_dir():
                argv.append(str(SEEDS / name))  # read-only seed corpus: libFuzzer adds none
            atheris.Setup(argv, target)
            atheris.Fuzz()
            return
    fallback(name, setup(), _runs(argv[1:], 10_000))


def fallback(name: str, target: Target, runs: int) -> None:
    """The hypothesis-based loop: same target, same crash rule, no coverage guidance."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests import strategies as hs

    count = 0
    start = time.monotonic()
    base = seeds(name)

    def mutate(seed: bytes, cut: int, insert: bytes) -> bytes:
        k = cut % (len(seed) + 1)
        return seed[:k] + insert + seed[k:]

    inputs = st.one_of(
        hs.hostile_bytes(max_size=512),
        hs.hostile_json(),
        st.builds(mutate, st.sampled_from(base), st.integers(0, 1 << 16), hs.hostile_bytes(64))
        if base
        else hs.hostile_json(),
    )

    @settings(max_examples=runs, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(data=inputs)
    def loop(data: bytes) -> None:
        nonlocal count
        count += 1
        target(data)

    try:
        loop()
    finally:
        print(f"fuzz_{name} (hypothesis fallback): Done {count} in "
              f"{int(time.monotonic() - start)} second(s)", file=sys.stderr)  # fmt: skip
