"""The synthetic sales org: deterministic, shaped like a real one, honest about how its
quotas, ramps, leavers and shocks arise, loadable, and the CLI.

Properties of the generator's model are checked by recomputing them from the tables it
writes (the prior year's bookings, employment dates, deal counts), never against figures
of one run.
"""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from spmkit.errors import SpmkitError
from spmkit.sample import (
    BUSINESS_GROWTH,
    DEAL_COLUMNS,
    EFFECTIVE_COLUMNS,
    FX_RATES,
    HOSTILE_NAME,
    QUOTA_GROWTH,
    ROSTER_COLUMNS,
    SE_ROLE,
    _months_employed,
    generate,
    write_sample,
)

ROOT = Path(__file__).resolve().parents[1]
SELLING = ("Account Executive", "Account Manager", "Inside Sales")
LEADERS = ("Manager", "Director", "VP")
FILES = ("deals.csv", "roster.csv", "quotas.csv", "splits.csv", "fx.csv", "payments.csv")
RATE = {"USD": 1.0, **{k: float(v) for k, v in FX_RATES.items()}}


@pytest.fixture(scope="module")
def org() -> dict[str, pd.DataFrame]:
    """The demo's org (150 reps, 2024-2025, quarterly quotas, as `spmkit sample` writes)
    with the options on: solution engineers and the mid-year role change."""
    return generate(quota_period="quarter", solution_engineers=True, role_change=True)


@pytest.fixture(scope="module")
def big() -> dict[str, pd.DataFrame]:
    """Many reps over three years with annual quotas, for the model's properties."""
    return generate(reps=900, years=3, seed=2, role_change=True)


