// The /ws/tokens/ client: subscribe to everything, keep the seq, reconnect with backoff and resume.
// No DOM: the socket class, timers and clock are injectable, so node tests drive it with fakes.

import { isAlert } from "./model.js";

export const STATUS = {
  CONNECTING: "connecting",
  LIVE: "live",
  RECONNECTING: "reconnecting",
  OFFLINE: "offline",
};

const DEFAULTS = {
  baseDelayMs: 500, // first retry; doubles per failed attempt
  maxDelayMs: 10000,
  offlineAfter: 6, // failed attempts in a row before the indicator says "offline" (still retrying)
  pingEveryMs: 20000,
  silentCloseMs: 50000, // no frame at all for this long: the connection is dead, reconnect
  resumeRetryMs: 5000, // a gap still open after this long sends `resume` again
};

/**
 * Stream state, in seq terms:
 * - `lastSeq`: the last event seen, in order; the next one on the `all` stream must be lastSeq + 1.
 * - `stateSeq`: the seq of the last `snapshot`; events up to it are already part of the table's
 *   state (a reconnect's snapshot is newer than the events `resume` replays), so for those only
 *   the alerts are reported, not their changes.
 *
 * Callbacks: onStatus(status), onSnapshot(tokens, {seq, reconnect}), onBatch({updates, alerts}),
 * onResync(seq) (the server no longer has the missed events: reload from REST).
 */
export class TokenStream {
  constructor(url, options = {}) {
    this.url = url;
    this.opts = { ...DEFAULTS, ...options };
    this.WebSocket = options.WebSocket || globalThis.WebSocket;
    this.setTimeout = options.setTimeout || globalThis.setTimeout.bind(globalThis);
    this.clearTimeout = options.clearTimeout || globalThis.clearTimeout.bind(globalThis);
    this.now = options.now || (() => Date.now());
    this.random = options.random || Math.random;
    this.isOnline = options.isOnline || (() => true);
    this.on = {
      status: options.onStatus || (() => {}),
      snapshot: options.onSnapshot || (() => {}),
      batch: options.onBatch || (() => {}),
      resync: options.onResync || (() => {}),
      error: options.onError || (() => {}),
    };
    this.ws = null;
    this.status = null;
    this.lastSeq = null;
    this.stateSeq = null;
    this.resumePending = false;
    this.resumeSentAt = 0;
    this.failures = 0;
    this.wasLive = false;
    this.stopped = true;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastFrameAt = 0;
  }

  start() {
    this.stopped = false;
    this._connect();
  }

