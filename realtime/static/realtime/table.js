// The token table's DOM: header with sort buttons, one <tr> per token updated in place, cell flashes.

import { el, setText, setTokenIcon, tokenIcon } from "./dom.js";
import * as fmt from "./format.js";

/**
 * Columns in display order. `sort`: the API ordering key; `flashBy`: the TOKEN field whose change
 * flashes the cell (its direction picks green or red); `windowed`: depends on the timeframe.
 */
export const COLUMNS = [
  { id: "rank", label: "#", className: "c-rank num" },
  { id: "token", label: "Token", className: "c-token" },
  { id: "price", label: "Price", sort: "price", flashBy: "price_usd", className: "c-price num" },
  { id: "change", label: "Change", sort: "price_change", flashBy: "price_change", windowed: true, className: "c-change num" },
  { id: "volume", label: "Volume", sort: "volume", flashBy: "volume_usd", windowed: true, className: "c-volume num" },
  { id: "liquidity", label: "Liquidity", sort: "liquidity", flashBy: "liquidity_usd", className: "c-liquidity num" },
  { id: "mcap", label: "Mkt cap", sort: "market_cap", flashBy: "market_cap_usd", className: "c-mcap num" },
  { id: "txns", label: "Txns", sort: "txns", flashBy: "transaction_count", windowed: true, className: "c-txns num" },
  { id: "holders", label: "Holders", sort: "holders", flashBy: "holder_count", className: "c-holders num" },
  { id: "protocol", label: "Protocol", className: "c-protocol" },
  { id: "age", label: "Age", sort: "age", className: "c-age num" },
];

/** The aria-sort value and arrow of a column under `ordering` ("age" = newest first = ascending age). */
function sortState(column, ordering) {
  const key = ordering.replace(/^-/, "");
  if (column.sort !== key) return ["none", ""];
  return ordering.startsWith("-") ? ["descending", "\u25BC"] : ["ascending", "\u25B2"];
}

/** The ordering a click on a column asks for: its default direction first, then toggles. */
export function nextOrdering(column, ordering) {
  const key = ordering.replace(/^-/, "");
  if (column.sort === key) return ordering.startsWith("-") ? key : `-${key}`;
  return column.sort === "age" ? "age" : `-${column.sort}`; // newest pairs / biggest values first
}

function directionClass(value) {
  const d = fmt.direction(value);
  return d > 0 ? "up" : d < 0 ? "down" : "flat";
}

function buildCell(column) {
  const td = el("td", column.className);
  switch (column.id) {
    case "token": {
      const button = el("button", "tok");
      button.type = "button";
      const names = el("span", "names");
      // badges share the ticker's line, so the name keeps the column's whole width
      const second = el("span", "second");
      second.append(el("span", "ticker"), el("span", "badges"));
      names.append(el("span", "name"), second);
      button.append(tokenIcon(24), names);
      td.append(button);
      break;
    }
    case "price":
    case "txns":
      td.append(el("span", "main"), el("span", "sub"));
      break;
    default:
      td.append(el("span", "main"));
  }
  return td;
}

/**
 * Safety badges of a token: its mint and freeze authority ("ok" when disabled, "warn" while live,
 * nothing when unknown) and Jupiter's verification. Rebuilt only when a value changed.
 */
export function safetyBadges(token) {
  const out = [];
  // `short`: what a phone-width table shows (the colour tells off from on; the drawer spells it out)
  const authority = (value, name) => {
    const short = name[0];
    if (value === true) out.push({ kind: "ok", key: name, text: `${name} off`, short, title: `${name} authority disabled` });
    else if (value === false) out.push({ kind: "warn", key: name, text: `${name} on`, short, title: `${name} authority still live` });
  };
  authority(token.mint_authority_disabled, "Mint");
  authority(token.freeze_authority_disabled, "Freeze");
  if (token.verified === true) out.push({ kind: "verified", key: "Verified", text: "\u2713", short: "\u2713", title: "Verified by Jupiter" });
  return out;
}

