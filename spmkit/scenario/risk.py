"""What-ifs on sales: the uniform sweep, and Monte Carlo cost risk on simulated years.

Both run the engine's fast path, :meth:`spmkit.payout.Prepared.costs`, which re-earns a
plan measured once with credit multipliers for many what-ifs at once (float cents, each
payout line rounded; at a multiplier of 1 it equals :func:`spmkit.payout.calculate`'s
total).  The Monte Carlo runs its estimate mode (float32, payout lines not rounded to the
cent: within half a cent a line, see ``docs/risk.md``); its replay runs the rounded path.
A multiplier scales a payee's credit lines as measured, so it stands for scaling the deals
without re-rounding each scaled deal to the cent (a difference of cents).
Per-deal SPIFs scale with the multiplier too, as if the *number* of deals moved with sales;
:func:`scale_sales` followed by :func:`spmkit.payout.calculate` instead keeps the deal count
and scales the amounts, so the two differ by the SPIF's share of the change.

The Monte Carlo model (``docs/risk.md`` has the full statement and its sources)
-------------------------------------------------------------------------------
A simulated year gives every *seller* (a deal's owner, ``deals.rep_id``) a sales multiplier
for every *bucket* of a common time basis (the coarsest cut of the year that every plan's
periods are made of: months when one plan pays monthly, else quarters, else the year)::

    multiplier[d, s, b] = C[d] x G[d, region(s)] x L[d, s] x P[s, b] x E[d, s, b]

- ``C``: one company shock, lognormal with median ``1 + growth`` (centred at ``growth=0``;
  its normals, and the region shocks', are stratified over the draws so that the median
  draw has the centred shock: :meth:`SalesSimulation._stratified`) and a standard
  deviation calibrated from plan-aligned year-over-year changes of the
  company's sales in the history, combined with a stated default
  (:data:`DEFAULT_COMPANY_SIGMA`, weighted as :data:`PRIOR_YEARS` years of history), so
  one year of history gives the default.
- ``G``: one shock per region (median 1), calibrated the same way from each region's
  year-over-year change beyond the company's (minus what rep-level noise explains).
- ``L``: the seller's *level* for the year, by empirical Bayes within the seller's role
  (sellers hired in the year before the plan year, still ramping, and those leaving in
  the plan year form their own groups).
  The observed plan year (against quota, else per employed year) is the true level plus
  that year's luck; the luck's variance comes from the seller's own period-to-period
  deviations, the spread of true levels from the role.  The part of the level the size
  of the seller's quota explains (the OLS slope of log level on log quota within the
  role, shrunk by its sampling error) stays with the seller.  Each draw ranks the
  role's sellers by a draw from their posterior predictive (posterior mean + posterior
  and next-year sd) and hands out the rest of the role's *observed* levels in that
  order: a lucky year is not replayed and then given fresh luck on top, and every draw
  keeps the role's observed spread of levels.
- ``P``, ``E``: the path within the year.  ``P`` replaces the seller's observed pattern
  across buckets by the company's seasonality (over the buckets in which the seller sold,
  weighted by days employed), except the share that persists from year to year (the
  correlation of a seller's deviations in the same bucket of consecutive years).  ``E``
  (independent per bucket, normalised so the year's total is the level's) is
  ``1 + sd x r``: ``sd`` is the seller's own period-to-period standard deviation (each
  period's deviation from the seller's expected share of its year, masked where the
  seller was not employed, measured on the plan's buckets or on months when plans' years
  differ, pooled over the history and shrunk toward the role's by empirical Bayes, Smyth
  2004); ``r`` is resampled from every observed deviation divided by its seller's ``sd``
  (standardized to mean 0, variance 1), so the path has the data's shape (a quarter can
  sell nothing; the tails are the observed ones), not an assumed one.  With fewer than
  :data:`MIN_RESIDUALS` deviations ``r`` is normal; ``E`` is clipped at 0.

Every plan of a report is run on the same ``multiplier`` draws (:class:`SalesSimulation`):
a payee's multiplier in a plan period is the credit-weighted mean of the multipliers of
the sellers and buckets its credit lines come from (a line moves with the bucket its deal
closed in, so a cancellation reverses the scaled deal), so roll-ups, overlays and plans with
other periods or payees all see the same simulated years.  The engine receives those
(draws, payees, periods) paths, so quarterly thresholds, caps and draws are stressed.

Limits: a bucket in which a seller sold nothing stays at nothing (a multiplier cannot
create a deal); measures by deal size or running totals keep the deals they selected in
the replay; the company and region shocks are lognormal.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from spmkit.crediting import convert_currency
from spmkit.errors import SpmkitError
from spmkit.money import mul_div_round
from spmkit.payout import Prepared, measure, prepare
from spmkit.periods import plan_periods
from spmkit.plan import Plan
from spmkit.tables import Inputs

__all__ = [
    "DEFAULT_COMPANY_SIGMA", "DEFAULT_REGION_SIGMA", "PRIOR_YEARS", "Risk", "RiskModel",
    "SalesSimulation", "monte_carlo", "performance_pool", "risk", "risk_summary",
    "scale_sales", "sensitivity", "simulate",
]

#: Default standard deviation of the company's year-over-year sales shock (log scale) when
#: the history holds no year-over-year change; a stated assumption (``docs/risk.md``).
DEFAULT_COMPANY_SIGMA = 0.10
#: Default standard deviation of a region's shock beyond the company's (log scale).
DEFAULT_REGION_SIGMA = 0.05
#: Weight of the defaults, in years of history (a scaled inverse-chi-square prior).
PRIOR_YEARS = 4.0
#: Draws per random block: draw ``d`` is the same whatever the chunking.
BLOCK = 50
#: Cells (draws x payee-periods, or x seller-buckets) drawn per chunk of whole blocks.
CHUNK_CELLS = 1_000_000
#: Payee-period cells per engine call (float32: keeps the earners' arrays in cache).
ENGINE_CELLS = 262_144
_PATTERN_LIMITS = (0.1, 10.0)
#: Fewest observed period deviations for ``E`` to resample them (else ``E`` is normal).
MIN_RESIDUALS = 30


# ----------------------------------------------------------------------------- the sweep


def scale_sales(inputs: Inputs, factor: float) -> Inputs:
    """The same inputs with every deal amount multiplied by ``factor``.

    Each amount is rounded to the cent, half away from zero, exactly (``factor`` is taken
    at its shortest decimal form, so 1.1 means 11/10).  Other tables are unchanged; the
    given ``inputs`` are not modified.

    Parameters
    ----------
    inputs : Inputs
    factor : float
        Multiplier, >= 0 (e.g. 1.1 for 10% more sales).

    Returns
    -------
    Inputs
        With ``deals.amount_cents`` (int64) scaled.
    """
    if not np.isfinite(factor) or factor < 0:
        raise SpmkitError(f"scale_sales: factor must be a number >= 0, not {factor!r}")
    frac = Fraction(repr(float(factor)))
    deals = inputs.deals.copy()
    deals["amount_cents"] = mul_div_round(deals["amount_cents"].to_numpy(np.int64),
                                          frac.numerator, frac.denominator)
    return dataclasses.replace(inputs, deals=deals)


def _prepared(plan: Plan, inputs: Inputs, prepared: Prepared | None) -> Prepared:
    return prepare(plan, inputs) if prepared is None else prepared


def _revenue(prepared: Prepared) -> np.ndarray:
    """Each payee's plan-year credit in cents (R,), as the engine measured it."""
    return prepared.grid.credit.sum(axis=1).astype(np.int64)


