// The live screener page (/): REST pages for the chosen query, kept current by /ws/tokens/.
//
// Data flow: the table shows the REST list for (timeframe, ordering, q, protocol), walked with the
// cursor `next` ("load more"). The WebSocket (`subscribe all`) then keeps those rows current in
// place: `snapshot` (after every (re)subscribe) and `batch` frames of token.update / token.added /
// token.removed; alerts go to the feed. Rows keep their place on updates (they would jump under the
// pointer otherwise); a new sort, tab, search or filter loads them in the API's order again.

import { TokenApi } from "./api.js";
import { Controls } from "./controls.js";
import { TokenDrawer } from "./drawer.js";
import { AlertFeed } from "./feed.js";
import * as model from "./model.js";
import { StatusBar } from "./status.js";
import { TokenStream } from "./stream.js";
import { TokenTable } from "./table.js";
import { debounce } from "./timing.js";

const PAGE_SIZE = 50;
const MAX_LIMIT = 200; // the API's largest page
const REFRESH_DEBOUNCE_MS = 800;
const REFRESH_MAX_WAIT_MS = 4000;
const META_EVERY_MS = 10000;
const META_MIN_GAP_MS = 3000;

class Screener {
  constructor(root) {
    this.root = root;
    this.api = new TokenApi(root.dataset.apiBase);
    this.rows = []; // TOKEN objects, in the table's order, for the current timeframe
    this.byMint = new Map();
    this.universe = new Map(); // every tracked token (24h TOKEN), from the stream
    this.next = null;
    this.count = null;
    this.busy = false;
    this.controller = null;
    this.refreshAgain = false;
    this.loadFailures = 0;
    this.lastMetaAt = 0;
    Object.assign(this, model.readQuery(window.location.search));

    this.status = new StatusBar(root.querySelector("[data-status]"), {
      staleAfter: Number(root.dataset.staleAfter),
      onAging: () => this.refreshMeta(),
    });
    this.table = new TokenTable(root.querySelector("#token-table"), {
      onSort: (ordering) => this.setQuery({ ordering }),
      onOpen: (mint) => this.openToken(mint, null), // focus goes back to the row's button
    });
    this.feed = new AlertFeed(root.querySelector("[data-alerts]"), {
      onOpen: (mint) => this.openToken(mint, document.activeElement),
      counter: root.querySelector("[data-alert-count]"),
    });
    this.drawer = new TokenDrawer(root.querySelector("[data-drawer]"), root.querySelector("[data-drawer-backdrop]"), {
      fetchDetail: (mint, timeframe, signal) => this.api.detail(mint, timeframe, signal),
      onClose: (mint) => this._restoreFocus(mint),
    });
    this.loadMoreButton = root.querySelector("[data-load-more]");
    this.shownLabel = root.querySelector("[data-shown]");
    this.message = root.querySelector("[data-message]");
    this.scheduleRefresh = debounce(() => this.load("refresh"), REFRESH_DEBOUNCE_MS, REFRESH_MAX_WAIT_MS);
    this.scheduleMeta = debounce(() => this.refreshMeta(), 500, 2000);

    const wsUrl = new URL(root.dataset.wsPath, window.location.href);
    wsUrl.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
    this.stream = new TokenStream(wsUrl.href, {
      onStatus: (status) => this.status.setConnection(status),
      onSnapshot: (tokens, info) => this.onSnapshot(tokens, info),
      onBatch: (batch) => this.onBatch(batch),
      onResync: () => this.onResync(),
      onError: (err) => console.warn("screener stream:", err.message || err),
      isOnline: () => navigator.onLine !== false,
    });
  }

