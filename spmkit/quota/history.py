"""Sales history for quota setting: credited sales per rep, per month and per period.

Credit here is *owner credit*: each deal credits its ``rep_id`` on ``close_date``; a deal
with a ``cancel_date`` gives a reversing line on that date (as the engine's clawback does).
Splits and roll-ups are not applied: quotas are set on what each rep sold.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from spmkit.errors import InputError

__all__ = ["to_plan_currency", "credit_lines", "rep_history", "monthly_sales", "history_coverage",
           "plan_year_start", "rep_regions", "history_window"]


def plan_year_start(year: int, start_month: int = 1) -> pd.Timestamp:
    """The first day of the plan year named ``year`` (the calendar year in which it starts)."""
    if not 1 <= int(start_month) <= 12:
        raise InputError(f"settings: start month {start_month} is not a month (1-12)")
    return pd.Timestamp(date(int(year), int(start_month), 1))


def history_window(year_start: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of the twelve months before the plan year."""
    start = year_start - pd.DateOffset(years=1)
    return pd.Timestamp(start), pd.Timestamp(year_start - pd.Timedelta(days=1))


def credit_lines(deals: pd.DataFrame) -> pd.DataFrame:
    """Owner credit lines from deals, with cancellations reversed on their cancel date.

    The engine's own crediting (:func:`spmkit.crediting.credit_deals`) without splits,
    currency conversion or roll-ups: convert first with :func:`to_plan_currency`.

    Parameters
    ----------
    deals : DataFrame
        As from :func:`spmkit.tables.load_deals`.

    Returns
    -------
    DataFrame with ``rep_id`` str, ``credit_date`` datetime64, ``amount_cents`` int64,
    ``region`` str/NA.
    """
    from spmkit.crediting import credit_deals

    lines = credit_deals(deals, currency=None)
    return lines[["rep_id", "credit_date", "amount_cents", "region"]].astype(
        {"rep_id": "str", "region": "str"})


def to_plan_currency(deals: pd.DataFrame, fx: pd.DataFrame | None, currency: str
                     ) -> pd.DataFrame:
    """Deals with ``amount_cents`` in the plan currency (fx plan rates, rounded once per deal
    half away from zero, as the engine does) and ``currency`` set to it.

    Raises
    ------
    InputError
        A deal's currency has no fx rate.
    """
    from spmkit.crediting import convert_currency

    if "currency" not in deals:
        return deals
    amounts, _ = convert_currency(deals, fx, currency)
    return deals.assign(amount_cents=amounts, currency=currency)


def _window(lines: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    d = lines["credit_date"]
    return lines[((d >= start) & (d <= end)).to_numpy()]


def rep_history(deals: pd.DataFrame, year_start: pd.Timestamp,
                rep_ids: pd.Index | None = None) -> pd.Series:
    """Each rep's credited sales in the twelve months before the plan year, in cents.

    Parameters
    ----------
    deals : DataFrame
        As from :func:`spmkit.tables.load_deals`.
    year_start : Timestamp
        First day of the plan year being set.
    rep_ids : Index, optional
        The reps to report (0 for those with no credit); default every rep with credit.

    Returns
    -------
    Series of int64 cents indexed by ``rep_id``.
    """
    start, end = history_window(year_start)
    lines = _window(credit_lines(deals), start, end)
    totals = lines.groupby("rep_id", sort=True)["amount_cents"].sum().astype(np.int64)
    if rep_ids is not None:
        totals = totals.reindex(pd.Index(rep_ids, dtype="str", name="rep_id"), fill_value=0)
    totals.index.name = "rep_id"
    return totals.astype(np.int64).rename("history_cents")


def monthly_sales(deals: pd.DataFrame, *, end: pd.Timestamp, by: pd.Series | None = None,
                  ) -> pd.DataFrame:
    """Credited sales per calendar month up to ``end`` (exclusive), in cents.

    Parameters
    ----------
    deals : DataFrame
        As from :func:`spmkit.tables.load_deals`.
    end : Timestamp
        First day of the first month *not* included (the plan year start).
    by : Series, optional
        A group (e.g. region) per rep, indexed by ``rep_id``; default the company.

    Returns
    -------
    DataFrame indexed by month start (datetime64, every month from the first month with a
    sale to the month before ``end``), one int64-cents column per group (``company`` when
    ``by`` is None).
    """
    lines = credit_lines(deals)
    lines = lines[(lines["credit_date"] < end).to_numpy()]
    if lines.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="month"))
    month = lines["credit_date"].dt.to_period("M").dt.to_timestamp()
    group = (lines["rep_id"].map(by).fillna("(none)").astype("str") if by is not None
             else pd.Series("company", index=lines.index, dtype="str"))
    table = (lines.assign(month=month.to_numpy(), group=group.to_numpy())
             .groupby(["month", "group"])["amount_cents"].sum().unstack("group", fill_value=0))
    months = pd.date_range(table.index.min(), end - pd.DateOffset(months=1), freq="MS",
                           name="month")
    table = table.reindex(months, fill_value=0).astype(np.int64)
    table.columns = pd.Index(table.columns.astype("str"), name=None)
    return table


def rep_regions(deals: pd.DataFrame, roster: pd.DataFrame | None,
                rep_ids: pd.Index) -> pd.Series:
    """Each rep's region: the roster's, else the region of most of their deals, else ``(none)``.

    Returns a ``str`` Series indexed by ``rep_id``.
    """
    idx = pd.Index(rep_ids, dtype="str", name="rep_id")
    if roster is not None and "region" in roster:
        region = roster.set_index(roster["rep_id"].astype("str"))["region"]
        out = region.reindex(idx)
    elif "region" in deals and deals["region"].notna().any():
        known = deals[deals["region"].notna()]
        counts = known.groupby(["rep_id", "region"]).size().rename("n").reset_index()
        counts = counts.sort_values(["rep_id", "n", "region"], ascending=[True, False, True])
        out = counts.drop_duplicates("rep_id").set_index("rep_id")["region"].reindex(idx)
    else:
        out = pd.Series(pd.NA, index=idx, dtype="str")
    return out.fillna("(none)").astype("str").rename("region")


def history_coverage(deals: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> dict:
    """How much of the history window ``start .. end`` the deals cover
    (:func:`spmkit.checks.deal_coverage`: ``first``, ``last``, ``months``,
    ``window_months``)."""
    from spmkit.checks import deal_coverage

    return deal_coverage(deals, start, end)
