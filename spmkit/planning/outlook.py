"""The year as it happens: where attainment and payouts are heading at an as-of date.

At an as-of date inside the plan year, :func:`project_outlook` simulates each payee's rest
of the year many times (vectorized over draws, seeded) and runs the plan's own earners
(:func:`spmkit.payout.earn`, float mode) on every simulated year, so caps, thresholds,
accelerators, true-ups and draws are the engine's.  A simulated year is

- the credit closed so far: the engine's grid on the deals closed by the as-of date, as
  ``spmkit calc`` would measure it;
- the open pipeline: each opportunity open on the as-of date wins with its calibrated
  probability (the history's win rate for opportunities that were still open at its age,
  combined with its stage's win rate when the stage is known) and closes after a cycle
  drawn from the history's won cycles at least as long as its age;
- run-rate for what is not yet in the pipeline: each payee's number of credit lines is
  Poisson with a gamma-distributed rate (the payee's own pace so far, shrunk toward the
  team's), scaled by the share of last year's rest-of-year lines that came from
  opportunities created after the same date (all of them without an opportunities
  table) and by the payee's ramp (a hire's pace so far, seen through the ramp of its
  months employed, carried to the months left at theirs; the linear ramp's length fitted
  on the history's hires); the team's pace, itself an estimate, is drawn per simulated
  year; amounts are drawn from the payee's credit lines of the last twelve months beside
  the team's (worth a number of lines estimated by empirical Bayes), each simulated year
  scaling a payee's amounts by a factor for the uncertainty of its mean deal size (and the
  team's), dates from last year's rest-of-year lines one year on.  Lines outside a
  payee's employment are dropped.

Simulated credit is added to the grid's credit; each component measure grows by the
payee's ratio of that measure to credit so far (1 for the usual plan on all credit).
Draws are stacked on the payee axis (draw x payee), so every earner runs once.

:class:`Outlook` holds the distribution of each payee's year-end attainment and payout,
the total (the accrual, with P10/P50/P90), the reps at risk of missing the threshold and
those likely to hit a cap, the history's win rates and cycle times, and pipeline coverage
of each rep's remaining quota.  With ``plan_b`` and a switch date it also compares
"keep the plan" with "switch to plan B" on the same simulated years: the second-half
cost and each rep's change.

Money is int64 cents; simulated figures are float cents rounded once per payout line by
the engine and once more to whole cents per draw.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spmkit.errors import InputError, Problem, SpmkitError
from spmkit.grid import EXACT, FAST, Grid, cap_cents
from spmkit.money import checked_group_sum, sum_cents
from spmkit.plan import Plan
from spmkit.tables import Inputs

__all__ = ["Outlook", "backtest_outlook", "cycle_times", "open_pipeline",
           "outlook_from_files", "plot_outlook", "project_outlook", "win_rates_by_age",
           "win_rates_by_stage"]

#: Ages (days open) at which the win-rate table is shown.
AGE_EDGES = (0, 15, 30, 60, 90, 180, 365)
#: Pseudo-counts shrinking a win rate with few observations toward the overall rate.
SHRINK = 10.0
#: Weight (in year-to-date windows) of the team's pace in each payee's run-rate, when
#: there are too few reps to estimate it.
PRIOR_WEIGHT = 0.5
#: Pseudo-count of the team's deal amounts beside a rep's own when fewer than three reps
#: have two lines or more to estimate it from (otherwise empirical Bayes, in
#: ``_run_rate``).
AMOUNT_PSEUDO = 30.0


# --------------------------------------------------------------------------- history


def _day(value: Any, what: str = "as_of") -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(date.fromisoformat(value.strip()[:10]) if isinstance(value, str)
                             else value)
    except (ValueError, TypeError):
        raise InputError(f"settings: {what} {value!r} is not a date (YYYY-MM-DD)") from None
    if pd.isna(stamp):
        raise InputError(f"settings: {what} is missing")
    return stamp.normalize()


def _closed_by(opps: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Opportunities with an outcome on or before ``as_of``: ``won`` (bool), ``days``
    (created to outcome)."""
    won = opps["won_date"].notna() & (opps["won_date"] <= as_of)
    lost = opps["lost_date"].notna() & (opps["lost_date"] <= as_of)
    closed = opps.loc[won | lost]
    outcome = closed["won_date"].where(won[won | lost], closed["lost_date"])
    days = (outcome - closed["created_date"]).dt.days.to_numpy(np.int64)
    return pd.DataFrame({"stage": closed["stage"].to_numpy(), "won": won[won | lost].to_numpy(),
                         "days": days, "created_date": closed["created_date"].to_numpy()})


