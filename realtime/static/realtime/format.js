// Number and time formatting for the screener (pure: no DOM, no globals; unit-tested with node).

const DASH = "\u2014";
const SUBSCRIPT_DIGITS = "\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089";
const UNITS = [
  [1e12, "T"],
  [1e9, "B"],
  [1e6, "M"],
  [1e3, "K"],
];

// en-US digits and K/M/B/T suffixes whatever the browser's locale: a trader compares figures with
// DexScreener's and GeckoTerminal's, which print them this way.
const COMPACT = [0, 1].map(
  (digits) =>
    new Intl.NumberFormat("en-US", {
      notation: "compact",
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }),
);
const GROUPED = [0, 1, 2, 3].map(
  (digits) => new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }),
);

function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

/** "₁₂" for 12: the digits of a non-negative integer as Unicode subscripts. */
export function subscript(n) {
  return String(n)
    .split("")
    .map((d) => SUBSCRIPT_DIGITS[Number(d)])
    .join("");
}

/** 1234 -> "1.2K", 3.4e6 -> "3.4M", 5.6e9 -> "5.6B", 999 -> "999", 12.345 -> "12.35"; null -> "—". */
export function compact(value) {
  if (!isNumber(value)) return DASH;
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(value);
  if (abs < 999.5) {
    if (abs === 0) return "0";
    if (abs < 0.01) return sign + "<0.01";
    return sign + (Number.isInteger(abs) ? String(abs) : abs.toFixed(2));
  }
  const size = (UNITS.find(([unit]) => abs >= unit) || UNITS[UNITS.length - 1])[0];
  const scaled = abs / size;
  // One decimal below 100 of a unit; none above. A value that rounds up into the next unit
  // (999.96K) is that unit's "1.0M", so it keeps its decimal.
  const digits = scaled < 99.95 || (scaled >= 999.5 && size < 1e12) ? 1 : 0;
  return sign + COMPACT[digits].format(Math.max(abs, 1000)); // 999.5 .. 1000 -> "1.0K"
}

/** "$1.2M"; null -> "—". */
export function usd(value) {
  if (!isNumber(value)) return DASH;
  const text = compact(value);
  return text.startsWith("-") ? "-$" + text.slice(1) : "$" + text;
}

/** A whole count: 41 -> "41", 12345 -> "12.3K". */
export function count(value) {
  if (!isNumber(value)) return DASH;
  return Math.abs(value) < 1000 ? String(Math.round(value)) : compact(value);
}

/**
 * A price with 4 significant digits; runs of 3+ zeros after the point become a subscript count:
 * 0.00000123 -> "0.0₅123", 0.000147 -> "0.0₃147", 0.00123 -> "0.00123", 0.1234 -> "0.1234",
 * 1.5 -> "1.500", 142.37 -> "142.37", 98765.4 -> "98,765" (trailing zeros below 1 are dropped).
 */
export function price(value) {
  if (!isNumber(value)) return DASH;
  if (value === 0) return "0";
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(value);
  if (abs >= 1) {
    const decimals = abs >= 10000 ? 0 : abs >= 10 ? 2 : 3;
    return sign + GROUPED[decimals].format(abs);
  }
  let exponent = Math.floor(Math.log10(abs));
  let mantissa = Math.round(abs / 10 ** (exponent - 3)); // 4 significant digits: 1000..10000
  if (mantissa >= 10000) {
    exponent += 1;
    mantissa = Math.round(mantissa / 10);
  }
  if (exponent >= 0) return sign + "1.000"; // 0.99999 rounds up to one
  const zeros = -exponent - 1; // zeros between the point and the first significant digit
  const digits = String(mantissa).replace(/0+$/, "") || "0";
  if (zeros >= 3) return `${sign}0.0${subscript(zeros)}${digits}`;
  return `${sign}0.${"0".repeat(zeros)}${digits}`;
}

/** "$0.0₅123" / "$1.500". */
export function priceUsd(value) {
  if (!isNumber(value)) return DASH;
  const text = price(value);
  return text.startsWith("-") ? "-$" + text.slice(1) : "$" + text;
}

/** The plain decimal form of a price, for tooltips: 1.23e-6 -> "0.00000123". */
export function plainNumber(value) {
  if (!isNumber(value)) return "";
  if (Math.abs(value) >= 1e-6 || value === 0) return String(Number(value.toPrecision(12)));
  return value.toFixed(Math.min(100, 4 - Math.floor(Math.log10(Math.abs(value))))).replace(/0+$/, "");
}

/** A signed percentage, 3 significant digits: 7.5 -> "+7.50%", -12.34 -> "-12.3%", 271 -> "+271%", 12345 -> "+12.3K%". */
export function percent(value) {
  if (!isNumber(value)) return DASH;
  const sign = value > 0 ? "+" : value < 0 ? "-" : "";
  const abs = Math.abs(value);
  let text;
  if (abs >= 999.5) text = compact(abs);
  else if (abs >= 99.95) text = abs.toFixed(0);
  else if (abs >= 9.995) text = abs.toFixed(1);
  else text = abs.toFixed(2);
  if (Number(text) === 0) return "0.00%";
  return `${sign}${text}%`;
}

/** -1, 0 or 1: which way a percentage or a change points (for colouring). */
export function direction(value) {
  if (!isNumber(value) || value === 0) return 0;
  return value > 0 ? 1 : -1;
}

/** A duration in seconds as the largest whole unit: 42 -> "42s", 3700 -> "1h", 86400*3 -> "3d". */
export function duration(seconds) {
  if (!isNumber(seconds)) return DASH;
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  if (s < 86400 * 30) return `${Math.floor(s / 86400)}d`;
  if (s < 86400 * 365) return `${Math.floor(s / (86400 * 30))}mo`;
  return `${Math.floor(s / (86400 * 365))}y`;
}

/** How long ago an ISO timestamp was, relative to `nowMs`: "5m"; unknown -> "—". */
export function age(iso, nowMs) {
  if (!iso) return DASH;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return DASH;
  return duration((nowMs - t) / 1000);
}

/** Data age for the status bar, to the second below ten minutes: 3.2 -> "3s", 75 -> "1m 15s". */
export function dataAge(seconds) {
  if (!isNumber(seconds)) return DASH;
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return duration(s);
}

/** "7xKX…AsU" for long addresses. */
export function shortAddress(address) {
  if (typeof address !== "string") return DASH;
  return address.length > 12 ? `${address.slice(0, 4)}\u2026${address.slice(-4)}` : address;
}

export { DASH };
