"""The screener page kept live over /ws/tokens/ in a real browser: flashes, timeframes, reconnect
with resume, seq gaps, stale data. The replay upstream moves prices; daphne is stopped and restarted.
"""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect

from tests.page.conftest import CACHE_TTL_SECONDS, REFRESH_SECONDS
from tests.page.screener_page import ROWS, page_list_load, record_flashes, row_mints, wait_for_rows, wait_live
from tests.processes import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_moved_price_flashes_its_row_without_reload(page, stack):
    wait_for_rows(page, 50)
    wait_live(page)
    record_flashes(page)
    page.evaluate("window.__sameDocument = true")
    mint = row_mints(page)[5]
    cell = page.locator(f'{ROWS}[data-mint="{mint}"] td.c-price .main')
    before_text = cell.inner_text()
    before = page.evaluate("m => window.screener.rowset.get(m).price_usd", mint)
    stack.move(mint, 1.2)
    moved_at = time.monotonic()
    # (small flashes from the sources' noise may come first: wait for the one carrying the move)
    wait_for(
        lambda: page.evaluate(
            """([m, before]) => window.__flashes.some(f => f.mint === m && f.cls.includes('c-price')
                                                          && f.dir === 'up' && f.price >= before * 1.15)""",
            [mint, before],
        ),
        timeout=2 * REFRESH_SECONDS + 4,
        interval=0.05,
        what="the price cell to flash up with the moved price",
    )
    elapsed = time.monotonic() - moved_at
    assert cell.inner_text() != before_text
    assert page.evaluate("window.__sameDocument") is True  # updated in place, no reload
    # a 20% move is over the 5% threshold: the alert feed shows it
    alert = page.locator(f'[data-alerts] li[data-mint="{mint}"][data-type="token.price_change"]')
    expect(alert.first).to_be_visible(timeout=10_000)
    expect(alert.first).to_contain_text("+")
    print(f"flash {elapsed:.2f}s after the move")


def test_other_timeframes_take_prices_from_the_stream_and_windows_from_rest(page, stack):
    """On the 6h tab the stream's 24h window values are never shown: the price comes from the
    stream, the 6h volume from the debounced REST refresh."""
    wait_for_rows(page)
    page_list_load(page, page.get_by_role("tab", name="6h").click, timeframe="6h")
    wait_live(page)
    record_flashes(page)
    mint = row_mints(page)[3]
    before = page.evaluate("m => ({...window.screener.rowset.get(m)})", mint)
    stack.control("POST", "move", {"mint": mint, "price_factor": 1.2, "volume_m5_factor": 20})

    def flashed(column: str) -> bool:
        return page.evaluate(
            "([m, c]) => window.__flashes.some(f => f.mint === m && f.cls.includes(c) && f.dir === 'up')",
            [mint, column],
        )

    wait_for(lambda: flashed("c-price"), timeout=2 * REFRESH_SECONDS + 6, interval=0.05, what="price flash")
    wait_for(
        lambda: flashed("c-volume"), timeout=2 * REFRESH_SECONDS + 10, interval=0.05, what="6h volume flash"
    )

    def shows_the_6h_volume() -> bool:
        row = page.evaluate("m => window.screener.rowset.get(m)", mint)
        six = stack.api(f"/api/tokens/{mint}/", timeframe="6h")
        day = stack.api(f"/api/tokens/{mint}/", timeframe="24h")
        return (
            row["volume_usd"] > before["volume_usd"]
            and abs(row["volume_usd"] - six["volume_usd"]) <= 0.05 * six["volume_usd"]
            and abs(row["volume_usd"] - day["volume_usd"]) > 0.05 * day["volume_usd"]
        )

    wait_for(shows_the_6h_volume, timeout=10, what="the row to hold the 6h volume, not the 24h one")
    expect(page.locator("th.c-volume")).to_contain_text("Volume 6h")


