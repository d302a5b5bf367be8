"""Sensitivity beyond a uniform shift: marginal cost, break-even uplift, concentration, response.

(Named ``stress`` rather than ``sensitivity`` so the module never shadows the function
:func:`spmkit.scenario.sensitivity` on the package.)

Every function runs the engine's fast path (:meth:`spmkit.payout.Prepared.costs`: float
cents, each payout line rounded; at a multiplier of 1 it equals
:func:`spmkit.payout.calculate`'s total), so a multiplier scales a payee's credit as
measured.  The uniform ±30% sweep is :func:`spmkit.scenario.sensitivity`.

Revenue here is the plan year's *bookings*: deal amounts in plan currency, each deal once
(:func:`bookings_cents`), so a manager's roll-up credit is not counted twice.

The behavioural response (:func:`behavioural_response`)
-------------------------------------------------------
Reps respond to the marginal rate they face: a rep whose pay per extra dollar of sales is
higher under the scenario than under the baseline sells more, one whose marginal rate is
lower sells less.  The change in log sales is ``elasticity`` times the arc (midpoint)
change of the marginal rate, ``(m_new - m_old) / ((m_new + m_old) / 2)`` (bounded, and
defined when a rate is 0).  The default :data:`DEFAULT_ELASTICITY` = 0.34 is the mean
personal-selling elasticity of the meta-analysis of Albers, Mantrala and Sridhar (2010),
"Personal Selling Elasticities: A Meta-Analysis", Journal of Marketing Research 47(5),
840-853: the response of sales to selling effort.  Using it for the marginal pay rate
assumes effort moves in proportion to the pay for it -- an assumption, stated as such;
Chung, Steenburgh and Sudhir (2014), "Do Bonuses Enhance Sales Productivity?", Marketing
Science 33(2), find that overachievement commissions (accelerators) raise output, and
Larkin (2014), Journal of Labor Economics 32(2), that reps also move the *timing* of deals
toward where the plan pays more (not modelled here).  Run it at 0 and at 2x the default
to show the range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from spmkit.crediting import convert_currency
from spmkit.errors import SpmkitError
from spmkit.payout import Prepared, prepare
from spmkit.periods import plan_periods
from spmkit.plan import Plan
from spmkit.tables import Inputs

__all__ = ["DEFAULT_ELASTICITY", "Response", "behavioural_response", "bookings_cents",
           "break_even_uplift", "concentration_stress", "marginal_cost", "rep_marginal_rates"]

#: Default elasticity of sales to the marginal pay rate (see the module docstring).
DEFAULT_ELASTICITY = 0.34
_CELLS = 1_000_000


def _prep(plan: Plan, inputs: Inputs, prepared: Prepared | None) -> Prepared:
    return prepare(plan, inputs) if prepared is None else prepared


def bookings_cents(plan: Plan, inputs: Inputs) -> int:
    """The plan year's bookings: amounts of the deals closed in the plan year, in the plan's
    currency at the fx plan rates (each deal rounded once), each deal counted once.

    Returns
    -------
    int
        Cents.
    """
    deals = inputs.deals
    periods = plan_periods(plan.year_start, plan.period)
    inside = periods.index_of(deals["close_date"]) >= 0
    amount = convert_currency(deals.loc[inside], inputs.fx, plan.currency)[0]
    return int(amount.sum())


def _costs(prep: Prepared, scale: np.ndarray) -> np.ndarray:
    """``prep.costs`` over chunks of the leading axis (keeps arrays in cache)."""
    r, k = prep.grid.credit.shape
    per = max(1, _CELLS // max(r * k, 1))
    return np.concatenate([prep.costs(scale[i:i + per]) for i in range(0, len(scale), per)]) \
        if len(scale) else np.zeros(0)


def marginal_cost(plan: Plan, inputs: Inputs, step: float = 0.05, *,
                  prepared: Prepared | None = None) -> pd.Series:
    """What each extra dollar of sales costs under ``plan``: cost at ±``step`` of sales.

    Parameters
    ----------
    plan : Plan
    inputs : Inputs
    step : float
        The change in every rep's sales, a fraction in (0, 1); default 5%.
    prepared : Prepared, optional

    Returns
    -------
    Series (object)
        ``step``; ``cost_down_cents, cost_cents, cost_up_cents`` (int: total payout at
        -step, 0, +step); ``bookings_cents`` (int); ``marginal_cost_of_sales`` (float:
        (cost_up - cost_down) / (2 x step x bookings), the cost of one more dollar of
        bookings), ``marginal_cost_up`` and ``marginal_cost_down`` (the one-sided ratios);
        ``average_cost_of_sales`` (cost / bookings).  NaN without bookings.
    """
    if not (0 < step < 1):
        raise SpmkitError(f"marginal_cost: step must be a fraction between 0 and 1, not {step!r}")
    prep = _prep(plan, inputs, prepared)
    down, mid, up = (np.rint(prep.costs(np.array([1 - step, 1.0, 1 + step]))).astype(np.int64)
                     if len(prep.rep_ids) else np.zeros(3, np.int64))
    book = bookings_cents(plan, inputs)
    nan = math.nan
    return pd.Series({
        "step": float(step), "cost_down_cents": int(down), "cost_cents": int(mid),
        "cost_up_cents": int(up), "bookings_cents": book,
        "marginal_cost_of_sales": (int(up) - int(down)) / (2 * step * book) if book else nan,
        "marginal_cost_up": (int(up) - int(mid)) / (step * book) if book else nan,
        "marginal_cost_down": (int(mid) - int(down)) / (step * book) if book else nan,
        "average_cost_of_sales": int(mid) / book if book else nan,
    }, dtype=object)


def break_even_uplift(scenario: Plan, baseline: Plan, inputs: Inputs, margin: float, *,
                      max_uplift: float = 1.0, resolution: float = 0.0005,
                      prepared: Prepared | None = None,
                      baseline_prepared: Prepared | None = None) -> pd.Series:
    """The sales uplift the scenario must buy to pay for itself at a gross ``margin``.

    The smallest uplift ``u`` (every rep's sales x (1 + u) under the scenario, the baseline
    left at the actual year) at which the extra gross profit covers the extra pay::

        margin x bookings x u  >=  cost_scenario(1 + u) - cost_baseline(1)

    found on a grid of step ``resolution`` and refined by linear interpolation.

    Parameters
    ----------
    scenario, baseline : Plan
        The plan with the accelerator and the plan it replaces.
    inputs : Inputs
    margin : float
        Gross margin on an extra dollar of sales, a fraction in (0, 1] (``--margin``).
    max_uplift : float
        Largest uplift searched (default 100%).

    Returns
    -------
    Series (object)
        ``margin``; ``uplift`` (float: 0 when the scenario costs no more at the actual
        sales, NaN when even ``max_uplift`` does not pay for it); ``extra_cost_cents`` (int:
        scenario minus baseline at the actual sales); ``bookings_cents``;
        ``extra_bookings_cents`` (int: bookings x uplift, rounded; None when NaN).
    """
    if not (0 < margin <= 1):
        raise SpmkitError(f"break_even_uplift: margin must be a fraction in (0, 1], not {margin!r}")
    if not (max_uplift > 0) or not (0 < resolution < max_uplift):
        raise SpmkitError("break_even_uplift: need max_uplift > 0 and 0 < resolution < max_uplift")
    s_prep = _prep(scenario, inputs, prepared)
    b_prep = _prep(baseline, inputs, baseline_prepared)
    book = bookings_cents(scenario, inputs)
    base_cost = float(np.rint(b_prep.costs(1.0)[0])) if len(b_prep.rep_ids) else 0.0
    u = np.linspace(0.0, max_uplift, int(round(max_uplift / resolution)) + 1)
    cost = np.rint(_costs(s_prep, 1.0 + u)) if len(s_prep.rep_ids) else np.zeros(len(u))
    gap = margin * book * u - (cost - base_cost)  # >= 0: the uplift pays for the plan
    extra = int(cost[0] - base_cost)
    if gap[0] >= 0:
        uplift = 0.0
    else:
        hit = np.flatnonzero(gap >= 0)
        if not len(hit):
            uplift = math.nan
        else:
            i = int(hit[0])
            uplift = float(u[i - 1] + (u[i] - u[i - 1]) * (-gap[i - 1]) / (gap[i] - gap[i - 1]))
    return pd.Series({"margin": float(margin), "uplift": uplift, "extra_cost_cents": extra,
                      "bookings_cents": book,
                      "extra_bookings_cents": None if math.isnan(uplift) else int(round(book
                                                                                       * uplift))},
                     dtype=object)


def concentration_stress(plan: Plan, inputs: Inputs, *, top: float = 0.10,
                         change: float = 0.20, prepared: Prepared | None = None
                         ) -> pd.DataFrame:
    """Cost if only the top sellers' sales moved: the top ``top`` of payees by plan-year
    credit (``ceil(top x payees with credit)``, ties broken by rep id) at -change, 0 and
    +change, everyone else as they were.

    Returns
    -------
    DataFrame
        One row per change (``-change, 0, +change``): ``sales_change`` (float, applied to
        the top group), ``reps`` (int, in the top group), ``total_payout_cents`` (int),
        ``revenue_cents`` (int: credited revenue, the top group's moved), ``delta_cents``
        (int, payout minus the payout at 0), ``cost_of_sales`` (float).
    """
    if not (0 < top <= 1) or not (0 <= change <= 1):
        raise SpmkitError("concentration_stress: top must be in (0, 1] and change in [0, 1]")
    prep = _prep(plan, inputs, prepared)
    credit = prep.grid.credit.sum(axis=1).astype(np.int64)
    ids = np.asarray(prep.rep_ids).astype(str)
    selling = np.flatnonzero(credit > 0)
    n = math.ceil(top * len(selling)) if len(selling) else 0
    order = selling[np.lexsort((ids[selling], -credit[selling]))][:n]
    changes = np.array([-change, 0.0, change])
    scale = np.ones((3, len(ids)))
    scale[:, order] = 1.0 + changes[:, None]
    cost = np.rint(prep.costs(scale)).astype(np.int64) if len(ids) else np.zeros(3, np.int64)
    revenue = np.rint(scale @ credit.astype(np.float64)).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = np.where(revenue != 0, cost / np.where(revenue != 0, revenue, 1), np.nan)
    return pd.DataFrame({"sales_change": changes, "reps": np.full(3, n, dtype=np.int64),
                         "total_payout_cents": cost, "revenue_cents": revenue,
                         "delta_cents": cost - cost[1], "cost_of_sales": cos})


def rep_marginal_rates(plan: Plan, inputs: Inputs, step: float = 0.05, *,
                       prepared: Prepared | None = None) -> pd.DataFrame:
    """Each payee's marginal pay rate: the change in the payee's pay per extra dollar of the
    payee's own credit, (pay at +step - pay at -step) / (2 x step x credit), one payee moved
    at a time (plans pay each payee on its own credit).

    Returns
    -------
    DataFrame
        ``rep_id`` (str), ``credit_cents`` (int), ``marginal_rate`` (float; NaN without
        credit).
    """
    if not (0 < step < 1):
        raise SpmkitError(f"rep_marginal_rates: step must be in (0, 1), not {step!r}")
    prep = _prep(plan, inputs, prepared)
    credit = prep.grid.credit.sum(axis=1).astype(np.float64)
    r = len(credit)
    rate = np.full(r, np.nan)
    if r:
        eye = np.eye(r)
        up = _costs(prep, 1.0 + step * eye)  # draw i moves payee i only
        down = _costs(prep, 1.0 - step * eye)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(credit != 0, (np.rint(up) - np.rint(down)) / (2 * step * credit),
                            np.nan)
    return pd.DataFrame({"rep_id": np.asarray(prep.rep_ids).astype(str),
                         "credit_cents": credit.astype(np.int64), "marginal_rate": rate})


@dataclass(frozen=True)
class Response:
    """The behavioural-response replay of a scenario (:func:`behavioural_response`).

    Attributes
    ----------
    elasticity : float
    reps : DataFrame
        ``rep_id, credit_cents, baseline_rate, scenario_rate, sales_change`` (float: the
        rep's change in sales, e.g. 0.05 = +5%).
    replay_cost_cents, response_cost_cents : int
        The scenario's cost on the actual year and with the responded sales.
    baseline_cost_cents : int
    credit_cents, response_credit_cents : int
        The scenario's credited revenue before and after the response.
    bookings_cents, extra_bookings_cents : int
        The year's bookings and the change the response makes (bookings x the
        credit-weighted change of the scenario's payees).
    source : str
        Where the default elasticity comes from.
    """

    elasticity: float
    reps: pd.DataFrame = field(repr=False)
    replay_cost_cents: int
    response_cost_cents: int
    baseline_cost_cents: int
    credit_cents: int
    response_credit_cents: int
    bookings_cents: int
    extra_bookings_cents: int
    source: str = ("Albers, Mantrala & Sridhar (2010), Personal Selling Elasticities: "
                   "A Meta-Analysis, Journal of Marketing Research 47(5): mean 0.34")

    def gross_profit_change_cents(self, margin: float) -> int:
        """Extra gross profit (margin x extra bookings) minus the scenario's extra cost over
        the baseline, with the response (cents)."""
        return int(round(margin * self.extra_bookings_cents)) - (
            self.response_cost_cents - self.baseline_cost_cents)


def behavioural_response(scenario: Plan, baseline: Plan, inputs: Inputs, *,
                         elasticity: float = DEFAULT_ELASTICITY, step: float = 0.05,
                         prepared: Prepared | None = None,
                         baseline_prepared: Prepared | None = None) -> Response:
    """Replay ``scenario`` with each rep's sales responding to its change in marginal rate.

    A rep's sales change by ``exp(elasticity x (m_s - m_b) / ((m_s + m_b) / 2)) - 1``,
    where ``m_b`` and ``m_s`` are the rep's marginal rates (:func:`rep_marginal_rates`)
    under the baseline and the scenario at the actual sales.  A payee of the scenario the
    baseline does not pay (or with both rates 0) does not change.  See the module
    docstring for the default elasticity and its source.

    Returns
    -------
    Response
    """
    if not math.isfinite(elasticity) or elasticity < 0:
        raise SpmkitError(f"behavioural_response: elasticity must be >= 0, not {elasticity!r}")
    s_prep = _prep(scenario, inputs, prepared)
    b_prep = _prep(baseline, inputs, baseline_prepared)
    s_rates = rep_marginal_rates(scenario, inputs, step, prepared=s_prep)
    b_rates = rep_marginal_rates(baseline, inputs, step, prepared=b_prep)
    m_s = s_rates["marginal_rate"].to_numpy(np.float64)
    m_b = pd.Series(b_rates["marginal_rate"].to_numpy(), index=b_rates["rep_id"]).reindex(
        s_rates["rep_id"]).to_numpy(np.float64)
    mean = (m_s + m_b) / 2
    ok = np.isfinite(m_s) & np.isfinite(m_b) & (mean > 0)
    arc = np.where(ok, (m_s - m_b) / np.where(ok, mean, 1), 0.0)
    change = np.expm1(elasticity * arc)
    credit = s_rates["credit_cents"].to_numpy(np.float64)
    scale = 1.0 + change
    cost = int(np.rint(s_prep.costs(scale[None, :])[0])) if len(scale) else 0
    replay = int(np.rint(s_prep.costs(1.0)[0])) if len(scale) else 0
    base = int(np.rint(b_prep.costs(1.0)[0])) if len(b_prep.rep_ids) else 0
    book = bookings_cents(scenario, inputs)
    moved = float((credit * change).sum() / credit.sum()) if credit.sum() else 0.0
    reps = pd.DataFrame({"rep_id": s_rates["rep_id"], "credit_cents": credit.astype(np.int64),
                         "baseline_rate": m_b, "scenario_rate": m_s, "sales_change": change})
    return Response(elasticity=float(elasticity), reps=reps, replay_cost_cents=replay,
                    response_cost_cents=cost, baseline_cost_cents=base,
                    credit_cents=int(credit.sum()),
                    response_credit_cents=int(np.rint((credit * scale).sum())),
                    bookings_cents=book, extra_bookings_cents=int(round(book * moved)))
