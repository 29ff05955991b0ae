"""Reading and driving the screener page from browser tests (Playwright sync API)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from tests.processes import wait_for

ROWS = "#token-table tbody tr[data-mint]"


def row_mints(page) -> list[str]:
    return page.locator(ROWS).evaluate_all("rows => rows.map(r => r.dataset.mint)")


def column_texts(page, column: str) -> list[str]:
    return page.locator(f"{ROWS} td.c-{column} .main").all_inner_texts()


def wait_for_rows(page, count: int | None = None) -> None:
    expect(page.locator(ROWS).first).to_be_visible(timeout=20_000)
    if count is not None:
        expect(page.locator(ROWS)).to_have_count(count, timeout=20_000)


def wait_live(page, timeout: float = 20_000) -> None:
    expect(page.locator("[data-connection]")).to_have_attribute("data-state", "live", timeout=timeout)


def page_list_load(page, action: Callable[[], None], **params: str | bool) -> list[str]:
    """Run `action`; return the mints of the token list the page then fetched with `params`
    (a value True only asks for the parameter to be there).

    Upstream values jitter a little between refreshes (each source's noise), so tests compare the
    table with the very response the page got rather than with a second request of their own.
    """

    def matches(response) -> bool:
        url = urlparse(response.url)
        query = parse_qs(url.query)
        return (
            url.path == "/api/tokens/"
            and query.get("limit") != ["1"]  # the status bar's meta polls
            and all((k in query) if v is True else query.get(k) == [v] for k, v in params.items())
        )

    with page.expect_response(matches, timeout=15_000) as info:
        action()
    assert info.value.ok, info.value.status
    return [t["token_address"] for t in info.value.json()["results"]]


def expect_rows(page, mints: list[str], what: str) -> None:
    """The table shows `mints` in this order, give or take a token that left or entered the tracked
    universe meanwhile (token.added rows are inserted at their place, token.removed ones go)."""
    expected = set(mints)

    def shown_in_order() -> bool:
        rows = row_mints(page)
        kept = [m for m in rows if m in expected]
        return (
            kept == [m for m in mints if m in set(rows)]
            and len(kept) >= len(mints) - 2
            and len(rows) <= len(mints) + 2
        )

    wait_for(shown_in_order, timeout=10, what=what)


def record_flashes(page) -> None:
    """Keep every cell flash in window.__flashes (they last about a second): mint, cell class,
    direction and the row's price_usd at that moment."""
    page.evaluate(
        """() => {
          window.__flashes = [];
          new MutationObserver((records) => {
            for (const r of records) {
              const td = r.target;
              if (!td.dataset || !td.dataset.flash) continue;
              const mint = td.closest('tr').dataset.mint;
              const row = window.screener.rowset.get(mint);
              window.__flashes.push({mint, cls: td.className, dir: td.dataset.flash.replace(/\\d$/, ''),
                                     price: row ? row.price_usd : null});
            }
          }).observe(document.querySelector('#token-table tbody'),
                     {subtree: true, attributes: true, attributeFilter: ['data-flash']});
        }"""
    )
