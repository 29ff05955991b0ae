"""The token detail's candlestick chart in a real browser: present, interval switch, live candle, mobile.

Runs against the page stack (replay upstream, Celery worker and beat, daphne); candles come from the
worker's writes after each snapshot. SAVE_SCREENSHOTS=1 writes docs/screenshot-chart-*.png.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.page.conftest import save_screenshots
from tests.page.screener_page import ROWS, wait_for_rows
from tests.processes import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOCS = Path(__file__).resolve().parents[2] / "docs"
CHART = "[data-chart]"


def open_chart(page, stack):
    wait_for_rows(page)
    token = next(t for t in stack.api(limit=20)["results"] if t["price_usd"])
    mint = token["token_address"]
    page.locator(f'{ROWS}[data-mint="{mint}"] .tok').click()
    chart = page.locator(CHART)
    expect(chart).to_be_visible()
    expect(chart.locator("canvas").first).to_be_visible()
    wait_for(
        lambda: int(chart.get_attribute("data-candles") or 0) > 0, timeout=30, what="candles on the chart"
    )
    return mint, chart


def test_chart_shows_the_history_switches_intervals_and_follows_a_price_move(page, stack):
    mint, chart = open_chart(page, stack)
    api = stack.api(f"/api/tokens/{mint}/candles/", interval="5m")
    assert int(chart.get_attribute("data-candles")) >= len(api["candles"]) > 0
    assert chart.get_attribute("data-chart-interval") == "5m"
    # interval switch: the 1m candles, as the API has them
    page.locator('button[data-interval="1m"]').click()
    expect(page.locator('button[data-interval="1m"]')).to_have_attribute("aria-pressed", "true")
    expect(page.locator('button[data-interval="5m"]')).to_have_attribute("aria-pressed", "false")
    expect(chart).to_have_attribute("data-chart-interval", "1m")
    minutes = stack.api(f"/api/tokens/{mint}/candles/", interval="1m")["candles"]
    wait_for(lambda: int(chart.get_attribute("data-candles")) >= len(minutes), what="the 1m candles")
    # crosshair values: hovering the plot shows that candle's O/H/L/C
    box = chart.locator("[data-chart-canvas]").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.4)
    expect(chart.locator("[data-chart-legend]")).to_contain_text(" O ")
    expect(chart.locator("[data-chart-legend]")).to_contain_text(" C ")
    # a price move at the replay upstream: the open candle moves live, without reloading
    before = float(chart.get_attribute("data-last-close"))
    shown_before = page.locator(f'{ROWS}[data-mint="{mint}"] td.c-price .main').inner_text()
    stack.move(mint, 1.6)
    wait_for(
        lambda: float(chart.get_attribute("data-last-close")) > before * 1.2,
        timeout=30,
        what="the live candle after the move",
    )
    assert int(chart.get_attribute("data-live-updates") or 0) >= 1
    # the detail beside the chart follows the move too, reloaded by the token's update (not the poll)
    row_price = page.locator(f'{ROWS}[data-mint="{mint}"] td.c-price .main')
    drawer = page.locator("[data-drawer]")

    def drawer_price() -> str | None:
        return page.evaluate(
            "() => { const s = [...document.querySelectorAll('[data-drawer] .stat')]"
            ".find((s) => s.querySelector('dt').textContent === 'Price');"
            " return s ? s.querySelector('dd').textContent : null; }"
        )

    wait_for(
        lambda: (
            drawer.get_attribute("data-detail-load") == "update"
            and drawer_price() == row_price.inner_text()
            and drawer_price() != shown_before
        ),
        timeout=30,
        what="the drawer's price after the move",
    )
    newest = stack.api(f"/api/tokens/{mint}/candles/", interval="1m")["candles"][-1]
    wait_for(
        lambda: (
            abs(float(chart.get_attribute("data-last-close")) - newest["close"]) <= newest["close"] * 1e-9
            or stack.api(f"/api/tokens/{mint}/candles/", interval="1m")["candles"][-1]["close"]
            == float(chart.get_attribute("data-last-close"))
        ),
        timeout=20,
        what="the chart's close equal to the stored one",
    )
    stack.move(mint, 1 / 1.6)
    if save_screenshots():
        time.sleep(1)
        page.screenshot(path=str(DOCS / "screenshot-chart-desktop.png"))


def test_chart_fits_a_390px_phone(mobile_page, stack):
    page = mobile_page
    _, chart = open_chart(page, stack)
    sizes = page.evaluate(
        """() => {
          const c = document.querySelector('[data-chart-canvas]').getBoundingClientRect();
          return {page: document.documentElement.scrollWidth, left: c.left, right: c.right};
        }"""
    )
    assert sizes["page"] <= 390 and sizes["left"] >= 0 and sizes["right"] <= 390, sizes
    page.locator('button[data-interval="1h"]').click()
    expect(chart).to_have_attribute("data-chart-interval", "1h")
    wait_for(lambda: int(chart.get_attribute("data-candles") or 0) > 0, what="1h candles")
    if save_screenshots():
        time.sleep(1)
        page.screenshot(path=str(DOCS / "screenshot-chart-mobile.png"))
