"""Issue 13, wrong numbers: each case gave a wrong payout with exit status 0.

- dates with UTC offsets moved between 31 March and 1 April depending on the other rows;
- partial dates (``2026``, ``2026-03``, ``20260115``, ``2026-1-5``) were accepted;
- a second ``amount`` column was silently ignored;
- sums beyond int64 wrapped to negative payouts;
- the run summary went through a float and was a few cents off on large totals.

The rule for dates (``docs/semantics.md``): the calendar date as written; an offset is
accepted and never moves the date.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from engine_helpers import deal, flat, make_plan, paid, run
from hypothesis import given, settings
from hypothesis import strategies as st

from spmkit.errors import InputError
from spmkit.money import CentsOverflowError
from spmkit.tables import load_deals, load_fx, load_inputs, load_quotas, load_roster

PLAN_YAML = """\
plan: Flat
currency: USD
year_start: 2026-01-01
period: quarter
components:
  - id: commission
    type: commission
    tiers:
      bands:
        - {from: 0, rate: 0.1}
"""
BIG = "9999999999999999.99"  # the largest amount a file may hold: 10**18 - 1 cents


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def error_text(fn, *args, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def spmkit(*args: str | Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "spmkit.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=env)


def calc(folder: Path, deal_rows: list[str], *, plan: str = PLAN_YAML,
         quotas: list[str] | None = None, fx: list[str] | None = None
         ) -> subprocess.CompletedProcess:
    """``spmkit calc`` on a deals file (and quotas: A1 100,000 for the year)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plan.yaml").write_text(plan, encoding="utf-8")
    args: list[str | Path] = [
        "calc", "--plan", folder / "plan.yaml",
        "--deals", write(folder / "deals.csv", ["deal_id,rep_id,close_date,amount,currency",
                                               *deal_rows]),
        "--quotas", write(folder / "quotas.csv",
                          quotas or ["rep_id,year,quota", "A1,2026,100000"]),
        "--out", folder / "out"]
    if fx:
        args += ["--fx", write(folder / "fx.csv", fx)]
    return spmkit(*args)


