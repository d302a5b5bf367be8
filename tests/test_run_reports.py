"""``spmkit run-reports``: a manifest of named reports into a dated folder with an index."""

from __future__ import annotations

import shutil
from datetime import date

from conftest import run_cli


def test_one_good_one_bad_report(tmp_path, sample_data, plan_files):
    # paths in the manifest are relative to it
    shutil.copytree(sample_data, tmp_path / "data")
    (tmp_path / "plans").mkdir()
    shutil.copy(plan_files["baseline"], tmp_path / "plans" / "baseline.yaml")
    shutil.copy(plan_files["accelerator"], tmp_path / "plans" / "accelerator.yaml")
    shutil.copy(plan_files["bad"], tmp_path / "plans" / "bad<i>.yaml")
    manifest = tmp_path / "reports.yaml"
    manifest.write_text(
        "out: published\n"
        "reports:\n"
        "  - name: good\n"
        "    data: data\n"
        "    baseline: plans/baseline.yaml\n"
        "    scenarios: [plans/accelerator.yaml]\n"
        "    draws: 50\n"
        "  - name: broken\n"
        "    data: data\n"
        "    baseline: plans/baseline.yaml\n"
        "    scenarios: ['plans/bad<i>.yaml']\n"
        "    audience: analyst\n",
        encoding="utf-8")
    proc = run_cli("run-reports", manifest, "--date", "2026-01-31")
    assert proc.returncode == 1, proc.stderr
    day = tmp_path / "published" / "2026-01-31"
    assert (day / "good" / "report.html").is_file()
    assert (day / "good" / "metrics.json").is_file()
    assert not (day / "broken").exists()
    index = (day / "index.html").read_text(encoding="utf-8")
    assert proc.stdout.strip().splitlines()[-1] == str(day / "index.html")
    assert '<a href="good/report.html">good</a>' in index
    assert '<td class="status">ok</td>' in index and '<td class="status">failed</td>' in index
    assert "bad&lt;i&gt;.yaml" in index and "<i>" not in index  # error text escaped
    assert "broken" in proc.stderr


def test_bad_manifest_exits_2_and_writes_nothing(tmp_path):
    manifest = tmp_path / "reports.yaml"
    manifest.write_text("reports:\n  - name: x\n    data: d\n    baseline: b.yaml\n"
                        "    scenaros: []\n", encoding="utf-8")
    proc = run_cli("run-reports", manifest, "--date", "2026-01-31")
    assert proc.returncode == 2
    assert "unknown key 'scenaros'" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports.yaml"]


def cli(capsys, *args) -> tuple[int, str, str]:
    """``spmkit ARGS`` in this process (the report modules are slow to import)."""
    from spmkit.cli import main

    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def _manifest(folder, body: str):
    manifest = folder / "reports.yaml"
    manifest.write_text(body, encoding="utf-8")
    return manifest


def test_an_out_outside_the_manifest_folder_is_refused_unless_allowed(tmp_path, capsys):
    home = tmp_path / "team"
    home.mkdir()
    manifest = _manifest(home, "out: ../elsewhere\n"
                               "reports:\n"
                               "  - {name: a, data: data, baseline: b.yaml}\n"
                               "  - {name: b, data: data, baseline: b.yaml, out: /tmp/x/..}\n")
    status, _, err = cli(capsys, "run-reports", manifest, "--date", "2026-01-31")
    assert status == 2, err
    assert "reports.yaml, out: out '../elsewhere' lies outside" in err
    assert "reports.yaml, reports[1].out: out '/tmp/x/..' lies outside" in err
    assert "--allow-outside" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["team"]
    assert sorted(p.name for p in home.iterdir()) == ["reports.yaml"]
    # with the flag the reports run (and fail here: there is no data) into ../elsewhere
    manifest.write_text("out: ../elsewhere\n"
                        "reports: [{name: a, data: data, baseline: b.yaml}]\n", encoding="utf-8")
    status, _, err = cli(capsys, "run-reports", manifest, "--date", "2026-01-31",
                         "--allow-outside")
    assert status == 1, err
    assert (tmp_path / "elsewhere" / "2026-01-31" / "index.html").is_file()
    assert not (tmp_path / "elsewhere" / "2026-01-31" / "a").exists()


def test_a_manifest_that_is_not_utf8_is_one_message(tmp_path, capsys):
    manifest = tmp_path / "reports.yaml"
    manifest.write_bytes("out: r\u00e9sultats\nreports: []\n".encode("latin-1"))
    status, _, err = cli(capsys, "run-reports", manifest, "--date", "2026-01-31")
    assert status == 2, err
    assert err == (f"spmkit run-reports: error: {manifest}: not UTF-8 text (byte 0xe9 at "
                   "offset 6); save the manifest as UTF-8\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports.yaml"]


def test_a_report_that_fails_while_writing_leaves_no_empty_folders(tmp_path, monkeypatch):
    """A report with its own ``out:`` root fails inside its notebook run: its dated folder
    (and the root made for it) must not be left behind; the index lists the failure."""
    from spmkit.errors import SpmkitError
    from spmkit.outputs import atomic_dir
    from spmkit.report import runs

    def failing_notebook(notebook, params, out_dir, **kw):
        with atomic_dir(out_dir) as stage:
            (stage / "report.html").write_text("half", encoding="utf-8")
            raise SpmkitError("notebook scenario_report.ipynb: failed in cell [3]: boom")

    monkeypatch.setattr(runs, "validate_report_inputs", lambda *a, **k: ["x"])
    # the report is built (inputs checked, plans credited) before the notebook runs
    monkeypatch.setattr("spmkit.report.compose.build_from_files", lambda *a, **k: None)
    monkeypatch.setattr(runs, "run_notebook", failing_notebook)
    manifest = _manifest(tmp_path, "out: published\n"
                                   "reports:\n"
                                   "  - {name: own, data: d, baseline: b.yaml, out: own-root}\n")
    index, outcomes = runs.run_manifest(manifest, run_date=date(2026, 1, 31))
    assert [o.status for o in outcomes] == ["failed"]
    assert not (tmp_path / "own-root").exists()
    assert sorted(p.name for p in (tmp_path / "published" / "2026-01-31").iterdir()) == [
        "index.html"]
    assert "boom" in index.read_text(encoding="utf-8")
