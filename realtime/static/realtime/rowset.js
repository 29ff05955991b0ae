// The screener's row set (pure: no DOM, no network): the loaded TOKEN rows in the table's order,
// and how REST pages and stream frames change them. screener.js renders what these return.
import * as model from "./model.js";

export class RowSet {
  constructor(rows = []) {
    this.replace(rows);
  }

  get length() {
    return this.rows.length;
  }

  has(mint) {
    return this.byMint.has(mint);
  }

  get(mint) {
    return this.byMint.get(mint);
  }

  /** A new query's first rows, in the API's order. */
  replace(tokens) {
    this.rows = [...tokens];
    this.byMint = new Map(this.rows.map((t) => [t.token_address, t]));
  }

  /**
   * Same query, fresh values. Rows keep their place (no jumping under the pointer): values merge
   * into the row objects, rows the API no longer lists go, new ones come in at the API's position.
   * Returns mint -> {field: direction} of what moved, for the cells to flash.
   */
  merge(tokens) {
    const fresh = new Map(tokens.map((t) => [t.token_address, t]));
    const directions = new Map();
    const rows = this.rows.filter((row) => fresh.has(row.token_address));
    for (const row of rows) directions.set(row.token_address, model.mergeToken(row, fresh.get(row.token_address)));
    tokens.forEach((token, index) => {
      if (!this.byMint.has(token.token_address)) rows.splice(Math.min(index, rows.length), 0, token);
    });
    this.replace(rows);
    return directions;
  }

  /** The next page's rows after the loaded ones (rows already shown are skipped). Returns those added. */
  append(tokens) {
    const fresh = tokens.filter((t) => !this.byMint.has(t.token_address));
    for (const t of fresh) this.byMint.set(t.token_address, t);
    this.rows = this.rows.concat(fresh);
    return fresh;
  }

  /**
   * A token the stream added, placed where the current ordering puts it. Returns {row, index}, or
   * null when it is already shown, does not match the filters, or sorts into a page not loaded yet.
   */
  add(token, { timeframe, ordering, q, protocol, hasMore }) {
    if (this.byMint.has(token.token_address) || !model.matchesFilters(token, { q, protocol })) return null;
    const row = model.tokenForTimeframe(token, timeframe);
    const index = model.insertionIndex(this.rows, row, ordering, Boolean(hasMore));
    if (index < 0) return null;
    this.rows.splice(index, 0, row);
    this.byMint.set(row.token_address, row);
    return { row, index };
  }

  /** Drop a row; true when it was shown. */
  remove(mint) {
    if (!this.byMint.has(mint)) return false;
    this.rows = this.rows.filter((t) => t.token_address !== mint);
    this.byMint.delete(mint);
    return true;
  }
}

/** Stream TOKEN values (24h) that may be shown under `timeframe` (see model.streamChanges). */
export function streamValues(token, timeframe) {
  const changes = Object.fromEntries(Object.entries(token).map(([field, value]) => [field, [null, value]]));
  return model.streamChanges(changes, timeframe).apply;
}

/**
 * A `snapshot` frame: the new universe (mint -> TOKEN) and, for every shown row whose values
 * moved, {row, directions}. The rows are updated in place.
 */
export function applySnapshot(rowset, tokens, timeframe) {
  const universe = new Map(tokens.map((t) => [t.token_address, t]));
  const changed = [];
  for (const row of rowset.rows) {
    const fresh = universe.get(row.token_address);
    if (!fresh) continue;
    const directions = model.applyValues(row, streamValues(fresh, timeframe));
    if (Object.keys(directions).length) changed.push({ row, directions });
  }
  return { universe, changed };
}

/**
 * One batch's token events (de-duplicated, in seq order) applied to `universe` and the row set.
 *
 * Stream TOKEN values are for timeframe 24h. On the 24h tab every change applies; on another tab
 * only the timeframe-independent fields do, and a change to that tab's window fields (which the
 * stream does not carry) sets `windowTouched`, asking for a REST refresh of the loaded rows.
 * Returns {ops, windowTouched}: the table operations in the order they happened, each
 * {op: "update", row, directions} | {op: "insert", row, index} | {op: "remove", mint}.
 */
export function applyBatch(rowset, universe, updates, view) {
  const out = { ops: [], windowTouched: false };
  for (const event of updates) {
    const mint = event.token_address;
    if (event.type === "token.update") {
      const known = universe.get(mint);
      if (known) for (const [field, pair] of Object.entries(event.changes || {})) known[field] = pair[1];
      const row = rowset.get(mint);
      if (!row) continue;
      const { apply, windowTouched } = model.streamChanges(event.changes, view.timeframe);
      out.windowTouched = out.windowTouched || windowTouched;
      const directions = model.applyValues(row, apply);
      if (Object.keys(directions).length) out.ops.push({ op: "update", row, directions });
    } else if (event.type === "token.added") {
      universe.set(mint, { ...event.token });
      const placed = rowset.add(event.token, view);
      if (placed) {
        out.ops.push({ op: "insert", ...placed });
        if (view.timeframe !== model.STREAM_TIMEFRAME) out.windowTouched = true;
      }
    } else if (event.type === "token.removed") {
      universe.delete(mint);
      if (rowset.remove(mint)) out.ops.push({ op: "remove", mint });
    }
  }
  return out;
}
