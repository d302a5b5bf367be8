"""The synthetic sales org: deterministic, shaped like a real one, loadable, and the CLI."""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spmkit.errors import SpmkitError
from spmkit.sample import (
    DEAL_COLUMNS,
    FX_RATES,
    HOSTILE_NAME,
    ROSTER_COLUMNS,
    _months_employed,
    generate,
    write_sample,
)

SELLING = ("Account Executive", "Account Manager", "Inside Sales")
LEADERS = ("Manager", "Director", "VP")
FILES = ("deals.csv", "roster.csv", "quotas.csv", "splits.csv", "fx.csv")


@pytest.fixture(scope="module")
def org() -> dict[str, pd.DataFrame]:
    return generate()


def _credit_2025(org: dict[str, pd.DataFrame]) -> pd.Series:
    """Each rep's 2025 credit in USD from the raw tables (splits, fx, clawbacks)."""
    deals = org["deals"]
    rate = deals["currency"].map({"USD": 1.0, **{k: float(v) for k, v in FX_RATES.items()}})
    usd = deals["amount"].astype(float) * rate
    deals = deals.assign(usd=usd)
    splits = org["splits"].assign(share=org["splits"]["share"].astype(float))
    split_lines = splits.merge(deals.drop(columns="rep_id"), on="deal_id")
    own = deals[~deals["deal_id"].isin(splits["deal_id"])].assign(share=1.0)
    lines = pd.concat([own, split_lines], ignore_index=True)
    lines["credit"] = lines["usd"] * lines["share"]
    won = lines[lines["close_date"].str.startswith("2025")].groupby("rep_id")["credit"].sum()
    lost = lines[lines["cancel_date"].str.startswith("2025")].groupby("rep_id")["credit"].sum()
    return won.sub(lost, fill_value=0)


# --- determinism ----------------------------------------------------------------------