  start() {
    this.controls = new Controls(this.root, {
      onChange: (changes) => this.setQuery(changes),
      canFocusSearch: () => !this.drawer.isOpen,
    });
    this.loadMoreButton.addEventListener("click", () => this.load("more"));
    this._syncControls();
    this.load("replace");
    this.stream.start();
    setInterval(() => this.status.tick(), 1000);
    setInterval(() => this.table.tickAges(), 30000);
    setInterval(() => this.refreshMeta(), META_EVERY_MS);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) {
        this.stream.reconnectNow();
        this.refreshMeta();
      }
    });
    window.addEventListener("online", () => this.stream.reconnectNow());
  }

  // --- query state ------------------------------------------------------------------------------

  query() {
    return { timeframe: this.timeframe, ordering: this.ordering, q: this.q, protocol: this.protocol };
  }

  setQuery(changes) {
    const before = JSON.stringify(this.query());
    Object.assign(this, changes);
    if (JSON.stringify(this.query()) === before) return;
    this._syncControls();
    window.history.replaceState(null, "", model.querySearch(this.query()) || window.location.pathname);
    this.load("replace");
  }

  _syncControls() {
    this.controls.sync(this.query());
    this.table.setHead(this.timeframe, this.ordering);
    this.root.dataset.timeframe = this.timeframe;
  }

  // --- REST ---------------------------------------------------------------------------------------

  /**
   * mode "replace": a new query, first page, no flashing; "refresh": the same query again, as many
   * rows as are loaded, changed cells flash (used for the window fields on non-24h tabs, after a
   * reconnect and after a resync); "more": append the `next` page.
   */
  async load(mode) {
    if (mode === "more" && (this.busy || !this.next)) return;
    if (mode === "refresh" && this.busy) {
      this.refreshAgain = true;
      return;
    }
    if (this.controller) this.controller.abort(); // only a "replace" gets here while busy
    const controller = new AbortController();
    this.controller = controller;
    this.busy = true;
    this._renderFooter();
    const query = this.query();
    const signal = controller.signal;
    try {
      if (mode === "more") {
        const page = await this.api.list(query, { url: this.next, signal });
        this._append(page.results);
        this.next = model.relativeUrl(page.next, window.location.href);
        this._setMeta(page.meta);
      } else {
        const wanted = mode === "refresh" ? Math.max(PAGE_SIZE, this.rows.length) : PAGE_SIZE;
        let page = await this.api.list({ ...query, limit: Math.min(MAX_LIMIT, wanted) }, { signal });
        const tokens = [...page.results];
        while (tokens.length < wanted && page.next) {
          page = await this.api.list(query, { url: model.relativeUrl(page.next, window.location.href), signal });
          tokens.push(...page.results);
        }
        this.next = model.relativeUrl(page.next, window.location.href);
        if (mode === "refresh") this._merge(tokens);
        else this._replace(tokens);
        this._setMeta(page.meta);
      }
      this.loadFailures = 0;
      this._say("");
    } catch (err) {
      if (signal.aborted) return;
      this._retryLater(mode, err);
    } finally {
      if (this.controller === controller) {
        this.controller = null;
        this.busy = false;
        this._renderFooter();
        if (this.refreshAgain) {
          this.refreshAgain = false;
          this.scheduleRefresh();
        }
      }
    }
  }

  _retryLater(mode, err) {
    this.loadFailures += 1;
    const backoff = Math.min(30, 2 ** this.loadFailures);
    const seconds = err.retryAfter || backoff;
    if (err.status === 503) this._say(`Waiting for the first market data\u2026 retrying in ${seconds}s`);
    else if (err.status === 429) this._say(`Too many requests; retrying in ${seconds}s`);
    else this._say(`Could not load tokens (${err.message || err}); retrying in ${seconds}s`, true);
    const query = JSON.stringify(this.query());
    setTimeout(() => {
      if (JSON.stringify(this.query()) === query) this.load(mode === "more" ? "more" : mode === "refresh" && this.rows.length ? "refresh" : "replace");
    }, seconds * 1000);
  }

  _replace(tokens) {
    this.rows = tokens;
    this.byMint = new Map(tokens.map((t) => [t.token_address, t]));
    this.table.setRows(this.rows, null);
    this.root.querySelector("[data-table-wrap]").scrollTop = 0;
  }

  /**
   * Same query, fresh values. Rows stay where they are (no jumping under the pointer while a trader
   * reads them; changing the sort or the tab re-sorts): values merge into the row objects and flash,
   * rows the API no longer lists go, new ones come in at the API's position.
   */
  _merge(tokens) {
    const fresh = new Map(tokens.map((t) => [t.token_address, t]));
    const directions = new Map();
    const rows = this.rows.filter((row) => fresh.has(row.token_address));
    for (const row of rows) directions.set(row.token_address, model.mergeToken(row, fresh.get(row.token_address)));
    tokens.forEach((token, index) => {
      if (!this.byMint.has(token.token_address)) rows.splice(Math.min(index, rows.length), 0, token);
    });
    this.rows = rows;
    this.byMint = new Map(rows.map((t) => [t.token_address, t]));
    this.table.setRows(this.rows, directions);
  }

  _append(tokens) {
    const fresh = tokens.filter((t) => !this.byMint.has(t.token_address));
    for (const t of fresh) this.byMint.set(t.token_address, t);
    this.rows = this.rows.concat(fresh);
    this.table.setRows(this.rows, null);
  }

  async refreshMeta() {
    if (Date.now() - this.lastMetaAt < META_MIN_GAP_MS) return;
    this.lastMetaAt = Date.now();
    const query = JSON.stringify(this.query());
    try {
      const page = await this.api.list({ ...this.query(), limit: 1 });
      if (JSON.stringify(this.query()) === query) this._setMeta(page.meta); // else its count is another query's
    } catch {
      // the status bar keeps ticking from the last meta; a failing API shows in the list loads
    }
  }

  _setMeta(meta) {
    if (!meta) return;
    this.status.setMeta(meta);
    this.count = meta.count;
    this._renderFooter();
  }

  _renderFooter() {
    const shown = this.rows.length;
    const total = typeof this.count === "number" ? Math.max(this.count, shown) : null;
    this.shownLabel.textContent = total === null ? "" : `${shown} of ${total} tokens`;
    this.loadMoreButton.hidden = !this.next;
    this.loadMoreButton.disabled = this.busy;
    this.root.dataset.loading = String(this.busy);
  }

  _say(text, isError = false) {
    this.message.textContent = text;
    this.message.dataset.error = String(isError);
  }

  // --- stream ---------------------------------------------------------------------------------------

  /** Stream TOKEN values (24h) that may be shown under the current timeframe (see model.streamChanges). */
  _streamValues(token) {
    const changes = Object.fromEntries(Object.entries(token).map(([field, value]) => [field, [null, value]]));
    return model.streamChanges(changes, this.timeframe).apply;
  }

  onSnapshot(tokens, { reconnect }) {
    this.universe = new Map(tokens.map((t) => [t.token_address, t]));
    for (const row of this.rows) {
      const fresh = this.universe.get(row.token_address);
      if (!fresh) continue;
      const directions = model.applyValues(row, this._streamValues(fresh));
      if (Object.keys(directions).length) this.table.updateRow(row, reconnect ? directions : null);
    }
    // After a reconnect, tokens may have come and gone and the window fields moved: refetch the rows.
    if (reconnect) this.scheduleRefresh();
    this.scheduleMeta();
  }

  /**
   * One refresh's events (already de-duplicated and in seq order by TokenStream).
   *
   * Stream TOKEN values are for timeframe 24h. On the 24h tab every change applies. On another tab
   * only the timeframe-independent fields (price, market cap, liquidity, name, icon…) are applied
   * from the stream; the window fields (volume, transactions, price change) of that timeframe are
   * not on the stream, so a change to them schedules a debounced REST refresh of the loaded rows,
   * which brings that timeframe's values (and the API's order) at most every few seconds.
   */
  onBatch({ updates, alerts }) {
    let windowTouched = false;
    for (const event of updates) {
      const mint = event.token_address;
      if (event.type === "token.update") {
        const known = this.universe.get(mint);
        if (known) for (const [field, pair] of Object.entries(event.changes || {})) known[field] = pair[1];
        const row = this.byMint.get(mint);
        if (!row) continue;
        const { apply, windowTouched: touched } = model.streamChanges(event.changes, this.timeframe);
        windowTouched = windowTouched || touched;
        const directions = model.applyValues(row, apply);
        if (Object.keys(directions).length) this.table.updateRow(row, directions);
      } else if (event.type === "token.added") {
        this.universe.set(mint, { ...event.token });
        if (this._addToken(event.token) && this.timeframe !== model.STREAM_TIMEFRAME) windowTouched = true;
      } else if (event.type === "token.removed") {
        this.universe.delete(mint);
        this._removeToken(mint);
      }
    }
    for (const alert of alerts) this.feed.add(alert);
    if (windowTouched) this.scheduleRefresh();
    this.scheduleMeta();
  }

  _addToken(token) {
    const mint = token.token_address;
    if (this.byMint.has(mint) || !model.matchesFilters(token, this.query())) return false;
    const row = model.tokenForTimeframe(token, this.timeframe);
    const index = model.insertionIndex(this.rows, row, this.ordering, Boolean(this.next));
    if (index < 0) return false; // it sorts into a page not loaded yet
    this.rows.splice(index, 0, row);
    this.byMint.set(mint, row);
    this.table.insertRow(row, index);
    if (typeof this.count === "number") this.count += 1;
    this._renderFooter();
    return true;
  }

  _removeToken(mint) {
    if (!this.byMint.has(mint)) return;
    this.rows = this.rows.filter((t) => t.token_address !== mint);
    this.byMint.delete(mint);
    this.table.removeRow(mint);
    if (typeof this.count === "number") this.count = Math.max(0, this.count - 1);
    this._renderFooter();
  }

  /** The server no longer holds the missed events: reload the rows from REST. */
  onResync() {
    this.feed.note("Reconnected after a long gap: alerts from that time may be missing.");
    this.load(this.rows.length ? "refresh" : "replace");
  }

  // --- drawer -----------------------------------------------------------------------------------------

  openToken(mint, opener) {
    this.opener = opener && opener !== document.body ? opener : null;
    this.drawer.open(mint, this.timeframe, this.byMint.get(mint) || this.universe.get(mint));
  }

  _restoreFocus(mint) {
    if (this.opener && this.opener.isConnected) this.opener.focus();
    else this.table.focusRow(mint);
    this.opener = null;
  }
}

const root = document.getElementById("screener");
if (root) {
  const screener = new Screener(root);
  window.screener = screener; // for the console and the browser tests
  screener.start();
}
