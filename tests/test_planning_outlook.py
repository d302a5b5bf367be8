"""The year's outlook (spmkit.planning.outlook) and the opportunities table
(spmkit.planning.opportunities): hand-computed win rates, a pipeline whose outcome is
certain, the mid-year switch, the sample's opportunities, the 30 June backtest over 20
generated years, the CLI and the notebook."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spmkit.errors import InputError
from spmkit.payout import calculate
from spmkit.plan import load_plan
from spmkit.planning.opportunities import generate_opportunities, load_opportunities
from spmkit.planning.outlook import (
    backtest_outlook,
    open_pipeline,
    project_outlook,
    win_rates_by_age,
    win_rates_by_stage,
)
from spmkit.tables import load_inputs
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent

FLAT = """plan: Flat {rate} 2025
currency: USD
year_start: 2025-01-01
period: quarter
components:
  - id: commission
    type: commission
    attainment: ytd
    tiers:
      method: marginal
      bands:
        - {{from: 0.0, rate: {rate}}}
"""


def _opps(rows: list[tuple]) -> pd.DataFrame:
    cols = ["deal_id", "rep_id", "stage", "amount", "created_date", "won_date", "lost_date"]
    return load_opportunities(pd.DataFrame(rows, columns=cols).fillna(""))


# --- the opportunities table ------------------------------------------------------------------

def test_bad_opportunities_name_file_line_and_column(tmp_path):
    path = tmp_path / "opportunities.csv"
    path.write_text(
        "deal_id,rep_id,stage,amount,created_date,close_date,won_date,lost_date\n"
        "O1,R1,Propose,100.00,2025-01-10,2025-02-01,,\n"
        "O2,R1,Propose,-5.00,2025-01-10,,,\n"
        "O3,R1,Propose,abc,2025-13-01,,,\n"
        "O1,R1,Propose,100.00,2025-01-10,,2025-01-05,\n"
        "O5,R1,,100.00,2025-01-10,,2025-02-01,2025-02-02\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_opportunities(path)
    text = str(err.value)
    assert "opportunities.csv, line 3, column 'amount': must not be negative" in text
    assert "opportunities.csv, line 4, column 'amount': not a number: 'abc'" in text
    assert "line 4, column 'created_date': not a date" in text
    assert "line 5, column 'deal_id': duplicate deal_id 'O1' (first on line 2)" in text
    assert "line 5, column 'won_date': 2025-01-05 is before created_date 2025-01-10" in text
    assert "line 6, column 'stage': value is missing" in text
    assert "line 6, column 'lost_date': an opportunity is won or lost, not both" in text


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("deal_id,rep_id,amount,created_date\nO1,R1,1.00,2025-01-01\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match="o.csv, column 'stage': missing required column 'stage'"):
        load_opportunities(path)


def test_sample_opportunities_hold_every_won_deal():
    from spmkit.sample import generate

    tables = generate(reps=6, years=2, seed=5)
    opps = load_opportunities(generate_opportunities(tables["deals"], seed=5))
    deals = load_inputs(tables["deals"]).deals
    won = opps[opps["status"] == "won"].set_index("deal_id").sort_index()
    sold = deals[deals["amount_cents"] > 0].set_index("deal_id").sort_index()
    assert won.index.equals(sold.index)
    assert (won["amount_cents"] == sold["amount_cents"]).all()
    assert (won["rep_id"] == sold["rep_id"]).all()
    assert (won["won_date"] == sold["close_date"]).all()
    assert (won["created_date"] < won["won_date"]).all()
    # lost and open ones around them: a win rate near 30% and a pipeline at the end
    closed = opps[opps["status"] != "open"]
    assert 0.2 < (closed["status"] == "won").mean() < 0.4
    still = opps[opps["status"] == "open"]
    assert len(still) and (still["created_date"] <= deals["close_date"].max()).all()
    assert generate_opportunities(tables["deals"], seed=5).equals(
        generate_opportunities(tables["deals"], seed=5))


# --- win rates by hand --------------------------------------------------------------------------

def test_win_rates_by_age_and_stage_by_hand():
    # created 2024-01-01; durations 10 (won), 20 (lost at Discover), 40 (won), 70 (lost
    # at Qualify), all closed long before the as-of date
    opps = _opps([
        ("A", "R1", "Negotiate", "1.00", "2024-01-01", "2024-01-11", ""),
        ("B", "R1", "Discover", "1.00", "2024-01-01", "", "2024-01-21"),
        ("C", "R1", "Negotiate", "1.00", "2024-01-01", "2024-02-10", ""),
        ("D", "R1", "Qualify", "1.00", "2024-01-01", "", "2024-03-11"),
    ])
    rates = win_rates_by_age(opps, "2025-06-30").set_index("age_days")
    overall = 0.5
    # still open at age 15 (open past day 14): B, C, D of which C won -> (1 + 10 x 0.5) / 13
    assert rates.loc[15, "open_at_age"] == 3 and rates.loc[15, "won"] == 1
    assert rates.loc[15, "win_rate"] == pytest.approx((1 + 10 * overall) / (3 + 10))
    # at age 60: only D, lost -> (0 + 5) / 11
    assert rates.loc[60, "win_rate"] == pytest.approx(5 / 11)
    stages = win_rates_by_stage(opps, "2025-06-30").set_index("stage")
    # reached Qualify: all 4 (2 won); Discover: A, B, C; Negotiate: A, C (both won)
    assert stages.loc["Qualify", ["reached", "won"]].tolist() == [4, 2]
    assert stages.loc["Discover", "win_rate"] == pytest.approx(2 / 3)
    assert stages.loc["Negotiate", "win_rate"] == 1.0


def test_open_pipeline_hides_what_was_not_known_then():
    opps = _opps([
        ("A", "R1", "Negotiate", "1.00", "2025-06-01", "2025-07-15", ""),
        ("B", "R1", "Propose", "1.00", "2025-06-20", "", ""),
        ("C", "R1", "Qualify", "1.00", "2025-06-01", "", "2025-06-10"),
        ("D", "R1", "Qualify", "1.00", "2025-07-02", "", ""),
    ])
    pipe = open_pipeline(opps, "2025-06-30").set_index("deal_id")
    assert sorted(pipe.index) == ["A", "B"]
    assert pd.isna(pipe.loc["A", "stage"]) and pipe.loc["B", "stage"] == "Propose"
    assert pipe.loc["A", "age_days"] == 29 and pipe.loc["B", "age_days"] == 10


# --- a pipeline whose outcome is certain --------------------------------------------------------

@pytest.fixture(scope="module")
def certain() -> dict:
    """One rep, quota 100,000 for 2025, nothing closed in 2025 by 30 June; last year 20 won
    deals of 1,000 whose opportunities all won after 30 days (win rate 1, cycle 30); one
    open opportunity of 10,000 created on 25 June, at a stage the history never saw."""
    days = pd.date_range("2024-03-01", periods=20, freq="D")
    deals = pd.DataFrame({"deal_id": [f"D{i}" for i in range(20)], "rep_id": "R1",
                          "close_date": days.strftime("%Y-%m-%d"), "amount": "1000.00"})
    roster = pd.DataFrame({"rep_id": ["R1"], "role": ["AE"], "target_incentive": ["10000"],
                           "hire_date": ["2020-01-01"]})
    quotas = pd.DataFrame({"rep_id": ["R1", "R1"], "year": ["2024", "2025"],
                           "quota": ["100000", "100000"]})
    rows = [(f"D{i}", "R1", "Negotiate", "1000.00",
             (d - pd.Timedelta(days=30)).strftime("%Y-%m-%d"), d.strftime("%Y-%m-%d"), "")
            for i, d in enumerate(days)]
    rows.append(("O1", "R1", "Custom", "10000.00", "2025-06-25", "", ""))
    return {"inputs": load_inputs(deals, quotas=quotas, roster=roster), "opps": _opps(rows),
            "deals": deals, "quotas": quotas, "roster": roster}


def test_a_certain_win_pays_what_the_engine_pays_for_that_deal(certain):
    plan = load_plan(FLAT.format(rate="0.1"))
    out = project_outlook(plan, certain["inputs"], "2025-06-30",
                          opportunities=certain["opps"], draws=50, seed=3)
    # the deal closes 30 days after 25 June: 25 July, in Q3; 10% of 10,000 = 1,000.00
    closed = pd.concat([certain["deals"], pd.DataFrame({
        "deal_id": ["O1"], "rep_id": ["R1"], "close_date": ["2025-07-25"],
        "amount": ["10000.00"]})])
    engine = calculate(plan, load_inputs(closed, quotas=certain["quotas"],
                                         roster=certain["roster"])).total_payout_cents
    assert engine == 100_000
    assert (out.draws["total_payout_cents"] == engine).all()
    t = out.totals
    assert t["payout_p10_cents"] == t["payout_p90_cents"] == engine
    assert t["paid_to_date_cents"] == 0 and t["weighted_pipeline_cents"] == 1_000_000
    rep = out.reps.set_index("rep_id").loc["R1"]
    assert rep["attainment_p50"] == pytest.approx(0.1)  # 10,000 of 100,000
    assert rep["coverage"] == pytest.approx(0.1)  # pipeline 10,000 over 100,000 left
    assert bool(rep["at_risk"]) and not bool(rep["likely_cap"])


def test_switching_to_a_plan_paying_double_doubles_the_second_half(certain):
    plan = load_plan(FLAT.format(rate="0.1"))
    out = project_outlook(plan, certain["inputs"], "2025-06-30",
                          opportunities=certain["opps"], draws=50, seed=3,
                          plan_b=load_plan(FLAT.format(rate="0.2")))
    s = out.switch_totals
    assert s["switch_date"] == "2025-07-01"
    assert s["keep_p50_cents"] == 100_000 and s["switch_p50_cents"] == 200_000
    assert out.switch.set_index("rep_id").loc["R1", "change_mean_cents"] == 100_000


def test_outlook_without_opportunities_says_the_pipeline_is_absent(certain):
    out = project_outlook(load_plan(FLAT.format(rate="0.1")), certain["inputs"],
                          "2025-06-30", draws=20)
    assert any("pipeline is absent" in n for n in out.notes)
    assert out.totals["open_opportunities"] == 0


@pytest.mark.parametrize("as_of, message", [
    ("2024-12-31", "is not inside plan year"), ("2025-12-31", "is not inside plan year"),
    ("June", "is not a date")])
def test_as_of_must_lie_inside_the_plan_year(certain, as_of, message):
    with pytest.raises(InputError, match=message):
        project_outlook(load_plan(FLAT.format(rate="0.1")), certain["inputs"], as_of,
                        draws=20)


# --- properties on the sample org --------------------------------------------------------------

@pytest.fixture(scope="module")
def small_org():
    from spmkit.sample import generate

    t = generate(reps=8, years=2, seed=11)
    inputs = load_inputs(t["deals"], quotas=t["quotas"], roster=t["roster"],
                         splits=t["splits"], fx=t["fx"])
    return inputs, load_opportunities(generate_opportunities(t["deals"], seed=11))


@settings(max_examples=3, deadline=None)
@given(day=st.integers(0, 300), seed=st.integers(0, 1000))
def test_switching_to_the_same_flat_rate_changes_nothing(small_org, day, seed):
    """A flat rate on credit pays the same from 1 July whether the plan restarts or not."""
    inputs, opps = small_org
    plan = load_plan(FLAT.format(rate="0.05"))
    as_of = (pd.Timestamp("2025-02-01") + pd.Timedelta(days=day)).strftime("%Y-%m-%d")
    out = project_outlook(plan, inputs, as_of, opportunities=opps, draws=30, seed=seed,
                          plan_b=load_plan(FLAT.format(rate="0.05")))
    # each period's payout is rounded once on either side: a cent apart at most per rep
    assert (out.switch["change_mean_cents"].abs() <= 1).all()
    assert abs(out.switch_totals["keep_p50_cents"] - out.switch_totals["switch_p50_cents"]) \
        <= len(out.switch)


def test_outlook_is_reproducible_and_its_percentiles_ordered(small_org):
    inputs, opps = small_org
    plan = load_plan(ROOT / "scenarios" / "cap_and_threshold.yaml")
    a = project_outlook(plan, inputs, "2025-06-30", opportunities=opps, draws=60, seed=4)
    b = project_outlook(plan, inputs, "2025-06-30", opportunities=opps, draws=60, seed=4)
    assert a.totals == b.totals
    t = a.totals
    assert t["payout_p5_cents"] <= t["payout_p10_cents"] <= t["payout_p50_cents"] \
        <= t["payout_p90_cents"] <= t["payout_p95_cents"]
    r = a.reps
    assert (r["attainment_p10"] <= r["attainment_p90"]).all()
    assert r["p_cap"].notna().all()  # the plan has a cap: each rep's chance of reaching it
    # paid to date: what the engine pays for Q1 and Q2 on the deals known on 30 June
    deals = inputs.deals[inputs.deals["close_date"] <= "2025-06-30"].copy()
    deals["cancel_date"] = deals["cancel_date"].where(deals["cancel_date"] <= "2025-06-30")
    import dataclasses

    known = calculate(plan, dataclasses.replace(inputs, deals=deals)).payouts
    assert t["paid_to_date_cents"] == known.loc[known["period_index"] < 2,
                                                "amount_cents"].sum() > 0


# --- the backtest: 30 June, 20 generated years ---------------------------------------------------

@pytest.mark.parametrize(("reps", "draws"), [(30, 200), (15, 150)])
def test_backtest_interval_holds_the_actual_year_in_at_least_15_of_20(reps, draws):
    """Issue 12's bar on the sample data: projected from 30 June, the 90% interval of the
    year's total payout holds the actual in at least 15 of 20 generated years, at the
    bench's 30 reps (``bench/outlook_bench.py --reps 30 --draws 200``; seeded: 16 of 20)
    and at 15 (``--reps 15 --draws 150``; 17 of 20)."""
    from spmkit.sample import generate

    plan = load_plan(ROOT / "scenarios" / "baseline.yaml")
    inside = []
    for seed in range(500, 520):
        t = generate(reps=reps, years=2, seed=seed)
        inputs = load_inputs(t["deals"], quotas=t["quotas"], roster=t["roster"],
                             splits=t["splits"], fx=t["fx"])
        opps = load_opportunities(generate_opportunities(t["deals"], seed=seed))
        result = backtest_outlook(plan, inputs, "2025-06-30", opportunities=opps, draws=draws,
                                  seed=seed)
        inside.append(result["inside"])
    assert sum(inside) >= 15, inside


# --- the command and the notebook ---------------------------------------------------------------

def test_outlook_cli_on_sample_data_and_northwind(tmp_path, sample_data):
    data = tmp_path / "data"
    data.mkdir()
    for f in sample_data.iterdir():
        (data / f.name).write_bytes(f.read_bytes())
    tables = {"deals": pd.read_csv(data / "deals.csv", dtype=str, keep_default_na=False)}
    generate_opportunities(tables["deals"], seed=3).to_csv(data / "opportunities.csv",
                                                           index=False)
    out = tmp_path / "out"
    proc = run_cli("outlook", "--plan", ROOT / "scenarios" / "baseline.yaml", "--data", data,
                   "--as-of", "2025-06-30", "--draws", "40", "--plan-b",
                   ROOT / "scenarios" / "cap_and_threshold.yaml", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "the year's payout (accrual) P10" in proc.stdout
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    reps = pd.read_csv(out / "reps.csv", dtype=str)
    assert metrics["outlook"]["reps"] == len(reps)
    assert metrics["outlook"]["switch"]["switch_date"] == "2025-07-01"
    for name in ("draws.csv", "win_rates.csv", "stage_rates.csv", "cycle_times.csv",
                 "switch.csv"):
        assert (out / name).is_file()
    nw = tmp_path / "nw"
    assert run_cli("import-northwind", "--source", ROOT / "examples" / "northwind" / "data",
                   "--out", nw).returncode == 0
    proc = run_cli("outlook", "--plan", ROOT / "examples" / "northwind" / "baseline.yaml",
                   "--data", nw, "--as-of", "1997-06-30", "--draws", "40")
    assert proc.returncode == 0, proc.stderr
    assert "the pipeline is absent" in proc.stdout


def test_outlook_cli_bad_input_exits_2(tmp_path, sample_data):
    bad = tmp_path / "opps.csv"
    bad.write_text("deal_id,rep_id,stage,amount,created_date\nO1,R001,Propose,x,2025-01-01\n",
                   encoding="utf-8")
    proc = run_cli("outlook", "--plan", ROOT / "scenarios" / "baseline.yaml", "--data",
                   sample_data, "--as-of", "2025-06-30", "--opportunities", bad)
    assert proc.returncode == 2
    assert "opps.csv, line 2, column 'amount': not a number: 'x'" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli("outlook", "--plan", ROOT / "scenarios" / "baseline.yaml", "--data",
                   sample_data, "--as-of", "2026-06-30")
    assert proc.returncode == 2 and "is not inside plan year" in proc.stderr


@pytest.mark.notebook
def test_outlook_notebook_reports_the_library_numbers(tmp_path, sample_data):
    import nbformat
    import papermill

    from spmkit.planning.outlook import outlook_from_files

    path = ROOT / "notebooks" / "payout_outlook.ipynb"
    committed = nbformat.read(path, as_version=4)
    code = [c for c in committed.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert all(p["help"] for p in papermill.inspect_notebook(str(path)).values())
    metrics = tmp_path / "metrics.json"
    plan = str(ROOT / "scenarios" / "baseline.yaml")
    params = {"plan_path": plan, "data_dir": str(sample_data), "as_of": "2025-06-30",
              "draws": 60, "seed": 2, "metrics_path": str(metrics), "audience": "executive"}
    papermill.execute_notebook(str(path), str(tmp_path / "out.ipynb"), parameters=params,
                               kernel_name="python3", cwd=str(tmp_path), progress_bar=False)
    written = json.loads(metrics.read_text(encoding="utf-8"))
    expected = outlook_from_files(plan, sample_data, "2025-06-30", draws=60, seed=2)
    assert written["outlook"] == json.loads(json.dumps(expected.metrics()))
    assert np.isfinite(written["outlook"]["totals"]["payout_p50_cents"])


def test_ramp_is_fitted_on_the_hires_and_carried_to_the_months_left():
    """Veterans close 60 lines a month; hires close 60 x (tenure + 0.5) / 6 = 10 t + 5 in
    month t of tenure (then 60): the fit finds a 6-month ramp. A hire of 1 April 2025 has
    ramped (0.5 + 1.5 + 2.5) / 6 / 3 = 0.25 by 30 June and will average (3.5/6 + 4.5/6 +
    5.5/6 + 1 + 1 + 1) / 6 = 0.875 over July-December."""
    from spmkit.planning.outlook import _ramp_factors

    months = np.arange(np.datetime64("2024-01"), np.datetime64("2025-07"))
    hires = np.array(["2010-01-01", "2012-05-01", "2015-09-01", "2024-03-01", "2024-07-01",
                      "2025-04-01"], dtype="datetime64[D]")
    tenure = (months[None, :] - hires.astype("datetime64[M]")[:, None]).astype(np.int64)
    n = np.where(tenure < 0, 0, np.where(tenure < 6, 10 * tenure + 5, 60))
    code = np.repeat(np.repeat(np.arange(len(hires)), len(months)), n.ravel())
    day = np.repeat(np.tile(months.astype("datetime64[D]") + 14, len(hires)), n.ravel())
    term = np.full(len(hires), np.datetime64("2999-12-31", "D"))
    notes: list[str] = []
    ytd, rest, year, fitted = _ramp_factors(
        code, day, np.ones(len(code), bool), (hires, term), np.datetime64("2025-01-01"),
        np.datetime64("2025-06-30"), np.datetime64("2025-12-31"), len(hires), notes)
    assert fitted == 6 and "6 months" in notes[0]
    assert ytd[:5] == pytest.approx(1.0) and rest[:5] == pytest.approx(1.0)
    assert ytd[5] == pytest.approx(0.25) and rest[5] == pytest.approx(0.875)
    assert year[5] == pytest.approx((0.25 * 3 + 0.875 * 6) / 9)


def _lines_two_kinds(scale: tuple[float, float]) -> tuple[pd.DataFrame, pd.Index, tuple]:
    """Ten reps, two credit lines a month from January 2024 to June 2025: 1,000 and 4,000
    times the rep's kind (``scale[0]`` for R0-R4, ``scale[1]`` for R5-R9)."""
    months = np.arange(np.datetime64("2024-01"), np.datetime64("2025-07")).astype(
        "datetime64[D]") + 14
    ids = [f"R{i}" for i in range(10)]
    rows = [(rep, m, int(base * scale[i >= 5] * 100)) for i, rep in enumerate(ids)
            for m in months for base in (1_000, 4_000)]
    lines = pd.DataFrame(rows, columns=["rep_id", "credit_date", "amount_cents"])
    lines["credit_date"] = pd.to_datetime(lines["credit_date"])
    lines["clawback"] = False
    lines["rule"] = "deal"
    hire = np.full(10, np.datetime64("2010-01-01", "D"))
    term = np.full(10, np.datetime64("2999-12-31", "D"))
    return lines, pd.Index(ids), (hire, term)


