"""spmkit.mapping: one mapping format for your own files (docs/mapping.md).

Hand-made source files with known rows; every count and value is checked against what
the rows say, and every error names the mapping file, the key and the source file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from spmkit.errors import InputError
from spmkit.mapping import apply_mapping, load_mapping, mapped_sources
from spmkit.tables import load_inputs

PIPELINE = """\
opportunity_id,sales_agent,product,deal_stage,close_date,close_value
O1,ann,GTXPro,Won,2017-03-05,100
O2,ann,GTX Pro,Won,2017-04-05,200
O3,bob,GTX Pro,Lost,2017-04-06,0
O4,bob,MG Special,Engaging,,
O5,cat,GTXPro,Won,2017-05-01,50.5
"""
TEAMS = """\
sales_agent,manager,regional_office
ann,Mo,West
bob,Mo,West
cat,Ned,East
"""


def _write(tmp_path: Path, mapping: str) -> Path:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "pipeline.csv").write_text(PIPELINE, encoding="utf-8")
    (tmp_path / "src" / "teams.csv").write_text(TEAMS, encoding="utf-8")
    path = tmp_path / "map.yaml"
    path.write_text(mapping, encoding="utf-8")
    return path


CRM = """\
deals:
  file: src/pipeline.csv
  columns: {deal_id: opportunity_id, rep_id: sales_agent, close_date: close_date,
            amount: close_value, product: product}
  where: {deal_stage: [Won]}
  values: {product: {GTXPro: GTX Pro}}
  defaults: {currency: USD}
roster:
  file: src/teams.csv
  columns: {rep_id: sales_agent, name: sales_agent, manager_id: manager,
            region: regional_office}
  defaults: {role: AE}
  managers: {role: Manager}
  target_incentive: {by_role: {AE: 50000, Manager: 80000.50}}
"""


def test_the_crm_example_keeps_recodes_and_adds_managers(tmp_path):
    tables, report = apply_mapping(_write(tmp_path, CRM))
    deals, roster = tables["deals"], tables["roster"]
    assert deals["deal_id"].tolist() == ["O1", "O2", "O5"]  # the Won rows only
    assert deals["product"].tolist() == ["GTX Pro"] * 3  # GTXPro recoded twice
    assert deals["currency"].tolist() == ["USD"] * 3
    assert roster["rep_id"].tolist() == ["ann", "bob", "cat", "Mo", "Ned"]
    assert roster["role"].tolist() == ["AE", "AE", "AE", "Manager", "Manager"]
    assert roster["manager_id"].tolist() == ["Mo", "Mo", "Ned", "", ""]
    assert roster["region"].tolist() == ["West", "West", "East", "West", "East"]
    assert roster["target_incentive"].tolist() == ["50000"] * 3 + ["80000.5"] * 2
    d, r = report.tables
    assert (d.rows_read, d.rows_kept) == (5, 3)
    assert d.dropped == [("deal_stage", 2, {"Lost": 1, "Engaging": 1})]
    assert d.recoded == [("product", "GTXPro", "GTX Pro", 2)]
    assert r.managers_added == 2 and r.target_incentives == 5
    assert report.warnings == []
    # the tables load as spmkit's: amounts exact, the managers in the tree
    inputs = load_inputs(deals, None, roster)
    assert inputs.deals["amount_cents"].tolist() == [10000, 20000, 5050]
    assert inputs.roster["target_incentive_cents"].tolist()[-1] == 8000050


def test_where_and_values_that_match_nothing_warn(tmp_path):
    path = _write(tmp_path, CRM.replace("[Won]", "[Won, won]").replace(
        "GTXPro: GTX Pro", "GTXPro: GTX Pro, GTX-Pro: GTX Pro"))
    _, report = apply_mapping(path)
    assert len(report.warnings) == 2
    assert "deals.where.deal_stage: no row of pipeline.csv has 'won'" in report.warnings[0]
    assert "deals.values.product: no row of pipeline.csv has 'GTX-Pro'" in report.warnings[1]


@pytest.mark.parametrize("edit, key, says", [
    (("sales_agent, close_date", "owner, close_date"), "deals.columns.rep_id",
     "pipeline.csv has no column 'owner'"),
    (("deal_stage: [Won]", "stage: [Won]"), "deals.where.stage",
     "pipeline.csv has no column 'stage' to select rows by"),
    (("file: src/teams.csv", "file: src/nope.csv"), "roster.file", "not found"),
    (("values: {product:", "values: {region:"), "deals.values.region", "no column 'region'"),
    (("Manager: 80000.50", "Boss: 80000"), "roster.target_incentive.by_role",
     "role 'Manager' (2 roster rows) has no amount"),
    (("AE: 50000", "AE: lots"), "roster.target_incentive.by_role.AE", "'lots' is not an amount"),
])
def test_errors_name_the_mapping_the_key_and_the_source(tmp_path, edit, key, says):
    path = _write(tmp_path, CRM.replace(*edit))
    with pytest.raises(InputError) as err:
        apply_mapping(path)
    text = str(err.value)
    assert str(path) in text and key in text and says in text


@pytest.mark.parametrize("text, says", [
    ("deal:\n  file: x.csv\n", "unknown table 'deal'"),
    ("deals:\n  file: x.csv\n  colums: {a: b}\n", "unknown key 'colums'"),
    ("deals:\n  columns: {a: b}\n", "deals.file"),
    ("deals:\n  file: x.csv\n  where: {won: [yes]}\n", "quote yes/no"),
    ("- a\n", "a mapping names tables"),
])
def test_the_schema_refuses_unknown_keys_and_bad_values(tmp_path, text, says):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="m.yaml") as err:
        load_mapping(path)
    assert says in str(err.value)


def test_without_columns_the_file_is_taken_as_it_is(tmp_path):
    (tmp_path / "deals.csv").write_text("deal_id,rep_id,close_date,amount\nD1,a,2026-01-02,5\n")
    path = tmp_path / "m.yaml"
    path.write_text("deals: {file: deals.csv, defaults: {currency: EUR}}\n")
    tables, _ = apply_mapping(path)
    assert tables["deals"].to_dict("records") == [
        {"deal_id": "D1", "rep_id": "a", "close_date": "2026-01-02", "amount": "5",
         "currency": "EUR"}]


def test_a_default_fills_the_blanks_of_a_mapped_column(tmp_path):
    (tmp_path / "r.csv").write_text("id,role\na,AE\nb,\n")
    path = tmp_path / "m.yaml"
    path.write_text("roster: {file: r.csv, columns: {rep_id: id, role: role}, "
                    "defaults: {role: SDR}}\n")
    tables, report = apply_mapping(path)
    assert tables["roster"]["role"].tolist() == ["AE", "SDR"]
    assert report.tables[0].filled == [("role", "SDR", 1)]


def test_a_table_given_both_ways_is_an_error(tmp_path):
    path = _write(tmp_path, CRM)
    with pytest.raises(InputError, match="comes from the mapping and from --deals"):
        mapped_sources(path, {"deals": "x.csv"})
    src, _ = mapped_sources(path, {"quotas": "q.csv", "fx": None})
    assert set(src) == {"deals", "roster", "quotas"}
    assert isinstance(src["deals"], pd.DataFrame) and src["quotas"] == "q.csv"
