"""``spmkit quota`` (propose quotas and write a quotas file) and ``spmkit quota-report``
(the quota-setting notebook rendered to HTML).  Thin: all the work is in spmkit.quota."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from spmkit.commands import MAX_SEED, setting_number
from spmkit.errors import InputError

METHODS = ("growth", "share", "potential", "forecast")
#: Plan years --year may name: the history (the year before) starts in 1900 or later and the
#: plan year ends before 9999-12-31, the last date the calendar code can represent.
YEARS = (1901, 9998)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--history", default=None, metavar="DEALS",
                   help="deals file (.csv/.parquet/.xlsx) covering at least the prior year "
                        "(or the deals of --mapping)")
    p.add_argument("--mapping", default=None, metavar="YAML",
                   help="mapping of your own files to spmkit's tables (docs/mapping.md)")
    p.add_argument("--history-year", type=int, default=None, metavar="YEAR",
                   help="the year whose sales are the history (default: the year before "
                        "--year; --year itself is a backtest)")
    p.add_argument("--rollup", action="store_true",
                   help="managers also get the sum of their team's quotas (plans with "
                        "credit: rollup)")
    p.add_argument("--roster", default=None, metavar="R",
                   help="roster: reps, regions, hire/term dates and optional 'potential'")
    p.add_argument("--fx", default=None, metavar="F",
                   help="fx rates for deals in other currencies (default: fx.* beside DEALS)")
    p.add_argument("--currency", default="USD", help="plan currency (default USD)")
    p.add_argument("--year", required=True, type=int, help="plan year; history is the year before")
    p.add_argument("--period", choices=("month", "quarter"), default="quarter",
                   help="quota period (default quarter)")
    p.add_argument("--method", required=True, metavar="|".join(METHODS),
                   help="growth, share (of history), potential (roster column) or forecast")
    p.add_argument("--target", default=None, metavar="AMOUNT",
                   help="company target to allocate, in currency units (share/potential)")
    p.add_argument("--target-percentile", default=None, metavar="P",
                   help="set the company target at the P-th percentile (0-100) of the plan-"
                        "year forecast (forecast, share or potential; instead of --target)")
    p.add_argument("--growth", default="0.1", metavar="G",
                   help="growth over prior-year sales (growth method; default 0.1)")
    p.add_argument("--floor", default="0.5", help="floor as a multiple of the team median")
    p.add_argument("--ceiling", default="2.0", help="ceiling as a multiple of the team median")
    p.add_argument("--weight", default=None,
                   help="weight of history vs potential, 0..1 (blend for share/forecast)")
    p.add_argument("--phasing", default="history",
                   help="history (seasonality), even, or comma-separated weights per period")
    p.add_argument("--ramp", default=None, metavar="F1,F2,...",
                   help="new-hire ramp factors per quarter of tenure, e.g. 0.25,0.5,0.75")
    p.add_argument("--proration", choices=("months", "days", "none"), default="days",
                   help="proration of partial years (default days employed; months uses the "
                        "mid-month rule)")
    p.add_argument("--seed", type=int, default=0, help="seed of the forecast simulations")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``quota`` and ``quota-report`` subcommands."""
    p = subparsers.add_parser(
        "quota", help="propose quotas from sales history and write a quotas file",
        description="Propose next year's quotas (growth, share of a target, potential or "
                    "forecast), phase them into periods, prorate/ramp partial years, and "
                    "write rep_id,period_start,quota for spmkit calc. Prints a summary "
                    "with health checks.")
    _common(p)
    p.add_argument("--out", required=True, metavar="FILE", help="quotas file (.csv or .parquet)")
    p.add_argument("--summary", default=None, metavar="FILE.json",
                   help="also write the summary's figures as JSON (amounts in plan currency)")
    p.set_defaults(func=run_quota)

    r = subparsers.add_parser(
        "quota-report", help="render the quota-setting notebook to HTML",
        description="Run notebooks/quota_setting.ipynb on the history and write "
                    "report.html, report.ipynb and metrics.json to OUT.")
    _common(r)
    r.add_argument("--out", required=True, metavar="DIR", help="output folder")
    r.add_argument("--audience", choices=("executive", "analyst"), default="analyst")
    r.set_defaults(func=run_quota_report)


