// The table's data rules (pure: no DOM): which stream fields apply to which timeframe, sort order
// like the API's, client-side filter checks and applying `changes` to a token.

export const TIMEFRAMES = ["5m", "1h", "6h", "24h", "7d"];
export const DEFAULT_TIMEFRAME = "24h";
export const DEFAULT_ORDERING = "-volume";
/** TOKEN objects on the WebSocket (snapshot, events) are always for this timeframe. */
export const STREAM_TIMEFRAME = "24h";
/** TOKEN fields that depend on the requested timeframe; every other field is the same in all. */
export const WINDOW_FIELDS = new Set([
  "volume_usd",
  "volume_sol",
  "transaction_count",
  "buys",
  "sells",
  "price_change",
]);
/** Ordering key of the API -> the TOKEN field it sorts by. */
export const SORT_FIELDS = {
  volume: "volume_usd",
  price_change: "price_change",
  market_cap: "market_cap_usd",
  liquidity: "liquidity_usd",
  txns: "transaction_count",
  price: "price_usd",
  age: "pair_created_at",
  holders: "holder_count",
};
/** Protocol filter value (API dex id) -> the readable `protocol` names it covers. */
export const PROTOCOLS = {
  raydium: "Raydium",
  pumpswap: "PumpSwap",
  pumpfun: "Pump.fun",
  meteora: "Meteora",
  orca: "Orca",
};
export const ALERT_TYPES = new Set(["token.price_change", "token.volume_spike"]);
export const ORDERINGS = Object.keys(SORT_FIELDS).flatMap((key) => [key, `-${key}`]);
const MAX_QUERY_LENGTH = 100;

/** The page's query from its URL's search string; anything invalid falls back to the default. */
export function readQuery(search) {
  const params = new URLSearchParams(search);
  const timeframe = params.get("timeframe");
  const ordering = params.get("ordering");
  const protocol = params.get("protocol");
  return {
    timeframe: TIMEFRAMES.includes(timeframe) ? timeframe : DEFAULT_TIMEFRAME,
    ordering: ORDERINGS.includes(ordering) ? ordering : DEFAULT_ORDERING,
    q: (params.get("q") || "").slice(0, MAX_QUERY_LENGTH),
    protocol: protocol && Object.hasOwn(PROTOCOLS, protocol) ? protocol : "",
    safe: params.get("safe") === "true",
  };
}

/** The search string that readQuery() turns back into `query` (defaults left out): "?timeframe=1h". */
export function querySearch({ timeframe, ordering, q, protocol, safe = false }) {
  const params = new URLSearchParams();
  if (timeframe !== DEFAULT_TIMEFRAME) params.set("timeframe", timeframe);
  if (ordering !== DEFAULT_ORDERING) params.set("ordering", ordering);
  if (q.trim()) params.set("q", q.trim());
  if (protocol) params.set("protocol", protocol);
  if (safe) params.set("safe", "true");
  const text = params.toString();
  return text ? `?${text}` : "";
}

export function isAlert(event) {
  return ALERT_TYPES.has(event && event.type);
}

/**
 * The TOKEN an alert is about: its own `token` (alerts-only and per-token streams carry it) or,
 * on the `all` stream, which leaves it out, the one the page holds from its snapshot and updates.
 */
export function alertToken(event, universe) {
  if (event && event.token) return event.token;
  return (universe && event && universe.get(event.token_address)) || null;
}

