"""Backtest of the payout outlook: project from 30 June, compare with the actual year.

For each of N generated sample years (``spmkit.sample.generate`` with its opportunities
history), :func:`spmkit.planning.outlook.backtest_outlook` projects the plan year from
30 June and :func:`spmkit.payout.calculate` pays the whole year; the figure is how often
the projection's 90% interval (P5-P95) of the total payout holds the actual.  Prints one
line per year (with z, the actual's distance from P50 in interval sd, (P95 - P5) / 3.29),
the coverage, the bias and spread of z (a calibrated interval has spread near 1), the
mean width of the 90% interval relative to P50, and the time.

    python bench/outlook_bench.py [--years 20] [--reps 30] [--draws 500] [--no-pipeline]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from spmkit.errors import InputError
from spmkit.plan import load_plan
from spmkit.planning.opportunities import generate_opportunities, load_opportunities
from spmkit.planning.outlook import backtest_outlook
from spmkit.sample import generate
from spmkit.tables import load_inputs

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--first-seed", type=int, default=500)
    ap.add_argument("--plan", default=str(ROOT / "scenarios" / "baseline.yaml"))
    ap.add_argument("--no-pipeline", action="store_true",
                    help="project without the opportunities table (run-rate only)")
    args = ap.parse_args()
    plan = load_plan(args.plan)
    inside, z, width, times, skipped = [], [], [], [], 0
    seed = args.first_seed
    while len(inside) < args.years:
        t = generate(reps=args.reps, years=2, seed=seed)
        inputs = load_inputs(t["deals"], quotas=t["quotas"], roster=t["roster"],
                             splits=t["splits"], fx=t["fx"])
        opps = None if args.no_pipeline else load_opportunities(
            generate_opportunities(t["deals"], seed=seed))
        start = time.perf_counter()
        try:
            b = backtest_outlook(plan, inputs, "2025-06-30", opportunities=opps,
                                 draws=args.draws, seed=seed)
        except InputError as err:  # a generated year the engine rejects: say so, go on
            print(f"seed {seed}: skipped ({err})")
            skipped += 1
            seed += 1
            continue
        times.append(time.perf_counter() - start)
        inside.append(b["inside"])
        width.append((b["p95_cents"] - b["p5_cents"]) / max(b["p50_cents"], 1))
        z.append((b["actual_cents"] - b["p50_cents"]) / max(b["p95_cents"] - b["p5_cents"], 1)
                 * 3.29)
        print(f"seed {seed}: actual {b['actual_cents'] / 100:>14,.2f}  P5 "
              f"{b['p5_cents'] / 100:>14,.2f}  P50 {b['p50_cents'] / 100:>14,.2f}  P95 "
              f"{b['p95_cents'] / 100:>14,.2f}  z {z[-1]:+.2f}  "
              f"{'inside' if b['inside'] else 'OUTSIDE'}")
        seed += 1
    print(f"\n{args.years} years, {args.reps} reps, {args.draws} draws"
          f"{', no pipeline' if args.no_pipeline else ''}: the 90% interval holds the actual "
          f"in {sum(inside)} of {len(inside)} ({np.mean(inside):.0%}); actual vs P50 "
          f"{np.mean(z):+.2f} interval sd (spread {np.std(z):.2f}); mean 90% interval "
          f"width {np.mean(width):.1%} of P50; "
          f"{np.mean(times):.2f} s per projection (+ the actual year), {skipped} skipped")


if __name__ == "__main__":
    main()
