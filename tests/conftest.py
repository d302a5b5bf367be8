"""Shared fixtures: a small generated data folder, plan files, and executed reports.

Notebook executions are slow, so each report is run once per session and shared by every
test that reads it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Monte Carlo draws and seed used by the shared reports (small, for speed).
REPORT_DRAWS = 200
REPORT_SEED = 11

PLANS = {
    "baseline.yaml": """\
plan: Baseline 2025
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
        - {from: 0.0, bcr_multiple: 1.0}
        - {from: 1.0, bcr_multiple: 1.5}
""",
    "accelerator.yaml": """\
plan: Steeper accelerator
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
        - {from: 0.0, bcr_multiple: 0.8}
        - {from: 1.0, bcr_multiple: 2.0}
        - {from: 1.5, bcr_multiple: 2.5}
    cap: {ti_multiple: 3}
""",
    "bonus.yaml": """\
plan: Commission plus bonus
currency: USD
year_start: 2025-01-01
period: quarter
components:
  - id: commission
    type: commission
    weight: 0.7
    attainment: ytd
    tiers:
      bands:
        - {from: 0.0, bcr_multiple: 1.0}
  - id: bonus
    type: bonus
    weight: 0.3
    attainment: period
    curve: [[0.5, 0.0], [1.0, 1.0], [1.5, 2.0]]
""",
    "bad.yaml": """\
plan: Broken
currency: USD
year_start: 2025-01-01
period: fortnight
components: []
""",
}


def run_cli(*args: str | Path, cwd: str | Path | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m spmkit.cli ARGS`` as a subprocess and capture its output."""
    return subprocess.run([sys.executable, "-m", "spmkit.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout)


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sample org (30 reps, 2024-2025, seed 3) whose rep R003 has a hostile name
    (HTML and a script tag), written as CSV files."""
    from spmkit.sample import write_sample

    out = tmp_path_factory.mktemp("sample") / "data"
    write_sample(out, reps=30, years=2, seed=3, hostile_names=True)
    return out


@pytest.fixture(scope="session")
def plan_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Plan files for plan year 2025: ``baseline``, ``accelerator``, ``bonus`` and an
    invalid ``bad`` plan; keyed by file stem."""
    folder = tmp_path_factory.mktemp("plans")
    paths = {}
    for name, text in PLANS.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths[path.stem] = path
    return paths


def _report(tmp_path_factory: pytest.TempPathFactory, sample_data: Path,
            plan_files: dict[str, Path], audience: str) -> tuple[Path, subprocess.CompletedProcess]:
    # relative paths, as `make demo` passes them: the kernel runs in another folder
    where = tmp_path_factory.mktemp(f"report-{audience}")
    out = where / "out"
    proc = run_cli("report", "--data", os.path.relpath(sample_data, where),
                   "--baseline", plan_files["baseline"],
                   "--scenarios", plan_files["accelerator"], plan_files["bonus"],
                   "--out", "out", "--audience", audience, "--draws", str(REPORT_DRAWS),
                   "--seed", str(REPORT_SEED), cwd=where)
    assert proc.returncode == 0, proc.stderr
    return out, proc


@pytest.fixture(scope="session")
def executive_report(tmp_path_factory, sample_data, plan_files):
    """``spmkit report --audience executive`` run once: (out folder, completed process)."""
    return _report(tmp_path_factory, sample_data, plan_files, "executive")


@pytest.fixture(scope="session")
def analyst_report(tmp_path_factory, sample_data, plan_files):
    """``spmkit report --audience analyst`` run once: (out folder, completed process)."""
    return _report(tmp_path_factory, sample_data, plan_files, "analyst")


#: Debian's Chromium, driven by Playwright (a test tool's own browser download fails here).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium. Skipped when it is missing, unless SPMKIT_REQUIRE_BROWSER=1 (then
    the test fails: CI sets it, so a missing browser cannot pass silently)."""
    if not CHROMIUM.exists():
        if os.environ.get("SPMKIT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and SPMKIT_REQUIRE_BROWSER=1")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