function finite(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * Which of a stream event's `changes` ({field: [old, new]}, timeframe 24h) the table may apply
 * while showing `timeframe`. With another timeframe than 24h the window fields (volume, txns,
 * price change) would be wrong, so only the timeframe-independent ones are applied and
 * `windowTouched` tells the caller to refresh the window fields from REST. The 1h price change is
 * on every TOKEN (`price_1hr_change`), so on the 1h tab it is applied as `price_change` directly.
 */
export function streamChanges(changes, timeframe) {
  const apply = {};
  let windowTouched = false;
  for (const [field, pair] of Object.entries(changes || {})) {
    if (!Array.isArray(pair) || pair.length !== 2) continue;
    if (timeframe !== STREAM_TIMEFRAME && WINDOW_FIELDS.has(field)) {
      windowTouched = true;
      continue;
    }
    apply[field] = pair[1];
  }
  if (timeframe === "1h" && "price_1hr_change" in apply) apply.price_change = apply.price_1hr_change;
  if (timeframe === "24h" && "price_24h_change" in apply && !("price_change" in apply)) {
    apply.price_change = apply.price_24h_change;
  }
  return { apply, windowTouched };
}

/**
 * A stream TOKEN (24h) as a row for `timeframe`: on other tabs its window fields are unknown
 * (shown as "—") until the next REST refresh, except the 1h price change, which every TOKEN has.
 */
export function tokenForTimeframe(token, timeframe) {
  if (timeframe === STREAM_TIMEFRAME) return { ...token };
  const row = { ...token };
  for (const field of WINDOW_FIELDS) row[field] = null;
  if (timeframe === "1h") row.price_change = token.price_1hr_change ?? null;
  return row;
}

/**
 * Set `values` on `token` (in place); returns {field: direction} for the fields whose value
 * changed: 1 up, -1 down, 0 changed but not comparable (text, null to number…).
 */
export function applyValues(token, values) {
  const changed = {};
  for (const [field, value] of Object.entries(values)) {
    const old = token[field];
    if (sameValue(old, value)) continue;
    token[field] = value;
    const a = finite(old);
    const b = finite(value);
    changed[field] = a !== null && b !== null ? Math.sign(b - a) : 0;
  }
  return changed;
}

function sameValue(a, b) {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b || (a == null && b == null);
}

/** The fields of `fresh` that differ from `token`, applied like applyValues (fields: a subset). */
export function mergeToken(token, fresh, fields) {
  const values = {};
  for (const field of fields || Object.keys(fresh)) {
    if (field in fresh) values[field] = fresh[field];
  }
  return applyValues(token, values);
}

/** The timeframe-independent fields of a TOKEN (the ones a 24h stream TOKEN can refresh anywhere). */
export function independentFields(token) {
  return Object.keys(token).filter((field) => !WINDOW_FIELDS.has(field));
}

/** The raw value a token sorts by: like the API, age sorts by creation time negated (newest first). */
export function sortValue(token, key) {
  const field = SORT_FIELDS[key];
  if (!field) throw new Error(`unknown ordering ${key}`);
  if (key === "age") {
    const t = token.pair_created_at ? Date.parse(token.pair_created_at) : NaN;
    return Number.isNaN(t) ? null : -t;
  }
  return finite(token[field]);
}

/** Compare two tokens in the API's order for `ordering`: value, nulls last either way, then mint. */
export function compareTokens(a, b, ordering) {
  const descending = ordering.startsWith("-");
  const key = ordering.replace(/^-/, "");
  const va = sortValue(a, key);
  const vb = sortValue(b, key);
  if (va === null || vb === null) {
    if (va !== vb) return va === null ? 1 : -1;
  } else if (va !== vb) {
    return descending ? vb - va : va - vb;
  }
  const ma = a.token_address;
  const mb = b.token_address;
  return ma < mb ? -1 : ma > mb ? 1 : 0;
}

/**
 * Where a new token goes in the loaded `rows` (sorted by `ordering`), or -1 when it sorts after the
 * last loaded row while more pages exist (it will come with "load more").
 */
export function insertionIndex(rows, token, ordering, hasMore) {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareTokens(rows[mid], token, ordering) < 0) lo = mid + 1;
    else hi = mid;
  }
  if (lo === rows.length && hasMore) return -1;
  return lo;
}

/** Does the token pass the page's filters, like the API's `q`, `protocol` and `safe` parameters? */
export function matchesFilters(token, { q = "", protocol = "", safe = false } = {}) {
  if (safe && !isSafe(token)) return false;
  const needle = q.trim().toLowerCase();
  if (needle) {
    const name = (token.token_name || "").toLowerCase();
    const ticker = (token.token_ticker || "").toLowerCase();
    if (token.token_address !== q.trim() && !name.includes(needle) && !ticker.includes(needle)) return false;
  }
  if (protocol) {
    const wanted = protocol.split(",").filter(Boolean);
    const name = token.protocol || "";
    const ok = wanted.some((id) => {
      const label = PROTOCOLS[id];
      return label ? name === label || name.startsWith(label + " ") : name.toLowerCase() === id;
    });
    if (!ok) return false;
  }
  return true;
}

/** Mint and freeze authority both known to be disabled (the API's `safe=true`). */
export function isSafe(token) {
  return token.mint_authority_disabled === true && token.freeze_authority_disabled === true;
}

/** A URL from the API (absolute `next`) as a same-origin path, so proxies and schemes don't matter. */
export function relativeUrl(url, base) {
  if (!url) return null;
  const u = new URL(url, base);
  return u.pathname + u.search;
}
