"""Quota setting: allocations, growth, forecast, phasing, ramps, proration and health."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spmkit.errors import InputError
from spmkit.money import allocate
from spmkit.periods import plan_periods
from spmkit.quota import (
    SalesForecast,
    allocate_rows,
    apply_factors,
    attainment_bands,
    employment_factors,
    growth_quotas,
    norm_verdict,
    phase,
    propose_quotas,
    replay_attainment,
    scale_cents,
    share_quotas,
)

Q = plan_periods(date(2026, 1, 1), "quarter")


def _hist(values: dict[str, int]) -> pd.Series:
    return pd.Series(list(values.values()), index=pd.Index(list(values), name="rep_id"),
                     dtype=np.int64)


def _deals(rows: list[tuple[str, str, int]], region: str | None = None) -> pd.DataFrame:
    return pd.DataFrame({
        "deal_id": [f"D{i}" for i in range(len(rows))],
        "rep_id": pd.Series([r[0] for r in rows], dtype="str"),
        "close_date": pd.to_datetime([r[1] for r in rows]),
        "amount_cents": np.array([r[2] for r in rows], dtype=np.int64),
        "currency": pd.Series([pd.NA] * len(rows), dtype="str"),
        "region": pd.Series([region] * len(rows), dtype="str"),
        "cancel_date": pd.to_datetime([None] * len(rows)),
    })


# ----------------------------------------------------------------------------- exact cents

def test_scale_cents_rounds_half_away_from_zero():
    assert scale_cents([1000, 5, -5, 15], "1.1").tolist() == [1100, 6, -6, 17]  # 16.5 -> 17
    assert scale_cents([333], "0.5").tolist() == [167]


@settings(max_examples=60, deadline=None)
@given(total=st.integers(0, 10**13),
       weights=st.lists(st.integers(0, 10**9), min_size=1, max_size=12).filter(any))
def test_allocate_rows_sums_exactly_and_matches_money_allocate(total, weights):
    grid = allocate_rows([total], np.array(weights))
    assert int(grid.sum()) == total
    assert grid[0].tolist() == allocate(total, np.array(weights)).tolist()


# ----------------------------------------------------------------------------- growth

def test_growth_hand_computed_with_floor_ceiling_and_no_history():
    """history 100, 200, 1000, 0 (cents x100); growth 10%.
    grown 110, 220, 1100 -> team median of reps with history = 220;
    floor 0.5 x 220 = 110; ceiling 2 x 220 = 440: 1100 is cut to 440, the rep with no
    history gets the floor 110."""
    h = _hist({"a": 10_000, "b": 20_000, "c": 100_000, "d": 0})
    out = growth_quotas(h, growth="0.1", floor="0.5", ceiling="2.0")
    assert out["annual_cents"].tolist() == [11_000, 22_000, 44_000, 11_000]
    assert "ceiling" in out["reason"][2] and "no prior-year sales" in out["reason"][3]
    assert out["reason"][0].startswith("prior-year credit 100.00 x 1.1 = 110.00")


def test_growth_without_bounds_is_plain_growth():
    h = _hist({"a": 10_001, "b": 3})
    out = growth_quotas(h, growth="0.05", floor=None, ceiling=None)
    assert out["annual_cents"].tolist() == [10_501, 3]  # 10501.05 -> 10501; 3.15 -> 3


def test_growth_bad_settings():
    with pytest.raises(InputError, match="growth"):
        growth_quotas(_hist({"a": 1}), growth="-1")
    with pytest.raises(InputError, match="no rep has credited sales"):
        growth_quotas(_hist({"a": 0}), growth="0.1")


# ----------------------------------------------------------------------------- share / potential

def test_share_ties_uneven_target_and_no_history_rep():
    """Target 1,000.00 = 100000 cents. History 300, 300, 0, 600 -> the no-history rep is
    raised to 0.5 x median(300, 300, 600) = 150; weights 300:300:150:600 (total 1350).
    Exact shares 22222.22, 22222.22, 11111.11, 44444.44 -> floors sum 99999, the cent goes
    to the largest remainder (0.44, rep d).  Ties: 200 cents over three equal reps gives
    66.67 each -> the two cents left go to the first two."""
    h = _hist({"a": 300, "b": 300, "c": 0, "d": 600})
    out = share_quotas(100_000, h)
    assert out["annual_cents"].tolist() == [22_222, 22_222, 11_111, 44_445]
    assert out["annual_cents"].sum() == 100_000
    tied = share_quotas(200, _hist({"x": 5, "y": 5, "z": 5}))
    assert tied["annual_cents"].tolist() == [67, 67, 66]


def test_share_without_floor_gives_no_history_rep_nothing():
    h = _hist({"a": 1, "b": 2, "c": 0})
    assert share_quotas(100, h, floor=None)["annual_cents"].tolist() == [33, 67, 0]


def test_potential_and_blend():
    h = _hist({"a": 100, "b": 300})
    pot = pd.Series([3.0, 1.0], index=pd.Index(["a", "b"], name="rep_id"))
    assert share_quotas(1000, h, potential=pot, weight=0)["annual_cents"].tolist() == [750, 250]
    # blend 0.5: a = 0.5 x 0.25 + 0.5 x 0.75 = 0.5
    assert share_quotas(1000, h, potential=pot, weight="0.5")["annual_cents"].tolist() == [500,
                                                                                           500]
    with pytest.raises(InputError, match="potential"):
        share_quotas(1000, h, weight=0)


@settings(max_examples=50, deadline=None)
@given(target=st.integers(0, 10**12),
       hist=st.lists(st.integers(-10**6, 10**9), min_size=1, max_size=30).filter(
           lambda xs: any(x > 0 for x in xs)),
       weight=st.sampled_from(["1", "0.5", "0.25", "0"]))
def test_share_sums_exactly_to_target(target, hist, weight):
    h = _hist({f"r{i}": v for i, v in enumerate(hist)})
    pot = pd.Series(np.arange(1, len(hist) + 1, dtype=np.float64) / 7, index=h.index)
    out = share_quotas(target, h, potential=pot, weight=weight)
    assert int(out["annual_cents"].sum()) == target
    assert (out["annual_cents"] >= 0).all()


# ----------------------------------------------------------------------------- phasing, ramps

def test_published_proration_example():
    """"Formula to Prorate a Quota" (forum thread, 2019): annual 100,000 phased 20/20/20/40 by
    quarter, rep starts 1 March -> Q1 6,667, Q2-Q3 20,000, Q4 40,000 (year 86,667).
    Ours is month-based (one month of Q1 employed): Q1 = 20,000 x 1/3 = 6,666.67."""
    annual = pd.DataFrame({"rep_id": ["new"], "annual_cents": [10_000_000]})
    phased = phase(annual, Q, ["0.2", "0.2", "0.2", "0.4"])
    assert phased["quota_cents"].tolist() == [2_000_000, 2_000_000, 2_000_000, 4_000_000]
    f = employment_factors(pd.Series(pd.to_datetime(["2026-03-01"])),
                           pd.Series(pd.to_datetime([None])), Q)
    out = apply_factors(phased, f)["quota_cents"].tolist()
    assert out == [666_667, 2_000_000, 2_000_000, 4_000_000]
    assert [round(c / 100) for c in out] == [6_667, 20_000, 20_000, 40_000]
    assert round(sum(out) / 100) == 86_667


def test_mid_month_rule_and_termination():
    hire = pd.Series(pd.to_datetime(["2026-03-15", "2026-03-16", None]))
    term = pd.Series(pd.to_datetime([None, None, "2026-08-14"]))
    f = employment_factors(hire, term, Q).astype(float)
    np.testing.assert_allclose(f, [[1 / 3, 1, 1, 1], [0, 1, 1, 1], [1, 1, 1 / 3, 0]])


def test_days_proration():
    f = employment_factors(pd.Series(pd.to_datetime(["2026-03-01"])),
                           pd.Series(pd.to_datetime([None])), Q, proration="days")
    assert float(f[0, 0]) == pytest.approx(31 / 90)  # March's 31 of Q1's 90 days
    assert float(f[0, 1]) == 1.0


def test_ramp_25_50_75_over_first_quarters():
    """Hired 1 Jan: ramp 25/50/75% over the first three quarters, 100% after."""
    f = employment_factors(pd.Series(pd.to_datetime(["2026-01-01"])),
                           pd.Series(pd.to_datetime([None])), Q, ramp=["0.25", "0.5", "0.75"])
    assert [float(x) for x in f[0]] == [0.25, 0.5, 0.75, 1.0]
    # hired 1 Feb: months 0-2 of tenure are Feb-Apr at 25%, then May-Jul at 50% ...
    f = employment_factors(pd.Series(pd.to_datetime(["2026-02-01"])),
                           pd.Series(pd.to_datetime([None])), Q, ramp=["0.25", "0.5", "0.75"])
    assert [float(x) for x in f[0]] == pytest.approx([0.5 / 3, (0.25 + 1.0) / 3,
                                                      (0.5 + 1.5) / 3, (0.75 + 2) / 3])


def test_phasing_sums_per_rep_and_rejects_bad_weights():
    annual = pd.DataFrame({"rep_id": ["a", "b"], "annual_cents": [1001, 7]})
    out = phase(annual, Q, [1, 1, 1, 1])
    assert out.groupby("rep_id")["quota_cents"].sum().tolist() == [1001, 7]
    assert out["quota_cents"].tolist() == [251, 250, 250, 250, 2, 2, 2, 1]
    with pytest.raises(InputError, match="phasing has 3"):
        phase(annual, Q, [1, 1, 1])


# ----------------------------------------------------------------------------- forecast

def _seasonal_series(months: int = 48, seed: int = 3) -> tuple[pd.Series, np.ndarray]:
    season = np.array([0.8, 0.85, 1.1, 0.9, 0.95, 1.2, 0.85, 0.8, 1.15, 1.0, 1.05, 1.35])
    t = np.arange(months + 12)
    truth = (1_000_000 + 5_000 * t) * np.tile(season, (months + 12) // 12)
    noise = np.random.default_rng(seed).normal(0, 10_000, months)
    idx = pd.date_range("2022-01-01", periods=months, freq="MS")
    return pd.Series(truth[:months] + noise, index=idx), truth[months:]


@pytest.mark.parametrize("seasonal", ["add", "mul"])
def test_forecast_recovers_known_seasonal_pattern(seasonal):
    """Synthetic monthly sales: linear trend x a known seasonal profile + small noise (1%).
    The next year's forecast is within 4% of the truth each month, the seasonal profile is
    recovered (correlation > 0.98), and the 90% interval of the year covers the truth."""
    y, truth = _seasonal_series()
    res = SalesForecast(y, seasonal=seasonal).fit()
    frame = res.summary_frame(pd.Timestamp("2026-12-01"))
    assert list(frame.columns) == ["mean", "pi_lower", "pi_upper"] and len(frame) == 12
    assert np.max(np.abs(frame["mean"].to_numpy() / truth - 1)) < 0.04
    assert np.corrcoef(frame["mean"], truth)[0, 1] > 0.98
    assert (frame["pi_lower"] < frame["mean"]).all() and (frame["mean"] < frame["pi_upper"]).all()
    year = res.annual(pd.Timestamp("2026-01-01"), draws=400, seed=1)
    assert year["pi_lower"] < truth.sum() < year["pi_upper"]
    assert res.note == ""


def test_short_history_falls_back_and_says_so():
    y, _ = _seasonal_series(months=12)
    res = SalesForecast(y).fit()
    assert "level-only" in res.note
    with pytest.raises(InputError, match="at least"):
        SalesForecast(y[:4]).fit()


# ----------------------------------------------------------------------------- health

def test_bands_and_norm():
    att = pd.DataFrame({"band": ["<50%", "100-125%", "100-125%", ">=150%"]})
    b = attainment_bands(att)
    assert b["reps"].tolist() == [1, 0, 0, 2, 0, 1]
    assert norm_verdict(0.65) == "healthy" and norm_verdict(0.9) == "too easy"
    assert norm_verdict(0.4) == "too hard" and norm_verdict(0.8) == "easy side"


def test_replay_attainment_prior_and_band_edges():
    deals = _deals([("a", "2025-03-01", 100_00), ("b", "2025-06-01", 75_00),
                    ("c", "2025-06-01", 150_00)])
    quotas = pd.DataFrame({"rep_id": ["a", "a", "b", "c"], "quota_cents": [50_00, 50_00,
                                                                           100_00, 100_00]})
    out = replay_attainment(quotas, deals, pd.Timestamp("2026-01-01"))
    assert out["attainment"].tolist() == [1.0, 0.75, 1.5]
    assert out["band"].tolist() == ["100-125%", "75-100%", ">=150%"]  # edges go up


def test_propose_end_to_end_small():
    rows = [("a", "2025-02-10", 100_00), ("a", "2025-11-10", 300_00),
            ("b", "2025-05-10", 200_00), ("c", "2025-08-01", 100_00)]
    deals = _deals(rows, region="East")
    p = propose_quotas(deals, year=2026, method="share", target_cents=1_000_00,
                       period="quarter", phasing="even")
    assert int(p.quotas["quota_cents"].sum()) == 1_000_00
    assert p.annual["annual_cents"].tolist() == [57_143, 28_571, 14_286]
    # health is judged against simulated plan-year sales, not the prior year it came from
    assert p.health.figures["basis"] == "simulated"
    assert p.health.figures["share_error"] is not None
    # 11 months of history: too few for a twelve-month backtest, and the proposal says so
    assert any("too few for a twelve-month backtest" in n for n in p.notes)
    assert p.forecast_selection.chosen in ("level", "damped trend")
    with pytest.raises(InputError, match="no deals between 2024-01-01 and 2024-12-31"):
        propose_quotas(deals, year=2025, method="growth")
    with pytest.raises(InputError, match="needs a target"):
        propose_quotas(deals, year=2026, method="share")
    with pytest.raises(InputError, match="unknown method"):
        propose_quotas(deals, year=2026, method="magic")
