"""``spmkit sample`` and ``spmkit import-northwind``: data to try plans on."""

from __future__ import annotations

import argparse
import sys

from spmkit.commands import seed


def register(sub: argparse._SubParsersAction) -> None:
    sample = sub.add_parser(
        "sample", help="write a synthetic sales org (deals, roster, quotas, splits, fx, "
                       "payments)",
        description="Write deals.csv, roster.csv, quotas.csv, splits.csv, fx.csv and "
                    "payments.csv of a synthetic but realistic sales org (and overlays.csv "
                    "with --overlays). The same seed gives the same files.")
    sample.add_argument("--out", required=True, help="output folder")
    sample.add_argument("--reps", type=int, default=150,
                        help="selling reps (default 150; managers come on top)")
    sample.add_argument("--years", type=int, default=2,
                        help="years of history ending with --last-year (default 2)")
    sample.add_argument("--last-year", type=int, default=2025,
                        help="the plan year the history ends with (default 2025)")
    sample.add_argument("--seed", type=seed, default=7, help="random seed (default 7)")
    sample.add_argument("--hostile-names", action="store_true",
                        help="give one rep a name holding HTML (to test report escaping)")
    sample.add_argument("--quota-period", choices=("quarter", "month", "year"),
                        default="quarter",
                        help="quotas by quarter (default, the period of the plans in "
                             "scenarios/), by month, or annual (year)")
    sample.add_argument("--solution-engineers", action="store_true",
                        help="add solution engineers to the roster (no quota, no deals)")
    sample.add_argument("--overlays", action="store_true",
                        help="add solution engineers and overlays.csv crediting them (every "
                             "plan then credits them: for SE overlay plans)")
    sample.add_argument("--role-change", action="store_true",
                        help="give two reps a mid-year role change (two effective-dated "
                             "roster rows each)")
    sample.set_defaults(func=run_sample)

    nw = sub.add_parser(
        "import-northwind", help="import the Northwind order history as deals, roster, quotas",
        description="Read the Northwind CSV export and write deals.csv, roster.csv and "
                    "quotas.csv (quotas for --year, derived from the year before).")
    nw.add_argument("--source", required=True, help="folder of the Northwind CSV files")
    nw.add_argument("--out", required=True, help="output folder")
    nw.add_argument("--year", type=int, default=1997, help="plan year (default 1997)")
    nw.add_argument("--mapping", help="mapping file (default examples/northwind/mapping.yaml)")
    nw.set_defaults(func=run_import_northwind)


def run_sample(args: argparse.Namespace) -> int:
    from spmkit.sample import generate, write_tables

    tables = generate(reps=args.reps, years=args.years, seed=args.seed,
                      last_year=args.last_year, hostile_names=args.hostile_names,
                      quota_period=args.quota_period,
                      solution_engineers=args.solution_engineers, overlays=args.overlays,
                      role_change=args.role_change)
    from spmkit.planning.opportunities import generate_opportunities  # the outlook's pipeline
    tables["opportunities"] = generate_opportunities(tables["deals"], seed=args.seed)
    paths = write_tables(tables, args.out)
    deals = tables["deals"]
    print(f"wrote {len(deals)} deals, {len(tables['roster'])} people, "
          f"{len(tables['quotas'])} quotas, {tables['splits']['deal_id'].nunique()} split "
          f"deals, {len(tables['payments'])} payments to {args.out} "
          f"({', '.join(p.name for p in paths)})", file=sys.stdout)
    return 0


def run_import_northwind(args: argparse.Namespace) -> int:
    from spmkit.northwind import import_northwind
    from spmkit.sample import write_tables

    tables = import_northwind(args.source, year=args.year, mapping=args.mapping)
    paths = write_tables(tables, args.out)
    print(f"wrote {len(tables['deals'])} deals, {len(tables['roster'])} people and "
          f"{len(tables['quotas'])} quotas for {args.year} to {args.out} "
          f"({', '.join(p.name for p in paths)})", file=sys.stdout)
    return 0
