"""``spmkit capacity`` (capacity, gap to target and hiring plan), ``spmkit territory``
(balanced territories, their quotas and overlay quotas), ``spmkit sample-accounts``
(an accounts table for the sample org) and ``spmkit outlook`` (the year's projected
attainment and payouts).  Thin: all the work is in spmkit.planning."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover  (numpy and pandas load when a command runs)
    import pandas as pd


from spmkit.commands import seed, setting_number
from spmkit.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``capacity``, ``territory``, ``sample-accounts`` and ``outlook`` subcommands."""
    c = subparsers.add_parser(
        "capacity", help="capacity by quarter, the gap to target and the hires to close it",
        description="Ramped rep equivalents, capacity (with a P10-P90 range), the gap to "
                    "target, and the hires (and when to open their requisitions) that close "
                    "it, by quarter of the plan year. Productivity, ramp and attrition come "
                    "from the history unless given. See docs/planning.md.")
    c.add_argument("--roster", required=True, metavar="R",
                   help="roster: reps, roles, hire and term dates (.csv/.parquet/.xlsx)")
    c.add_argument("--history", default=None, metavar="DEALS",
                   help="deals covering at least the year before the plan year (productivity, "
                        "ramp)")
    c.add_argument("--fx", default=None, metavar="F",
                   help="fx rates for deals in other currencies (default: fx.* beside DEALS)")
    c.add_argument("--currency", default="USD", help="plan currency (default USD)")
    c.add_argument("--year", required=True, type=int, help="plan year")
    c.add_argument("--target", required=True, metavar="AMOUNT[;Q2;Q3;Q4]",
                   help="the year's target, or four quarterly targets separated by ';'")
    c.add_argument("--phasing", default=None, metavar="W1,W2,W3,W4",
                   help="split of a yearly target into quarters (default even)")
    c.add_argument("--productivity", action="append", default=None, metavar="[ROLE=]AMOUNT",
                   help="annual productivity of a ramped rep (repeat ROLE=AMOUNT per role); "
                        "default: the median of ramped reps in the history")
    c.add_argument("--ramp", default=None, metavar="F1,F2,..|history",
                   help="ramp factors by --ramp-unit of tenure (e.g. 0,0.25,0.5), or history; "
                        "default: history when there is one, else 0,0.25,0.5 by quarter")
    c.add_argument("--ramp-unit", choices=("quarter", "month"), default="quarter")
    c.add_argument("--attrition", action="append", default=None, metavar="[ROLE=]RATE",
                   help="annual attrition rate (repeat ROLE=RATE per role); default: from the "
                        "roster's term dates in the year before")
    c.add_argument("--lead-time", type=int, default=3, metavar="MONTHS",
                   help="months from opening a requisition to the hire's start (default 3)")
    c.add_argument("--hire-role", default=None, help="role hired (default the largest)")
    c.add_argument("--as-of", default=None, metavar="DATE",
                   help="today: no requisition is planned to open before it")
    c.add_argument("--max-hires-per-quarter", type=int, default=None, metavar="N",
                   help="recruiting limit per quarter")
    c.add_argument("--out", default=None, metavar="DIR",
                   help="write capacity.csv, months.csv, hiring.csv and metrics.json here")
    c.set_defaults(func=run_capacity)

    t = subparsers.add_parser(
        "territory", help="balance territories on a weighted index with least disruption",
        description="Assign accounts to reps so every territory's index is within the "
                    "tolerance of the average, moving at most --max-moved of the potential "
                    "away from current owners (a MILP solved with scipy/HiGHS). Optionally "
                    "split a target into quotas by territory potential, and overlay quotas "
                    "from linked territories. See docs/planning.md.")
    t.add_argument("--accounts", required=True, metavar="A",
                   help="accounts: account, potential, optional region, owner and workload "
                        "columns")
    t.add_argument("--roster", default=None, metavar="R",
                   help="roster: the selling reps employed on --as-of get territories "
                        "(default: the current owners)")
    t.add_argument("--reps", default=None, metavar="ID,ID,..", help="the reps, by id")
    t.add_argument("--as-of", default=None, metavar="DATE",
                   help="roster date (default: reps without a term date)")
    t.add_argument("--index", default="potential=1", metavar="FIELD=W,..",
                   help="weighted index, e.g. leads=50,open_opportunities=200,accounts=500 "
                        "(default potential=1)")
    t.add_argument("--tolerance", default="0.10", help="band around the average (0.10)")
    t.add_argument("--max-moved", default="0.15",
                   help="most potential moved from current owners, as a share (0.15)")
    t.add_argument("--keep-regions", action="store_true",
                   help="accounts stay with reps of their region")
    t.add_argument("--candidates", choices=("auto", "all", "over-to-under"), default="auto")
    t.add_argument("--time-limit", default="20", metavar="SECONDS", help="solver time (20)")
    t.add_argument("--target", default=None, metavar="AMOUNT",
                   help="split this target into quotas by territory potential")
    t.add_argument("--year", type=int, default=None,
                   help="plan year of the quotas file (with --target)")
    t.add_argument("--period", choices=("month", "quarter", "year"), default="quarter",
                   help="quota period (default quarter; split evenly)")
    t.add_argument("--overlays", default=None, metavar="LINKS",
                   help="overlay links: overlay,territory (a territory is a rep id or a "
                        "region; needs --target)")
    t.add_argument("--hierarchy", default=None, metavar="H",
                   help="territory,parent tree for overlays (default: reps under regions)")
    t.add_argument("--out", required=True, metavar="DIR",
                   help="write assignment.csv, territories.csv, metrics.json (and quotas.csv, "
                        "overlay_quotas.csv)")
    t.set_defaults(func=run_territory)

    s = subparsers.add_parser(
        "sample-accounts", help="write an accounts table for a (sample) roster",
        description="Accounts for each selling rep of the roster (ids as in the sample "
                    "deals), with potential, open opportunities and leads.")
    s.add_argument("--roster", required=True, metavar="R", help="roster file")
    s.add_argument("--per-rep", type=int, default=60, help="accounts per rep (default 60)")
    s.add_argument("--seed", type=seed, default=7)
    s.add_argument("--out", required=True, metavar="FILE", help="accounts file (.csv)")
    s.set_defaults(func=run_sample_accounts)

    o = subparsers.add_parser(
        "outlook", help="where attainment and payouts are heading at an as-of date",
        description="Project each rep's year-end attainment and the plan's payouts (the "
                    "accrual, P10/P50/P90) from the deals closed by --as-of, the open "
                    "pipeline (opportunities.csv, when present) weighted by calibrated win "
                    "rates, and run-rate; the engine pays every simulated year. Optionally "
                    "compare switching to --plan-b at --switch-date. See docs/planning.md.")
    o.add_argument("--plan", required=True, metavar="P", help="the plan in force (YAML)")
    o.add_argument("--data", required=True, metavar="DIR",
                   help="folder with deals.csv and optional quotas, roster, splits, fx and "
                        "opportunities .csv")
    o.add_argument("--opportunities", default=None, metavar="O",
                   help="opportunities file (default DIR/opportunities.csv when present)")
    o.add_argument("--as-of", required=True, metavar="DATE",
                   help="the last day whose deals are known (inside the plan year)")
    o.add_argument("--draws", type=int, default=500, help="simulated years (default 500)")
    o.add_argument("--seed", type=seed, default=0)
    o.add_argument("--threshold", default="0.5",
                   help="attainment below which a rep is at risk (default 0.5)")
    o.add_argument("--plan-b", default=None, metavar="P",
                   help="compare switching to this plan mid-year")
    o.add_argument("--switch-date", default=None, metavar="DATE",
                   help="first day of plan B (default 1 July, or plan B's effective start)")
    o.add_argument("--out", default=None, metavar="DIR",
                   help="write reps.csv, draws.csv, win_rates.csv, stage_rates.csv, "
                        "cycle_times.csv, (switch.csv) and metrics.json here")
    o.set_defaults(func=run_outlook)


