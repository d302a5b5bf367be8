"""The default engine reads and credits the deals a slice at a time (``spmkit.stream``):
the files it writes, its warnings and its errors do not depend on the slice size, and
they are the in-memory API's (:func:`spmkit.payout.calculate_plans` then
:func:`spmkit.payout.write_outputs`) to the byte."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from conftest import random_book, random_deal_rows, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spmkit.errors import InputError, SpmkitError
from spmkit.payout import CreditParts, calculate_plans, write_outputs
from spmkit.plan import load_plan
from spmkit.stream import calculate_files
from spmkit.tables import load_inputs


@pytest.fixture(scope="module")
def files(sample_data, tmp_path_factory):
    """The sample org's files plus overlays and payments (as in tests/test_dask.py), and
    the deals as Parquet too."""
    folder = tmp_path_factory.mktemp("stream")
    deals = pd.read_csv(sample_data / "deals.csv", dtype=str, keep_default_na=False)
    roster = pd.read_csv(sample_data / "roster.csv", dtype=str, keep_default_na=False)
    in_year = deals[(deals["close_date"] >= "2025-01-01") & (deals["cancel_date"] == "")]
    pd.DataFrame({"deal_id": in_year["deal_id"].iloc[::9], "rep_id": roster["rep_id"].iloc[-1],
                  "share": "0.5"}).to_csv(folder / "overlays.csv", index=False)
    paid = in_year[in_year["amount"].map(Decimal) > 200].iloc[::5]
    pd.DataFrame({"deal_id": paid["deal_id"], "paid_date": paid["close_date"],
                  "amount": "100.00"}).to_csv(folder / "payments.csv", index=False)
    deals.to_parquet(folder / "deals.parquet", index=False)
    out = {t: sample_data / f"{t}.csv" for t in ("deals", "quotas", "roster", "splits", "fx")}
    out.update(overlays=folder / "overlays.csv", payments=folder / "payments.csv",
               deals_parquet=folder / "deals.parquet",
               rows=len(deals))
    return out


def _args(files, deals):
    return [f"--deals={deals}", *(f"--{t}={files[t]}" for t in (
        "quotas", "roster", "splits", "fx", "overlays", "payments"))]


@pytest.mark.parametrize(("fmt", "source", "chunk"), [
    ("csv", "deals", 250), ("parquet", "deals_parquet", 250), ("parquet", "deals", 1_000_000),
    ("csv", "deals_parquet", 500)])
def test_any_slice_size_writes_the_in_memory_bytes(files, plan_files, tmp_path, fmt, source,
                                                   chunk):
    """Two plans (one rolling up to managers; in slices of 500 a third with a running tier,
    whose deals are credited at once), splits, overlays, payments and fx; deals read from
    CSV or Parquet in slices of 250 or 500 rows (several ranges of deal ids) or
    whole: the same payouts and credit lines as the API holding every table in memory,
    byte for byte, and the same warnings."""
    plans = [plan_files["baseline"], plan_files["rollup"]]
    if chunk == 500:  # a plan with a running tier: its deals are credited all at once
        plans.append(plan_files["running"])
    proc = run_cli("calc", *(a for p in plans for a in ("--plan", p)),
                   *_args(files, files[source]), "--format", fmt, "--chunk-rows", str(chunk),
                   "--out", tmp_path / "cli")
    assert proc.returncode == 0, proc.stderr
    assert files["rows"] > 4 * chunk or chunk == 1_000_000
    loaded = [load_plan(p.read_text(encoding="utf-8"), name=p.name) for p in plans]
    inputs = load_inputs(**{t: files[t] for t in ("deals", "quotas", "roster", "splits", "fx",
                                                  "overlays", "payments")}, currency="USD")
    write_outputs(calculate_plans(loaded, inputs), tmp_path / "api", fmt)
    for name in (f"payouts.{fmt}", f"credits.{fmt}"):
        assert (tmp_path / "cli" / name).read_bytes() == (tmp_path / "api" / name).read_bytes()
    whole = run_cli("calc", *(a for p in plans for a in ("--plan", p)),
                    *_args(files, files[source]), "--out", tmp_path / "whole")
    assert whole.stderr == proc.stderr  # the same warnings, counted over all slices
    assert "deals close outside the plan year" in proc.stderr


def test_a_deal_repeated_in_two_slices_is_the_same_error(tmp_path, plan_files):
    """D1 on lines 2 and 9, slices of 3 rows: the repeat is found across slices and named
    as a whole-file run names it; a split of a deal no slice has is named too."""
    rows = ["deal_id,rep_id,close_date,amount"] + [
        f"D{i},A,2025-0{1 + i % 9}-10,100.00" for i in range(1, 8)] + ["D1,B,2025-03-01,5.00"]
    (tmp_path / "deals.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "quotas.csv").write_text("rep_id,year,quota\nA,2025,1000\nB,2025,1000\n",
                                         encoding="utf-8")
    (tmp_path / "splits.csv").write_text("deal_id,rep_id,share\nD2,A,1\nD99,B,1\n",
                                         encoding="utf-8")
    common = ["calc", "--plan", plan_files["baseline"], "--deals", tmp_path / "deals.csv",
              "--quotas", tmp_path / "quotas.csv"]
    sliced = run_cli(*common, "--chunk-rows", "3", "--out", tmp_path / "a")
    whole = run_cli(*common, "--out", tmp_path / "b")
    assert sliced.returncode == whole.returncode == 2
    assert "line 9" in sliced.stderr and "duplicate deal_id 'D1' (also on line 2)" in sliced.stderr
    assert sliced.stderr == whole.stderr
    assert not (tmp_path / "a").exists()
    split = [*common, "--splits", tmp_path / "splits.csv"]
    rows[-1] = "D8,B,2025-03-01,5.00"
    (tmp_path / "deals.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    sliced, whole = (run_cli(*split, *extra, "--out", tmp_path / "c")
                     for extra in (["--chunk-rows", "2"], []))
    assert sliced.returncode == whole.returncode == 2
    assert "deal_id 'D99' is not in the deals (deals.csv)" in sliced.stderr
    assert sliced.stderr == whole.stderr


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=random_deal_rows, chunk=st.integers(1, 12), method=st.sampled_from(
    ["marginal", "retroactive"]), credit=st.sampled_from(["direct", "rollup"]))
def test_random_deals_pay_the_same_in_any_slices(rows, chunk, method, credit):
    """Any deals (credit memos, split deals, roll-ups to a manager) read from a file in
    slices of any size: the payouts and credit lines of the in-memory run on pandas
    frames, the credit lines of the slices merged back into order."""
    plan, sources = random_book(rows, method, credit)
    deals = sources["deals"]
    want = calculate_plans([plan], load_inputs(**sources))[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deals.csv"
        deals.to_csv(path, index=False)
        with calculate_files([plan], {**sources, "deals": path}, chunk_rows=chunk) as run:
            got = run.results[0]
            assert isinstance(got.credits, CreditParts)
            credits = pd.concat(list(got.credits.frames()), ignore_index=True)
            assert len(got.credits.paths) == -(-len(deals) // chunk)  # a file per slice
    pd.testing.assert_frame_equal(got.payouts, want.payouts)
    pd.testing.assert_frame_equal(credits, want.credits)
    assert got.summary == want.summary


def test_bad_slice_size_is_refused():
    with pytest.raises(InputError, match="chunk rows must be at least 1"):
        calculate_files([], {"deals": pd.DataFrame()}, chunk_rows=0)


def _book_in_file(folder: Path) -> tuple:
    """A random-book plan and its tables, 300 deals read from a CSV file."""
    plan, sources = random_book([("A", d, 100 + d, d % 3 == 0) for d in range(300)],
                                "marginal", "direct")
    sources["deals"].to_csv(folder / "deals.csv", index=False)
    return plan, {**sources, "deals": folder / "deals.csv"}


def test_duckdb_running_out_of_memory_is_one_message(tmp_path, monkeypatch):
    """DuckDB's cross-slice checks given too little memory: our message, not its error."""
    plan, sources = _book_in_file(tmp_path)
    monkeypatch.setattr("spmkit.stream.DUCKDB_MEMORY", "1MB")
    with pytest.raises(SpmkitError) as err:
        calculate_files([plan], sources, chunk_rows=50)
    assert str(err.value) == ("DuckDB ran out of its 1MB while checking and cutting the "
                              "deals; give a smaller --chunk-rows")


def test_a_temporary_file_duckdb_cannot_read_is_a_file_error(tmp_path):
    """A slice's file of credit lines gone when they are merged: a file error (exit 2 on
    the command line) naming the temporary folder, not DuckDB's exception."""
    import errno

    plan, sources = _book_in_file(tmp_path)
    with calculate_files([plan], sources, chunk_rows=50) as run:
        parts = run.results[0].credits
        parts.paths[1].unlink()
        with pytest.raises(OSError) as err:
            list(parts.frames())
        assert err.value.errno == errno.EIO
        assert err.value.filename == str(parts.paths[1].parent)
        assert "lines-0-000001.parquet" in err.value.strerror