def _ratio(costs: np.ndarray, revenue: np.ndarray) -> np.ndarray:
    costs, revenue = np.broadcast_arrays(np.asarray(costs, np.float64),
                                         np.asarray(revenue, np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(revenue != 0, costs / np.where(revenue != 0, revenue, 1), np.nan)


def sensitivity(plan: Plan, inputs: Inputs, changes: np.ndarray | None = None, *,
                prepared: Prepared | None = None) -> pd.DataFrame:
    """Total payout and cost of sales if every rep's sales moved by the same percentage.

    Parameters
    ----------
    plan : Plan
    inputs : Inputs
    changes : array of float, optional
        Changes in sales as fractions (-0.1 = 10% less); default
        ``np.linspace(-0.3, 0.3, 13)``.  Each must be >= -1.
    prepared : Prepared, optional
        ``spmkit.payout.prepare(plan, inputs)`` when the caller already has it.

    Returns
    -------
    DataFrame
        ``sales_change`` (float), ``total_payout_cents`` (int64), ``revenue_cents`` (int64:
        credited revenue x (1 + change), rounded), ``cost_of_sales`` (float, NaN without
        revenue); one row per change, in the order given.
    """
    ch = np.asarray(np.linspace(-0.3, 0.3, 13) if changes is None else changes,
                    dtype=np.float64).ravel()
    if not np.all(np.isfinite(ch)) or (ch < -1).any():
        raise SpmkitError("sensitivity: changes must be finite fractions >= -1")
    prep = _prepared(plan, inputs, prepared)
    costs = np.rint(prep.costs(1.0 + ch)).astype(np.int64) if len(ch) else np.zeros(0, np.int64)
    base = int(_revenue(prep).sum())
    revenue = np.rint(base * (1.0 + ch)).astype(np.int64)
    return pd.DataFrame({"sales_change": ch, "total_payout_cents": costs,
                         "revenue_cents": revenue, "cost_of_sales": _ratio(costs, revenue)})


def _period_weights(credit: np.ndarray) -> np.ndarray:
    """Each period's share of all credit in the year (even shares when there is none)."""
    totals = np.asarray(credit, dtype=np.float64).sum(axis=0)
    whole = totals.sum()
    if whole <= 0 or (totals < 0).any():
        return np.full(len(totals), 1.0 / max(len(totals), 1))
    return totals / whole


def performance_pool(credit: np.ndarray, quota: np.ndarray | None = None) -> np.ndarray:
    """The pooled performance ratios of the earlier resampling model (kept for callers).

    With two or more periods: for every rep with positive credit and every period with
    credit, the rep's credit in the period over what the rep would have sold in it with the
    year's common seasonality.  With one period: every rep's attainment (credit alone
    without quotas) over the mean.  Rescaled to average exactly 1; an empty pool is
    ``[1.0]``.  :func:`monte_carlo` no longer resamples it (see the module docstring).
    """
    c = np.asarray(credit, dtype=np.float64)
    if c.ndim != 2 or c.size == 0:
        return np.ones(1)
    pool = np.zeros(0)
    if c.shape[1] >= 2:
        w = _period_weights(c)
        annual = c.sum(axis=1)
        expected = annual[:, None] * w[None, :]
        ok = (annual[:, None] > 0) & (expected > 0)
        pool = c[ok] / expected[ok]
    if not len(pool):
        annual = c.sum(axis=1)
        if quota is not None:
            q = np.asarray(quota, dtype=np.float64).sum(axis=1)
            if (q > 0).any():
                annual = annual[q > 0] / q[q > 0]
        pool = annual
    mean = pool.mean() if len(pool) else 0.0
    if not np.isfinite(mean) or mean <= 0:
        return np.ones(1)
    return pool / mean


# ----------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class RiskModel:
    """What the Monte Carlo simulated and what it was calibrated on (for a report to state).

    Attributes
    ----------
    description : str
        One paragraph in words: the model, the calibration window and sample sizes.
    basis : str
        Length of the simulated buckets: ``month``, ``quarter``, ``year`` (``mixed`` when
        plans start their years on different months).
    calibration_start, calibration_end : date
        First and last day of the deals used (the plan year included).
    years : int
        Whole plan-aligned years in the window; ``yoy_changes`` = years - 1 when positive.
    company_sigma, region_sigma : float
        Standard deviations (log scale) used for the company and region shocks.
    company_sigma_source, region_sigma_source : str
        ``default``, ``history+default`` or ``given``.
    growth : float
        Median company change the shocks are centred on (0: the replayed year).
    pattern_persistence : float
        Correlation of a seller's deviation in a bucket with its deviation in the same
        bucket a year earlier (0 without two whole years): that share of the observed
        pattern is kept, the rest replaced by the seasonality and drawn as luck.
    sellers, seller_months, regions : int
        Sellers (deal owners) simulated; seller-months employed in the window (the sample
        of the period deviations); regions with a shock.
    path_deviations : int
        Standardized period deviations the path noise ``E`` resamples (its shape); 0 when
        there were fewer than :data:`MIN_RESIDUALS` and ``E`` is normal.
    roles : DataFrame
        ``role, sellers, path_sd, prior_dof, level_sd, quota_slope``: per role group, the
        pooled period-to-period relative standard deviation, the empirical-Bayes prior's
        degrees of freedom (inf: every seller gets the role's), the spread of true levels
        beyond the quota's size (log) and how the log level follows the log quota (OLS
        slope within the group, shrunk by its sampling error: below 0 when bigger quotas
        are met less often).
    """

    description: str
    basis: str
    calibration_start: date
    calibration_end: date
    years: int
    yoy_changes: int
    company_sigma: float
    company_sigma_source: str
    region_sigma: float
    region_sigma_source: str
    growth: float
    pattern_persistence: float
    sellers: int
    seller_months: int
    regions: int
    path_deviations: int
    roles: pd.DataFrame = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe provenance (``roles`` as a list of records)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
               if f.name != "roles"}
        out["calibration_start"] = self.calibration_start.isoformat()
        out["calibration_end"] = self.calibration_end.isoformat()
        out["roles"] = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                         for k, v in row.items()} for row in self.roles.to_dict("records")]
        return out


def _month_number(values: np.ndarray) -> np.ndarray:
    """datetime64 -> months since year 0 (int64)."""
    m = values.astype("datetime64[M]").astype(np.int64)
    return m + 1970 * 12


def _edges(plans: Sequence[Plan]) -> tuple[np.ndarray, str]:
    """Bucket boundaries (month numbers) shared by every plan's periods, and the basis name."""
    cuts: set[int] = set()
    for plan in plans:
        p = plan_periods(plan.year_start, plan.period)
        first = plan.year_start.year * 12 + plan.year_start.month - 1
        step = 12 // p.count
        cuts.update(first + step * k for k in range(p.count + 1))
    edges = np.array(sorted(cuts), dtype=np.int64)
    widths = set(np.diff(edges).tolist())
    basis = {1: "month", 3: "quarter", 12: "year"}.get(widths.pop(), "mixed") \
        if len(widths) == 1 else "mixed"
    return edges, basis