def one_error(result: subprocess.CompletedProcess) -> str:
    """The single error message of a failed run (exit 2, no traceback, nothing written)."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert result.stderr.startswith("spmkit calc: error: ") and result.stderr.count("error:") == 1
    return result.stderr


def close_dates(values: list) -> list[str]:
    d = load_deals(pd.DataFrame({"deal_id": [f"D{i}" for i in range(len(values))],
                                 "rep_id": "A", "close_date": values, "amount": "1"}))
    return d["close_date"].dt.strftime("%Y-%m-%d").tolist()


# ----------------------------------------------------------------------------- time zones


@pytest.mark.parametrize("others", [
    [],  # the only row: pandas kept the offset's local time -> 31 March
    ["2026-01-15"],  # with a row without an offset: everything went to UTC -> 1 April
    ["2026-01-15T09:00:00+01:00"],  # with another offset: UTC again -> 1 April
    ["2026-01-15T09:00:00Z", "2026-06-30 12:00"],
])
def test_an_offset_never_moves_the_date_whatever_other_rows_hold(others):
    got = close_dates(["2026-03-31T23:30:00-05:00", *others])
    assert got[0] == "2026-03-31"
    assert got[1:] == [v[:10] for v in others]


def test_times_and_offsets_in_their_iso_spellings():
    values = ["2026-03-31 23:59:59.999", "2026-03-31T23:59", "2026-03-31t10:00:00z",
              "2026-03-31T10:00:00+0530", "2026-03-31T10:00+05", "2026-03-31T00:00:00-12:00",
              "2026-03-31T23:00:00.123456+14:00", " 2026-03-31 "]
    assert close_dates(values) == ["2026-03-31"] * len(values)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.dates(date(1900, 1, 1), date(2200, 12, 31)),
                          st.sampled_from(["", " 00:00", "T23:59:59", "T23:30:00-05:00",
                                           "T00:30:00+14:00", "T12:00:00Z", " 01:02:03.5+0100"])),
                min_size=1, max_size=12))
def test_the_date_is_the_date_as_written(rows):
    """Property: any mix of dates, times and offsets gives each row its written date."""
    got = close_dates([f"{d.isoformat()}{suffix}" for d, suffix in rows])
    assert got == [d.isoformat() for d, _ in rows]


def test_an_offset_does_not_move_a_payout_between_quarters(tmp_path):
    """The issue's case, through the CLI: D1 closed at 23:30 on 31 March in New York. In a
    file with a row without an offset it was read as 1 April (UTC) and paid in Q2."""
    result = calc(tmp_path, ["D1,A1,2026-03-31T23:30:00-05:00,1000.00,USD",
                             "D2,A1,2026-05-02,500.00,USD"])
    assert result.returncode == 0, result.stderr
    payouts = pd.read_csv(tmp_path / "out" / "payouts.csv", dtype=str)
    assert payouts["amount"].tolist() == ["100.00", "50.00", "0.00", "0.00"]
    credits = pd.read_csv(tmp_path / "out" / "credits.csv", dtype=str)
    assert credits["credit_date"].tolist() == ["2026-03-31", "2026-05-02"]


def test_offsets_in_every_date_column():
    """cancel_date, hire_date, term_date and period_start follow the same rule."""
    deals = load_deals(pd.DataFrame({
        "deal_id": ["D1", "D2"], "rep_id": "A",
        "close_date": ["2026-03-31T23:30:00-05:00", "2026-01-05"],
        "amount": "1", "cancel_date": ["2026-06-30T22:00:00-08:00", None]}))
    assert deals["cancel_date"].iloc[0] == pd.Timestamp("2026-06-30")
    roster = load_roster(pd.DataFrame({
        "rep_id": ["A", "B"], "hire_date": ["2026-04-01T00:30:00+02:00", "2026-01-01"],
        "term_date": ["2026-12-31T23:00:00-10:00", None]}))
    assert roster["hire_date"].iloc[0] == pd.Timestamp("2026-04-01")
    assert roster["term_date"].iloc[0] == pd.Timestamp("2026-12-31")
    quotas = load_quotas(pd.DataFrame({
        "rep_id": ["A", "B"], "period_start": ["2026-04-01T00:00:00+02:00", "2026-04-01"],
        "quota": "1"}))
    assert quotas["period_start"].tolist() == [pd.Timestamp("2026-04-01")] * 2


def test_timezone_aware_parquet_timestamps_keep_their_own_date(tmp_path):
    """A Parquet timestamp in America/New_York at 23:30 on 31 March is 31 March (its date
    in its own zone), not 1 April (its date in UTC); date32 cells are dates."""
    when = pd.Timestamp("2026-03-31 23:30", tz="America/New_York")
    table = pa.table({
        "deal_id": ["D1"], "rep_id": ["A"],
        "close_date": pa.array([when], type=pa.timestamp("us", tz="America/New_York")),
        "amount": [1.0],
        "cancel_date": pa.array([date(2026, 4, 2)], type=pa.date32()),
    })
    pq.write_table(table, tmp_path / "deals.parquet")
    d = load_deals(tmp_path / "deals.parquet")
    assert d["close_date"].tolist() == [pd.Timestamp("2026-03-31")]
    assert d["cancel_date"].tolist() == [pd.Timestamp("2026-04-02")]


# ----------------------------------------------------------------------------- partial dates


@pytest.mark.parametrize("text", [
    "2026", "2026-03", "20260115", "2026-1-5", "2026-01-5", "2026/01/15", "15/01/2026",
    "2026-02-30", "2025-02-29", "2026-13-01", "0000-01-01", "2026-03-31T25:00",
    "2026-03-31T23:30:00-05:00 UTC", "2026-03-31 junk", "2026-W13", "2026-090",
])
def test_partial_or_malformed_dates_are_rejected(tmp_path, text):
    path = write(tmp_path / "deals.csv", ["deal_id,rep_id,close_date,amount",
                                          "D1,A,2026-01-05,1", f"D2,A,{text},1"])
    assert error_text(load_deals, path) == (
        f"deals.csv, line 3, column 'close_date': not a date (expected YYYY-MM-DD): {text!r}")


def test_partial_dates_are_rejected_in_every_date_column(tmp_path):
    roster = write(tmp_path / "roster.csv", ["rep_id,hire_date,term_date", "A,2026,",
                                             "B,2026-01-01,20261231"])
    quotas = write(tmp_path / "quotas.csv", ["rep_id,period_start,quota", "A,2026-04,5"])
    deals = write(tmp_path / "deals.csv", ["deal_id,rep_id,close_date,amount,cancel_date",
                                           "D1,A,2026-01-05,1,2026-1-9"])
    text = error_text(load_inputs, deals, quotas=quotas, roster=roster)
    for line in [
        "deals.csv, line 2, column 'cancel_date': not a date (expected YYYY-MM-DD): '2026-1-9'",
        "quotas.csv, line 2, column 'period_start': not a date (expected YYYY-MM-DD): '2026-04'",
        "roster.csv, line 2, column 'hire_date': not a date (expected YYYY-MM-DD): '2026'",
        "roster.csv, line 3, column 'term_date': not a date (expected YYYY-MM-DD): '20261231'",
    ]:
        assert line in text


def test_numbers_are_not_dates():
    """20260115 as a number (a Parquet or DataFrame integer column) is not a date either."""
    frame = pd.DataFrame({"deal_id": ["D1"], "rep_id": ["A"], "close_date": [20260115],
                          "amount": [1]})
    assert error_text(load_deals, frame) == (
        "deals, row 1, column 'close_date': not a date (expected YYYY-MM-DD): '20260115'")
    mixed = frame.astype({"close_date": object})
    mixed.loc[0, "close_date"] = 20260115
    mixed = pd.concat([mixed, mixed.assign(deal_id="D2", close_date=[date(2026, 1, 15)])],
                      ignore_index=True)
    assert error_text(load_deals, mixed) == (
        "deals, row 1, column 'close_date': not a date (expected YYYY-MM-DD): '20260115'")


def test_partial_date_through_the_cli(tmp_path):
    err = one_error(calc(tmp_path, ["D1,A1,2026-03,1000.00,USD"]))
    assert "deals.csv, line 2, column 'close_date': not a date (expected YYYY-MM-DD): '2026-03'" \
        in err
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------- duplicate columns


def test_a_second_amount_column_is_an_error(tmp_path):
    """It used to be read as ``amount.1`` and ignored: the first column was paid on."""
    path = write(tmp_path / "deals.csv", ["deal_id,rep_id,close_date,amount,region,amount",
                                          "D1,A,2026-01-05,1,East,1000"])
    assert error_text(load_deals, path) == (
        "deals.csv, line 1, column 'amount': column 'amount' appears 2 times in the header "
        "(columns 4 and 6); keep one")


def test_a_repeated_column_in_excel_is_an_error(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["deal_id", "rep_id", "close_date", "amount", " amount "])
    sheet.append(["D1", "A", "2026-01-05", 1, 1000])
    book.save(tmp_path / "deals.xlsx")
    assert error_text(load_deals, tmp_path / "deals.xlsx") == (
        "deals.xlsx, row 1, column 'amount': column 'amount' appears 2 times in the header "
        "(columns 4 and 5); keep one")


def test_two_columns_mapped_to_one_is_an_error(tmp_path):
    path = write(tmp_path / "crm.csv", ["Id,Owner,Closed,Amount,Amount USD",
                                        "O-1,a,2026-04-01,10,11"])
    mapping = {"Id": "deal_id", "Owner": "rep_id", "Closed": "close_date", "Amount": "amount",
               "Amount USD": "amount"}
    assert error_text(load_deals, path, mapping=mapping) == (
        "crm.csv, column 'amount': columns 'Amount' and 'Amount USD' both become 'amount' "
        "after the column mapping; map only one of them")
    # a mapping onto a name the file already has
    path = write(tmp_path / "crm2.csv", ["deal_id,rep_id,close_date,amount,Total",
                                         "O-1,a,2026-04-01,10,11"])
    assert error_text(load_deals, path, mapping={"Total": "amount"}) == (
        "crm2.csv, column 'amount': columns 'amount' and 'Total' both become 'amount' "
        "after the column mapping; map only one of them")


def test_a_repeated_column_in_a_dataframe_is_an_error():
    frame = pd.DataFrame([["D1", "A", "2026-01-05", "1", "2"]],
                         columns=["deal_id", "rep_id", "close_date", "amount", "amount"])
    assert error_text(load_deals, frame) == (
        "deals, column 'amount': column 'amount' appears 2 times; keep one")


def test_duplicate_header_through_the_cli(tmp_path):
    (tmp_path / "plan.yaml").write_text(PLAN_YAML, encoding="utf-8")
    deals = write(tmp_path / "deals.csv", ["deal_id,rep_id,close_date,amount,amount",
                                           "D1,A1,2026-01-05,1,1000"])
    quotas = write(tmp_path / "quotas.csv", ["rep_id,year,quota", "A1,2026,100000"])
    err = one_error(spmkit("calc", "--plan", tmp_path / "plan.yaml", "--deals", deals,
                           "--quotas", quotas, "--out", tmp_path / "out"))
    assert "deals.csv, line 1, column 'amount': column 'amount' appears 2 times" in err


# ----------------------------------------------------------------------------- overflow


def test_ten_huge_deals_are_an_error_not_a_negative_payout(tmp_path):
    """The issue's case: 10 x 9,999,999,999,999,999.99 wrapped int64 and paid
    -8,446,744,073,709,551.63 with exit status 0."""
    err = one_error(calc(tmp_path, [f"D{i},A1,2026-02-10,{BIG},USD" for i in range(10)]))
    assert ("deals.csv, column 'amount': the credit of rep A1 in 2026-Q1 is beyond plus or "
            "minus 92,233,720,368,547,758.07, the largest amount spmkit can hold") in err
    assert not (tmp_path / "out").exists()


def test_a_year_to_date_sum_beyond_int64_is_an_error():
    """Each quarter's credit fits (one deal of ~1e16 dollars), the year to date does not."""
    plan = make_plan(flat("0.1"))
    deals = [deal(f"D{i}", "A", f"2026-{m:02d}-10", BIG) for i, m in enumerate(
        [1, 1, 1, 4, 4, 4, 7, 7, 7, 10])]
    with pytest.raises(CentsOverflowError, match="year-to-date credit of rep A is beyond"):
        run(plan, deals)