  stop() {
    this.stopped = true;
    this._clearTimers();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      ws.close(1000);
    }
    this._setStatus(STATUS.OFFLINE);
  }

  /** Retry now instead of waiting out the backoff (the browser came back online, the tab is visible). */
  reconnectNow() {
    if (this.stopped || (this.ws && this.ws.readyState <= 1)) return;
    this.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this._connect();
  }

  send(message) {
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(message));
  }

  _setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.on.status(status);
  }

  _clearTimers() {
    this.clearTimeout(this.retryTimer);
    this.clearTimeout(this.pingTimer);
    this.retryTimer = this.pingTimer = null;
  }

  _connect() {
    this._clearTimers();
    if (!this.isOnline()) {
      this._setStatus(STATUS.OFFLINE);
      this._scheduleRetry();
      return;
    }
    if (this.status !== STATUS.OFFLINE) {
      this._setStatus(this.wasLive ? STATUS.RECONNECTING : STATUS.CONNECTING);
    }
    let ws;
    try {
      ws = new this.WebSocket(this.url);
    } catch (err) {
      this.on.error(err);
      this._scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => this._opened(ws);
    ws.onmessage = (event) => this._frame(ws, event.data);
    ws.onerror = () => {}; // a close event follows
    ws.onclose = () => this._closed(ws);
  }

  _opened(ws) {
    if (ws !== this.ws) return;
    this.lastFrameAt = this.now();
    this.send({ action: "subscribe", all: true });
    if (this.lastSeq !== null) this._resume();
    this._schedulePing();
  }

  _resume() {
    this.send({ action: "resume", since: this.lastSeq });
    this.resumePending = true;
    this.resumeSentAt = this.now();
  }

  _closed(ws) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.resumePending = false;
    this.clearTimeout(this.pingTimer);
    if (this.stopped) return;
    this._scheduleRetry();
  }

  /** Exponential backoff with jitter: base * 2^n, capped, times a random 0.5..1. */
  _scheduleRetry() {
    this.failures += 1;
    const exp = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** (this.failures - 1));
    const delay = Math.round(exp * (0.5 + 0.5 * this.random()));
    if (!this.isOnline() || this.failures >= this.opts.offlineAfter) this._setStatus(STATUS.OFFLINE);
    else this._setStatus(this.wasLive ? STATUS.RECONNECTING : STATUS.CONNECTING);
    this.clearTimeout(this.retryTimer);
    this.retryTimer = this.setTimeout(() => {
      this.retryTimer = null;
      this._connect();
    }, delay);
    return delay;
  }

  _schedulePing() {
    this.clearTimeout(this.pingTimer);
    this.pingTimer = this.setTimeout(() => {
      if (!this.ws) return;
      if (this.now() - this.lastFrameAt > this.opts.silentCloseMs) {
        // Half-open connection: nothing has come for too long. Closing fires onclose -> retry.
        const ws = this.ws;
        this._closed(ws);
        ws.onclose = null;
        ws.close(4000);
        return;
      }
      this.send({ action: "ping" });
      this._schedulePing();
    }, this.opts.pingEveryMs);
  }

  _frame(ws, data) {
    if (ws !== this.ws) return;
    this.lastFrameAt = this.now();
    let msg;
    try {
      msg = JSON.parse(data);
    } catch (err) {
      this.on.error(err);
      return;
    }
    switch (msg && msg.type) {
      case "snapshot":
        return this._snapshot(msg);
      case "batch":
        return this._batch(msg.events || []);
      case "resync_required":
        return this._resync(msg.seq);
      case "error":
        return this.on.error(new Error(`${msg.code}: ${msg.message}`));
      default:
        return undefined; // welcome, pong
    }
  }

  _snapshot(msg) {
    const reconnect = this.wasLive;
    this.stateSeq = msg.seq;
    if (this.lastSeq === null) this.lastSeq = msg.seq;
    this.failures = 0;
    this.wasLive = true;
    this._setStatus(STATUS.LIVE);
    this.on.snapshot(msg.tokens || [], { seq: msg.seq, reconnect });
  }

  /**
   * Events in seq order. Already seen (seq <= lastSeq): skipped. A gap on the `all` stream: ask
   * `resume` from lastSeq and drop the rest of the frame (the replay brings it again, in order).
   */
  _batch(events) {
    const updates = [];
    const alerts = [];
    for (const event of events) {
      const seq = event.seq;
      if (typeof seq !== "number") continue;
      if (this.lastSeq !== null && seq <= this.lastSeq) continue;
      if (this.lastSeq !== null && seq > this.lastSeq + 1) {
        if (!this.resumePending || this.now() - this.resumeSentAt > this.opts.resumeRetryMs) this._resume();
        break;
      }
      this.lastSeq = seq;
      this.resumePending = false;
      if (this.stateSeq === null || seq > this.stateSeq) updates.push(event);
      if (isAlert(event)) alerts.push(event);
    }
    if (updates.length || alerts.length) this.on.batch({ updates, alerts });
  }

  _resync(seq) {
    this.resumePending = false;
    const known = [seq, this.stateSeq].filter((s) => typeof s === "number");
    if (known.length) this.lastSeq = Math.max(...known);
    this.stateSeq = this.lastSeq;
    this.on.resync(seq);
  }
}
