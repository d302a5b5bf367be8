"""Quota forecasts: candidate models chosen by AICc and rolling-origin backtests, plan-year
intervals calibrated on generated histories with shocks, the target at a percentile, the
summary JSON, and health judged against simulated plan-year sales."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from spmkit.errors import InputError
from spmkit.quota.forecast import (
    AICC_SHORTLIST,
    CANDIDATES,
    PRIOR_WEIGHT,
    PRIOR_YEAR_ERROR,
    select_forecast,
)
from spmkit.quota.health import (
    DEFAULT_REP_SPREAD,
    quota_health,
    rep_spread,
    simulate_attainment,
)
from spmkit.quota.history import monthly_sales, to_plan_currency
from spmkit.sample import generate, write_sample
from spmkit.tables import load_deals, load_fx

PLAN_YEAR = pd.Timestamp("2025-01-01")


def _company(seed: int, years: int, reps: int = 20) -> tuple[pd.Series, float]:
    """Monthly company sales before the plan year 2025 (all of them) and the plan year's
    actual total, cents, from a generated org."""
    tables = generate(reps=reps, years=years, seed=seed)
    deals = to_plan_currency(load_deals(tables["deals"]), load_fx(tables["fx"]), "USD")
    monthly = monthly_sales(deals, end=PLAN_YEAR + pd.DateOffset(years=1))["company"]
    return monthly[monthly.index < PLAN_YEAR], float(monthly[monthly.index >= PLAN_YEAR].sum())


# ----------------------------------------------------------------------------- calibration

@pytest.mark.parametrize("years, months", [(3, 24), (4, 36)])
def test_90pct_interval_holds_the_actual_in_at_least_75pct_of_generated_histories(years, months):
    """20 generated orgs (the generator's company and regional shocks across years; small
    orgs, monthly company totals): the plan-year 90% interval, fitted on all the history
    before the plan year, holds the plan year's actual sales at least 15 times in 20."""
    hits = []
    for seed in range(20):
        history, actual = _company(seed, years)
        assert len(history) == months  # all the history is used, not the last year
        selection = select_forecast(history)
        assert selection.months == months
        year = selection.plan_year(PLAN_YEAR, draws=400, seed=seed)
        assert year.level == 0.9 and year.lower < year.mean < year.upper
        hits.append(year.lower <= actual <= year.upper)
    assert sum(hits) >= 15, f"coverage {sum(hits)}/20"


# ----------------------------------------------------------------------------- selection

def _seasonal_series(months: int, seed: int = 3, noise: float = 10_000) -> pd.Series:
    season = np.array([0.8, 0.85, 1.1, 0.9, 0.95, 1.2, 0.85, 0.8, 1.15, 1.0, 1.05, 1.35])
    t = np.arange(months)
    truth = (1_000_000 + 5_000 * t) * np.resize(season, months)
    rng = np.random.default_rng(seed)
    return pd.Series(truth + rng.normal(0, noise, months),
                     index=pd.date_range("2021-01-01", periods=months, freq="MS"))


def test_selection_table_and_rule_on_a_seasonal_history():
    """48 months with a strong season: every candidate is fitted; the chosen one (a
    seasonal model) is backtested at origins six months apart, from twelve months before
    the end back to 24 months in; the choice is shortlisted by AICc."""
    sel = select_forecast(_seasonal_series(48))
    table = sel.candidates.set_index("model")
    assert list(table.index) == list(CANDIDATES)
    assert table["aicc"].notna().all()
    assert (table["shortlisted"] == (table["delta_aicc"] <= AICC_SHORTLIST)).all()
    assert table["chosen"].sum() == 1 and table.loc[sel.chosen, "shortlisted"]
    assert sel.chosen != "level" and "seasonal" in sel.chosen  # the season is real
    # origins 36, 30 and 24 months into the history (seasonal models need 24 to train)
    assert sorted(sel.backtests["origin"].dt.strftime("%Y-%m")) == ["2023-01", "2023-07",
                                                                      "2024-01"]
    assert sel.months == 48 and str(sel.history_start.date()) == "2021-01-01"


def test_year_error_pools_the_backtests_with_the_stated_prior():
    """The year error is the root mean square of the backtests' log errors, with the prior
    counted as PRIOR_WEIGHT backtests; with no backtest (under 24 months) it is the prior."""
    short = select_forecast(_seasonal_series(18))
    assert short.backtests.empty and short.year_error == pytest.approx(PRIOR_YEAR_ERROR)
    assert "too few for a twelve-month backtest" in short.note
    assert short.chosen in ("level", "damped trend")  # no season from 18 months
    long = select_forecast(_seasonal_series(48))
    e = long.backtests["log_error"].to_numpy()
    # e.g. errors 0.02, -0.01, 0.03 with the prior 0.15 x 2 -> sqrt((0.045 + 0.0014) / 5)
    expected = np.sqrt((PRIOR_WEIGHT * PRIOR_YEAR_ERROR**2 + np.sum(e**2))
                       / (PRIOR_WEIGHT + len(e)))
    assert long.year_error == pytest.approx(expected)
    assert np.sqrt((2 * 0.15**2 + 0.02**2 + 0.01**2 + 0.03**2) / 5) == pytest.approx(
        0.0963, abs=1e-4)


