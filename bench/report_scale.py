"""`spmkit report` at scale: 5,000 reps, 1M deals and 5 plans (issue 9's target: under 60 s).

Uses the 1M-deal Parquet set of ``bench/gen.py`` (``bench/out/1000000``, generated when
missing) and the bench plan of ``bench/run.py`` with four variants of it (a steeper
accelerator, no SPIF, a richer bonus, a capped commission).  Runs ``spmkit report
--audience executive`` as a subprocess and prints wall time, CPU seconds and peak memory;
``--profile`` instead runs the report's library call (``build_from_files``) in this
process under cProfile and prints the top functions by cumulative time.

    .venv/bin/python bench/report_scale.py [--size 1000000] [--draws 2000] [--profile]
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 60.0


def variants(base: dict) -> dict[str, dict]:
    """The bench plan and four variants, keyed by file stem."""
    out = {"baseline": base}
    steep = copy.deepcopy(base)
    steep["plan"] = "Steeper accelerator"
    steep["components"][0]["tiers"]["bands"][2] = {"from": 1.5, "bcr_multiple": 3.0}
    out["steeper"] = steep
    nospif = copy.deepcopy(base)
    nospif["plan"] = "No SPIF"
    nospif["components"] = nospif["components"][:2]
    out["no_spif"] = nospif
    rich = copy.deepcopy(base)
    rich["plan"] = "Richer bonus"
    rich["components"][1]["curve"] = [[0.5, 0.0], [1.0, 1.2], [1.5, 1.8]]
    out["richer_bonus"] = rich
    capped = copy.deepcopy(base)
    capped["plan"] = "Capped commission"
    capped["components"][0]["tiers"]["bands"][2] = {"from": 1.5, "rate": 0.0}
    out["capped"] = capped
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--draws", type=int, default=2000)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    data = ROOT / "bench" / "out" / str(args.size)
    if not (data / "deals.parquet").exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "gen.py"), "--sizes",
                        str(args.size)], check=True)
    sys.path.insert(0, str(ROOT / "bench"))
    from run import PLAN_YAML  # the bench plan

    with tempfile.TemporaryDirectory(prefix="spmkit-report-scale-") as tmp:
        folder = Path(tmp)
        paths = []
        for stem, plan in variants(yaml.safe_load(PLAN_YAML)).items():
            path = folder / f"{stem}.yaml"
            path.write_text(yaml.safe_dump(plan, sort_keys=False))
            paths.append(path)
        if args.profile:
            import cProfile
            import pstats

            from spmkit.report.compose import build_from_files

            prof = cProfile.Profile()
            t0 = time.perf_counter()
            prof.enable()
            build_from_files(data, paths[0], paths[1:], draws=args.draws)
            prof.disable()
            print(f"build_from_files: {time.perf_counter() - t0:.1f} s (profiled)")
            pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
            return 0
        cmd = [str(ROOT / ".venv" / "bin" / "spmkit"), "report", "--data", str(data),
               "--baseline", str(paths[0]), "--scenarios", *map(str, paths[1:]),
               "--out", str(folder / "report"), "--draws", str(args.draws), "--quiet"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        if status != 0:
            print(f"spmkit report failed (status {status})", file=sys.stderr)
            return 1
        # the report's own process; the notebook kernel is a child of it (its peak is
        # not in ru_maxrss of this wait)
        print(f"spmkit report, {args.size:,} deals, 5 plans, {args.draws} draws: "
              f"{wall:.1f} s wall, {usage.ru_utime + usage.ru_stime:.1f} s CPU "
              f"(report process), peak {usage.ru_maxrss / 1024:,.0f} MB; target "
              f"< {TARGET_SECONDS:.0f} s: {'met' if wall < TARGET_SECONDS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