def _run(lines, reps, employed, draws=2000):
    from spmkit.planning.outlook import _run_rate

    notes: list[str] = []
    sim = _run_rate(lines, reps, pd.Timestamp("2025-06-30"), pd.Timestamp("2025-01-01"),
                    pd.Timestamp("2025-12-31"), (0, 0), employed, draws,
                    np.random.default_rng(1), notes)
    return sim, notes


def _pseudo(notes: list[str]) -> float:
    note = next(n for n in notes if n.startswith("run-rate amounts"))
    return float(note.split("worth ")[1].split(" lines")[0])


def test_team_lines_weigh_little_beside_a_reps_own_when_reps_differ_in_deal_size():
    """Empirical Bayes: reps of two kinds (deal sizes 1x and 3x) -> the spread of the reps'
    mean log amounts (0.34, less 0.50 / 24 of noise) is large against the spread within a
    rep ((ln 4 / 2)^2 x 24 / 23 = 0.50): the team's lines are worth 0.50 / 0.31 = 1.6 of a
    rep's own lines.  Reps alike ->
    their means do not differ beyond noise: the team's lines are worth as much as the
    rep's own many times over."""
    within = np.log(4.0) ** 2 / 4 * 24 / 23  # ddof: one mean per rep, 24 lines each
    between = np.var([0.0] * 5 + [np.log(3.0)] * 5, ddof=1)
    apart = _pseudo(_run(*_lines_two_kinds((1.0, 3.0)), draws=20)[1])
    assert apart == pytest.approx(within / (between - within / 24), abs=0.05)
    alike = _pseudo(_run(*_lines_two_kinds((1.0, 1.0)), draws=20)[1])
    assert alike > 1_000


def test_a_reps_mean_deal_size_is_uncertain_from_draw_to_draw():
    """A rep with 24 lines of its own (1,000 and 4,000) and a team of another kind: each
    simulated year's mean deal size varies by more than the lines drawn alone would make
    it (the mean itself is an estimate: relative variance (e^s2 - 1) / (24 + pseudo),
    about 0.025, beside the lines' own, about 0.5 / 12 with the smoothing kernel; without
    it the ratio is 1 within 3% at 2,000 draws)."""
    sim, _ = _run(*_lines_two_kinds((1.0, 3.0)))
    mine = sim.rep == 0
    n = np.bincount(sim.draw[mine], minlength=2000)
    total = np.bincount(sim.draw[mine], weights=sim.cents[mine], minlength=2000)
    ok = n >= 5
    squares = np.bincount(sim.draw[mine], weights=sim.cents[mine].astype(float) ** 2,
                          minlength=2000)
    per_draw = total[ok] / n[ok]
    # without a shared factor, a draw's mean varies as its lines do within it, over n
    within = (squares[ok] - total[ok] ** 2 / n[ok]) / (n[ok] - 1)
    bootstrap_only = float(np.mean(within / n[ok]))
    assert np.var(per_draw) > 1.2 * bootstrap_only