def _employment(roster: pd.DataFrame | None, sellers: pd.Index, first_month: int,
                months: int) -> np.ndarray:
    """Fraction of each month (S, M) each seller was employed (1 without roster dates)."""
    frac = np.ones((len(sellers), months))
    if roster is None or not len(sellers) or "rep_id" not in roster:
        return frac
    info = roster.drop_duplicates("rep_id", keep="last").set_index("rep_id").reindex(sellers)
    m = np.arange(first_month, first_month + months + 1, dtype=np.int64) - 1970 * 12
    bounds = m.astype("datetime64[M]").astype("datetime64[D]")
    starts, ends = bounds[:-1][None, :], (bounds[1:] - np.timedelta64(1, "D"))[None, :]
    days = (bounds[1:] - bounds[:-1]).astype(np.int64)[None, :]

    def col(name: str) -> np.ndarray:
        if name not in info.columns:
            return np.full((len(sellers), 1), np.datetime64("NaT"), dtype="datetime64[D]")
        return info[name].to_numpy("datetime64[D]")[:, None]

    hire, term = col("hire_date"), col("term_date")
    lo = np.where(np.isnat(hire) | (hire < starts), starts, hire)
    hi = np.where(np.isnat(term) | (term > ends), ends, term)
    span = (hi - lo).astype(np.int64) + 1
    return np.clip(span, 0, None) / days


def _trigamma_inverse(y: float) -> float:
    """x with trigamma(x) = y (Newton's iteration of Smyth 2004, limma ``trigammaInverse``)."""
    from scipy.special import polygamma

    if y > 1e7:
        return 1.0 / math.sqrt(y)
    if y < 1e-6:
        return 1.0 / y
    x = 0.5 + 1.0 / y
    for _ in range(50):  # Newton steps, not data
        tri = float(polygamma(1, x))
        step = tri * (1 - tri / y) / float(polygamma(2, x))
        x += step
        if -step / x < 1e-8:
            break
    return x


