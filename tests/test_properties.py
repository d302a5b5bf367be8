"""Invariants of the engine, checked with hypothesis on small random inputs."""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

import numpy as np
import pandas as pd
from engine_helpers import annual_quotas, commission, deal, flat, inputs, make_plan, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spmkit.payout import calculate, prepare
from spmkit.tables import Inputs, load_deals

SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
HEAVY = settings(SETTINGS, max_examples=30)  # two calculations per example
DAY0 = pd.Timestamp("2026-01-01")

cents = st.integers(min_value=-10**9, max_value=10**9)
positive_cents = st.integers(min_value=1, max_value=10**9)
day = st.integers(min_value=0, max_value=364)


def money(c: int) -> float:
    """Cents as a float amount the loader reads back exactly."""
    return c / 100


def date(offset: int) -> str:
    return f"{DAY0 + pd.Timedelta(days=offset):%Y-%m-%d}"


def half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@st.composite
def shares(draw: st.DrawFn) -> list[int]:
    """1-5 shares in thousandths summing to exactly 1,000."""
    n = draw(st.integers(1, 5))
    cuts = sorted(draw(st.lists(st.integers(1, 999), min_size=n - 1, max_size=n - 1,
                                unique=True)))
    edges = [0, *cuts, 1000]
    return [b - a for a, b in zip(edges, edges[1:], strict=False)]


@SETTINGS
@given(amount=cents.filter(bool), parts=shares(), rate=st.sampled_from([None, "1.1", "0.8765"]))
def test_split_credits_sum_exactly_to_the_deal(amount: int, parts: list[int],
                                               rate: str | None) -> None:
    extra = {"currency": "EUR"} if rate else {}
    fx = [{"currency": "EUR", "rate": rate}] if rate else None
    splits = [{"deal_id": "D1", "rep_id": f"R{i}", "share": p / 1000}
              for i, p in enumerate(parts)]
    r = run(make_plan(flat("0.1")), [deal("D1", "R0", "2026-03-01", money(amount), **extra)],
            splits=splits, fx=fx)
    converted = half_up(Decimal(amount) * Decimal(rate)) if rate else amount
    got = r.credits.set_index("rep_id")["amount_cents"]
    assert int(got.sum()) == converted
    # every share is rounded to the cent; the residue goes to the largest (first of equals)
    largest = max(range(len(parts)), key=lambda i: (parts[i], -i))
    for i, p in enumerate(parts):
        if i != largest:
            assert int(got[f"R{i}"]) == half_up(Decimal(converted) * p / 1000)


@st.composite
def deal_rows(draw: st.DrawFn, min_size: int = 1, max_size: int = 12,
              cancelled: float | None = None) -> list[dict]:
    n = draw(st.integers(min_size, max_size))
    rows = []
    for i in range(n):
        close = draw(day)
        row = deal(f"D{i:02d}", draw(st.sampled_from(["A", "B", "C"])), date(close),
                   money(draw(st.integers(1, 5 * 10**7))),
                   product=draw(st.sampled_from(["Widget", "Widget Pro"])))
        cancel = draw(st.booleans()) if cancelled is None else True
        if cancel:
            row["cancel_date"] = date(draw(st.integers(close, 364)))
        rows.append(row)
    return rows


RICH_PLAN = make_plan(
    commission({"from": 0, "rate": 0.04}, {"from": 1, "rate": 0.09},
               {"from": 1.5, "bcr_multiple": 2}, cap={"ti_multiple": 2}),
    commission({"from": 0, "rate": "0.013"}, {"from": 0.8, "rate": "0.027"},
               method="retroactive", attainment="period", cid="retro"),
    {"id": "bonus", "type": "bonus", "weight": 0.3, "curve": [[0.5, 0], [1, 1], [1.5, 1.8]]},
    {"id": "spif", "type": "spif", "window": ["2026-03-01", "2026-09-30"], "per_deal": 250,
     "filter": {"product": ["Widget Pro"]}},
    period="month",
)
QUOTAS = annual_quotas({"A": 600_000, "B": 450_000.03, "C": 1_000_000})
ROSTER = pd.DataFrame({"rep_id": ["A", "B", "C"], "target_incentive": [30_000, 25_000, 0],
                       "draw": [0, 2_500, 500], "draw_type": ["", "recoverable",
                                                              "non_recoverable"],
                       "hire_date": ["", "2026-02-17", ""], "term_date": ["", "", "2026-10-09"]})


SPLITS = pd.DataFrame({"deal_id": ["D00", "D00"], "rep_id": ["B", "C"], "share": [0.3, 0.7]})


@cache
def base_inputs(seed: int | None = None) -> Inputs:
    """Quotas, roster and splits loaded once (rows shuffled by ``seed``); deals per example."""
    frames = [QUOTAS, ROSTER, SPLITS]
    if seed is not None:
        rng = np.random.default_rng(seed)
        frames = [f.iloc[rng.permutation(len(f))].reset_index(drop=True) for f in frames]
    dummy = [deal("D00", "A", "2026-01-01", 1)]
    return inputs(dummy, *frames)


def with_deals(rows: list[dict] | pd.DataFrame, seed: int | None = None) -> Inputs:
    return replace(base_inputs(seed), deals=load_deals(pd.DataFrame(rows)))


