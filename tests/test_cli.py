"""``spmkit calc``, ``validate`` and ``explain`` as a user runs them: subprocesses on files.

The data set is small and hand-made so every figure below is computed by hand:

Plan ``Test AE`` (quarterly, 2026, USD): a YTD commission at 10% up to 100% of quota and
20% above (marginal), a period bonus (weight 0.5 of a 40,000.00 TI, curve (0, 0) -> (1, 1),
flat above), and a Q1 SPIF of 100.00 per Widget deal.  Quotas are annual, 400,000.00 for
A1, A2 and A3 (100,000.00 a quarter).

Deals::

    D1 A1 2026-02-10  60,000.00 USD  Widget
    D2 A1 2026-03-05  50,000.01 USD  Gadget, split A1 0.6 / A2 0.4
                      -> A1 30,000.01 (30,000.006), A2 20,000.00 (20,000.004)
    D3 A2 2026-02-20  10,000.33 EUR  Widget, fx 1.1 -> 11,000.36 (11,000.363)
    D4 A2 2026-01-15  40,000.00 (blank currency = USD), cancelled 2026-04-10
    D5 A1 2025-12-20   5,000.00 USD  before the plan year: ignored
    D6 A1 2026-08-01 350,000.00 USD

A1: Q1 credit 90,000.01 -> commission 10% = 9,000.001 -> 9,000.00; bonus 5,000 x 0.9000001
= 4,500.0005 -> 4,500.00; SPIF D1 100.00.  Q3 YTD 440,000.01 of 300,000.00: E = 30,000 +
20% x 140,000.01 = 58,000.002 -> 58,000.00, paid 58,000 - 9,000 = 49,000.00; bonus capped
at 100% -> 5,000.00.  Q4 YTD quota 400,000: E = 40,000 + 8,000.002 -> 48,000.00, paid
-10,000.00.  Total A1 = 48,000 + 9,500 + 100 = 57,600.00.

A2: Q1 credit 20,000 + 11,000.36 + 40,000 = 71,000.36 -> commission 7,100.036 -> 7,100.04;
bonus 5,000 x 0.7100036 = 3,550.018 -> 3,550.02; SPIF D3 100.00.  Q2 clawback -40,000: YTD
31,000.36 -> E 3,100.04, paid -4,000.00; bonus at -40% pays 0.  Total A2 = 6,750.06.

A3 has a quota and no deals: twelve zero rows.  Grand total 64,350.06.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from cli_fixtures import PLAN

DEALS = [
    "deal_id,rep_id,close_date,amount,currency,product,deal_type,region,account,cancel_date",
    "D1,A1,2026-02-10,60000.00,USD,Widget,new,East,Acme,",
    "D2,A1,2026-03-05,50000.01,USD,Gadget,new,East,Beta,",
    "D3,A2,2026-02-20,10000.33,EUR,Widget,new,West,Gamma,",
    "D4,A2,2026-01-15,40000.00,,Gadget,new,West,Delta,2026-04-10",
    "D5,A1,2025-12-20,5000.00,USD,Gadget,new,East,Acme,",
    "D6,A1,2026-08-01,350000.00,USD,Gadget,expansion,East,Acme,",
]
SPLITS = ["deal_id,rep_id,share", "D2,A1,0.6", "D2,A2,0.4"]
FX = ["currency,rate", "EUR,1.1"]
QUOTAS = ["rep_id,year,quota", "A1,2026,400000", "A2,2026,400000", "A3,2026,400000"]
ROSTER = [
    "rep_id,name,manager_id,role,region,target_incentive,base_salary,hire_date,term_date",
    "M1,Mia Manager,,Manager,East,0,150000,2020-01-01,",
    "A1,Ann Able,M1,AE,East,40000,100000,2021-03-01,",
    "A2,Ben Baker,M1,AE,West,40000,100000,2022-05-01,",
    "A3,Cat Cole,M1,AE,West,40000,100000,2023-07-01,",
]
TABLES = {"deals": DEALS, "splits": SPLITS, "fx": FX, "quotas": QUOTAS, "roster": ROSTER}

PAYOUT_COLUMNS = ["rep_id", "period_start", "period", "component", "attainment",
                  "earnings_to_date", "amount", "explain"]
CREDIT_COLUMNS = ["deal_id", "rep_id", "credit_date", "amount", "rule"]

#: (rep, period) -> (commission, bonus, spif) paid in that period, by hand (see above).
EXPECTED = {
    ("A1", "2026-Q1"): ("9000.00", "4500.00", "100.00"),
    ("A1", "2026-Q2"): ("0.00", "0.00", "0.00"),
    ("A1", "2026-Q3"): ("49000.00", "5000.00", "0.00"),
    ("A1", "2026-Q4"): ("-10000.00", "0.00", "0.00"),
    ("A2", "2026-Q1"): ("7100.04", "3550.02", "100.00"),
    ("A2", "2026-Q2"): ("-4000.00", "0.00", "0.00"),
    ("A2", "2026-Q3"): ("0.00", "0.00", "0.00"),
    ("A2", "2026-Q4"): ("0.00", "0.00", "0.00"),
    **{("A3", f"2026-Q{q}"): ("0.00", "0.00", "0.00") for q in range(1, 5)},
}
EXPECTED_CREDITS = [
    ["D1", "A1", "2026-02-10", "60000.00", "owner"],
    ["D2", "A1", "2026-03-05", "30000.01", "split"],
    ["D2", "A2", "2026-03-05", "20000.00", "split"],
    ["D3", "A2", "2026-02-20", "11000.36", "owner+fx"],
    ["D4", "A2", "2026-01-15", "40000.00", "owner"],
    ["D4", "A2", "2026-04-10", "-40000.00", "owner+clawback"],
    ["D5", "A1", "2025-12-20", "5000.00", "owner"],
    ["D6", "A1", "2026-08-01", "350000.00", "owner"],
]
TOTAL = Decimal("64350.06")


def spmkit(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m spmkit.cli ARGS`` and capture its output."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "spmkit.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env=env)


def write_inputs(folder: Path, tables: dict[str, list[str]] | None = None,
                 plan: str = PLAN) -> dict[str, Path]:
    """Write the plan and the CSV tables into ``folder``; return name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"plan": folder / "plan.yaml"}
    paths["plan"].write_text(plan, encoding="utf-8")
    for name, lines in (tables or TABLES).items():
        paths[name] = folder / f"{name}.csv"
        paths[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def input_args(paths: dict[str, Path]) -> list[str | Path]:
    args: list[str | Path] = ["--plan", paths["plan"]]
    for name in ("deals", "quotas", "roster", "splits", "fx"):
        if name in paths:
            args += [f"--{name}", paths[name]]
    return args


def calc(paths: dict[str, Path], out: Path, *extra: str) -> subprocess.CompletedProcess:
    result = spmkit("calc", *input_args(paths), "--out", out, *extra)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], Path, str]:
    """The inputs, the CSV output folder of one ``spmkit calc`` run, and its stdout."""
    root = tmp_path_factory.mktemp("cli")
    paths = write_inputs(root / "in")
    result = calc(paths, root / "out")
    return paths, root / "out", result.stdout


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


