"""Past one machine: `phase2 diff --shard K/N` jobs and `phase2 report merge`, measured.

    python bench/shards.py                  # 100,000 artifacts / 25,000 changed, 4 shards
    python bench/shards.py --shards 10 --runs 3
    python bench/shards.py --quick          # tiny: checks the script, not the figures

Every shard job lists the whole diff (git's part does not shard) and reads, classifies and
reports only its own paths; `report merge` joins the shard reports into one JUnit file,
Prometheus file and summary. This measures each, at 100k, beside the unsharded run and git's
own listing, and writes ``bench/out/shards.json``: the README's "Scaling past one machine"
derives a 1,000,000-artifact matrix from these figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # run as a script: the sibling modules are not a package

import measure  # noqa: E402
import run as suite  # noqa: E402
import synth  # noqa: E402
from measure import Job  # noqa: E402

MIB = 1024 * 1024


def _median(job: Job, runs: int) -> tuple[float, float]:
    """Median seconds and the largest peak RSS (MiB) of ``runs`` runs after one warm-up."""
    measure.run_once(job)
    samples = [measure.run_once(job) for _ in range(runs)]
    return (
        statistics.median(s.seconds for s in samples),
        max(s.peak_rss for s in samples) / MIB,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--artifacts", type=int, default=100_000)
    ap.add_argument("--changed", type=int, default=25_000)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--runs", type=int, default=3, help="measured runs per command (median)")
    ap.add_argument("--quick", action="store_true", help="1,000 artifacts: checks the script")
    ap.add_argument("--out", type=Path, default=suite.OUT / "shards.json")
    args = ap.parse_args(argv)
    n, changed = (1_000, 250) if args.quick else (args.artifacts, args.changed)

    suite.compile_package()
    env = synth.git_env()
    built = suite.build_cached(synth.RepoSpec("mix", n, changed), suite.OUT / "repos")
    tmp = suite.OUT / "tmp" / f"shards-{n}"
    tmp.mkdir(parents=True, exist_ok=True)
    phase2 = suite.phase2_argv()

    def diff(extra: list[str], out: Path) -> Job:
        argv = [*phase2, "diff", built.a, built.b, "--format", "json", *extra]
        return Job(f"diff {' '.join(extra)}", argv, built.path, env, (0, 1), out)

    results: dict[str, object] = {"artifacts": n, "changed": changed, "shards": args.shards}
    listing = Job(
        "git diff-tree",
        ["git", "diff-tree", "-r", "-z", "--raw", "--no-abbrev", "-M", built.a, built.b],
        built.path,
        env,
        stdout=tmp / "listing.raw",
    )
    results["git_listing_s"], _ = _median(listing, args.runs)
    results["unsharded_s"], results["unsharded_rss_mib"] = _median(
        diff([], tmp / "all.json"), args.runs
    )
    shards = []
    for k in range(1, args.shards + 1):
        out = tmp / f"shard-{k}.json"
        seconds, rss = _median(diff(["--shard", f"{k}/{args.shards}"], out), args.runs)
        count = len(json.loads(out.read_bytes())["mismatches"])
        shards.append({"shard": k, "seconds": seconds, "peak_rss_mib": rss, "mismatches": count})
        print(f"  shard {k}/{args.shards}: {seconds:.2f} s, {rss:.0f} MiB, {count} mismatches")
    results["per_shard"] = shards
    merge = Job(
        "report merge",
        [
            *phase2,
            "report",
            "merge",
            *(str(tmp / f"shard-{k}.json") for k in range(1, args.shards + 1)),
            "--junit",
            str(tmp / "merged.xml"),
            "--prom",
            str(tmp / "merged.prom"),
            "--summary",
            str(tmp / "merged.md"),
        ],
        built.path,
        env,
        ok_codes=(0, 1),
        stdout=tmp / "merge.out",
    )
    results["merge_s"], results["merge_rss_mib"] = _median(merge, args.runs)
    total = sum(s["mismatches"] for s in shards)
    whole = len(json.loads((tmp / "all.json").read_bytes())["mismatches"])
    results["shards_cover_the_diff"] = total == whole

    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    results["machine"] = suite.machine()
    results["when"] = started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    longest = max(s["seconds"] for s in shards)
    print(
        f"{n} artifacts / {changed} changed: git listing {results['git_listing_s']:.2f} s, "
        f"unsharded {results['unsharded_s']:.2f} s ({results['unsharded_rss_mib']:.0f} MiB); "
        f"{args.shards} shards: longest {longest:.2f} s, "
        f"largest {max(s['peak_rss_mib'] for s in shards):.0f} MiB; "
        f"merge {results['merge_s']:.2f} s; shards cover the diff: "
        f"{results['shards_cover_the_diff']} ({total} of {whole})"
    )
    print(f"results: {args.out}")
    return 0 if results["shards_cover_the_diff"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
