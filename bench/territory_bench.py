"""How well and how fast ``spmkit.planning.design_territories`` balances territories.

The quality bar (issue 12): on 1,000 accounts and 20 reps, every territory within +/-10%
of the average index, with at most 15% of the potential moved, in under 30 s.  The books
come from the sample org (:func:`spmkit.sample.generate`, 20 reps) and
:func:`spmkit.planning.generate_accounts` (50 accounts a rep, lognormal potential and a
lognormal factor per book, so inherited territories are out of balance; some reps have
left and some accounts are unowned).  Each seed is one org; the index is potential, then
eSpatial's weighted workload (leads 50, open opportunities 200, accounts 500).  With
``--large`` it also runs the default sample's size (150 reps, 60 accounts each), with and
without region boundaries.  Prints figures; never part of the pass/fail suite.

    .venv/bin/python bench/territory_bench.py [--seeds 1 2 3] [--large]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 30.0
TOLERANCE = 0.10
MAX_MOVED = 0.15
WORKLOAD = {"leads": 50, "open_opportunities": 200, "accounts": 500}


def _run(accounts, reps, label: str, **kw) -> bool:
    from spmkit.planning import design_territories

    wall, cpu = time.perf_counter(), time.process_time()
    plan = design_territories(accounts, reps, tolerance=TOLERANCE, max_moved=MAX_MOVED, **kw)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    f, d, t = plan.figures, plan.disruption, plan.territories
    ok = (f["max_deviation"] <= TOLERANCE + 1e-9 and d["moved_share"] <= MAX_MOVED
          and wall < TARGET_SECONDS)
    print(f"{label:<44} {len(plan.assignment):>6} {len(t):>4} {wall:>7.2f} {cpu:>7.2f} "
          f"{f['max_deviation_before']:>8.1%} {f['max_deviation']:>7.2%} "
          f"{t['pct_of_average'].min():>6.1%} {t['pct_of_average'].max():>6.1%} "
          f"{d['moved_share']:>7.2%} {d['moved_accounts']:>5} {d['reassigned_accounts']:>5} "
          f"{f['status']:>10} {f['groups']:>3}  {'ok' if ok else 'MISSED'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--large", action="store_true",
                        help="also 150 reps x 60 accounts (about 30-40 s each)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from spmkit.planning import generate_accounts, load_accounts, territory_reps
    from spmkit.sample import generate
    from spmkit.tables import load_roster

    print(f"target: every territory within {TOLERANCE:.0%} of its target, at most "
          f"{MAX_MOVED:.0%} of the potential moved, under {TARGET_SECONDS:.0f} s")
    print(f"{'case':<44} {'accts':>6} {'reps':>4} {'wall s':>7} {'cpu s':>7} "
          f"{'dev pre':>8} {'dev':>7} {'min':>6} {'max':>6} {'moved':>7} {'n mv':>5} "
          f"{'reasg':>5} {'status':>10} {'grp':>3}")
    all_ok = True
    for seed in args.seeds:
        tables = generate(reps=20, years=1, seed=seed, last_year=2025)
        accounts = load_accounts(generate_accounts(tables["roster"], per_rep=50, seed=seed),
                                 fields=["leads", "open_opportunities"])
        all_ok &= _run(accounts, None, f"seed {seed}: potential")
        all_ok &= _run(accounts, None, f"seed {seed}: workload index", index=WORKLOAD)
    if args.large:
        tables = generate(reps=150, years=1, seed=7, last_year=2025)
        roster = load_roster(tables["roster"])
        accounts = load_accounts(generate_accounts(tables["roster"], per_rep=60, seed=7),
                                 fields=["leads", "open_opportunities"])
        reps = territory_reps(roster)
        _run(accounts, reps, "large: potential")
        _run(accounts, reps, "large: potential, regions kept", keep_regions=True)
        _run(accounts, reps, "large: workload index", index=WORKLOAD)
    print("all cases met the bar" if all_ok else "some cases missed the bar")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
