// The token detail's candlestick chart: GET /api/tokens/{mint}/candles/ (scrolling back along
// `previous`), live `candle` frames from its own /ws/tokens/ connection, interval buttons, a volume
// pane where volume is known and the crosshair's values. Drawn by TradingView Lightweight Charts
// 5.2.1, vendored (realtime/static/realtime/vendor/lightweight-charts/, Apache-2.0).

import {
  CandlestickSeries,
  CrosshairMode,
  HistogramSeries,
  createChart,
} from "./vendor/lightweight-charts/lightweight-charts.standalone.production.mjs";
import * as fmt from "./format.js";

export const INTERVALS = ["1m", "5m", "15m", "1h", "4h", "1d"];
const PAGE = 300;
const UP = "#26a69a";
const DOWN = "#ef5350";

export class CandleChart {
  /** @param root the [data-chart] section; @param apiBase "/api/tokens/"; @param wsPath "/ws/tokens/" */
  constructor(root, { apiBase, wsPath }) {
    this.root = root;
    this.apiBase = apiBase;
    this.wsPath = wsPath;
    this.canvas = root.querySelector("[data-chart-canvas]");
    this.legend = root.querySelector("[data-chart-legend]");
    this.message = root.querySelector("[data-chart-message]");
    this.buttons = [...root.querySelectorAll("[data-interval]")];
    this.interval = "5m";
    this.mint = null;
    this.bars = new Map(); // t -> candle
    this.previous = null;
    this.loadingOlder = false;
    this.generation = 0;
    this.socket = null;
    this.chart = null;
    for (const button of this.buttons) {
      button.addEventListener("click", () => this.setInterval(button.dataset.interval));
    }
  }

  _ensureChart() {
    if (this.chart) return;
    this.chart = createChart(this.canvas, {
      autoSize: true,
      layout: { background: { color: "transparent" }, textColor: "#c9d1d9", attributionLogo: false },
      grid: { vertLines: { color: "rgba(255,255,255,0.05)" }, horzLines: { color: "rgba(255,255,255,0.05)" } },
      crosshair: { mode: CrosshairMode.Normal },
      timeScale: { timeVisible: true, secondsVisible: false, borderVisible: false },
      rightPriceScale: { borderVisible: false },
    });
    this.series = this.chart.addSeries(CandlestickSeries, {
      upColor: UP, downColor: DOWN, wickUpColor: UP, wickDownColor: DOWN, borderVisible: false,
      priceFormat: { type: "custom", formatter: (p) => fmt.price(p), minMove: 1e-12 },
    });
    this.volume = this.chart.addSeries(HistogramSeries, { priceFormat: { type: "volume" }, priceScaleId: "" }, 1);
    this.chart.panes()[1]?.setHeight(70);
    this.chart.subscribeCrosshairMove((param) => this._showLegend(param));
    this.chart.timeScale().subscribeVisibleLogicalRangeChange((range) => {
      if (range && range.from < 10) this._loadOlder();
    });
  }

  show(mint) {
    this.mint = mint;
    this.root.hidden = false;
    this._ensureChart();
    this._reload();
    this._connect();
  }

