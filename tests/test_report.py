"""``spmkit report``: the scenario report notebook, its HTML, metrics and workbook.

The executed reports are session fixtures (tests/conftest.py): one executive and one
analyst run of ``spmkit report`` as a subprocess on a small generated org with a hostile
rep name; every assertion below reads them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from conftest import REPORT_DRAWS, REPORT_SEED, ROOT, run_cli

from spmkit.errors import SpmkitError
from spmkit.report import html as report_html
from spmkit.report import tables as fmt
from spmkit.report.notebook import json_safe, shipped_notebook, shipped_notebooks
from spmkit.report.runs import load_manifest

DATA_URI = re.compile(r"data:[a-z0-9.+/-]+;base64,[A-Za-z0-9+/=]+")


def _text(path: Path) -> str:
    """A file's text with embedded images removed (base64 could spell anything)."""
    return DATA_URI.sub("", path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def library_comparison(sample_data, plan_files):
    """The same comparison computed in-process with the library."""
    from spmkit.plan import load_plan
    from spmkit.scenario import compare
    from spmkit.tables import load_data_dir

    inputs = load_data_dir(sample_data)
    plans = [load_plan(plan_files[k]) for k in ("baseline", "accelerator", "bonus")]
    return compare(plans[0], plans[1:], inputs, draws=REPORT_DRAWS, seed=REPORT_SEED)


# --- pure presentation helpers (no kernel) ---------------------------------------------

def test_money_and_pct_format_hand_examples():
    assert fmt.money(123456) == "1,234.56"
    assert fmt.money(-5) == "-0.05"
    assert fmt.money(0) == "0.00"
    assert fmt.money(100_000_000_00) == "100,000,000.00"
    assert fmt.money(1234.5) == "12.35"  # float cents: half away from zero
    assert fmt.money(-1234.5) == "-12.35"
    assert fmt.money(float("nan")) == ""
    assert fmt.pct(0.1234) == "12.3%"
    assert fmt.pct(1.5, 0) == "150%"
    assert fmt.pct(None) == ""


def test_format_frame_turns_cents_and_shares_into_text():
    frame = pd.DataFrame({"plan": ["A"], "total_payout_cents": [250_000_00],
                          "cost_of_sales": [0.0825], "reps": [12]})
    out = fmt.format_frame(frame)
    assert out.to_dict("records") == [{"Plan": "A", "Total payout": "250,000.00",
                                        "Cost of sales": "8.2%", "Reps": "12"}]
    assert frame["total_payout_cents"].iloc[0] == 250_000_00  # input untouched


def test_suppress_small_groups_hides_groups_under_five():
    seg = pd.DataFrame({"segment": ["big", "small", "edge"], "reps": [12, 4, 5]})
    kept, hidden = fmt.suppress_small_groups(seg, min_reps=5)
    # one group hidden alone could be worked out from the total: the smallest shown goes too
    assert kept["segment"].tolist() == ["big"]
    assert hidden == 2
    two = pd.DataFrame({"segment": ["big", "s1", "s2", "edge"], "reps": [12, 4, 2, 5]})
    kept, hidden = fmt.suppress_small_groups(two, min_reps=5)
    assert kept["segment"].tolist() == ["big", "edge"] and hidden == 2
    per_plan = pd.DataFrame({"plan": ["A", "A", "A", "B", "B", "B"], "by": ["region"] * 6,
                             "segment": ["x", "y", "z"] * 2, "reps": [9, 6, 3, 9, 6, 7]})
    kept, hidden = fmt.suppress_small_groups(per_plan, min_reps=5)
    assert kept[["plan", "segment"]].values.tolist() == [
        ["A", "x"], ["B", "x"], ["B", "y"], ["B", "z"]]


def test_escape_markdown_shows_names_as_written():
    assert fmt.escape_markdown("<b>A</b> *x*") == r"&lt;b&gt;A&lt;/b&gt; \*x\*"


def test_html_table_escapes_and_marks_numbers():
    frame = pd.DataFrame({"Name": ["<script>x</script>"], "Payout": ["1,234.56"]})
    table = fmt.html_table(frame)
    assert "<td>&lt;script&gt;x&lt;/script&gt;</td>" in table
    assert '<td class="num">1,234.56</td>' in table and "<script>" not in table


def test_decision_paragraph_hand_example():
    headline = pd.DataFrame({
        "plan": ["Base", "Rich"], "total_payout_cents": [100_000_00, 110_000_00],
        "delta_cents": [0, 10_000_00], "delta_pct": [0.0, 0.1], "cost_of_sales": [0.05, 0.055],
        "share_at_or_above_100": [0.6, 0.6],
        "p10_cents": [90_000_00, 95_000_00], "p90_cents": [120_000_00, 130_000_00]})
    text = fmt.decision_paragraph(headline, baseline="Base")
    assert "**Base** the plan pays **100,000.00**, a cost of sales of 5.0%" in text
    assert "**Rich** would pay **110,000.00**, 10,000.00 more than the baseline (+10.0%)" in text
    assert "least costly option is **Base**" in text
    assert "Rich 95,000.00 to 130,000.00" in text


def test_wide_bands_and_sensitivity_tables():
    bands = pd.DataFrame({"plan": ["A", "A", "B", "B"], "band": ["<50%", ">=150%"] * 2,
                          "reps": [1, 3, 2, 2], "share": [0.25, 0.75, 0.5, 0.5]})
    wide = fmt.bands_table(bands, [">=150%", "<50%"])
    assert wide.to_dict() == {"A": {">=150%": "3 (75.0%)", "<50%": "1 (25.0%)"},
                              "B": {">=150%": "2 (50.0%)", "<50%": "2 (50.0%)"}}
    sens = pd.DataFrame({"plan": ["A", "A"], "sales_change": [-0.1, 0.1],
                         "total_payout_cents": [900_00, 1_100_00],
                         "revenue_cents": [9_000_00, 11_000_00], "cost_of_sales": [0.1, 0.1]})
    assert fmt.sensitivity_table(sens).to_dict() == {
        "A": {"-10%": "900.00 (10.0%)", "+10%": "1,100.00 (10.0%)"}}


def test_clean_html_keeps_tables_and_png_drops_scripts():
    dirty = ('<table><tr><td onclick="x()">1</td></tr></table><script>alert(1)</script>'
             '<img src="data:image/png;base64,AAAA" onerror="steal()">'
             '<img src="data:text/html;base64,AAAA"><a href="javascript:go()">j</a>')
    clean = report_html.clean_html(dirty)
    assert "<table>" in clean and "<td>1</td>" in clean
    assert '<img src="data:image/png;base64,AAAA">' in clean
    for bad in ("<script", "alert(1)", "onclick", "onerror", "javascript:", "data:text/html"):
        assert bad not in clean


def test_index_html_escapes_names_and_errors():
    page = report_html.index_html("t", [
        {"name": "ok<b>", "status": "ok", "link": "a/report.html", "error": ""},
        {"name": "bad", "status": "failed", "link": "", "error": "<script>alert(1)</script>"},
    ])
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="a/report.html"' in page and "ok&lt;b&gt;" in page


def test_json_safe_converts_paths_dates_and_numpy():
    import datetime as dt

    import numpy as np

    assert json_safe({"p": Path("/a"), "d": dt.date(2025, 1, 2), "n": np.int64(3),
                      "l": (1, 2)}) == {"p": "/a", "d": "2025-01-02", "n": 3, "l": [1, 2]}


def test_shipped_notebook_found_and_only_shipped_names_accepted():
    path = shipped_notebook("scenario_report.ipynb")
    assert path == ROOT / "notebooks" / "scenario_report.ipynb"
    assert "scenario_report.ipynb" in shipped_notebooks()
    for bad in ("../notebooks/scenario_report.ipynb", str(path), "nope.ipynb", "x.py", ""):
        with pytest.raises(SpmkitError):
            shipped_notebook(bad)


def test_notebook_committed_clean_with_documented_parameters():
    import papermill

    path = ROOT / "notebooks" / "scenario_report.ipynb"
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    params = papermill.inspect_notebook(str(path))
    for name in ("data_dir", "baseline", "scenarios", "audience", "metrics_path", "draws",
                 "seed", "title"):
        assert name in params and params[name]["help"], name


def test_manifest_unknown_key_is_named(tmp_path):
    path = tmp_path / "reports.yaml"
    path.write_text("reports:\n  - name: a\n    data: d\n    baseline: b.yaml\n"
                    "    colour: red\n", encoding="utf-8")
    with pytest.raises(SpmkitError, match=r"reports\[0\].*unknown key 'colour'"):
        load_manifest(path)
    path.write_text("out: r\nreports: []\nextra: 1\n", encoding="utf-8")
    with pytest.raises(SpmkitError, match="unknown key 'extra'"):
        load_manifest(path)


# --- the executed reports ---------------------------------------------------------------

def test_report_prints_html_path_and_writes_every_file(executive_report):
    out, proc = executive_report
    assert proc.stdout.strip().splitlines()[-1] == str(out / "report.html")
    for name in ("report.html", "report.ipynb", "metrics.json", "tables.xlsx"):
        assert (out / name).is_file(), name
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no staging left


@pytest.mark.parametrize("which", ["executive_report", "analyst_report"])
def test_html_has_no_code_cells_no_parameters_no_scripts(which, request, sample_data):
    out, _ = request.getfixturevalue(which)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page  # not even the template's own (the page loads nothing)
    body = page.split("<body", 1)[1]  # the stylesheet names these classes; the body must not
    for marker in ("jp-InputArea", "jp-InputPrompt", "jp-OutputPrompt", "In&nbsp;[",
                   "injected-parameters", "metrics_path", "data_dir", "import ",
                   "comparison"):
        assert marker not in body, marker
    assert str(sample_data) not in page  # the parameters' values are not shown either


@pytest.mark.parametrize("which", ["executive_report", "analyst_report"])
def test_html_shows_figures_and_names_every_plan(which, request):
    out, _ = request.getfixturevalue(which)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('<img src="data:image/png') >= 6
    for name in ("Baseline 2025", "Steeper accelerator", "Commission plus bonus"):
        assert name in page
    for heading in ("The decision", "Headline", "Segments", "Risk", "Method and data"):
        assert f">{heading}<" in page, heading


def test_metrics_equal_the_library_comparison(executive_report, library_comparison):
    out, _ = executive_report
    written = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    provenance = written.pop("_provenance")
    # what an executive may see of the library's numbers (hidden figures are None)
    expected = json.loads(json.dumps(fmt.report_tables(library_comparison,
                                                       "executive").metrics))
    assert written == expected
    assert list(written) == sorted(library_comparison.plans)
    totals = library_comparison.headline.set_index("plan")["total_payout_cents"]
    for plan, cents in totals.items():
        assert written[plan]["total_payout"] == pytest.approx(int(cents) / 100, abs=0.001)
    assert provenance["seed"] == REPORT_SEED and provenance["draws"] == REPORT_DRAWS
    assert provenance["rows"]["deals"] > 0
    assert [p["plan"] for p in provenance["plans"]] == list(library_comparison.plans)
    assert all(len(p["sha256"]) == 64 for p in provenance["plans"])


def test_analyst_view_escapes_the_hostile_name(analyst_report):
    out, _ = analyst_report
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in page
    assert "<script>alert" not in page
    assert "Zoë" in page  # rep-level tables are there, names shown as written


def _people(sample_data: Path) -> tuple[list[str], list[str]]:
    roster = pd.read_csv(sample_data / "roster.csv", dtype=str, keep_default_na=False)
    return roster["name"].tolist(), roster["rep_id"].tolist()


def test_executive_view_has_no_rep_names_or_ids(executive_report, sample_data):
    out, _ = executive_report
    names, ids = _people(sample_data)
    nb = nbformat.read(out / "report.ipynb", as_version=4)
    outputs = "\n".join(  # every text an output holds (images are binary, not text)
        str(o.get("text", "")) + "".join(str(v) for k, v in o.get("data", {}).items()
                                          if k.startswith("text/"))
        for c in nb.cells for o in c.get("outputs", []))
    page = _text(out / "report.html")
    for text in (page, outputs):
        for person in names + ids:
            assert person not in text, person
        assert "alert(1)" not in text
    assert "parameters" not in nb.metadata.get("papermill", {})
    # the injected-parameters cell (the run's data and plan paths) is dropped as well
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert str(sample_data) not in nbformat.writes(nb)


def test_executive_hides_groups_under_five_reps(executive_report, analyst_report,
                                                library_comparison):
    seg = library_comparison.segments
    small = set(seg.loc[seg["reps"] < 5, "segment"]) - set(seg.loc[seg["reps"] >= 5, "segment"])
    assert small, "the sample should have a group under five reps"
    executive = _text(executive_report[0] / "report.html")
    analyst = _text(analyst_report[0] / "report.html")
    for group in small:
        assert f">{group}<" not in executive, group
        assert f">{group}<" in analyst, group


def test_workbook_sheets_by_audience(executive_report, analyst_report):
    import openpyxl

    ex = openpyxl.load_workbook(executive_report[0] / "tables.xlsx", read_only=True)
    an = openpyxl.load_workbook(analyst_report[0] / "tables.xlsx", read_only=True)
    assert ex.sheetnames == ["headline", "segments", "bands", "sensitivity", "risk"]
    assert an.sheetnames[:5] == ex.sheetnames and "rep_deltas" in an.sheetnames
    header = [c.value for c in next(ex["headline"].iter_rows(max_row=1))]
    assert "total_payout" in header and "plan" in header


def test_missing_data_dir_exits_2_and_writes_nothing(tmp_path, plan_files):
    out = tmp_path / "out"
    proc = run_cli("report", "--data", tmp_path / "nope", "--baseline", plan_files["baseline"],
                   "--out", out)
    assert proc.returncode == 2
    assert "nope" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists() and proc.stdout == ""


def test_bad_plan_exits_2_and_writes_nothing(tmp_path, sample_data, plan_files):
    out = tmp_path / "out"
    proc = run_cli("report", "--data", sample_data, "--baseline", plan_files["baseline"],
                   "--scenarios", plan_files["bad"], "--out", out)
    assert proc.returncode == 2
    assert "bad.yaml" in proc.stderr and "period" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_failing_cell_becomes_one_error_naming_notebook_and_cell(tmp_path, plan_files):
    """Bypass the command's validation: the notebook itself fails in a cell."""
    from spmkit.report.notebook import run_notebook

    out = tmp_path / "out"
    with pytest.raises(SpmkitError) as info:
        run_notebook("scenario_report.ipynb",
                     {"data_dir": str(tmp_path / "missing"),
                      "baseline": str(plan_files["baseline"]), "scenarios": [], "draws": 10},
                     out)
    message = str(info.value)
    assert message.startswith("notebook scenario_report.ipynb: failed in cell")
    assert "missing" in message and "Traceback" not in message
    assert not out.exists()


def test_baseline_only_report_works(tmp_path, sample_data, plan_files):
    """A report with a baseline and no scenario: the command succeeds and describes it."""
    out = tmp_path / "out"
    proc = run_cli("report", "--data", sample_data, "--baseline", plan_files["baseline"],
                   "--out", out, "--draws", "50")
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert list(metrics) == ["Baseline 2025", "_provenance"]
    assert metrics["Baseline 2025"]["bookings_cents"] > 0
    page = _text(out / "report.html")
    assert "describes the baseline alone" in page
    for heading in ("The decision", "Headline", "Glossary", "Method and data"):
        assert f">{heading}<" in page, heading
