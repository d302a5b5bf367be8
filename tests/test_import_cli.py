"""``spmkit import`` as a subprocess: the canonical folder written all or nothing, the
counts printed, errors naming the mapping, --strict on warnings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
from crm_fixture import write_crm


def _run(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spmkit.cli", "import", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=120)


def test_import_writes_the_folder_the_loaders_read(tmp_path):
    mapping = write_crm(tmp_path / "crm", rows=30)
    result = _run("--mapping", mapping, "--out", "data", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    pipeline = pd.read_csv(tmp_path / "crm" / "sales_pipeline.csv", dtype=str)
    stages = pipeline["deal_stage"].value_counts()
    lines = result.stdout.splitlines()
    assert lines[0] == f"deals: sales_pipeline.csv: 30 rows read, {stages['Won']} kept"
    assert lines[1].startswith(f"  dropped {30 - stages['Won']} rows by where 'deal_stage' (")
    assert f"Lost {stages['Lost']}" in lines[1]
    assert sorted(p.name for p in (tmp_path / "data").glob("*.csv")) == ["deals.csv",
                                                                         "roster.csv"]
    from spmkit.tables import load_inputs

    inputs = load_inputs(tmp_path / "data" / "deals.csv", None, tmp_path / "data" / "roster.csv")
    assert len(inputs.deals) == stages["Won"]
    managers = inputs.roster[inputs.roster["role"] == "Manager"]
    assert sorted(managers["rep_id"]) == ["Mia Mgr", "Ned Nash"]
    assert set(managers["target_incentive_cents"]) == {8_000_000}


def test_a_bad_mapping_writes_nothing_and_names_the_file(tmp_path):
    mapping = write_crm(tmp_path / "crm", rows=10)
    mapping.write_text(mapping.read_text().replace("close_value", "value"))
    result = _run("--mapping", mapping, "--out", "data", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"spmkit import: error: {mapping}, deals.columns.amount: sales_pipeline.csv has no "
        "column 'value' (columns found: opportunity_id, sales_agent, product, account, "
        "deal_stage, engage_date, close_date, close_value)")
    assert not (tmp_path / "data").exists()


def test_warnings_and_strict(tmp_path):
    mapping = write_crm(tmp_path / "crm", rows=10)
    mapping.write_text(mapping.read_text().replace("[Won]", "[Won, Closed Won]"))
    result = _run("--mapping", mapping, "--out", "data", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr.startswith(f"spmkit import: warning: {mapping}: deals.where.deal_stage"
                                    ": no row of sales_pipeline.csv has 'Closed Won'")
    strict = _run("--mapping", mapping, "--out", "other", "--strict", cwd=tmp_path)
    assert strict.returncode == 2 and not (tmp_path / "other").exists()


PLAN = """\
plan: CRM 2017
year_start: 2017-01-01
period: quarter
credit: rollup
components:
  - id: commission
    type: commission
    tiers:
      method: marginal
      bands: [{from: 0, rate: 0.1}]
"""


def _spmkit(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spmkit.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_quota_and_calc_take_the_mapping_itself(tmp_path):
    mapping = write_crm(tmp_path / "crm", rows=40)
    (tmp_path / "plan.yaml").write_text(PLAN, encoding="utf-8")
    quota = _spmkit("quota", "--mapping", mapping, "--year", "2017", "--history-year", "2017",
                    "--method", "growth", "--rollup", "--phasing", "even", "--out", "q.csv",
                    cwd=tmp_path)
    assert quota.returncode == 0, quota.stderr
    assert {"Mia Mgr", "Ned Nash"} <= set(pd.read_csv(tmp_path / "q.csv")["rep_id"])
    by_mapping = _spmkit("calc", "--plan", "plan.yaml", "--mapping", mapping, "--quotas",
                         "q.csv", "--out", "out1", cwd=tmp_path)
    assert by_mapping.returncode == 0, by_mapping.stderr
    # the same run on the imported folder pays the same
    assert _spmkit("import", "--mapping", mapping, "--out", "data", cwd=tmp_path).returncode == 0
    by_folder = _spmkit("calc", "--plan", "plan.yaml", "--deals", "data/deals.csv",
                        "--roster", "data/roster.csv", "--quotas", "q.csv", "--out", "out2",
                        cwd=tmp_path)
    assert by_folder.returncode == 0, by_folder.stderr
    assert by_mapping.stdout.splitlines()[0] == by_folder.stdout.splitlines()[0]
    assert "total payout" in by_mapping.stdout.splitlines()[0]


def test_a_table_from_the_mapping_and_an_option_is_an_error(tmp_path):
    mapping = write_crm(tmp_path / "crm", rows=10)
    (tmp_path / "plan.yaml").write_text(PLAN, encoding="utf-8")
    (tmp_path / "d.csv").write_text("deal_id,rep_id,close_date,amount\n")
    twice = _spmkit("validate", "--plan", "plan.yaml", "--mapping", mapping, "--deals", "d.csv",
                    "--quotas", "q.csv", cwd=tmp_path)
    assert twice.returncode == 2
    assert "the deals table comes from the mapping and from --deals" in twice.stderr
    none = _spmkit("validate", "--plan", "plan.yaml", "--deals", "d.csv", cwd=tmp_path)
    assert none.returncode == 2 and "no quotas table: give --quotas FILE" in none.stderr


def test_a_manifest_report_needs_data_or_a_mapping(tmp_path):
    from spmkit.report.runs import load_manifest, run_manifest

    (tmp_path / "reports.yaml").write_text(
        "reports:\n  - {name: crm, mapping: crm/crm.yaml, baseline: plan.yaml}\n"
        "  - {name: none, baseline: plan.yaml}\n", encoding="utf-8")
    manifest = load_manifest(tmp_path / "reports.yaml")
    assert manifest.reports[0].mapping == "crm/crm.yaml" and manifest.reports[0].data is None
    _, outcomes = run_manifest(tmp_path / "reports.yaml")
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert "crm.yaml" in outcomes[0].error  # the mapping file is missing: named
    assert "a report needs 'data' (a folder), 'mapping' (a mapping file) or both" in \
        outcomes[1].error
