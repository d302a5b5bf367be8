"""Comparing plans on the same inputs: the baseline first, every scenario against it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from spmkit.errors import SpmkitError
from spmkit.payout import Prepared, Result, calculate, measure
from spmkit.plan import Plan
from spmkit.scenario.curve import (
    DEFAULT_CURVE_QUOTA_CENTS,
    DEFAULT_CURVE_TARGET_CENTS,
    pay_curve,
)
from spmkit.scenario.metrics import (
    attainment_bands,
    executive_metrics,
    kpis,
    movers,
    rep_deltas,
    rep_outcomes,
    segment_deltas,
)
from spmkit.scenario.risk import risk_summary, sensitivity, simulate
from spmkit.scenario.stress import break_even_uplift, marginal_cost
from spmkit.tables import Inputs

__all__ = ["Comparison", "compare"]

SEGMENT_BY = ("region", "role")


@dataclass(frozen=True)
class Comparison:
    """Plans run on the same inputs, with the frames a report shows.

    Every long frame has a ``plan`` column (plan names, baseline first); money in cents.

    Attributes
    ----------
    plans : list of str
        Plan names, the baseline first.
    results : dict
        Plan name -> :class:`spmkit.payout.Result`.
    headline : DataFrame
        One row per plan: ``plan``, every :func:`~spmkit.scenario.kpis` key and every
        :func:`~spmkit.scenario.metrics.executive_metrics` key, with ``cost_of_sales`` on
        bookings (each deal once) and ``cost_of_sales_on_credit`` on credited revenue
        (roll-ups and overlays count a deal again); ``delta_cents`` (int, total payout
        minus the baseline's), ``delta_pct`` (float; NaN when the baseline pays 0),
        ``p10_cents, p50_cents, p90_cents`` (int, simulated total cost; ``cost_range_cents``
        is P90 - P10) and
        ``revenue_p10_cents, revenue_p50_cents, revenue_p90_cents`` (int, simulated
        bookings), ``cost_of_sales_p10/_p50/_p90`` (float) and
        ``cost_at_p10_revenue_cents, cost_at_p90_revenue_cents`` (int: the cost in a weak
        and in a strong year; :func:`~spmkit.scenario.risk_summary`).
        ``reps_at_cap``, ``reps_below_threshold`` and ``base_salary_cents`` are nullable
        (``Int64``): missing when the plan has no cap or threshold, or the roster no base
        salary.
    bands : DataFrame
        ``plan, band, reps, share`` (:func:`~spmkit.scenario.attainment_bands`).
    outcomes : DataFrame
        ``plan`` + :func:`~spmkit.scenario.rep_outcomes` columns.
    rep_deltas : DataFrame
        ``plan`` + :func:`~spmkit.scenario.rep_deltas` columns, scenarios only.
    segments : DataFrame
        ``plan, by, segment, reps, baseline_payout_cents, payout_cents, delta_cents,
        delta_pct`` for ``by`` in region and role, scenarios only.
    sensitivity : DataFrame
        ``plan`` + :func:`~spmkit.scenario.sensitivity` columns.
    simulations : DataFrame
        ``plan`` + :func:`~spmkit.scenario.monte_carlo` columns.
    risk : DataFrame
        ``plan, p10, p50, p90`` (int cents, simulated total payout).
    pay_curves : DataFrame
        ``plan, attainment, payout_cents, payout_pct_of_target``.
    """

    plans: list[str]
    results: dict[str, Result]
    headline: pd.DataFrame
    bands: pd.DataFrame
    outcomes: pd.DataFrame
    rep_deltas: pd.DataFrame
    segments: pd.DataFrame
    sensitivity: pd.DataFrame
    simulations: pd.DataFrame
    risk: pd.DataFrame
    pay_curves: pd.DataFrame
    #: What the Monte Carlo simulated and its calibration
    #: (:class:`spmkit.scenario.risk.RiskModel`), for the report to state.
    risk_model: Any = None

    @property
    def baseline(self) -> str:
        """Name of the baseline plan."""
        return self.plans[0]

    def movers(self, plan: str, n: int = 10) -> pd.DataFrame:
        """The ``n`` reps who gain most and lose most under ``plan`` (see :func:`movers`)."""
        if plan not in self.plans[1:]:
            raise SpmkitError(f"{plan!r} is not a scenario of this comparison")
        return movers(self.rep_deltas[self.rep_deltas["plan"] == plan], n)

    def metrics(self) -> dict[str, dict[str, Any]]:
        """The headline numbers per plan name (baseline first), JSON-safe.

        Every ``*_cents`` column appears twice: as an int under its own name and in
        currency units (cents / 100, 2 decimals) without the suffix (``total_payout``,
        ``total_payout_cents``).  Other floats are rounded to 6 places; NaN becomes None.
        """
        out: dict[str, dict[str, Any]] = {}
        for row in self.headline.to_dict("records"):
            name = str(row.pop("plan"))
            item: dict[str, Any] = {}
            for key, value in row.items():
                if key.endswith("_cents"):
                    cents = _json_int(value)
                    item[key[: -len("_cents")]] = None if cents is None else round(cents / 100, 2)
                    item[key] = cents
                else:
                    item[key] = _json_value(value)
            out[name] = item
        return out


def _json_int(value: Any) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return int(value)


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if not math.isfinite(v) else round(v, 6)
    return str(value)


def _named(baseline: Plan, scenarios: Plan | Sequence[Plan] | Mapping[str, Plan]
           ) -> list[tuple[str, Plan]]:
    if isinstance(scenarios, Plan):
        items = [(scenarios.plan, scenarios)]
    elif isinstance(scenarios, Mapping):
        items = [(str(k), v) for k, v in scenarios.items()]
    else:
        items = [(p.plan, p) for p in scenarios]
    named = [(baseline.plan, baseline), *items]
    names = [n for n, _ in named]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SpmkitError(f"compare: plan names must differ, {', '.join(map(repr, dupes))} "
                          "is used more than once; rename a plan (its 'plan:' key)")
    return named


def _curve_basis(result: Result) -> tuple[int, int]:
    """Median annual target incentive and quota of the baseline payees (defaults if none)."""
    o = rep_outcomes(result)
    ti = pd.to_numeric(result.reps["target_incentive_cents"], errors="coerce").dropna()
    ti = ti[ti > 0]
    quota = o.loc[o["quota_cents"] > 0, "quota_cents"]
    t = int(np.rint(ti.median())) if len(ti) else DEFAULT_CURVE_TARGET_CENTS
    q = int(np.rint(quota.median())) if len(quota) else DEFAULT_CURVE_QUOTA_CENTS
    return t, q


def _long(frames: list[tuple[str, pd.DataFrame]], extra: dict[str, Any] | None = None
          ) -> pd.DataFrame:
    parts = []
    for name, frame in frames:
        f = frame.copy()
        for key, value in (extra or {}).items():
            f.insert(0, key, value)
        f.insert(0, "plan", name)
        parts.append(f)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"plan": []})
    out["plan"] = out["plan"].astype("str")
    return out


_INTS = ("reps", "reps_without_quota", "reps_losing_over_10pct")
#: Headline counts and amounts that are missing when a plan has no such thing (no cap, no
#: threshold, no base salary in the roster).
_OPTIONAL_INTS = ("reps_at_cap", "reps_below_threshold", "base_salary_cents",
                  "break_even_bookings_cents")


def _prepared(plan: Plan, grid: Any) -> Prepared:
    """The what-if engine on a grid already measured (and earned, by ``calculate``), so the
    plan is not credited a second time: :class:`spmkit.payout.Prepared` without its
    constructor's own ``measure``."""
    return Prepared(plan, grid=grid)


def _break_even(plan: Plan, baseline: Plan, inputs: Inputs, margin: float | None,
                prep: Prepared, base_prep: Prepared, *, is_baseline: bool) -> dict[str, Any]:
    """``break_even_uplift`` and ``break_even_bookings_cents`` of a scenario (empty without a
    margin; missing for the baseline)."""
    if margin is None:
        return {}
    if is_baseline:
        return {"break_even_uplift": math.nan, "break_even_bookings_cents": pd.NA}
    found = break_even_uplift(plan, baseline, inputs, float(margin), prepared=prep,
                              baseline_prepared=base_prep)
    extra = found["extra_bookings_cents"]
    return {"break_even_uplift": float(found["uplift"]),
            "break_even_bookings_cents": pd.NA if extra is None else int(extra)}


def compare(baseline: Plan, scenarios: Plan | Sequence[Plan] | Mapping[str, Plan],
            inputs: Inputs, *, draws: int = 2000, seed: int = 0,
            changes: np.ndarray | None = None,
            curve_attainment: np.ndarray | None = None,
            curve_target_incentive_cents: int | None = None,
            curve_quota_cents: int | None = None,
            margin: float | None = None) -> Comparison:
    """Run the baseline and each scenario on the same inputs and line them up.

    Parameters
    ----------
    baseline : Plan
        The plan the others are measured against.
    scenarios : Plan, list of Plan or dict of name -> Plan
        Alternatives; names come from each plan's ``plan:`` key (or the dict keys) and must
        differ from each other and from the baseline's.
    inputs : Inputs
        The same tables for every plan.
    draws, seed : int
        Monte Carlo draws and seed (:func:`~spmkit.scenario.monte_carlo`; the same seed
        for every plan).
    changes : array, optional
        Sales changes for :func:`~spmkit.scenario.sensitivity`.
    margin : float, optional
        Gross margin on an extra dollar of sales: with it, each scenario's headline has
        ``break_even_uplift`` and ``break_even_bookings_cents``, the sales uplift it must
        buy to pay for its extra cost (:func:`~spmkit.scenario.stress.break_even_uplift`;
        0 when it costs no more; NaN/None when no uplift up to 100% pays for it).
    curve_attainment, curve_target_incentive_cents, curve_quota_cents : optional
        Pay curve points and the synthetic rep's annual target incentive and quota
        (default: the medians of the baseline's payees with one).

    Returns
    -------
    Comparison
    """
    named = _named(baseline, scenarios)
    results: dict[str, Result] = {}
    prepared: dict[str, Prepared] = {}
    credited: dict = {}  # plans that credit alike share their credit lines
    for name, plan in named:  # each plan credited and measured here, once for the report
        try:
            measured = measure(plan, inputs, credited=credited)
            results[name] = calculate(plan, inputs, measured=measured)
            prepared[name] = _prepared(plan, measured[0])
        except SpmkitError as exc:  # say which plan the inputs do not fit
            problems = getattr(exc, "problems", None)
            if not problems:
                raise
            raise type(exc)([f"plan {name!r}: {p}" if isinstance(p, str) else p
                             for p in problems]) from None
    base_name = named[0][0]
    base = results[base_name]
    base_outcomes = rep_outcomes(base)
    t_def, q_def = _curve_basis(base)
    ti = t_def if curve_target_incentive_cents is None else int(curve_target_incentive_cents)
    quota = q_def if curve_quota_cents is None else int(curve_quota_cents)

    rows, sens, sims, risks, curves = [], [], [], [], []
    base_total = base.total_payout_cents
    # one set of simulated years for every plan (common random numbers)
    simulation = simulate([plan for _, plan in named], inputs, draws=draws, seed=seed)
    for name, plan in named:
        res = results[name]
        prep = prepared[name]
        run = simulation.run(plan, inputs, prepared=prep, name=name, credits=res.credits)
        mc = run.draws
        risk = risk_summary(run)
        k = kpis(res)
        marginal = marginal_cost(plan, inputs, prepared=prep)
        ex = executive_metrics(res, prep, bookings_cents=int(marginal["bookings_cents"]),
                               marginal_cost_of_sales=float(
                                   marginal["marginal_cost_of_sales"]),
                               baseline_outcomes=base_outcomes, roster=inputs.roster)
        total = int(k["total_payout_cents"])
        booked = [int(risk[f"revenue_p{q}"]) for q in (10, 50, 90)]
        row = {"plan": name, **k.to_dict(),
               "cost_of_sales_on_credit": k["cost_of_sales"],
               **ex.to_dict(),
               "cost_of_sales": ex["cost_of_sales_on_bookings"],
               "delta_cents": total - base_total,
               "delta_pct": (total - base_total) / base_total if base_total else math.nan,
               **_break_even(plan, named[0][1], inputs, margin, prep, prepared[base_name],
                             is_baseline=name == base_name),
               "p10_cents": int(risk["p10"]), "p50_cents": int(risk["p50"]),
               "p90_cents": int(risk["p90"]),
               "cost_range_cents": int(risk["p90"]) - int(risk["p10"]),
               "revenue_p10_cents": booked[0], "revenue_p50_cents": booked[1],
               "revenue_p90_cents": booked[2],
               "cost_of_sales_p10": float(risk["cost_of_sales_p10"]),
               "cost_of_sales_p50": float(risk["cost_of_sales_p50"]),
               "cost_of_sales_p90": float(risk["cost_of_sales_p90"]),
               "cost_at_p10_revenue_cents": int(risk["cost_at_p10_revenue"]),
               "cost_at_p90_revenue_cents": int(risk["cost_at_p90_revenue"])}
        row.pop("cost_of_sales_on_bookings")
        rows.append(row)
        sens.append((name, sensitivity(plan, inputs, changes, prepared=prep)))
        sims.append((name, mc))
        risks.append({"plan": name, "p10": int(risk["p10"]), "p50": int(risk["p50"]),
                      "p90": int(risk["p90"])})
        curves.append((name, pay_curve(plan, attainment=curve_attainment,
                                       target_incentive_cents=ti, quota_cents=quota)))
    headline = pd.DataFrame(rows)
    headline["plan"] = headline["plan"].astype("str")
    for col in headline.columns:
        if col in _OPTIONAL_INTS:
            headline[col] = headline[col].astype("Int64")
        elif col.endswith("_cents") or col in _INTS:
            headline[col] = headline[col].astype(np.int64)
        elif col != "plan":
            headline[col] = headline[col].astype(np.float64)
    others = named[1:]
    segments = []
    for name, _ in others:
        for by in SEGMENT_BY:
            segments.append((name, segment_deltas(base, results[name], by=by).assign(by=by)))
    seg = _long(segments)
    if len(seg.columns) > 1:
        seg = seg[["plan", "by", *[c for c in seg.columns if c not in ("plan", "by")]]]
    risk_frame = pd.DataFrame(risks)
    risk_frame["plan"] = risk_frame["plan"].astype("str")
    for c in ("p10", "p50", "p90"):
        risk_frame[c] = risk_frame[c].astype(np.int64)
    return Comparison(
        plans=[n for n, _ in named],
        results=results,
        headline=headline,
        bands=_long([(n, attainment_bands(results[n])) for n, _ in named]),
        outcomes=_long([(n, rep_outcomes(results[n])) for n, _ in named]),
        rep_deltas=_long([(n, rep_deltas(base, results[n])) for n, _ in others]),
        segments=seg,
        sensitivity=_long(sens),
        simulations=_long(sims),
        risk=risk_frame,
        pay_curves=_long(curves),
        risk_model=simulation.model,
    )
