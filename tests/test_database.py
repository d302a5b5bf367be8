"""Tables straight from PostgreSQL (spmkit.sources): the same payouts, bytes for bytes, as
from the CSV files holding the same rows; the same validation, naming the table and the
row's key; one clear error (exit 2, no password) for a bad URL, server or table.

Runs against a real server (the ``postgres`` fixture in conftest.py)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli

from spmkit.errors import InputError
from spmkit.sources import is_database_url, redact
from spmkit.tables import load_deals, load_inputs

TABLES = ("deals", "quotas", "roster", "splits", "fx")
MONEY = {"amount", "quota", "target_incentive", "base_salary", "draw", "rate"}


def _column_type(name: str) -> str:
    if name in MONEY:
        return "numeric(16, 2)" if name != "rate" else "numeric"
    if name == "share":
        return "numeric(12, 9)"
    if name.endswith("_date") or name == "period_start":
        return "date"
    if name == "year":
        return "integer"
    return "text"


def _create(server, table: str, path: Path, name: str | None = None) -> None:
    """A table typed as a warehouse would type it (numeric money, real dates), loaded from
    the CSV file with psql's \\copy."""
    with path.open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    cols = ", ".join(f'"{c}" {_column_type(c)}' for c in header)
    server.sql(f"drop table if exists {name or table}; create table {name or table} ({cols});")
    server.copy_csv(name or table, path)


@pytest.fixture(scope="module")
def warehouse(postgres, sample_data):
    """The sample org's tables in the server, under their own names."""
    for table in TABLES:
        _create(postgres, table, sample_data / f"{table}.csv")
    return postgres


def _calc(plan: Path, out: Path, tables: dict[str, str | Path], *extra: str):
    args = ["calc", "--plan", plan, "--out", out]
    for table, src in tables.items():
        args += [f"--{table}", src]
    return run_cli(*args, *extra)


def _files(sample_data: Path) -> dict[str, str | Path]:
    return {t: sample_data / f"{t}.csv" for t in TABLES}


@pytest.fixture(scope="module")
def csv_run(sample_data, plan_files, tmp_path_factory):
    """``spmkit calc`` on the sample's CSV files: (out folder, completed process)."""
    out = tmp_path_factory.mktemp("calc") / "csv"
    proc = _calc(plan_files["baseline"], out, _files(sample_data))
    assert proc.returncode == 0, proc.stderr
    return out, proc


@pytest.mark.parametrize("from_db", [("deals",), TABLES], ids=["deals", "every-table"])
def test_calc_from_the_database_writes_the_same_bytes_as_from_csv(
        warehouse, sample_data, plan_files, tmp_path, csv_run, from_db):
    files = _files(sample_data)
    out, by_csv = csv_run
    urls = {t: warehouse.table_url(t) if t in from_db else p for t, p in files.items()}
    by_db = _calc(plan_files["baseline"], tmp_path / "db", urls)
    assert by_db.returncode == 0, by_db.stderr
    assert by_db.stdout.replace(str(tmp_path / "db"), "OUT") == \
        by_csv.stdout.replace(str(out), "OUT")
    for name in ("payouts.csv", "credits.csv"):
        assert (tmp_path / "db" / name).read_bytes() == (out / name).read_bytes()
    credits = pd.read_csv(tmp_path / "db" / "credits.csv")
    assert len(credits) > 100  # a real run, not two empty files


def test_a_query_url_reads_what_the_query_selects(warehouse, sample_data, plan_files, tmp_path):
    deals = pd.read_csv(sample_data / "deals.csv", dtype=str, keep_default_na=False)
    chosen = deals[(deals["close_date"] >= "2025-04-01") & (deals["currency"] == "USD")]
    assert 0 < len(chosen) < len(deals)
    chosen.to_csv(tmp_path / "chosen.csv", index=False)
    files = {t: p for t, p in _files(sample_data).items() if t != "splits"}  # whole deals
    by_csv = _calc(plan_files["baseline"], tmp_path / "csv", {**files,
                                                             "deals": tmp_path / "chosen.csv"})
    assert by_csv.returncode == 0, by_csv.stderr
    query = (f"{warehouse.url}?query=select * from deals where close_date >= '2025-04-01' "
             "and currency = 'USD'")
    by_db = _calc(plan_files["baseline"], tmp_path / "db", {**files, "deals": query})
    assert by_db.returncode == 0, by_db.stderr
    for name in ("payouts.csv", "credits.csv"):
        assert (tmp_path / "db" / name).read_bytes() == (tmp_path / "csv" / name).read_bytes()


def test_the_api_loads_the_same_frames_from_urls_as_from_files(warehouse, sample_data):
    files = load_inputs(**_files(sample_data), currency="USD")
    urls = load_inputs(**{t: warehouse.table_url(t) for t in TABLES}, currency="USD")
    keys = {"deals": ["deal_id"], "quotas": ["rep_id", "year"], "roster": ["rep_id"],
            "splits": ["deal_id", "rep_id"], "fx": ["currency"]}
    for table in TABLES:  # a database table has no row order: compare in key order
        def ordered(frame, table=table):
            return frame.sort_values(keys[table]).reset_index(drop=True)
        pd.testing.assert_frame_equal(ordered(getattr(urls, table)),
                                      ordered(getattr(files, table)))
    assert urls.sources["deals"] == warehouse.table_url("deals")


