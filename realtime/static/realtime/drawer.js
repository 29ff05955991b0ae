// The token detail drawer: GET /api/tokens/{mint}/ -> stats, each source's price, the token's pools;
// above them the live candlestick chart (chart.js).

import { CandleChart } from "./chart.js";
import { el, setText, setTokenIcon, tokenIcon } from "./dom.js";
import * as fmt from "./format.js";

const SOURCE_NAMES = { dexscreener: "DexScreener", jupiter: "Jupiter", geckoterminal: "GeckoTerminal" };
const REFRESH_MS = 10000;

function table(className, headers, rows) {
  const t = el("table", className);
  const head = el("tr");
  for (const h of headers) {
    const th = el("th", h.num ? "num" : "", h.label);
    th.scope = "col";
    head.append(th);
  }
  t.createTHead().append(head);
  const body = t.createTBody();
  for (const cells of rows) {
    const tr = el("tr");
    cells.forEach((cell, i) => {
      const td = el("td", headers[i].num ? "num" : "");
      if (cell instanceof Node) td.append(cell);
      else td.textContent = cell;
      tr.append(td);
    });
    body.append(tr);
  }
  return t;
}

function stat(label, value, className = "", sub = null) {
  const item = el("div", `stat ${className}`);
  const dd = el("dd", null, value);
  if (sub) dd.append(el("span", "stat-sub", sub));
  item.append(el("dt", null, label), dd);
  return item;
}

function changeClass(value) {
  const d = fmt.direction(value);
  return d > 0 ? "up" : d < 0 ? "down" : "";
}

