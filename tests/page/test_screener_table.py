"""The screener page's table in a real browser: filling, sorting, timeframes, search, drawer, layout.

Runs against the real service (daphne, Celery worker and beat) fed by the replay upstream.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.page.conftest import DESKTOP, expected_console_error, open_page
from tests.page.screener_page import (
    ROWS,
    column_texts,
    expect_rows,
    page_list_load,
    row_mints,
    wait_for_rows,
    wait_live,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_table_fills_with_the_replay_universe_and_loads_more(browser, stack):
    stack.ensure_web()
    universe = {t["mint"] for t in stack.universe()}
    meta = stack.api(limit=1)["meta"]
    page = open_page(browser, stack, DESKTOP, path=None)
    first_page = page_list_load(page, lambda: page.goto(f"{stack.base_url}/"), ordering="-volume")
    assert len(first_page) == min(50, meta["count"])
    expect_rows(page, first_page, "the first page in the API's default order (-volume)")
    assert set(first_page) <= universe
    # the row shows name, ticker and formatted numbers
    first = page.locator(ROWS).first
    assert first.locator(".name").inner_text().strip()
    assert first.locator("td.c-price .main").inner_text().startswith("$")
    assert first.locator("td.c-volume .main").inner_text().startswith("$")
    expect(page.locator("[data-shown]")).to_contain_text(f"of {meta['count']} tokens")
    # load more walks the cursor to the end: every token once
    second_page = page_list_load(page, page.get_by_role("button", name="Load more").click, cursor=True)
    expect_rows(page, first_page + [m for m in second_page if m not in first_page], "the next page appended")
    shown = row_mints(page)
    assert len(shown) == len(set(shown)), "no token twice"
    # (a token whose volume jitters across the page boundary between the two requests may move pages)
    assert len(shown) >= meta["count"] - 3
    assert set(row_mints(page)) <= universe
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    wait_live(page)
    expect(page.locator("[data-sources] li")).to_have_count(3)
    expect(page.locator("[data-sources] li[data-ok=true]")).to_have_count(3)
    expect(page.locator("[data-age] .age-value")).not_to_have_text("—")
    expect(page.locator("[data-age]")).to_have_attribute("data-stale", "false")
    page.context.close()
    assert not [e for e in page.errors if not expected_console_error(e)]


def test_clicking_and_keyboard_on_headers_resort(page, stack):
    wait_for_rows(page)
    price = page.locator("th.c-price")
    expect(price).to_have_attribute("aria-sort", "none")
    expect(page.locator("th.c-volume")).to_have_attribute("aria-sort", "descending")
    mints = page_list_load(page, price.get_by_role("button").click, ordering="-price")
    expect(price).to_have_attribute("aria-sort", "descending")
    expect(page.locator("th.c-volume")).to_have_attribute("aria-sort", "none")
    expect_rows(page, mints, "the -price order")
    prices = page.evaluate("() => window.screener.rowset.rows.map(t => t.price_usd)")
    assert prices[0] > prices[-1]
    assert "ordering=-price" in page.url
    # keyboard: the header is a button
    price.get_by_role("button").focus()
    mints = page_list_load(page, lambda: page.keyboard.press("Enter"), ordering="price")
    expect(price).to_have_attribute("aria-sort", "ascending")
    expect_rows(page, mints, "the price order")
    age = page.locator("th.c-age")
    mints = page_list_load(page, age.get_by_role("button").click, ordering="age")
    expect(age).to_have_attribute("aria-sort", "ascending")  # "age": newest pairs first
    expect_rows(page, mints, "the age order")
    created = page.evaluate("() => window.screener.rowset.rows.map(t => t.pair_created_at)")
    assert created[0] >= created[-1]


def test_switching_timeframe_changes_the_volume_column(page, stack):
    wait_for_rows(page)
    expect(page.locator("th.c-volume")).to_contain_text("Volume 24h")
    by_mint_24h = dict(zip(row_mints(page), column_texts(page, "volume"), strict=True))
    expected = page_list_load(page, page.get_by_role("tab", name="1h").click, timeframe="1h")
    expect(page.get_by_role("tab", name="1h")).to_have_attribute("aria-selected", "true")
    expect(page.locator("th.c-volume")).to_contain_text("Volume 1h")
    expect_rows(page, expected, "the 1h order")
    by_mint_1h = dict(zip(row_mints(page), column_texts(page, "volume"), strict=True))
    common = set(by_mint_24h) & set(by_mint_1h)
    assert common
    changed = [m for m in common if by_mint_24h[m] != by_mint_1h[m]]
    assert len(changed) >= 0.8 * len(common), (by_mint_24h, by_mint_1h)
    assert "timeframe=1h" in page.url
    # keyboard between tabs
    page.get_by_role("tab", name="1h").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="6h")).to_have_attribute("aria-selected", "true")
    expect(page.locator("th.c-change")).to_contain_text("Change 6h")


def test_search_and_protocol_filter_narrow_the_rows(page, stack):
    wait_for_rows(page, 50)
    target = stack.api(limit=5)["results"][3]
    word = target["token_ticker"][:4].lower()
    expected = page_list_load(page, lambda: page.get_by_role("searchbox").fill(word), q=word)
    assert target["token_address"] in expected
    expect_rows(page, expected, "the search results")
    assert len(expected) < 50
    for text in page.locator(f"{ROWS} td.c-token").all_inner_texts():
        assert word in text.lower()
    # exact mint
    page.get_by_role("searchbox").fill(target["token_address"])
    expect_rows(page, [target["token_address"]], "the mint search")
    # nothing
    page.get_by_role("searchbox").fill("zzzz-no-such-token")
    expect(page.locator("#token-table tbody tr.empty")).to_have_text("No tokens match.")
    page.get_by_role("searchbox").fill("")
    wait_for_rows(page, 50)
    # protocol
    expected = page_list_load(
        page, lambda: page.get_by_label("Protocol").select_option("pumpswap"), protocol="pumpswap"
    )
    assert expected, "the replay universe has PumpSwap tokens"
    expect_rows(page, expected, "the protocol filter")
    assert all(t.startswith("PumpSwap") for t in column_texts(page, "protocol"))


def test_detail_drawer_shows_pools_and_sources(page, stack):
    wait_for_rows(page)
    detail = None
    for token in stack.api(limit=20)["results"]:
        detail = stack.api(f"/api/tokens/{token['token_address']}/")
        if len(detail["pools"]) > 1 and len(detail["by_source"]) > 1:
            break
    assert detail is not None
    mint = detail["token_address"]
    page.locator(f'{ROWS}[data-mint="{mint}"] .tok').click()
    drawer = page.get_by_role("dialog")
    expect(drawer).to_be_visible()
    expect(drawer.locator("h2")).to_have_text(detail["token_name"])
    expect(drawer.locator(".pools tbody tr")).to_have_count(len(detail["pools"]))
    expect(drawer.locator(".by-source tbody tr")).to_have_count(len(detail["by_source"]))
    expect(drawer.locator(".drawer-mint code")).to_have_text(mint)
    excluded = [name for name, s in detail["by_source"].items() if s["excluded"]]
    expect(drawer.locator(".badge.excluded")).to_have_count(len(excluded))
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(page.locator(f'{ROWS}[data-mint="{mint}"] .tok')).to_be_focused()


def test_page_builds_the_dom_from_data_safely(page, stack):
    """Hostile names and icon URLs render as text; javascript: icons are never loaded."""
    wait_for_rows(page)
    result = page.evaluate(
        """async () => {
          const {TokenTable} = await import('/static/realtime/table.js');
          const table = document.createElement('table');
          const view = new TokenTable(table, {onSort() {}, onOpen() {}});
          view.setHead('24h', '-volume');
          window.__xss = 0;
          view.setRows([{token_address: 'x'.repeat(44), token_name: '<img src=x onerror="window.__xss=1">',
                         token_ticker: '<b>T</b>', icon: 'javascript:window.__xss=2', protocol: '<i>p</i>',
                         price_usd: 0.00000123, volume_usd: 1234}]);
          await new Promise(r => setTimeout(r, 100));
          return {imgs: [...table.querySelectorAll('img')].map(i => i.getAttribute('src')),
                  name: table.querySelector('.name').textContent, bold: table.querySelectorAll('b').length,
                  price: table.querySelector('td.c-price .main').textContent, xss: window.__xss};
        }"""
    )
    assert result == {
        "imgs": [None],
        "name": '<img src=x onerror="window.__xss=1">',
        "bold": 0,
        "price": "$0.0₅123",
        "xss": 0,
    }
    icon = page.locator(f"{ROWS} .icon img").first
    assert icon.get_attribute("loading") == "lazy"
    assert icon.get_attribute("referrerpolicy") == "no-referrer"


def test_mobile_layout_hides_minor_columns_and_scrolls_sideways(mobile_page):
    page = mobile_page
    wait_for_rows(page)
    for column in ("txns", "protocol", "age"):
        expect(page.locator(f"th.c-{column}")).to_be_hidden()
    for column in ("token", "price", "change", "volume", "mcap"):
        expect(page.locator(f"th.c-{column}")).to_be_visible()
    sizes = page.evaluate(
        """() => {
          const wrap = document.querySelector('[data-table-wrap]');
          return {page: document.documentElement.scrollWidth, wrapScroll: wrap.scrollWidth, wrap: wrap.clientWidth};
        }"""
    )
    assert sizes["page"] <= 390, sizes  # the page itself never scrolls sideways
    assert sizes["wrapScroll"] > sizes["wrap"], sizes  # the table does
