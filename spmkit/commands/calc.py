"""``spmkit calc``, ``spmkit validate`` and ``spmkit explain``: the engine on files."""

from __future__ import annotations

import argparse

from spmkit.errors import InputError, SpmkitError
from spmkit.progress import shown


def _add_inputs(p: argparse.ArgumentParser, *, out: bool) -> None:
    p.add_argument("--plan", required=True, action="append",
                   help="plan YAML file; give it several times to run several plans at once "
                   "(each pays a rep on the days the rep's roster row names it)")
    p.add_argument("--deals", help="deals table (.csv, .parquet or .xlsx) or a "
                   "database URL (postgresql://user@host/db?table=deals or ?query=SELECT ...)")
    p.add_argument("--quotas", help="quotas table")
    p.add_argument("--roster", help="roster table")
    p.add_argument("--splits", help="split credit table")
    p.add_argument("--fx", help="fx plan rates table")
    p.add_argument("--overlays", help="overlay credit table (deal_id, rep_id, share)")
    p.add_argument("--payments", help="payments received (deal_id, paid_date, amount)")
    p.add_argument("--mapping", help="mapping of your own files to spmkit's tables "
                   "(docs/mapping.md); its tables replace --deals, --roster, ...")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors (exit 2)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress on the terminal (it is shown only when stderr is one)")
    if out:
        p.add_argument("--format", choices=["csv", "parquet"], default="csv",
                       help="output format (default csv)")
        p.add_argument("--out", required=True, help="output folder")


def register(sub: argparse._SubParsersAction) -> None:
    calc = sub.add_parser("calc", help="compute payouts and credit lines for a plan")
    _add_inputs(calc, out=True)
    calc.add_argument("--engine", choices=["default", "dask"], default="default",
                      help="rows engine: default (this machine) or dask (a cluster; "
                      "docs/engine.md)")
    calc.add_argument("--scheduler", metavar="ADDRESS",
                      help="Dask scheduler address (tcp://host:8786) for --engine dask")
    calc.add_argument("--partitions", metavar="N",
                      help="partitions of the deals for --engine dask (default: one per "
                      "worker; the results do not depend on it)")
    calc.add_argument("--chunk-rows", metavar="N",
                      help="deals read and credited at a time by the default engine "
                      "(default 500,000: about 0.4 GB for each of two threads; the results do "
                      "not depend on it)")
    calc.set_defaults(func=run_calc)
    val = sub.add_parser("validate", help="check a plan and its data; report every problem")
    _add_inputs(val, out=False)
    val.set_defaults(func=run_validate)
    exp = sub.add_parser("explain", help="a rep's statement: credits, attainment and payouts")
    _add_inputs(exp, out=False)
    exp.add_argument("--rep", required=True, help="rep_id")
    exp.add_argument("--period", help="period label such as 2026-Q1 (default: all)")
    exp.set_defaults(func=run_explain)


def _statement_reps(args: argparse.Namespace, plans: list, roster: object) -> set | None:
    """For ``explain``: the reps whose deals one rep's statement needs (the rep, and everyone
    below them when a plan rolls up), or ``None`` to read every deal (an overlay plan
    matches deals on roster columns, so it needs them all)."""
    rep = getattr(args, "rep", None)
    if rep is None or len(plans) != len(args.plan) or any(p.credit == "overlay" for p in plans):
        return None
    reps = {str(rep)}
    if roster is not None and any(p.credit == "rollup" for p in plans):
        from spmkit.tables import load_roster

        edges = load_roster(roster, all_rows=True)[["rep_id", "manager_id"]].dropna()
        frontier = set(reps)
        while frontier:  # one step per level of the manager tree
            below = set(edges.loc[edges["manager_id"].isin(frontier), "rep_id"]) - reps
            reps |= below
            frontier = below
    return reps


def _load(args: argparse.Namespace):
    from spmkit.plan import load_plan_file
    from spmkit.tables import load_inputs

    problems: list = []
    plans = []
    for path in args.plan:
        try:
            plans.append(load_plan_file(path))
        except SpmkitError as exc:
            problems.extend(exc.problems)
    plan = plans[0] if len(plans) == len(args.plan) else None
    columns = tuple(sorted({c for p in plans for c in p.measure_columns()}))
    try:
        from spmkit.mapping import mapped_sources

        src, report = mapped_sources(args.mapping, {t: getattr(args, t) for t in (
            "deals", "quotas", "roster", "splits", "fx", "overlays", "payments")},
            required=("deals", "quotas"))
        args.import_warnings = report.warnings if report else []
        inputs = load_inputs(src["deals"], src["quotas"], src.get("roster"), src.get("splits"),
                             src.get("fx"), currency=plan.currency if plan else None,
                             overlays=src.get("overlays"), payments=src.get("payments"),
                             measure_columns=columns,
                             only_reps=_statement_reps(args, plans, src.get("roster")))
    except SpmkitError as exc:
        problems.extend(exc.problems)
    if problems:
        raise SpmkitError(problems)
    return plans, inputs


def _warn(args: argparse.Namespace, plans, inputs, results, facts=None) -> None:
    """Print the run's warnings (spmkit.checks), the plans' own among them; --strict
    makes them an error (exit 2) before anything is written."""
    from spmkit.checks import emit, run_warnings

    found = list(getattr(args, "import_warnings", []))
    for path, plan, result in zip(args.plan, plans, results, strict=True):
        found += run_warnings(plan, inputs, result, plan_source=str(path), facts=facts)
    emit(found, args.command, strict=args.strict)


