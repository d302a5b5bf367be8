"""``spmkit explain`` reads one rep's deals, not all (``load_inputs(only_reps=...)``): the
statement is the same as from every deal, and rows are still named by their place in the
file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli

from spmkit.errors import InputError
from spmkit.payout import calculate
from spmkit.plan import load_plan
from spmkit.tables import load_inputs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def parquet_data(sample_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's sample org with its deals as Parquet."""
    out = tmp_path_factory.mktemp("parquet")
    pd.read_csv(sample_data / "deals.csv", dtype=str).to_parquet(out / "deals.parquet")
    return out


def _tables(sample_data: Path, deals: Path, **kw):
    return load_inputs(deals, sample_data / "quotas.csv", sample_data / "roster.csv",
                       sample_data / "splits.csv", sample_data / "fx.csv", currency="USD", **kw)


@pytest.mark.parametrize("credit", ["direct", "rollup"])
def test_statement_from_one_reps_deals_equals_the_full_one(sample_data: Path,
                                                           parquet_data: Path,
                                                           credit: str) -> None:
    """For every rep with split deals and for a manager (whose roll-up needs the team's
    deals), the statement and the payouts from the rep's deals alone equal those from all
    deals; and fewer deals were read."""
    plan = load_plan(ROOT / "scenarios" / "baseline.yaml")
    if credit == "rollup":  # managers have no quotas: a flat rate on rolled-up credit
        plan = load_plan({"plan": "Roll-up", "year_start": "2025-01-01", "period": "quarter",
                          "credit": "rollup", "components": [
                              {"id": "override", "type": "commission",
                               "rates": [{"rate": 0.01}]}]})
    full = calculate(plan, _tables(sample_data, parquet_data / "deals.parquet"))
    roster = pd.read_csv(sample_data / "roster.csv", dtype=str)
    splits = pd.read_csv(sample_data / "splits.csv", dtype=str)
    reps = sorted(set(splits["rep_id"]))[:3]
    if credit == "rollup":
        managers = set(roster["manager_id"].dropna())
        first_line = [m for m in sorted(managers)  # managers of sellers only
                      if not managers & set(roster.loc[roster["manager_id"] == m, "rep_id"])]
        reps = first_line[:1]
        team = set(reps) | set(roster.loc[roster["manager_id"] == reps[0], "rep_id"])
    for rep in reps:
        wanted = team if credit == "rollup" else {rep}
        inputs = _tables(sample_data, parquet_data / "deals.parquet", only_reps=wanted)
        assert len(inputs.deals) < len(full.credits["deal_id"].unique())
        one = calculate(plan, inputs)
        assert one.statement(rep) == full.statement(rep)
        mine = full.payouts[full.payouts["rep_id"] == rep].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            one.payouts[one.payouts["rep_id"] == rep].reset_index(drop=True), mine)


def test_bad_row_of_the_rep_is_named_by_its_row_in_the_file(tmp_path: Path) -> None:
    deals = pd.DataFrame({"deal_id": [f"D{i}" for i in range(1, 9)],
                          "rep_id": ["A", "B", "A", "B", "A", "B", "B", "A"],
                          "close_date": ["2026-01-05"] * 8,
                          "amount": ["10", "20", "30", "40", "lots", "60", "70", "80"]})
    deals.to_parquet(tmp_path / "deals.parquet")
    with pytest.raises(InputError, match=r"row 5, column 'amount': not a number: 'lots'"):
        load_inputs(tmp_path / "deals.parquet", only_reps={"A"})
    inputs = load_inputs(tmp_path / "deals.parquet", only_reps={"B"})
    assert inputs.deals["deal_id"].tolist() == ["D2", "D4", "D6", "D7"]


def test_explain_command_on_parquet(sample_data: Path, parquet_data: Path) -> None:
    """The CLI's ``explain`` gives the statement the library gives from every deal."""
    plan = ROOT / "scenarios" / "baseline.yaml"
    full = calculate(load_plan(plan), _tables(sample_data, parquet_data / "deals.parquet"))
    rep = full.payouts["rep_id"].iloc[0]
    done = run_cli("explain", "--plan", plan, "--deals", parquet_data / "deals.parquet",
                   "--quotas", sample_data / "quotas.csv", "--roster",
                   sample_data / "roster.csv", "--splits", sample_data / "splits.csv",
                   "--fx", sample_data / "fx.csv", "--rep", rep)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == full.statement(rep).strip()