function paintBadges(span, token) {
  const badges = safetyBadges(token);
  const signature = badges.map((b) => `${b.kind}:${b.key}`).join(",");
  if (span.dataset.sig === signature) return;
  span.dataset.sig = signature;
  span.replaceChildren(
    ...badges.map((b) => {
      const badge = el("span", `sbadge ${b.kind}`, b.text);
      badge.dataset.badge = `${b.key.toLowerCase()}-${b.kind}`;
      badge.dataset.short = b.short;
      badge.title = b.title;
      return badge;
    }),
  );
}

function paintCell(td, column, token, now) {
  const main = td.firstChild;
  switch (column.id) {
    case "token": {
      const button = main;
      setTokenIcon(button.firstChild, token);
      const [name, second] = button.children[1].childNodes;
      const [ticker, badges] = second.childNodes;
      setText(name, token.token_name || token.token_ticker || fmt.shortAddress(token.token_address));
      setText(ticker, token.token_ticker || "");
      button.title = `${token.token_name || ""} (${token.token_ticker || ""})\n${token.token_address}`;
      paintBadges(badges, token);
      break;
    }
    case "holders":
      setText(main, fmt.count(token.holder_count));
      td.title = token.top_holders_pct == null ? "" : `Top holders own ${fmt.plainNumber(token.top_holders_pct)}%`;
      break;
    case "price":
      setText(main, fmt.priceUsd(token.price_usd));
      setText(td.lastChild, token.price_sol == null ? "" : `${fmt.price(token.price_sol)} SOL`);
      td.title = token.price_usd == null ? "" : `$${fmt.plainNumber(token.price_usd)}`;
      break;
    case "change":
      setText(main, fmt.percent(token.price_change));
      main.className = `main ${directionClass(token.price_change)}`;
      break;
    case "volume":
      setText(main, fmt.usd(token.volume_usd));
      break;
    case "liquidity":
      setText(main, fmt.usd(token.liquidity_usd));
      break;
    case "mcap":
      setText(main, fmt.usd(token.market_cap_usd));
      break;
    case "txns":
      setText(main, fmt.count(token.transaction_count));
      setText(td.lastChild, token.buys == null || token.sells == null ? "" : `${fmt.count(token.buys)}/${fmt.count(token.sells)}`);
      td.title = token.buys == null ? "" : `${token.buys} buys, ${token.sells} sells`;
      break;
    case "protocol":
      setText(main, token.protocol || fmt.DASH);
      break;
    case "age":
      setText(main, fmt.age(token.pair_created_at, now));
      td.title = token.pair_created_at ? `Pair created ${token.pair_created_at}` : "";
      break;
    default:
      break;
  }
}

export class TokenTable {
  /**
   * @param table the <table> element (thead and tbody are filled here)
   * @param handlers {onSort(ordering), onOpen(mint, rowElement)}
   */
  constructor(table, handlers) {
    this.table = table;
    this.handlers = handlers;
    this.thead = table.tHead || table.createTHead();
    this.tbody = table.tBodies[0] || table.createTBody();
    this.rows = new Map(); // mint -> {tr, cells: {columnId: td}, token}
    this.flip = false;
    this.empty = null;
    this._buildHead();
    this.tbody.addEventListener("animationend", (event) => {
      if (event.target.dataset) delete event.target.dataset.flash;
      if (event.target.tagName === "TR") event.target.classList.remove("added");
    });
    this.tbody.addEventListener("click", (event) => {
      const tr = event.target.closest("tr[data-mint]");
      if (tr) this.handlers.onOpen(tr.dataset.mint, tr);
    });
  }

  _buildHead() {
    const tr = el("tr");
    this.headCells = {};
    for (const column of COLUMNS) {
      const th = el("th", column.className);
      th.scope = "col";
      if (column.sort) {
        const button = el("button", "sort");
        button.type = "button";
        button.dataset.sort = column.sort;
        button.append(el("span", "label", column.label), el("span", "tf"), el("span", "arrow"));
        button.addEventListener("click", () => this.handlers.onSort(nextOrdering(column, this.ordering)));
        th.append(button);
      } else {
        th.append(el("span", "label", column.label), el("span", "tf"));
      }
      tr.append(th);
      this.headCells[column.id] = th;
    }
    this.thead.replaceChildren(tr);
  }