def _split(text: str | None, what: str) -> list[str] | None:
    if text is None:
        return None
    parts = [t.strip() for t in text.split(",") if t.strip()]
    if not parts:
        raise InputError(f"settings: {what} {text!r} is empty")
    return parts


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """Validate the settings (before any data is read) into propose_quotas keywords."""
    from spmkit.quota.proposal import parse_amount

    if args.method not in METHODS:
        raise InputError(f"settings: unknown method {args.method!r}; use one of "
                         f"{', '.join(METHODS)}")
    if not YEARS[0] <= args.year <= YEARS[1]:
        raise InputError(f"settings: --year {args.year} must be between {YEARS[0]} and "
                         f"{YEARS[1]} (the plan year; history is the year before)")
    if not 0 <= args.seed <= MAX_SEED:
        raise InputError(f"settings: --seed {args.seed} must be between 0 and {MAX_SEED}")
    if not re.fullmatch(r"[A-Z]{3}", str(args.currency)):
        raise InputError(f"settings: --currency {args.currency!r} must be an ISO 4217 code "
                         "such as USD")
    target = None
    if args.target is not None:
        try:
            target = parse_amount(args.target, "--target")
        except ArithmeticError:  # an exponent past what Decimal arithmetic takes
            raise InputError(f"settings: --target {args.target} is too large an amount") \
                from None
        if target < 0:
            raise InputError(f"settings: --target {args.target} must not be negative")
    percentile = None
    if args.target_percentile is not None:
        percentile = setting_number(args.target_percentile, "--target-percentile", low=0,
                                    high=100)
        if not 0 < percentile < 100 or target is not None or args.method == "growth":
            raise InputError("settings: --target-percentile P (between 0 and 100, exclusive) "
                             "sets the company target from the forecast: use it with method "
                             "forecast, share or potential, and without --target")
    if args.method in ("share", "potential") and target is None and percentile is None:
        raise InputError(f"settings: --method {args.method} needs --target AMOUNT to allocate")
    setting_number(args.growth, "--growth", low=-0.99, high=100)
    setting_number(args.floor, "--floor", low=0, high=100)
    setting_number(args.ceiling, "--ceiling", low=0, high=1000)
    if args.weight is not None:
        setting_number(args.weight, "--weight", low=0, high=1)
    phasing: Any = args.phasing
    if phasing not in ("history", "even"):
        phasing = _split(phasing, "phasing")
        for w in phasing:
            setting_number(w, "phasing weight", low=0, high=10**6)
    ramp = _split(args.ramp, "ramp")
    for r in ramp or []:
        setting_number(r, "ramp factor", low=0, high=1)
    return {"year": args.year, "method": args.method, "period": args.period,
            "target_cents": target, "growth": args.growth, "floor": args.floor,
            "ceiling": args.ceiling, "weight": args.weight, "phasing": phasing, "ramp": ramp,
            "proration": args.proration, "currency": args.currency, "seed": args.seed,
            "history_year": args.history_year, "rollup": args.rollup,
            "target_percentile": percentile}


def _fx_path(args: argparse.Namespace) -> str | None:
    if args.fx:
        return args.fx
    if args.history is None:
        return None
    folder = Path(args.history).parent
    for ext in (".csv", ".parquet", ".xlsx"):
        candidate = folder / f"fx{ext}"
        if candidate.exists():
            return str(candidate)
    return None


def _load(args: argparse.Namespace) -> dict[str, Any]:
    from spmkit.mapping import mapped_sources
    from spmkit.quota import load_potential
    from spmkit.tables import load_deals, load_fx, load_roster

    src, _ = mapped_sources(args.mapping, {"deals": args.history, "roster": args.roster,
                                           "fx": args.fx})
    if "deals" not in src:
        raise InputError("settings: give --history DEALS or a --mapping with deals")
    deals = load_deals(src["deals"])
    roster = potential = None
    if src.get("roster") is not None:
        roster = load_roster(src["roster"])
        potential = load_potential(src["roster"])
    fx_path = _fx_path(args)
    fx = load_fx(src["fx"]) if src.get("fx") is not None else (
        load_fx(fx_path) if fx_path else None)
    return {"deals": deals, "roster": roster, "potential": potential, "fx": fx,
            "fx_path": fx_path}