def _first_rows(org: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One roster row per person: the first (the role before any change)."""
    return org["roster"].drop_duplicates("rep_id").set_index("rep_id")


def _sellers(org: dict[str, pd.DataFrame]) -> pd.DataFrame:
    first = _first_rows(org)
    return first[first["role"].isin(SELLING)]


def _sell_to(org: dict[str, pd.DataFrame]) -> pd.Series:
    """Each seller's last selling day: the term date, or the day before becoming a
    manager, or the end of the history."""
    sellers = _sellers(org)
    end = org["deals"]["close_date"].max()[:4] + "-12-31"
    last = sellers["term_date"].replace("", end)
    rows = org["roster"]
    if "effective_from" in rows:
        promoted = rows[(rows["effective_from"] != "") & (rows["role"] == "Manager")]
        before = (pd.to_datetime(promoted["effective_from"]) - pd.Timedelta(days=1))
        last[promoted["rep_id"].to_numpy()] = before.dt.strftime("%Y-%m-%d").to_numpy()
    return last


def _lines(org: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Credit lines in plan currency: own deals at share 1, split deals by share."""
    deals = org["deals"]
    usd = deals["amount"].astype(float) * deals["currency"].map(RATE)
    deals = deals.assign(usd=usd)
    splits = org["splits"].assign(share=org["splits"]["share"].astype(float))
    split_lines = splits.merge(deals.drop(columns="rep_id"), on="deal_id")
    own = deals[~deals["deal_id"].isin(splits["deal_id"])].assign(share=1.0)
    lines = pd.concat([own, split_lines], ignore_index=True)
    return lines.assign(credit=lines["usd"] * lines["share"])


def _bookings(org: dict[str, pd.DataFrame], year: int) -> pd.Series:
    """Each rep's credited bookings closed in ``year`` (before cancellations)."""
    lines = _lines(org)
    return lines[lines["close_date"].str.startswith(str(year))].groupby("rep_id")[
        "credit"].sum()


def _credit(org: dict[str, pd.DataFrame], year: int) -> pd.Series:
    """Each rep's credit in ``year``: bookings less cancellations dated in the year."""
    lines = _lines(org)
    lost = lines[lines["cancel_date"].str.startswith(str(year))].groupby("rep_id")["credit"].sum()
    return _bookings(org, year).sub(lost, fill_value=0)


def _annual_quota(org: dict[str, pd.DataFrame], year: int) -> pd.Series:
    q = org["quotas"]
    when = q["year"] if "year" in q else q["period_start"].str.slice(0, 4)
    return q[when == str(year)].groupby("rep_id")["quota"].agg(lambda s: float(sum(map(
        Decimal, s))))


def _days(text: pd.Series) -> np.ndarray:
    return pd.to_datetime(text).to_numpy().astype("datetime64[D]")


# --- determinism ----------------------------------------------------------------------

def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    write_sample(tmp_path / "a", seed=3, reps=40, overlays=True)
    write_sample(tmp_path / "b", seed=3, reps=40, overlays=True)
    for name in (*FILES, "overlays.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    write_sample(tmp_path / "a", seed=3, reps=40)
    write_sample(tmp_path / "b", seed=4, reps=40)
    for name in ("deals.csv", "quotas.csv", "payments.csv"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes()


# --- shape of the org ---------------------------------------------------------------------

def test_columns_are_the_canonical_ones_and_roster_has_no_plan(org) -> None:
    assert tuple(org["deals"].columns) == DEAL_COLUMNS
    assert tuple(org["roster"].columns) == ROSTER_COLUMNS + EFFECTIVE_COLUMNS
    assert "plan" not in org["roster"].columns
    assert list(org["quotas"].columns) == ["rep_id", "period_start", "quota"]
    assert list(org["splits"].columns) == ["deal_id", "rep_id", "share"]
    assert list(org["fx"].columns) == ["currency", "rate"]
    assert list(org["payments"].columns) == ["deal_id", "paid_date", "amount"]
    assert "overlays" not in org                       # only when asked
    annual = generate(reps=20, seed=1)
    assert list(annual["quotas"].columns) == ["rep_id", "year", "quota"]
    assert tuple(annual["roster"].columns) == ROSTER_COLUMNS      # one row per rep
    assert annual["roster"]["rep_id"].is_unique
    assert SE_ROLE not in set(annual["roster"]["role"])           # SEs only when asked
    monthly = generate(reps=20, seed=1, quota_period="month")
    assert set(monthly["quotas"]["period_start"].str.slice(5)) == {
        f"{m:02d}-01" for m in range(1, 13)}


def test_money_is_text_with_two_decimals(org) -> None:
    pattern = r"^-?\d+\.\d\d$"
    assert org["deals"]["amount"].str.match(pattern).all()
    assert org["deals"]["margin"].str.match(pattern).all()
    assert org["quotas"]["quota"].str.match(pattern).all()
    assert org["payments"]["amount"].str.match(pattern).all()
    assert org["roster"]["target_incentive"].str.match(pattern).all()
    assert org["roster"]["base_salary"].str.match(pattern).all()
    assert org["deals"]["units"].str.match(r"^\d+$").all()


def test_roles_regions_and_manager_tree(org) -> None:
    roster = org["roster"]
    first = _first_rows(org)
    sellers = _sellers(org)
    assert len(sellers) == 150
    shares = sellers["role"].value_counts(normalize=True)
    assert shares["Account Executive"] == pytest.approx(0.70, abs=0.02)
    assert shares["Account Manager"] == pytest.approx(0.20, abs=0.02)
    assert shares["Inside Sales"] == pytest.approx(0.10, abs=0.02)
    assert set(sellers["region"]) == {"NA East", "NA West", "EMEA", "APAC"}
    assert (first["role"] == "VP").sum() == 1
    assert (first["role"] == "Director").sum() == 2
    assert (first["role"] == "Manager").sum() >= 8
    # The tree: one root (the VP); every manager_id exists; reps report to Managers;
    # walking up from anyone reaches the VP.
    assert roster.loc[roster["manager_id"] == "", "role"].tolist() == ["VP"]
    assert set(roster["manager_id"]) - {""} <= set(roster["rep_id"])
    boss, role = first["manager_id"].to_dict(), first["role"].to_dict()
    assert set(sellers["manager_id"].map(role)) == {"Manager"}
    for rep in first.index:
        seen = 0
        while boss[rep]:
            rep = boss[rep]
            seen += 1
            assert seen < 5
        assert role[rep] == "VP"
    # Managers are in the same region as their reps.
    assert (sellers["manager_id"].map(first["region"]) == sellers["region"]).all()


def test_solution_engineers_have_regions_and_no_quota_deals_or_splits(org) -> None:
    first = _first_rows(org)
    se = first[first["role"] == SE_ROLE]
    sellers = _sellers(org)
    # About one SE per ten sellers in each region, every region covered.
    assert set(se["region"]) == set(sellers["region"])
    per_region = se["region"].value_counts()
    assert (per_region >= sellers["region"].value_counts() / 10 - 1).all()
    assert (se["target_incentive"].map(Decimal) > 0).all()
    assert (se["manager_id"].map(first["role"]) == "Director").all()
    assert not set(se.index) & set(org["deals"]["rep_id"])
    assert not set(se.index) & set(org["quotas"]["rep_id"])
    assert not set(se.index) & set(org["splits"]["rep_id"])


def test_managers_have_no_deals_no_quota_and_no_target(org) -> None:
    first = _first_rows(org)
    leaders = set(first.index[first["role"].isin(LEADERS)])
    assert leaders
    assert not leaders & set(org["deals"]["rep_id"])
    assert not leaders & set(org["quotas"]["rep_id"])
    assert not leaders & set(org["splits"]["rep_id"])
    assert (first.loc[first["role"].isin(LEADERS), "target_incentive"] == "0.00").all()


def test_target_incentive_and_pay_mix_by_role(org) -> None:
    sellers = _sellers(org)
    ti = sellers.groupby("role")["target_incentive"].agg(set).to_dict()
    assert ti == {"Account Executive": {"60000.00"}, "Account Manager": {"40000.00"},
                  "Inside Sales": {"20000.00"}}
    mix = sellers["base_salary"].astype(float) / (
        sellers["base_salary"].astype(float) + sellers["target_incentive"].astype(float))
    assert mix.between(0.5, 0.8).all()


def test_deal_volume_years_products_types(org) -> None:
    deals = org["deals"]
    assert 8_000 <= len(deals) <= 25_000
    assert deals["deal_id"].is_unique
    assert set(deals["close_date"].str.slice(0, 4)) == {"2024", "2025"}
    assert set(deals["product"]) == {"Core", "Widget Pro", "Analytics", "Services"}
    assert set(deals["deal_type"]) == {"new", "expansion", "renewal"}
    # Deals carry their owner's region.
    assert (deals["region"] == deals["rep_id"].map(_first_rows(org)["region"])).all()


def test_deal_sizes_are_right_skewed(org) -> None:
    amounts = org["deals"]["amount"].astype(float)
    assert amounts.mean() > 1.3 * amounts.median()
    assert amounts.quantile(0.99) > 8 * amounts.median()


def test_margin_and_units(org) -> None:
    deals = org["deals"]
    amount = deals["amount"].map(Decimal)
    margin = deals["margin"].map(Decimal)
    assert ((margin > 0) & (margin < amount)).all()
    share = (deals["margin"].astype(float) / deals["amount"].astype(float)).groupby(
        deals["product"]).median()
    assert share["Services"] < share["Core"]           # services earn the thinnest margin
    units = deals["units"].astype(int)
    assert (units >= 1).all()
    # Units follow size: within a product, bigger deals have more units.
    core = deals["product"] == "Core"
    assert stats.spearmanr(deals.loc[core, "amount"].astype(float), units[core])[0] > 0.8


def test_seasonality_quarter_ends_and_q4_peak(org) -> None:
    month = org["deals"]["close_date"].str.slice(5, 7).astype(int)
    by_month = month.value_counts().sort_index()
    assert by_month.idxmax() == 12
    for q_end in (3, 6, 9, 12):
        assert by_month[q_end] > by_month[q_end - 1] and by_month[q_end] > by_month[q_end - 2]
    q4 = by_month[[10, 11, 12]].sum() / by_month.sum()
    assert q4 > 0.28


def test_split_deals_share_and_shares_sum_to_one(org) -> None:
    deals, splits = org["deals"], org["splits"]
    share = splits["deal_id"].nunique() / len(deals)
    assert 0.035 <= share <= 0.07
    total = splits.groupby("deal_id")["share"].agg(lambda s: sum(map(Decimal, s)))
    assert (total == Decimal(1)).all()
    assert (splits.groupby("deal_id").size() == 2).all()
    assert set(splits["share"]) <= {"0.5", "0.6", "0.4", "0.7", "0.3"}
    owner = deals.set_index("deal_id")["rep_id"]
    first = splits.groupby("deal_id").head(1)
    assert (first["rep_id"].to_numpy() == owner[first["deal_id"]].to_numpy()).all()
    assert not splits.duplicated(["deal_id", "rep_id"]).any()


def test_split_partners_are_selling_and_in_region(org) -> None:
    sellers = _sellers(org)
    last = _sell_to(org)
    lines = org["splits"].merge(org["deals"][["deal_id", "close_date", "region"]], on="deal_id")
    assert (sellers["hire_date"].reindex(lines["rep_id"]).to_numpy()
            <= lines["close_date"].to_numpy()).all()
    assert (lines["close_date"].to_numpy() <= last.reindex(lines["rep_id"]).to_numpy()).all()
    assert (sellers["region"].reindex(lines["rep_id"]).to_numpy() == lines["region"]).all()


def test_cancellations(org) -> None:
    deals = org["deals"]
    cancelled = deals[deals["cancel_date"] != ""]
    assert 0.01 <= len(cancelled) / len(deals) <= 0.03
    gap = (pd.to_datetime(cancelled["cancel_date"]) - pd.to_datetime(cancelled["close_date"]))
    assert gap.dt.days.between(30, 120).all()
    # Some are cancelled in the year after they closed (clawback across the year end).
    cancel_year = cancelled["cancel_date"].str.slice(0, 4)
    assert (cancel_year > cancelled["close_date"].str.slice(0, 4)).any()


def test_no_leaver_is_credited_after_leaving(big) -> None:
    """A cancellation after a credited rep stopped selling would be credit in a period
    without quota, and a payment in a later calendar year than they left would make the
    leaver a payee of that year's plans: there is neither."""
    term = _sellers(big)["term_date"]
    left = term[term != ""].str.slice(0, 4)
    lines = _lines(big)
    cancel = lines[lines["cancel_date"] != ""]
    assert (cancel["cancel_date"].to_numpy()
            <= _sell_to(big).reindex(cancel["rep_id"]).to_numpy()).all()
    paid = big["payments"].merge(lines[["deal_id", "rep_id"]], on="deal_id")
    paid = paid[paid["rep_id"].isin(left.index)]
    assert len(paid)
    assert (paid["paid_date"].str.slice(0, 4).to_numpy()
            <= left.reindex(paid["rep_id"]).to_numpy()).all()


def test_foreign_currency_deals_have_fx_rates(org) -> None:
    deals, fx = org["deals"], org["fx"]
    foreign = deals[deals["currency"] != "USD"]
    assert 0.015 <= len(foreign) / len(deals) <= 0.05
    assert set(foreign["currency"]) == {"EUR", "GBP"}
    assert set(foreign["currency"]) <= set(fx["currency"])
    assert dict(zip(fx["currency"], fx["rate"], strict=True)) == {"EUR": "1.08", "GBP": "1.27"}
    assert fx["rate"].map(Decimal).gt(0).all()


def test_hires_and_leavers_sell_only_while_employed(org) -> None:
    deals = org["deals"]
    sellers = _sellers(org)
    hires = sellers[sellers["hire_date"].str.startswith("2025")]
    leavers = sellers[sellers["term_date"] != ""]
    assert len(hires) >= 3
    assert set(leavers["term_date"].str.slice(0, 4)) == {"2024", "2025"}
    hire = sellers["hire_date"].reindex(deals["rep_id"]).to_numpy()
    last = _sell_to(org).reindex(deals["rep_id"]).to_numpy()
    close = deals["close_date"].to_numpy()
    assert ((hire <= close) & (close <= last)).all()
    # New hires and leavers do sell while employed.
    assert deals["rep_id"].isin(hires.index).any()
    assert deals["rep_id"].isin(leavers.index).any()


def test_draws_for_some_new_hires_only(org) -> None:
    roster = org["roster"]
    with_draw = roster[roster["draw"] != ""]
    assert len(with_draw) >= 1
    assert (with_draw["draw_type"] == "recoverable").all()
    assert with_draw["hire_date"].str.startswith("2025").all()
    # Half the quarterly target incentive.
    expected = (with_draw["target_incentive"].map(Decimal) / 8).map(lambda d: f"{d:.2f}")
    assert (with_draw["draw"] == expected).all()
    assert (roster.loc[roster["draw"] == "", "draw_type"] == "").all()


# --- quotas ------------------------------------------------------------------------------

def test_period_quotas_only_while_employed(org) -> None:
    """A rep has a quota row for a quarter exactly when they sell on a day of it."""
    sellers = _sellers(org)
    starts = pd.date_range("2024-01-01", periods=8, freq="QS").to_numpy().astype(
        "datetime64[D]")
    ends = np.append(starts[1:], np.datetime64("2026-01-01")) - np.timedelta64(1, "D")
    hire = _days(sellers["hire_date"])
    last = _days(_sell_to(org).reindex(sellers.index))
    selling = (hire[:, None] <= ends[None, :]) & (last[:, None] >= starts[None, :])
    expected = {(rep, str(starts[k])) for rep, k in zip(*[sellers.index[np.nonzero(selling)[0]],
                                                          np.nonzero(selling)[1]],
                                                        strict=True)}
    q = org["quotas"]
    assert set(zip(q["rep_id"], q["period_start"], strict=True)) == expected
    assert q["quota"].map(Decimal).gt(0).all()
    assert not q.duplicated(["rep_id", "period_start"]).any()
    # A hire's first quarter is prorated and ramped: below their next full quarter's quota.
    hires = sellers[sellers["hire_date"].between("2024-02-15", "2024-09-15")].index
    by_rep = q[q["rep_id"].isin(hires)].sort_values(["rep_id", "period_start"]).groupby("rep_id")
    first_two = by_rep["quota"].agg(lambda s: list(map(Decimal, s))[:2])
    assert len(first_two) >= 3
    assert all(a < b for a, b in first_two)


def test_quotas_phase_with_the_season(org) -> None:
    """A full-year veteran's Q4 quota is the largest of the year (the Q4 peak)."""
    sellers = _sellers(org)
    veterans = sellers[(sellers["hire_date"] < "2023-01-01")].index
    q = org["quotas"][org["quotas"]["rep_id"].isin(veterans)
                      & org["quotas"]["period_start"].str.startswith("2024")]
    grid = q.pivot(index="rep_id", columns="period_start", values="quota").dropna().astype(float)
    assert len(grid) >= 50
    assert (grid.idxmax(axis=1) == "2024-10-01").mean() > 0.95


@pytest.mark.parametrize("year", [2024, 2025])
def test_quotas_derive_from_the_prior_year_only(big, year: int) -> None:
    """Recompute each annual quota of a full-year, ramped rep from the tables of the year
    before: (0.5 x own annualized bookings + 0.5 x role median) x (1 + QUOTA_GROWTH), the
    role median over reps with history (at least nine months employed in the prior year
    and hired at least 182 days before it began); whole $1,000."""
    sellers = _sellers(big)
    prior = year - 1
    hire = _days(sellers["hire_date"])
    last = _days(_sell_to(big).reindex(sellers.index))
    p0, p1 = np.datetime64(f"{prior}-01-01"), np.datetime64(f"{prior}-12-31")
    months = _months_employed(hire, last, p0, p1)
    own = _bookings(big, prior).reindex(sellers.index).fillna(0) * 12 / np.maximum(months, 1)
    history = (months >= 9) & (hire <= p0 - np.timedelta64(182, "D"))
    median = own[history].groupby(sellers["role"][history]).median()
    expected = np.where(history, 0.5 * own + 0.5 * sellers["role"].map(median),
                        sellers["role"].map(median)) * (1 + QUOTA_GROWTH)
    expected = pd.Series(expected, index=sellers.index)
    # Reps selling the whole year who have finished the quota ramp (11 months).
    y0, y1 = np.datetime64(f"{year}-01-01"), np.datetime64(f"{year}-12-31")
    whole_year = (hire <= y0 - np.timedelta64(335, "D")) & (last >= y1)
    quota = _annual_quota(big, year)
    check = sellers.index[whole_year]
    assert len(check) >= 300
    gap = (quota.reindex(check) - expected.reindex(check)).abs()
    assert gap.max() <= 500.01


def test_partial_year_quotas_are_prorated(big) -> None:
    """Annual quotas of reps selling part of the year are about the months they sell
    (times the ramp for hires): a leaver's quota per month sold matches a full-year rep's."""
    sellers = _sellers(big)
    aes = sellers[(sellers["role"] == "Account Executive") & (sellers["hire_date"] < "2023")]
    quota = _annual_quota(big, 2025).reindex(aes.index)
    months = _months_employed(_days(aes["hire_date"]),
                              _days(_sell_to(big).reindex(aes.index)),
                              np.datetime64("2025-01-01"), np.datetime64("2025-12-31"))
    leavers = (months > 0) & (months < 12) & (aes["term_date"] != "").to_numpy()
    assert leavers.sum() >= 10
    per_month_full = (quota[months == 12] / 12).median()
    per_month_leaver = (quota[leavers] / months[leavers]).median()
    # Seasonal phasing weighs Q4 most, which leavers miss: a little under 1.
    assert 0.6 < per_month_leaver / per_month_full < 1.2


def test_months_employed_hand_examples() -> None:
    d = np.datetime64
    start = np.array([d("2020-05-01"), d("2025-03-31"), d("2025-03-01"), d("2026-01-02")])
    end = np.array([d("2030-01-01"), d("2025-04-01"), d("2025-03-01"), d("2026-05-01")])
    got = _months_employed(start, end, d("2025-01-01"), d("2025-12-31"))
    assert got.tolist() == [12, 2, 1, 0]


def test_attainment_is_whatever_the_data_gives(org) -> None:
    """No scaling to a target share at quota: attainment is right-skewed, spread like a
    real sales force's, and the share at quota is not pinned (it moves with the seed)."""
    credit = _credit(org, 2025)
    quota = _annual_quota(org, 2025)
    attainment = credit.reindex(quota.index).fillna(0) / quota
    assert attainment.mean() > attainment.median()
    assert attainment.quantile(0.9) > 1.3
    assert attainment.quantile(0.1) < 0.8
    shares = []
    for seed in range(4):
        other = generate(reps=120, seed=seed)
        q = _annual_quota(other, 2025)
        shares.append((_credit(other, 2025).reindex(q.index).fillna(0) >= q).mean())
    assert max(shares) - min(shares) > 0.05


def test_cost_of_target_incentive_is_realistic(org) -> None:
    """Target incentive of the plan year's sellers over 2025 revenue in the 3-9% norm (ZS)."""
    credit = _credit(org, 2025).sum()
    sellers = _sellers(org)
    paid = sellers[sellers.index.isin(_annual_quota(org, 2025).index)]
    assert 0.03 <= paid["target_incentive"].astype(float).sum() / credit <= 0.09


# --- the model: attrition, ramp, overdispersion, shocks ---------------------------------

def test_attrition_depends_on_performance(big) -> None:
    """Reps who leave in a year had a worse prior year than those who stay."""
    sellers = _sellers(big)
    changed = set(big["roster"].loc[big["roster"]["effective_from"] != "", "rep_id"])
    low, high = [], []
    for year in (2024, 2025):
        quota = _annual_quota(big, year - 1)
        at_start = sellers[(sellers["hire_date"] < f"{year}-01-01")
                           & ((sellers["term_date"] == "") | (sellers["term_date"]
                                                              >= f"{year}-01-01"))]
        at_start = at_start[~at_start.index.isin(changed)]
        attainment = (_bookings(big, year - 1).reindex(at_start.index).fillna(0)
                      / quota.reindex(at_start.index))
        left = at_start["term_date"].str.startswith(str(year))
        assert attainment[left].median() < attainment[~left].median() - 0.1
        quartile = attainment.rank(pct=True)
        low.append(left[quartile <= 0.25].mean())
        high.append(left[quartile > 0.75].mean())
    assert min(low) > 2 * max(high)


def test_ramp_follows_tenure(big) -> None:
    """Deals per month sold rise with tenure over the first months and level off after
    9-13 months, at the veterans' rate."""
    sellers = _sellers(big)
    deals = big["deals"]

    def month_no(text: pd.Series) -> np.ndarray:
        return pd.to_datetime(text).to_numpy().astype("datetime64[M]").astype(np.int64)

    hire = pd.Series(month_no(sellers["hire_date"]), index=sellers.index)
    last_day = pd.to_datetime(_sell_to(big).reindex(sellers.index))
    # Whole months sold: from the month after the hire (or the history's start) to the
    # last month sold to its end.
    last_whole = month_no(last_day.dt.strftime("%Y-%m-%d")) - (~last_day.dt.is_month_end)
    lo = np.maximum(hire + 1, month_no(pd.Series(["2023-01-01"]))[0]) - hire
    hi = last_whole - hire
    top = int(hi.max()) + 2
    exposure = np.zeros(top + 1)
    ok = (hi >= lo).to_numpy()
    np.add.at(exposure, lo[ok].to_numpy(), 1)
    np.add.at(exposure, hi[ok].to_numpy() + 1, -1)
    exposure = np.cumsum(exposure)[:top]
    tenure = month_no(deals["close_date"]) - hire.reindex(deals["rep_id"]).to_numpy()
    inside = ((tenure >= lo.reindex(deals["rep_id"]).to_numpy())
              & (tenure <= hi.reindex(deals["rep_id"]).to_numpy()))
    count = np.bincount(tenure[inside], minlength=top)[:top]

    def band(a: int, b: int) -> float:
        return float(count[a:b + 1].sum() / exposure[a:b + 1].sum())

    veteran = band(40, top - 1)
    assert exposure[1:3].sum() >= 100
    assert band(1, 2) < 0.35 * veteran
    assert band(1, 2) < band(3, 5) < band(6, 8) < band(14, 24)
    assert 0.8 < band(14, 24) / veteran < 1.25


def test_deal_counts_are_overdispersed(big) -> None:
    """Monthly deal counts of reps selling all year vary more than Poisson: the Pearson
    dispersion against each rep's own total, spread by the season, is well above 1."""
    sellers = _sellers(big)
    full = sellers[(sellers["hire_date"] < "2022-01-01")
                   & (_sell_to(big).reindex(sellers.index) >= "2024-12-31")].index
    deals = big["deals"][big["deals"]["close_date"].str.startswith("2024")
                         & big["deals"]["rep_id"].isin(full)]
    counts = pd.crosstab(deals["rep_id"], deals["close_date"].str.slice(5, 7))
    season = counts.sum() / counts.to_numpy().sum()
    expected = np.outer(counts.sum(axis=1), season)
    dispersion = ((counts - expected) ** 2 / expected).to_numpy().sum() / (
        (counts.shape[0] - 1) * (counts.shape[1] - 1))
    assert dispersion > 1.5


def test_years_share_company_and_regional_shocks() -> None:
    """Detrended yearly sales per month sold move together across reps: the year explains
    far more of each rep's deviation than independent luck could (F-test), and regions
    move apart within a year."""
    org = generate(reps=1500, years=5, seed=4)
    sellers = _sellers(org)
    full = sellers[sellers["hire_date"] < "2019-01-01"].index
    lines = _lines(org)
    lines = lines[lines["rep_id"].isin(full)]
    year = lines["close_date"].str.slice(0, 4).astype(int)
    per = lines.groupby([lines["rep_id"], year])["credit"].sum().unstack()
    months = pd.DataFrame({y: _months_employed(
        _days(sellers["hire_date"].reindex(per.index)),
        _days(_sell_to(org).reindex(per.index)),
        np.datetime64(f"{y}-01-01"), np.datetime64(f"{y}-12-31")) for y in per.columns},
        index=per.index)
    rate = per / months.where(months >= 12)
    trend = (1 + BUSINESS_GROWTH) ** (np.array(per.columns) - per.columns[-1])
    logs = np.log(rate / trend).dropna(how="all")
    deviation = logs.sub(logs.mean(axis=1), axis=0)
    groups = [deviation[y].dropna().to_numpy() for y in deviation.columns]
    assert stats.f_oneway(*groups).pvalue < 1e-4
    # Regions: within each year, the regions' means differ beyond sampling error.
    within = deviation.sub(deviation.mean(), axis=1)
    region = sellers["region"].reindex(within.index)
    cells = [within.loc[region == r, y].dropna().to_numpy()
             for r in region.unique() for y in within.columns]
    assert stats.f_oneway(*cells).pvalue < 1e-3


# --- payments, overlays, role change ----------------------------------------------------

def test_payments_lag_like_receivables_and_never_exceed_the_deal(org) -> None:
    deals = org["deals"].set_index("deal_id")
    pay = org["payments"]
    assert set(pay["deal_id"]) <= set(deals.index)
    paid = pay.groupby("deal_id")["amount"].agg(lambda s: sum(map(Decimal, s)))
    amount = deals["amount"].map(Decimal).reindex(paid.index)
    assert (paid <= amount).all()
    assert (paid < amount).mean() > 0.01                 # some short-paid or still owed
    assert (pay.groupby("deal_id").size() == 2).mean() > 0.03   # some paid in two parts
    close = pd.to_datetime(deals["close_date"].reindex(pay["deal_id"]).to_numpy())
    lag = (pd.to_datetime(pay["paid_date"]).to_numpy() - close).days
    assert (lag >= 1).all()
    assert pay["paid_date"].max() <= "2025-12-31"
    first = pd.Series(lag).groupby(pay["deal_id"].to_numpy()).min()
    assert first.between(27, 63).mean() > 0.75            # most within 30-60 days
    assert (first > 75).mean() > 0.03                     # some late
    # A deal closed in the first half of 2024 and not cancelled is paid (in full or part).
    early = deals[(deals["close_date"] < "2024-07-01") & (deals["cancel_date"] == "")]
    assert early.index.isin(pay["deal_id"]).mean() > 0.97


def test_overlays_credit_ses_on_deals_of_their_region() -> None:
    org = generate(reps=60, seed=5, overlays=True)
    first = _first_rows(org)
    ov = org["overlays"]
    assert list(ov.columns) == ["deal_id", "rep_id", "share"]
    assert set(ov["share"]) == {"1"}
    assert not ov.duplicated("deal_id").any()
    assert (ov["rep_id"].map(first["role"]) == SE_ROLE).all()
    deals = org["deals"].set_index("deal_id").reindex(ov["deal_id"])
    assert (deals["region"].to_numpy() == ov["rep_id"].map(first["region"]).to_numpy()).all()
    assert not (deals["product"] == "Services").any()
    assert not (deals["deal_type"] == "renewal").any()
    assert 0.3 < len(ov) / len(org["deals"]) < 0.8
    # Every SE supports someone; the rest of the tables are as without overlays, and
    # without SEs but for their roster rows.
    assert set(ov["rep_id"]) == set(first.index[first["role"] == SE_ROLE])
    plain = generate(reps=60, seed=5, solution_engineers=True)
    for name, frame in plain.items():
        pd.testing.assert_frame_equal(frame, org[name])
    none = generate(reps=60, seed=5)
    for name in ("deals", "quotas", "splits", "payments"):
        pd.testing.assert_frame_equal(none[name], org[name])
    pd.testing.assert_frame_equal(none["roster"], org["roster"][
        org["roster"]["role"] != SE_ROLE].reset_index(drop=True), check_dtype=False)


def test_role_change_rows() -> None:
    """Two reps change role mid-year: two rows each, back to back, no overlap; the one
    promoted to Manager sells (and has quota) only before."""
    org = generate(reps=60, seed=5, quota_period="quarter", role_change=True)
    rows = org["roster"]
    twice = rows[rows.duplicated("rep_id", keep=False)]
    assert twice["rep_id"].nunique() == 2 and len(twice) == 4
    for _rep, pair in twice.groupby("rep_id"):
        before, after = pair.iloc[0], pair.iloc[1]
        assert before["effective_from"] == "" and after["effective_to"] == ""
        end = pd.Timestamp(before["effective_to"]) + pd.Timedelta(days=1)
        assert end == pd.Timestamp(after["effective_from"])
        assert after["effective_from"].startswith("2025")
        assert before["role"] != after["role"]
        assert before["hire_date"] == after["hire_date"] and before["term_date"] == ""
    promoted = twice[twice["role"] == "Manager"].iloc[0]
    on = promoted["effective_from"]
    assert on == "2025-07-01" and promoted["target_incentive"] == "0.00"
    assert not ((org["deals"]["rep_id"] == promoted["rep_id"])
                & (org["deals"]["close_date"] >= on)).any()
    assert (org["deals"]["rep_id"] == promoted["rep_id"]).any()
    q = org["quotas"][org["quotas"]["rep_id"] == promoted["rep_id"]]
    assert q["period_start"].str.startswith("2025").sum() == 2   # Q1 and Q2 only
    moved = twice[(twice["role"] == "Account Executive")
                  & (twice["effective_from"] != "")].iloc[0]
    assert moved["effective_from"] == "2025-04-01" and moved["target_incentive"] == "60000.00"
    # Without the change (the default): one row per rep.
    assert generate(reps=60, seed=5)["roster"]["rep_id"].is_unique


# --- arguments -----------------------------------------------------------------------------

def test_years_count_back_from_last_year() -> None:
    org = generate(reps=30, years=3, seed=1)
    assert set(org["deals"]["close_date"].str.slice(0, 4)) == {"2023", "2024", "2025"}
    assert set(org["quotas"]["year"]) == {"2023", "2024", "2025"}
    one = generate(reps=30, years=1, seed=1, last_year=2026)
    assert set(one["deals"]["close_date"].str.slice(0, 4)) == {"2026"}


def test_hostile_name_only_when_asked(org) -> None:
    assert not org["roster"]["name"].str.contains("<", regex=False).any()
    hostile = generate(hostile_names=True, quota_period="quarter", solution_engineers=True,
                       role_change=True)
    names = hostile["roster"]["name"]
    assert (names == HOSTILE_NAME).sum() == 1
    assert "<script>" in HOSTILE_NAME and "&" in HOSTILE_NAME and "'" in HOSTILE_NAME
    # Only the name changes.
    for table in ("deals", "quotas", "splits", "fx", "payments"):
        pd.testing.assert_frame_equal(hostile[table], org[table])
    pd.testing.assert_frame_equal(hostile["roster"].drop(columns="name"),
                                  org["roster"].drop(columns="name"))


@pytest.mark.parametrize("kw", [{"reps": 0}, {"reps": -3}, {"years": 0}, {"years": 11},
                                {"reps": 2.5}, {"quota_period": "week"}])
def test_bad_arguments_raise(kw: dict, tmp_path: Path) -> None:
    with pytest.raises(SpmkitError, match="reps|years|quota"):
        write_sample(tmp_path / "out", **kw)
    assert not (tmp_path / "out").exists()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reps=st.integers(1, 25), years=st.integers(1, 4), seed=st.integers(0, 2**32 - 1),
       period=st.sampled_from(["year", "quarter", "month"]))
def test_invariants_hold_for_any_small_org(reps: int, years: int, seed: int,
                                           period: str) -> None:
    org = generate(reps=reps, years=years, seed=seed, quota_period=period, overlays=True,
                   role_change=True)
    roster, deals, quotas, splits = org["roster"], org["deals"], org["quotas"], org["splits"]
    sellers = _sellers(org)
    assert len(sellers) == reps
    assert deals["deal_id"].is_unique
    assert set(deals["rep_id"]) <= set(sellers.index)
    assert set(roster["manager_id"]) - {""} <= set(roster["rep_id"])
    assert set(quotas["rep_id"]) <= set(sellers.index)
    assert quotas["quota"].map(Decimal).gt(0).all()
    if len(splits):
        total = splits.groupby("deal_id")["share"].agg(lambda s: sum(map(Decimal, s)))
        assert (total == 1).all()
        assert set(splits["deal_id"]) <= set(deals["deal_id"])
    assert deals["amount"].map(Decimal).gt(0).all()
    paid = org["payments"].groupby("deal_id")["amount"].agg(lambda s: sum(map(Decimal, s)))
    amount = deals.set_index("deal_id")["amount"].map(Decimal)
    assert (paid <= amount.reindex(paid.index)).all()
    assert set(org["overlays"]["deal_id"]) <= set(deals["deal_id"])


# --- loading through spmkit.tables and the engine --------------------------------------------

def test_sample_loads_through_the_table_loaders(tmp_path: Path) -> None:
    from spmkit import tables

    write_sample(tmp_path, seed=7, overlays=True, quota_period="quarter", role_change=True)
    inputs = tables.load_data_dir(tmp_path)
    org = generate(seed=7, overlays=True, quota_period="quarter", role_change=True)
    assert len(inputs.deals) == len(org["deals"])
    assert inputs.deals["amount_cents"].dtype == np.int64
    total = sum(map(Decimal, org["deals"]["amount"]))
    assert Decimal(int(inputs.deals["amount_cents"].sum())) / 100 == total
    assert len(inputs.roster) == org["roster"]["rep_id"].nunique()   # the latest row per rep
    rows = getattr(inputs, "roster_rows", None)
    if rows is not None:
        assert len(rows) == len(org["roster"])
    assert "plan" not in inputs.roster.columns
    assert len(inputs.splits) == len(org["splits"])
    assert set(inputs.fx["currency"]) == {"EUR", "GBP"}
    assert len(inputs.payments) == len(org["payments"])
    assert len(inputs.overlays) == len(org["overlays"])
    margin = tables.load_deals(tmp_path / "deals.csv", measure_columns=("margin", "units"))
    assert int(margin["measure_margin_cents"].sum()) == int(
        sum(map(Decimal, org["deals"]["margin"])) * 100)


def test_the_bundled_plans_pay_the_sellers_with_quota_only(tmp_path: Path) -> None:
    """Solution engineers, managers and earlier years' leavers are not payees of the
    baseline plan on the data `spmkit sample` writes (with SEs and role changes)."""
    from spmkit.payout import calculate
    from spmkit.plan import load_plan
    from spmkit.tables import load_data_dir

    write_sample(tmp_path, reps=40, seed=3, quota_period="quarter", solution_engineers=True,
                 role_change=True)
    inputs = load_data_dir(tmp_path)
    result = calculate(load_plan(ROOT / "scenarios" / "baseline.yaml"), inputs)
    payees = set(result.rep_totals()["rep_id"])
    quotas = pd.read_csv(tmp_path / "quotas.csv", dtype=str)
    assert payees == set(quotas.loc[quotas["period_start"].str.startswith("2025"), "rep_id"])


# --- CLI ----------------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spmkit.cli", *args],
                          capture_output=True, text=True, timeout=120)


def test_cli_writes_the_files(tmp_path: Path) -> None:
    out = tmp_path / "data"
    proc = _cli("sample", "--out", str(out), "--reps", "30", "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    written = {p.name for p in out.iterdir()}
    assert written >= {".spmkit-run.json", *FILES}
    assert written - {".spmkit-run.json", *FILES} <= {"opportunities.csv"}  # the outlook's
    expected = generate(reps=30, seed=5, quota_period="quarter")
    for name, frame in expected.items():
        got = pd.read_csv(out / f"{name}.csv", dtype="str", keep_default_na=False)
        assert got.shape == frame.shape, name
    assert "deals" in proc.stdout and "payments" in proc.stdout


def test_cli_same_as_library(tmp_path: Path) -> None:
    proc = _cli("sample", "--out", str(tmp_path / "cli"), "--reps", "20", "--years", "1",
                "--seed", "9", "--hostile-names", "--overlays", "--quota-period", "month",
                "--role-change")
    assert proc.returncode == 0, proc.stderr
    write_sample(tmp_path / "lib", reps=20, years=1, seed=9, hostile_names=True,
                 overlays=True, quota_period="month", role_change=True)
    for name in (*FILES, "overlays.csv"):
        assert (tmp_path / "cli" / name).read_bytes() == (tmp_path / "lib" / name).read_bytes()
    assert HOSTILE_NAME in (tmp_path / "cli" / "roster.csv").read_text(encoding="utf-8")


def test_cli_bad_reps_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "data"
    proc = _cli("sample", "--out", str(out), "--reps", "0")
    assert proc.returncode == 2
    assert "reps" in proc.stderr and "at least 1" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
