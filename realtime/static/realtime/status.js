// The status bar: WebSocket connection state, data age ticking locally, each source's health.

import { el, setText } from "./dom.js";
import * as fmt from "./format.js";

const SOURCE_NAMES = { dexscreener: "DexScreener", jupiter: "Jupiter", geckoterminal: "GeckoTerminal" };
const CONNECTION_LABELS = {
  connecting: "Connecting",
  live: "Live",
  reconnecting: "Reconnecting",
  offline: "Offline",
};

export class StatusBar {
  /**
   * @param staleAfter seconds of data age past which the API calls the data stale (CACHE_TTL_SECONDS)
   * @param onAging() called on ticks while the local age is past it but the last meta said fresh:
   *   the caller asks the API again, which decides (so staleness shows within seconds of happening)
   */
  constructor(root, { staleAfter = null, onAging = () => {} } = {}) {
    this.root = root;
    this.staleAfter = Number.isFinite(staleAfter) && staleAfter > 0 ? staleAfter : null;
    this.onAging = onAging;
    this.conn = root.querySelector("[data-connection]");
    this.connLabel = this.conn.querySelector(".conn-label");
    this.age = root.querySelector("[data-age]");
    this.ageValue = this.age.querySelector(".age-value");
    this.sources = root.querySelector("[data-sources]");
    this.banner = document.querySelector("[data-stale-banner]");
    this.meta = null;
    this.metaAt = 0;
    this.setConnection("connecting");
  }

  setConnection(status) {
    this.conn.dataset.state = status;
    setText(this.connLabel, CONNECTION_LABELS[status] || status);
    this.conn.title = `WebSocket: ${status}`;
  }

  /** The list response's `meta`, received now: the age keeps ticking from it. */
  setMeta(meta) {
    if (!meta) return;
    this.meta = meta;
    this.metaAt = performance.now();
    this._renderSources(meta.sources || {});
    this.tick();
  }

  /** Seconds since the newest upstream fetch, as of now. */
  currentAge() {
    if (!this.meta || typeof this.meta.age_seconds !== "number") return null;
    return this.meta.age_seconds + (performance.now() - this.metaAt) / 1000;
  }

  tick() {
    const age = this.currentAge();
    const stale = Boolean(this.meta && this.meta.stale);
    if (!stale && this.staleAfter !== null && age !== null && age > this.staleAfter) this.onAging();
    setText(this.ageValue, fmt.dataAge(age));
    this.age.dataset.stale = String(stale);
    this.age.title = this.meta && this.meta.generated_at ? `Snapshot ${this.meta.snapshot_id} merged at ${this.meta.generated_at}` : "";
    document.documentElement.dataset.stale = String(stale);
    if (this.banner) {
      this.banner.hidden = !stale;
      if (stale) setText(this.banner.querySelector(".stale-age"), fmt.dataAge(age));
    }
  }

  _renderSources(sources) {
    const items = Object.entries(sources).map(([name, status]) => {
      const ok = Boolean(status && status.ok);
      const item = el("li", `source ${ok ? "ok" : "down"}`);
      item.dataset.source = name;
      item.dataset.ok = String(ok);
      item.append(el("span", "dot"), el("span", "source-name", SOURCE_NAMES[name] || name));
      const fetched = status && status.fetched_at ? `last success ${status.fetched_at}` : "no success yet";
      const error = status && status.error ? `; last error: ${status.error}` : "";
      item.title = `${SOURCE_NAMES[name] || name}: ${ok ? "ok" : "failing"} (${fetched}${error})`;
      item.setAttribute("aria-label", item.title);
      return item;
    });
    this.sources.replaceChildren(...items);
  }
}
