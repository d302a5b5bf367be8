"""Tests for spmkit.tables: loaders, validation messages, cross-table checks."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spmkit.errors import InputError
from spmkit.tables import (
    Inputs,
    load_data_dir,
    load_deals,
    load_fx,
    load_inputs,
    load_quotas,
    load_roster,
    load_splits,
)

DEALS_HEADER = "deal_id,rep_id,close_date,amount"


def write(path: Path, text: str, *, bom: bool = False, crlf: bool = False) -> Path:
    body = text.replace("\n", "\r\n") if crlf else text
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body.encode("utf-8"))
    return path


def error_text(fn, *args, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def deals_frame(**overrides) -> pd.DataFrame:
    base = {
        "deal_id": ["D1", "D2", "D3"],
        "rep_id": ["R1", "R2", "R1"],
        "close_date": ["2026-01-15", "2026-02-01", "2026-03-31"],
        "amount": ["100.00", "250.5", "-20"],
    }
    base.update(overrides)
    return pd.DataFrame(base)


# ----------------------------------------------------------------------------- reading


def test_csv_with_bom_crlf_blank_line_and_time_parts(tmp_path):
    path = write(
        tmp_path / "deals.csv",
        "deal_id,rep_id,close_date,amount,currency,Notes\n"
        " D1 , R1 ,2026-01-05,1234.565,usd,x\n"
        "\n"
        "D2,R2,1996-07-04 00:00:00.000,-0.005,,\n"
        "D3,R1,2026-03-01 13:45:00,\"1,234.50\",EUR,y\n",
        bom=True, crlf=True,
    )
    d = load_deals(path)
    assert list(d.columns) == ["deal_id", "rep_id", "close_date", "amount_cents", "currency",
                               "product", "deal_type", "region", "account", "cancel_date"]
    assert d["deal_id"].tolist() == ["D1", "D2", "D3"]
    assert d["rep_id"].tolist() == ["R1", "R2", "R1"]
    assert d["amount_cents"].tolist() == [123457, -1, 123450]
    assert d["amount_cents"].dtype == np.int64
    assert d["close_date"].dtype == "datetime64[us]"
    assert d["close_date"].tolist() == [pd.Timestamp("2026-01-05"), pd.Timestamp("1996-07-04"),
                                        pd.Timestamp("2026-03-01")]
    assert d["currency"].iloc[0] == "USD" and pd.isna(d["currency"].iloc[1])
    assert d["cancel_date"].isna().all()
    assert pd.api.types.is_string_dtype(d["deal_id"].dtype)


def test_blank_line_keeps_line_numbers(tmp_path):
    path = write(tmp_path / "deals.csv",
                 f"{DEALS_HEADER}\nD1,R1,2026-01-05,1\n\nD2,R1,2026-01-05,x\n")
    assert "deals.csv, line 4, column 'amount': not a number: 'x'" in error_text(load_deals, path)


def test_amount_rounding_half_away_from_zero():
    d = load_deals(deals_frame(amount=["1234.565", "-0.005", "0.004"]))
    assert d["amount_cents"].tolist() == [123457, -1, 0]


def test_negative_amounts_are_allowed_credit_memos():
    d = load_deals(deals_frame(amount=["-500.00", "1", "2"]))
    assert d["amount_cents"].tolist() == [-50000, 100, 200]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 10**13), st.integers(0, 99),
                          st.sampled_from([0, 1, 2])), min_size=1, max_size=30))
def test_decimal_strings_round_trip_exactly_to_cents(values):
    texts, expected = [], []
    for negative, whole, frac, places in values:
        cents = whole * 100 + (frac if places == 2 else (frac // 10) * 10 if places == 1 else 0)
        text = str(whole) + {0: "", 1: f".{frac // 10}", 2: f".{frac:02d}"}[places]
        texts.append(("-" if negative else "") + text)
        expected.append(-cents if negative else cents)
    n = len(texts)
    frame = pd.DataFrame({"deal_id": [f"D{i}" for i in range(n)], "rep_id": ["R1"] * n,
                          "close_date": ["2026-01-01"] * n, "amount": texts})
    assert load_deals(frame)["amount_cents"].tolist() == expected


def test_thousands_separator_must_be_well_formed():
    d = load_deals(deals_frame(amount=["1,234,567.89", "12", "3"]))
    assert d["amount_cents"].iloc[0] == 123456789
    text = error_text(load_deals, deals_frame(amount=["1,5", "12", "3"]))
    assert "deals, row 1, column 'amount': not a number: '1,5'" in text


def test_dataframe_input_not_mutated():
    frame = deals_frame()
    frame["close_date"] = frame["close_date"] + " "
    before = frame.copy(deep=True)
    load_deals(frame, mapping={"amount": "amount"})
    pd.testing.assert_frame_equal(frame, before)


def test_loaded_frame_loads_again_unchanged():
    d = load_deals(deals_frame())
    pd.testing.assert_frame_equal(load_deals(d), d)


def test_numeric_and_datetime_columns_from_dataframe():
    frame = pd.DataFrame({
        "deal_id": [101, 102], "rep_id": [7.0, 8.0],
        "close_date": pd.to_datetime(["2026-01-05 10:30", "2026-02-01 00:00"]),
        "amount": [0.1 + 0.2, 1234.565],
    })
    d = load_deals(frame)
    assert d["deal_id"].tolist() == ["101", "102"]
    assert d["rep_id"].tolist() == ["7", "8"]
    assert d["close_date"].tolist() == [pd.Timestamp("2026-01-05"), pd.Timestamp("2026-02-01")]
    assert d["amount_cents"].tolist() == [30, 123457]


# ----------------------------------------------------------------------------- formats


def test_parquet_round_trip_with_decimals_and_dates(tmp_path):
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "deal_id": ["D1", "D2"],
        "rep_id": ["R1", "R2"],
        "close_date": pa.array([dt.date(2026, 1, 5), dt.date(2026, 2, 28)], pa.date32()),
        "amount": pa.array([Decimal("1234.565"), Decimal("-0.005")], pa.decimal128(12, 3)),
        "product": ["Widget", None],
    })
    pq.write_table(table, tmp_path / "deals.parquet")
    d = load_deals(tmp_path / "deals.parquet")
    assert d["amount_cents"].tolist() == [123457, -1]
    assert d["close_date"].tolist() == [pd.Timestamp("2026-01-05"), pd.Timestamp("2026-02-28")]
    assert d["product"].iloc[0] == "Widget" and pd.isna(d["product"].iloc[1])


def test_parquet_float_amounts_and_row_numbers(tmp_path):
    frame = pd.DataFrame({"deal_id": ["D1", "D2", "D3"], "rep_id": ["R1", "R1", None],
                          "close_date": pd.to_datetime(["2026-01-01"] * 3),
                          "amount": [19.99, np.nan, 5.0]})
    frame.to_parquet(tmp_path / "deals.parquet")
    text = error_text(load_deals, tmp_path / "deals.parquet")
    assert "deals.parquet, row 2, column 'amount': value is missing (required)" in text
    assert "deals.parquet, row 3, column 'rep_id': value is missing (required)" in text
    frame.loc[1, "amount"] = 0.1 + 0.2
    frame.loc[2, "rep_id"] = "R2"
    frame.to_parquet(tmp_path / "deals.parquet")
    assert load_deals(tmp_path / "deals.parquet")["amount_cents"].tolist() == [1999, 30, 500]


def test_xlsx_round_trip_and_sheet_row_numbers(tmp_path):
    frame = pd.DataFrame({
        "deal_id": ["D1", "D2"], "rep_id": ["R1", "R2"],
        "close_date": [pd.Timestamp("2026-01-05"), pd.Timestamp("2026-02-01 09:00")],
        "amount": [1234.56, 7],
    })
    frame.to_excel(tmp_path / "deals.xlsx", index=False)
    d = load_deals(tmp_path / "deals.xlsx")
    assert d["amount_cents"].tolist() == [123456, 700]
    assert d["close_date"].tolist() == [pd.Timestamp("2026-01-05"), pd.Timestamp("2026-02-01")]
    bad = frame.assign(amount=[1, "lots"])
    bad.to_excel(tmp_path / "bad.xlsx", index=False)
    assert ("bad.xlsx, row 3, column 'amount': not a number: 'lots'"
            in error_text(load_deals, tmp_path / "bad.xlsx"))


def test_unsupported_and_missing_files(tmp_path):
    assert "unsupported file type '.txt'" in error_text(load_deals, write(tmp_path / "d.txt", "x"))
    assert "file not found" in error_text(load_deals, tmp_path / "nope.csv")


# ----------------------------------------------------------------------------- mapping


def test_mapping_renames_source_columns(tmp_path):
    path = write(tmp_path / "crm.csv",
                 "Opportunity ID,Opportunity Owner,Close Date,Amount,Stage\n"
                 "O-1,alice,2026-04-01,99.5,Won\n")
    d = load_deals(path, mapping={"Opportunity ID": "deal_id", "Opportunity Owner": "rep_id",
                                  "Close Date": "close_date", "Amount": "amount"})
    assert d[["deal_id", "rep_id"]].iloc[0].tolist() == ["O-1", "alice"]
    assert d["amount_cents"].tolist() == [9950]
    text = error_text(load_deals, path.with_name("crm.csv"),
                      mapping={"Opportunity ID": "deal_id", "Owner": "rep_id",
                               "Close Date": "close_date", "Amount": "amount"})
    assert "crm.csv, column 'Owner': the column mapping names column 'Owner'" in text
    assert "missing required column 'rep_id'" in text


def test_problems_name_the_source_column_after_mapping(tmp_path):
    path = write(tmp_path / "crm.csv", "id,owner,date,Amount\nO-1,a,2026-04-01,ten\n")
    text = error_text(load_deals, path, mapping={"id": "deal_id", "owner": "rep_id",
                                                 "date": "close_date", "Amount": "amount"})
    assert text == "crm.csv, line 2, column 'Amount': not a number: 'ten'"


# ----------------------------------------------------------------------------- deals rejections


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("D1,R1,2026-01-05,1\nD1,R2,2026-01-06,2\n",
         "deals.csv, line 3, column 'deal_id': duplicate deal_id 'D1' (also on line 2)"),
        ("D1,R1,2026-01-05,\n", "deals.csv, line 2, column 'amount': value is missing (required)"),
        ("D1,R1,2026-01-05,12x\n", "deals.csv, line 2, column 'amount': not a number: '12x'"),
        ("D1,R1,2026-02-30,1\n",
         "deals.csv, line 2, column 'close_date': not a date (expected YYYY-MM-DD): '2026-02-30'"),
        ("D1,R1,abc,1\n",
         "deals.csv, line 2, column 'close_date': not a date (expected YYYY-MM-DD): 'abc'"),
        ("D1,,2026-01-05,1\n", "deals.csv, line 2, column 'rep_id': value is missing (required)"),
    ],
)
def test_deal_rejections_name_file_line_and_column(tmp_path, rows, expected):
    path = write(tmp_path / "deals.csv", f"{DEALS_HEADER}\n{rows}")
    assert error_text(load_deals, path) == expected


def test_missing_required_column_names_it_and_lists_columns(tmp_path):
    path = write(tmp_path / "deals.csv", "deal_id,rep_id,amount\nD1,R1,5\n")
    assert error_text(load_deals, path) == (
        "deals.csv, column 'close_date': missing required column 'close_date' "
        "(columns found: deal_id, rep_id, amount)")


def test_cancel_before_close_is_rejected(tmp_path):
    path = write(tmp_path / "deals.csv",
                 f"{DEALS_HEADER},cancel_date\nD1,R1,2026-03-01,5,2026-02-01\n")
    assert "line 2, column 'cancel_date': cancel_date 2026-02-01 is before close_date" in \
        error_text(load_deals, path)


def test_several_problems_in_one_file_are_all_reported(tmp_path):
    path = write(tmp_path / "deals.csv",
                 f"{DEALS_HEADER}\nD1,R1,2026-01-05,abc\nD2,R1,2026-13-01,5\nD1,,2026-01-05,7\n")
    text = error_text(load_deals, path)
    assert text.startswith("4 problems:")
    for part in ["line 2, column 'amount': not a number: 'abc'",
                 "line 3, column 'close_date': not a date",
                 "line 4, column 'rep_id': value is missing",
                 "line 4, column 'deal_id': duplicate deal_id 'D1' (also on line 2)"]:
        assert f"deals.csv, {part}" in text


def test_many_problems_are_capped_with_a_count():
    n = 120
    frame = pd.DataFrame({"deal_id": [f"D{i}" for i in range(n)], "rep_id": ["R"] * n,
                          "close_date": ["2026-01-01"] * n, "amount": ["x"] * n})
    with pytest.raises(InputError) as info:
        load_deals(frame)
    text = str(info.value)
    assert "deals, row 1, column 'amount': not a number: 'x'" in text
    assert "70 more rows: the same problem" in text
    assert len(info.value.problems) == 51


# ----------------------------------------------------------------------------- quotas


def test_quotas_period_and_annual_forms(tmp_path):
    q = load_quotas(write(tmp_path / "q.csv", "rep_id,period_start,quota\nR1,2026-01-01,100\n"
                                              "R1,2026-04-01,250.50\n"))
    assert q["quota_cents"].tolist() == [10000, 25050]
    assert q["year"].isna().all() and q["year"].dtype == "Int64"
    a = load_quotas(pd.DataFrame({"rep_id": ["R1"], "year": [2026], "quota": [1000]}))
    assert a["year"].tolist() == [2026] and a["period_start"].isna().all()
    assert a["quota_cents"].tolist() == [100000]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("R1,2026-01-01,\n", "q.csv, line 2, column 'quota': value is missing (required)"),
        ("R1,2026-01-01,NaN\n", "q.csv, line 2, column 'quota': not a number: 'NaN'"),
        ("R1,2026-01-01,lots\n", "q.csv, line 2, column 'quota': not a number: 'lots'"),
        ("R1,2026-01-01,-5\n", "q.csv, line 2, column 'quota': must not be negative: -5"),
        ("R1,,5\n", "q.csv, line 2, column 'period_start': a quota needs a period_start"),
        ("R1,2026-01-01,5\nR1,2026-01-01,6\n",
         "q.csv, line 3, column 'period_start': duplicate quota row: rep_id 'R1', "
         "period_start '2026-01-01' (also on line 2)"),
    ],
)
def test_quota_rejections(tmp_path, rows, expected):
    text = error_text(load_quotas, write(tmp_path / "q.csv", f"rep_id,period_start,quota\n{rows}"))
    assert expected in text


def test_quotas_mixing_forms_and_duplicate_years(tmp_path):
    path = write(tmp_path / "q.csv", "rep_id,period_start,year,quota\nR1,2026-01-01,,5\n"
                                     "R2,,2026,5\nR2,,2026,6\n")
    text = error_text(load_quotas, path)
    assert ("q.csv, column 'year': the file mixes quotas per period (period_start, first on "
            "line 2) with annual quotas (year, first on line 3)") in text
    assert ("q.csv, line 4, column 'year': duplicate quota row: rep_id 'R2', year 2026 "
            "(also on line 3)") in text


def test_quotas_without_period_or_year_column(tmp_path):
    text = error_text(load_quotas, write(tmp_path / "q.csv", "rep_id,quota\nR1,5\n"))
    assert "q.csv, column 'period_start': missing column: quotas need 'period_start'" in text


# ----------------------------------------------------------------------------- splits


def test_splits_exact_shares():
    s = load_splits(pd.DataFrame({"deal_id": ["D1", "D1", "D1"], "rep_id": ["A", "B", "C"],
                                  "share": ["0.333333333", "0.3333333330", "0.333333334"]}))
    assert s["share_ppb"].tolist() == [333333333, 333333333, 333333334]
    assert s["share_ppb"].sum() == 1_000_000_000
    assert s["share"].dtype == np.float64
    floats = load_splits(pd.DataFrame({"deal_id": ["D1", "D1"], "rep_id": ["A", "B"],
                                       "share": [0.1 + 0.2, 0.7]}))
    assert floats["share_ppb"].tolist() == [300_000_000, 700_000_000]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("D1,A,0.5\nD1,B,0.4\n",
         "s.csv, line 2, column 'share': the shares of deal 'D1' sum to 0.9 (2 rows), "
         "not exactly 1"),
        ("D1,A,0.1\nD1,B,0.2\nD1,C,0.7000000001\n",
         "line 4, column 'share': not a number with at most 9 decimal places: '0.7000000001'"),
        ("D1,A,0\nD1,B,1\n", "s.csv, line 2, column 'share': must be more than 0 and at most 1: 0"),
        ("D1,A,-0.5\nD1,B,1.5\n",
         "s.csv, line 3, column 'share': must be more than 0 and at most 1: 1.5"),
        ("D1,A,0.5\nD1,A,0.5\n",
         "s.csv, line 3, column 'rep_id': duplicate split: deal_id 'D1', rep_id 'A' "
         "(also on line 2)"),
        ("D1,A,half\n", "s.csv, line 2, column 'share': not a number with at most 9 decimal"),
    ],
)
def test_split_rejections(tmp_path, rows, expected):
    assert expected in error_text(load_splits, write(tmp_path / "s.csv",
                                                     f"deal_id,rep_id,share\n{rows}"))


def test_out_of_range_share_is_not_also_reported_as_a_bad_sum(tmp_path):
    text = error_text(load_splits, write(tmp_path / "s.csv", "deal_id,rep_id,share\nD1,A,1.5\n"))
    assert text == "s.csv, line 2, column 'share': must be more than 0 and at most 1: 1.5"


# ----------------------------------------------------------------------------- fx


def test_fx_rates_are_exact_decimals(tmp_path):
    fx = load_fx(write(tmp_path / "fx.csv", "currency,rate\neur,1.0845\nGBP ,1.27\n"))
    assert fx["currency"].tolist() == ["EUR", "GBP"]
    assert fx["rate"].tolist() == [Decimal("1.0845"), Decimal("1.27")]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("EUR,\n", "fx.csv, line 2, column 'rate': value is missing (required)"),
        ("EUR,0\n", "fx.csv, line 2, column 'rate': rate must be positive: 0"),
        ("EUR,-1.1\n", "fx.csv, line 2, column 'rate': rate must be positive: -1.1"),
        ("EUR,abc\n", "fx.csv, line 2, column 'rate': not a number: 'abc'"),
        ("EUR,1.1\nEUR,1.2\n",
         "fx.csv, line 3, column 'currency': duplicate currency 'EUR' (also on line 2)"),
    ],
)
def test_fx_rejections(tmp_path, rows, expected):
    assert error_text(load_fx, write(tmp_path / "fx.csv", f"currency,rate\n{rows}")) == expected


# ----------------------------------------------------------------------------- roster


ROSTER_HEADER = "rep_id,name,manager_id,target_incentive,draw,draw_type,hire_date,term_date"


def test_roster_columns_and_defaults(tmp_path):
    r = load_roster(write(tmp_path / "roster.csv",
                          f"{ROSTER_HEADER},plan\nM1,Mia,,50000,,,2020-01-01,,AE\n"
                          "R1,Raj,M1,40000.50,1000,Recoverable,2026-02-15,2026-09-30,AE\n"))
    assert r["target_incentive_cents"].tolist() == [5000000, 4000050]
    assert r["draw_cents"].tolist() == [0, 100000]
    assert r["base_salary_cents"].tolist() == [0, 0]
    assert r["draw_type"].iloc[1] == "recoverable"
    assert pd.isna(r["manager_id"].iloc[0])
    assert r["plan"].tolist() == ["AE", "AE"]
    assert "plan" not in load_roster(pd.DataFrame({"rep_id": ["R1"]})).columns


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("R1,A,,1,100,weekly,,\n",
         "roster.csv, line 2, column 'draw_type': must be 'recoverable' or 'non_recoverable': "
         "'weekly'"),
        ("R1,A,,1,100,,,\n",
         "roster.csv, line 2, column 'draw_type': a draw is given, so draw_type must be"),
        ("R1,A,,1,,,2026-05-01,2026-04-30\n",
         "roster.csv, line 2, column 'term_date': term_date 2026-04-30 is before hire_date "
         "2026-05-01"),
        ("R1,A,,1,,,,\nR1,B,,1,,,,\n",
         "roster.csv, line 3, column 'rep_id': duplicate rep_id 'R1' (also on line 2)"),
        ("R1,A,M9,1,,,,\n",
         "roster.csv, line 2, column 'manager_id': manager_id 'M9' is not a rep_id in the roster"),
        ("R1,A,,-1,,,,\n",
         "roster.csv, line 2, column 'target_incentive': must not be negative: -1"),
    ],
)
def test_roster_rejections(tmp_path, rows, expected):
    text = error_text(load_roster, write(tmp_path / "roster.csv", f"{ROSTER_HEADER}\n{rows}"))
    assert expected in text


# ----------------------------------------------------------------------------- load_inputs


def small_inputs(tmp_path: Path) -> dict[str, Path]:
    return {
        "deals": write(tmp_path / "deals.csv", "deal_id,rep_id,close_date,amount,currency\n"
                       "D1,R1,2026-01-05,100,\nD2,R2,2026-02-05,200,EUR\n"),
        "quotas": write(tmp_path / "quotas.csv", "rep_id,year,quota\nR1,2026,1000\nR2,2026,900\n"),
        "roster": write(tmp_path / "roster.csv", "rep_id,name,manager_id\nM,Mo,\nR1,Ann,M\n"
                        "R2,Bo,M\n"),
        "splits": write(tmp_path / "splits.csv", "deal_id,rep_id,share\nD1,R1,0.6\nD1,R2,0.4\n"),
        "fx": write(tmp_path / "fx.csv", "currency,rate\nEUR,1.1\n"),
    }


def test_load_inputs_and_data_dir(tmp_path):
    files = small_inputs(tmp_path)
    inputs = load_inputs(**files, currency="USD")
    assert isinstance(inputs, Inputs)
    assert inputs.deals["amount_cents"].tolist() == [10000, 20000]
    assert inputs.splits["share_ppb"].tolist() == [600_000_000, 400_000_000]
    assert inputs.sources["deals"] == "deals.csv"
    again = load_data_dir(tmp_path, currency="USD")
    pd.testing.assert_frame_equal(again.roster, inputs.roster)
    pd.testing.assert_frame_equal(again.fx, inputs.fx)
    only = load_inputs(files["deals"])
    assert only.quotas is None and only.roster is None and only.fx is None


def test_load_inputs_collects_problems_across_tables(tmp_path):
    files = small_inputs(tmp_path)
    write(files["deals"], "deal_id,rep_id,close_date,amount,currency\n"
          "D1,R1,2026-01-05,100,\nD2,R7,2026-02-05,200,GBP\nD3,R7,2026-02-06,1,GBP\n")
    write(files["quotas"], "rep_id,year,quota\nR1,2026,1000\nR8,2026,900\n")
    write(files["splits"], "deal_id,rep_id,share\nD1,R1,0.6\nD1,R9,0.4\nD9,R1,1\n")
    write(files["fx"], "currency,rate\nEUR,0\n")
    text = error_text(load_inputs, **files, currency="USD")
    for part in [
        "fx.csv, line 2, column 'rate': rate must be positive: 0",
    ]:
        assert part in text
    # fx failed to load, so the currency check waits; all other cross checks run
    assert "deals.csv, line 3, column 'rep_id': rep_id 'R7' is not in the roster (roster.csv) " \
           "(2 rows)" in text
    assert "quotas.csv, line 3, column 'rep_id': rep_id 'R8' is not in the roster" in text
    assert "splits.csv, line 3, column 'rep_id': rep_id 'R9' is not in the roster" in text
    assert "splits.csv, line 4, column 'deal_id': deal_id 'D9' is not in the deals (deals.csv)" \
        in text
    write(files["fx"], "currency,rate\nEUR,1.1\n")
    text = error_text(load_inputs, **files, currency="USD")
    assert ("deals.csv, line 3, column 'currency': currency 'GBP' has no rate in the fx table "
            "(fx.csv) (2 rows)") in text
    assert "fx.csv" not in text.replace("(fx.csv)", "")


def test_foreign_currency_without_fx_table(tmp_path):
    files = small_inputs(tmp_path)
    text = error_text(load_inputs, files["deals"], currency="USD")
    assert text == ("deals.csv, line 3, column 'currency': currency 'EUR' has no rate in the fx "
                    "table (none given)")
    assert load_inputs(files["deals"]).fx is None  # no plan currency given: nothing to check


def test_load_inputs_mappings(tmp_path):
    files = small_inputs(tmp_path)
    write(files["deals"], "id,Owner,close_date,amount\nD1,R1,2026-01-05,100\n")
    flat = load_inputs(files["deals"], roster=files["roster"],
                       mapping={"id": "deal_id", "Owner": "rep_id"})
    assert flat.deals["rep_id"].tolist() == ["R1"]
    nested = load_inputs(files["deals"], mapping={"deals": {"id": "deal_id", "Owner": "rep_id"}})
    assert nested.deals["deal_id"].tolist() == ["D1"]
    text = error_text(load_inputs, files["deals"], roster=files["roster"],
                      mapping={"id": "deal_id", "Owner": "rep_id", "Typo": "name"})
    assert "mapping, column 'Typo': no input table has column 'Typo'" in text


def test_load_data_dir_missing_and_ambiguous_files(tmp_path):
    files = small_inputs(tmp_path)
    files["quotas"].unlink()
    text = error_text(load_data_dir, tmp_path)
    assert str(tmp_path) in text and "no quotas file (expected quotas.csv" in text
    write(tmp_path / "quotas.csv", "rep_id,year,quota\nR1,2026,1\nR2,2026,1\n")
    load_deals(files["deals"]).to_parquet(tmp_path / "deals.parquet")
    assert "both deals.csv and deals.parquet exist" in error_text(load_data_dir, tmp_path)
    files["deals"].unlink()
    assert load_data_dir(tmp_path, currency="USD").deals["amount_cents"].tolist() == [10000, 20000]
    assert "data folder not found" in error_text(load_data_dir, tmp_path / "missing")
