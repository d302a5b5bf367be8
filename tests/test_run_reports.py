"""``spmkit run-reports``: a manifest of named reports into a dated folder with an index."""

from __future__ import annotations

import shutil

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
