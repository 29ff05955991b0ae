"""Screenshots of the live page at desktop and phone widths (docs/screenshot-*.png).

Always rendered (a blank or broken page fails here); written to docs/ only with SAVE_SCREENSHOTS=1:
  SAVE_SCREENSHOTS=1 TEST_REDIS_DB=9 .venv/bin/pytest tests/page/test_screenshots.py
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.page.conftest import save_screenshots
from tests.page.screener_page import ROWS, record_flashes, row_mints, wait_for_rows, wait_live
from tests.processes import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _with_alerts(page, stack, moves: list[tuple[int, float]]) -> None:
    """Move a few prices at the replay upstream so the feed and the flashes have something to show."""
    wait_for_rows(page, 50)
    wait_live(page)
    record_flashes(page)
    mints = row_mints(page)
    for index, factor in moves:
        stack.move(mints[index], factor)
    for index, _ in moves:
        expect(page.locator(f'[data-alerts] li[data-mint="{mints[index]}"]').first).to_be_visible(
            timeout=15_000
        )
    wait_for(lambda: page.evaluate("window.__flashes.length") > 0, timeout=10, what="a flash")


def _shoot(page, name: str) -> None:
    png = page.screenshot(animations="disabled")
    assert len(png) > 10_000  # a real render, not a blank page
    if save_screenshots():
        (DOCS / name).write_bytes(png)


def test_desktop_screenshot(page, stack):
    _with_alerts(page, stack, [(2, 1.12), (9, 0.9), (14, 1.25)])
    expect(page.locator("[data-age] .age-value")).not_to_have_text("—")
    _shoot(page, "screenshot-desktop.png")


def test_mobile_screenshot(mobile_page, stack):
    page = mobile_page
    _with_alerts(page, stack, [(4, 1.15)])
    expect(page.locator(f"{ROWS} td.c-token").first).to_be_visible()
    _shoot(page, "screenshot-mobile.png")