def test_a_bad_row_is_named_by_the_table_and_its_key(warehouse, sample_data, plan_files):
    deals = pd.read_csv(sample_data / "deals.csv", dtype=str, keep_default_na=False)
    blank, early, nan = deals["deal_id"].iloc[[7, 11, 13]]
    warehouse.sql(f"""
        drop table if exists deals_bad;
        create table deals_bad as select * from deals;
        update deals_bad set amount = null where deal_id = '{blank}';
        update deals_bad set cancel_date = close_date - 3 where deal_id = '{early}';
        update deals_bad set amount = 'NaN' where deal_id = '{nan}';
    """)
    url = warehouse.table_url("deals_bad")
    proc = run_cli("validate", "--plan", plan_files["baseline"], "--deals", url,
                   "--quotas", sample_data / "quotas.csv")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{url}, row with deal_id '{blank}', column 'amount': value is missing" \
        in proc.stderr
    assert f"{url}, row with deal_id '{early}', column 'cancel_date'" in proc.stderr
    assert f"{url}, row with deal_id '{nan}', column 'amount': " in proc.stderr
    assert "3 problems" in proc.stderr


def test_a_column_mapping_applies_to_a_database_table(warehouse, sample_data):
    warehouse.sql("""
        drop table if exists opportunities;
        create table opportunities as
          select deal_id as "Opportunity", rep_id as "Owner", close_date, amount from deals;
        update opportunities set close_date = null
          where "Opportunity" = (select min("Opportunity") from opportunities);
    """)
    first = pd.read_csv(sample_data / "deals.csv", dtype=str)["deal_id"].min()
    with pytest.raises(InputError) as err:
        load_deals(warehouse.table_url("opportunities"),
                   mapping={"Opportunity": "deal_id", "Owner": "rep_id"})
    assert str(err.value) == (f"{warehouse.table_url('opportunities')}, row with deal_id "
                              f"'{first}', column 'close_date': value is missing (required)")


def _bad(port: int) -> dict[str, tuple[str, str]]:
    return {
        "missing table": (f"postgresql://spmkit:hunter2@127.0.0.1:{port}/comp?table=nope",
                          'relation "nope" does not exist'),
        "closed port": ("postgresql://spmkit:hunter2@127.0.0.1:1/comp?table=deals",
                        "cannot read from the database"),
        "no table": (f"postgresql://spmkit:hunter2@127.0.0.1:{port}/comp",
                     "names exactly one table or query"),
        "bad port": ("postgresql://spmkit:hunter2@127.0.0.1:port/comp?table=deals",
                     "not a valid database URL"),
        "unknown database": (f"postgresql://spmkit:hunter2@127.0.0.1:{port}/nowhere?table=deals",
                             'database "nowhere" does not exist'),
    }


@pytest.mark.parametrize("case", ["missing table", "closed port"])
def test_a_bad_source_stops_calc_with_one_clear_error_without_the_password(
        warehouse, sample_data, plan_files, tmp_path, case):
    url, expected = _bad(warehouse.port)[case]
    proc = _calc(plan_files["baseline"], tmp_path / "out",
                 {**_files(sample_data), "deals": url})
    assert proc.returncode == 2
    assert expected in proc.stderr
    assert proc.stderr.startswith("spmkit calc: error: postgresql://spmkit@127.0.0.1:")
    assert "hunter2" not in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("case", ["missing table", "closed port", "no table", "bad port",
                                  "unknown database"])
def test_a_bad_source_is_one_problem_naming_the_url_without_the_password(warehouse, case):
    url, expected = _bad(warehouse.port)[case]
    with pytest.raises(InputError) as err:
        load_deals(url)
    assert len(err.value.problems) == 1
    assert expected in str(err.value)
    assert err.value.problems[0].source.startswith("postgresql://spmkit@127.0.0.1:")
    assert "hunter2" not in str(err.value)


# --------------------------------------------------------------------------- no server


def test_urls_are_told_from_paths():
    assert is_database_url("postgresql://u@h/db?table=deals")
    assert is_database_url("postgres://h/db?query=select 1")
    assert not is_database_url("deals.csv")
    assert not is_database_url("C:\\data\\deals.csv")
    assert not is_database_url(Path("postgresql:/x"))


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://ann:s3cr%40t@db.example:5432/comp?table=deals",
     "postgresql://ann@db.example:5432/comp?table=deals"),
    ("postgresql://ann@db/comp?table=deals&password=s3cr3t&sslmode=require",
     "postgresql://ann@db/comp?table=deals&sslmode=require"),
    ("postgresql://ann:pw@[::1/comp?table=deals", "postgresql://ann@[::1/comp?table=deals"),
])
def test_messages_never_show_the_password(url, shown):
    assert redact(url) == shown


def test_an_unsupported_database_is_named():
    with pytest.raises(InputError, match="unsupported database 'mysql://'"):
        load_deals("mysql://ann@db/comp?table=deals")


def test_a_query_keeps_its_plus_signs(warehouse, sample_data):
    """A URL's ``+`` is SQL's plus, not a web form's space."""
    url = (f"{warehouse.url}?query=select deal_id, rep_id, close_date, amount + 1 as amount "
           "from deals where deal_id in ('D000001', 'D000002')")
    got = load_deals(url).set_index("deal_id")["amount_cents"]
    files = load_deals(sample_data / "deals.csv").set_index("deal_id")["amount_cents"]
    assert got.sort_index().tolist() == (files.loc[["D000001", "D000002"]] + 100).tolist()
