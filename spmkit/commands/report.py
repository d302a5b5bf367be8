"""``spmkit report`` (one scenario report) and ``spmkit run-reports`` (a manifest of them)."""

from __future__ import annotations

import argparse
from datetime import date

from spmkit.progress import shown


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` and ``run-reports`` subcommands."""
    p = subparsers.add_parser(
        "report", help="compare plans on historical data and write an HTML report",
        description="Run the scenario report notebook: the baseline plan against each "
                    "scenario on the same data. Writes report.html, report.ipynb, "
                    "metrics.json and tables.xlsx to OUT and prints the HTML path.")
    p.add_argument("--data", default=None, metavar="DIR",
                   help="folder with deals, quotas, roster, splits, fx tables")
    p.add_argument("--mapping", default=None, metavar="YAML",
                   help="mapping of your own files to spmkit's tables (docs/mapping.md); "
                        "its tables replace those of --data")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors (exit 2)")
    p.add_argument("--baseline", required=True, metavar="PLAN", help="baseline plan YAML")
    p.add_argument("--scenarios", nargs="*", default=[], metavar="PLAN",
                   help="plan YAML files to compare with the baseline")
    p.add_argument("--out", required=True, metavar="OUT", help="output folder")
    p.add_argument("--audience", choices=("executive", "analyst"), default="executive",
                   help="executive: aggregates only (default); analyst: adds rep-level tables")
    p.add_argument("--draws", type=int, default=2000, help="Monte Carlo draws (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="Monte Carlo seed (default 0)")
    p.add_argument("--margin", type=float, default=None, metavar="FRACTION",
                   help="gross margin on an extra dollar of sales (e.g. 0.7): the report "
                        "shows the sales uplift each scenario must buy to pay for itself")
    p.add_argument("--title", default=None, help="report title")
    p.add_argument("--quiet", action="store_true",
                   help="no progress on the terminal (it is shown only when stderr is one)")
    p.set_defaults(func=_report)

    r = subparsers.add_parser(
        "run-reports", help="run the named reports of a manifest into a dated folder",
        description="Run every report in a reports.yaml manifest into "
                    "<out>/<YYYY-MM-DD>/<name>/ and write an index.html listing them. "
                    "A failing report does not stop the others; the exit status is 1 "
                    "if any failed. Output folders must lie inside the manifest's folder "
                    "unless --allow-outside is given.")
    r.add_argument("manifest", metavar="REPORTS_YAML", help="the manifest file")
    r.add_argument("--date", type=_date, default=None,
                   help="date naming the output folder (default: today)")
    r.add_argument("--allow-outside", action="store_true",
                   help="let the manifest's 'out:' folders lie outside the manifest's folder")
    r.set_defaults(func=_run_reports)


@shown
def _report(args: argparse.Namespace) -> int:
    from spmkit.checks import emit
    from spmkit.errors import InputError
    from spmkit.report.runs import build_report

    if args.data is None and args.mapping is None:
        raise InputError("settings: give --data DIR, --mapping YAML or both")
    files = build_report(args.data, args.baseline, args.scenarios, args.out,
                         audience=args.audience, draws=args.draws, seed=args.seed,
                         title=args.title, mapping=args.mapping, margin=args.margin,
                         on_warnings=lambda found: emit(found, "report", strict=args.strict))
    print(files["html"])
    return 0


def _run_reports(args: argparse.Namespace) -> int:
    import sys

    from spmkit.report.runs import run_manifest

    index, outcomes = run_manifest(args.manifest, run_date=args.date,
                                   allow_outside=args.allow_outside)
    for o in outcomes:
        if o.status == "ok":
            print(f"ok      {o.name}: {o.html}")
        else:
            first = o.error.splitlines()[0] if o.error else ""
            print(f"failed  {o.name}: {first}", file=sys.stderr)
    print(index)
    return 1 if any(o.status != "ok" for o in outcomes) else 0
