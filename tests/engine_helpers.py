"""Small builders of plans and input frames for the engine tests.

Inputs always go through the real loaders (:func:`spmkit.tables.load_inputs` on small
DataFrames), so the tests exercise the same path as the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from spmkit.payout import Result, calculate
from spmkit.plan import Plan, load_plan
from spmkit.tables import Inputs, load_inputs

Rows = Sequence[Mapping[str, Any]] | pd.DataFrame | None


def make_plan(*components: Mapping[str, Any], period: str = "quarter",
              year_start: str = "2026-01-01", **top: Any) -> Plan:
    """A plan from component dicts (YAML key names) and top-level keys."""
    data = {"plan": top.pop("plan", "Test plan"), "currency": top.pop("currency", "USD"),
            "year_start": year_start, "period": period, **top,
            "components": [dict(c) for c in components]}
    return load_plan(data, name="test-plan.yaml")


def commission(*bands: Mapping[str, Any], cid: str = "commission", method: str = "marginal",
               attainment: str = "ytd", **kw: Any) -> dict[str, Any]:
    """A commission component; ``bands`` like ``{"from": 0, "rate": 0.1}``."""
    return {"id": cid, "type": "commission", "attainment": attainment,
            "tiers": {"method": method, "bands": [dict(b) for b in bands]}, **kw}


def flat(rate: float | str, **kw: Any) -> dict[str, Any]:
    """A one-band commission at ``rate`` (needs no quota)."""
    return commission({"from": 0, "rate": rate}, **kw)


def frame(rows: Rows) -> pd.DataFrame | None:
    if rows is None or isinstance(rows, pd.DataFrame):
        return rows
    return pd.DataFrame([dict(r) for r in rows])


def deal(deal_id: str, rep_id: str, close_date: str, amount: Any, **extra: Any) -> dict:
    """One deals row."""
    return {"deal_id": deal_id, "rep_id": rep_id, "close_date": close_date, "amount": amount,
            **extra}


def annual_quotas(quotas: Mapping[str, Any], year: int = 2026) -> pd.DataFrame:
    """Annual quotas: ``{"A": 100000}`` -> rows ``rep_id, year, quota``."""
    return pd.DataFrame({"rep_id": list(quotas), "year": [year] * len(quotas),
                         "quota": list(quotas.values())})


def period_quotas(quotas: Mapping[str, Iterable[Any]], plan: Plan) -> pd.DataFrame:
    """Per-period quotas: ``{"A": [q1, q2, ...]}`` in the plan's period order."""
    from spmkit.periods import plan_periods

    starts = plan_periods(plan.year_start, plan.period).starts
    rows = [{"rep_id": rep, "period_start": f"{starts[i]:%Y-%m-%d}", "quota": q}
            for rep, qs in quotas.items() for i, q in enumerate(qs)]
    return pd.DataFrame(rows)


def inputs(deals: Rows, quotas: Rows = None, roster: Rows = None, splits: Rows = None,
           fx: Rows = None) -> Inputs:
    """Load small tables through :func:`spmkit.tables.load_inputs`."""
    return load_inputs(frame(deals), quotas=frame(quotas), roster=frame(roster),
                       splits=frame(splits), fx=frame(fx))


def run(plan: Plan, deals: Rows, quotas: Rows = None, roster: Rows = None,
        splits: Rows = None, fx: Rows = None) -> Result:
    """Load the tables and calculate."""
    return calculate(plan, inputs(deals, quotas, roster, splits, fx))


def paid(result: Result, rep_id: str, component: str) -> list[int]:
    """A payee's ``amount_cents`` per period for one component, in period order."""
    p = result.payouts
    rows = p[(p["rep_id"] == rep_id) & (p["component"] == component)]
    return rows.sort_values("period_index")["amount_cents"].astype(int).tolist()


def column(result: Result, rep_id: str, component: str, name: str) -> list:
    """Any payouts column for one payee and component, in period order."""
    p = result.payouts
    rows = p[(p["rep_id"] == rep_id) & (p["component"] == component)]
    return rows.sort_values("period_index")[name].tolist()


def credits(result: Result, rep_id: str | None = None) -> list[tuple]:
    """Credit lines as ``(deal_id, rep_id, YYYY-MM-DD, amount_cents, rule)``, sorted."""
    c = result.credits
    if rep_id is not None:
        c = c[c["rep_id"] == rep_id]
    return sorted(zip(c["deal_id"], c["rep_id"], c["credit_date"].dt.strftime("%Y-%m-%d"),
                      c["amount_cents"].astype(int), c["rule"], strict=True))
