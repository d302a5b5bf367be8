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
    assert page.locator("h2", has_text="The decision").first.is_visible()
    assert errors == []
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []  # offline
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "scenario_report_executive.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000


def test_headline_numbers_visible_at_1400px(browser, executive_report):
    """The executive report at a 1400 px wide window: the key numbers at the top (the
    baseline's bookings and total payout in the plan currency, in K/M as metrics.json says
    they are), the decision and the headline table are on screen, nothing overflows the
    page sideways, and a screenshot is kept for people to look at."""
    import json

    out, _ = executive_report
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    base = metrics["_provenance"]["baseline"]
    payout = metrics[base]["total_payout_cents"] / 100
    bookings = metrics[base]["bookings_cents"] / 100
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto((out / "report.html").as_uri())
    for units in (payout, bookings):  # the amounts in K or M, as a VP reads them
        text = f"{units / 1e6:,.2f}M" if units >= 1e6 else f"{units / 1e3:,.1f}K"
        cell = page.get_by_text(f"USD {text}", exact=True).first
        assert cell.is_visible(), text
        box = cell.bounding_box()
        assert box is not None and box["y"] < 1000 and box["x"] + box["width"] <= 1400, text
    assert page.get_by_text("Amounts in USD", exact=False).first.is_visible()
    for heading in ("The decision", "Headline", "Glossary"):
        assert page.locator("h2", has_text=heading).first.is_visible(), heading
    headline = page.locator("table", has_text="Cost of sales (on bookings)").first
    assert headline.is_visible()
    assert "ZS" in headline.inner_text()  # the norm stands beside the figure
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1400
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "scenario_report_executive_1400.png"
    page.screenshot(path=str(shot))
    page.close()
    print(f"screenshot: {shot}")