def test_quotas_beyond_int64_are_an_error_naming_the_quotas_table():
    plan = make_plan(flat("0.1"), period="month")
    quotas = [{"rep_id": "A", "period_start": f"2026-{m:02d}-01", "quota": BIG}
              for m in range(1, 13)]
    with pytest.raises(CentsOverflowError) as info:
        run(plan, [deal("D1", "A", "2026-01-10", 1)], quotas=quotas)
    assert str(info.value).startswith(
        "quotas, column 'quota': the year-to-date quota of rep A is beyond plus or minus")


def test_a_payout_beyond_int64_is_an_error_naming_the_component():
    plan = make_plan(flat("10"))
    with pytest.raises(CentsOverflowError, match="component 'commission'"):
        run(plan, [deal("D1", "A", "2026-01-10", BIG)])


def test_fx_conversion_beyond_int64_is_an_error_naming_the_deals(tmp_path):
    err = one_error(calc(tmp_path, [f"D1,A1,2026-02-10,{BIG},EUR"],
                         fx=["currency,rate", "EUR,100"]))
    assert "deals.csv, column 'amount': an amount in EUR converted at the fx rate 100" in err


@pytest.mark.parametrize("rate", ["1e999999999", "1e-999999999", "1000000000001", "1e-13"])
def test_fx_rates_out_of_range_are_rejected_when_loaded(rate):
    """1e999999999 used to hang the conversion in big-integer arithmetic."""
    text = error_text(load_fx, pd.DataFrame({"currency": ["EUR"], "rate": [rate]}))
    assert text.startswith("fx, row 1, column 'rate': rate ")
    assert text.endswith("is out of range: a plan rate (plan currency per unit) is between "
                         "0.000000000001 and 1,000,000,000,000")
    edges = load_fx(pd.DataFrame({"currency": ["X", "Y"], "rate": ["1e12", "1e-12"]}))
    assert edges["rate"].tolist() == [Decimal("1e12"), Decimal("1e-12")]


