// The alert feed: token.price_change and token.volume_spike events, newest first, capped.

import { el, setText } from "./dom.js";
import * as fmt from "./format.js";

const MAX_ITEMS = 60;

function clock(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

export class AlertFeed {
  /** @param list the <ol>; @param onOpen(mint) opens a token; @param counter element showing the count */
  constructor(list, { onOpen, counter }) {
    this.list = list;
    this.counter = counter;
    this.total = 0;
    this.seen = new Set(); // seqs already shown (a resumed stream never repeats, but be safe)
    this.placeholder = el("li", "feed-empty", "No alerts yet. Price moves and volume spikes appear here.");
    this.list.append(this.placeholder);
    this.list.addEventListener("click", (event) => {
      const item = event.target.closest("li[data-mint]");
      if (item) onOpen(item.dataset.mint);
    });
  }

  /** Show one alert event at the top; `token` is the TOKEN it is about (model.alertToken). */
  add(event, token = null) {
    if (this.seen.has(event.seq)) return;
    this.seen.add(event.seq);
    token = token || {};
    const item = el("li", "alert");
    item.dataset.mint = event.token_address;
    item.dataset.seq = String(event.seq);
    item.dataset.type = event.type;
    const button = el("button", "alert-open");
    button.type = "button";
    // when the refresh that raised it merged (a resumed alert arrives later than it happened);
    // a held token's updated_at is older (updates leave it out), so then: now, as it arrives
    const merged = event.token && event.token.updated_at;
    const at = merged ? new Date(merged) : new Date();
    const time = el("time", "alert-time", clock(Number.isNaN(at.getTime()) ? new Date() : at));
    if (merged) time.dateTime = merged;
    const ticker = el("span", "alert-ticker", token.token_ticker || fmt.shortAddress(event.token_address));
    const what = el("span", "alert-what");
    if (event.type === "token.price_change") {
      const up = event.change_pct >= 0;
      item.classList.add(up ? "up" : "down");
      what.append(el("span", `pct ${up ? "up" : "down"}`, `${up ? "\u25B2" : "\u25BC"} ${fmt.percent(event.change_pct)}`));
      what.append(el("span", "detail", ` price ${fmt.priceUsd(event.price_usd)}`));
    } else {
      item.classList.add("spike");
      what.append(el("span", "pct spike", `\u26A1 Vol +${fmt.compact(event.change_pct)}%`));
      what.append(el("span", "detail", ` 5m ${fmt.usd(event.volume_5m_usd)}`));
    }
    button.append(time, ticker, what);
    button.title = `${token.token_name || event.token_address} — seq ${event.seq}`;
    item.append(button);
    this._prepend(item);
    this.total += 1;
    if (this.counter) setText(this.counter, this.total);
  }

  /** A line saying some alerts could not be replayed (resync after a long disconnection). */
  note(text) {
    this._prepend(el("li", "feed-note", text));
  }

  _prepend(item) {
    this.placeholder.remove();
    this.list.prepend(item);
    while (this.list.children.length > MAX_ITEMS) {
      const last = this.list.lastElementChild;
      if (last.dataset.seq) this.seen.delete(Number(last.dataset.seq));
      last.remove();
    }
  }
}
