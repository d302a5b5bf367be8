"""A quota proposal end to end: history -> annual quotas -> periods -> health, and the
quotas file the engine reads.

:func:`propose_quotas` is what the ``spmkit quota`` command and the quota-setting notebook
call; each step is also a public function of :mod:`spmkit.quota`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spmkit.errors import InputError, Problem
from spmkit.money import format_cents, format_money, mul_div_round, to_decimal
from spmkit.outputs import atomic_file
from spmkit.periods import Periods, plan_periods
from spmkit.quota.forecast import (
    ForecastResults,
    ForecastSelection,
    PlanYearForecast,
    select_forecast,
)
from spmkit.quota.health import QuotaHealth, quota_health, quota_movers
from spmkit.quota.history import (
    history_coverage,
    history_window,
    monthly_sales,
    plan_year_start,
    rep_history,
    rep_regions,
    to_plan_currency,
)
from spmkit.quota.methods import growth_quotas, share_quotas
from spmkit.quota.phasing import apply_factors, employment_factors, phase, seasonality

__all__ = ["METHODS", "QuotaProposal", "propose_quotas", "propose_from_files", "write_quotas",
           "parse_amount",
           "load_potential"]

METHODS = ("growth", "share", "potential", "forecast")


@dataclass(frozen=True)
class QuotaProposal:
    """A proposed set of quotas and the evidence behind it.

    Attributes
    ----------
    settings : dict
        The settings used (JSON-safe).
    periods : Periods
        The plan year's periods.
    quotas : DataFrame
        One row per rep and period: ``rep_id``, ``period_index``, ``period_start``,
        ``quota_cents`` (int64, after ramp and proration), ``full_quota_cents`` (before),
        ``reason``.
    annual : DataFrame
        One row per rep: ``rep_id``, ``region``, ``history_cents``, ``potential`` (float
        or NaN), ``annual_cents`` (the method's annual quota), ``quota_cents`` (the sum of
        the rep's period quotas), ``reason``.
    phasing : ndarray
        The phasing weight of each period (fractions summing to 1).
    target_cents : int or None
        The target allocated (share/potential/forecast).
    forecast : ForecastResults or None
        The company forecast (None when history is too short).
    forecast_frame : DataFrame
        Monthly ``actual`` and ``mean``/``pi_lower``/``pi_upper`` forecast (cents) by
        ``month``, for the figure; empty without a forecast.
    forecast_total : Series or None
        Plan-year forecast ``mean``, ``pi_lower``, ``pi_upper`` in cents.
    notes : tuple of str
        Things the analyst should know (e.g. a trend-only forecast).
    health : QuotaHealth
        Replay, coverage and fairness.
    """

    settings: dict
    periods: Periods
    quotas: pd.DataFrame = field(repr=False)
    annual: pd.DataFrame = field(repr=False)
    phasing: np.ndarray = field(repr=False)
    target_cents: int | None
    forecast: ForecastResults | None = field(repr=False)
    forecast_frame: pd.DataFrame = field(repr=False)
    forecast_total: pd.Series | None
    notes: tuple[str, ...]
    health: QuotaHealth = field(repr=False)
    #: Managers whose quota is the sum of their team's (``rollup=True``).
    managers: tuple[str, ...] = ()
    #: The candidate models compared and the one chosen (None without a forecast).
    forecast_selection: ForecastSelection | None = field(default=None, repr=False)
    #: The company's plan-year total, calibrated: mean, interval, simulated years.
    plan_year: PlanYearForecast | None = field(default=None, repr=False)

    def by_period(self) -> pd.DataFrame:
        """Total quota per period: ``period_start, quota_cents`` (int64)."""
        return self.quotas.groupby("period_start", as_index=False)["quota_cents"].sum()

    def movers(self, top: int = 10) -> pd.DataFrame:
        """Reps whose quota moved most against prior-year credit (see
        :func:`spmkit.quota.health.quota_movers`)."""
        return quota_movers(self.annual, top=top)

    def metrics(self) -> dict[str, Any]:
        """JSON-safe headline numbers (money in cents and in currency units)."""
        f = dict(self.health.figures)
        out: dict[str, Any] = {
            "method": self.settings["method"],
            "year": self.settings["year"],
            "period": self.settings["period"],
            "reps": int(len(self.annual)),
            "total_quota_cents": int(self.quotas.loc[
                ~self.quotas["rep_id"].isin(list(self.managers)), "quota_cents"].sum()),
            "target_cents": self.target_cents,
        }
        out["total_quota"] = round(out["total_quota_cents"] / 100, 2)
        if self.forecast_total is not None:
            for k in ("mean", "pi_lower", "pi_upper"):
                out[f"forecast_{k}_cents"] = int(round(float(self.forecast_total[k])))
        if self.forecast_selection is not None and self.plan_year is not None:
            sel = self.forecast_selection
            out.update({"forecast_level": self.plan_year.level, "forecast_model": sel.chosen,
                        "forecast_backtest_error": (None if not np.isfinite(
                            sel.backtest_error) else sel.backtest_error),
                        "forecast_backtests": int(len(sel.backtests)),
                        "forecast_year_error": sel.year_error,
                        "forecast_months": sel.months,
                        "forecast_history_start": str(sel.history_start.date()),
                        "forecast_history_end": str(
                            (sel.history_end + pd.offsets.MonthEnd(0)).date())})
        for k, v in f.items():
            if isinstance(v, float) and not np.isfinite(v):
                v = None
            out[f"health_{k}"] = v
        out["bands"] = {b: int(r) for b, r in zip(self.health.bands["band"],
                                                  self.health.bands["reps"], strict=True)}
        out["notes"] = list(self.notes)
        return out


def load_potential(src: str | Path | pd.DataFrame) -> pd.Series | None:
    """The roster's optional ``potential`` column as floats indexed by ``rep_id``.

    Returns None when there is no such column.  Blank or non-numeric or negative values
    are errors naming the file and line, except that a manager's (a rep_id another row
    names as its ``manager_id``) may be blank (NaN).
    """
    name = str(src) if not isinstance(src, pd.DataFrame) else "roster"
    if isinstance(src, pd.DataFrame):
        raw = src
        offset, label = 1, "row"
    else:
        path = Path(src)
        suffix = path.suffix.lower()
        if suffix == ".csv":
            raw = pd.read_csv(path, dtype="str", keep_default_na=False)
            offset, label = 2, "line"
        elif suffix == ".parquet":
            raw = pd.read_parquet(path)
            offset, label = 1, "row"
        elif suffix in (".xlsx", ".xlsm"):
            raw = pd.read_excel(path, dtype="str", keep_default_na=False)
            offset, label = 2, "row"
        else:
            raise InputError(f"{name}: unsupported file type {suffix!r}")
    cols = {str(c).strip().lower(): c for c in raw.columns}
    if "potential" not in cols or "rep_id" not in cols:
        return None
    text = raw[cols["potential"]].astype("str").str.strip().str.replace(",", "", regex=False)
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() | (values < 0) | ~np.isfinite(values.fillna(0))
    if "manager_id" in cols:  # a manager's potential may be blank (managers are the team)
        ids = raw[cols["rep_id"]].astype("str").str.strip()
        managers = ids.isin(raw[cols["manager_id"]].astype("str").str.strip())
        blank = text.isin(["", "nan", "None", "<NA>"])
        bad &= ~(managers & blank)
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())
        raise InputError([Problem(name, "potential must be a non-negative number",
                                  f"{label} {i + offset}", "potential") for i in rows])
    return pd.Series(values.to_numpy(np.float64),
                     index=pd.Index(raw[cols["rep_id"]].astype("str").str.strip(),
                                    name="rep_id"), name="potential")


def parse_amount(text: object, what: str = "target") -> int:
    """An amount in currency units (``"1,000,000.50"``) as whole cents, half away from zero.

    Raises
    ------
    InputError
        Not a finite number.
    """
    import decimal

    from spmkit.money import CONTEXT

    try:
        d = to_decimal(str(text).replace(",", "").strip())
    except decimal.InvalidOperation:
        raise InputError(f"settings: {what} {text!r} is not an amount") from None
    if not d.is_finite():
        raise InputError(f"settings: {what} {text!r} is not an amount")
    if abs(d) >= Decimal(10) ** 15:
        raise InputError(f"settings: {what} {text} is too large an amount")
    return int(CONTEXT.quantize(d * 100, Decimal(1)))


def _target_cents(value: object) -> int | None:
    if value is None:
        return None
    d = to_decimal(value)
    if not d.is_finite():
        raise InputError(f"settings: target {value} is not a number")
    return int(d)


def _rep_set(deals: pd.DataFrame, roster: pd.DataFrame | None, periods: Periods,
             year_start: pd.Timestamp, roles: Sequence[str] | None,
             history_anchor: pd.Timestamp | None = None) -> pd.DataFrame:
    anchor = year_start if history_anchor is None else history_anchor
    if roster is None:
        start, end = history_window(anchor)
        d = pd.to_datetime(deals["close_date"])
        ids = deals.loc[((d >= start) & (d <= end)).to_numpy(), "rep_id"].astype("str")
        reps = pd.DataFrame({"rep_id": np.sort(ids.unique())})
        reps["hire_date"] = pd.NaT
        reps["term_date"] = pd.NaT
        return reps
    r = roster.copy()
    r["rep_id"] = r["rep_id"].astype("str")
    hire = pd.to_datetime(r["hire_date"]) if "hire_date" in r else pd.Series(pd.NaT, index=r.index)
    term = pd.to_datetime(r["term_date"]) if "term_date" in r else pd.Series(pd.NaT, index=r.index)
    employed = ((hire.isna() | (hire <= periods.year_end))
                & (term.isna() | (term >= year_start))).to_numpy()
    if roles is not None:
        if "role" not in r:
            raise InputError("roster: no 'role' column to select roles by")
        employed = employed & (r["role"].isin(list(roles)).to_numpy())
    if "manager_id" in r:
        managers = r["rep_id"].isin(r["manager_id"].dropna().astype("str")).to_numpy()
        start, end = history_window(anchor)
        d = pd.to_datetime(deals["close_date"])
        sold = deals.loc[((d >= start) & (d <= end)).to_numpy(), "rep_id"].astype("str")
        employed = employed & (~managers | r["rep_id"].isin(sold).to_numpy())
    r = r.assign(hire_date=hire, term_date=term)[employed]
    return r[["rep_id", "hire_date", "term_date"]].sort_values("rep_id").reset_index(drop=True)


def propose_quotas(deals: pd.DataFrame, *, year: int, method: str = "growth",
                   roster: pd.DataFrame | None = None, potential: pd.Series | None = None,
                   fx: pd.DataFrame | None = None, currency: str = "USD",
                   period: str = "quarter", start_month: int = 1,
                   target_cents: int | None = None,
                   growth: Decimal | float | str = "0.1",
                   floor: Decimal | float | str | None = "0.5",
                   ceiling: Decimal | float | str | None = "2.0",
                   weight: Decimal | float | str | None = None,
                   phasing: str | Sequence[object] = "history",
                   ramp: Sequence[object] | None = None, ramp_months: int = 3,
                   proration: str = "days", roles: Sequence[str] | None = None,
                   forecast_by: str = "company", seasonal: str | None = "add",
                   alpha: float = 0.1, draws: int = 1000, seed: int = 0,
                   history_year: int | None = None, annualize: bool = True,
                   rollup: bool = False, target_percentile: float | None = None
                   ) -> QuotaProposal:
    """Propose quotas for a plan year from the year before it.

    Parameters
    ----------
    deals : DataFrame
        As from :func:`spmkit.tables.load_deals` (``rep_id``, ``close_date``,
        ``amount_cents``, optional ``cancel_date``, ``region``).
    year : int
        The plan year (calendar year in which it starts); history is the twelve months
        before it.
    method : {"growth", "share", "potential", "forecast"}
        ``growth``: prior-year credit x (1 + growth) within floor/ceiling x team median;
        ``share``: ``target_cents`` split by share of history; ``potential``: split by the
        roster's potential; ``forecast``: the ETS forecast of the plan year as the target,
        split by share of history (per region with ``forecast_by="region"``).  ``weight``
        blends history and potential for the last three (history weight; defaults 1 for
        share/forecast, 0 for potential).
    roster : DataFrame, optional
        As from :func:`spmkit.tables.load_roster`; selects the reps (those employed in
        the plan year), their region, hire and term dates (ramp, proration), and
        optionally ``potential``.  Managers (anyone who is another rep's ``manager_id``)
        with no prior-year sales of their own get no quota.  Without a roster, the reps
        are those with prior-year deals.
    potential : Series indexed by rep_id, optional
        Overrides the roster's ``potential`` column.
    fx : DataFrame, optional
        As from :func:`spmkit.tables.load_fx`; deals in other currencies than
        ``currency`` are converted at these rates (an error when a rate is missing).
    currency : str
        The plan currency.
    period : {"month", "quarter", "year"}
    start_month : int
        Month the plan year starts (1 = January).
    target_cents : int, optional
        Company target in cents (share/potential).
    growth, floor, ceiling : see :func:`spmkit.quota.methods.growth_quotas`.
    phasing : "history", "even" or a sequence of weights (one per period)
    ramp, ramp_months, proration : see :func:`spmkit.quota.phasing.employment_factors`.
    roles : sequence of str, optional
        Only roster reps with these roles get quotas.
    forecast_by : {"company", "region"}
        Level of the forecast target for ``method="forecast"``.
    seasonal : {"add", "mul", None}
        Kept for compatibility and recorded in the settings; the forecast model is chosen
        by :func:`spmkit.quota.forecast.select_forecast`.
    alpha, draws, seed :
        Interval level (0.1 -> 90%), simulated years and their seed.
    target_percentile : float, optional
        Set the company target at this percentile (0-100) of the calibrated plan-year
        forecast (:func:`spmkit.quota.forecast.select_forecast`): for ``forecast`` (instead
        of the mean; company level only) and for ``share``/``potential`` (instead of
        ``target_cents``).
    history_year : int, optional
        The year whose sales are the history (default ``year - 1``).  ``year`` itself is
        a backtest: quotas set on the sales they are then measured against (a note says
        so).
    annualize : bool
        When the deals cover fewer months of the history year than twelve (from the first
        month with a deal to the last), scale each rep's history by 12 / months, rounded
        to the cent (a note says by how much).
    rollup : bool
        For plans with ``credit: rollup``: every manager in the roster (anyone another
        rep names as ``manager_id``) also gets a quota equal to the sum of the quotas of
        everyone below them, period by period, plus their own when they sell.  Totals and
        health count individual quotas only.

    Returns
    -------
    QuotaProposal

    Raises
    ------
    InputError
        Unknown method, a negative or missing target, no history, no potential, ...
    """
    problems: list[str] = []
    if method not in METHODS:
        raise InputError(f"settings: unknown method {method!r}; use one of {', '.join(METHODS)}")
    if period not in ("month", "quarter", "year"):
        raise InputError(f"settings: unknown period {period!r}; use month, quarter or year")
    if forecast_by not in ("company", "region"):
        raise InputError(f"settings: forecast_by {forecast_by!r} must be company or region")
    target = _target_cents(target_cents)
    if target is not None and target < 0:
        raise InputError("settings: the target must not be negative")
    if target_percentile is not None:
        if method == "growth" or target is not None or forecast_by == "region":
            raise InputError("settings: --target-percentile sets the company target from the "
                             "forecast: use it with method forecast (company), share or "
                             "potential, and without --target")
        if not 0 < float(target_percentile) < 100:
            raise InputError(f"settings: --target-percentile {target_percentile} must be "
                             "between 0 and 100")
    if method in ("share", "potential") and target is None and target_percentile is None:
        raise InputError(f"settings: method {method!r} needs a target to allocate (--target)")
    if method == "forecast" and target is not None:
        raise InputError("settings: method 'forecast' sets the target itself; drop the target")
    deals = to_plan_currency(deals, fx, currency)
    year_start = plan_year_start(year, start_month)
    periods = plan_periods(year_start.date(), period)
    h_year = int(year) - 1 if history_year is None else int(history_year)
    if h_year > int(year):
        raise InputError(f"settings: history year {h_year} is after plan year {year}")
    h_anchor = plan_year_start(h_year + 1, start_month)  # the first day after the history
    h_start, h_end = history_window(h_anchor)
    dates = pd.to_datetime(deals["close_date"])
    if not ((dates >= h_start) & (dates <= h_end)).any():
        which = ("the year before plan year" if h_year == int(year) - 1 else
                 "the history year, for plan year")
        raise InputError(f"history: no deals between {h_start.date()} and {h_end.date()}, "
                         f"{which} {year}")
    if h_year == int(year):
        problems.append(f"backtest: the history is the plan year {year} itself "
                        f"({h_start.date()} .. {h_end.date()}); the quotas are set on the "
                        "sales they are measured against")
    elif h_year < int(year) - 1:
        problems.append(f"history is {h_year}, {int(year) - h_year} years before plan year "
                        f"{year}")
    reps = _rep_set(deals, roster, periods, year_start, roles, h_anchor)
    if reps.empty:
        raise InputError(f"roster: no reps employed in plan year {year}")
    ids = pd.Index(reps["rep_id"], dtype="str", name="rep_id")
    history = rep_history(deals, h_anchor, ids)
    coverage = history_coverage(deals, h_start, h_end)
    months = coverage["months"]
    annualized = annualize and 0 < months < coverage["window_months"]
    if annualized:
        history = pd.Series(mul_div_round(history.to_numpy(np.int64), 12, months),
                            index=history.index, name=history.name)
        problems.append(f"the history covers {months} months ({coverage['first'].date()} .. "
                        f"{coverage['last'].date()}), not 12: each rep's history is "
                        f"annualized x 12/{months} (+{Decimal(12 - months) / months:.1%})")
    elif months < coverage["window_months"]:
        problems.append(f"the history covers only {months} of {coverage['window_months']} "
                        "months and is not annualized")
    regions = rep_regions(deals, roster, ids)
    if potential is None and roster is not None and "potential" in roster:
        potential = pd.Series(pd.to_numeric(roster["potential"]).to_numpy(np.float64),
                              index=pd.Index(roster["rep_id"].astype("str"), name="rep_id"))
    if potential is not None:
        potential = potential[~potential.index.duplicated()]
        potential = potential.fillna(0.0)  # a manager's blank potential (load_potential)
    if weight is None:
        weight = 0 if method == "potential" else 1
    if to_decimal(weight) < 1 and potential is None:
        raise InputError("roster: allocating by potential needs a 'potential' column in the "
                         "roster")
    notes: list[str] = list(problems)

    # forecast (always attempted: it gives coverage; required for the forecast method)
    forecast: ForecastResults | None = None
    forecast_total: pd.Series | None = None
    forecast_frame = pd.DataFrame(columns=["actual", "mean", "pi_lower", "pi_upper"])
    company = monthly_sales(deals, end=h_anchor)
    f_start = max(year_start, h_anchor)  # a backtest forecasts the year after its history
    selection: ForecastSelection | None = None
    plan_year: PlanYearForecast | None = None
    try:
        selection = select_forecast(company["company"])
        forecast = selection.results
        plan_year = selection.plan_year(f_start, level=1 - alpha, draws=draws, seed=seed)
        forecast_total = plan_year.as_series()
        frame = forecast.summary_frame(max(pd.Timestamp(periods.year_end), f_start
                                           + pd.DateOffset(years=1) - pd.Timedelta(days=1)),
                                       alpha=alpha)
        actual = company["company"].astype(np.float64).rename("actual").to_frame()
        forecast_frame = pd.concat([actual, frame]).rename_axis("month")
        if selection.note:
            notes.append(f"forecast: {selection.note}")
    except (InputError, ValueError, np.linalg.LinAlgError) as exc:
        if method == "forecast":
            raise InputError(f"history: cannot forecast plan year {year}: {exc}") from exc
        notes.append(f"no forecast ({exc}); coverage not computed")
    if target_percentile is not None:
        if plan_year is None:
            raise InputError(f"history: --target-percentile needs a forecast of plan year "
                             f"{year}, and there is none")
        target = int(round(plan_year.percentile(target_percentile)))

    if method == "growth":
        table = growth_quotas(history, growth=growth, floor=floor, ceiling=ceiling)
    elif method in ("share", "potential"):
        table = share_quotas(int(target), history, potential=potential, weight=weight,
                             floor=floor)
    elif forecast_by == "company":
        if target_percentile is None:
            target = int(round(float(forecast_total["mean"])))
        if target < 0:
            raise InputError("history: the forecast for the plan year is negative")
        table = share_quotas(target, history, potential=potential, weight=weight, floor=floor)
        table["reason"] = table["reason"].str.replace(" target", " forecast target", n=1)
    else:
        table, target = _regional_forecast_quotas(deals, history, regions, potential, weight,
                                                  floor, f_start, seasonal, alpha, draws,
                                                  seed, notes)

    if isinstance(phasing, str):
        if phasing == "history":  # the periods of the year after the history, same shape
            weights = seasonality(deals, plan_periods(h_anchor.date(), period))
        elif phasing == "even":
            weights = np.ones(periods.count, dtype=np.int64)
        else:
            raise InputError(f"settings: phasing {phasing!r} must be history, even or weights")
    else:
        weights = phasing
    phased = phase(table[["rep_id", "annual_cents"]], periods, weights)
    factors = employment_factors(reps["hire_date"], reps["term_date"], periods,
                                 proration=proration, ramp=ramp, ramp_months=ramp_months)
    quotas = apply_factors(phased, factors)
    w_int = np.asarray(weights, dtype=object)
    w_share = np.array([float(to_decimal(x)) for x in w_int.tolist()])
    w_share = w_share / w_share.sum()

    rep_reason = table.set_index("rep_id")["reason"]
    per_rep = quotas.groupby("rep_id", sort=False)["quota_cents"].sum()
    period_reason = (quotas["rep_id"].map(rep_reason).astype("str") + "; "
                     + pd.Series([f"{s:.1%}" for s in w_share.tolist()] * len(table),
                                 dtype="str") + " of the year in this period")
    cut = (quotas["quota_cents"] != quotas["full_quota_cents"]).to_numpy()
    period_reason = period_reason.where(
        ~cut, period_reason + "; prorated/ramped from "
        + format_money(quotas["full_quota_cents"].to_numpy()))
    quotas = quotas.assign(reason=period_reason.to_numpy())

    annual = pd.DataFrame({
        "rep_id": table["rep_id"].to_numpy(),
        "region": regions.reindex(table["rep_id"]).to_numpy(),
        "history_cents": table["history_cents"].to_numpy(np.int64),
        "potential": (potential.reindex(table["rep_id"]).to_numpy(np.float64)
                      if potential is not None else np.full(len(table), np.nan)),
        "annual_cents": table["annual_cents"].to_numpy(np.int64),
        "quota_cents": per_rep.reindex(table["rep_id"]).to_numpy(np.int64),
        "reason": table["reason"].to_numpy(),
    })
    reduced = annual["quota_cents"] < annual["annual_cents"]
    annual["reason"] = annual["reason"].where(
        ~reduced, annual["reason"] + "; prorated/ramped to " + format_money(annual["quota_cents"]))

    health = quota_health(quotas, annual, deals, year_start,
                          forecast_cents=(float(forecast_total["mean"])
                                          if forecast_total is not None else None),
                          plan_year=plan_year, history_anchor=h_anchor, seed=seed)
    managers: tuple[str, ...] = ()
    if rollup:
        quotas, annual, managers = _rollup_quotas(quotas, annual, roster, regions, notes)
    settings = {
        "method": method, "year": int(year), "period": period, "start_month": int(start_month),
        "target_cents": target, "growth": str(growth), "floor": None if floor is None
        else str(floor), "ceiling": None if ceiling is None else str(ceiling),
        "weight": str(weight), "phasing": phasing if isinstance(phasing, str)
        else [str(x) for x in phasing], "ramp": None if ramp is None else [str(x) for x in ramp],
        "ramp_months": ramp_months, "proration": proration, "forecast_by": forecast_by,
        "seasonal": seasonal, "alpha": alpha, "draws": draws, "seed": seed,
        "history_start": str(h_start.date()), "history_end": str(h_end.date()),
        "history_year": h_year, "history_months": int(months), "annualized": bool(annualized),
        "rollup": bool(rollup), "target_percentile": target_percentile, "currency": currency,
        "forecast_model": None if selection is None else selection.chosen,
        "forecast_months": None if selection is None else selection.months,
    }
    return QuotaProposal(settings=settings, periods=periods,
                         quotas=quotas[["rep_id", "period_index", "period_start", "quota_cents",
                                        "full_quota_cents", "reason"]],
                         annual=annual, phasing=w_share,
                         target_cents=None if target is None else int(target),
                         forecast=forecast, forecast_frame=forecast_frame,
                         forecast_total=forecast_total, notes=tuple(notes), health=health,
                         managers=managers, forecast_selection=selection, plan_year=plan_year)


def _ancestors(roster: pd.DataFrame) -> pd.DataFrame:
    """Every (rep_id, manager_id) pair where the manager is above the rep, at any depth.

    One merge per level of the manager tree (a handful), never a loop over reps.
    """
    r = roster[["rep_id", "manager_id"]].astype("str")
    edges = r[r["manager_id"].notna() & (r["manager_id"] != "") & (r["manager_id"] != "<NA>")
              & (r["manager_id"] != "nan")].drop_duplicates()
    pairs = edges.rename(columns={"manager_id": "ancestor"})
    frontier = pairs
    for _ in range(len(edges)):  # bounded by the depth of the tree
        up = frontier.merge(edges, left_on="ancestor", right_on="rep_id",
                            suffixes=("", "_up"))[["rep_id", "manager_id"]]
        up = up.rename(columns={"manager_id": "ancestor"})
        up = up.merge(pairs, how="left", indicator=True)
        up = up.loc[up["_merge"] == "left_only", ["rep_id", "ancestor"]]
        if up.empty:
            break
        pairs = pd.concat([pairs, up], ignore_index=True)
        frontier = up
    return pairs.reset_index(drop=True)


def _rollup_quotas(quotas: pd.DataFrame, annual: pd.DataFrame, roster: pd.DataFrame | None,
                   regions: pd.Series, notes: list[str]
                   ) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]:
    """Add each manager's roll-up quota: the sum of the quotas below them, per period."""
    if roster is None or "manager_id" not in roster:
        raise InputError("roster: a roll-up quota needs a roster with manager_id")
    pairs = _ancestors(roster)
    if pairs.empty:
        notes.append("roll-up: the roster names no managers")
        return quotas, annual, ()
    below = quotas.merge(pairs, on="rep_id")
    team = (below.groupby(["ancestor", "period_index"], as_index=False)
            .agg(period_start=("period_start", "first"), quota_cents=("quota_cents", "sum"),
                 full_quota_cents=("full_quota_cents", "sum"), size=("rep_id", "nunique"))
            .rename(columns={"ancestor": "rep_id"}))
    own = quotas.set_index(["rep_id", "period_index"])
    key = pd.MultiIndex.from_frame(team[["rep_id", "period_index"]])
    team["quota_cents"] = (team["quota_cents"]
                           + own["quota_cents"].reindex(key).fillna(0).to_numpy(np.int64))
    team["full_quota_cents"] = (team["full_quota_cents"]
                                + own["full_quota_cents"].reindex(key).fillna(0)
                                .to_numpy(np.int64))
    team["reason"] = ("roll-up: the sum of the quotas of the " + team["size"].astype("str")
                      + " people below (credit: rollup)")
    managers = tuple(sorted(team["rep_id"].unique().tolist()))
    kept = quotas[~quotas["rep_id"].isin(list(managers))]
    quotas = (pd.concat([kept, team[list(quotas.columns)]], ignore_index=True)
              .sort_values(["rep_id", "period_index"], kind="stable").reset_index(drop=True))
    per_rep = team.groupby("rep_id")["quota_cents"].sum()
    hist = below.drop_duplicates("rep_id").merge(
        annual[["rep_id", "history_cents"]], on="rep_id").groupby("ancestor")["history_cents"].sum()
    extra = pd.DataFrame({
        "rep_id": list(managers),
        "region": regions.reindex(list(managers)).fillna("(none)").to_numpy()
        if len(regions) else "(none)",
        "history_cents": hist.reindex(list(managers)).fillna(0).to_numpy(np.int64),
        "potential": np.nan,
        "annual_cents": per_rep.reindex(list(managers)).to_numpy(np.int64),
        "quota_cents": per_rep.reindex(list(managers)).to_numpy(np.int64),
        "reason": "roll-up: the sum of the quotas below (credit: rollup)",
    })
    if roster is not None and "region" in roster:
        reg = roster.set_index(roster["rep_id"].astype("str"))["region"]
        extra["region"] = reg.reindex(list(managers)).fillna("(none)").astype("str").to_numpy()
    annual = pd.concat([annual[~annual["rep_id"].isin(list(managers))], extra],
                       ignore_index=True)
    notes.append(f"roll-up: {len(managers)} manager(s) get the sum of their team's quotas "
                 "(not counted again in the total)")
    return quotas, annual, managers


def _regional_forecast_quotas(deals: pd.DataFrame, history: pd.Series, regions: pd.Series,
                              potential: pd.Series | None, weight: object, floor: object,
                              year_start: pd.Timestamp, seasonal: str | None, alpha: float,
                              draws: int, seed: int, notes: list[str]) -> tuple[pd.DataFrame, int]:
    """Forecast each region and split its forecast among its reps (one fit per region)."""
    monthly = monthly_sales(deals, end=year_start, by=regions)
    parts = []
    total = 0
    for region in sorted(regions.unique()):  # a loop over regions (a handful), not reps
        members = regions.index[(regions == region).to_numpy()]
        if region not in monthly:
            raise InputError(f"history: region {region!r} has no sales to forecast")
        result = select_forecast(monthly[region], name=region)
        if result.note:
            notes.append(f"forecast {region}: {result.note}")
        target = int(round(result.plan_year(year_start, level=1 - alpha, draws=draws,
                                            seed=seed).mean))
        target = max(target, 0)
        total += target
        part = share_quotas(target, history.reindex(members), potential=potential,
                            weight=weight, floor=floor)
        part["reason"] = part["reason"].str.replace(" target", f" {region} forecast target", n=1)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    order = pd.Index(table["rep_id"]).get_indexer(history.index)
    return table.iloc[order].reset_index(drop=True), total


def write_quotas(quotas: pd.DataFrame, path: str | Path) -> Path:
    """Write period quotas in the engine's format, atomically.

    Parameters
    ----------
    quotas : DataFrame
        ``rep_id``, ``period_start`` datetime64, ``quota_cents`` int64.
    path : str or Path
        ``.csv`` or ``.parquet``.

    Writes ``rep_id, period_start`` (YYYY-MM-DD), ``quota`` (two-decimal string).

    Returns
    -------
    Path written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError(f"{path}: the quotas file must end in .csv or .parquet")
    out = pd.DataFrame({
        "rep_id": quotas["rep_id"].astype("str").to_numpy(),
        "period_start": pd.to_datetime(quotas["period_start"]).dt.strftime("%Y-%m-%d"),
        "quota": format_cents(quotas["quota_cents"].to_numpy(np.int64)).to_numpy(),
    })
    with atomic_file(path) as tmp:
        if suffix == ".csv":
            out.to_csv(tmp, index=False, lineterminator="\n")
        else:
            out.to_parquet(tmp, index=False)
    return path




def propose_from_files(history: str | Path, *, roster: str | Path | None = None,
                       fx: str | Path | None = None, **settings: Any) -> QuotaProposal:
    """Load the history (and roster, fx) files and run :func:`propose_quotas`.

    The roster's optional ``potential`` column is read with :func:`load_potential`.
    ``settings`` are :func:`propose_quotas` keywords; ``target`` (currency units, a string
    or number) may be given instead of ``target_cents``.
    """
    from spmkit.tables import load_deals, load_fx, load_roster

    if settings.get("target") is not None:
        settings["target_cents"] = parse_amount(settings.pop("target"))
    settings.pop("target", None)
    deals = load_deals(history)
    roster_frame = load_roster(roster) if roster else None
    potential = load_potential(roster) if roster else None
    fx_frame = load_fx(fx) if fx else None
    return propose_quotas(deals, roster=roster_frame, potential=potential, fx=fx_frame,
                          **settings)