# --------------------------------------------------------------------------- calc, CSV


def test_calc_writes_payouts_and_credits_with_the_spec_columns(baseline):
    _, out, stdout = baseline
    assert sorted(p.name for p in out.iterdir()) == [".spmkit-run.json", "credits.csv",
                                                     "payouts.csv"]
    payouts = read_csv(out / "payouts.csv")
    credits = read_csv(out / "credits.csv")
    assert list(payouts.columns) == PAYOUT_COLUMNS
    assert list(credits.columns) == CREDIT_COLUMNS
    # one row per payee, period and component, zero rows included, in plan order
    assert len(payouts) == 3 * 4 * 3
    assert payouts["component"].tolist()[:3] == ["commission", "bonus", "spif"]
    assert payouts["rep_id"].drop_duplicates().tolist() == ["A1", "A2", "A3"]
    assert payouts["period_start"].drop_duplicates().tolist() == [
        "2026-01-01", "2026-04-01", "2026-07-01", "2026-10-01"]
    money = r"^-?\d+\.\d\d$"
    for frame, cols in ((payouts, ["amount", "earnings_to_date"]), (credits, ["amount"])):
        for col in cols:
            assert frame[col].str.match(money).all(), frame[col].tolist()
    assert "wrote" in stdout and "64,350.06" in stdout


