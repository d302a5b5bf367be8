"""The plan explorer notebook served by Voila and driven in headless Chromium.

Serves notebooks/plan_explorer.ipynb with Voila on a free localhost port (data and
scenarios from temporary folders, passed through the environment), changes the
accelerator in the browser, and checks that the displayed total cost changes. A
screenshot goes to tests/artifacts/plan_explorer.png.

Skipped when /usr/bin/chromium is missing, unless SPMKIT_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"

BASELINE = """\
plan: Browser Base
currency: USD
year_start: 2025-01-01
period: quarter
components:
  - id: commission
    type: commission
    weight: 0.8
    attainment: ytd
    tiers:
      bands:
        - {from: 0.0, bcr_multiple: 1.0}
        - {from: 1.0, bcr_multiple: 1.5}
  - id: bonus
    type: bonus
    weight: 0.2
    attainment: period
    curve: [[0.5, 0.0], [1.0, 1.0], [1.5, 1.5]]
"""

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, proc: subprocess.Popen, timeout: float) -> None:
    """Until the server accepts connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"voila exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"voila did not listen on port {port} within {timeout} s")


@pytest.fixture
def voila_url(browser, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    # ``browser`` first: a missing Chromium skips (or fails) before the server starts
    from spmkit.sample import write_sample

    data = tmp_path / "data"
    write_sample(data, reps=40, years=2, seed=5)
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "baseline.yaml").write_text(BASELINE, encoding="utf-8")
    port = _free_port()
    env = {**os.environ, "SPMKIT_DATA_DIR": str(data), "SPMKIT_SCENARIOS_DIR": str(scenarios),
           "MPLBACKEND": "Agg"}
    log = open(tmp_path / "voila.log", "wb")  # noqa: SIM115 - closed by the finalizer
    proc = subprocess.Popen(
        [sys.executable, "-m", "voila", "notebooks/plan_explorer.ipynb", "--no-browser",
         f"--port={port}", "--Voila.ip=127.0.0.1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop() -> None:
        # the server and the kernels it started share the new session's process group
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # any kernel left behind
        except ProcessLookupError:
            pass
        log.close()

    request.addfinalizer(stop)
    _wait_for(port, proc, timeout=20)
    yield f"http://127.0.0.1:{port}/"


def test_changing_the_accelerator_in_the_browser_changes_the_cost(browser, voila_url: str,
                                                                  tmp_path: Path) -> None:
    changed = ("(old) => { const e = document.querySelector('.spmkit-total-cost');"
               " return e !== null && e.textContent !== old; }")
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    try:
        page.goto(voila_url, timeout=20_000)
        cost = page.locator(".spmkit-total-cost").first
        cost.wait_for(timeout=40_000)
        first = cost.inner_text()
        assert first[0].isdigit(), first

        # the accelerator slider: type into its readout
        readout = page.locator(".spmkit-commission-bands-1-bcr-multiple .widget-readout")
        assert readout.inner_text() == "1.50"
        readout.click()
        page.keyboard.press("Control+A")
        page.keyboard.type("2.50")
        page.keyboard.press("Enter")
        page.wait_for_function(changed, arg=first, timeout=20_000)
        second = cost.inner_text()
        assert _amount(second) > _amount(first)  # a richer accelerator costs more

        # a text box: the accelerator starts at 80% of quota instead of 100%
        box = page.locator(".spmkit-commission-bands-1-from input")
        box.fill("0.8")
        box.press("Enter")
        page.wait_for_function(changed, arg=second, timeout=20_000)
        assert _amount(cost.inner_text()) > _amount(second)

        # an invalid edit: the error shows next to the component, the cost stays
        third = cost.inner_text()
        box.fill("0")
        box.press("Enter")
        error = page.locator(".spmkit-error-commission .spmkit-error")
        error.wait_for(timeout=20_000)
        assert "out of order" in error.inner_text()
        assert cost.inner_text() == third

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "plan_explorer.png"), full_page=True)
    finally:
        page.close()


def _amount(text: str) -> float:
    return float(text.replace(",", ""))
