"""``spmkit quota`` as a subprocess: bad settings exit 2 with one message and write nothing;
a quotas file from the sample data loads and runs through the engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from spmkit.sample import write_sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("quota_sample")
    write_sample(out, reps=40)
    return out


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spmkit.cli", "quota", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("extra, message", [
    (["--method", "share", "--target", "-5"], "must not be negative"),
    (["--method", "magic"], "unknown method 'magic'"),
    (["--method", "share"], "needs --target"),
    (["--method", "potential"], "needs --target"),
    (["--method", "potential", "--target", "1000"], "potential"),
    (["--method", "growth", "--year", "2019"], "no deals between 2018-01-01 and 2018-12-31"),
    (["--method", "growth", "--ramp", "x"], "ramp factor 'x' is not a number"),
    (["--method", "growth", "--phasing", "nan,1,1,1"], "phasing weight 'nan' is not a number"),
    (["--method", "growth", "--growth=1e400"], "--growth 1e400 must be between"),
    (["--method", "growth", "--floor=-1"], "--floor -1 must be between 0 and 100"),
    (["--method", "share", "--target", "1e30"], "--target 1e30 is too large an amount"),
    # out-of-range values that used to end in "internal error" with exit 1
    (["--method", "growth", "--year", "0"], "--year 0 must be between 1901 and 9998"),
    (["--method", "growth", "--year", "9999"], "--year 9999 must be between 1901 and 9998"),
    (["--method", "growth", "--year=-5"], "--year -5 must be between"),
    (["--method", "share", "--target", "1e1000000"], "--target 1e1000000 is too large"),
    (["--method", "growth", "--seed=-1"], "--seed -1 must be between 0 and 4294967295"),
    (["--method", "growth", "--currency", "$$"], "--currency '$$' must be an ISO 4217 code"),
])
def test_bad_settings_exit_2_with_one_message_and_no_file(sample, tmp_path, extra, message):
    out = tmp_path / "q.csv"
    args = ["--history", str(sample / "deals.csv"), "--roster", str(sample / "roster.csv"),
            "--year", "2025", "--out", str(out), *extra]
    # a later --year overrides the default one
    proc = _run(*args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_quota_file_loads_and_runs_through_the_engine(sample, tmp_path):
    from spmkit.payout import calculate
    from spmkit.plan import load_plan
    from spmkit.tables import load_inputs, load_quotas

    out = tmp_path / "q.csv"
    proc = _run("--history", str(sample / "deals.csv"), "--roster", str(sample / "roster.csv"),
                "--year", "2025", "--period", "quarter", "--method", "growth",
                "--growth", "0.1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "at or above quota" in proc.stdout and "total quota" in proc.stdout
    lines = out.read_text().splitlines()
    assert lines[0] == "rep_id,period_start,quota"
    quotas = load_quotas(out)
    assert set(quotas["period_start"].dt.month) == {1, 4, 7, 10}
    plan = load_plan("""\
plan: Plain 2025
currency: USD
year_start: 2025-01-01
period: quarter
components:
  - id: commission
    type: commission
    attainment: period
    tiers:
      method: marginal
      bands:
        - {from: 0.0, rate: 0.05}
""")
    inputs = load_inputs(sample / "deals.csv", quotas=out, roster=sample / "roster.csv",
                         fx=sample / "fx.csv")
    result = calculate(plan, inputs)
    att = result.attainment
    merged = att.merge(quotas, on=["rep_id", "period_start"], suffixes=("", "_file"))
    assert len(merged) == len(quotas)
    assert (merged["quota_cents"] == merged["quota_cents_file"]).all()


def test_share_parquet_sums_to_target(sample, tmp_path):
    import pandas as pd

    out = tmp_path / "q.parquet"
    proc = _run("--history", str(sample / "deals.csv"), "--year", "2025", "--period", "month",
                "--method", "share", "--target", "1000000.01", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    frame = pd.read_parquet(out)
    cents = (frame["quota"].str.replace(".", "", regex=False).astype(int)).sum()
    assert cents == 100_000_001


@pytest.mark.notebook
def test_quota_report_renders_notebook(sample, tmp_path):
    import json

    out = tmp_path / "report"
    proc = subprocess.run([sys.executable, "-m", "spmkit.cli", "quota-report",
                           "--history", str(sample / "deals.csv"),
                           "--roster", str(sample / "roster.csv"), "--year", "2025",
                           "--method", "growth", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "metrics.json").read_text())["proposal"]
    assert metrics["method"] == "growth" and metrics["reps"] > 0
    html = (out / "report.html").read_text()
    assert "Health checks" in html and "Fairness across regions" in html
    assert "<img" in html  # the forecast and bands figures


def test_committed_notebook_has_no_outputs():
    import json

    nb = json.loads((Path(__file__).resolve().parent.parent / "notebooks"
                     / "quota_setting.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code[0]["metadata"].get("tags") == ["parameters"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)


def test_default_quotas_give_a_late_month_hire_a_quota_in_the_hire_period(tmp_path):
    """A rep hired on 27 March who closes a deal on 29 March has Q1 credit. The default
    (days) proration gives Q1 a quota (5 of 90 days), so the engine can measure it; under
    the mid-month rule Q1 would be 0 and `spmkit calc` would refuse the data."""
    import pandas as pd

    from spmkit.payout import calculate
    from spmkit.plan import load_plan
    from spmkit.tables import load_inputs

    hist = tmp_path / "deals.csv"
    rows = ["deal_id,rep_id,close_date,amount"]
    rows += [f"H{i},A,2024-{m:02d}-10,10000.00" for i, m in enumerate(range(1, 13))]
    rows += ["N1,N,2025-03-29,5000.00", "A1,A,2025-02-01,20000.00"]
    hist.write_text("\n".join(rows) + "\n", encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("rep_id,name,region,hire_date,target_incentive\n"
                      "A,Ann,East,2020-01-01,20000\nN,Ned,East,2025-03-27,20000\n",
                      encoding="utf-8")
    out = tmp_path / "q.csv"
    proc = _run("--history", str(hist), "--roster", str(roster), "--year", "2025",
                "--period", "quarter", "--method", "growth", "--phasing", "even", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    quotas = pd.read_csv(out, dtype=str)
    ned = quotas[quotas["rep_id"] == "N"].set_index("period_start")["quota"]
    assert float(ned["2025-01-01"]) > 0
    plan = load_plan("plan: T\nyear_start: 2025-01-01\nperiod: quarter\ncomponents:\n"
                     "  - id: c\n    type: commission\n    tiers:\n      bands:\n"
                     "        - {from: 0, rate: 0.05}\n        - {from: 1, rate: 0.1}\n")
    result = calculate(plan, load_inputs(str(hist), str(out), str(roster)))
    assert result.summary["payees"] == 2


def test_quota_report_backtests_the_plan_year_with_rollup_quotas(sample, tmp_path):
    """``quota-report --history-year`` (the plan year itself) and ``--rollup`` reach the
    notebook: its metrics say the history is 2025 and managers carry their team's quota."""
    import json

    out = tmp_path / "report"
    proc = subprocess.run([sys.executable, "-m", "spmkit.cli", "quota-report",
                           "--history", str(sample / "deals.csv"),
                           "--roster", str(sample / "roster.csv"), "--year", "2025",
                           "--history-year", "2025", "--rollup",
                           "--method", "growth", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    settings = json.loads((out / "metrics.json").read_text())["_provenance"]["settings"]
    assert settings["history_year"] == 2025 and settings["rollup"] is True
