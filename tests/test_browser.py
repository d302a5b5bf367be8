"""The rendered report in a real browser: headless Debian Chromium via Playwright.

Skipped when /usr/bin/chromium is missing, unless SPMKIT_REQUIRE_BROWSER=1 (then it fails).
The screenshot is written to tests/artifacts/ (git-ignored) and its path printed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PLAN_NAMES = ("Baseline 2025", "Steeper accelerator", "Commission plus bonus")

pytestmark = pytest.mark.browser


def test_headline_table_renders_and_screenshot(browser, executive_report):
    out, _ = executive_report
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    page.goto((out / "report.html").as_uri())
    table = page.locator("table", has_text=PLAN_NAMES[0])
    for name in PLAN_NAMES:
        table = table.filter(has_text=name)
    assert table.count() >= 1
    assert table.first.is_visible()
    assert page.locator("img[src^='data:image/png']").count() >= 6
    assert page.locator("h2", has_text="The decision").is_visible()
    assert errors == []
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []  # offline
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "scenario_report_executive.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000
