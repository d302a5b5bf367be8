"""``spmkit capacity``, ``spmkit territory`` and ``spmkit sample-accounts`` as subprocesses:
the files they write hold the library's numbers; bad input exits 2 with one message and
nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli


@pytest.fixture(scope="module")
def accounts_file(tmp_path_factory, sample_data) -> Path:
    out = tmp_path_factory.mktemp("accounts") / "accounts.csv"
    proc = run_cli("sample-accounts", "--roster", sample_data / "roster.csv", "--per-rep", "12",
                   "--seed", "3", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"wrote {out}: ")
    return out


def test_capacity_writes_the_plan_and_prints_the_quarters(tmp_path, sample_data):
    from spmkit.planning import plan_capacity_from_files

    out = tmp_path / "cap"
    proc = run_cli("capacity", "--roster", sample_data / "roster.csv",
                   "--history", sample_data / "deals.csv", "--year", "2026",
                   "--target", "30,000,000", "--lead-time", "2", "--out", out)
    assert proc.returncode == 0, proc.stderr
    for name in ("capacity.csv", "months.csv", "hiring.csv", "productivity.csv",
                 "attrition.csv", "metrics.json"):
        assert (out / name).is_file(), name
    plan = plan_capacity_from_files(sample_data / "roster.csv", history=sample_data / "deals.csv",
                                    fx=sample_data / "fx.csv", year=2026,
                                    target_cents=30_000_000_00, lead_time_months=2)
    written = pd.read_csv(out / "capacity.csv", dtype=str)
    assert written["quarter"].tolist() == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    cents = (written["capacity"].str.replace(".", "", regex=False).astype("int64")).tolist()
    assert cents == plan.quarters["capacity_cents"].tolist()
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["capacity"] == json.loads(json.dumps(plan.metrics()))
    assert "2026-Q1" in proc.stdout and "note: ramp:" in proc.stdout
    assert proc.stdout.strip().endswith(f"wrote {out}")


def test_capacity_with_given_inputs_and_no_history(tmp_path, sample_data):
    proc = run_cli("capacity", "--roster", sample_data / "roster.csv", "--year", "2026",
                   "--target", "5000000;5000000;5000000;6000000",
                   "--productivity", "Account Executive=900000",
                   "--productivity", "Account Manager=700000",
                   "--productivity", "Inside Sales=400000", "--ramp", "0,0.25,0.5",
                   "--attrition", "0.1", "--as-of", "2025-12-01")
    assert proc.returncode == 0, proc.stderr
    assert "no history: the capacity range (P10-P90) is a single point" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["--target", "lots"], "target 'lots' is not an amount"),
    (["--target", "1;2"], "one amount (the year) or four"),
    (["--target", "100", "--ramp", "0,2"], "ramp factor 2 must be between 0 and 1"),
    (["--target", "100", "--attrition", "AE=x"], "--attrition of AE 'x' is not a number"),
    (["--target", "100", "--lead-time", "99"], "--lead-time 99 must be 0 to 36 months"),
    (["--target", "100", "--productivity", "100", "--hire-role", "Pilot"],
     "hire role 'Pilot'"),
])
def test_capacity_bad_settings_exit_2(tmp_path, sample_data, args, message):
    out = tmp_path / "never"
    proc = run_cli("capacity", "--roster", sample_data / "roster.csv", "--year", "2026",
                   *args, "--out", out)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("spmkit capacity: error: ")
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_territory_writes_assignment_quotas_and_overlays(tmp_path, sample_data, accounts_file):
    from spmkit.planning import design_territories, load_accounts, territory_reps
    from spmkit.tables import load_quotas, load_roster

    reps = territory_reps(load_roster(sample_data / "roster.csv"))
    emea_rep = reps.loc[reps["region"] == "EMEA", "rep_id"].iloc[0]
    links = tmp_path / "links.csv"
    links.write_text(f"overlay,territory\nSE-1,EMEA\nSE-1,{emea_rep}\nSE-2,APAC\n",
                     encoding="utf-8")
    out = tmp_path / "terr"
    proc = run_cli("territory", "--accounts", accounts_file, "--roster",
                   sample_data / "roster.csv", "--index",
                   "leads=50,open_opportunities=200,accounts=500", "--target", "20000000",
                   "--year", "2026", "--overlays", links, "--out", out)
    assert proc.returncode == 0, proc.stderr
    for name in ("assignment.csv", "territories.csv", "territory_quotas.csv", "quotas.csv",
                 "overlay_quotas.csv", "metrics.json"):
        assert (out / name).is_file(), name
    index = {"leads": "50", "open_opportunities": "200", "accounts": "500"}
    plan = design_territories(load_accounts(accounts_file, fields=list(index)), reps,
                              index=index)
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["territories"] == json.loads(json.dumps(plan.metrics()))
    assigned = pd.read_csv(out / "assignment.csv", dtype=str)
    assert assigned["rep_id"].tolist() == plan.assignment["rep_id"].tolist()
    quotas = load_quotas(out / "quotas.csv")  # the engine's quotas file
    assert quotas["quota_cents"].sum() == 20_000_000_00
    assert quotas["period_start"].dt.month.unique().tolist() == [1, 4, 7, 10]
    overlay = pd.read_csv(out / "overlay_quotas.csv", dtype=str).set_index("overlay")
    assert overlay.loc["SE-1", "counted"] == "EMEA"  # an EMEA rep under EMEA: counted once
    assert "largest deviation from target" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["--index", "leads"], "should be FIELD=WEIGHT"),
    (["--index", "calls=50"], "missing required column 'calls'"),
    (["--tolerance", "2"], "--tolerance 2 must be between 0 and 1"),
    (["--target", "100"], "--target needs --year"),
    (["--overlays", "links.csv"], "--overlays needs --target"),
    (["--reps", "R001", "--roster", "x.csv"], "give --roster or --reps, not both"),
    (["--roster", "x.csv"], "x.csv: file not found"),
])
def test_territory_bad_settings_exit_2(tmp_path, accounts_file, args, message):
    out = tmp_path / "never"
    proc = run_cli("territory", "--accounts", accounts_file, *args, "--out", out, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert not out.exists()


def test_territory_bad_accounts_file_names_line_and_column(tmp_path):
    bad = tmp_path / "accounts.csv"
    bad.write_text("account,owner,potential\nA1,R1,100\nA2,R1,-3\n", encoding="utf-8")
    out = tmp_path / "never"
    proc = run_cli("territory", "--accounts", bad, "--out", out)
    assert proc.returncode == 2
    assert ("accounts.csv, line 3, column 'potential': must not be negative: '-3'"
            in proc.stderr)
    assert not out.exists()


def test_sample_accounts_refuses_a_non_csv(tmp_path, sample_data):
    proc = run_cli("sample-accounts", "--roster", sample_data / "roster.csv",
                   "--out", tmp_path / "a.txt")
    assert proc.returncode == 2 and "must end in .csv" in proc.stderr


def test_capacity_and_territory_on_northwind(tmp_path):
    """The planning commands on a real data set: Northwind's 1997 roster and orders.
    Capacity comes from its history; territories are its customers, each with the potential
    of what it bought and the rep who sold it most as the owner (built here with pandas,
    independently of spmkit)."""
    root = Path(__file__).resolve().parents[1]
    nw = tmp_path / "nw"
    assert run_cli("import-northwind", "--source", root / "examples" / "northwind" / "data",
                   "--out", nw).returncode == 0
    cap = tmp_path / "cap"
    proc = run_cli("capacity", "--roster", nw / "roster.csv", "--history", nw / "deals.csv",
                   "--year", "1998", "--target", "600000", "--out", cap)
    assert proc.returncode == 0, proc.stderr
    quarters = pd.read_csv(cap / "capacity.csv", dtype=str)
    assert quarters["quarter"].tolist() == ["1998-Q1", "1998-Q2", "1998-Q3", "1998-Q4"]
    # productivity by role: the median of the ramped reps' 1997 credit, to the cent
    history = pd.read_csv(nw / "deals.csv", dtype=str)
    history = history[history["close_date"].str.startswith("1997")]
    roster = pd.read_csv(nw / "roster.csv", dtype=str)
    per_rep = history.assign(cents=history["amount"].str.replace(".", "").astype(int)) \
        .groupby("rep_id")["cents"].sum()
    role = roster.set_index("rep_id")["role"]
    want = per_rep.groupby(role.reindex(per_rep.index).to_numpy()).median()
    want = want.drop(["VP", "Manager"])  # managers sell at Northwind, but are no capacity
    got = pd.read_csv(cap / "productivity.csv", dtype=str).set_index("role")["productivity"]
    assert {r: round(float(v) * 100) for r, v in got.items()} == \
        {r: round(float(v)) for r, v in want.items()}

    deals = pd.read_csv(nw / "deals.csv", dtype={"rep_id": str})
    deals["amount"] = deals["amount"].astype(float)
    by = deals.groupby(["account", "rep_id"], as_index=False)["amount"].sum()
    top = by.sort_values(["account", "amount", "rep_id"], ascending=[True, False, True])
    owner = top.drop_duplicates("account").set_index("account")["rep_id"]
    accounts = pd.DataFrame({"account": owner.index, "owner": owner.to_numpy(),
                             "potential": by.groupby("account")["amount"].sum()
                             .reindex(owner.index).round(2).to_numpy()})
    accounts.to_csv(tmp_path / "accounts.csv", index=False)
    terr = tmp_path / "terr"
    proc = run_cli("territory", "--accounts", tmp_path / "accounts.csv", "--roster",
                   nw / "roster.csv", "--as-of", "1998-01-01", "--tolerance", "0.15",
                   "--out", terr)
    assert proc.returncode == 0, proc.stderr
    assigned = pd.read_csv(terr / "assignment.csv", dtype=str)
    assert sorted(assigned["account"]) == sorted(accounts["account"])
    assert set(assigned["rep_id"]) <= set(roster["rep_id"])
    territories = pd.read_csv(terr / "territories.csv")
    assert territories["pct_of_average"].between(0.85, 1.15).all()
    assert territories["potential"].sum() == pytest.approx(accounts["potential"].sum())