def _squeeze(var: np.ndarray, dof: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Empirical-Bayes moderated variances (Smyth 2004): each sample variance ``var`` with
    ``dof`` degrees of freedom pulled toward a scaled inverse-chi-square prior (location:
    the pooled variance; weight ``d0``: Smyth's moment fit on the log variances).
    Returns (posterior variances, prior variance, prior dof)."""
    from scipy.special import digamma, polygamma

    ok = (dof > 0) & np.isfinite(var)
    if not ok.any():
        return np.full(len(var), np.nan), math.nan, 0.0
    v = np.maximum(var[ok], 1e-8)
    d = dof[ok].astype(np.float64)
    e = np.log(v) - digamma(d / 2) + np.log(d / 2)
    evar = float(e.var(ddof=1)) - float(np.mean(polygamma(1, d / 2))) if ok.sum() > 1 else 0.0
    # the prior's location is the pooled variance (the log-scale fit is biased low when sales
    # are heavier-tailed than normal); its weight d0 is Smyth's
    s0 = float((d * v).sum() / d.sum())
    if evar > 0:
        d0 = 2 * _trigamma_inverse(evar)
        post = np.where(dof > 0, (d0 * s0 + dof * np.nan_to_num(var)) / (d0 + dof), s0)
    else:
        d0 = math.inf
        post = np.full(len(var), s0)
    return post, s0, d0


def _prior(sigma0: float, ss: float, dof: float) -> float:
    """Posterior mean of a variance under a prior ``sigma0`` worth :data:`PRIOR_YEARS`."""
    return math.sqrt((PRIOR_YEARS * sigma0**2 + ss) / (PRIOR_YEARS + dof))


def _quota_by_rep(quotas: pd.DataFrame | None, start: int, stop: int,
                  year: int) -> pd.Series:
    """Each rep's quota (cents) for the simulated year: period rows in the window, or the
    annual rows of the year the window starts in; named-measure quotas are left out."""
    if quotas is None or not len(quotas):
        return pd.Series(dtype=np.float64)
    q = quotas
    if "measure" in q.columns:
        q = q.loc[q["measure"].isna()]
    by_period = q["period_start"].notna() if "period_start" in q else pd.Series(False, q.index)
    months = pd.Series(-1, index=q.index, dtype=np.int64)
    if by_period.any():
        months.loc[by_period] = _month_number(q.loc[by_period, "period_start"].to_numpy(
            "datetime64[D]"))
    inside = by_period & (months >= start) & (months < stop)
    if "year" in q.columns:
        inside |= ~by_period & (q["year"] == year).fillna(False).astype(bool)
    rows = q.loc[inside]
    return rows.groupby(rows["rep_id"].astype("str"))["quota_cents"].sum().astype(np.float64)


def _order(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, axis=1)`` by one value sort (numpy's float sort is vectorized,
    its argsort is not): each float64's lowest mantissa bits are replaced by its column,
    so the sorted values carry their columns.  Values closer than 2^-(52 - bits) of their
    size (about 1e-12 for a few thousand columns) rank by column instead of by value."""
    n = values.shape[1]
    bits = max(1, int(n - 1).bit_length())
    keys = np.ascontiguousarray(values, dtype=np.float64).view(np.int64) & ~np.int64(
        (1 << bits) - 1)
    keys |= np.arange(n, dtype=np.int64)
    keys = np.sort(keys.view(np.float64), axis=1).view(np.int64)
    return keys & ((1 << bits) - 1)


@dataclass(frozen=True)
class SalesSimulation:
    """Simulated years shared by every plan of a report: built by :func:`simulate`.

    ``multipliers(lo, hi)`` gives draws ``lo..hi-1`` as a (draws, sellers, buckets) array,
    the same for every caller (each block of :data:`BLOCK` draws has its own seeded
    generator); :meth:`run` runs one plan on them.
    """

    model: RiskModel
    draws: int
    seed: int
    currency: str
    seller_ids: np.ndarray
    edges: np.ndarray  # bucket boundaries, month numbers (B + 1)
    bookings: np.ndarray = field(repr=False)  # (S, B) plan-year deal amounts, cents
    _region: np.ndarray = field(repr=False)  # (S,) region code, -1 without one
    _regions: int = field(repr=False)
    _level: np.ndarray = field(repr=False)  # (S,) the posterior-mean level / observed (A)
    _level_sd: np.ndarray = field(repr=False)  # (S,) log sd of the next year's level
    _pattern: np.ndarray = field(repr=False)  # (S, B) P
    _path_sd: np.ndarray = field(repr=False)  # (S, B) relative sd of E
    _residuals: np.ndarray = field(repr=False)  # standardized period deviations E resamples
    _group: np.ndarray = field(repr=False)  # (S,) role group ranked together, -1: not ranked
    _observed: np.ndarray = field(repr=False)  # (S,) observed log level
    _fixed: np.ndarray = field(repr=False)  # (S,) the log level the quota's size explains
    _sorted: tuple[np.ndarray, ...] = field(repr=False)  # per group, the rest, sorted
    _shocks: np.ndarray | None = field(default=None, repr=False)  # (draws, 1 + regions)

    def _stratified(self) -> SalesSimulation:
        """The same simulation with the company and region shocks' normals stratified
        (Latin hypercube: draw ``d`` of column ``j`` is the normal quantile of
        ``(perm_j[d] + u) / draws``), so over the draws each shock has exactly its stated
        distribution: the median draw's company shock is the centred one, not a sample
        median ~0.3% away at 2,000 draws.  A separate random stream; the other normals
        are unchanged."""
        from scipy.special import ndtri

        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(10**9 + 1,)))
        n, cols = self.draws, 1 + self._regions
        rank = np.argsort(rng.random((cols, n)), axis=1).T  # a permutation per column
        jitter = 1e-9 + (1 - 2e-9) * rng.random((n, cols))  # inside the stratum, never 0 or 1
        return dataclasses.replace(self, _shocks=ndtri((rank + jitter) / n))

    def _levels(self, zu: np.ndarray) -> np.ndarray:
        """Log level multipliers (draws, S): each role group's observed levels beyond what
        the size of a seller's quota explains, handed out in the order of the sellers'
        simulated latent levels (posterior mean + predictive sd x z), so every draw keeps
        the role's observed spread of levels."""
        out = np.zeros(zu.shape)
        rows = np.arange(len(zu))[:, None]
        post = np.log(self._level) + self._observed - self._fixed
        for g, levels in enumerate(self._sorted):  # role groups, not reps
            idx = np.flatnonzero(self._group == g)
            latent = self._level_sd[idx] * zu[:, idx]
            latent += post[idx]
            # the p-th lowest latent gets levels[p]: one scatter into the sellers' columns
            out[rows, idx[_order(latent)]] = levels
        out += self._fixed - self._observed
        return out

    @property
    def buckets(self) -> int:
        return len(self.edges) - 1

    def _pieces(self, lo: int, hi: int, step: int = BLOCK):
        """Draws ``lo..hi-1`` in consecutive pieces of at most ``step`` draws: yields
        (first draw, (draws, S, B) float32 multipliers).  Each block of :data:`BLOCK`
        draws has its own generator; its normals are drawn in the same order whatever the
        pieces (company, regions, levels, then the path draw by draw), so draw ``d`` is
        the same for any ``step``, and a piece's arrays stay in cache."""
        s, b, g = len(self.seller_ids), self.buckets, self._regions
        m = self.model
        sd_e = self._path_sd.astype(np.float32)
        residuals = self._residuals.astype(np.float32)
        weight = (self._pattern * self._share).astype(np.float32)  # the year's total
        pattern = self._pattern.astype(np.float32)
        for i in range(lo // BLOCK, (hi - 1) // BLOCK + 1):  # blocks of draws, not reps
            rng = np.random.default_rng([self.seed, i])
            head = rng.standard_normal(BLOCK * (1 + g + s))
            zc = head[:BLOCK]
            zg = head[BLOCK:BLOCK * (1 + g)].reshape(BLOCK, g)
            if self._shocks is not None:  # stratified over the draws (the stream is kept)
                part = self._shocks[i * BLOCK:(i + 1) * BLOCK]
                zc, zg = zc.copy(), zg.copy()
                zc[:len(part)], zg[:len(part)] = part[:, 0], part[:, 1:]
            zu = head[BLOCK * (1 + g):].reshape(BLOCK, s)
            common = np.log1p(m.growth) + m.company_sigma * zc[:, None]
            if g:
                common = common + np.where(self._region[None, :] >= 0, m.region_sigma
                                           * zg[:, np.maximum(self._region, 0)], 0.0)
            level = np.exp(common + self._levels(zu)).astype(np.float32)  # (BLOCK, S)
            for a in range(0, BLOCK, step):  # pieces of the block, not reps
                first, k = i * BLOCK + a, min(step, BLOCK - a)
                pick = rng.integers(0, len(residuals), (k, s, b), dtype=np.int32)
                if first + k <= lo or first >= hi:
                    continue  # drawn all the same: the next piece's draws follow these
                path = residuals[pick]  # E = 1 + the seller's sd x a resampled deviation
                path *= sd_e
                path += 1
                np.maximum(path, 0, out=path)  # a period sells nothing at worst
                # the path only moves sales within the year
                total = path[:, :, 0] * weight[:, 0]
                for j in range(1, b):  # buckets, not reps
                    total += path[:, :, j] * weight[:, j]
                dead = total <= 0  # every period at nothing: the year keeps its level, flat
                if dead.any():
                    path[dead] = 1
                    total[dead] = 1
                lv = level[a:a + k]
                factor = np.divide(lv, total, out=lv.copy(), where=total > 0)
                for j in range(b):  # buckets: numpy is slow broadcasting over a short axis
                    path[:, :, j] *= factor
                path *= pattern
                cut = slice(max(lo - first, 0), min(hi - first, k))
                yield first + cut.start, path[cut]

    @property
    def _share(self) -> np.ndarray:
        """Each seller's observed share of the plan year in each bucket (S, B)."""
        y = self.bookings.sum(axis=1, keepdims=True).astype(np.float64)
        return np.divide(self.bookings, y, out=np.zeros(self.bookings.shape), where=y > 0)

    def multipliers(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Sales multipliers of draws ``lo..hi-1``: (draws, sellers, buckets) float32."""
        hi = self.draws if hi is None else hi
        if not 0 <= lo <= hi <= self.draws:
            raise SpmkitError(f"multipliers: draws {lo}..{hi} are outside 0..{self.draws}")
        if lo == hi:
            return np.zeros((0, len(self.seller_ids), self.buckets), dtype=np.float32)
        return np.concatenate([piece for _, piece in self._pieces(lo, hi)])

    def run(self, plan: Plan, inputs: Inputs, *, prepared: Prepared | None = None,
            name: str | None = None, credits: pd.DataFrame | None = None,
            workers: int | None = None) -> Risk:
        """Run ``plan`` on the simulated years (the same inputs the simulation was built on).

        Parameters
        ----------
        plan : Plan
        inputs : Inputs
        prepared : Prepared, optional
            ``spmkit.payout.prepare(plan, inputs)`` when the caller has it.
        name : str, optional
            The plan's name in the result (default ``plan.plan``).
        credits : DataFrame, optional
            The plan's credit lines (``Result.credits`` of :func:`spmkit.payout.calculate`:
            ``deal_id, rep_id, credit_date, amount_cents``); without them the plan is
            credited again to find where each payee's credit comes from.
        workers : int, optional
            Threads running chunks of draws at once (default: one per core; the figures do
            not depend on it).

        Returns
        -------
        Risk
        """
        return _run(self, plan, inputs, prepared, name or plan.plan, credits,
                    None if workers is None else int(workers))


@dataclass(frozen=True)
class Risk:
    """One plan's cost on the simulated years.

    Attributes
    ----------
    plan : str
    draws : DataFrame
        One row per draw: ``draw`` (int64), ``total_payout_cents`` (int64),
        ``revenue_cents`` (int64: the plan year's bookings -- deal amounts in plan
        currency, each deal once -- in the draw), ``credited_cents`` (int64: the plan's
        credited revenue, roll-ups included), ``cost_of_sales`` (float: payout / bookings).
    replay_cost_cents, replay_revenue_cents : int
        The plan's cost on the actual year (the engine's total) and the year's bookings.
    summary : dict
        :func:`risk_summary` of ``draws`` (cents as int, ratios as float).
    model : RiskModel
    """

    plan: str
    draws: pd.DataFrame = field(repr=False)
    replay_cost_cents: int
    replay_revenue_cents: int
    summary: dict[str, Any]
    model: RiskModel = field(repr=False)


def _positions(values: pd.Series, keys: pd.Series | pd.Index) -> np.ndarray:
    """Position of each value among ``keys`` (first match), -1 where absent: Arrow's hash
    lookup on the text itself, without turning millions of ids into Python strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(x: pd.Series | pd.Index) -> pa.Array:
        return pa.array(pd.Series(x).astype("str"), type=pa.large_string())

    pos = pc.index_in(text(values), value_set=text(keys))
    return pos.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _bucket_of(dates: pd.Series, edges: np.ndarray) -> np.ndarray:
    m = _month_number(dates.to_numpy("datetime64[D]"))
    return np.searchsorted(edges, m, side="right") - 1


