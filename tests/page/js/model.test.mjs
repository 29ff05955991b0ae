// Unit tests of realtime/static/realtime/model.js (run by tests/page/test_js_units.py).
import assert from "node:assert/strict";
import { test } from "node:test";

import * as m from "../../../realtime/static/realtime/model.js";
import { token } from "./tokens.mjs";

test("on the 24h tab every stream change applies", () => {
  const { apply, windowTouched } = m.streamChanges(
    { price_usd: [1, 2], volume_usd: [5, 6], price_change: [1, 3] },
    "24h",
  );
  assert.deepEqual(apply, { price_usd: 2, volume_usd: 6, price_change: 3 });
  assert.equal(windowTouched, false);
});

test("on other tabs window fields are left for the REST refresh", () => {
  const { apply, windowTouched } = m.streamChanges(
    { price_usd: [1, 2], volume_usd: [5, 6], transaction_count: [1, 2], market_cap_usd: [1, 2] },
    "6h",
  );
  assert.deepEqual(apply, { price_usd: 2, market_cap_usd: 2 });
  assert.equal(windowTouched, true);
});

test("the 1h tab takes its price change from price_1hr_change", () => {
  const { apply } = m.streamChanges({ price_1hr_change: [2, 9], price_change: [1, 4] }, "1h");
  assert.equal(apply.price_change, 9);
  const row = m.tokenForTimeframe(token("a"), "1h");
  assert.equal(row.price_change, 2);
  assert.equal(row.volume_usd, null);
  assert.equal(m.tokenForTimeframe(token("a"), "24h").volume_usd, 5);
});

test("applyValues reports directions of what changed", () => {
  const row = token("a");
  const changed = m.applyValues(row, { price_usd: 2, liquidity_usd: 5, volume_usd: 5, protocol: "Orca" });
  assert.deepEqual(changed, { price_usd: 1, liquidity_usd: -1, protocol: 0 });
  assert.equal(row.price_usd, 2);
  assert.deepEqual(m.applyValues(row, { sources: ["a"] }), { sources: 0 });
  assert.deepEqual(m.applyValues(row, { sources: ["a"] }), {});
});

test("order is the API's: value, nulls last either way, then mint", () => {
  const rows = [token("c", { volume_usd: 9 }), token("a", { volume_usd: 9 }), token("b", { volume_usd: null }), token("d", { volume_usd: 1 })];
  const desc = [...rows].sort((x, y) => m.compareTokens(x, y, "-volume")).map((t) => t.token_address);
  assert.deepEqual(desc, ["a", "c", "d", "b"]);
  const asc = [...rows].sort((x, y) => m.compareTokens(x, y, "volume")).map((t) => t.token_address);
  assert.deepEqual(asc, ["d", "a", "c", "b"]);
});

test("age ordering puts the newest pairs first", () => {
  const old = token("o", { pair_created_at: "2026-01-01T00:00:00Z" });
  const young = token("y", { pair_created_at: "2026-11-01T00:00:00Z" });
  assert.deepEqual([old, young].sort((x, y) => m.compareTokens(x, y, "age")).map((t) => t.token_address), ["y", "o"]);
});

test("insertionIndex respects unloaded pages", () => {
  const rows = [token("a", { volume_usd: 30 }), token("b", { volume_usd: 20 })];
  assert.equal(m.insertionIndex(rows, token("x", { volume_usd: 25 }), "-volume", true), 1);
  assert.equal(m.insertionIndex(rows, token("x", { volume_usd: 5 }), "-volume", true), -1);
  assert.equal(m.insertionIndex(rows, token("x", { volume_usd: 5 }), "-volume", false), 2);
});

test("client-side filters match the API's q and protocol", () => {
  const t = token("mintA", { token_name: "Giga Frog", token_ticker: "GIGAFROG", protocol: "Raydium CLMM" });
  assert.ok(m.matchesFilters(t, { q: "frog" }));
  assert.ok(m.matchesFilters(t, { q: "mintA" }));
  assert.ok(!m.matchesFilters(t, { q: "mint" }));
  assert.ok(m.matchesFilters(t, { protocol: "raydium" }));
  assert.ok(!m.matchesFilters(t, { protocol: "pumpswap" }));
  assert.ok(m.matchesFilters({ ...t, protocol: "Pump.fun" }, { protocol: "pumpfun" }));
});

test("relativeUrl strips scheme and host from next links", () => {
  assert.equal(m.relativeUrl("http://proxy.internal/api/tokens/?cursor=abc", "https://x.test/"), "/api/tokens/?cursor=abc");
  assert.equal(m.relativeUrl(null, "https://x.test/"), null);
});

test("the query round-trips through the URL and bad values fall back to defaults", () => {
  const query = { timeframe: "1h", ordering: "-price", q: "frog", protocol: "pumpswap", safe: false };
  assert.deepEqual(m.readQuery(m.querySearch(query)), query);
  const safe = { timeframe: "24h", ordering: "-holders", q: "", protocol: "", safe: true };
  assert.equal(m.querySearch(safe), "?ordering=-holders&safe=true");
  assert.deepEqual(m.readQuery(m.querySearch(safe)), safe);
  assert.equal(m.querySearch({ timeframe: "24h", ordering: "-volume", q: " ", protocol: "" }), "");
  assert.deepEqual(m.readQuery("?timeframe=7x&ordering=name&protocol=toString&q=" + "a".repeat(500)), {
    timeframe: "24h",
    ordering: "-volume",
    q: "a".repeat(100),
    protocol: "",
    safe: false,
  });
});

test("an alert's TOKEN: its own, or on the all stream (which leaves it out) the one the page holds", () => {
  const held = token("m1", { token_ticker: "HELD" });
  const universe = new Map([["m1", held]]);
  const own = token("m1", { token_ticker: "OWN" });
  assert.equal(m.alertToken({ type: "token.price_change", token_address: "m1", token: own }, universe), own);
  assert.equal(m.alertToken({ type: "token.price_change", token_address: "m1" }, universe), held);
  assert.equal(m.alertToken({ type: "token.volume_spike", token_address: "m2" }, universe), null);
  assert.equal(m.alertToken({ type: "token.volume_spike", token_address: "m1" }, null), null);
});

test("safe only keeps tokens whose mint and freeze authority are both known disabled", () => {
  const token = { token_address: "x", mint_authority_disabled: true, freeze_authority_disabled: true };
  assert.equal(m.matchesFilters(token, { safe: true }), true);
  assert.equal(m.matchesFilters({ ...token, freeze_authority_disabled: false }, { safe: true }), false);
  assert.equal(m.matchesFilters({ ...token, mint_authority_disabled: null }, { safe: true }), false);
  assert.equal(m.matchesFilters({ ...token, mint_authority_disabled: null }, { safe: false }), true);
});