def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    write_sample(tmp_path / "a", seed=3, reps=40)
    write_sample(tmp_path / "b", seed=3, reps=40)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    write_sample(tmp_path / "a", seed=3, reps=40)
    write_sample(tmp_path / "b", seed=4, reps=40)
    for name in ("deals.csv", "quotas.csv"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes()


def test_generation_is_fast() -> None:
    start = time.perf_counter()
    generate()
    assert time.perf_counter() - start < 2.0


# --- shape of the org ---------------------------------------------------------------------

def test_columns_are_the_canonical_ones_and_roster_has_no_plan(org) -> None:
    assert tuple(org["deals"].columns) == DEAL_COLUMNS
    assert tuple(org["roster"].columns) == ROSTER_COLUMNS
    assert "plan" not in org["roster"].columns
    assert list(org["quotas"].columns) == ["rep_id", "year", "quota"]
    assert list(org["splits"].columns) == ["deal_id", "rep_id", "share"]
    assert list(org["fx"].columns) == ["currency", "rate"]


def test_money_is_text_with_two_decimals(org) -> None:
    pattern = r"^-?\d+\.\d\d$"
    assert org["deals"]["amount"].str.match(pattern).all()
    assert org["quotas"]["quota"].str.match(pattern).all()
    assert org["roster"]["target_incentive"].str.match(pattern).all()
    assert org["roster"]["base_salary"].str.match(pattern).all()


def test_roles_regions_and_manager_tree(org) -> None:
    roster = org["roster"]
    sellers = roster[roster["role"].isin(SELLING)]
    assert len(sellers) == 150
    shares = sellers["role"].value_counts(normalize=True)
    assert shares["Account Executive"] == pytest.approx(0.70, abs=0.02)
    assert shares["Account Manager"] == pytest.approx(0.20, abs=0.02)
    assert shares["Inside Sales"] == pytest.approx(0.10, abs=0.02)
    assert set(sellers["region"]) == {"NA East", "NA West", "EMEA", "APAC"}
    assert (roster["role"] == "VP").sum() == 1
    assert (roster["role"] == "Director").sum() == 2
    assert (roster["role"] == "Manager").sum() >= 8
    assert roster["rep_id"].is_unique
    # The tree: one root (the VP); every manager_id exists; reps report to Managers;
    # walking up from anyone reaches the VP.
    assert roster.loc[roster["manager_id"] == "", "role"].tolist() == ["VP"]
    boss = dict(zip(roster["rep_id"], roster["manager_id"], strict=True))
    role = dict(zip(roster["rep_id"], roster["role"], strict=True))
    assert set(sellers["manager_id"].map(role)) == {"Manager"}
    for rep in roster["rep_id"]:
        seen = 0
        while boss[rep]:
            rep = boss[rep]
            seen += 1
            assert seen < 5
        assert role[rep] == "VP"
    # Managers are in the same region as their reps.
    region = dict(zip(roster["rep_id"], roster["region"], strict=True))
    assert (sellers["manager_id"].map(region) == sellers["region"]).all()


def test_managers_have_no_deals_no_quota_and_no_target(org) -> None:
    roster = org["roster"]
    leaders = set(roster.loc[roster["role"].isin(LEADERS), "rep_id"])
    assert leaders
    assert not leaders & set(org["deals"]["rep_id"])
    assert not leaders & set(org["quotas"]["rep_id"])
    assert not leaders & set(org["splits"]["rep_id"])
    assert (roster.loc[roster["role"].isin(LEADERS), "target_incentive"] == "0.00").all()


def test_target_incentive_and_pay_mix_by_role(org) -> None:
    sellers = org["roster"][org["roster"]["role"].isin(SELLING)]
    ti = sellers.groupby("role")["target_incentive"].agg(set).to_dict()
    assert ti == {"Account Executive": {"60000.00"}, "Account Manager": {"40000.00"},
                  "Inside Sales": {"20000.00"}}
    mix = sellers["base_salary"].astype(float) / (
        sellers["base_salary"].astype(float) + sellers["target_incentive"].astype(float))
    assert mix.between(0.5, 0.8).all()


def test_deal_volume_years_products_types(org) -> None:
    deals = org["deals"]
    assert 15_000 <= len(deals) <= 25_000
    assert deals["deal_id"].is_unique
    assert set(deals["close_date"].str.slice(0, 4)) == {"2024", "2025"}
    assert set(deals["product"]) == {"Core", "Widget Pro", "Analytics", "Services"}
    assert set(deals["deal_type"]) == {"new", "expansion", "renewal"}
    # Deals carry their owner's region.
    region = org["roster"].set_index("rep_id")["region"]
    assert (deals["region"] == deals["rep_id"].map(region)).all()


def test_deal_sizes_are_right_skewed(org) -> None:
    amounts = org["deals"]["amount"].astype(float)
    assert amounts.mean() > 1.3 * amounts.median()
    assert amounts.quantile(0.99) > 8 * amounts.median()


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


def test_split_partners_are_employed_and_in_region(org) -> None:
    roster = org["roster"].set_index("rep_id")
    lines = org["splits"].merge(org["deals"][["deal_id", "close_date", "region"]], on="deal_id")
    hire = roster["hire_date"].reindex(lines["rep_id"]).to_numpy()
    term = roster["term_date"].reindex(lines["rep_id"]).replace("", "9999-12-31").to_numpy()
    assert (hire <= lines["close_date"].to_numpy()).all()
    assert (lines["close_date"].to_numpy() <= term).all()
    assert (roster["region"].reindex(lines["rep_id"]).to_numpy() == lines["region"]).all()


def test_cancellations(org) -> None:
    deals = org["deals"]
    cancelled = deals[deals["cancel_date"] != ""]
    assert 0.01 <= len(cancelled) / len(deals) <= 0.03
    gap = (pd.to_datetime(cancelled["cancel_date"]) - pd.to_datetime(cancelled["close_date"]))
    assert gap.dt.days.between(30, 120).all()
    # Some are cancelled in the year after they closed (clawback across the year end).
    cancel_year = cancelled["cancel_date"].str.slice(0, 4)
    assert (cancel_year > cancelled["close_date"].str.slice(0, 4)).any()


def test_foreign_currency_deals_have_fx_rates(org) -> None:
    deals, fx = org["deals"], org["fx"]
    foreign = deals[deals["currency"] != "USD"]
    assert 0.015 <= len(foreign) / len(deals) <= 0.05
    assert set(foreign["currency"]) == {"EUR", "GBP"}
    assert set(foreign["currency"]) <= set(fx["currency"])
    assert dict(zip(fx["currency"], fx["rate"], strict=True)) == {"EUR": "1.08", "GBP": "1.27"}
    assert fx["rate"].map(Decimal).gt(0).all()


def test_hires_and_leavers_sell_only_while_employed(org) -> None:
    roster, deals = org["roster"], org["deals"]
    sellers = roster[roster["role"].isin(SELLING)].set_index("rep_id")
    hires = sellers[sellers["hire_date"].str.startswith("2025")]
    leavers = sellers[sellers["term_date"] != ""]
    assert len(hires) >= 3 and len(leavers) >= 3
    assert leavers["term_date"].str.startswith("2025").all()
    hire = sellers["hire_date"].reindex(deals["rep_id"]).to_numpy()
    term = sellers["term_date"].replace("", "9999-12-31").reindex(deals["rep_id"]).to_numpy()
    close = deals["close_date"].to_numpy()
    assert ((hire <= close) & (close <= term)).all()
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


def test_quotas_every_selling_rep_every_year_employed(org) -> None:
    roster, quotas = org["roster"], org["quotas"]
    sellers = roster[roster["role"].isin(SELLING)]
    assert not quotas.duplicated(["rep_id", "year"]).any()
    q2025 = quotas[quotas["year"] == "2025"]
    assert set(q2025["rep_id"]) == set(sellers["rep_id"])
    hired_2025 = set(sellers.loc[sellers["hire_date"] >= "2025", "rep_id"])
    q2024 = set(quotas.loc[quotas["year"] == "2024", "rep_id"])
    assert q2024 == set(sellers["rep_id"]) - hired_2025
    assert quotas["quota"].map(Decimal).gt(0).all()


def test_partial_year_quotas_are_prorated_by_months() -> None:
    org = generate(reps=400, seed=5)
    roster = org["roster"].set_index("rep_id")
    q = org["quotas"][org["quotas"]["year"] == "2025"].set_index("rep_id")["quota"].astype(float)
    hire = pd.to_datetime(roster["hire_date"].reindex(q.index)).to_numpy().astype("datetime64[D]")
    term_text = roster["term_date"].reindex(q.index).replace("", "2025-12-31")
    term = pd.to_datetime(term_text).to_numpy().astype("datetime64[D]")
    months = _months_employed(hire, term, np.datetime64("2025-01-01"),
                              np.datetime64("2025-12-31"))
    role = roster["role"].reindex(q.index)
    per_month = q / months
    ae = (role == "Account Executive").to_numpy()
    partial = months < 12
    full_rate = per_month[ae & ~partial].median()
    partial_rate = per_month[ae & partial].median()
    assert (partial & ae).sum() >= 10
    # Prorated: a partial-year rep's quota per month employed is that of a full-year rep,
    # not 12x smaller or larger (without proration the ratio would be ~12/months).
    assert 0.6 < partial_rate / full_rate < 1.6


def test_months_employed_hand_examples() -> None:
    d = np.datetime64
    start = np.array([d("2020-05-01"), d("2025-03-31"), d("2025-03-01"), d("2026-01-02")])
    end = np.array([d("2030-01-01"), d("2025-04-01"), d("2025-03-01"), d("2026-05-01")])
    got = _months_employed(start, end, d("2025-01-01"), d("2025-12-31"))
    assert got.tolist() == [12, 2, 1, 0]


def test_attainment_is_right_skewed_and_healthy(org) -> None:
    credit = _credit_2025(org)
    q = org["quotas"][org["quotas"]["year"] == "2025"].set_index("rep_id")["quota"].astype(float)
    attainment = credit.reindex(q.index).fillna(0) / q
    assert attainment.mean() > attainment.median()
    assert 0.55 <= (attainment >= 1).mean() <= 0.70
    assert attainment.quantile(0.9) > 1.4
    assert attainment.quantile(0.1) < 0.8


def test_cost_of_target_incentive_is_realistic(org) -> None:
    """Target incentive over 2025 revenue in the 3-9% norm (ZS)."""
    credit = _credit_2025(org).sum()
    ti = org["roster"]["target_incentive"].astype(float).sum()
    assert 0.03 <= ti / credit <= 0.09


def test_years_count_back_from_last_year() -> None:
    org = generate(reps=30, years=3, seed=1)
    assert set(org["deals"]["close_date"].str.slice(0, 4)) == {"2023", "2024", "2025"}
    assert set(org["quotas"]["year"]) == {"2023", "2024", "2025"}
    one = generate(reps=30, years=1, seed=1, last_year=2026)
    assert set(one["deals"]["close_date"].str.slice(0, 4)) == {"2026"}


def test_hostile_name_only_when_asked(org) -> None:
    assert not org["roster"]["name"].str.contains("<", regex=False).any()
    hostile = generate(hostile_names=True)
    names = hostile["roster"]["name"]
    assert (names == HOSTILE_NAME).sum() == 1
    assert "<script>" in HOSTILE_NAME and "&" in HOSTILE_NAME and "'" in HOSTILE_NAME
    # Only the name changes.
    for table in ("deals", "quotas", "splits", "fx"):
        pd.testing.assert_frame_equal(hostile[table], org[table])
    pd.testing.assert_frame_equal(hostile["roster"].drop(columns="name"),
                                  org["roster"].drop(columns="name"))


@pytest.mark.parametrize("kw", [{"reps": 0}, {"reps": -3}, {"years": 0}, {"years": 11},
                                {"reps": 2.5}])
def test_bad_arguments_raise(kw: dict, tmp_path: Path) -> None:
    with pytest.raises(SpmkitError, match="reps|years"):
        write_sample(tmp_path / "out", **kw)
    assert not (tmp_path / "out").exists()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reps=st.integers(1, 25), years=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_for_any_small_org(reps: int, years: int, seed: int) -> None:
    org = generate(reps=reps, years=years, seed=seed)
    roster, deals, quotas, splits = org["roster"], org["deals"], org["quotas"], org["splits"]
    sellers = roster[roster["role"].isin(SELLING)]
    assert len(sellers) == reps
    assert roster["rep_id"].is_unique and deals["deal_id"].is_unique
    assert set(deals["rep_id"]) <= set(sellers["rep_id"])
    assert set(roster["manager_id"]) - {""} <= set(roster["rep_id"])
    last = quotas[quotas["year"] == "2025"]
    assert set(last["rep_id"]) == set(sellers["rep_id"])
    if len(splits):
        total = splits.groupby("deal_id")["share"].agg(lambda s: sum(map(Decimal, s)))
        assert (total == 1).all()
        assert set(splits["deal_id"]) <= set(deals["deal_id"])
    assert deals["amount"].map(Decimal).gt(0).all()


# --- loading through spmkit.tables -------------------------------------------------------

def test_sample_loads_through_the_table_loaders(tmp_path: Path) -> None:
    tables = pytest.importorskip("spmkit.tables")
    write_sample(tmp_path, seed=7)
    inputs = tables.load_data_dir(tmp_path)
    org = generate(seed=7)
    assert len(inputs.deals) == len(org["deals"])
    assert inputs.deals["amount_cents"].dtype == np.int64
    total = sum(map(Decimal, org["deals"]["amount"]))
    assert Decimal(int(inputs.deals["amount_cents"].sum())) / 100 == total
    assert len(inputs.roster) == len(org["roster"])
    assert "plan" not in inputs.roster.columns
    assert len(inputs.splits) == len(org["splits"])
    assert set(inputs.fx["currency"]) == {"EUR", "GBP"}


# --- CLI ----------------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spmkit.cli", *args],
                          capture_output=True, text=True, timeout=120)


def test_cli_writes_the_five_files(tmp_path: Path) -> None:
    out = tmp_path / "data"
    proc = _cli("sample", "--out", str(out), "--reps", "30", "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([".spmkit-run.json", *FILES])
    expected = generate(reps=30, seed=5)
    for name, frame in expected.items():
        got = pd.read_csv(out / f"{name}.csv", dtype="str", keep_default_na=False)
        assert got.shape == frame.shape, name
    assert "deals" in proc.stdout


def test_cli_same_as_library(tmp_path: Path) -> None:
    proc = _cli("sample", "--out", str(tmp_path / "cli"), "--reps", "20", "--years", "1",
                "--seed", "9", "--hostile-names")
    assert proc.returncode == 0, proc.stderr
    write_sample(tmp_path / "lib", reps=20, years=1, seed=9, hostile_names=True)
    for name in FILES:
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