def _history(opps: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Closed opportunities used for rates: those created at least a year before ``as_of``
    (nearly all have an outcome by then, so long cycles are not under-counted), or all
    closed ones when fewer than 100 are that old."""
    closed = _closed_by(opps, as_of)
    old = closed[closed["created_date"] <= as_of - pd.Timedelta(days=365)]
    return old if len(old) >= 100 else closed


def _open_rate(history: pd.DataFrame, ages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(win | still open at each age), shrunk toward the overall rate; and the number of
    historical opportunities behind each estimate."""
    days = np.sort(history["days"].to_numpy())
    won_days = np.sort(history.loc[history["won"], "days"].to_numpy())
    overall = float(history["won"].mean()) if len(history) else 0.0
    n = len(days) - np.searchsorted(days, ages, side="right")
    w = len(won_days) - np.searchsorted(won_days, ages, side="right")
    return (w + SHRINK * overall) / (n + SHRINK), n


def win_rates_by_age(opps: pd.DataFrame, as_of: Any) -> pd.DataFrame:
    """Win rate of opportunities still open at each age, from the history before ``as_of``.

    Parameters
    ----------
    opps : DataFrame
        :func:`spmkit.planning.opportunities.load_opportunities` output.
    as_of : date

    Returns
    -------
    DataFrame
        ``age_days`` (int: the ages of :data:`AGE_EDGES`), ``open_at_age`` (int: closed
        opportunities of the history that were still open at that age), ``won`` (int),
        ``win_rate`` (float, shrunk toward the overall rate with :data:`SHRINK`
        pseudo-counts; NaN without history).
    """
    hist = _history(opps, _day(as_of))
    ages = np.array(AGE_EDGES, dtype=np.int64)
    if not len(hist):
        return pd.DataFrame({"age_days": ages, "open_at_age": 0, "won": 0, "win_rate": np.nan})
    rate, n = _open_rate(hist, ages - 1)
    won_days = np.sort(hist.loc[hist["won"], "days"].to_numpy())
    won = len(won_days) - np.searchsorted(won_days, ages - 1, side="right")
    return pd.DataFrame({"age_days": ages, "open_at_age": n.astype(np.int64),
                         "won": won.astype(np.int64), "win_rate": rate})


def _stage_order(opps: pd.DataFrame, stages: tuple[str, ...] | None) -> list[str]:
    known = pd.unique(opps["stage"].dropna().astype("str"))
    if stages is not None:
        return [s for s in stages if s in set(known)]
    from spmkit.planning.opportunities import OPEN_STAGES

    if set(known) <= set(OPEN_STAGES):
        return [s for s in OPEN_STAGES if s in set(known)]
    # an unknown process: stages in order of the share of their closed rows that were won
    hist = _closed_by(opps, opps["created_date"].max() + pd.Timedelta(days=10_000))
    share = hist.groupby("stage")["won"].mean().sort_values(kind="stable")
    return [str(s) for s in share.index]


def win_rates_by_stage(opps: pd.DataFrame, as_of: Any,
                       stages: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Win rate of opportunities that reached each stage, from the history before ``as_of``.

    A closed opportunity's ``stage`` is the stage it closed from, so it reached that stage
    and every earlier one; a won opportunity reached them all.

    Parameters
    ----------
    opps : DataFrame
        :func:`spmkit.planning.opportunities.load_opportunities` output.
    as_of : date
    stages : tuple of str, optional
        The open stages in order; default: the sample's stages when the table uses them,
        else the stages in order of their closed rows' share won.

    Returns
    -------
    DataFrame
        ``stage`` (str), ``reached`` (int), ``won`` (int), ``win_rate`` (float).
    """
    order = _stage_order(opps, stages)
    hist = _history(opps, _day(as_of))
    pos = pd.Series(range(len(order)), index=order)
    at = pos.reindex(hist["stage"].astype("str")).to_numpy(np.float64)
    at = np.where(hist["won"].to_numpy(), len(order) - 1, at)
    ok = ~np.isnan(at)
    at, won = at[ok].astype(np.int64), hist["won"].to_numpy()[ok]
    # opportunities that reached each stage or beyond, and the won ones among them
    reached = np.bincount(at, minlength=len(order))[::-1].cumsum()[::-1]
    wins = np.bincount(at[won], minlength=len(order))[::-1].cumsum()[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(reached > 0, wins / np.maximum(reached, 1), np.nan)
    return pd.DataFrame({"stage": pd.Series(order, dtype="str"), "reached": reached,
                         "won": wins, "win_rate": rate})


def cycle_times(opps: pd.DataFrame, as_of: Any) -> pd.DataFrame:
    """Days from creation to outcome of the history's won and lost opportunities.

    Returns
    -------
    DataFrame
        ``outcome`` (``won``/``lost``), ``count``, ``p10_days``, ``median_days``,
        ``p90_days`` (float; NaN when there are none).
    """
    hist = _history(opps, _day(as_of))
    rows = []
    for outcome, flag in (("won", True), ("lost", False)):  # two rows
        d = hist.loc[hist["won"] == flag, "days"].to_numpy(np.float64)
        q = np.percentile(d, [10, 50, 90]) if len(d) else np.full(3, np.nan)
        rows.append({"outcome": outcome, "count": len(d), "p10_days": q[0],
                     "median_days": q[1], "p90_days": q[2]})
    return pd.DataFrame(rows)


def open_pipeline(opps: pd.DataFrame, as_of: Any) -> pd.DataFrame:
    """The opportunities open on ``as_of``: created by then, with no outcome by then.

    The stage of one that closed after ``as_of`` is the stage it closed from -- not known
    on ``as_of`` -- so it is blanked (a projection from a past date sees only what was
    known then).

    Returns
    -------
    DataFrame
        The rows of ``opps`` open on ``as_of``, with ``age_days`` (int).
    """
    day = _day(as_of)
    won_later = opps["won_date"].notna() & (opps["won_date"] > day)
    lost_later = opps["lost_date"].notna() & (opps["lost_date"] > day)
    still = opps["won_date"].isna() & opps["lost_date"].isna()
    is_open = (opps["created_date"] <= day) & (still | won_later | lost_later)
    out = opps.loc[is_open].copy()
    out["stage"] = out["stage"].mask((won_later | lost_later)[is_open])
    out["age_days"] = (day - out["created_date"]).dt.days.astype(np.int64)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class Outlook:
    """What :func:`project_outlook` returns.

    ``reps``: one row per payee: ``rep_id, quota_cents, credit_to_date_cents,
    remaining_quota_cents, pipeline_cents, weighted_pipeline_cents, coverage`` (open
    pipeline over remaining quota), ``attainment_p10/p50/p90`` (year-end),
    ``payout_p10/p50/p90_cents`` (year), ``p_below_threshold``, ``p_cap`` (NaN without a
    cap), ``at_risk`` and ``likely_cap`` (bool, probability >= 0.5).
    ``totals``: the accrual (``payout_p10/p50/p90/mean_cents``, the 90% interval
    ``payout_p5/p95_cents``), ``paid_to_date_cents``, credit so far and projected.
    ``draws``: per draw ``draw, total_payout_cents, credit_cents``.
    ``switch`` / ``switch_totals``: the plan B comparison (None without plan B).
    """

    settings: dict[str, Any]
    reps: pd.DataFrame
    totals: dict[str, Any]
    draws: pd.DataFrame
    win_rates: pd.DataFrame
    stage_rates: pd.DataFrame
    cycle_times: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    switch: pd.DataFrame | None = None
    switch_totals: dict[str, Any] | None = None

    def metrics(self) -> dict[str, Any]:
        """Headline figures for the sidecar (no rep-level pay)."""
        out: dict[str, Any] = {"totals": dict(self.totals),
                               "reps": int(len(self.reps)),
                               "at_risk": int(self.reps["at_risk"].sum()),
                               "likely_cap": int(self.reps["likely_cap"].sum()),
                               "notes": list(self.notes)}
        if self.switch_totals is not None:
            out["switch"] = dict(self.switch_totals)
        return out


# --------------------------------------------------------------------------- simulation


def _pct(values: np.ndarray, q: list[float], axis: int = 0) -> np.ndarray:
    p = np.percentile(values, q, axis=axis)
    return (np.sign(p) * np.floor(np.abs(p) + 0.5)).astype(np.int64)


def _fx_amounts(opps: pd.DataFrame, inputs: Inputs, currency: str) -> np.ndarray:
    from spmkit.crediting import convert_currency

    frame = pd.DataFrame({"deal_id": opps["deal_id"], "amount_cents": opps["amount_cents"],
                          "currency": opps["currency"]})
    return convert_currency(frame, inputs.fx, currency, source="opportunities")[0]


def _employment(roster: pd.DataFrame | None, reps: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """First and last employed day of each payee (datetime64[D]; open ends far away)."""
    lo = np.full(len(reps), np.datetime64("1900-01-01"), dtype="datetime64[D]")
    hi = np.full(len(reps), np.datetime64("2999-12-31"), dtype="datetime64[D]")
    if roster is None:
        return lo, hi
    info = roster.drop_duplicates("rep_id", keep="last").set_index("rep_id").reindex(reps)
    hire = info["hire_date"].to_numpy("datetime64[D]")
    term = info["term_date"].to_numpy("datetime64[D]")
    return np.where(np.isnat(hire), lo, hire), np.where(np.isnat(term), hi, term)


def _booked(lines: pd.DataFrame) -> np.ndarray:
    """Credit lines of bookings: not the cash collected on them (payments table)."""
    return ~lines["rule"].astype("str").str.startswith("collection").to_numpy(bool)


@dataclass
class _Sim:
    """Simulated future credit lines: draw, payee row, date (datetime64[D]), cents."""

    draw: np.ndarray
    rep: np.ndarray
    day: np.ndarray
    cents: np.ndarray


#: Longest ramp (months of tenure to full pace) fitted from history; tenure of a veteran.
MAX_RAMP = 24


def _ramp_curve(tenure: np.ndarray, ramp_months: np.ndarray | int) -> np.ndarray:
    """Linear ramp: the share of full pace in each month of tenure (0: the hire month)."""
    m = np.asarray(ramp_months, dtype=np.float64)
    return np.where(m > 0, np.clip((tenure + 0.5) / np.maximum(m, 1), 0.02, 1.0), 1.0)


def _ramp_factors(code: np.ndarray, day: np.ndarray, sale: np.ndarray,
                  employed: tuple[np.ndarray, np.ndarray], a0: np.datetime64,
                  a1: np.datetime64, y_end: np.datetime64, r: int,
                  notes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Each payee's mean ramp over the months employed so far this year, over the months
    left and over the year (1 for a veteran); and the fitted ``M``.

    The ramp is linear in months of tenure, ``min(1, (tenure + 0.5) / M)``; ``M`` (0: no
    ramp) is fitted by likelihood on the history's complete months: how the sale lines of
    each rep in its first :data:`MAX_RAMP` months of tenure spread over those months
    (multinomial given the rep's own total, so its level is its own), each month weighted by
    the veterans' average that month (tenure of :data:`MAX_RAMP` months or more).
    """
    hire, term = employed
    ones = np.ones(r)
    use = sale & (day <= a1) & (code >= 0)
    if not use.any():
        return ones, ones, ones, 0
    mon = day[use].astype("datetime64[M]")
    m0 = mon.min()
    last_full = (a1 + 1).astype("datetime64[M]")  # months before it are complete by as_of
    n_m = int((last_full - m0).astype(np.int64))
    if n_m < 2:
        return ones, ones, ones, 0
    c = np.zeros((r, n_m))
    ok = mon < last_full
    np.add.at(c, (code[use][ok], (mon[ok] - m0).astype(np.int64)), 1.0)
    cal = m0 + np.arange(n_m)
    h_m, t_m = hire.astype("datetime64[M]"), term.astype("datetime64[M]")
    tenure = (cal[None, :] - h_m[:, None]).astype(np.int64)
    whole = (tenure >= 1) & (cal[None, :] < t_m[:, None])  # employed the whole month
    vet = whole & (tenure >= MAX_RAMP)
    with np.errstate(invalid="ignore", divide="ignore"):
        level = (c * vet).sum(axis=0) / vet.sum(axis=0)
    new = whole & (tenure < MAX_RAMP) & (np.nan_to_num(level) > 0)[None, :]
    fitted = 0
    if new.sum() >= 12 and len(np.unique(np.nonzero(new)[0])) >= 2:
        rows, cols = np.nonzero(new)
        obs, base, ten = c[rows, cols], level[cols], tenure[rows, cols]
        grid_m = np.arange(MAX_RAMP + 1)
        mu = base[None, :] * _ramp_curve(ten[None, :], grid_m[:, None])
        # conditional on each hire's own total (its level is its own, not the veterans'):
        # the multinomial likelihood of how its lines spread over its months
        own = np.zeros((len(grid_m), r))
        np.add.at(own, (slice(None), rows), mu)
        loglik = (obs[None, :] * np.log(mu / own[:, rows])).sum(axis=1)
        fitted = int(grid_m[np.argmax(loglik)])
    if fitted == 0:
        return ones, ones, ones, 0
    notes.append(f"ramp: hires reach full pace after about {fitted} months (linear, fitted "
                 "on the history's hires against its veterans)")

    def mean_ramp(lo: np.datetime64, hi: np.datetime64) -> np.ndarray:
        span = np.arange(lo.astype("datetime64[M]"), hi.astype("datetime64[M]") + 1)
        ten = (span[None, :] - h_m[:, None]).astype(np.int64)
        on = (ten >= 0) & (span[None, :] <= t_m[:, None])
        ramp = _ramp_curve(ten, fitted)
        return np.where(on.any(axis=1), (ramp * on).sum(axis=1) / np.maximum(on.sum(axis=1), 1),
                        1.0)

    return mean_ramp(a0, a1), mean_ramp(a1 + 1, y_end), mean_ramp(a0, y_end), fitted


def _run_rate(lines: pd.DataFrame, reps: pd.Index, as_of: pd.Timestamp,
              year_start: pd.Timestamp, year_end: pd.Timestamp, new_share: tuple[int, int],
              employed: tuple[np.ndarray, np.ndarray], draws: int,
              rng: np.random.Generator, notes: list[str],
              quota_year: np.ndarray | None = None) -> _Sim:
    """Credit lines not yet in the pipeline, as a compound Poisson per payee."""
    r = len(reps)
    code = reps.get_indexer(lines["rep_id"])
    day = lines["credit_date"].to_numpy("datetime64[D]")
    cents = lines["amount_cents"].to_numpy(np.int64)
    sale = (cents > 0) & ~lines["clawback"].to_numpy(bool) & (code >= 0) & _booked(lines)
    a0, a1 = np.datetime64(year_start.date(), "D"), np.datetime64(as_of.date(), "D")
    y_end = np.datetime64(year_end.date(), "D")
    ytd = sale & (day >= a0) & (day <= a1)
    n0 = np.bincount(code[ytd], minlength=r).astype(np.float64)
    # exposure: the share of the year-to-date days each payee was employed
    hire, term = employed
    first, last = np.maximum(hire, a0), np.minimum(term, a1)
    days0 = (a1 - a0).astype(np.int64) + 1
    e0 = np.clip((last - first).astype(np.int64) + 1, 0, None) / days0
    full = e0 > 0.5
    # overdispersion: rep-months vary more than Poisson (a busy or a quiet month); the
    # excess is estimated on this year's rep-months and last year's (reps employed through
    # each) and carried to the months left
    def months(d: np.ndarray, start: np.datetime64) -> np.ndarray:
        return (d.astype("datetime64[M]") - start.astype("datetime64[M]")).astype(np.int64)

    months_in = int(months(np.array([a1]), a0)[0]) + 1
    p0 = np.datetime64((year_start - pd.DateOffset(years=1)).date(), "D")
    p1 = np.datetime64((as_of - pd.DateOffset(years=1)).date(), "D")
    pe = np.datetime64((year_end - pd.DateOffset(years=1)).date(), "D")
    top, bottom = 0.0, 0.0
    last_year = sale & (day >= p0) & (day <= pe)
    whole = (hire <= p0) & (term >= pe)
    for seg, who, lo, n_months in ((ytd, full, a0, months_in),  # two segments
                                   (last_year, whole, p0, 12)):
        m = months(day[seg], lo).clip(0, n_months - 1)
        if n_months < 2 or who.sum() < 3 or not seg.any():
            continue
        c = np.zeros((r, n_months))
        np.add.at(c, (code[seg], m), 1.0)
        c = c[who]
        e = c.sum(axis=1, keepdims=True) * (c.sum(axis=0, keepdims=True) / max(c.sum(), 1.0))
        # residuals around fitted rep totals and month shares lose those degrees of freedom
        dof = (1 - 1 / n_months) * (1 - 1 / len(c))
        top += float(((c - e) ** 2 / dof - e).sum())
        bottom += float((e**2).sum())
    excess = float(np.clip(top / bottom, 0.0, 5.0)) if bottom > 0 else 0.0
    # seasonality: last year's rest-of-year lines per year-to-date line
    # months are not equal: a busy December weighs more than a quiet August, so the sum of
    # overdispersed months varies as (sum w)^2 / sum w^2 months would (w: last year's team
    # lines by month; equal months without that history)
    by_month = np.bincount(months(day[last_year], p0).clip(0, 11), minlength=12).astype(
        np.float64) if last_year.any() else np.ones(12)

    def effective(w: np.ndarray, n: int) -> float:
        return float(w.sum() ** 2 / (w**2).sum()) if (w > 0).any() else float(max(n, 1))

    months_left = max(int(months(np.array([y_end]), a1)[0]), 1)
    eff_in = effective(by_month[:months_in], months_in)
    eff_left = effective(by_month[months_in:months_in + months_left], months_left)
    # ramp: a hire sells at a growing pace, so a rep's pace so far understates the months
    # left (below); last year's ratio is then taken on the reps it does not touch: employed
    # the whole year and ramped by its start (nor attrition, which employment handles)
    ramp_ytd, ramp_rest, ramp_year, ramp_m = _ramp_factors(code, day, sale, employed, a0, a1,
                                                           y_end, r, notes)
    steady = whole & (hire <= p0 - np.timedelta64(31 * ramp_m, "D"))
    prior_ytd = sale & (day >= p0) & (day <= p1)
    prior_rest = sale & (day > p1) & (day <= pe)
    on_steady = steady[np.where(code >= 0, code, 0)] & (code >= 0)
    if (prior_ytd & on_steady).sum() >= 20 and (prior_rest & on_steady).any():
        prior_ytd, prior_rest = prior_ytd & on_steady, prior_rest & on_steady
        whole = steady
    if prior_ytd.sum() >= 20 and prior_rest.any():
        # (the ratio is drawn below, once the monthly excess is calibrated)
        per_month = float((n0[full] ** 2).sum() / max(n0[full].sum(), 1.0)) / eff_in
        ratio_counts: tuple[int, int, float] | None = (int(prior_rest.sum()),
                                                       int(prior_ytd.sum()), per_month)
        pool_days = day[prior_rest] + np.timedelta64(365, "D")
        pool_days = np.where(pool_days > y_end, y_end, pool_days)
        pool_days = np.where(pool_days <= a1, a1 + 1, pool_days)
    else:
        ratio_counts = None
        season = np.full((draws, 1), ((y_end - a1).astype(np.int64)) / days0)
        pool_days = np.arange(a1 + 1, y_end + 1)
        notes.append("no history for last year's same months: run-rate is flat (no "
                     "seasonality)")
    # each payee's pace: gamma posterior around the team's pace per employed window
    team = n0[full].sum() / e0[full].sum() if full.any() and e0[full].sum() > 0 else (
        n0.sum() / max(e0.sum(), 1e-9))
    # the team's pace, scaled by the rep's quota per employed day against the team's
    # (quotas carry role, ramp and territory; without quotas every rep is the team)
    rel = np.ones(r)
    if quota_year is not None and (quota_year > 0).any():
        y0 = np.datetime64(year_start.date(), "D")
        year_days = (y_end - y0).astype(np.int64) + 1
        days_y = np.clip((np.minimum(term, y_end) - np.maximum(hire, y0)).astype(np.int64) + 1,
                         1, None)
        per_day = quota_year / days_y * year_days
        ref = np.median(per_day[full & (quota_year > 0)]) if (full & (quota_year > 0)).any() \
            else np.median(per_day[quota_year > 0])
        rel = np.where(quota_year > 0, np.clip(per_day / ref, 0.1, 3.0), 1.0)
    # how much of a rep's pace so far is the rep (empirical Bayes): the spread of the reps'
    # paces around the team's, less what Poisson and the monthly excess alone would give
    weight = PRIOR_WEIGHT
    expected = team * rel * e0
    ok = full & (expected > 0)
    if ok.sum() >= 3:
        ratio = n0[ok] / expected[ok]
        noise = float(np.mean(1.0 / expected[ok])) + excess / eff_in
        between = max(float(np.var(ratio)) - noise, 0.01)
        weight = float(np.clip(noise / between, 0.05, 20.0))
        # the team's pace is itself an estimate, the mean of these reps' paces: drawn per
        # draw from its sampling distribution (relative variance var(ratio) / n, the
        # hyper-mean's posterior under a flat prior) and shared by every rep, so the reps'
        # paces, each shrunk toward it, do not all lean on one fixed figure
        se2 = float(np.var(ratio, ddof=1)) / int(ok.sum())
        if se2 > 0:
            team = team * rng.gamma(1.0 / se2, se2, (draws, 1))
    # with overdispersed counts a rep's count so far says less about its rate than Poisson
    # would: the same posterior mean, its variance widened by the same factor as above
    # (each rep's own: a busy rep's months vary more in count, by excess x its count)
    widen = 1.0 + excess * n0 / np.maximum(eff_in * e0, 1.0)
    # theta is the full pace, seen so far through the ramp of the months employed
    if quota_year is not None and (quota_year > 0).any():
        # a quota ramps too: the team's pace scaled by it is the year's average pace
        rel = np.clip(rel / ramp_year, 0.1, 3.0)
    # (the count so far counts as n0 / widen lines in e0 / widen windows; the team's prior
    # keeps its own spread, the reps' spread of pace)
    shape = weight * team * rel + n0 / widen
    scale = 1.0 / (weight + e0 * ramp_ytd / widen)
    theta = rng.gamma(np.broadcast_to(np.maximum(shape, 1e-9), (draws, r)),
                      np.broadcast_to(scale, (draws, r))) * ramp_rest
    # calibration on last year: how far each rep's rest-of-year count fell from what its
    # year-to-date count predicted; when further than this model allows, the rate's
    # month-to-month excess is raised to match
    h1 = np.bincount(code[prior_ytd], minlength=r)[whole].astype(np.float64)
    h2 = np.bincount(code[prior_rest], minlength=r)[whole].astype(np.float64)
    if len(h1) >= 3 and h1.sum() > 0:
        mean_h1 = h1.mean()
        pred = h2.sum() / h1.sum() * (weight * mean_h1 + h1) / (weight + 1.0)
        posterior = (1.0 + excess * h1 / eff_in) / np.maximum(weight * mean_h1 + h1, 1e-9)
        seen = float(np.mean((h2 - pred) ** 2 - pred))
        allowed = float(np.mean(pred**2 * (excess / eff_left + posterior)))
        if seen > allowed and np.mean(pred**2) > 0:
            excess += eff_left * (seen - allowed) / float(np.mean(pred**2))
            excess = min(excess, 5.0)
    if ratio_counts is not None:
        # last year's ratio is an estimate shared by every rep: drawn from its posterior
        # per draw; its counts vary more than Poisson by the monthly excess as calibrated
        # above (the same months, the same reps' kind of counts): fewer effective counts
        # (the team's count varies by the sum over reps of their squared counts)
        rest, before, per_month = ratio_counts
        inflate = 1.0 + excess * per_month
        if len(h1) >= 3 and h1.sum() > 0 and h2.sum() > 0:
            # or, when larger, as the reps' own scatter says (the ratio estimator's
            # variance clustered by rep: whatever makes one rep's second half differ from
            # its first, not only monthly noise)
            e = h2 - h2.sum() / h1.sum() * h1
            robust = float(e @ e) * len(h1) / (len(h1) - 1) / h2.sum() ** 2
            inflate = max(inflate, robust / (1.0 / rest + 1.0 / before))
        season = (rng.gamma(rest / inflate + 0.5, 1.0, draws)
                  / rng.gamma(before / inflate + 0.5, 1.0, draws) * (rest / before)
                  / ((rest / inflate + 0.5) / (before / inflate + 0.5)))[:, None]
    new, seen = new_share
    rate = season * (rng.beta(new + 1.0, seen - new + 1.0, draws)[:, None] if seen else 1.0)
    if excess > 0:
        k = eff_left / excess
        theta = theta * rng.gamma(k, 1.0 / k, (draws, r))
    counts = rng.poisson(theta * rate)
    flat = np.repeat(np.arange(draws * r), counts.ravel())
    d_of, r_of = np.divmod(flat, r)
    # amounts: the payee's own sale lines of the last twelve months (the team's when few)
    recent = sale & (day > a1 - np.timedelta64(365, "D")) & (day <= a1)
    own = np.bincount(code[recent], minlength=r)
    order = np.argsort(code[recent], kind="stable")
    pool = cents[recent][order]
    start = np.concatenate([[0], np.cumsum(own)[:-1]])
    if not len(pool):
        pool = cents[sale] if sale.any() else np.zeros(1, np.int64)
        own, start = np.zeros(r, np.int64), np.zeros(r, np.int64)
        notes.append("no credit lines in the last twelve months: run-rate amounts come "
                     "from all history")
    # a rep's own amounts count as much as they are many, beside the team's worth
    # ``pseudo`` lines (empirical Bayes on log amounts: the spread within reps over the
    # spread of the reps' means beyond what their own lines' noise explains; the reps of a
    # team differ in role and deal size, so the team's lines say little about one rep's)
    logs = np.log(pool[pool > 0]) if (pool > 0).any() else np.zeros(1)
    pseudo, s2 = AMOUNT_PSEUDO, 0.0
    if own.sum() > (own > 0).sum():
        mine = np.log(np.maximum(pool[: own.sum()], 1))
        who = np.repeat(np.arange(r), own)
        means = np.bincount(who, weights=mine, minlength=r) / np.maximum(own, 1)
        s2 = float(((mine - means[who]) ** 2).sum() / (own.sum() - (own > 0).sum()))
        many = own >= 2
        if many.sum() >= 3:
            tau2 = float(np.var(means[many], ddof=1) - np.mean(s2 / own[many]))
            pseudo = float(np.clip(s2 / max(tau2, 1e-6), 1.0, 1e4))
            notes.append(f"run-rate amounts: a rep's own lines of the last twelve months "
                         f"beside the team's worth {pseudo:.1f} lines (empirical Bayes)")
    use_own = rng.random(len(flat)) < own[r_of] / (own[r_of] + pseudo)
    u = rng.random(len(flat))
    pick = np.where(use_own, start[r_of] + (u * own[r_of]).astype(np.int64),
                    (u * len(pool)).astype(np.int64))
    amount = pool[np.minimum(pick, len(pool) - 1)]
    # the mean deal size is an estimate too, and a bootstrap that reuses the same lines in
    # every draw takes it as known: each draw scales a rep's amounts by a factor of mean 1
    # and the posterior relative variance of the rep's mean, c^2 / (own + pseudo) (a
    # normal mean from the rep's own lines with the team's as its prior; c^2 = exp(s^2) - 1,
    # s^2 the variance of log amounts within reps), and the lines drawn from the team's
    # pool by the team mean's, var(pool) / mean(pool)^2 / len(pool), shared by every rep
    factor = np.ones(len(amount))
    if len(amount) and s2 > 0:
        cv2 = np.expm1(s2) / (own + pseudo)
        factor = rng.gamma(1.0 / cv2, cv2, (draws, r))[d_of, r_of]
        pool_cv2 = float(np.var(pool) / max(float(np.mean(pool)) ** 2, 1.0) / len(pool))
        if pool_cv2 > 0:
            factor = factor * np.where(use_own, 1.0, rng.gamma(1.0 / pool_cv2, pool_cv2,
                                                                draws)[d_of])
    # a smoothed bootstrap (lognormal kernel, Silverman's bandwidth on log amounts): deals
    # larger or smaller than any seen so far remain possible
    width = 1.06 * float(np.std(logs)) * max(len(logs), 1) ** -0.2
    if width > 0 and len(amount):
        factor = factor * rng.lognormal(-width**2 / 2, width, len(amount))
    amount = np.rint(amount * factor).astype(np.int64)
    when = pool_days[rng.integers(0, len(pool_days), len(flat))]
    return _Sim(d_of, r_of, when, amount)


def _calibration(opps: pd.DataFrame, hist: pd.DataFrame, as_of: pd.Timestamp
                 ) -> tuple[float, int, float, float]:
    """How last year's pipeline on the same day turned out against the age-based rates:
    (wins known by ``as_of``) / (their expected number), shrunk toward 1 with
    :data:`SHRINK` pseudo-counts; with the number of opportunities and wins behind it.
    A pipeline at a quarter end, emptied of the deals the quarter pulled in, wins less
    often than opportunities of its age in general: this factor says by how much."""
    then = as_of - pd.DateOffset(years=1)
    snap = open_pipeline(opps, then)
    if not len(snap):
        return 1.0, 0, 0.0, 0.0
    expected = _open_rate(hist, snap["age_days"].to_numpy(np.int64))[0].sum()
    wins = float((snap["won_date"].notna() & (snap["won_date"] <= as_of)).sum())
    return (wins + SHRINK) / (expected + SHRINK), len(snap), wins, expected


def _pipeline(pipe: pd.DataFrame, amounts: np.ndarray, reps: pd.Index, hist: pd.DataFrame,
              stage_rates: pd.DataFrame, calibration: np.ndarray, draws: int,
              rng: np.random.Generator) -> tuple[_Sim, np.ndarray]:
    """Open opportunities that win, when they close; and each one's win probability."""
    code = reps.get_indexer(pipe["rep_id"])
    age = pipe["age_days"].to_numpy(np.int64)
    p_age, _ = _open_rate(hist, age)
    p = p_age
    overall = float(hist["won"].mean()) if len(hist) else 0.0
    if len(stage_rates) and pipe["stage"].notna().any():
        s = stage_rates.set_index("stage")
        known = s["reached"] >= 20
        rate = s["win_rate"].where(known).reindex(pipe["stage"].astype("str")).to_numpy(
            np.float64)
        has = ~np.isnan(rate)

        def logit(x: np.ndarray | float) -> Any:
            x = np.clip(x, 1e-4, 1 - 1e-4)
            return np.log(x / (1 - x))

        combined = 1 / (1 + np.exp(-(logit(rate) + logit(p_age) - logit(overall))))
        p = np.where(has, combined, p_age)
    m = len(pipe)
    win = rng.random((draws, m)) < np.clip(p[None, :] * calibration[:, None], 0.0, 1.0)
    p = np.clip(p * calibration.mean(), 0.0, 1.0)
    d_of, o_of = np.nonzero(win & (code >= 0)[None, :])
    won_days = np.sort(hist.loc[hist["won"], "days"].to_numpy(np.int64))
    a = age[o_of]
    lo = np.searchsorted(won_days, a, side="right")
    have = lo < len(won_days)
    u = rng.random(len(o_of))
    idx = np.minimum(lo + (u * (len(won_days) - lo)).astype(np.int64),
                     max(len(won_days) - 1, 0))
    cycle = np.where(have, won_days[idx] if len(won_days) else 0, a + 1 + (u * 90).astype(int))
    created = pipe["created_date"].to_numpy("datetime64[D]")[o_of]
    when = created + np.maximum(cycle, a + 1).astype("timedelta64[D]")
    return _Sim(d_of, code[o_of], when, amounts[o_of]), p


def _cancellations(lines: pd.DataFrame, reps: pd.Index, as_of: pd.Timestamp,
                   year_end: pd.Timestamp, future: _Sim, draws: int, rng: np.random.Generator,
                   notes: list[str]) -> _Sim:
    """Clawbacks still to come: of the credit lines known on ``as_of`` and of the simulated
    ones, each is cancelled with the history's cancellation rate (lines closed at least 180
    days before ``as_of``), after a delay drawn from the history's delays (longer than the
    line's age for known lines); a cancellation inside the plan year is a negative line."""
    lines = lines.loc[_booked(lines)]
    a1 = np.datetime64(as_of.date(), "D")
    y_end = np.datetime64(year_end.date(), "D")
    deal_day = lines["deal_date"].to_numpy("datetime64[D]")
    cents = lines["amount_cents"].to_numpy(np.int64)
    claw = lines["clawback"].to_numpy(bool)
    old = deal_day <= a1 - np.timedelta64(180, "D")
    n_sale = int((old & ~claw & (cents > 0)).sum())
    delays = np.sort((lines["credit_date"].to_numpy("datetime64[D]") - deal_day)[
        old & claw].astype(np.int64))
    empty = _Sim(np.zeros(0, np.int64), np.zeros(0, np.int64),
                 np.zeros(0, "datetime64[D]"), np.zeros(0, np.int64))
    if n_sale < 50 or not len(delays):
        return empty
    rate = len(delays) / n_sale
    notes.append(f"cancellations: {rate:.1%} of deals are clawed back, a median "
                 f"{int(np.median(delays))} days after closing (history)")
    # known lines that can still be cancelled
    code = reps.get_indexer(lines["rep_id"])
    cancelled = pd.Index(lines.loc[claw, "deal_id"]).unique()
    open_ = (~claw & (cents > 0) & (code >= 0) & (deal_day > a1 - np.timedelta64(
        int(delays[-1]), "D")) & ~lines["deal_id"].isin(cancelled).to_numpy())
    age = (a1 - deal_day[open_]).astype(np.int64)
    later = len(delays) - np.searchsorted(delays, age, side="right")  # delays > age
    p = rate * later / len(delays) / np.maximum(1 - rate * (1 - later / len(delays)), 1e-9)
    hit = rng.random((draws, int(open_.sum()))) < p[None, :]
    d1, l1 = np.nonzero(hit)
    lo = len(delays) - later[l1]
    pick = np.minimum(lo + (rng.random(len(l1)) * later[l1]).astype(np.int64), len(delays) - 1)
    day1 = deal_day[open_][l1] + delays[pick].astype("timedelta64[D]")
    # simulated lines
    hit2 = rng.random(len(future.cents)) < rate
    hit2 &= future.cents > 0
    day2 = future.day[hit2] + delays[rng.integers(0, len(delays), int(hit2.sum()))].astype(
        "timedelta64[D]")
    draw = np.concatenate([d1, future.draw[hit2]])
    rep = np.concatenate([code[open_][l1], future.rep[hit2]])
    day = np.concatenate([day1, day2])
    amount = -np.concatenate([cents[open_][l1], future.cents[hit2]])
    keep = day <= y_end
    return _Sim(draw[keep], rep[keep], day[keep], amount[keep])


def _new_share(lines: pd.DataFrame, opps: pd.DataFrame, as_of: pd.Timestamp,
               year_end: pd.Timestamp) -> tuple[int, int]:
    """Of last year's rest-of-year sale lines, how many had an opportunity created after
    the same date a year earlier (or none in the table), and how many there were."""
    p1 = as_of - pd.DateOffset(years=1)
    pe = year_end - pd.DateOffset(years=1)
    day = lines["credit_date"]
    sale = ((lines["amount_cents"] > 0) & ~lines["clawback"] & (day > p1) & (day <= pe)
            & _booked(lines))
    if not sale.any():
        return 0, 0
    created = lines.loc[sale, "deal_id"].map(
        opps.drop_duplicates("deal_id").set_index("deal_id")["created_date"])
    return int((created.isna() | (created > p1)).sum()), int(sale.sum())


def _stack(grid: Grid, draws: int, extra: np.ndarray, ratios: dict[str, dict[str, np.ndarray]]
           ) -> Grid:
    """The grid repeated once per draw on the payee axis (draw-major), with ``extra``
    (draws, R, K) cents added to the credit and, by each measure's ratio, to the measures."""
    r, k = grid.shape
    flat = extra.reshape(draws * r, k)

    def tile(a: np.ndarray) -> np.ndarray:
        return np.tile(a, (draws, 1)) if a.ndim == 2 else np.tile(a, draws)

    measures = {}
    for cid, named in grid.measures.items():  # components and their measures
        measures[cid] = {}
        for name, values in named.items():
            ratio = np.tile(ratios[cid][name], draws)[:, None]
            measures[cid][name] = tile(values) + np.rint(flat * ratio).astype(np.int64)
    changes: dict[str, Any] = {"measures": measures, "credit": tile(grid.credit) + flat}
    for f in dataclasses.fields(grid):  # every other per-payee array, whatever its name
        value = getattr(grid, f.name)
        if f.name in changes:
            continue
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == r:
            changes[f.name] = tile(value)
        elif isinstance(value, Mapping) and value and all(
                isinstance(v, np.ndarray) and v.shape[:1] == (r,) for v in value.values()):
            changes[f.name] = {n: tile(v) for n, v in value.items()}
    return dataclasses.replace(grid, **changes)


def _ratios(grid: Grid) -> dict[str, dict[str, np.ndarray]]:
    """Each measure per unit of credit so far, per payee (the team's ratio for a payee
    without credit; 1 with no credit at all)."""
    credit = grid.credit.sum(axis=1).astype(np.float64)
    out: dict[str, dict[str, np.ndarray]] = {}
    for cid, named in grid.measures.items():
        out[cid] = {}
        for name, values in named.items():
            m = values.sum(axis=1).astype(np.float64)
            team = m.sum() / credit.sum() if credit.sum() > 0 else 1.0
            out[cid][name] = np.where(credit > 0, m / np.where(credit > 0, credit, 1), team)
    return out


def _future_grid(sim: _Sim, grid: Grid, draws: int, as_of: pd.Timestamp,
                 employed: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, int]:
    """Simulated lines summed into (draws, R, K) cents; lines after the plan year, outside
    a payee's employment, or in a period without quota (when the plan has quotas) dropped."""
    r, k = grid.shape
    periods = grid.periods
    kk = periods.index_of(pd.DatetimeIndex(sim.day.astype("datetime64[us]")))
    hire, term = employed
    a1 = np.datetime64(as_of.date(), "D")
    ok = (kk >= 0) & (sim.day > a1) & (sim.rep >= 0)
    in_year = ok.copy()
    rep = np.where(ok, sim.rep, 0)
    ok &= (sim.day >= hire[rep]) & (sim.day <= term[rep])
    allowed = grid.days_employed > 0
    if (grid.quota > 0).any():
        allowed &= grid.quota > 0
    ok &= allowed[rep, np.where(ok, kk, 0)]
    keys = (sim.draw[ok] * r + sim.rep[ok]) * k + kk[ok]
    at, sums, over = checked_group_sum(keys, sim.cents[ok])
    if over.any():
        raise SpmkitError("outlook: a simulated rep's credit in a period is beyond int64 cents")
    out = np.zeros(draws * r * k, dtype=np.int64)
    out[at.astype(np.int64)] = sums
    return out.reshape(draws, r, k), int((in_year & ~ok).sum())


def _earned_year(stacked: Grid, draws: int, r: int, *, from_period: int = 0,
                 with_draws: bool = True) -> tuple[np.ndarray, dict[str, Any]]:
    """Per draw and payee: the year's payout (float cents) from period ``from_period`` on;
    and the earned figures per component."""
    from spmkit.payout import apply_draws, earn

    earned = earn(stacked, FAST)
    total = sum(e.payout for e in earned.values())
    if with_draws and (stacked.draw > 0).any():
        adjust, _ = apply_draws(stacked, total)
        total = total + adjust
    pay = np.asarray(total)[:, from_period:].sum(axis=1)
    return np.rint(pay).reshape(draws, r), earned


def project_outlook(plan: Plan, inputs: Inputs, as_of: Any, *,
                    opportunities: pd.DataFrame | None = None, draws: int = 500, seed: int = 0,
                    threshold: float = 0.5, plan_b: Plan | None = None,
                    switch_date: Any = None) -> Outlook:
    """Project the plan year from ``as_of``: attainment and payouts as distributions.

    Parameters
    ----------
    plan : Plan
        The plan in force (its year holds ``as_of``).
    inputs : Inputs
        All tables as loaded (:func:`spmkit.tables.load_inputs`); deals after ``as_of``
        are ignored (cancellations after it too), so the full year's data can be given
        for a backtest.  Deals of the year before give seasonality and amounts.
    as_of : date
        The last day whose deals are known.
    opportunities : DataFrame, optional
        :func:`spmkit.planning.opportunities.load_opportunities` output, amounts in their
        ``currency`` (the plan currency when blank; converted at ``inputs.fx``).  Without
        it the rest of the year is run-rate only.
    draws : int
        Simulated years (>= 20).
    seed : int
        Seed of :func:`numpy.random.default_rng`; the same inputs and seed give the same
        outlook.
    threshold : float
        Year-end attainment below which a rep is "at risk" (default 0.5).
    plan_b : Plan, optional
        A plan to switch to at ``switch_date`` (same plan year and period).
    switch_date : date, optional
        The first day of plan B (the first day of a period); default the first day of
        ``plan_b.effective`` if set, else 1 July of the plan year (the seventh month).

    Returns
    -------
    Outlook

    Raises
    ------
    InputError
        ``as_of`` outside the plan year; bad settings; the engine's own input errors.
    """
    from spmkit.payout import calculate, earn, measure

    day = _day(as_of)
    year_start, year_end = pd.Timestamp(plan.year_start), pd.Timestamp(plan.year_end)
    if not year_start <= day < year_end:
        raise InputError(f"settings: as_of {day.date()} is not inside plan year "
                         f"{year_start.date()} .. {year_end.date()} of plan {plan.plan!r} "
                         "(it must be before the last day)")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or not \
            20 <= draws <= 100_000:
        raise InputError(f"settings: draws must be 20 to 100000, not {draws!r}")
    if not np.isfinite(threshold) or not 0 <= threshold <= 10:
        raise InputError(f"settings: threshold must be 0 to 10, not {threshold!r}")
    notes: list[str] = []
    rng = np.random.default_rng(seed)
    deals = inputs.deals
    known = deals["close_date"] <= day
    ytd_deals = deals.loc[known].copy()
    ytd_deals["cancel_date"] = ytd_deals["cancel_date"].where(ytd_deals["cancel_date"] <= day)
    payments = getattr(inputs, "payments", None)
    if payments is not None:
        payments = payments.loc[payments["paid_date"] <= day]
    ytd = dataclasses.replace(inputs, deals=ytd_deals, payments=payments)
    grid, lines, _ = measure(plan, ytd)
    earn(grid, EXACT)  # the engine's own checks (zero quotas...) on what is known
    r, k = grid.shape
    reps = pd.Index(grid.rep_ids)
    employed = _employment(inputs.roster, grid.rep_ids)

    # the history
    if opportunities is not None and len(opportunities):
        opps = opportunities
        hist = _history(opps, day)
        rates = win_rates_by_age(opps, day)
        stage_rates = win_rates_by_stage(opps, day)
        cycles = cycle_times(opps, day)
        pipe = open_pipeline(opps, day)
        amounts = _fx_amounts(pipe, inputs, plan.currency)
        new_share = _new_share(lines, opps, day, year_end)
        if len(hist) < 30:
            notes.append(f"only {len(hist)} closed opportunities before {day.date()}: win "
                         "rates lean on the overall rate")
        outside = int((reps.get_indexer(pipe["rep_id"]) < 0).sum())
        if outside:
            notes.append(f"{outside} open opportunities belong to reps the plan does not pay "
                         "and are left out")
    else:
        opps = None
        rates = win_rates_by_age(_EMPTY_OPPS, day)
        stage_rates = win_rates_by_stage(_EMPTY_OPPS, day)
        cycles = cycle_times(_EMPTY_OPPS, day)
        pipe = open_pipeline(_EMPTY_OPPS, day)
        amounts = np.zeros(0, np.int64)
        hist = _closed_by(_EMPTY_OPPS, day)
        new_share = (0, 0)
        notes.append("no opportunities table: the pipeline is absent, so the rest of the year "
                     "is projected from closed deals and run-rate alone")

    run = _run_rate(lines, reps, day, year_start, year_end, new_share, employed, draws, rng,
                    notes, quota_year=grid.quota.sum(axis=1))
    sims = [run]
    p_win = np.zeros(0)
    if len(pipe):
        calibration, snap_n, snap_won, snap_expected = _calibration(opps, hist, day)
        notes.append(f"win rates calibrated on last year's pipeline of the same day: "
                     f"{int(snap_won)} of {snap_n} open opportunities won, "
                     f"x{calibration:.2f} the rates by age")
        factor = (rng.gamma(snap_won + SHRINK, 1.0, draws) / (snap_expected + SHRINK)
                  if snap_n else np.ones(draws))
        pip, p_win = _pipeline(pipe, amounts, reps, hist, stage_rates, factor, draws, rng)
        sims.append(pip)
    sim = _Sim(*(np.concatenate([getattr(s, f) for s in sims])
                 for f in ("draw", "rep", "day", "cents")))
    claw = _cancellations(lines, reps, day, year_end, sim, draws, rng, notes)
    sim = _Sim(*(np.concatenate([getattr(s, f) for s in (sim, claw)])
                 for f in ("draw", "rep", "day", "cents")))
    future, dropped = _future_grid(sim, grid, draws, day, employed)
    ratios = _ratios(grid)
    stacked = _stack(grid, draws, future, ratios)
    pay, earned = _earned_year(stacked, draws, r)

    # per payee
    year_quota = grid.quota.sum(axis=1)
    credit_now = grid.credit.sum(axis=1)
    year_credit = credit_now[None, :] + future.sum(axis=2)  # (D, R)
    with np.errstate(divide="ignore", invalid="ignore"):
        att = np.where(year_quota > 0, year_credit / np.where(year_quota > 0, year_quota, 1),
                       np.nan)
    att_q = np.percentile(att, [10, 50, 90], axis=0) if r else np.zeros((3, 0))
    pay_q = _pct(pay, [10, 50, 90]) if r else np.zeros((3, 0), np.int64)
    below = np.where(year_quota > 0, (att < threshold).mean(axis=0), np.nan) if r else \
        np.zeros(0)
    p_cap = np.full(r, np.nan)
    for comp in plan.components:  # a handful
        cap = cap_cents(comp, stacked)
        if cap is None:
            continue
        hit = (earned[comp.id].to_date[:, -1] >= cap - 0.5).reshape(draws, r).mean(axis=0)
        p_cap = np.fmax(p_cap, hit)
    code = reps.get_indexer(pipe["rep_id"]) if len(pipe) else np.zeros(0, np.int64)
    inside = code >= 0
    pipeline = np.zeros(r, dtype=np.int64)  # cents, summed exactly
    np.add.at(pipeline, code[inside], np.asarray(amounts, dtype=np.int64)[inside])
    weighted = np.bincount(code[inside], weights=(amounts * p_win)[inside], minlength=r) \
        if r else np.zeros(0)
    remaining = np.maximum(year_quota - credit_now, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        coverage = np.where(remaining > 0, pipeline / np.where(remaining > 0, remaining, 1),
                            np.nan)
    reps_frame = pd.DataFrame({
        "rep_id": pd.Series(grid.rep_ids, dtype="str"),
        "quota_cents": year_quota.astype(np.int64),
        "credit_to_date_cents": credit_now.astype(np.int64),
        "remaining_quota_cents": remaining.astype(np.int64),
        "pipeline_cents": pipeline,
        "weighted_pipeline_cents": np.rint(weighted).astype(np.int64),
        "coverage": coverage,
        "attainment_p10": att_q[0], "attainment_p50": att_q[1], "attainment_p90": att_q[2],
        "payout_p10_cents": pay_q[0], "payout_p50_cents": pay_q[1],
        "payout_p90_cents": pay_q[2],
        "p_below_threshold": below, "p_cap": p_cap,
    })
    reps_frame["at_risk"] = reps_frame["p_below_threshold"].fillna(0) >= 0.5
    reps_frame["likely_cap"] = reps_frame["p_cap"].fillna(0) >= 0.5

    # totals: the accrual
    total = pay.sum(axis=1).astype(np.int64) if r else np.zeros(draws, np.int64)
    credit_total = year_credit.sum(axis=1).astype(np.int64) if r else np.zeros(draws, np.int64)
    q = _pct(total, [5, 10, 50, 90, 95])
    now = calculate(plan, ytd)
    p = now.payouts
    ended = p["period_index"].to_numpy() < int((np.asarray(
        pd.DatetimeIndex(grid.periods.ends)) <= np.datetime64(day)).sum())
    paid = int(sum_cents(p.loc[ended, "amount_cents"].to_numpy(np.int64), source="payouts",
                         what="the payout to date"))
    totals = {
        "as_of": str(day.date()), "draws": int(draws), "seed": int(seed),
        "paid_to_date_cents": paid,
        "credit_to_date_cents": int(credit_now.sum()),
        "credit_p50_cents": int(_pct(credit_total, [50])[0]),
        "payout_p5_cents": int(q[0]), "payout_p10_cents": int(q[1]),
        "payout_p50_cents": int(q[2]), "payout_p90_cents": int(q[3]),
        "payout_p95_cents": int(q[4]),
        "payout_mean_cents": int(np.rint(total.mean())),
        "open_opportunities": int(len(pipe)),
        "pipeline_cents": int(sum_cents(pipeline, source="opportunities",
                                        what="the open pipeline")),
        "weighted_pipeline_cents": int(np.rint(weighted.sum())),
        "simulated_lines_dropped": dropped,
    }
    if dropped:
        notes.append(f"about {dropped / draws:,.0f} simulated lines per simulated year fell "
                     "outside a rep's employment or in a period without quota and were "
                     "dropped")
    draws_frame = pd.DataFrame({"draw": np.arange(draws, dtype=np.int64),
                                "total_payout_cents": total, "credit_cents": credit_total})
    switch = switch_totals = None
    if plan_b is not None:
        switch, switch_totals = _switch(plan, plan_b, switch_date, ytd, grid, future, stacked,
                                        draws, notes)
    settings = {"plan": plan.plan, "as_of": str(day.date()), "draws": int(draws),
                "seed": int(seed), "threshold": float(threshold),
                "opportunities": opps is not None,
                "plan_b": plan_b.plan if plan_b is not None else None}
    return Outlook(settings=settings, reps=reps_frame, totals=totals, draws=draws_frame,
                   win_rates=rates, stage_rates=stage_rates, cycle_times=cycles, notes=notes,
                   switch=switch, switch_totals=switch_totals)


def _switch(plan: Plan, plan_b: Plan, switch_date: Any, ytd: Inputs, grid: Grid,
            future: np.ndarray, stacked_a: Grid, draws: int,
            notes: list[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Keep the plan vs switch to plan B: the cost of the periods from the switch on, per
    rep and in total, on the same simulated years."""
    from spmkit.payout import earn, measure

    if plan_b.year_start != plan.year_start or plan_b.period != plan.period:
        raise InputError(f"settings: plan B {plan_b.plan!r} must have the same year_start and "
                         f"period as {plan.plan!r} to switch within the year")
    eff = getattr(plan_b, "effective", None)
    when = _day(switch_date if switch_date is not None else (
        eff[0] if eff is not None else pd.Timestamp(plan.year_start) + pd.DateOffset(months=6)),
        "switch date")
    starts = pd.DatetimeIndex(grid.periods.starts)
    if when not in starts or when == starts[0]:
        raise InputError(f"settings: the switch date {when.date()} must be the first day of a "
                         f"period after the first ({', '.join(str(s.date()) for s in starts)})")
    first = int(starts.get_loc(when))
    base_b = plan_b.model_copy(update={"effective": None}) if eff is not None else plan_b
    measured_b, _, _ = measure(base_b, ytd)  # its measures per unit of credit so far
    r = len(grid.rep_ids)
    # the engine's effective dating: plan B pays from the switch to year-end
    dated = plan_b.model_copy(update={"effective": (when.date(), plan_b.year_end)})
    grid_b, _, _ = measure(dated, ytd)
    earn(grid_b, EXACT)
    rows_b = pd.Index(grid_b.rep_ids).get_indexer(grid.rep_ids)  # plan B row of each payee
    future_b = np.zeros((draws, len(grid_b.rep_ids), grid_b.periods.count), dtype=np.int64)
    has = rows_b >= 0
    future_b[:, rows_b[has], :] = future[:, has, :]
    future_b[:, :, :first] = 0
    if (grid_b.quota > 0).any():  # no credit against a zero quota
        future_b = np.where((grid_b.quota > 0)[None, :, :], future_b, 0)
    stacked_b = _stack(grid_b, draws, future_b, _ratios(measured_b))
    keep, _ = _earned_year(stacked_a, draws, r, from_period=first, with_draws=False)
    new, _ = _earned_year(stacked_b, draws, len(grid_b.rep_ids), from_period=first,
                          with_draws=False)
    new_a = np.zeros((draws, r))
    new_a[:, has] = new[:, rows_b[has]]
    change = new_a - keep
    notes.append(f"switch to {plan_b.plan!r} on {when.date()}: plan B pays from the switch "
                 "to year-end (effective dates: quotas and target incentive prorated by its "
                 "days, year-to-date windows from its first day); draws are left out of both "
                 "sides of the comparison")
    if (~has).any():
        notes.append(f"{int((~has).sum())} reps of {plan.plan!r} are not paid by "
                     f"{plan_b.plan!r}: their second half costs nothing under plan B")
    kq, nq, cq = _pct(keep.sum(1), [10, 50, 90]), _pct(new_a.sum(1), [10, 50, 90]), \
        _pct(change.sum(1), [10, 50, 90])
    frame = pd.DataFrame({
        "rep_id": pd.Series(grid.rep_ids, dtype="str"),
        "keep_p50_cents": _pct(keep, [50])[0], "switch_p50_cents": _pct(new_a, [50])[0],
        "change_mean_cents": np.rint(change.mean(axis=0)).astype(np.int64),
        "change_p10_cents": _pct(change, [10])[0], "change_p90_cents": _pct(change, [90])[0],
    })
    totals = {"plan_b": plan_b.plan, "switch_date": str(when.date()),
              "keep_p10_cents": int(kq[0]), "keep_p50_cents": int(kq[1]),
              "keep_p90_cents": int(kq[2]), "switch_p10_cents": int(nq[0]),
              "switch_p50_cents": int(nq[1]), "switch_p90_cents": int(nq[2]),
              "change_p10_cents": int(cq[0]), "change_p50_cents": int(cq[1]),
              "change_p90_cents": int(cq[2]),
              "change_mean_cents": int(np.rint(change.sum(1).mean())),
              "reps_better_off": int((frame["change_mean_cents"] > 0).sum()),
              "reps_worse_off": int((frame["change_mean_cents"] < 0).sum())}
    return frame, totals


_EMPTY_OPPS = pd.DataFrame({
    "deal_id": pd.Series([], dtype="str"), "rep_id": pd.Series([], dtype="str"),
    "stage": pd.Series([], dtype="str"), "amount_cents": pd.Series([], dtype=np.int64),
    "currency": pd.Series([], dtype="str"),
    **{c: pd.Series([], dtype="datetime64[us]") for c in
       ("created_date", "close_date", "won_date", "lost_date")},
    "status": pd.Series([], dtype="str")})


# --------------------------------------------------------------------------- files, backtest


def outlook_from_files(plan: str | Path | Plan, data: str | Path, as_of: Any, *,
                       opportunities: str | Path | None = None, plan_b: str | Path | None = None,
                       **kw: Any) -> Outlook:
    """:func:`project_outlook` on a data folder (``deals.csv`` and, when present,
    ``quotas.csv``, ``roster.csv``, ``splits.csv``, ``fx.csv`` and ``opportunities.csv``).

    ``opportunities`` names another opportunities file; keyword arguments go to
    :func:`project_outlook`.
    """
    from spmkit.plan import load_plan
    from spmkit.planning.opportunities import load_opportunities
    from spmkit.tables import load_inputs

    folder = Path(data)
    if not folder.is_dir():
        raise InputError(Problem(str(folder), "data folder not found"))
    p = plan if isinstance(plan, Plan) else load_plan(plan)
    b = None if plan_b is None else (plan_b if isinstance(plan_b, Plan) else load_plan(plan_b))

    def opt(name: str) -> Path | None:
        path = folder / f"{name}.csv"
        return path if path.is_file() else None

    inputs = load_inputs(folder / "deals.csv", quotas=opt("quotas"), roster=opt("roster"),
                         splits=opt("splits"), fx=opt("fx"), payments=opt("payments"),
                         currency=p.currency, measure_columns=p.measure_columns())
    src = Path(opportunities) if opportunities is not None else opt("opportunities")
    opps = load_opportunities(src) if src is not None else None
    return project_outlook(p, inputs, as_of, opportunities=opps, plan_b=b, **kw)


def backtest_outlook(plan: Plan, inputs: Inputs, as_of: Any, *,
                     opportunities: pd.DataFrame | None = None, draws: int = 500,
                     seed: int = 0) -> dict[str, Any]:
    """Project from ``as_of`` and compare with what the plan pays on the whole year.

    Returns
    -------
    dict
        ``actual_cents`` (:func:`spmkit.payout.calculate` on all ``inputs``),
        ``p5_cents``, ``p50_cents``, ``p95_cents`` (the projection's 90% interval and
        median) and ``inside`` (bool: the actual lies in the 90% interval).
    """
    from spmkit.payout import calculate

    out = project_outlook(plan, inputs, as_of, opportunities=opportunities, draws=draws,
                          seed=seed)
    actual = calculate(plan, inputs).total_payout_cents
    t = out.totals
    return {"actual_cents": int(actual), "p5_cents": t["payout_p5_cents"],
            "p50_cents": t["payout_p50_cents"], "p95_cents": t["payout_p95_cents"],
            "inside": bool(t["payout_p5_cents"] <= actual <= t["payout_p95_cents"])}


# --------------------------------------------------------------------------- plots


def plot_outlook(outlook: Outlook, ax: Any = None) -> Any:
    """Histogram of the simulated year's total payout with P10, P50 and P90 marked."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    values = outlook.draws["total_payout_cents"].to_numpy(np.float64) / 100
    ax.hist(values, bins=40, color="#4C72B0", alpha=0.8)
    t = outlook.totals
    for key, style in (("payout_p10_cents", ":"), ("payout_p50_cents", "-"),
                       ("payout_p90_cents", ":")):
        ax.axvline(t[key] / 100, color="black", linestyle=style,
                   label=key.split("_")[1].upper())
    ax.axvline(t["paid_to_date_cents"] / 100, color="#C44E52", label="paid to date")
    ax.set_xlabel(f"year's total payout ({outlook.settings['plan']})")
    ax.set_ylabel("simulated years")
    ax.legend()
    return ax