def _engine(args: argparse.Namespace):
    """``(plans, inputs) -> results`` on the engine ``--engine`` names (settings checked)."""
    from spmkit.payout import calculate_plans

    if args.engine != "dask":
        if args.scheduler or args.partitions:
            raise SpmkitError("settings: --scheduler and --partitions need --engine dask")
        return calculate_plans
    from spmkit.commands import setting_number

    if not args.scheduler:
        raise SpmkitError("settings: --engine dask needs --scheduler ADDRESS (tcp://host:8786)")
    partitions = None
    if args.partitions is not None:
        number = setting_number(args.partitions, "--partitions", low=1, high=100_000)
        if number != int(number):
            raise SpmkitError(f"settings: --partitions {args.partitions} is not a whole number")
        partitions = int(number)

    def on_dask(plans: list, inputs: object) -> list:
        from spmkit.dask_engine import calculate_plans, connect

        with connect(args.scheduler) as client:
            return calculate_plans(plans, inputs, client, partitions=partitions)

    return on_dask


@shown
def run_calc(args: argparse.Namespace) -> int:
    from spmkit.money import money_text
    from spmkit.payout import write_outputs

    run = _engine(args)  # settings first: a bad one reads no data
    if args.engine == "dask":
        plans, inputs = _load(args)
        results = run(plans, inputs)
        _warn(args, plans, inputs, results)
        paths = write_outputs(results if len(results) > 1 else results[0], args.out,
                              args.format)
    else:
        plans, results, paths, _ = _streamed(args, write=True)
    for plan, result in zip(plans, results, strict=True):
        s = result.summary
        print(f"{plan.plan}: {s['payees']} payees, {s['credit_lines']} credit lines "
              f"({s['lines_outside_year']} outside the plan year, ignored), total payout "
              f"{money_text(result.total_payout_cents)} {plan.currency}")  # exact: no float
    if len(results) > 1:
        total = sum(r.total_payout_cents for r in results)  # Python ints: exact
        print(f"all {len(results)} plans: total payout {money_text(total)} {plans[0].currency}")
    for p in paths:
        print(f"wrote {p}")
    return 0


def _arrow_pool() -> None:
    """Arrow's allocator for a run through many slices: jemalloc, which hands freed memory
    back to the system (with Arrow's default, mimalloc, 10M deals peaked at 1,378 MB, with
    jemalloc at 1,138 MB; ``bench/README.md``), unless ``ARROW_DEFAULT_MEMORY_POOL`` chooses one
    or this build of Arrow has no jemalloc.  The process is the command's own."""
    import os

    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:  # built without jemalloc: Arrow's default stays
        pass


def _streamed(args: argparse.Namespace, *, write: bool) -> tuple[list, list, list, int]:
    """The default engine: the deals a slice at a time (spmkit.stream), then the outputs
    (``write``); returns the plans, results, files written and the number of deals."""
    from spmkit.commands import setting_number
    from spmkit.mapping import mapped_sources
    from spmkit.payout import write_outputs
    from spmkit.plan import load_plan_file
    from spmkit.stream import CHUNK_ROWS, calculate_files

    chunk = CHUNK_ROWS
    _arrow_pool()
    if getattr(args, "chunk_rows", None) is not None:
        number = setting_number(args.chunk_rows, "--chunk-rows", low=1, high=10**12)
        if number != int(number):
            raise SpmkitError(f"settings: --chunk-rows {args.chunk_rows} is not a whole number")
        chunk = int(number)
    plans = []
    for path in args.plan:
        try:
            plans.append(load_plan_file(path))
        except SpmkitError:
            _load(args)  # every problem at once: the plans' and the tables'
            raise
    src, report = mapped_sources(args.mapping, {t: getattr(args, t) for t in (
        "deals", "quotas", "roster", "splits", "fx", "overlays", "payments")},
        required=("deals", "quotas"))
    args.import_warnings = report.warnings if report else []
    columns = tuple(sorted({c for p in plans for c in p.measure_columns()}))
    try:
        run = calculate_files(plans, src, currency=plans[0].currency, measure_columns=columns,
                              chunk_rows=chunk)
    except InputError as exc:  # as the whole-table loaders report it (_load)
        raise SpmkitError(exc.problems) from None
    with run:
        _warn(args, plans, run.inputs, run.results, facts=run.facts)
        results = run.results
        paths = write_outputs(results if len(results) > 1 else results[0], args.out,
                              args.format) if write else []
        rows = run.facts.rows if run.facts is not None else 0
    return plans, results, paths, rows


@shown
def run_validate(args: argparse.Namespace) -> int:
    # the whole calculation (checks that need the plan: fx, zero quotas), a slice at a time,
    # with the plans' own warnings among the run's; nothing written
    plans, results, _, rows = _streamed(args, write=False)
    for plan, result in zip(plans, results, strict=True):
        print(f"ok: plan {plan.plan!r}, {rows} deals, "
              f"{result.summary['payees']} payees")
    return 0


@shown
def run_explain(args: argparse.Namespace) -> int:
    from spmkit.payout import calculate_plans

    plans, inputs = _load(args)
    results = calculate_plans(plans, inputs)
    _warn(args, plans, inputs, results)
    paid = [r for r in results if (r.payouts["rep_id"] == args.rep).any()]
    if not paid:
        if len(results) == 1:
            results[0].statement(args.rep, args.period)  # raises, naming the plan
        raise SpmkitError(f"rep {args.rep!r} is not paid by any of the plans "
                          f"{', '.join(repr(p.plan) for p in plans)}")
    print("\n\n".join(r.statement(args.rep, args.period) for r in paid))
    return 0
