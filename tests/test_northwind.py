"""Northwind import: parsing the messy export, exact money and where it rounds, the roster
and derived quotas, the mapping file, errors, and the CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from spmkit.errors import InputError
from spmkit.northwind import (
    DEFAULT_MAPPING,
    _round_units,
    import_northwind,
    load_mapping,
    order_totals,
    reconciliation,
)

ROOT = Path(__file__).resolve().parent.parent
#: The Northwind CSV export, vendored in the repository (MIT, see its LICENSE).
SOURCE = ROOT / "examples" / "northwind" / "data"


@pytest.fixture(scope="module")
def imported() -> dict[str, pd.DataFrame]:
    return import_northwind(SOURCE)


@pytest.fixture(scope="module")
def totals() -> pd.DataFrame:
    return order_totals(SOURCE)


def _copy_source(tmp_path: Path) -> Path:
    dst = tmp_path / "northwind"
    shutil.copytree(SOURCE, dst)
    for p in dst.iterdir():
        p.chmod(0o644)
    return dst


# --- the vendored data ------------------------------------------------------------------

def test_vendored_files_match_sha256sums() -> None:
    """Every file SHA256SUMS lists is present and unchanged, and every CSV is listed."""
    import hashlib

    listed: dict[str, str] = {}
    for line in (SOURCE / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name.lstrip("*")] = digest
    assert sorted(listed) == sorted(p.name for p in SOURCE.glob("*.csv"))
    for name, digest in listed.items():
        assert hashlib.sha256((SOURCE / name).read_bytes()).hexdigest() == digest, name
    licence = (SOURCE / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Copyright (c) Microsoft Corporation" in licence


# --- money: exact, rounded once per order -----------------------------------------------

def test_exact_total_matches_the_published_figure(totals) -> None:
    """The README of the data: total net sales exactly 1,265,793.0395, quoted 1,265,793.04;
    rounding every line first gives 1,265,793.29."""
    rec = reconciliation(totals)
    assert rec["exact"] == Decimal("1265793.0395")
    assert rec["exact_rounded"] == Decimal("1265793.04")
    assert rec["per_line"] == Decimal("1265793.29")
    assert rec["per_order"] == Decimal("1265793.22")
    assert rec["per_order_minus_exact_rounded"] == Decimal("0.18")


def test_deals_total_is_the_per_order_rounding(imported, totals) -> None:
    deals = imported["deals"]
    amounts = deals["amount"].map(Decimal)
    assert sum(amounts) == Decimal(int(totals["amount_cents"].sum())) / 100
    # Each deal is its order's exact net rounded once, half away from zero.
    exact = totals.set_index("deal_id")["net_units"].map(lambda u: Decimal(int(u)) / 10**6)
    rounded = exact.map(lambda x: x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    assert (amounts.to_numpy() == rounded.reindex(deals["deal_id"]).to_numpy()).all()
    assert sum(amounts) == Decimal("1265793.22")


def test_per_order_total_recomputed_from_the_raw_lines() -> None:
    """1,265,793.22 (each order rounded once) worked out here from order-details.csv alone,
    with Decimal and the csv module, independent of spmkit.northwind."""
    import csv
    from collections import defaultdict

    orders: dict[str, Decimal] = defaultdict(Decimal)
    with open(SOURCE / "order-details.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            orders[row["orderID"]] += (Decimal(row["unitPrice"]) * int(row["quantity"])
                                       * (1 - Decimal(row["discount"])))
    assert sum(orders.values()) == Decimal("1265793.0395")
    per_order = sum(v.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for v in orders.values())
    assert per_order == Decimal("1265793.22")


def test_hand_computed_orders(imported, totals) -> None:
    amount = imported["deals"].set_index("deal_id")["amount"]
    # 10248: 14.00 x 12 + 9.80 x 10 + 34.80 x 5 = 168 + 98 + 174
    assert amount["10248"] == "440.00"
    # 10730: 17.45 x 15 x 0.95 + 12.50 x 3 x 0.95 + 21.05 x 10 x 0.95
    #      = 248.6625 + 35.625 + 199.975 = 484.2625 -> 484.26 (per line: 484.27)
    assert amount["10730"] == "484.26"
    row = totals.set_index("deal_id").loc["10730"]
    assert row["net_units"] == 484_262_500
    assert row["line_rounded_cents"] == 48_427
    # 10264: 15.20 x 35 + 7.70 x 25 x 0.85 = 532 + 163.625 = 695.625 -> 695.63 (half up)
    assert amount["10264"] == "695.63"


def test_rounding_is_half_away_from_zero() -> None:
    units = np.array([5_000, 4_999, 15_000, -5_000, -4_999, -15_000, 0, 12_345_678])
    assert _round_units(units).tolist() == [1, 0, 2, -1, 0, -2, 0, 1235]


# --- parsing the messy orders file -----------------------------------------------------

def test_every_order_parses_despite_commas_in_addresses(imported) -> None:
    raw = (SOURCE / "orders.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert sum(1 for line in raw if line.count(",") > 13) == 176
    deals = imported["deals"]
    assert len(deals) == 830
    assert deals["deal_id"].is_unique
    assert set(deals["rep_id"]) == {str(i) for i in range(1, 10)}
    assert deals["close_date"].min() == "1996-07-04"
    assert deals["close_date"].max() == "1998-05-06"
    assert deals["close_date"].str.match(r"^\d{4}-\d\d-\d\d$").all()
    assert (deals["currency"] == "USD").all()
    assert (deals["cancel_date"] == "").all()


def test_deal_attributes(imported) -> None:
    deals = imported["deals"].set_index("deal_id")
    assert deals.loc["10248", "account"] == "VINET"
    assert deals.loc["10248", "rep_id"] == "5"
    # Largest line of 10248 is 34.80 x 5 = 174.00: product 72.
    assert deals.loc["10248", "product"] == "Mozzarella di Giovanni"
    # A customer's first order is new, later ones repeat.
    assert deals.loc["10248", "deal_type"] == "new"
    assert deals.loc["10253", "deal_type"] == "repeat"     # HANAR ordered on 10250
    assert (deals["deal_type"] == "new").sum() == deals["account"].nunique()


# --- roster and quotas -------------------------------------------------------------------

def test_roster(imported) -> None:
    roster = imported["roster"].set_index("rep_id")
    assert len(roster) == 9
    assert "plan" not in roster.columns
    assert roster.loc["2", "name"] == "Andrew Fuller"
    assert roster.loc["2", "role"] == "VP" and roster.loc["2", "manager_id"] == ""
    assert roster.loc["5", "role"] == "Manager" and roster.loc["5", "manager_id"] == "2"
    assert roster.loc["8", "role"] == "Inside Sales"
    assert set(roster.loc[["6", "7", "9"], "manager_id"]) == {"5"}
    assert (roster["role"] == "Account Executive").sum() == 6
    assert roster.loc["1", "hire_date"] == "1992-05-01"
    # Regions through territories: Davolio Eastern, Leverling Southern, Suyama Western,
    # Callahan Northern.
    assert roster.loc[["1", "3", "6", "8"], "region"].tolist() == [
        "Eastern", "Southern", "Western", "Northern"]
    deals = imported["deals"]
    assert (deals["region"] == deals["rep_id"].map(roster["region"])).all()


def test_quotas_annualize_h2_1996_and_grow(imported) -> None:
    deals, quotas = imported["deals"], imported["quotas"]
    assert list(quotas.columns) == ["rep_id", "year", "quota"]
    assert (quotas["year"] == "1997").all()
    assert len(quotas) == 9
    h2 = (deals[deals["close_date"].str.startswith("1996")]
          .assign(a=lambda f: f["amount"].map(Decimal)).groupby("rep_id")["a"].sum())
    for rep_id, quota in zip(quotas["rep_id"], quotas["quota"], strict=True):
        expected = (h2[rep_id] * 2 * Decimal("1.30") / 100).quantize(
            Decimal(1), rounding=ROUND_HALF_UP) * 100
        assert Decimal(quota) == expected, rep_id
    # Davolio: 35,764.52 (H2 1996) x 2 x 1.3 = 92,987.75 -> 93,000.
    assert quotas.set_index("rep_id").loc["1", "quota"] == "93000.00"


def test_target_incentive_is_six_percent_of_quota(imported) -> None:
    roster = imported["roster"].set_index("rep_id")
    quota = imported["quotas"].set_index("rep_id")["quota"].map(Decimal)
    expected = (quota * Decimal("0.06") / 100).map(
        lambda d: d.quantize(Decimal(1), rounding=ROUND_HALF_UP) * 100)
    assert (roster["target_incentive"].map(Decimal) == expected.reindex(roster.index)).all()
    assert roster.loc["1", "target_incentive"] == "5600.00"     # 6% of 93,000 = 5,580


def test_1997_attainment_is_plausible(imported) -> None:
    deals = imported["deals"]
    y97 = deals[deals["close_date"].str.startswith("1997")]
    credit = y97.assign(a=y97["amount"].map(Decimal)).groupby("rep_id")["a"].sum()
    quota = imported["quotas"].set_index("rep_id")["quota"].map(Decimal)
    attainment = credit / quota
    assert 4 <= (attainment >= 1).sum() <= 7


def test_plan_year_1998_uses_full_1997(imported) -> None:
    out = import_northwind(SOURCE, year=1998)
    deals = out["deals"]
    y97 = deals[deals["close_date"].str.startswith("1997")]
    sales = y97.assign(a=y97["amount"].map(Decimal)).groupby("rep_id")["a"].sum()
    quota = out["quotas"].set_index("rep_id")["quota"].map(Decimal)
    expected = (sales * Decimal("1.30") / 100).map(
        lambda d: d.quantize(Decimal(1), rounding=ROUND_HALF_UP) * 100)
    assert (quota == expected.reindex(quota.index)).all()
    assert (out["quotas"]["year"] == "1998").all()


def test_no_prior_year_is_an_error() -> None:
    with pytest.raises(InputError, match="no orders in 1995"):
        import_northwind(SOURCE, year=1996)


# --- the mapping file ------------------------------------------------------------------

def test_mapping_file_is_documented_and_read(tmp_path: Path) -> None:
    """The mapping is in spmkit's one format (spmkit.mapping); editing it changes the
    import: a title recoded to another role takes that role's base salary."""
    text = DEFAULT_MAPPING.read_text(encoding="utf-8")
    assert text.startswith("#")
    mapping = load_mapping()
    assert mapping.model.deals.columns == {"deal_id": "orderID", "account": "customerID",
                                           "rep_id": "employeeID", "close_date": "orderDate"}
    assert mapping.model.roster.columns["name"] == ["firstName", "lastName"]
    changed = yaml.safe_load(text)
    changed["roster"]["values"]["role"]["Inside Sales Coordinator"] = "Account Executive"
    changed["deals"]["defaults"]["currency"] = "EUR"
    path = tmp_path / "mapping.yaml"
    for table in ("deals", "roster"):
        changed[table]["file"] = str(SOURCE / Path(changed[table]["file"]).name)
    path.write_text(yaml.safe_dump(changed), encoding="utf-8")
    out = import_northwind(SOURCE, mapping=path)
    roster = out["roster"].set_index("rep_id")
    assert roster.loc["8", "role"] == "Account Executive"
    assert roster.loc["8", "base_salary"] == "40000.00"
    assert (out["deals"]["currency"] == "EUR").all()


