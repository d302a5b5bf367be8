"""The Dask engine (spmkit.dask_engine) on a LocalCluster of two worker processes: the same
payouts and credit lines, to the byte, as the default engine, for any number of partitions
and for the features that need a deal's or a rep's lines together (splits, overlays,
roll-ups once per deal, collections, running tiers)."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pandas as pd
import pytest
from conftest import PLANS, random_book, random_deal_rows, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spmkit.payout import calculate, output_frames
from spmkit.plan import load_plan
from spmkit.tables import load_inputs

distributed = pytest.importorskip("distributed")
from spmkit import dask_engine  # noqa: E402  (our own module: an import error fails)

RUNNING = PLANS["running.yaml"]
COLLECTIONS = """\
plan: Paid on cash
currency: USD
year_start: 2025-01-01
period: quarter
components:
  - id: commission
    type: commission
    measure: collections
    tiers:
      bands:
        - {from: 0, rate: 0.1}
"""


@pytest.fixture(scope="module")
def client():
    """Two worker processes (not threads) on this machine."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def tables(sample_data):
    """The sample org's tables, plus overlays (a specialist at half credit on some deals)
    and payments (two instalments on some deals)."""
    files = {t: pd.read_csv(sample_data / f"{t}.csv", dtype=str, keep_default_na=False)
             for t in ("deals", "quotas", "roster", "splits", "fx")}
    deals = files["deals"]
    in_year = deals[(deals["close_date"] >= "2025-01-01") & (deals["cancel_date"] == "")]
    specialist = files["roster"]["rep_id"].iloc[-1]
    files["overlays"] = pd.DataFrame({"deal_id": in_year["deal_id"].iloc[::9],
                                      "rep_id": specialist, "share": "0.5"})
    paid = in_year[in_year["amount"].map(Decimal) > 200].iloc[::5]
    days = pd.to_datetime(paid["close_date"])
    files["payments"] = pd.concat([
        pd.DataFrame({"deal_id": paid["deal_id"], "paid_date": (days + pd.Timedelta(days=d))
                      .dt.strftime("%Y-%m-%d"), "amount": "100.00"}) for d in (10, 75)])
    return files


def _inputs(tables, *names):
    return load_inputs(**{n: tables[n] for n in ("deals", "quotas", "roster", "splits", "fx",
                                                 *names)}, currency="USD")


def _same(plan, inputs, client, partitions):
    want_payouts, want_credits = output_frames(calculate(plan, inputs))
    got = dask_engine.calculate(plan, inputs, client, partitions=partitions)
    payouts, credits = output_frames(got)
    pd.testing.assert_frame_equal(payouts, want_payouts)
    pd.testing.assert_frame_equal(credits, want_credits)
    assert payouts.to_csv(index=False) == want_payouts.to_csv(index=False)
    assert len(credits) > 100


@pytest.mark.parametrize("partitions", [1, 7])
def test_any_number_of_partitions_pays_the_same(tables, client, partitions):
    _same(load_plan(PLANS["accelerator.yaml"], name="accelerator.yaml"),
          _inputs(tables, "overlays"), client, partitions)


@pytest.mark.parametrize("name", ["rollup", "running", "collections", "bonus"])
def test_features_that_need_lines_together_pay_the_same(tables, client, name):
    text = {"rollup": PLANS["rollup.yaml"], "running": RUNNING, "collections": COLLECTIONS,
            "bonus": PLANS["bonus.yaml"]}[name]
    extra = {"rollup": ("overlays",), "collections": ("payments",)}.get(name, ())
    _same(load_plan(text, name=f"{name}.yaml"), _inputs(tables, *extra), client, 5)


def test_a_running_tier_runs_in_one_partition():
    assert dask_engine.needs_rep_order(load_plan(RUNNING, name="r.yaml"))
    assert not dask_engine.needs_rep_order(load_plan(PLANS["rollup.yaml"], name="r.yaml"))


def test_partial_grids_add_up_to_the_whole(tables, client):
    """Measured on the cluster without the credit lines: the grid alone comes back."""
    from spmkit.payout import measure

    plan = load_plan(PLANS["rollup.yaml"], name="rollup.yaml")
    inputs = _inputs(tables, "overlays")
    whole, _, summary = measure(plan, inputs)
    grid, lines, got = dask_engine.measure(plan, inputs, client, partitions=4, lines=False)
    assert lines is None
    assert got == summary
    assert (grid.rep_ids == whole.rep_ids).all()
    assert (grid.credit == whole.credit).all()
    for cid, named in whole.measures.items():
        for m, values in named.items():
            assert (grid.measures[cid][m] == values).all()


def test_plans_pickle():
    plan = load_plan(PLANS["rollup.yaml"], name="rollup.yaml")
    assert pickle.loads(pickle.dumps(plan)) == plan


def test_calc_on_the_cluster_writes_the_same_bytes(sample_data, plan_files, client, tmp_path):
    files = [f"--{t}={sample_data / f'{t}.csv'}" for t in ("deals", "quotas", "roster",
                                                            "splits", "fx")]
    default = run_cli("calc", "--plan", plan_files["baseline"], *files, "--out", tmp_path / "a")
    assert default.returncode == 0, default.stderr
    address = client.scheduler.address
    on_dask = run_cli("calc", "--plan", plan_files["baseline"], *files, "--out", tmp_path / "b",
                      "--engine", "dask", "--scheduler", address, "--partitions", "3")
    assert on_dask.returncode == 0, on_dask.stderr
    for name in ("payouts.csv", "credits.csv"):
        assert (tmp_path / "b" / name).read_bytes() == (tmp_path / "a" / name).read_bytes()


@pytest.mark.parametrize(("extra", "message"), [
    (["--engine", "dask"], "--engine dask needs --scheduler"),
    (["--scheduler", "tcp://127.0.0.1:8786"], "need --engine dask"),
    (["--engine", "dask", "--scheduler", "tcp://127.0.0.1:8786", "--partitions", "0"],
     "--partitions 0 must be between 1"),
])
def test_engine_settings_are_checked(sample_data, plan_files, tmp_path, extra, message):
    proc = run_cli("calc", "--plan", plan_files["baseline"], "--deals", sample_data / "deals.csv",
                   "--quotas", sample_data / "quotas.csv", "--out", tmp_path / "out", *extra)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not (tmp_path / "out").exists()


@settings(max_examples=8, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=random_deal_rows, partitions=st.integers(1, 6), method=st.sampled_from(
    ["marginal", "retroactive"]), credit=st.sampled_from(["direct", "rollup"]))
def test_random_deals_pay_the_same_on_any_partitions(client, rows, partitions, method, credit):
    """Any deals (credit memos, split deals), any partitions: the default engine's payouts."""
    plan, tables = random_book(rows, method, credit)
    inputs = load_inputs(**tables)
    want = output_frames(calculate(plan, inputs))
    got = output_frames(dask_engine.calculate(plan, inputs, client, partitions=partitions))
    for a, b in zip(got, want, strict=True):
        pd.testing.assert_frame_equal(a, b)