def test_too_short_history_is_an_input_error():
    with pytest.raises(InputError, match="at least 6"):
        select_forecast(_seasonal_series(5))


def test_plan_year_interval_is_at_least_the_year_error_wide():
    """A flat, nearly noise-free history: the model's own interval is tiny, so the
    calibrated 90% interval is set by the year error: upper / lower = exp(2 x 1.645 x
    error) (1.638 for the prior 0.15), and the percentiles and probabilities agree."""
    flat = pd.Series(1_000_000 + np.random.default_rng(2).normal(0, 1.0, 18),
                     index=pd.date_range("2021-01-01", periods=18, freq="MS"))
    sel = select_forecast(flat)
    year = sel.plan_year(pd.Timestamp("2022-07-01"), draws=20_000, seed=1)
    assert year.upper / year.lower == pytest.approx(np.exp(2 * 1.6449 * 0.15), rel=0.03)
    assert year.probability_at_least(year.lower) == pytest.approx(0.95, abs=0.002)
    assert year.probability_at_least(year.upper) == pytest.approx(0.05, abs=0.002)
    assert year.lower < year.percentile(40) < year.percentile(60) < year.upper
    assert year.probability_at_least(year.percentile(40)) == pytest.approx(0.60, abs=0.002)
    with pytest.raises(InputError, match="between 0 and 100"):
        year.percentile(100)


# ----------------------------------------------------------------------------- health

def test_simulated_attainment_by_hand():
    """Spread 0: a rep's plan-year sales are their history x company growth exactly.
    History 100 and quota 110; company history 1,000 and simulated years 1,000 and 1,200:
    attainment 100/110 = 0.909 and 120/110 = 1.0909.  A zero quota gives NaN."""
    att = simulate_attainment(np.array([100, 50]), np.array([110, 0]), np.array([1000., 1200.]),
                              1000.0, spread=0.0)
    assert att[0] == pytest.approx([100 / 110, 120 / 110])
    assert np.isnan(att[1]).all()
    # with a spread, the mean over many draws keeps the growth (the factor has mean one)
    att = simulate_attainment(np.array([100]), np.array([100]), np.full(200_000, 1100.0),
                              1000.0, spread=0.3, seed=4)
    assert att.mean() == pytest.approx(1.1, rel=0.01)