def _money(cents: int | float | None) -> str:
    from spmkit.money import money_text

    return "n/a" if cents is None else money_text(cents)


def run_quota(args: argparse.Namespace) -> int:
    from spmkit.quota import propose_quotas, write_quotas

    settings = _settings(args)
    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise InputError(f"{out}: the quotas file must end in .csv or .parquet")
    if args.summary and Path(args.summary).suffix.lower() != ".json":
        raise InputError(f"{args.summary}: the summary file must end in .json")
    data = _load(args)
    if settings["method"] == "potential" and data["potential"] is None:
        raise InputError(f"{args.roster or 'roster'}: --method potential needs a roster with a "
                         "'potential' column")
    proposal = propose_quotas(data["deals"], roster=data["roster"],
                              potential=data["potential"], fx=data["fx"], **settings)
    write_quotas(proposal.quotas, out)
    if args.summary:
        write_summary(proposal, args.summary)
    print(summary_text(proposal, out))
    return 0


def summary_figures(proposal: Any) -> dict[str, Any]:
    """The summary's figures, JSON-safe, amounts in plan currency units (two decimals)."""
    f = proposal.health.figures
    m = proposal.metrics()

    def units(cents: float | None) -> float | None:
        return None if cents is None else round(float(cents)) / 100

    out: dict[str, Any] = {
        "currency": proposal.settings.get("currency"),
        "year": m["year"], "method": m["method"], "period": m["period"], "reps": m["reps"],
        "total_quota": units(m["total_quota_cents"]), "target": units(m["target_cents"]),
        "target_percentile": proposal.settings.get("target_percentile"),
        "history_start": proposal.settings["history_start"],
        "history_end": proposal.settings["history_end"],
        "forecast": None,
        "health": {k: (None if isinstance(v, float) and v != v else v) for k, v in f.items()
                   if k not in ("total_quota_cents", "forecast_cents")},
        "bands": m["bands"], "notes": m["notes"],
    }
    plan_year, sel = proposal.plan_year, proposal.forecast_selection
    if plan_year is not None and sel is not None:
        err = sel.backtest_error
        out["forecast"] = {
            "mean": units(plan_year.mean), "lower": units(plan_year.lower),
            "upper": units(plan_year.upper), "level": plan_year.level, "model": sel.chosen,
            "backtest_error": err if err == err else None, "backtests": len(sel.backtests),
            "history_start": m["forecast_history_start"],
            "history_end": m["forecast_history_end"], "months": sel.months,
            "probability_reaching_quota": f["probability_reaching_quota"],
        }
    return out