def test_calc_amounts_are_the_hand_computed_ones(baseline):
    _, out, _ = baseline
    payouts = read_csv(out / "payouts.csv")
    got = {}
    for (rep, period), grp in payouts.groupby(["rep_id", "period"], sort=True):
        by = dict(zip(grp["component"], grp["amount"], strict=True))
        got[(rep, period)] = (by["commission"], by["bonus"], by["spif"])
    assert got == EXPECTED
    total = sum((Decimal(a) for a in payouts["amount"]), Decimal(0))
    assert total == TOTAL
    per_rep = {rep: sum((Decimal(a) for a in g["amount"]), Decimal(0))
               for rep, g in payouts.groupby("rep_id")}
    assert per_rep == {"A1": Decimal("57600.00"), "A2": Decimal("6750.06"), "A3": Decimal(0)}


def test_calc_earnings_to_date_attainment_and_explain(baseline):
    _, out, _ = baseline
    p = read_csv(out / "payouts.csv").set_index(["rep_id", "period", "component"])
    # YTD true-up: earnings to date are the rounded E_k; the payout is the difference
    assert p.loc[("A1", "2026-Q3", "commission"), "earnings_to_date"] == "58000.00"
    assert p.loc[("A1", "2026-Q4", "commission"), "earnings_to_date"] == "48000.00"
    assert p.loc[("A2", "2026-Q2", "commission"), "earnings_to_date"] == "3100.04"
    # attainment: the component's basis, four decimals; blank for SPIFs
    assert p.loc[("A1", "2026-Q3", "commission"), "attainment"] == "1.4667"  # 440,000.01/300k
    assert p.loc[("A1", "2026-Q3", "bonus"), "attainment"] == "3.5000"  # period: 350k/100k
    assert p.loc[("A2", "2026-Q2", "bonus"), "attainment"] == "-0.4000"
    assert p.loc[("A1", "2026-Q1", "spif"), "attainment"] == ""
    why = p.loc[("A1", "2026-Q3", "commission"), "explain"]
    for words in ("10% on 300,000.00", "20% on 140,000.01", "300,000.00 quota",
                  "paid this period 49,000.00"):
        assert words in why, why
    assert "100.0%" in p.loc[("A1", "2026-Q3", "bonus"), "explain"]  # capped curve


def test_calc_credit_lines_split_fx_clawback(baseline):
    _, out, stdout = baseline
    credits = read_csv(out / "credits.csv")
    assert credits.values.tolist() == EXPECTED_CREDITS
    # split credits sum exactly to the deal amount
    d2 = credits.loc[credits["deal_id"] == "D2", "amount"].map(Decimal).sum()
    assert d2 == Decimal("50000.01")
    assert "1 outside the plan year" in stdout


def test_calc_parquet_output(baseline, tmp_path):
    paths, csv_out, _ = baseline
    out = tmp_path / "pq"
    calc(paths, out, "--format", "parquet")
    assert sorted(p.name for p in out.iterdir()) == [".spmkit-run.json", "credits.parquet",
                                                     "payouts.parquet"]
    payouts = pq.read_table(out / "payouts.parquet")
    credits = pq.read_table(out / "credits.parquet")
    assert payouts.column_names == PAYOUT_COLUMNS
    assert credits.column_names == CREDIT_COLUMNS
    for table, col in ((payouts, "amount"), (payouts, "earnings_to_date"), (credits, "amount")):
        kind = table.schema.field(col).type
        assert getattr(kind, "scale", None) == 2, kind  # exact decimal with two places
    amounts = payouts.column("amount").to_pylist()
    assert sum(amounts, Decimal(0)) == TOTAL
    assert [str(a) for a in credits.column("amount").to_pylist()] == [
        row[3] for row in EXPECTED_CREDITS]
    # the same rows as the CSV, value for value
    csv = read_csv(csv_out / "payouts.csv")
    assert [f"{a:.2f}" for a in amounts] == csv["amount"].tolist()
    assert payouts.column("explain").to_pylist() == csv["explain"].tolist()


# --------------------------------------------------------------------------- reproducible


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_calc_is_byte_identical_on_a_second_run(baseline, tmp_path):
    paths, out, _ = baseline
    calc(paths, tmp_path / "again")
    assert _files(tmp_path / "again") == _files(out)