def test_huge_sums_that_fit_are_exact():
    """Nine deals of 10**18 - 1 cents and a credit memo of the same: 10 rows of 1e18 could
    overflow, so the exact (two-word) sum runs; the credit, 8 x (10**18 - 1) cents, fits.
    10% of it is 799,999,999,999,999,999.2 cents -> 799,999,999,999,999,999."""
    plan = make_plan(flat("0.1"))
    deals = [deal(f"D{i}", "A", "2026-02-10", BIG) for i in range(9)]
    deals.append(deal("M1", "A", "2026-02-11", "-" + BIG))
    result = run(plan, deals)
    assert result.attainment["credit_cents"].tolist()[0] == 8 * (10**18 - 1)
    assert paid(result, "A", "commission") == [799_999_999_999_999_999, 0, 0, 0]
    assert result.total_payout_cents == 799_999_999_999_999_999


# ----------------------------------------------------------------------------- the summary


def test_the_run_summary_prints_the_exact_total(tmp_path):
    """900,719,925,474,099.32 in cents is above 2**53: cents / 100 as a float printed
    900,719,925,474,099.38."""
    result = calc(tmp_path, ["D1,A1,2026-02-10,9007199254740993.21,USD"])
    assert result.returncode == 0, result.stderr
    assert f"{90071992547409932 / 100:,.2f}" != "900,719,925,474,099.32"  # the float is off
    assert "total payout 900,719,925,474,099.32 USD" in result.stdout
    payouts = pd.read_csv(tmp_path / "out" / "payouts.csv", dtype=str)
    assert payouts["amount"].tolist()[0] == "900719925474099.32"


def test_the_run_summary_of_a_negative_total(tmp_path):
    """A credit memo only: the total is negative, and printed with its sign."""
    result = calc(tmp_path, ["D1,A1,2026-02-10,-0.50,USD"])
    assert result.returncode == 0, result.stderr
    assert "total payout -0.05 USD" in result.stdout


def test_many_dates_with_and_without_offsets():
    """200,000 rows, a third of them with an offset: every one keeps its written date."""
    n = 200_000
    days = np.datetime64("2026-01-01") + (np.arange(n) % 365).astype("timedelta64[D]")
    text = np.datetime_as_string(days).astype(object)
    text[::3] = text[::3] + "T23:30:00-05:00"
    got = load_deals(pd.DataFrame({"deal_id": np.arange(n).astype(str), "rep_id": "A",
                                   "close_date": text, "amount": "1"}))["close_date"]
    assert (got.to_numpy() == days.astype("datetime64[us]")).all()
