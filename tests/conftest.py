"""Shared fixtures: a small generated data folder, plan files, and executed reports.

Notebook executions are slow, so each report is run once per session and shared by every
test that reads it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import strategies as st

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
    "rollup.yaml": """\
plan: Managers on roll-up
currency: USD
year_start: 2025-01-01
period: quarter
credit: rollup
components:
  - id: commission
    type: commission
    tiers:
      bands:
        - {from: 0, rate: 0.02}
  - id: spif
    type: spif
    rollup: true
    filter: {deal_type: [new]}
    window: [2025-01-01, 2025-12-31]
    per_deal: 10
""",
    "running.yaml": """\
plan: Running tiers
currency: USD
year_start: 2025-01-01
period: month
components:
  - id: commission
    type: commission
    attainment: ytd
    tiers:
      scope: running
      method: retroactive
      bands:
        - {from: 0, rate: 0.05}
        - {from: 0.5, rate: 0.08}
        - {from: 1.0, rate: 0.12}
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


# --------------------------------------------------------------------------- PostgreSQL


def _postgres_bin() -> Path | None:
    """The folder of Debian's server binaries (initdb, pg_ctl, postgres), if installed."""
    import shutil

    found = shutil.which("pg_ctl")
    if found and Path(found).resolve().with_name("initdb").exists():
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                      else 0)
    return versions[-1].parent if versions else None


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1:``port``, trust auth, database ``comp``."""

    def __init__(self, bindir: Path, root: Path, port: int, user: str | None):
        self.bindir, self.root, self.port, self.user = bindir, root, port, user
        self.url = f"postgresql://spmkit@127.0.0.1:{port}/comp"

    def table_url(self, table: str) -> str:
        return f"{self.url}?table={table}"

    def run(self, *args: str) -> subprocess.CompletedProcess:
        """Run a server binary (as the ``postgres`` user when we are root)."""
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    def sql(self, statements: str) -> None:
        """Run SQL through ``psql`` (``\\copy`` reads client-side files)."""
        proc = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url],
            input=statements, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr

    def copy_csv(self, table: str, path: Path) -> None:
        """Load a CSV file (header line first) into an existing table."""
        quoted = str(path).replace("'", "''")
        self.sql(f"\\copy {table} from '{quoted}' with (format csv, header true)\n")


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for this test session, stopped at the end.  Skipped when the
    server binaries are missing, unless SPMKIT_REQUIRE_POSTGRES=1 (then the tests fail: CI
    sets it and installs Debian's postgresql)."""
    import shutil
    import socket
    import tempfile

    bindir = _postgres_bin()
    required = os.environ.get("SPMKIT_REQUIRE_POSTGRES") == "1"
    if bindir is None:
        if required:
            pytest.fail("PostgreSQL server binaries are missing and SPMKIT_REQUIRE_POSTGRES=1")
        pytest.skip("PostgreSQL server binaries are missing (apt-get install postgresql)")
    try:
        import adbc_driver_postgresql  # noqa: F401
    except ImportError:
        if required:
            pytest.fail("adbc-driver-postgresql is missing and SPMKIT_REQUIRE_POSTGRES=1")
        pytest.skip("adbc-driver-postgresql is missing (pip install -e '.[dev]')")
    user = "postgres" if os.geteuid() == 0 else None  # initdb refuses to run as root
    root = Path(tempfile.mkdtemp(prefix="spmkit-pg-"))
    if user:
        shutil.chown(root, user)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = PostgresServer(bindir, root, port, user)
    data = root / "data"
    try:
        init = server.run("initdb", "-D", str(data), "-A", "trust", "-U", "spmkit", "-E", "UTF8",
                          "--locale=C", "--no-sync")
        assert init.returncode == 0, init.stderr
        start = server.run("pg_ctl", "-D", str(data), "-l", str(root / "server.log"), "-w",
                           "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 "
                           "-c fsync=off -c full_page_writes=off", "start")
        assert start.returncode == 0, start.stderr + (root / "server.log").read_text()
        try:
            subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                            "-U", "spmkit", "comp"], check=True, capture_output=True, timeout=60)
            yield server
        finally:
            server.run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


#: Deals for the engines' random-book properties: (owner, day of 2026, amount, split A/B).
random_deal_rows = st.lists(st.tuples(st.sampled_from(["A", "B", "M"]), st.integers(0, 364),
                                      st.decimals(min_value=-2_000, max_value=50_000, places=2),
                                      st.booleans()), min_size=1, max_size=30)


def random_book(rows: list, method: str, credit: str) -> tuple:
    """A YTD tiered plan (``method``, ``credit``) and the tables of ``rows`` (credit memos,
    A/B splits, A and B under manager M) for the engines' random-book properties: (plan,
    {table: frame or None})."""
    import datetime as dt

    from spmkit.plan import load_plan

    plan = load_plan({"plan": "P", "currency": "USD", "year_start": "2026-01-01",
                      "period": "quarter", "credit": credit, "components": [
                          {"id": "c", "type": "commission", "attainment": "ytd", "tiers": {
                              "method": method, "bands": [{"from": 0, "rate": 0.04},
                                                          {"from": 0.5, "rate": 0.09}]}}]},
                     name="p.yaml")
    start = dt.date(2026, 1, 1)
    deals = pd.DataFrame([{"deal_id": f"D{i}", "rep_id": rep, "amount": str(amount),
                           "close_date": f"{start + dt.timedelta(days=day):%Y-%m-%d}"}
                          for i, (rep, day, amount, _) in enumerate(rows)])
    splits = pd.DataFrame([{"deal_id": f"D{i}", "rep_id": r, "share": "0.5"}
                           for i, (rep, _, _, split) in enumerate(rows) if split
                           for r in ("A", "B")])
    roster = pd.DataFrame({"rep_id": ["M", "A", "B"], "manager_id": ["", "M", "M"],
                           "target_incentive": ["0", "20000", "20000"]})
    quotas = pd.DataFrame({"rep_id": ["A", "B", "M"], "year": ["2026"] * 3,
                           "quota": ["100000", "80000", "150000"]})
    return plan, {"deals": deals, "quotas": quotas, "roster": roster,
                  "splits": splits if len(splits) else None}
