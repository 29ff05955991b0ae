"""The screener page's safety data in a real browser: badges, holders column and sort, the "safe
only" toggle and the drawer's safety section (issue 12), against the replay-fed service."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.page.screener_page import ROWS, column_texts, page_list_load, row_mints, wait_for_rows
from tests.processes import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _safety_known(stack) -> dict[str, dict]:
    """Tokens of the API whose safety data has arrived (the stack's Jupiter reads it)."""
    tokens = stack.api(limit=200)["results"]
    return {t["token_address"]: t for t in tokens if t["mint_authority_disabled"] is not None}


def test_badges_holders_safe_toggle_and_drawer(page, stack):
    wait_for(lambda: len(_safety_known(stack)) >= 10, timeout=60, what="safety data from Jupiter")
    wait_for_rows(page)
    tokens = {t["token_address"]: t for t in stack.api(limit=200)["results"]}

    # Badges follow each shown token's authorities and verification.
    for mint in row_mints(page)[:15]:
        t = tokens.get(mint)
        if t is None or t["mint_authority_disabled"] is None:
            continue
        row = page.locator(f'{ROWS}[data-mint="{mint}"]')
        mint_badge = "mint-ok" if t["mint_authority_disabled"] else "mint-warn"
        expect(row.locator(f'[data-badge="{mint_badge}"]')).to_have_count(1)
        freeze_badge = "freeze-ok" if t["freeze_authority_disabled"] else "freeze-warn"
        expect(row.locator(f'[data-badge="{freeze_badge}"]')).to_have_count(1)
        expect(row.locator('[data-badge="verified-verified"]')).to_have_count(1 if t["verified"] else 0)

    # The holders column sorts by holder count, biggest first, unknown last.
    shown = page_list_load(page, page.locator("th.c-holders button").click, ordering="-holders")
    assert shown
    wait_for(lambda: row_mints(page)[: len(shown)] == shown, timeout=10, what="rows in -holders order")
    texts = column_texts(page, "holders")
    assert texts[0] != "—"

    # "Safe only" asks the API for safe=true and shows only tokens with both authorities disabled.
    safe = page_list_load(page, page.get_by_label("Safe only").check, safe="true")
    assert safe and all(
        tokens[m]["mint_authority_disabled"] and tokens[m]["freeze_authority_disabled"]
        for m in safe
        if m in tokens
    )
    assert "safe=true" in page.url
    wait_for(lambda: set(row_mints(page)) <= set(safe), timeout=10, what="only safe rows")
    expect(page.locator('[data-badge="mint-warn"]')).to_have_count(0)
    expect(page.locator('[data-badge="freeze-warn"]')).to_have_count(0)

    # The drawer shows the six figures of the opened token.
    first = row_mints(page)[0]
    detail = stack.api(f"/api/tokens/{first}/")
    page.locator(f'{ROWS}[data-mint="{first}"] .tok').click()
    section = page.locator("[data-drawer] [data-safety]")
    expect(section).to_be_visible()
    expect(section).to_contain_text("Holders")
    expect(section).to_contain_text("Mint authority")
    expect(section).to_contain_text("disabled")
    expect(section).to_contain_text(
        f"{detail['holder_count']:,}" if detail["holder_count"] is not None else "—"
    )
    expect(page.locator("#drawer-title")).to_have_text(detail["token_name"] or detail["token_ticker"])


FIT = """() => [...document.querySelectorAll('tbody tr[data-mint]')].slice(0, 15).map((row) => {
  const cell = row.querySelector('td.c-token').getBoundingClientRect();
  const name = row.querySelector('.name');
  const badges = [...row.querySelectorAll('.sbadge')].map((b) => b.getBoundingClientRect());
  return {
    name: name.textContent, nameCut: name.scrollWidth > name.clientWidth,
    badges: badges.length, outside: badges.filter((b) => b.left < cell.left || b.right > cell.right - 4).length,
  };
})"""


@pytest.mark.parametrize("width", [1280, 390])
def test_badges_fit_their_cell_and_leave_the_name_its_width(width, request, stack):
    view = request.getfixturevalue("page" if width == 1280 else "mobile_page")
    wait_for(lambda: len(_safety_known(stack)) >= 10, timeout=60, what="safety data from Jupiter")
    wait_for_rows(view)
    wait_for(lambda: sum(r["badges"] for r in view.evaluate(FIT)) >= 10, timeout=30, what="badges painted")
    rows = view.evaluate(FIT)
    assert [r for r in rows if r["outside"]] == [], "a badge is clipped by its cell"
    if width == 1280:  # the desktop shows names of up to 14 characters whole, badges or not
        assert [r["name"] for r in rows if r["nameCut"] and len(r["name"]) <= 14] == []