def test_reconnect_resumes_without_missing_an_alert(page, stack):
    wait_for_rows(page, 50)
    wait_live(page)
    sent: list[dict] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(json.loads(payload))))
    page.evaluate("window.__sameDocument = true")
    mint = row_mints(page)[7]
    last_seq_before = page.evaluate("window.screener.stream.lastSeq")
    stack.stop_web()
    expect(page.locator("[data-connection]")).to_have_attribute("data-state", "reconnecting", timeout=10_000)
    stack.move(mint, 1.3)
    time.sleep(3 * REFRESH_SECONDS + 1)  # the worker publishes the move (and its alert) meanwhile
    stack.start_web()
    wait_live(page, timeout=30_000)
    alert = page.locator(f'[data-alerts] li[data-mint="{mint}"][data-type="token.price_change"]')
    expect(alert.first).to_be_visible(timeout=10_000)
    seq = int(alert.first.get_attribute("data-seq"))
    assert seq > last_seq_before
    assert {"action": "subscribe", "all": True} in sent
    resumes = [m for m in sent if m.get("action") == "resume"]
    assert resumes and resumes[0]["since"] >= last_seq_before
    assert sent.index({"action": "subscribe", "all": True}) < sent.index(resumes[0])
    assert page.evaluate("window.__sameDocument") is True
    seqs = page.locator("[data-alerts] li[data-seq]").evaluate_all("items => items.map(i => i.dataset.seq)")
    assert len(seqs) == len(set(seqs)), "no alert shown twice"


def test_a_gap_in_seq_sends_resume_and_the_stream_carries_on(page, stack):
    """A frame skipping seqs on the `all` stream: the page asks `resume` from the last seq it has."""
    wait_for_rows(page)
    wait_live(page)
    sent: list[dict] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(json.loads(payload))))
    page.reload()  # so the listener sees the socket from its start
    wait_live(page)
    wait_for(lambda: len(row_mints(page)) >= 12, timeout=20, what="the table after the reload")
    last = page.evaluate(
        """() => {
          const s = window.screener.stream;
          const seq = s.lastSeq;
          const frame = {type: 'batch', events: [{type: 'token.update', seq: seq + 3, token_address: 'x', changes: {}}]};
          s._frame(s.ws, JSON.stringify(frame));  // as if the server had skipped seq+1 and seq+2
          return seq;
        }"""
    )
    wait_for(lambda: {"action": "resume", "since": last} in sent, timeout=5, what="resume after the gap")
    # Real events from seq+1 on (two moves: an update and an alert each): applied in order, the
    # fake seq+3 having been dropped rather than taken as seen.
    mints = row_mints(page)[10:12]
    stack.move(mints[0], 1.15)
    stack.move(mints[1], 0.85)
    for mint in mints:
        alert = page.locator(f'[data-alerts] li[data-mint="{mint}"][data-type="token.price_change"]')
        expect(alert.first).to_be_visible(timeout=(4 * REFRESH_SECONDS + 10) * 1000)
        # (a real event numbered up to seq+3 is shown too: the fake one was not taken as seen)
        assert int(alert.first.get_attribute("data-seq")) > last
    assert page.evaluate("() => window.screener.stream.lastSeq") > last + 1
    assert page.evaluate("() => window.screener.stream.resumePending") is False
    expect(page.locator("[data-connection]")).to_have_attribute("data-state", "live")


def test_stale_data_and_failing_sources_are_marked(page, stack):
    """Every source failing for longer than CACHE_TTL_SECONDS: the age turns red, a banner says the
    data is stale and each source shows as failing; when they recover the marks go away."""
    wait_for_rows(page, 50)
    wait_live(page)
    expect(page.locator("[data-stale-banner]")).to_be_hidden()
    try:
        for source in ("dexscreener", "jupiter", "geckoterminal"):
            stack.control("POST", "faults", {"source": source, "mode": "500"})
        banner = page.locator("[data-stale-banner]")
        expect(banner).to_be_visible(timeout=(CACHE_TTL_SECONDS + 15) * 1000)
        expect(banner).to_contain_text("Stale data")
        expect(page.locator("[data-age]")).to_have_attribute("data-stale", "true")
        expect(page.locator("[data-sources] li[data-ok=false]")).to_have_count(3, timeout=15_000)
        assert page.locator(ROWS).count() == 50  # the last good data stays on screen
    finally:
        stack.control("DELETE", "faults")
    expect(page.locator("[data-stale-banner]")).to_be_hidden(timeout=30_000)
    expect(page.locator("[data-sources] li[data-ok=true]")).to_have_count(3, timeout=30_000)
    expect(page.locator("[data-age]")).to_have_attribute("data-stale", "false")