def _deals(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return load_deals(pd.DataFrame({
        "deal_id": [f"D{i}" for i in range(len(rows))], "rep_id": [r[0] for r in rows],
        "close_date": [r[1] for r in rows], "amount_cents": [r[2] for r in rows]}))


def test_rep_spread_by_hand_and_the_stated_default():
    """Twelve reps; rep k sells 100 in 2023 and 100 x exp(0.1 k) in 2024: the log changes
    are 0.1 k (k = 0..11), median 0.55, absolute deviations 0.05, 0.15, ... 0.55 (each
    twice), median 0.3, so the spread is 1.4826 x 0.3 = 0.4448."""
    rows = [(f"r{k}", "2023-05-01", 100_00) for k in range(12)]
    rows += [(f"r{k}", "2024-05-01", int(round(100_00 * np.exp(0.1 * k)))) for k in range(12)]
    spread, source = rep_spread(_deals(rows), pd.Timestamp("2025-01-01"))
    assert spread == pytest.approx(1.4826 * 0.3, rel=1e-3)
    assert source == "12 reps with sales in 2023 and 2024"
    spread, source = rep_spread(_deals(rows[12:]), pd.Timestamp("2025-01-01"))
    assert spread == DEFAULT_REP_SPREAD and source.startswith("default")


def test_health_against_simulated_plan_years_by_hand():
    """Three reps sold 100, 200, 300 in 2024 (company 600); quotas 105, 190, 320 (total
    615).  Two simulated plan years, company 600 and 660 (growth 1.0 and 1.1), spread 0:
    at 1.0 only b (200 >= 190) is at quota, at 1.1 all three are (110, 220, 330): share
    (1/3 + 1) / 2 = 2/3, its spread across the two years 1/3; the company reaches 615
    in one year of two."""
    from spmkit.quota.forecast import PlanYearForecast

    deals = _deals([("a", "2024-03-01", 100_00), ("b", "2024-03-01", 200_00),
                    ("c", "2024-03-01", 300_00)])
    quotas = pd.DataFrame({"rep_id": ["a", "b", "c"], "quota_cents": [105_00, 190_00, 320_00]})
    annual = pd.DataFrame({"rep_id": ["a", "b", "c"], "region": ["E", "E", "E"],
                           "history_cents": [100_00, 200_00, 300_00],
                           "quota_cents": [105_00, 190_00, 320_00]})
    year = PlanYearForecast(mean=630_00, lower=600_00, upper=660_00, level=0.9,
                            totals=np.array([600_00, 660_00], dtype=float),
                            year_start=pd.Timestamp("2025-01-01"))
    h = quota_health(quotas, annual, deals, pd.Timestamp("2025-01-01"), plan_year=year,
                     spread=0.0)
    f = h.figures
    assert f["basis"] == "simulated" and f["reps_replayed"] == 3
    assert f["share_at_or_above_100"] == pytest.approx(2 / 3)
    assert f["share_error"] == pytest.approx(1 / 3)
    assert f["verdict"] == "healthy"  # 66.7% sits in the 60-70% norm
    assert f["probability_reaching_quota"] == pytest.approx(0.5)
    assert f["coverage"] == pytest.approx(615 / 630)
    assert h.attainment.set_index("rep_id")["probability_at_quota"].to_dict() == {
        "a": 0.5, "b": 1.0, "c": 0.5}
    # with plan-year actuals in the deals, health is the backtest on them (no error)
    actual = _deals([("a", "2024-03-01", 100_00), ("b", "2024-03-01", 200_00),
                     ("c", "2024-03-01", 300_00), ("a", "2025-12-20", 200_00)])
    h = quota_health(quotas, annual, actual, pd.Timestamp("2025-01-01"), plan_year=year)
    assert h.figures["basis"] == "actual" and h.figures["share_error"] is None
    assert h.figures["share_at_or_above_100"] == pytest.approx(1 / 3)  # a: 200 >= 105


# ----------------------------------------------------------------------------- the command

@pytest.fixture(scope="module")
def org(tmp_path_factory):
    out = tmp_path_factory.mktemp("forecast_org")
    write_sample(out, reps=30, years=3, seed=5, last_year=2025)
    deals = pd.read_csv(out / "deals.csv", dtype=str, keep_default_na=False)
    history = deals[deals["close_date"] < "2025-01-01"]  # the plan year is still to come
    history.to_csv(out / "history.csv", index=False)
    return out


def _quota(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spmkit.cli", "quota", *args],
                          capture_output=True, text=True, timeout=300)


def test_target_percentile_and_summary_json(org, tmp_path):
    """--target-percentile 40 with the forecast method: the company target is the 40th
    percentile of the simulated plan years, so the company reaches it in 60% of them; the
    summary JSON holds the forecast in plan currency with level 0.9 and 24 months."""
    out, summary = tmp_path / "q.csv", tmp_path / "s.json"
    proc = _quota("--history", str(org / "history.csv"), "--fx", str(org / "fx.csv"),
                  "--year", "2025", "--method", "forecast", "--target-percentile", "40",
                  "--phasing", "even", "--out", str(out), "--summary", str(summary))
    assert proc.returncode == 0, proc.stderr
    s = json.loads(summary.read_text())
    f = s["forecast"]
    assert f["level"] == 0.9 and f["lower"] < f["mean"] < f["upper"]
    assert f["months"] == 24 and f["history_start"] == "2023-01-01"
    assert f["history_end"] == "2024-12-31" and f["model"] in CANDIDATES
    assert s["currency"] == "USD" and s["target_percentile"] == 40
    assert s["total_quota"] == s["target"] and f["lower"] < s["target"] < f["upper"]
    assert f["probability_reaching_quota"] == pytest.approx(0.60, abs=0.002)
    assert s["health"]["basis"] == "simulated" and s["health"]["share_error"] > 0
    assert "on 24 months 2023-01-01 .. 2024-12-31" in proc.stdout
    assert " points at or above quota" in proc.stdout
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".spmkit-tmp")]


@pytest.mark.parametrize("extra, message", [
    (["--method", "growth", "--target-percentile", "40"], "--target-percentile"),
    (["--method", "share", "--target", "10", "--target-percentile", "40"], "without --target"),
    (["--method", "forecast", "--target-percentile", "100"], "between 0 and 100"),
    (["--method", "growth", "--summary", "s.txt"], "must end in .json"),
])
def test_bad_percentile_or_summary_exits_2_and_writes_nothing(org, tmp_path, extra, message):
    out = tmp_path / "q.csv"
    proc = _quota("--history", str(org / "history.csv"), "--year", "2025", "--out", str(out),
                  *[str(tmp_path / a) if a.endswith(".txt") else a for a in extra])
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and list(tmp_path.iterdir()) == []