def simulate(plans: Plan | Sequence[Plan], inputs: Inputs, *, draws: int = 2000,
             seed: int = 0, growth: float = 0.0, company_sigma: float | None = None,
             region_sigma: float | None = None) -> SalesSimulation:
    """Calibrate the sales model on ``inputs`` and fix the simulated years for ``plans``.

    Parameters
    ----------
    plans : Plan or list of Plan
        Every plan the years will be run on (they fix the bucket basis and the plan year;
        the first plan's currency is the simulation's).
    inputs : Inputs
        Deals of the plan year and any history before it (``deals.close_date``,
        ``amount_cents``, ``currency``, ``rep_id``, ``region``); the roster's ``role``,
        ``region``, ``hire_date``, ``term_date``; quotas for the plan year when given.
    draws : int
        Number of simulated years (>= 1).
    seed : int
        Seed; draw ``d`` is the same for any chunking and any plan.
    growth : float
        Median company change (0 = centred on the replayed year; 0.05 = 5% more sales).
    company_sigma, region_sigma : float, optional
        Override the calibrated standard deviations (log scale).

    Returns
    -------
    SalesSimulation

    Raises
    ------
    SpmkitError
        No plan, draws < 1, a negative sigma or growth <= -1.
    """
    plans = [plans] if isinstance(plans, Plan) else list(plans)
    if not plans:
        raise SpmkitError("simulate: give at least one plan")
    if int(draws) < 1:
        raise SpmkitError(f"monte_carlo: draws must be at least 1, not {draws}")
    for nm, v in (("company_sigma", company_sigma), ("region_sigma", region_sigma)):
        if v is not None and (not math.isfinite(v) or v < 0):
            raise SpmkitError(f"simulate: {nm} must be a number >= 0, not {v!r}")
    if not math.isfinite(growth) or growth <= -1:
        raise SpmkitError(f"simulate: growth must be a fraction > -1, not {growth!r}")
    currency = plans[0].currency
    edges, basis = _edges(plans)
    start_year, stop = int(edges[0]), int(edges[-1])  # months: [start_year, stop)

    deals = inputs.deals
    cdate = deals["close_date"].to_numpy("datetime64[D]")
    month = _month_number(cdate)
    amount = convert_currency(deals, inputs.fx, currency)[0].astype(np.float64)
    keep = (month < stop) & ~np.isnat(cdate)
    first = int(month[keep].min()) if keep.any() else start_year
    first = min(first, start_year)
    months = stop - first
    owners = deals["rep_id"].astype("str").to_numpy()
    sellers = pd.Index(np.unique(owners[keep]))
    s_count = len(sellers)
    code = sellers.get_indexer(owners[keep])
    mi = month[keep] - first
    sales = np.zeros((s_count, months))
    np.add.at(sales, (code, mi), amount[keep])
    emp = _employment(inputs.roster, sellers, first, months)

    # seasonality: mean company sales per calendar month of the year, normalised to mean 1
    moy = (np.arange(first, stop) % 12)
    total = sales.sum(axis=0)
    per_moy = np.bincount(moy, weights=total, minlength=12) / np.maximum(
        np.bincount(moy, minlength=12), 1)
    season = per_moy[moy] / per_moy[per_moy > 0].mean() if (per_moy > 0).any() \
        else np.ones(months)
    season = np.where(season > 0, season, 1e-3)
    expect = season[None, :] * emp  # (S, M) expected relative sales

    # year blocks aligned on the last bucket edge; the head before whole years is a block too
    years = months // 12
    head = months - years * 12
    block = np.zeros(months, dtype=np.int64)
    block[head:] = 1 + np.arange(years * 12) // 12
    starts = np.unique(block, return_index=True)[1]
    block = np.unique(block, return_inverse=True)[1]

    def by_block(a: np.ndarray) -> np.ndarray:
        return np.add.reduceat(a, starts, axis=1)

    on = emp > 0
    t_obs = by_block(sales)
    # the unit period deviations are measured on: the plans' buckets when every plan year
    # is the same twelve months (a bucket's variance measured, not assumed from independent
    # months), else months
    n_b = len(edges) - 1
    if n_b >= 2 and stop - start_year == 12:
        unit_b = np.searchsorted(edges - start_year, (np.arange(first, stop) - start_year) % 12,
                                 side="right") - 1
        change = np.r_[True, (np.diff(unit_b) != 0) | (np.diff(block) != 0)]
    else:
        change = np.ones(months, dtype=bool)
    ustarts = np.flatnonzero(change)
    sales_u = np.add.reduceat(sales, ustarts, axis=1)
    expect_u = np.add.reduceat(expect, ustarts, axis=1)
    on_u = np.add.reduceat(emp, ustarts, axis=1) > 0
    block_u = block[ustarts]
    ubstarts = np.unique(block_u, return_index=True)[1]

    def by_block_u(a: np.ndarray) -> np.ndarray:
        return np.add.reduceat(a, ubstarts, axis=1)

    e_sum = by_block_u(expect_u)
    e_share = np.divide(expect_u, e_sum[:, block_u], out=np.zeros_like(expect_u),
                        where=e_sum[:, block_u] > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(on_u & (t_obs[:, block_u] > 0), sales_u / (t_obs[:, block_u] * e_share),
                     1.0)
    x = np.where(np.isfinite(x), x, 1.0)
    n_on = by_block_u(on_u.astype(np.int64))
    valid = (t_obs > 0) & (n_on >= 2)
    num = np.where(valid, by_block_u(np.where(on_u, e_share * (x - 1) ** 2, 0.0)), 0.0)
    den = np.where(valid, 1 - by_block_u(e_share**2), 0.0)
    dof_s = np.where(valid, n_on - 1, 0).sum(axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        var_s = np.where(den.sum(axis=1) > 0, num.sum(axis=1) / den.sum(axis=1), np.nan)
    seller_months = int((on & valid[:, block]).sum())

    # roles and regions of the sellers
    roster = inputs.roster
    info = (roster.drop_duplicates("rep_id", keep="last").set_index("rep_id").reindex(sellers)
            if roster is not None and "rep_id" in roster else pd.DataFrame(index=sellers))
    role = (info["role"].astype("str").fillna("(none)") if "role" in info
            else pd.Series("(none)", index=sellers)).to_numpy()
    region = info["region"].astype("str") if "region" in info else pd.Series(pd.NA, index=sellers,
                                                                            dtype="str")
    if "region" in deals and region.isna().any():
        d = pd.DataFrame({"rep": owners[keep], "region": deals["region"].to_numpy()[keep]})
        d = d.dropna()
        if len(d):
            mode = d.groupby(["rep", "region"]).size().reset_index().sort_values(
                [0, "region"], ascending=[False, True]).drop_duplicates("rep").set_index(
                "rep")["region"]
            region = region.fillna(pd.Series(mode.reindex(sellers).to_numpy(), index=sellers))
    region = region.fillna("(none)")
    regions = pd.Index(np.unique(region.to_numpy()))
    reg_code = regions.get_indexer(region.to_numpy())

    # plan-year facts: observed level, quota, expected shares
    py = slice(months - (stop - start_year), months)
    y_obs = sales[:, py].sum(axis=1)
    e_py = expect[:, py]
    upy = ustarts >= months - (stop - start_year)  # units of the plan year
    e_pu = expect_u[:, upy]
    h_year = np.divide((e_pu**2).sum(axis=1), e_pu.sum(axis=1) ** 2, out=np.ones(s_count),
                       where=e_pu.sum(axis=1) > 0)
    quota = _quota_by_rep(inputs.quotas, start_year, stop, start_year // 12).reindex(
        sellers).fillna(0).to_numpy()

    # role groups: a role's sellers hired within the year before the plan year (still
    # ramping) form their own group, and so do those who leave during the plan year (a
    # partial year, often after a weak one); groups with fewer than 3 selling sellers pool
    if "hire_date" in info:
        hired = info["hire_date"].to_numpy("datetime64[D]")
        ramp_from = np.datetime64(start_year - 12 - 1970 * 12, "M").astype("datetime64[D]")
        ramping = ~np.isnat(hired) & (hired > ramp_from)
        role = np.where(ramping, np.char.add(role.astype(str), " (ramping)"), role)
    if "term_date" in info:
        left = info["term_date"].to_numpy("datetime64[D]")
        year_end = (np.datetime64(stop - 1970 * 12, "M").astype("datetime64[D]")
                    - np.timedelta64(1, "D"))
        leaving = ~np.isnat(left) & (left < year_end)
        role = np.where(leaving, np.char.add(role.astype(str), " (leaving)"), role)
    selling = y_obs > 0
    counts = pd.Series(role[selling]).value_counts()
    group = np.where(pd.Series(role).map(counts).fillna(0).to_numpy() >= 3, role, "(other roles)")
    month_var = np.full(s_count, np.nan)
    level = np.ones(s_count)
    level_sd = np.zeros(s_count)
    obs_level = np.zeros(s_count)
    fixed_level = np.zeros(s_count)
    ranked = np.full(s_count, -1, dtype=np.int64)
    sorted_levels: list[np.ndarray] = []
    role_rows = []
    all_var, all_s0, _ = _squeeze(var_s, dof_s)
    fallback = all_s0 if math.isfinite(all_s0) else 0.25
    for g in np.unique(group):  # role groups, not reps
        idx = np.flatnonzero(group == g)
        post, s0, d0 = _squeeze(var_s[idx], dof_s[idx])
        if not math.isfinite(s0):
            post, s0, d0 = np.where(dof_s[idx] > 0, all_var[idx], fallback), fallback, 0.0
        month_var[idx] = np.where(np.isfinite(post), post, s0)
        # the level: observed year against quota (all have one) or per employed year
        sel = idx[selling[idx]]
        if not len(sel):
            role_rows.append({"role": str(g), "sellers": int(len(idx)),
                              "path_sd": float(math.sqrt(s0)), "prior_dof": float(d0),
                              "level_sd": 0.0, "quota_slope": 0.0})
            continue
        use_quota = len(sel) and (quota[sel] > 0).all()
        base = quota[sel] if use_quota else np.maximum(emp[sel][:, py].sum(axis=1) / 12, 1e-9)
        y = np.log(y_obs[sel] / base)
        # how far a seller's attainment follows the size of its quota (a stretching quota is
        # met less often): that part of the level stays with the seller, the rest is drawn
        xb = np.log(base) - np.log(base).mean()
        slope = float((xb * y).sum() / (xb**2).sum()) if len(sel) >= 3 and (xb**2).sum() > 0 \
            else 0.0
        if slope:  # shrunk by its sampling error (positive-part James-Stein)
            resid = y - y.mean() - slope * xb
            se2 = float((resid**2).sum()) / max(len(sel) - 2, 1) / float((xb**2).sum())
            slope *= max(0.0, 1 - se2 / slope**2)
        fixed = y.mean() + slope * xb
        e = y - fixed
        noise = np.log1p(month_var[sel] * h_year[sel])
        tau2 = max(float((e**2).sum() / max(len(sel) - 1 - (slope != 0), 1))
                   - float(noise.mean()), 0.0) if len(sel) > 1 else 0.0
        lam = tau2 / (tau2 + noise) if tau2 > 0 else np.zeros(len(sel))
        a = np.exp(-(1 - lam) * e)
        a *= y_obs[sel].sum() / (y_obs[sel] * a).sum()
        level[sel] = a
        level_sd[sel] = np.sqrt(lam * noise + noise)  # posterior + next year's luck
        obs_level[sel] = y
        fixed_level[sel] = fixed
        ranked[sel] = len(sorted_levels)
        sorted_levels.append(np.sort(e))
        role_rows.append({"role": str(g), "sellers": int(len(idx)),
                          "path_sd": float(math.sqrt(s0)), "prior_dof": float(d0),
                          "level_sd": float(math.sqrt(tau2)), "quota_slope": slope})

    # buckets of the plan year: the pattern pulled to the seasonality, the bucket noise
    b_of_m = np.searchsorted(edges, np.arange(start_year, stop), side="right") - 1
    bstarts = np.unique(b_of_m, return_index=True)[1]
    observed = np.add.reduceat(sales[:, py], bstarts, axis=1)
    target = np.add.reduceat(e_py, bstarts, axis=1)
    b_of_u = np.searchsorted(edges, first + ustarts[upy], side="right") - 1
    ub = np.unique(b_of_u, return_index=True)[1]
    sq = np.add.reduceat(e_pu**2, ub, axis=1)
    tu = np.add.reduceat(e_pu, ub, axis=1)
    h_b = np.divide(sq, tu**2, out=np.zeros_like(sq), where=tu > 0)
    # how much of a seller's pattern across buckets persists from one year to the next: the
    # correlation of the same seller's deviations in the same bucket of consecutive years
    rho = 0.0
    if not change.all() and years >= 2:
        whole = x[:, -years * n_b:].reshape(s_count, years, n_b) - 1
        okw = (on_u & valid[:, block_u])[:, -years * n_b:].reshape(s_count, years, n_b)
        a, b = whole[:, 1:], whole[:, :-1]
        both = okw[:, 1:] & okw[:, :-1]
        den_r = math.sqrt(float((a[both] ** 2).sum()) * float((b[both] ** 2).sum()))
        rho = min(max(float((a[both] * b[both]).sum()) / den_r, 0.0), 0.95) if den_r else 0.0
    path_sd = np.sqrt(month_var[:, None] * h_b * (1 - rho))
    # E's shape: the observed period deviations, each standardized by its seller's (shrunk)
    # sd, pooled; too few of them and E is normal (clipped at nothing)
    used = on_u & valid[:, block_u] & (month_var > 0)[:, None]
    residuals = ((x - 1) / np.sqrt(np.where(month_var > 0, month_var, 1))[:, None])[used]
    spread = float(residuals.std()) if len(residuals) else 0.0
    if len(residuals) >= MIN_RESIDUALS and spread > 0:
        residuals = (residuals - residuals.mean()) / spread
        n_resid = len(residuals)
    else:
        from scipy.special import ndtri

        residuals = ndtri((np.arange(999) + 0.5) / 999)
        n_resid = 0
    pos = observed > 0
    t_pos = np.where(pos, target, 0.0)
    t_share = np.divide(t_pos, t_pos.sum(axis=1, keepdims=True), out=np.zeros_like(t_pos),
                        where=t_pos.sum(axis=1, keepdims=True) > 0)
    o_share = np.divide(observed, y_obs[:, None], out=np.zeros_like(observed),
                        where=y_obs[:, None] > 0)
    t_share = (1 - rho) * t_share + rho * o_share  # the persistent part of the pattern stays
    pattern = np.divide(t_share, o_share, out=np.ones_like(t_share), where=pos & (o_share > 0))
    pattern = np.clip(pattern, *_PATTERN_LIMITS)
    mass = (o_share * pattern).sum(axis=1, keepdims=True)
    pattern = np.where((y_obs[:, None] > 0) & (mass > 0), pattern / np.where(mass > 0, mass, 1),
                       1.0)
    bookings = np.zeros((s_count, n_b), dtype=np.int64)
    bk = _bucket_of(deals["close_date"].iloc[np.flatnonzero(keep)], edges)
    ok = bk >= 0
    np.add.at(bookings, (code[ok], bk[ok]), convert_currency(deals, inputs.fx, currency)[0][
        keep][ok])

    # company and region shocks from plan-aligned year-over-year changes
    yblocks = t_obs[:, (1 if head else 0):]  # whole years only, (S, years)
    comp = yblocks.sum(axis=0)
    g = np.diff(np.log(comp[comp > 0])) if (comp > 0).sum() >= 2 else np.zeros(0)
    n_yoy = len(g)
    if company_sigma is not None:
        c_sigma, c_src = float(company_sigma), "given"
    elif n_yoy >= 2:
        c_sigma = _prior(DEFAULT_COMPANY_SIGMA, float(((g - g.mean()) ** 2).sum()), n_yoy - 1)
        c_src = "history+default"
    else:
        c_sigma, c_src = DEFAULT_COMPANY_SIGMA, "default"
    n_reg = len(regions)
    if n_reg < 2:
        r_sigma, r_src = 0.0, "one region"
    elif region_sigma is not None:
        r_sigma, r_src = float(region_sigma), "given"
    elif years >= 2:
        reg = np.zeros((n_reg, yblocks.shape[1]))
        np.add.at(reg, reg_code, yblocks)
        noise_year = np.log1p(month_var * h_year)  # a seller's year's relative noise
        w2 = np.zeros((n_reg, yblocks.shape[1]))
        np.add.at(w2, reg_code, yblocks**2 * noise_year[:, None])
        samp = np.divide(w2, reg**2, out=np.zeros_like(w2), where=reg > 0)
        ok_r = (reg[:, 1:] > 0) & (reg[:, :-1] > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            dr = np.log(reg[:, 1:] / reg[:, :-1])
        ss, dof_r = 0.0, 0.0
        for j in range(dr.shape[1]):  # year-over-year changes, not reps
            col = dr[ok_r[:, j], j]
            if len(col) >= 2:
                ss += float(((col - col.mean()) ** 2).sum())
                ss -= float((samp[ok_r[:, j], j] + samp[ok_r[:, j], j + 1]).sum()) * (
                    1 - 1 / len(col))
                dof_r += len(col) - 1
        r_sigma = _prior(DEFAULT_REGION_SIGMA, max(ss, 0.0), dof_r)
        r_src = "history+default" if dof_r > 0 else "default"
    else:
        r_sigma, r_src = DEFAULT_REGION_SIGMA, "default"

    cal_start = np.datetime64(first - 1970 * 12, "M").astype("datetime64[D]").astype(date)
    cal_end = (np.datetime64(stop - 1970 * 12, "M").astype("datetime64[D]")
               - np.timedelta64(1, "D")).astype(date)
    roles = pd.DataFrame(role_rows, columns=["role", "sellers", "path_sd", "prior_dof",
                                             "level_sd", "quota_slope"])
    description = (
        f"Simulated years: each seller's sales per {basis} = a company shock (lognormal, "
        f"median {'1' if growth == 0 else f'1{growth:+.1%}'}, sd {c_sigma:.1%} a year; "
        f"{c_src}) x a region shock (sd {r_sigma:.1%}; {r_src}) x the seller's level for the "
        "year (the part the size of its quota explains kept, the rest of the role's observed "
        "levels handed out by an empirical-Bayes draw, so a lucky year is not counted twice) "
        "x the company's seasonality with the seller's own "
        "period-to-period variation (its size shrunk toward the role's; its shape "
        + (f"resampled from {n_resid} observed period deviations" if n_resid else
           "normal, too few periods observed to resample")
        + f"; {rho:.0%} of each seller's pattern persists from year to year and is kept). "
        f"Calibrated on deals from {cal_start:%Y-%m-%d} to {cal_end:%Y-%m-%d}: {years} whole "
        f"plan-aligned year(s) ({n_yoy} year-over-year change(s)), {s_count} sellers, "
        f"{seller_months} employed seller-months, {n_reg} region(s). Defaults: company "
        f"{DEFAULT_COMPANY_SIGMA:.0%}, region {DEFAULT_REGION_SIGMA:.0%} a year, each worth "
        f"{PRIOR_YEARS:g} years of history.")
    model = RiskModel(
        description=description, basis=basis, calibration_start=cal_start,
        calibration_end=cal_end, years=int(years), yoy_changes=int(n_yoy),
        company_sigma=float(c_sigma), company_sigma_source=c_src, region_sigma=float(r_sigma),
        region_sigma_source=r_src, growth=float(growth), pattern_persistence=float(rho),
        sellers=int(s_count),
        seller_months=seller_months, regions=int(n_reg) if n_reg >= 2 else 0,
        path_deviations=int(n_resid), roles=roles)
    sim = SalesSimulation(
        model=model, draws=int(draws), seed=int(seed), currency=currency,
        seller_ids=sellers.to_numpy(), edges=edges, bookings=bookings,
        _region=reg_code if n_reg >= 2 else np.full(s_count, -1), _regions=n_reg if n_reg >= 2
        else 0, _level=level, _level_sd=level_sd, _pattern=pattern, _path_sd=path_sd,
        _residuals=residuals,
        _group=ranked, _observed=obs_level, _fixed=fixed_level, _sorted=tuple(sorted_levels))
    return sim._stratified()


def _weights(sim: SalesSimulation, plan: Plan, inputs: Inputs, prep: Prepared,
             lines: pd.DataFrame | None):
    """Sparse (R*K, S*B) credit weights of each payee-period over sellers and buckets."""
    from scipy import sparse

    if lines is None:
        _, lines, _ = measure(plan, inputs)
    r, k = prep.grid.credit.shape
    payees = pd.Index(prep.grid.rep_ids)
    periods = prep.grid.periods
    kk = periods.index_of(lines["credit_date"])
    rr = _positions(lines["rep_id"], payees)
    deals = inputs.deals.drop_duplicates("deal_id")
    at = _positions(lines["deal_id"], deals["deal_id"])  # each line's deal (-1: none)
    found = at >= 0
    seller = np.full(len(lines), -1, dtype=np.int64)
    seller[found] = _positions(deals["rep_id"], pd.Index(sim.seller_ids))[at[found]]
    # a line moves with its deal: the bucket the deal closed in (a cancellation reverses the
    # scaled deal); deals closed outside the simulated year move with the line's own bucket
    bucket = np.full(len(lines), -1, dtype=np.int64)
    bucket[found] = _bucket_of(deals["close_date"], sim.edges)[at[found]]
    own = _bucket_of(lines["credit_date"], sim.edges)
    bucket = np.where((bucket >= 0) & (bucket < sim.buckets), bucket, own)
    amt = lines["amount_cents"].to_numpy(np.float64)
    ok = (kk >= 0) & (rr >= 0) & (seller >= 0) & (bucket >= 0) & (bucket < sim.buckets)
    row = rr[ok] * k + kk[ok]
    colm = seller[ok] * sim.buckets + bucket[ok]
    w = sparse.coo_matrix((amt[ok], (row, colm)), shape=(r * k, len(sim.seller_ids)
                                                        * sim.buckets)).tocsr()
    w.sum_duplicates()
    tot = np.asarray(w.sum(axis=1)).ravel()
    inv = np.divide(1.0, tot, out=np.zeros_like(tot), where=tot != 0)
    w = sparse.diags(inv) @ w
    empty = tot == 0  # payee-periods without lines: their measures are 0, scale 1
    return w.tocsr(), empty


def _run(sim: SalesSimulation, plan: Plan, inputs: Inputs, prepared: Prepared | None,
         name: str, credits: pd.DataFrame | None = None, workers: int | None = None) -> Risk:
    prep = _prepared(plan, inputs, prepared)
    r, k = prep.grid.credit.shape
    w, empty = _weights(sim, plan, inputs, prep, credits)
    first = plan.year_start.year * 12 + plan.year_start.month - 1
    in_year = (sim.edges[:-1] >= first) & (sim.edges[:-1] < first + 12)
    book = (sim.bookings * in_year[None, :]).astype(np.float64).ravel()
    credit = prep.grid.credit.astype(np.float64).ravel()
    n = sim.draws
    costs = np.zeros(n)
    revenue = np.zeros(n)
    credited = np.zeros(n)
    workers = (os.cpu_count() or 1) if workers is None else workers
    cells = max(r * k, len(sim.seller_ids) * sim.buckets, 1)
    per = max(BLOCK, (CHUNK_CELLS // cells) // BLOCK * BLOCK)  # whole blocks of draws
    per = min(per, -(-n // (max(workers, 1) * BLOCK)) * BLOCK)  # at least a chunk a thread
    step = max(1, ENGINE_CELLS // cells)  # draws per engine call: its arrays fit in cache
    wt = w.T.tocsr().astype(np.float32)

    def engine(lo: int, m: np.ndarray) -> None:
        hi = lo + len(m)
        m = m.reshape(hi - lo, -1)
        scale = np.ascontiguousarray(m @ wt) if r * k else np.zeros((hi - lo, 0), np.float32)
        scale[:, empty] = 1.0
        revenue[lo:hi] = m @ book
        credited[lo:hi] = scale @ credit
        if r:
            costs[lo:hi] = prep.costs(scale.reshape(hi - lo, r, k), estimate=True)

    def chunk(lo: int) -> None:  # each chunk writes its own slice
        held, first = [], lo
        for start, piece in sim._pieces(lo, min(n, lo + per), step):  # pieces, not reps
            held.append(piece)
            if sum(len(p) for p in held) >= step:
                engine(first, np.concatenate(held) if len(held) > 1 else held[0])
                held, first = [], start + len(piece)
        if held:
            engine(first, np.concatenate(held) if len(held) > 1 else held[0])

    starts = range(0, n, per)
    if workers > 1 and len(starts) > 1:  # numpy releases the GIL: chunks on several cores
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(chunk, starts))
    else:
        for lo in starts:  # chunks of draws, not reps
            chunk(lo)
    cost_c = np.rint(costs).astype(np.int64)
    rev_c = np.rint(revenue).astype(np.int64)
    frame = pd.DataFrame({"draw": np.arange(n, dtype=np.int64), "total_payout_cents": cost_c,
                          "revenue_cents": rev_c,
                          "credited_cents": np.rint(credited).astype(np.int64),
                          "cost_of_sales": _ratio(cost_c, rev_c)})
    replay = int(np.rint(prep.costs(1.0)[0])) if r else 0
    summary = risk_summary(frame).to_dict()
    return Risk(plan=name, draws=frame, replay_cost_cents=replay,
                replay_revenue_cents=int(book.sum()), summary=summary, model=sim.model)


def risk(plan: Plan, inputs: Inputs, *, draws: int = 2000, seed: int = 0,
         prepared: Prepared | None = None, simulation: SalesSimulation | None = None,
         **calibration: Any) -> Risk:
    """One plan's cost risk: :func:`simulate` (unless ``simulation`` is given) then run.

    ``calibration`` takes :func:`simulate`'s ``growth``, ``company_sigma`` and
    ``region_sigma``.  For several plans of one report build one simulation with all of
    them and call :meth:`SalesSimulation.run` for each, so they share the simulated years.
    """
    sim = simulate([plan], inputs, draws=draws, seed=seed, **calibration) \
        if simulation is None else simulation
    return sim.run(plan, inputs, prepared=prepared)


def monte_carlo(plan: Plan, inputs: Inputs, *, draws: int = 2000, seed: int = 0,
                prepared: Prepared | None = None,
                simulation: SalesSimulation | None = None) -> pd.DataFrame:
    """Distribution of the plan's total cost over simulated years (:func:`risk`'s draws).

    Parameters
    ----------
    plan : Plan
    inputs : Inputs
    draws : int
        Number of simulated years (>= 1); ignored when ``simulation`` is given.
    seed : int
        Seed; the same seed and inputs give every plan the same simulated years.
    prepared : Prepared, optional
        ``spmkit.payout.prepare(plan, inputs)`` when the caller already has it.
    simulation : SalesSimulation, optional
        Years shared with other plans (:func:`simulate`).

    Returns
    -------
    DataFrame
        One row per draw: ``draw`` (int64, 0-based), ``total_payout_cents`` (int64),
        ``revenue_cents`` (int64, bookings in the draw), ``credited_cents`` (int64),
        ``cost_of_sales`` (float).
    """
    return risk(plan, inputs, draws=draws, seed=seed, prepared=prepared,
                simulation=simulation).draws


def _cents(x: float) -> int:
    return int(np.sign(x) * np.floor(abs(x) + 0.5))


def risk_summary(mc: pd.DataFrame | Risk, band: float = 0.05) -> pd.Series:
    """P10, P50 and P90 of the simulated cost, revenue and cost of sales.

    Parameters
    ----------
    mc : DataFrame or Risk
        :func:`monte_carlo` rows (``total_payout_cents``; ``revenue_cents`` optional).
    band : float
        Half-width, in quantiles, of the draws averaged for the cost at a revenue quantile.

    Returns
    -------
    Series (object)
        ``p10, p50, p90``: total payout in cents (int; linear-interpolated percentiles
        rounded half away from zero).  With revenue also ``revenue_p10, revenue_p50,
        revenue_p90`` (cents), ``cost_of_sales_p10, _p50, _p90`` (float, percentiles of the
        per-draw ratio) and ``cost_at_p10_revenue, cost_at_p90_revenue`` (cents: the mean
        cost of the draws whose revenue lies within ``band`` quantiles of the 10th and
        90th percentile -- what the plan costs in a weak and in a strong year).
    """
    frame = mc.draws if isinstance(mc, Risk) else mc
    values = frame["total_payout_cents"].to_numpy(np.float64)
    if not len(values):
        raise SpmkitError("risk_summary: the simulation has no draws")
    p = np.percentile(values, [10, 50, 90])
    out: dict[str, Any] = {"p10": _cents(p[0]), "p50": _cents(p[1]), "p90": _cents(p[2])}
    if "revenue_cents" in frame:
        rev = frame["revenue_cents"].to_numpy(np.float64)
        q = np.percentile(rev, [10, 50, 90])
        out.update({"revenue_p10": _cents(q[0]), "revenue_p50": _cents(q[1]),
                    "revenue_p90": _cents(q[2])})
        cos = _ratio(values, rev)
        c = np.nanpercentile(cos, [10, 50, 90]) if np.isfinite(cos).any() else [math.nan] * 3
        out.update({"cost_of_sales_p10": float(c[0]), "cost_of_sales_p50": float(c[1]),
                    "cost_of_sales_p90": float(c[2])})
        rank = (pd.Series(rev).rank(method="average").to_numpy() - 0.5) / len(rev)
        for pct in (10, 90):
            near = np.abs(rank - pct / 100) <= band
            if not near.any():
                near = np.abs(rank - pct / 100) == np.abs(rank - pct / 100).min()
            out[f"cost_at_p{pct}_revenue"] = _cents(float(values[near].mean()))
    return pd.Series(out, dtype=object, name="total_payout_cents")