def test_calc_is_byte_identical_with_shuffled_input_rows(baseline, tmp_path):
    _, out, _ = baseline
    rng = random.Random(7)
    shuffled = {}
    for name, lines in TABLES.items():
        body = lines[1:]
        while len(body) > 1 and body == lines[1:]:
            body = rng.sample(body, len(body))
        shuffled[name] = [lines[0], *body]
    paths = write_inputs(tmp_path / "in", shuffled)
    calc(paths, tmp_path / "out")
    assert _files(tmp_path / "out") == _files(out)


def test_calc_accepts_excel_and_bom_crlf_csv(baseline, tmp_path):
    """Excel inputs with typed cells, and CSVs saved by Excel (BOM, CRLF) give the same files."""
    from datetime import datetime

    from openpyxl import Workbook

    _, out, _ = baseline
    paths = write_inputs(tmp_path / "in")
    # deals and roster as .xlsx with real numbers and dates, as a CRM export has them
    for name, numeric, dates in (("deals", {"amount"}, {"close_date", "cancel_date"}),
                                 ("roster", {"target_incentive", "base_salary"},
                                  {"hire_date", "term_date"})):
        lines = TABLES[name]
        header = lines[0].split(",")
        wb = Workbook()
        ws = wb.active
        ws.append(header)
        for line in lines[1:]:
            row = []
            for col, value in zip(header, line.split(","), strict=True):
                if value == "":
                    row.append(None)
                elif col in numeric:
                    row.append(float(value))
                elif col in dates:
                    row.append(datetime.fromisoformat(value))
                else:
                    row.append(value)
            ws.append(row)
        path = tmp_path / "in" / f"{name}.xlsx"
        wb.save(path)
        paths[name] = path
    # the others as Excel-saved CSV: UTF-8 BOM and CRLF line ends
    for name in ("quotas", "splits", "fx"):
        paths[name].write_bytes(("\r\n".join(TABLES[name]) + "\r\n").encode("utf-8-sig"))
    calc(paths, tmp_path / "out")
    assert _files(tmp_path / "out") == _files(out)


# --------------------------------------------------------------------------- validate, explain


def test_validate_prints_ok_and_writes_nothing(baseline, tmp_path):
    paths, _, _ = baseline
    before = sorted(p.name for p in paths["plan"].parent.iterdir())
    work = tmp_path / "cwd"
    work.mkdir()
    result = spmkit("validate", *input_args(paths), cwd=work)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
    assert "Test AE" in result.stdout and "6 deals" in result.stdout
    assert all(line.startswith("spmkit validate: warning: ")  # spmkit.checks; no error
               for line in result.stderr.splitlines())
    assert list(work.iterdir()) == []
    assert sorted(p.name for p in paths["plan"].parent.iterdir()) == before


def test_explain_prints_one_period_statement(baseline):
    paths, _, _ = baseline
    result = spmkit("explain", *input_args(paths), "--rep", "A1", "--period", "2026-Q3")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "A1" in text and "Test AE" in text
    assert "2026-Q3" in text and "2026-Q1" not in text and "2026-Q4" not in text
    # credits, attainment basis, each component's payout and why, the period total
    assert "credit D6 2026-08-01 350,000.00" in text
    assert "year-to-date credit 440,000.01 of 300,000.00" in text
    assert "commission: 49,000.00" in text and "20% on 140,000.01" in text
    assert "bonus: 5,000.00" in text
    assert "spif: 0.00" in text
    assert "total paid in 2026-Q3: 54,000.00" in text


def test_explain_without_period_covers_the_year(baseline):
    paths, _, _ = baseline
    result = spmkit("explain", *input_args(paths), "--rep", "A2")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for q in range(1, 5):
        assert f"2026-Q{q}:" in text
    assert "credit D4 2026-04-10 -40,000.00 (owner+clawback)" in text
    assert "credit D3 2026-02-20 11,000.36 (owner+fx)" in text
    assert "commission: -4,000.00" in text
    assert "total paid in 2026-Q1: 10,750.06" in text


def test_explain_unknown_rep_or_period_is_an_error(baseline):
    paths, _, _ = baseline
    bad_rep = spmkit("explain", *input_args(paths), "--rep", "ZZ9")
    assert bad_rep.returncode == 2
    assert "ZZ9" in bad_rep.stderr and "Traceback" not in bad_rep.stderr
    bad_period = spmkit("explain", *input_args(paths), "--rep", "A1", "--period", "2026-Q9")
    assert bad_period.returncode == 2
    assert "2026-Q9" in bad_period.stderr and "2026-Q1" in bad_period.stderr