  hide() {
    this.mint = null;
    this.generation += 1;
    this.root.hidden = true;
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close();
      this.socket = null;
    }
  }

  setInterval(interval) {
    if (!INTERVALS.includes(interval) || interval === this.interval) return;
    const old = this.interval;
    this.interval = interval;
    if (this.mint) {
      this._send({ action: "unsubscribe", candles: { tokens: [this.mint], interval: old } });
      this._reload();
      this._subscribe();
    }
  }

  _markButtons() {
    for (const b of this.buttons) b.setAttribute("aria-pressed", String(b.dataset.interval === this.interval));
    this.root.dataset.chartInterval = this.interval;
  }

  async _reload() {
    this._markButtons();
    const generation = ++this.generation;
    this.bars = new Map();
    this.previous = null;
    this._draw(true);
    this._say("Loading\u2026");
    try {
      const body = await this._fetch(`${this.apiBase}${encodeURIComponent(this.mint)}/candles/?interval=${this.interval}&limit=${PAGE}`);
      if (generation !== this.generation) return;
      this._merge(body.candles);
      this.previous = body.previous;
      this._draw(true);
    } catch (err) {
      if (generation === this.generation) this._say(`Could not load the price history (${err.message || err}).`);
    }
  }

  async _loadOlder() {
    if (!this.previous || this.loadingOlder) return;
    this.loadingOlder = true;
    const generation = this.generation;
    try {
      const body = await this._fetch(this.previous);
      if (generation !== this.generation) return;
      this._merge(body.candles);
      this.previous = body.previous;
      this._draw(false);
    } catch {
      // the next scroll tries again
    } finally {
      this.loadingOlder = false;
    }
  }

  async _fetch(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(response.status === 404 ? "no history for this token" : `HTTP ${response.status}`);
    return response.json();
  }

  _merge(candles) {
    for (const c of candles || []) this.bars.set(c.t, c);
  }

  _sorted() {
    return [...this.bars.values()].sort((a, b) => a.t - b.t);
  }

  _draw(fit) {
    const bars = this._sorted();
    this.series.setData(bars.map((c) => ({ time: c.t, open: c.open, high: c.high, low: c.low, close: c.close })));
    this.volume.setData(
      bars.filter((c) => c.volume_usd != null).map((c) => ({ time: c.t, value: c.volume_usd, color: c.close >= c.open ? "rgba(38,166,154,0.5)" : "rgba(239,83,80,0.5)" })),
    );
    this.root.dataset.candles = String(bars.length);
    this.root.dataset.lastClose = bars.length ? String(bars[bars.length - 1].close) : "";
    if (fit && bars.length) this.chart.timeScale().scrollToRealTime();
    this._say(bars.length ? "" : "No price history yet: candles appear as snapshots arrive.");
    if (bars.length) this._showLegend(null);
  }

  _live(candle) {
    const last = this._sorted().pop();
    if (last && candle.t < last.t) return;
    this.bars.set(candle.t, candle);
    this.series.update({ time: candle.t, open: candle.open, high: candle.high, low: candle.low, close: candle.close });
    if (candle.volume_usd != null) this.volume.update({ time: candle.t, value: candle.volume_usd });
    this.root.dataset.candles = String(this.bars.size);
    this.root.dataset.lastClose = String(candle.close);
    this.root.dataset.liveUpdates = String(Number(this.root.dataset.liveUpdates || 0) + 1);
    this._say("");
    this._showLegend(null);
  }

  _showLegend(param) {
    let c = null;
    if (param && param.time !== undefined) c = this.bars.get(param.time);
    if (!c) c = this._sorted().pop();
    if (!c) {
      this.legend.textContent = "";
      return;
    }
    const when = new Date(c.t * 1000).toISOString().slice(0, 16).replace("T", " ");
    const vol = c.volume_usd == null ? "" : `  V ${fmt.usd(c.volume_usd)}`;
    this.legend.textContent = `${when}  O ${fmt.price(c.open)}  H ${fmt.price(c.high)}  L ${fmt.price(c.low)}  C ${fmt.price(c.close)}${vol}`;
    this.legend.classList.toggle("up", c.close >= c.open);
    this.legend.classList.toggle("down", c.close < c.open);
  }

  _say(text) {
    this.message.textContent = text;
    this.message.hidden = !text;
  }

  // --- live candles over the WebSocket ----------------------------------------------------------

  _connect() {
    if (this.socket) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${this.wsPath}`);
    this.socket = socket;
    socket.onopen = () => this._subscribe();
    socket.onmessage = (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame.token_address !== this.mint || frame.interval !== this.interval) return;
      if (frame.type === "candle") this._live(frame.candle);
      else if (frame.type === "candles") {
        this._merge(frame.candles); // covers what happened while the socket was away
        this._draw(false);
      }
    };
    socket.onclose = () => {
      this.socket = null;
      if (this.mint) setTimeout(() => this.mint && this._connect(), 2000);
    };
  }

  _subscribe() {
    if (this.mint) this._send({ action: "subscribe", candles: { tokens: [this.mint], interval: this.interval } });
  }

  _send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
}