def write_summary(proposal: Any, path: str | Path) -> Path:
    """Write :func:`summary_figures` as JSON, atomically."""
    import json

    from spmkit.outputs import atomic_file

    path = Path(path)
    if path.suffix.lower() != ".json":
        raise InputError(f"{path}: the summary file must end in .json")
    text = json.dumps(summary_figures(proposal), indent=2, sort_keys=True, allow_nan=False)
    with atomic_file(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return path


def summary_text(proposal: Any, out: Path | str) -> str:
    """The terminal summary of a proposal."""
    f = proposal.health.figures
    m = proposal.metrics()
    lines = [
        f"wrote {out}: {len(proposal.quotas)} rows "
        f"({m['reps']} reps x {proposal.periods.count} {m['period']}s), plan year {m['year']}",
        f"method: {m['method']}  history: {proposal.settings['history_start']} .. "
        f"{proposal.settings['history_end']}",
        f"total quota: {_money(m['total_quota_cents'])}"
        + (f"  target: {_money(m['target_cents'])}" if m["target_cents"] is not None else ""),
    ]
    if proposal.forecast_total is not None:
        t = proposal.forecast_total
        lines.append(f"forecast: {_money(float(t['mean']))} ({float(t['level']):.0%} interval "
                     f"{_money(float(t['pi_lower']))} .. {_money(float(t['pi_upper']))})  "
                     f"coverage (quota / forecast): {f['coverage']:.2f}")
    sel = getattr(proposal, "forecast_selection", None)
    if sel is not None:
        err = sel.backtest_error
        lines.append(
            f"forecast model: {sel.chosen} (of {len(sel.candidates)} by AICc and rolling-"
            f"origin backtests) on {sel.months} months {m['forecast_history_start']} .. "
            f"{m['forecast_history_end']}; backtest error "
            + (f"{err:.1%} of the 12-month total over {len(sel.backtests)} origin"
               + ("s" if len(sel.backtests) != 1 else "")
               if err == err else "n/a (history too short)")
            + f"; chance the company reaches the total quota: "
            f"{f['probability_reaching_quota']:.0%}")
    share = f["share_at_or_above_100"]
    error = f.get("share_error")
    lines.append(f"health ({f['replay_basis']}, {f['reps_replayed']} reps): "
                 + ("n/a" if share != share else f"{share:.0%}"
                    + (f" ± {error * 100:.0f} points" if error is not None else ""))
                 + f" at or above quota -> {f['verdict']} "
                 f"(norm: 60-70% healthy, >85% too easy, <45% too hard); median attainment "
                 + ("n/a" if f["median_attainment"] != f["median_attainment"]
                    else f"{f['median_attainment']:.1%}"))
    lines.append("attainment bands: " + ", ".join(
        f"{b} {r}" for b, r in zip(proposal.health.bands["band"], proposal.health.bands["reps"],
                                   strict=True)))
    flagged = proposal.health.regions
    flagged = flagged[flagged["flag"] != ""]
    lines.append("regions: " + ("all within 10% of their share of history" if flagged.empty else
                                "; ".join(f"{r} {fl}" for r, fl in
                                          zip(flagged["region"], flagged["flag"], strict=True))))
    lines.extend(f"note: {n}" for n in proposal.notes)
    return "\n".join(lines)


def run_quota_report(args: argparse.Namespace) -> int:
    if args.mapping is None:
        if args.history is None:
            raise InputError("settings: give --history DEALS or a --mapping with deals")
        return _quota_report(args)
    from spmkit.mapping import mapped_data_dir

    _settings(args)
    with mapped_data_dir(None, args.mapping) as (folder, _):
        given = {"history": args.history, "roster": args.roster, "fx": args.fx}
        for opt, table in (("history", "deals"), ("roster", "roster"), ("fx", "fx")):
            path = folder / f"{table}.csv"
            if path.is_file():
                if given[opt] is not None:
                    raise InputError(f"{args.mapping}: the {table} table comes from the "
                                     f"mapping and from --{opt}; give it one way")
                setattr(args, opt, str(path))
        if args.history is None:
            raise InputError(f"{args.mapping}: the mapping has no deals table (or give "
                             "--history DEALS)")
        return _quota_report(args)


def _quota_report(args: argparse.Namespace) -> int:
    from spmkit.report.notebook import run_notebook

    settings = _settings(args)
    fx_path = _fx_path(args)
    from spmkit.sources import is_database_url

    def where(src: str) -> str:  # the kernel runs in another folder; a URL stays a URL
        return src if is_database_url(src) else str(Path(src).resolve())

    params = {
        "history_path": where(args.history),
        "roster_path": where(args.roster) if args.roster else None,
        "fx_path": where(fx_path) if fx_path else None,
        "year": settings["year"], "method": settings["method"], "period": settings["period"],
        "target": args.target, "growth": str(args.growth), "floor": str(args.floor),
        "ceiling": str(args.ceiling), "weight": args.weight,
        "phasing": settings["phasing"], "ramp": settings["ramp"],
        "proration": settings["proration"], "currency": settings["currency"],
        "seed": settings["seed"], "target_percentile": settings["target_percentile"],
        "history_year": settings["history_year"], "rollup": bool(settings["rollup"]),
    }
    files = run_notebook("quota_setting.ipynb", params, args.out, audience=args.audience)
    print(files["html"])
    return 0