def test_growth_and_target_incentive_share_are_settings() -> None:
    """No growth and a 10% target incentive: Davolio's quota is her H2 1996 sales x 2."""
    out = import_northwind(SOURCE, growth="0", target_incentive_share="0.1")
    q = out["quotas"].set_index("rep_id")["quota"]
    assert q["1"] == "71500.00"           # 35,764.52 x 2 = 71,529.04 -> 71,500
    assert out["roster"].set_index("rep_id").loc["1", "target_incentive"] == "7200.00"


def test_a_title_without_a_role_names_the_mapping_key(tmp_path: Path) -> None:
    changed = yaml.safe_load(DEFAULT_MAPPING.read_text(encoding="utf-8"))
    del changed["roster"]["values"]["role"]["Sales Manager"]
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(changed), encoding="utf-8")
    with pytest.raises(InputError, match="roster.values.role: title 'Sales Manager' has no "
                       "role"):
        import_northwind(SOURCE, mapping=path)


def test_the_old_mapping_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("files: {orders: orders.csv}\ndeals: {columns: {deal_id: orderID}}\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match="unknown table 'files'"):
        import_northwind(SOURCE, mapping=path)


def test_missing_mapping_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such mapping file"):
        import_northwind(SOURCE, mapping=tmp_path / "nope.yaml")


# --- bad input names the file, line and column -------------------------------------------

def test_bad_order_date_names_file_and_line(tmp_path: Path) -> None:
    src = _copy_source(tmp_path)
    lines = (src / "orders.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[5] = lines[5].replace("1996-07-09 00:00:00.000", "NULL", 1)   # order 10252
    (src / "orders.csv").write_text("".join(lines), encoding="utf-8")
    with pytest.raises(InputError) as err:
        import_northwind(src)
    msg = str(err.value)
    assert "orders.csv" in msg and "line 6" in msg and "close_date" in msg


def test_bad_price_names_file_and_line(tmp_path: Path) -> None:
    src = _copy_source(tmp_path)
    lines = (src / "order-details.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = "10248,72,34.8O,5,0\n"
    (src / "order-details.csv").write_text("".join(lines), encoding="utf-8")
    with pytest.raises(InputError) as err:
        import_northwind(src)
    msg = str(err.value)
    assert "order-details.csv" in msg and "line 4" in msg and "unit_price" in msg


def test_unknown_employee_is_an_error(tmp_path: Path) -> None:
    src = _copy_source(tmp_path)
    text = (src / "orders.csv").read_text(encoding="utf-8")
    (src / "orders.csv").write_text(text.replace("10248,VINET,5,", "10248,VINET,42,", 1),
                                    encoding="utf-8")
    with pytest.raises(InputError, match="employee '42'"):
        import_northwind(src)


# --- loading through spmkit.tables and the CLI ------------------------------------------

def test_import_loads_through_the_table_loaders(tmp_path: Path) -> None:
    tables = pytest.importorskip("spmkit.tables")
    from spmkit.northwind import write_northwind

    write_northwind(SOURCE, tmp_path)
    inputs = tables.load_data_dir(tmp_path)
    assert len(inputs.deals) == 830
    assert int(inputs.deals["amount_cents"].sum()) == 126_579_322
    assert len(inputs.roster) == 9
    assert inputs.splits is None and inputs.fx is None


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spmkit.cli", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_cli_import_writes_three_files(tmp_path: Path, imported) -> None:
    out = tmp_path / "nw"
    proc = _cli("import-northwind", "--source", str(SOURCE), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [".spmkit-run.json", "deals.csv",
                                                     "quotas.csv", "roster.csv"]
    deals = pd.read_csv(out / "deals.csv", dtype="str", keep_default_na=False)
    pd.testing.assert_frame_equal(deals, imported["deals"], check_dtype=False)


def test_cli_bad_source_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "nw"
    proc = _cli("import-northwind", "--source", str(tmp_path / "missing"), "--out", str(out))
    assert proc.returncode == 2
    assert "missing" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()