@HEAVY
@given(rows=deal_rows(), seed=st.integers(0, 5))
def test_results_do_not_depend_on_input_row_order(rows: list[dict], seed: int) -> None:
    deals = pd.DataFrame(rows)
    shuffled = deals.iloc[np.random.default_rng(seed).permutation(len(deals))]
    a = calculate(RICH_PLAN, with_deals(deals))
    b = calculate(RICH_PLAN, with_deals(shuffled.reset_index(drop=True), seed))
    pd.testing.assert_frame_equal(a.payouts, b.payouts)
    pd.testing.assert_frame_equal(a.credits, b.credits)
    pd.testing.assert_frame_equal(a.attainment, b.attainment)


@st.composite
def bands(draw: st.DrawFn) -> list[dict]:
    n = draw(st.integers(1, 4))
    starts = sorted(draw(st.lists(st.integers(1, 300), min_size=n - 1, max_size=n - 1,
                                  unique=True)))
    rates = draw(st.lists(st.integers(0, 300), min_size=n, max_size=n))
    return [{"from": s / 100, "rate": r / 1000} for s, r in zip([0, *starts], rates,
                                                                strict=True)]


@SETTINGS
@given(tiers=bands(), credit=st.lists(st.integers(0, 10**9), min_size=2, max_size=8))
def test_marginal_payouts_never_fall_as_credit_rises(tiers: list[dict],
                                                     credit: list[int]) -> None:
    credit = sorted(credit)
    reps = [f"R{i}" for i in range(len(credit))]
    deals = [deal(f"D{i}", rep, "2026-06-01", money(c)) for i, (rep, c)
             in enumerate(zip(reps, credit, strict=True)) if c]
    if not deals:
        return
    plan = make_plan(commission(*tiers), period="year")
    r = run(plan, deals, annual_quotas(dict.fromkeys(reps, 1_000_000)))
    pay = r.payouts.set_index("rep_id")["amount_cents"].reindex(reps).tolist()
    assert pay == sorted(pay)
    assert pay[0] >= 0


@SETTINGS
@given(amounts=st.lists(st.integers(-5 * 10**6, 5 * 10**7), min_size=12, max_size=12),
       cap=st.integers(0, 2 * 10**6), basis=st.sampled_from(["ytd", "period"]),
       ti_multiple=st.booleans())
def test_caps_are_never_exceeded(amounts: list[int], cap: int, basis: str,
                                 ti_multiple: bool) -> None:
    cap_spec = {"ti_multiple": 2} if ti_multiple else {"amount": cap / 100}
    limit = 2 * cap if ti_multiple else cap  # TI = cap cents; weight 1
    plan = make_plan(commission({"from": 0, "rate": 0.05}, {"from": 1, "rate": 0.2},
                                attainment=basis, cap=cap_spec), period="month")
    deals = [deal(f"D{m}", "A", f"2026-{m:02d}-05", money(a))
             for m, a in enumerate(amounts, 1) if a]
    if not deals:
        return
    r = run(plan, deals, annual_quotas({"A": 1_200_000}),
            roster=[{"rep_id": "A", "target_incentive": money(cap)}])
    paid_to_date = np.cumsum(r.payouts["amount_cents"].to_numpy())
    assert (paid_to_date <= limit).all()


@SETTINGS
@given(amounts=st.lists(st.integers(-10**7, 10**8), min_size=12, max_size=12),
       rate=st.integers(1, 99_999))
def test_ytd_payouts_sum_to_rounded_earnings_to_date(amounts: list[int], rate: int) -> None:
    r_dec = Decimal(rate) / 10**5  # e.g. 0.03125
    plan = make_plan(flat(str(r_dec)), period="month")
    deals = [deal(f"D{m}", "A", f"2026-{m:02d}-28", money(a))
             for m, a in enumerate(amounts, 1) if a]
    if not deals:
        return
    r = run(plan, deals)
    pay = r.payouts["amount_cents"].to_numpy()
    to_date = r.payouts["earnings_to_date_cents"].to_numpy()
    assert np.cumsum(pay).tolist() == to_date.tolist()
    expected = [half_up(r_dec * c) for c in np.cumsum(amounts).tolist()]
    assert to_date.tolist() == expected


@SETTINGS
@given(rows=deal_rows(cancelled=True))
def test_booked_then_cancelled_deals_net_to_zero(rows: list[dict]) -> None:
    plan = make_plan(commission({"from": 0, "rate": "0.031"}, {"from": 0.5, "rate": "0.077"},
                                {"from": 1.2, "rate": "0.15"}), period="month")
    r = calculate(plan, with_deals(rows))
    com = r.payouts[r.payouts["component"] == "commission"]  # not the roster's draw rows
    totals = com.groupby("rep_id")["amount_cents"].sum()
    assert (totals == 0).all()
    assert int(r.credits["amount_cents"].sum()) == 0


@HEAVY
@given(rows=deal_rows())
def test_prepared_costs_at_one_equal_calculate(rows: list[dict]) -> None:
    data = with_deals(rows)
    total = calculate(RICH_PLAN, data).total_payout_cents
    assert prepare(RICH_PLAN, data).costs(1.0).tolist() == [float(total)]
