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
import { RowSet, applyBatch, applySnapshot } from "./rowset.js";
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
    this.rowset = new RowSet(); // TOKEN objects, in the table's order, for the current timeframe
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
    return { timeframe: this.timeframe, ordering: this.ordering, q: this.q, protocol: this.protocol, safe: this.safe };
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
        const wanted = mode === "refresh" ? Math.max(PAGE_SIZE, this.rowset.length) : PAGE_SIZE;
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
      if (JSON.stringify(this.query()) === query) this.load(mode === "more" ? "more" : mode === "refresh" && this.rowset.length ? "refresh" : "replace");
    }, seconds * 1000);
  }

  _replace(tokens) {
    this.rowset.replace(tokens);
    this.table.setRows(this.rowset.rows, null);
    this.root.querySelector("[data-table-wrap]").scrollTop = 0;
  }

  /** Same query, fresh values; rows keep their place (see RowSet.merge). */
  _merge(tokens) {
    const directions = this.rowset.merge(tokens);
    this.table.setRows(this.rowset.rows, directions);
  }

  _append(tokens) {
    this.rowset.append(tokens);
    this.table.setRows(this.rowset.rows, null);
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
    const shown = this.rowset.length;
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

  onSnapshot(tokens, { reconnect }) {
    const { universe, changed } = applySnapshot(this.rowset, tokens, this.timeframe);
    this.universe = universe;
    for (const { row, directions } of changed) this.table.updateRow(row, reconnect ? directions : null);
    // After a reconnect, tokens may have come and gone and the window fields moved: refetch the rows.
    if (reconnect) this.scheduleRefresh();
    this.scheduleMeta();
  }

  /** One refresh's events (de-duplicated and in seq order by TokenStream); see rowset.applyBatch. */
  onBatch({ updates, alerts }) {
    const view = { ...this.query(), hasMore: Boolean(this.next) };
    const { ops, windowTouched } = applyBatch(this.rowset, this.universe, updates, view);
    for (const op of ops) {
      if (op.op === "update") this.table.updateRow(op.row, op.directions);
      else if (op.op === "insert") this._rowInserted(op.row, op.index);
      else this._rowRemoved(op.mint);
    }
    // the `all` stream leaves an alert's TOKEN out: the page shows it from the token it holds
    for (const alert of alerts) this.feed.add(alert, model.alertToken(alert, this.universe));
    if (windowTouched) this.scheduleRefresh();
    // the open token's detail (price by source and the rest) follows its row, not only the poll
    if (updates.some((e) => e.token_address === this.drawer.mint)) this.drawer.reload(); // mint: null when closed
    this.scheduleMeta();
  }

  _rowInserted(row, index) {
    this.table.insertRow(row, index);
    if (typeof this.count === "number") this.count += 1;
    this._renderFooter();
  }

  _rowRemoved(mint) {
    this.table.removeRow(mint);
    if (typeof this.count === "number") this.count = Math.max(0, this.count - 1);
    this._renderFooter();
  }

  /** The server no longer holds the missed events: reload the rows from REST. */
  onResync() {
    this.feed.note("Reconnected after a long gap: alerts from that time may be missing.");
    this.load(this.rowset.length ? "refresh" : "replace");
  }

  // --- drawer -----------------------------------------------------------------------------------------

  openToken(mint, opener) {
    this.opener = opener && opener !== document.body ? opener : null;
    this.drawer.open(mint, this.timeframe, this.rowset.get(mint) || this.universe.get(mint));
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