  /** Labels ("Volume 1h") and aria-sort for the current timeframe and ordering. */
  setHead(timeframe, ordering) {
    this.ordering = ordering;
    for (const column of COLUMNS) {
      const th = this.headCells[column.id];
      setText(th.querySelector(".tf"), column.windowed ? ` ${timeframe}` : "");
      if (!column.sort) continue;
      const [aria, arrow] = sortState(column, ordering);
      th.setAttribute("aria-sort", aria);
      setText(th.querySelector(".arrow"), arrow);
    }
  }

  _createRow(token) {
    const tr = el("tr");
    tr.dataset.mint = token.token_address;
    const cells = {};
    for (const column of COLUMNS) {
      const td = buildCell(column);
      cells[column.id] = td;
      tr.append(td);
    }
    const row = { tr, cells, token };
    this.rows.set(token.token_address, row);
    return row;
  }

  _paint(row, token, now) {
    row.token = token;
    for (const column of COLUMNS) {
      if (column.id !== "rank") paintCell(row.cells[column.id], column, token, now);
    }
  }

  /** Flash the cells whose value moved: `directions` is {field: 1 | -1 | 0} from model.applyValues. */
  _flash(row, directions) {
    if (!directions) return;
    this.flip = !this.flip;
    for (const column of COLUMNS) {
      if (!column.flashBy || !(column.flashBy in directions)) continue;
      const d = directions[column.flashBy];
      if (!d) continue;
      row.cells[column.id].dataset.flash = `${d > 0 ? "up" : "down"}${this.flip ? 1 : 2}`;
    }
  }

  /**
   * Show `tokens` in this order, reusing the rows of tokens already shown; `directions` maps a mint
   * to the changes to flash (on a refresh of the same query), or is null (a new query: no flash).
   */
  setRows(tokens, directions = null) {
    const now = Date.now();
    const keep = new Set(tokens.map((t) => t.token_address));
    for (const [mint, row] of this.rows) {
      if (!keep.has(mint)) {
        row.tr.remove();
        this.rows.delete(mint);
      }
    }
    let cursor = this.tbody.firstElementChild;
    tokens.forEach((token, index) => {
      let row = this.rows.get(token.token_address);
      if (!row) {
        row = this._createRow(token);
        if (directions) row.tr.classList.add("added"); // new since the last load of this query
      }
      this._paint(row, token, now);
      setText(row.cells.rank.firstChild, index + 1);
      if (directions) this._flash(row, directions.get(token.token_address));
      if (row.tr === cursor) cursor = cursor.nextElementSibling;
      else this.tbody.insertBefore(row.tr, cursor);
    });
    this._setEmpty(tokens.length === 0);
  }

  /** Repaint one token's row after stream changes, flashing what moved. */
  updateRow(token, directions) {
    const row = this.rows.get(token.token_address);
    if (!row) return;
    this._paint(row, token, Date.now());
    this._flash(row, directions);
  }

  /** A token that entered the universe, at `index` (highlighted once). */
  insertRow(token, index) {
    if (this.rows.has(token.token_address)) return;
    const row = this._createRow(token);
    this._paint(row, token, Date.now());
    row.tr.classList.add("added");
    this.tbody.insertBefore(row.tr, this.tbody.children[index] || null);
    this._renumber();
    this._setEmpty(false);
  }

  removeRow(mint) {
    const row = this.rows.get(mint);
    if (!row) return;
    row.tr.remove();
    this.rows.delete(mint);
    this._renumber();
    this._setEmpty(this.rows.size === 0);
  }

  _renumber() {
    let i = 1;
    for (const tr of this.tbody.children) {
      if (tr.dataset.mint) setText(tr.firstChild.firstChild, i++);
    }
  }

  _setEmpty(isEmpty) {
    if (isEmpty && !this.empty) {
      const tr = el("tr", "empty");
      const td = el("td", null, "No tokens match.");
      td.colSpan = COLUMNS.length;
      tr.append(td);
      this.empty = tr;
      this.tbody.append(tr);
    } else if (!isEmpty && this.empty) {
      this.empty.remove();
      this.empty = null;
    }
  }

  /** Pair ages move with the clock. */
  tickAges() {
    const now = Date.now();
    const column = COLUMNS.find((c) => c.id === "age");
    for (const row of this.rows.values()) paintCell(row.cells.age, column, row.token, now);
  }

  focusRow(mint) {
    const row = this.rows.get(mint);
    if (row) row.cells.token.firstChild.focus();
  }
}