export class TokenDrawer {
  /**
   * @param root the drawer element; @param backdrop its backdrop
   * @param fetchDetail(mint, timeframe, signal) -> Promise<detail JSON>
   */
  constructor(root, backdrop, { fetchDetail, onClose }) {
    this.root = root;
    this.backdrop = backdrop;
    this.fetchDetail = fetchDetail;
    this.onClose = onClose || (() => {});
    this.title = root.querySelector("[data-drawer-title]");
    this.subtitle = root.querySelector("[data-drawer-ticker]");
    this.body = root.querySelector("[data-drawer-body]");
    this.icon = tokenIcon(32);
    root.querySelector("[data-drawer-icon]").append(this.icon);
    this.closeButton = root.querySelector("[data-drawer-close]");
    this.closeButton.addEventListener("click", () => this.close());
    backdrop.addEventListener("click", () => this.close());
    root.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close();
      if (event.key === "Tab") this._trapFocus(event);
    });
    this.mint = null;
    this.timer = null;
    this.controller = null;
    const chartRoot = root.querySelector("[data-chart]");
    const app = root.closest("[data-api-base]");
    this.chart = chartRoot && app ? new CandleChart(chartRoot, { apiBase: app.dataset.apiBase, wsPath: app.dataset.wsPath }) : null;
  }

  get isOpen() {
    return !this.root.hidden;
  }

  open(mint, timeframe, token) {
    this.mint = mint;
    this.timeframe = timeframe;
    this.root.hidden = false;
    this.backdrop.hidden = false;
    this.root.dataset.mint = mint;
    document.body.classList.add("drawer-open");
    if (token) this._header(token);
    this.body.replaceChildren(el("p", "drawer-loading", "Loading\u2026"));
    this.closeButton.focus();
    if (this.chart) this.chart.show(mint);
    this._load("open");
  }

  close() {
    if (!this.isOpen) return;
    const mint = this.mint;
    this.root.hidden = true;
    this.backdrop.hidden = true;
    document.body.classList.remove("drawer-open");
    clearTimeout(this.timer);
    if (this.controller) this.controller.abort();
    if (this.chart) this.chart.hide();
    this.mint = null;
    this.onClose(mint);
  }

  /** Load the open token's detail again now (its row changed); the periodic reload restarts. */
  reload() {
    if (this.isOpen) this._load("update");
  }

  /** @param reason what asked for it ("open", "update", "poll"): shown as data-detail-load once rendered */
  async _load(reason) {
    clearTimeout(this.timer);
    if (this.controller) this.controller.abort();
    const controller = new AbortController();
    this.controller = controller;
    const mint = this.mint;
    try {
      const detail = await this.fetchDetail(mint, this.timeframe, controller.signal);
      if (mint !== this.mint) return;
      this._render(detail);
      this.root.dataset.detailLoad = reason;
    } catch (err) {
      if (controller.signal.aborted || mint !== this.mint) return;
      const message = err && err.status === 404 ? "This token is no longer tracked." : `Could not load the token (${err.message || err}).`;
      this.body.replaceChildren(el("p", "drawer-error", message));
    }
    if (mint === this.mint) this.timer = setTimeout(() => this._load("poll"), REFRESH_MS);
  }

  _header(token) {
    setTokenIcon(this.icon, token);
    setText(this.title, token.token_name || token.token_ticker || fmt.shortAddress(token.token_address));
    setText(this.subtitle, token.token_ticker || "");
  }

  _render(d) {
    this._header(d);
    const tf = this.timeframe;
    const address = el("p", "drawer-mint");
    address.append(el("span", "label", "Mint "), el("code", null, d.token_address));
    const stats = el("dl", "stats");
    const txns = d.transaction_count == null ? null : `${fmt.count(d.buys)} buys / ${fmt.count(d.sells)} sells`;
    stats.append(
      stat("Price", fmt.priceUsd(d.price_usd)),
      stat("Price (SOL)", d.price_sol == null ? fmt.DASH : `${fmt.price(d.price_sol)} SOL`),
      stat(`Change ${tf}`, fmt.percent(d.price_change), changeClass(d.price_change)),
    );
    // the other windows' price change, when they are not the tab's own
    if (tf !== "1h") stats.append(stat("Change 1h", fmt.percent(d.price_1hr_change), changeClass(d.price_1hr_change)));
    if (tf !== "24h") stats.append(stat("Change 24h", fmt.percent(d.price_24h_change), changeClass(d.price_24h_change)));
    stats.append(
      stat(`Volume ${tf}`, fmt.usd(d.volume_usd)),
      stat(`Txns ${tf}`, fmt.count(d.transaction_count), "", txns),
      stat("Liquidity", fmt.usd(d.liquidity_usd)),
      stat("Market cap", fmt.usd(d.market_cap_usd)),
      stat("FDV", fmt.usd(d.fdv_usd)),
      stat("Protocol", d.protocol || fmt.DASH),
      stat("Pair age", fmt.age(d.pair_created_at, Date.now())),
    );

    const sources = Object.entries(d.by_source || {}).map(([name, s]) => {
      const status = el("span", s.excluded ? "badge excluded" : "badge used", s.excluded ? "excluded" : "used");
      status.title = s.excluded ? "Left out of the merged price: it disagrees with the other sources" : "Averaged into the price";
      return [
        SOURCE_NAMES[name] || name,
        fmt.priceUsd(s.price_usd),
        fmt.usd(s.market_cap_usd),
        fmt.usd(s.volume_24h_usd),
        s.fetched_at ? `${fmt.age(s.fetched_at, Date.now())} ago` : fmt.DASH,
        status,
      ];
    });
    const pools = (d.pools || []).map((p) => {
      const pair = el("span", "pool-pair");
      pair.append(el("span", null, `${d.token_ticker || "?"}/${p.quote_symbol || fmt.shortAddress(p.quote_token)}`));
      const addr = el("code", "pool-address", fmt.shortAddress(p.address));
      addr.title = p.address || "";
      pair.append(addr);
      const volume = p.volume_usd && typeof p.volume_usd === "object" ? p.volume_usd[tf] : p.volume_usd;
      return [
        pair,
        p.dex || p.dex_id || fmt.DASH,
        fmt.priceUsd(p.price_usd),
        fmt.usd(p.liquidity_usd),
        fmt.usd(volume),
        (p.sources || []).map((s) => SOURCE_NAMES[s] || s).join(", "),
      ];
    });

    const safetySection = el("section", "drawer-section safety");
    safetySection.dataset.safety = "";
    const yesNo = (value, yes, no) => (value == null ? fmt.DASH : value ? yes : no);
    const safety = el("dl", "stats");
    safety.append(
      stat("Holders", d.holder_count == null ? fmt.DASH : d.holder_count.toLocaleString("en-US")),
      stat("Top holders", d.top_holders_pct == null ? fmt.DASH : `${fmt.plainNumber(Math.round(d.top_holders_pct * 100) / 100)}%`),
      stat("Mint authority", yesNo(d.mint_authority_disabled, "disabled", "live"), d.mint_authority_disabled === false ? "down" : ""),
      stat("Freeze authority", yesNo(d.freeze_authority_disabled, "disabled", "live"), d.freeze_authority_disabled === false ? "down" : ""),
      stat("Verified", yesNo(d.verified, "yes", "no")),
      stat("Organic score", d.organic_score == null ? fmt.DASH : fmt.plainNumber(Math.round(d.organic_score * 10) / 10)),
    );
    safetySection.append(el("h3", null, "Safety (Jupiter)"), safety);
    const sourceSection = el("section", "drawer-section");
    sourceSection.append(
      el("h3", null, "Price by source"),
      sources.length
        ? table("mini by-source", [
            { label: "Source" }, { label: "Price", num: true }, { label: "Mkt cap", num: true },
            { label: "Vol 24h", num: true }, { label: "Fetched", num: true }, { label: "" },
          ], sources)
        : el("p", "muted", "No per-source figures."),
    );
    const poolSection = el("section", "drawer-section");
    poolSection.append(
      el("h3", null, `Pools (${pools.length})`),
      pools.length
        ? table("mini pools", [
            { label: "Pair" }, { label: "DEX" }, { label: "Price", num: true },
            { label: "Liquidity", num: true }, { label: `Vol ${tf}`, num: true }, { label: "Sources" },
          ], pools)
        : el("p", "muted", "No pools reported."),
    );
    const scroll = this.body.scrollTop;
    this.body.replaceChildren(address, stats, safetySection, sourceSection, poolSection);
    this.body.scrollTop = scroll;
  }

  _trapFocus(event) {
    const focusable = [...this.root.querySelectorAll("button, [href], [tabindex]:not([tabindex='-1'])")].filter((n) => !n.disabled && n.offsetParent !== null);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      last.focus();
      event.preventDefault();
    } else if (!event.shiftKey && document.activeElement === last) {
      first.focus();
      event.preventDefault();
    }
  }
}
