"""KPIs of one engine run and per-rep / per-segment differences between two runs.

Everything here reads the frames of a :class:`spmkit.payout.Result` (``payouts``,
``attainment``, ``reps``); no payout is recomputed.  Conventions used throughout:

- **Attainment** of a rep is annual credit / annual quota: the last period's
  ``ytd_credit_cents / ytd_quota_cents`` in ``result.attainment`` (all credit in the plan
  year).  Reps with no quota have no attainment (NaN): they are left out of attainment
  statistics and counted in ``reps_without_quota``.
- **Target incentive** of a rep is the roster's annual target incentive prorated by the
  days employed in the plan year (hire and term dates both count), rounded half away from
  zero to the cent.  Percent-of-target figures are fractions (1.0 = 100%).
- **Credited revenue** is ``credit_cents`` of ``result.attainment`` summed over payees and
  periods.  For ``credit: rollup`` plans this is the team credit the managers are paid on.
- Band and quota thresholds are compared in integer cents (``credit * 100 >= quota * 125``),
  so a rep exactly at a band edge belongs to the band above.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from spmkit.errors import SpmkitError

__all__ = [
    "BANDS",
    "BAND_KEYS",
    "attainment_bands",
    "band_index",
    "executive_metrics",
    "kpis",
    "movers",
    "outcome_deltas",
    "rep_deltas",
    "rep_outcomes",
    "segment_deltas",
    "segment_labels",
    "segment_totals",
    "top_decile",
    "top_fifth",
]

#: Attainment band labels, lowest first; band i starts at ``_EDGES_PCT[i - 1]`` percent.
BANDS = ("<50%", "50-75%", "75-100%", "100-125%", "125-150%", ">=150%")
#: Keys of the band shares in :func:`kpis`, in the order of :data:`BANDS`.
BAND_KEYS = ("share_band_under_50", "share_band_50_75", "share_band_75_100",
             "share_band_100_125", "share_band_125_150", "share_band_150_plus")
_EDGES_PCT = np.array([50, 75, 100, 125, 150], dtype=np.int64)

OUTCOME_COLUMNS = ["rep_id", "name", "region", "role", "target_incentive_cents", "credit_cents",
                   "quota_cents", "attainment", "payout_cents", "payout_pct_of_target"]
DELTA_COLUMNS = ["rep_id", "name", "region", "role", "attainment", "baseline_payout_cents",
                 "payout_cents", "delta_cents", "delta_pct"]
SEGMENT_COLUMNS = ["segment", "reps", "baseline_payout_cents", "payout_cents", "delta_cents",
                   "delta_pct"]


def band_index(credit_cents: np.ndarray, quota_cents: np.ndarray) -> np.ndarray:
    """Index into :data:`BANDS` of each (credit, quota) pair, compared exactly in cents.

    Pairs with a quota of zero or less get -1 (no attainment).
    """
    c = np.asarray(credit_cents, dtype=np.int64)
    q = np.asarray(quota_cents, dtype=np.int64)
    idx = (c[:, None] * 100 >= q[:, None] * _EDGES_PCT[None, :]).sum(axis=1)
    return np.where(q > 0, idx, -1).astype(np.int64)


def _prorated_ti(reps: pd.DataFrame, result) -> np.ndarray:
    """Annual target incentive x days employed in the plan year / days in the year (cents)."""
    ti = pd.to_numeric(reps["target_incentive_cents"], errors="coerce").fillna(0)
    ti = ti.to_numpy(np.int64)
    start = np.datetime64(result.periods.starts[0].to_datetime64(), "D")
    end = np.datetime64(result.periods.year_end.to_datetime64(), "D")
    year_days = int((end - start).astype(np.int64)) + 1
    hire = pd.to_datetime(reps["hire_date"], errors="coerce").to_numpy("datetime64[D]")
    term = pd.to_datetime(reps["term_date"], errors="coerce").to_numpy("datetime64[D]")
    first = np.where(np.isnat(hire) | (hire < start), start, hire)
    last = np.where(np.isnat(term) | (term > end), end, term)
    days = np.clip((last - first).astype(np.int64) + 1, 0, year_days)
    mag = (2 * np.abs(ti) * days + year_days) // (2 * year_days)
    return np.where(ti < 0, -mag, mag).astype(np.int64)


def rep_outcomes(result) -> pd.DataFrame:
    """One row per payee: what they sold against quota and what they were paid.

    Parameters
    ----------
    result : spmkit.payout.Result
        An engine run.

    Returns
    -------
    DataFrame
        ``rep_id, name, region, role`` (str/NA), ``target_incentive_cents`` (int64, annual
        target prorated by days employed), ``credit_cents, quota_cents`` (int64, plan year),
        ``attainment`` (float, NaN without quota), ``payout_cents`` (int64, every payout row
        including draws), ``payout_pct_of_target`` (float fraction, NaN without a target).
        Sorted by ``rep_id``.
    """
    reps = result.reps.reset_index(drop=True)
    last = result.attainment.sort_values(["rep_id", "period_index"], kind="stable")
    last = last.groupby("rep_id", sort=False).tail(1).set_index("rep_id")
    ids = reps["rep_id"]
    credit = last["ytd_credit_cents"].reindex(ids).fillna(0).to_numpy(np.int64)
    quota = last["ytd_quota_cents"].reindex(ids).fillna(0).to_numpy(np.int64)
    pay = result.payouts.groupby("rep_id", sort=False)["amount_cents"].sum()
    payout = pay.reindex(ids).fillna(0).to_numpy(np.int64)
    ti = _prorated_ti(reps, result)
    with np.errstate(divide="ignore", invalid="ignore"):
        attainment = np.where(quota > 0, credit / np.where(quota > 0, quota, 1), np.nan)
        pct = np.where(ti > 0, payout / np.where(ti > 0, ti, 1), np.nan)
    out = pd.DataFrame({
        "rep_id": ids.astype("str").to_numpy(),
        "name": reps["name"].astype("str").to_numpy() if "name" in reps else pd.NA,
        "region": reps["region"].astype("str").to_numpy() if "region" in reps else pd.NA,
        "role": reps["role"].astype("str").to_numpy() if "role" in reps else pd.NA,
        "target_incentive_cents": ti,
        "credit_cents": credit,
        "quota_cents": quota,
        "attainment": attainment,
        "payout_cents": payout,
        "payout_pct_of_target": pct,
    })
    for col in ("name", "region", "role"):
        out[col] = out[col].astype("str")
    return out.sort_values("rep_id", kind="stable").reset_index(drop=True)[OUTCOME_COLUMNS]


def attainment_bands(result) -> pd.DataFrame:
    """How many reps (with a quota) fall in each attainment band.

    Returns
    -------
    DataFrame
        ``band`` (str, one of :data:`BANDS`, in order), ``reps`` (int64), ``share`` (float,
        of reps with a quota; NaN when no rep has one).
    """
    return _bands_frame(rep_outcomes(result))


def _bands_frame(outcomes: pd.DataFrame) -> pd.DataFrame:
    idx = band_index(outcomes["credit_cents"].to_numpy(), outcomes["quota_cents"].to_numpy())
    counts = np.bincount(idx[idx >= 0], minlength=len(BANDS))
    n = int(counts.sum())
    share = counts / n if n else np.full(len(BANDS), np.nan)
    return pd.DataFrame({"band": pd.array(BANDS, dtype="str"), "reps": counts.astype(np.int64),
                         "share": share})


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else math.nan


def kpis(result) -> pd.Series:
    """The headline numbers of one engine run.

    Parameters
    ----------
    result : spmkit.payout.Result

    Returns
    -------
    Series
        Named after the plan, object dtype, with:

        - ``total_payout_cents`` (int): every payout row, draws included.
        - ``credited_revenue_cents`` (int): plan-year credit of all payees.
        - ``cost_of_sales`` (float): total payout / credited revenue (NaN when no revenue).
        - ``target_incentive_cents`` (int): payees' prorated target incentive.
        - ``payout_pct_of_target`` (float): total payout / target incentive.
        - ``reps`` (int): payees; ``reps_without_quota`` (int): payees left out of the
          attainment statistics below.
        - ``median_attainment``, ``share_at_or_above_100``, ``share_below_50`` (float).
        - ``top_fifth_payout_share`` (float): the payout of the top ceil(n/5) reps by
          attainment (ties broken by ``rep_id``; see :func:`top_fifth`) over the payout of
          all n reps with a quota.  With few reps this is one person's share of the pay:
          what an executive may see of it is decided in the report
          (:func:`spmkit.report.tables.report_tables`).
        - ``pay_slope`` (float): OLS slope of each rep's payout as a fraction of target on
          attainment (reps with quota and target; NaN with fewer than two distinct
          attainments). 0.8 means 80% of target more pay per 100% more attainment.
        - one share per attainment band, keys :data:`BAND_KEYS`.
    """
    o = rep_outcomes(result)
    total = int(o["payout_cents"].sum())
    revenue = int(result.attainment["credit_cents"].sum())
    target = int(o["target_incentive_cents"].sum())
    has_q = o["quota_cents"].to_numpy() > 0
    q = o[has_q]
    n = len(q)
    credit, quota = q["credit_cents"].to_numpy(np.int64), q["quota_cents"].to_numpy(np.int64)
    values: dict[str, object] = {
        "total_payout_cents": total,
        "credited_revenue_cents": revenue,
        "cost_of_sales": _ratio(total, revenue),
        "target_incentive_cents": target,
        "payout_pct_of_target": _ratio(total, target),
        "reps": len(o),
        "reps_without_quota": int((~has_q).sum()),
        "median_attainment": float(np.median(q["attainment"])) if n else math.nan,
        "share_at_or_above_100": _ratio((credit >= quota).sum(), n),
        "share_below_50": _ratio((credit * 2 < quota).sum(), n),
        "top_fifth_payout_share": _top_fifth_share(q),
        "pay_slope": _pay_slope(q),
    }
    bands = _bands_frame(o)
    values.update(dict(zip(BAND_KEYS, bands["share"].astype(float).tolist(), strict=True)))
    return pd.Series(values, dtype=object, name=result.plan.plan)


def top_fifth(outcomes: pd.DataFrame) -> pd.Series:
    """Which reps form the "top fifth" of :func:`kpis`' ``top_fifth_payout_share``.

    Parameters
    ----------
    outcomes : DataFrame
        :func:`rep_outcomes` rows of one plan (``rep_id, quota_cents, attainment``).

    Returns
    -------
    Series
        Boolean, same index: True for the ceil(n/5) reps with the highest attainment among
        the n reps with a quota (ties broken by ``rep_id``); False for every other rep,
        including reps without a quota.  The share's denominator is the payout of all n
        reps with a quota.
    """
    has_q = outcomes["quota_cents"].to_numpy() > 0
    q = outcomes[has_q]
    mask = pd.Series(False, index=outcomes.index)
    if len(q):
        top = max(1, math.ceil(len(q) / 5))
        ranked = q.sort_values(["attainment", "rep_id"], ascending=[False, True],
                               kind="stable")
        mask[ranked.index[:top]] = True
    return mask


def _top_fifth_share(q: pd.DataFrame) -> float:
    if not len(q):
        return math.nan
    pay = q["payout_cents"].to_numpy(np.int64)
    return _ratio(int(pay[top_fifth(q).to_numpy()].sum()), int(pay.sum()))


def _pay_slope(q: pd.DataFrame) -> float:
    ok = q["payout_pct_of_target"].notna().to_numpy()
    x = q["attainment"].to_numpy(np.float64)[ok]
    y = q["payout_pct_of_target"].to_numpy(np.float64)[ok]
    if len(x) < 2 or np.ptp(x) == 0:
        return math.nan
    design = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(coef[1])


def rep_deltas(baseline_result, result) -> pd.DataFrame:
    """Each rep's payout under ``result`` against ``baseline_result``.

    A rep paid by only one of the two plans counts as paid 0 by the other.

    Returns
    -------
    DataFrame
        ``rep_id, name, region, role`` (str), ``attainment`` (float, under ``result``; the
        baseline's when the rep is not a payee of ``result``), ``baseline_payout_cents,
        payout_cents, delta_cents`` (int64), ``delta_pct`` (float, delta / baseline payout;
        NaN when the baseline paid 0).  Sorted by ``delta_cents`` (biggest losers first),
        then ``rep_id``.
    """
    return outcome_deltas(rep_outcomes(baseline_result), rep_outcomes(result))


def outcome_deltas(baseline_outcomes: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """:func:`rep_deltas` from two :func:`rep_outcomes` frames (baseline first)."""
    base = baseline_outcomes.set_index("rep_id")
    new = outcomes.set_index("rep_id")
    ids = new.index.union(base.index, sort=False).sort_values()
    new_r, base_r = new.reindex(ids), base.reindex(ids)
    out = pd.DataFrame({"rep_id": ids.astype("str")})
    in_new = ids.isin(new.index)
    for col in ("name", "region", "role", "attainment"):
        out[col] = np.where(in_new, new_r[col].to_numpy(object), base_r[col].to_numpy(object))
    for col in ("name", "region", "role"):
        out[col] = out[col].astype("str")
    out["attainment"] = out["attainment"].astype(np.float64)
    b = base_r["payout_cents"].fillna(0).to_numpy(np.int64)
    p = new_r["payout_cents"].fillna(0).to_numpy(np.int64)
    out["baseline_payout_cents"] = b
    out["payout_cents"] = p
    out["delta_cents"] = p - b
    with np.errstate(divide="ignore", invalid="ignore"):
        out["delta_pct"] = np.where(b != 0, (p - b) / np.where(b != 0, b, 1), np.nan)
    out = out.sort_values(["delta_cents", "rep_id"], kind="stable").reset_index(drop=True)
    return out[DELTA_COLUMNS]


def segment_deltas(baseline_result, result, by: str = "region") -> pd.DataFrame:
    """Payout change by region or role.

    Parameters
    ----------
    by : {"region", "role"}
        The roster column to group by; reps without one form the segment ``"(none)"``.

    Returns
    -------
    DataFrame
        ``segment`` (str), ``reps`` (int64), ``baseline_payout_cents, payout_cents,
        delta_cents`` (int64), ``delta_pct`` (float; NaN when the baseline paid 0).  Sorted
        by ``delta_cents`` then ``segment``.

    Raises
    ------
    SpmkitError
        ``by`` is not ``region`` or ``role``.
    """
    if by not in ("region", "role"):
        raise SpmkitError(f"segment_deltas: by must be 'region' or 'role', not {by!r}")
    return segment_totals(rep_deltas(baseline_result, result), by)


def segment_totals(deltas: pd.DataFrame, by: str) -> pd.DataFrame:
    """:func:`segment_deltas` from a :func:`rep_deltas` frame, grouped by its ``by`` column
    (labels as :func:`segment_labels`)."""
    d = deltas
    g = d.assign(segment=segment_labels(d[by])).groupby("segment", sort=True)
    out = pd.DataFrame({
        "reps": g.size().astype(np.int64),
        "baseline_payout_cents": g["baseline_payout_cents"].sum().astype(np.int64),
        "payout_cents": g["payout_cents"].sum().astype(np.int64),
    }).reset_index()
    out["segment"] = out["segment"].astype("str")
    b = out["baseline_payout_cents"].to_numpy(np.int64)
    p = out["payout_cents"].to_numpy(np.int64)
    out["delta_cents"] = p - b
    with np.errstate(divide="ignore", invalid="ignore"):
        out["delta_pct"] = np.where(b != 0, (p - b) / np.where(b != 0, b, 1), np.nan)
    out = out.sort_values(["delta_cents", "segment"], kind="stable").reset_index(drop=True)
    return out[SEGMENT_COLUMNS]


def segment_labels(values: pd.Series) -> pd.Series:
    """The segment each rep falls in for :func:`segment_deltas`: the region or role as
    text, ``"(none)"`` when it is missing or blank.  Same index as ``values``."""
    seg = values.fillna("(none)").astype("str")
    return seg.where(seg.str.strip() != "", "(none)")


def movers(deltas: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The ``n`` reps who gain most and the ``n`` who lose most in a :func:`rep_deltas` frame.

    Returns
    -------
    pandas.DataFrame
        The rows of ``deltas`` plus ``direction`` (``gain`` / ``loss``); gains first (largest
        gain first), then losses (largest loss first); ties by ``rep_id``. Reps with no
        change are left out.
    """
    gains = deltas[deltas["delta_cents"] > 0].sort_values(["delta_cents", "rep_id"],
                                                          ascending=[False, True]).head(n)
    losses = deltas[deltas["delta_cents"] < 0].sort_values(["delta_cents", "rep_id"]).head(n)
    return pd.concat([gains.assign(direction="gain"), losses.assign(direction="loss")],
                     ignore_index=True)


# --- the questions executives ask -------------------------------------------------------

#: Keys of :func:`executive_metrics`, in the order a report shows them.
EXECUTIVE_KEYS = (
    "bookings_cents", "credited_cents", "cost_of_sales_on_bookings", "marginal_cost_of_sales",
    "top_decile_payout_share", "leverage", "reps_at_cap", "reps_below_threshold",
    "payout_vs_target", "base_salary_cents", "total_comp_cost_of_sales",
    "reps_losing_over_10pct",
)

def top_decile(outcomes: pd.DataFrame) -> pd.Series:
    """The payees forming the "top decile" of pay: the ceil(n/10) best paid of the n payees
    (ties by ``rep_id``).  Boolean Series on ``outcomes``' index."""
    mask = pd.Series(False, index=outcomes.index)
    if len(outcomes):
        top = max(1, math.ceil(len(outcomes) / 10))
        ranked = outcomes.sort_values(["payout_cents", "rep_id"], ascending=[False, True],
                                      kind="stable")
        mask[ranked.index[:top]] = True
    return mask


def _base_salary(result, roster: pd.DataFrame | None) -> int | None:
    """Payees' annual base salary prorated by days employed (cents); None without one."""
    if roster is None or "base_salary_cents" not in roster.columns:
        return None
    salary = roster.set_index("rep_id")["base_salary_cents"]
    if salary.isna().all():
        return None
    reps = result.reps.copy()
    reps["target_incentive_cents"] = salary.reindex(reps["rep_id"]).to_numpy()
    return int(_prorated_ti(reps, result).sum())


def _reps_at_cap(prepared) -> int | None:
    """Payees whose plan-year earnings reached a component's cap (None: no cap)."""
    from spmkit.grid import EXACT, cap_cents
    from spmkit.payout import earn

    grid = prepared.grid
    capped = [c for c in grid.plan.components if c.cap is not None]
    if not capped:
        return None
    earned = earn(grid, EXACT)
    hit = np.zeros(len(grid.rep_ids), dtype=bool)
    for comp in capped:  # components, not reps
        cap = cap_cents(comp, grid)
        to_date = earned[comp.id].to_date.astype(np.int64)
        hit |= (cap > 0) & (to_date[:, -1] >= cap)
    return int(hit.sum())


def plan_threshold(plan) -> float | None:
    """The lowest attainment threshold any component of ``plan`` sets (a fraction of
    quota below which that component pays nothing); None when none sets one."""
    values = [float(t) for c in plan.components
              if c.uses_attainment and (t := c.threshold()) is not None and float(t) > 0]
    return min(values) if values else None


def executive_metrics(result, prepared, *, bookings_cents: int,
                      marginal_cost_of_sales: float,
                      baseline_outcomes: pd.DataFrame | None = None,
                      roster: pd.DataFrame | None = None) -> pd.Series:
    """The figures a CFO asks of one plan, from one engine run.

    Parameters
    ----------
    result : spmkit.payout.Result
    prepared : spmkit.payout.Prepared
        The same plan measured for what-ifs (``prepare(plan, inputs)``): its grid gives the
        caps.
    bookings_cents : int
        The plan year's bookings, each deal once
        (:func:`spmkit.scenario.stress.bookings_cents`).
    marginal_cost_of_sales : float
        :func:`spmkit.scenario.stress.marginal_cost`'s figure (cost at sales +5% minus
        cost at -5%, over 10% of bookings).
    baseline_outcomes : DataFrame, optional
        :func:`rep_outcomes` of the baseline, for ``reps_losing_over_10pct`` (0 without).
    roster : DataFrame, optional
        The loaded roster (``base_salary_cents``) for the total cost with base salary.

    Returns
    -------
    Series
        Object dtype, keys :data:`EXECUTIVE_KEYS`:

        - ``bookings_cents``: as given.
        - ``credited_cents``: credit of all payees, roll-ups and overlays included.
        - ``cost_of_sales_on_bookings``: total payout / bookings.
        - ``marginal_cost_of_sales``: as given.
        - ``top_decile_payout_share``: payout of the :func:`top_decile` / total payout.
        - ``leverage``: the 90th percentile of payees' payout as a multiple of their target
          incentive over the median (payees with a target; linear interpolation).
        - ``reps_at_cap``: payees whose year reached a component's cap (None: no cap).
        - ``reps_below_threshold``: payees with a quota whose plan-year attainment is below
          :func:`plan_threshold` (None: no threshold).
        - ``payout_vs_target``: total payout / the target-incentive pool (prorated).
        - ``base_salary_cents`` and ``total_comp_cost_of_sales``: (payout + prorated base
          salary) / bookings; None when the roster has no base salary.
        - ``reps_losing_over_10pct``: payees of the baseline paid over 10% less here.
    """
    o = rep_outcomes(result)
    total = int(o["payout_cents"].sum())
    bookings = int(bookings_cents)
    credited = int(result.attainment["credit_cents"].sum())
    mcos = float(marginal_cost_of_sales)
    top = top_decile(o).to_numpy()
    share = _ratio(int(o.loc[top, "payout_cents"].sum()), total) if len(o) else math.nan
    pct = o["payout_pct_of_target"].dropna().to_numpy(np.float64)
    if len(pct) >= 2 and np.median(pct) > 0:
        p90, p50 = np.percentile(pct, [90, 50])
        leverage = float(p90 / p50)
    else:
        leverage = math.nan
    threshold = plan_threshold(result.plan)
    has_q = o["quota_cents"].to_numpy() > 0
    below = None
    if threshold is not None:
        below = int((has_q & (o["attainment"].fillna(0).to_numpy() < threshold)).sum())
    target = int(o["target_incentive_cents"].sum())
    salary = _base_salary(result, roster)
    losing = 0
    if baseline_outcomes is not None:
        d = outcome_deltas(baseline_outcomes, o)
        losing = int(((d["baseline_payout_cents"] > 0) & (d["delta_pct"] < -0.10)).sum())
    values = {
        "bookings_cents": bookings,
        "credited_cents": credited,
        "cost_of_sales_on_bookings": _ratio(total, bookings),
        "marginal_cost_of_sales": mcos,
        "top_decile_payout_share": share,
        "leverage": leverage,
        "reps_at_cap": _reps_at_cap(prepared),
        "reps_below_threshold": below,
        "payout_vs_target": _ratio(total, target),
        "base_salary_cents": salary,
        "total_comp_cost_of_sales": (math.nan if salary is None
                                     else _ratio(total + salary, bookings)),
        "reps_losing_over_10pct": losing,
    }
    return pd.Series(values, dtype=object, name=result.plan.plan)