# --------------------------------------------------------------------------- parsing


def _by_role(items: list[str] | None, parse: Any) -> Any:
    """``["150000"]`` -> value; ``["AE=150000", "AM=90000"]`` -> {role: value}."""
    if not items:
        return None
    if len(items) == 1 and "=" not in items[0]:
        return parse(items[0], "")
    out = {}
    for item in items:
        role, sep, value = item.partition("=")
        if not sep or not role.strip():
            raise InputError(f"settings: {item!r} should be ROLE=VALUE (or one value for all)")
        out[role.strip()] = parse(value, f" of {role.strip()}")
    return out


def _fx_path(history: str | None, fx: str | None) -> str | None:
    if fx or not history:
        return fx
    folder = Path(history).parent
    for ext in (".csv", ".parquet", ".xlsx"):
        if (folder / f"fx{ext}").exists():
            return str(folder / f"fx{ext}")
    return None


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Money columns (``*_cents``) as amounts with two decimals under the name without
    ``_cents``; dates as YYYY-MM-DD."""
    import numpy as np
    import pandas as pd

    from spmkit.money import format_cents

    out = {}
    for col in frame.columns:
        s = frame[col]
        if col.endswith("_cents"):
            out[col[: -len("_cents")]] = format_cents(s.to_numpy(np.int64)).to_numpy()
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[col] = s.dt.strftime("%Y-%m-%d").to_numpy()
        else:
            out[col] = s.to_numpy()
    return pd.DataFrame(out)


def _write(out_dir: str, frames: dict[str, pd.DataFrame], metrics: dict[str, Any]) -> None:
    from spmkit.outputs import atomic_dir
    from spmkit.report.notebook import json_safe

    with atomic_dir(out_dir) as stage:
        for name, frame in frames.items():
            _csv_frame(frame).to_csv(stage / f"{name}.csv", index=False, lineterminator="\n")
        (stage / "metrics.json").write_text(
            json.dumps(json_safe(metrics), indent=2, sort_keys=True, allow_nan=False) + "\n",
            encoding="utf-8")


# --------------------------------------------------------------------------- capacity


def _capacity_settings(args: argparse.Namespace) -> dict[str, Any]:
    import pandas as pd

    from spmkit.planning.capacity import parse_target
    from spmkit.quota.proposal import parse_amount

    target = parse_target(args.target)
    phasing = None
    if args.phasing is not None:
        phasing = [p.strip() for p in args.phasing.split(",") if p.strip()]
        for w in phasing:
            setting_number(w, "phasing weight", low=0, high=1e6)
    productivity = _by_role(args.productivity,
                            lambda v, w: parse_amount(v, f"--productivity{w}"))
    if isinstance(productivity, int) and productivity < 0 or isinstance(productivity, dict) and \
            any(v < 0 for v in productivity.values()):
        raise InputError("settings: --productivity must not be negative")
    attrition = _by_role(args.attrition,
                         lambda v, w: str(setting_number(v, f"--attrition{w}", low=0, high=0.999)))
    ramp: Any = args.ramp
    if ramp is not None and ramp.strip() != "history":
        ramp = [p.strip() for p in ramp.split(",") if p.strip()]
        for f in ramp:
            setting_number(f, "ramp factor", low=0, high=1)
    elif ramp is not None:
        ramp = "history"
    if not 0 <= args.lead_time <= 36:
        raise InputError(f"settings: --lead-time {args.lead_time} must be 0 to 36 months")
    as_of = None
    if args.as_of is not None:
        try:
            as_of = pd.Timestamp(args.as_of).date()
        except ValueError:
            raise InputError(f"settings: --as-of {args.as_of!r} is not a date "
                             "(YYYY-MM-DD)") from None
    return {"year": args.year, "target_cents": target,
            "phasing": phasing, "productivity": productivity, "ramp": ramp,
            "ramp_unit": args.ramp_unit, "attrition": attrition,
            "lead_time_months": args.lead_time, "hire_role": args.hire_role, "as_of": as_of,
            "max_hires_per_quarter": args.max_hires_per_quarter, "currency": args.currency}


def capacity_text(plan: Any) -> str:
    """The terminal summary of a capacity plan."""
    import pandas as pd

    from spmkit.money import money_text

    q = plan.quarters
    t = plan.totals()
    lines = [f"capacity plan {plan.settings['year']}: {len(plan.reps)} selling reps; ramp "
             f"{plan.ramp.describe()} [{plan.ramp.source}]",
             f"{'quarter':<9}{'heads':>8}{'RRE':>8}{'capacity':>17}{'P10':>17}{'P90':>17}"
             f"{'target':>17}{'gap':>17}{'hires':>7}  recruit by"]
    for row in q.itertuples(index=False):  # four quarters: display only
        lines.append(f"{row.quarter:<9}{row.heads:>8.1f}{row.rre:>8.1f}"
                     f"{money_text(row.capacity_cents):>17}{money_text(row.capacity_p10_cents):>17}"
                     f"{money_text(row.capacity_p90_cents):>17}{money_text(row.target_cents):>17}"
                     f"{money_text(row.gap_cents):>17}{row.hires:>7}  "
                     + (str(pd.Timestamp(row.recruit_by).date()) if row.hires else ""))
    lines.append(f"{'year':<9}{t['heads']:>8.1f}{t['rre']:>8.1f}"
                 f"{money_text(t['capacity_cents']):>17}{money_text(t['capacity_p10_cents']):>17}"
                 f"{money_text(t['capacity_p90_cents']):>17}{money_text(t['target_cents']):>17}"
                 f"{money_text(t['gap_cents']):>17}{t['hires']:>7}")
    lines.append(f"lost to ramp {money_text(t['ramp_loss_cents'])}; lost to attrition "
                 f"{money_text(t['attrition_loss_cents'])}; with the hires: capacity "
                 f"{money_text(t['capacity_with_hires_cents'])}, gap "
                 f"{money_text(t['gap_after_hires_cents'])}")
    lines.extend(f"note: {n}" for n in plan.notes)
    return "\n".join(lines)


def run_capacity(args: argparse.Namespace) -> int:
    from spmkit.planning import plan_capacity
    from spmkit.tables import load_deals, load_fx, load_roster

    settings = _capacity_settings(args)
    roster = load_roster(args.roster)
    deals = load_deals(args.history) if args.history else None
    fx_path = _fx_path(args.history, args.fx)
    fx = load_fx(fx_path) if fx_path else None
    plan = plan_capacity(roster, deals=deals, fx=fx, **settings)
    if args.out:
        _write(args.out, {"capacity": plan.quarters, "months": plan.months,
                          "hiring": plan.hiring, "productivity": plan.productivity,
                          "attrition": plan.attrition},
               {"capacity": plan.metrics(), "settings": plan.settings})
    print(capacity_text(plan))
    if args.out:
        print(f"wrote {args.out}")
    return 0


# --------------------------------------------------------------------------- territory


def _index(text: str) -> dict[str, str]:
    out = {}
    for item in [p for p in text.split(",") if p.strip()]:
        name, sep, weight = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"settings: --index item {item!r} should be FIELD=WEIGHT")
        setting_number(weight, f"index weight of {name.strip()!r}", low=0, high=1e12)
        out[name.strip()] = weight.strip()
    if not out:
        raise InputError("settings: --index is empty")
    return out


def territory_text(plan: Any) -> str:
    """The terminal summary of a territory design."""
    from spmkit.money import money_text

    f, d = plan.figures, plan.disruption
    t = plan.territories
    lines = [
        f"territories: {len(t)} reps, {len(plan.assignment)} accounts; index "
        + ", ".join(f"{k} {v}" for k, v in plan.settings["index"].items()),
        f"largest deviation from target: {f['max_deviation_before']:.1%} before -> "
        f"{f['max_deviation']:.1%} after (tolerance {plan.settings['tolerance']:.0%}); "
        f"territories {t['pct_of_average'].min():.1%} .. {t['pct_of_average'].max():.1%} of "
        "the average",
        f"moved: {d['moved_accounts']} accounts, {money_text(d['moved_potential_cents'])} of "
        f"potential = {d['moved_share']:.1%} (budget {d['budget_share']:.0%}); reassigned "
        f"{d['reassigned_accounts']} accounts without a continuing owner",
        f"solver: {f['status']} (gap {f['mip_gap']:.1%}, {f['pairs']} pairs, candidates "
        f"{f['candidates']})",
    ]
    lines.extend(f"note: {n}" for n in plan.notes)
    return "\n".join(lines)


def run_territory(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from spmkit.periods import plan_periods
    from spmkit.planning import (
        design_territories,
        load_accounts,
        overlay_quotas,
        region_hierarchy,
        territory_quotas,
        territory_reps,
    )
    from spmkit.quota import phase
    from spmkit.quota.proposal import parse_amount
    from spmkit.tables import load_roster

    index = _index(args.index)
    tolerance = setting_number(args.tolerance, "--tolerance", low=0, high=1)
    max_moved = setting_number(args.max_moved, "--max-moved", low=0, high=1)
    time_limit = setting_number(args.time_limit, "--time-limit", low=0.1, high=86_400)
    target = None
    if args.target is not None:
        target = parse_amount(args.target, "--target")
        if target < 0:
            raise InputError("settings: --target must not be negative")
        if args.year is None:
            raise InputError("settings: --target needs --year (the plan year of the quotas)")
    if args.overlays and target is None:
        raise InputError("settings: --overlays needs --target (overlay quotas come from "
                         "territory quotas)")
    if args.roster and args.reps:
        raise InputError("settings: give --roster or --reps, not both")
    from spmkit.sources import is_database_url

    for path in (args.accounts, args.roster, args.overlays, args.hierarchy):
        if path and not is_database_url(path) and not Path(path).is_file():
            raise InputError(f"{path}: file not found")
    as_of = None
    if args.as_of is not None:
        try:
            as_of = pd.Timestamp(args.as_of)
        except ValueError:
            raise InputError(f"settings: --as-of {args.as_of!r} is not a date") from None
    fields = [f for f in index if f not in ("potential",)]
    accounts = load_accounts(args.accounts, fields=fields)
    reps: Any = None
    if args.roster:
        reps = territory_reps(load_roster(args.roster), as_of=as_of)
    elif args.reps:
        reps = [r.strip() for r in args.reps.split(",") if r.strip()]
    plan = design_territories(accounts, reps, index=index, tolerance=tolerance,
                              max_moved=max_moved, keep_regions=args.keep_regions,
                              candidates=args.candidates, time_limit=time_limit)
    frames: dict[str, pd.DataFrame] = {"assignment": plan.assignment,
                                       "territories": plan.territories}
    metrics: dict[str, Any] = {"territories": plan.metrics(), "settings": plan.settings}
    lines = [territory_text(plan)]
    if target is not None:
        from spmkit.money import money_text
        from spmkit.quota.history import plan_year_start

        annual = territory_quotas(plan, target)
        periods = plan_periods(plan_year_start(args.year).date(), args.period)
        phased = phase(annual[["rep_id", "annual_cents"]], periods,
                       np.ones(periods.count, dtype=np.int64))
        frames["territory_quotas"] = annual
        frames["quotas"] = phased[["rep_id", "period_start", "quota_cents"]]
        metrics["quotas"] = {"target_cents": target,
                             "total_cents": int(annual["annual_cents"].sum())}
        lines.append(f"quotas: {money_text(target)} split by territory potential over "
                     f"{len(annual)} reps ({periods.count} {args.period} periods)")
        if args.overlays:
            hierarchy = args.hierarchy or region_hierarchy(plan)
            overlay = overlay_quotas(annual, args.overlays, hierarchy)
            frames["overlay_quotas"] = overlay
            metrics["overlays"] = {o: int(c) for o, c in zip(overlay["overlay"],
                                                             overlay["quota_cents"], strict=True)}
            lines.append(f"overlays: {len(overlay)} overlay quotas")
    _write(args.out, frames, metrics)
    print("\n".join(lines))
    print(f"wrote {args.out}")
    return 0


def run_sample_accounts(args: argparse.Namespace) -> int:
    import numpy as np

    from spmkit.planning import generate_accounts, write_accounts
    from spmkit.tables import load_roster

    roster = load_roster(args.roster)
    out = Path(args.out)
    if out.suffix.lower() != ".csv":
        raise InputError(f"{out}: the accounts file must end in .csv")
    accounts = generate_accounts(roster, per_rep=args.per_rep, seed=args.seed)
    write_accounts(accounts, out)
    print(f"wrote {out}: {len(accounts)} accounts for "
          f"{accounts['owner'].replace('', np.nan).nunique()} reps")
    return 0


# --------------------------------------------------------------------------- outlook


def outlook_text(outlook: Any) -> str:
    """The terminal summary of an outlook (totals only: no rep's pay)."""
    from spmkit.money import money_text

    t = outlook.totals
    reps = outlook.reps
    lines = [
        f"outlook of {outlook.settings['plan']!r} as of {t['as_of']} ({t['draws']} simulated "
        f"years, seed {t['seed']}): {len(reps)} reps",
        f"credit to date {money_text(t['credit_to_date_cents'])}; year-end credit P50 "
        f"{money_text(t['credit_p50_cents'])}",
        f"open pipeline {money_text(t['pipeline_cents'])} in {t['open_opportunities']} "
        f"opportunities, {money_text(t['weighted_pipeline_cents'])} weighted",
        f"paid to date {money_text(t['paid_to_date_cents'])}; the year's payout (accrual) "
        f"P10 {money_text(t['payout_p10_cents'])}, P50 {money_text(t['payout_p50_cents'])}, "
        f"P90 {money_text(t['payout_p90_cents'])} (mean {money_text(t['payout_mean_cents'])})",
        f"reps at risk of missing {outlook.settings['threshold']:.0%} attainment: "
        f"{int(reps['at_risk'].sum())}; likely to hit a cap: {int(reps['likely_cap'].sum())}",
    ]
    if outlook.switch_totals is not None:
        s = outlook.switch_totals
        lines.append(
            f"from {s['switch_date']}: keep the plan P50 {money_text(s['keep_p50_cents'])}, "
            f"switch to {s['plan_b']!r} P50 {money_text(s['switch_p50_cents'])}; change P50 "
            f"{money_text(s['change_p50_cents'])} (P10 {money_text(s['change_p10_cents'])}, "
            f"P90 {money_text(s['change_p90_cents'])}); {s['reps_better_off']} reps better "
            f"off, {s['reps_worse_off']} worse off")
    lines.extend(f"note: {n}" for n in outlook.notes)
    return "\n".join(lines)


def run_outlook(args: argparse.Namespace) -> int:
    from spmkit.planning.outlook import outlook_from_files

    threshold = setting_number(args.threshold, "--threshold", low=0, high=10)
    for path in (args.plan, args.plan_b, args.opportunities):
        if path and not Path(path).is_file():
            raise InputError(f"{path}: file not found")
    if not Path(args.data).is_dir():
        raise InputError(f"{args.data}: data folder not found")
    if args.switch_date and not args.plan_b:
        raise InputError("settings: --switch-date needs --plan-b")
    outlook = outlook_from_files(args.plan, args.data, args.as_of,
                                 opportunities=args.opportunities, plan_b=args.plan_b,
                                 draws=args.draws, seed=args.seed, threshold=float(threshold),
                                 switch_date=args.switch_date)
    if args.out:
        frames = {"reps": outlook.reps, "draws": outlook.draws,
                  "win_rates": outlook.win_rates, "stage_rates": outlook.stage_rates,
                  "cycle_times": outlook.cycle_times}
        if outlook.switch is not None:
            frames["switch"] = outlook.switch
        _write(args.out, frames, {"outlook": outlook.metrics(), "settings": outlook.settings})
    print(outlook_text(outlook))
    if args.out:
        print(f"wrote {args.out}")
    return 0
