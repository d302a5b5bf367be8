"""``spmkit calc``, ``spmkit validate`` and ``spmkit explain``: the engine on files."""

from __future__ import annotations

import argparse
import sys

from spmkit.errors import SpmkitError


def _add_inputs(p: argparse.ArgumentParser, *, out: bool) -> None:
    p.add_argument("--plan", required=True, help="plan YAML file")
    p.add_argument("--deals", required=True, help="deals table (.csv, .parquet or .xlsx)")
    p.add_argument("--quotas", required=True, help="quotas table")
    p.add_argument("--roster", help="roster table")
    p.add_argument("--splits", help="split credit table")
    p.add_argument("--fx", help="fx plan rates table")
    p.add_argument("--overlays", help="overlay credit table (deal_id, rep_id, share)")
    p.add_argument("--payments", help="payments received (deal_id, paid_date, amount)")
    p.add_argument("--mapping", help="YAML file mapping source column names to spmkit's")
    if out:
        p.add_argument("--format", choices=["csv", "parquet"], default="csv",
                       help="output format (default csv)")
        p.add_argument("--out", required=True, help="output folder")


def register(sub: argparse._SubParsersAction) -> None:
    calc = sub.add_parser("calc", help="compute payouts and credit lines for a plan")
    _add_inputs(calc, out=True)
    calc.set_defaults(func=run_calc)
    val = sub.add_parser("validate", help="check a plan and its data; report every problem")
    _add_inputs(val, out=False)
    val.set_defaults(func=run_validate)
    exp = sub.add_parser("explain", help="a rep's statement: credits, attainment and payouts")
    _add_inputs(exp, out=False)
    exp.add_argument("--rep", required=True, help="rep_id")
    exp.add_argument("--period", help="period label such as 2026-Q1 (default: all)")
    exp.set_defaults(func=run_explain)


def _load(args: argparse.Namespace):
    from spmkit.plan import load_plan_file
    from spmkit.tables import load_inputs

    problems: list = []
    plan = None
    try:
        plan = load_plan_file(args.plan)
    except SpmkitError as exc:
        problems.extend(exc.problems)
    mapping = _mapping(args.mapping) if args.mapping else None
    try:
        inputs = load_inputs(args.deals, args.quotas, args.roster, args.splits, args.fx,
                             mapping=mapping, currency=plan.currency if plan else None,
                             overlays=args.overlays, payments=args.payments,
                             measure_columns=plan.measure_columns() if plan else ())
    except SpmkitError as exc:
        problems.extend(exc.problems)
    if problems:
        raise SpmkitError(problems)
    return plan, inputs


def _mapping(path: str) -> dict:
    from spmkit.plan import safe_load_yaml

    data = safe_load_yaml(path, what="column mapping")  # bounded; errors name the file
    if not isinstance(data, dict):
        raise SpmkitError(f"{path}: a mapping file maps table names or source columns to columns")
    return data


def run_calc(args: argparse.Namespace) -> int:
    from spmkit.money import money_text
    from spmkit.payout import calculate, write_outputs

    plan, inputs = _load(args)
    result = calculate(plan, inputs)
    paths = write_outputs(result, args.out, args.format)
    s = result.summary
    print(f"{plan.plan}: {s['payees']} payees, {s['credit_lines']} credit lines "
          f"({s['lines_outside_year']} outside the plan year, ignored), total payout "
          f"{money_text(result.total_payout_cents)} {plan.currency}")  # exact: no float
    for p in paths:
        print(f"wrote {p}")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from spmkit.payout import calculate

    plan, inputs = _load(args)
    result = calculate(plan, inputs)  # checks that need the plan: fx, zero quotas
    for warning in plan.warnings():
        print(f"spmkit validate: warning: {args.plan}: {warning}", file=sys.stderr)
    print(f"ok: plan {plan.plan!r}, {len(inputs.deals)} deals, {result.summary['payees']} payees")
    return 0


def run_explain(args: argparse.Namespace) -> int:
    from spmkit.payout import calculate

    plan, inputs = _load(args)
    print(calculate(plan, inputs).statement(args.rep, args.period))
    return 0
