// Unit tests of realtime/static/realtime/rowset.js (run by tests/page/test_js_units.py).
import assert from "node:assert/strict";
import { test } from "node:test";

import { RowSet, applyBatch, applySnapshot, streamValues } from "../../../realtime/static/realtime/rowset.js";
import { token } from "./tokens.mjs";
const mints = (set) => set.rows.map((t) => t.token_address);
const view = (extra = {}) => ({ timeframe: "24h", ordering: "-volume", q: "", protocol: "", hasMore: false, ...extra });

test("replace keeps the API's order and indexes by mint", () => {
  const set = new RowSet([token("a"), token("b")]);
  assert.deepEqual(mints(set), ["a", "b"]);
  assert.equal(set.length, 2);
  assert.equal(set.get("b").token_address, "b");
  set.replace([token("c")]);
  assert.deepEqual(mints(set), ["c"]);
  assert.equal(set.has("a"), false);
});

test("merge keeps rows in place, drops the unlisted, inserts the new at the API's position", () => {
  const set = new RowSet([token("a", { price_usd: 1 }), token("b"), token("c")]);
  const rowA = set.get("a");
  const directions = set.merge([token("c"), token("d"), token("a", { price_usd: 2 })]);
  assert.deepEqual(mints(set), ["a", "d", "c"]);
  assert.equal(set.get("a"), rowA, "the row object is kept, its values merged");
  assert.equal(rowA.price_usd, 2);
  assert.equal(directions.get("a").price_usd, 1);
  assert.equal(set.has("b"), false);
});

test("append skips rows already shown and returns what it added", () => {
  const set = new RowSet([token("a"), token("b")]);
  const added = set.append([token("b"), token("c")]);
  assert.deepEqual(added.map((t) => t.token_address), ["c"]);
  assert.deepEqual(mints(set), ["a", "b", "c"]);
});

test("add places a token by the ordering, refuses duplicates, filtered and not-loaded positions", () => {
  const set = new RowSet([token("a", { volume_usd: 30 }), token("b", { volume_usd: 10 })]);
  assert.deepEqual(set.add(token("c", { volume_usd: 20 }), view()).index, 1);
  assert.deepEqual(mints(set), ["a", "c", "b"]);
  assert.equal(set.add(token("c"), view()), null);
  assert.equal(set.add(token("x", { token_name: "Other" }), view({ q: "zzz" })), null);
  assert.equal(set.add(token("low", { volume_usd: 1 }), view({ hasMore: true })), null, "belongs to a later page");
  assert.equal(set.has("low"), false);
});

test("remove reports whether the row was shown", () => {
  const set = new RowSet([token("a"), token("b")]);
  assert.equal(set.remove("a"), true);
  assert.equal(set.remove("a"), false);
  assert.deepEqual(mints(set), ["b"]);
});

test("a snapshot updates shown rows in place and rebuilds the universe", () => {
  const set = new RowSet([token("a", { price_usd: 1 }), token("b", { price_usd: 5 })]);
  const { universe, changed } = applySnapshot(set, [token("a", { price_usd: 3 }), token("b", { price_usd: 5 }), token("c")], "24h");
  assert.deepEqual([...universe.keys()], ["a", "b", "c"]);
  assert.deepEqual(changed.map((c) => c.row.token_address), ["a"]);
  assert.equal(changed[0].directions.price_usd, 1);
  assert.equal(set.get("a").price_usd, 3);
});

test("on another tab a snapshot leaves the tab's window fields alone", () => {
  const set = new RowSet([token("a", { volume_usd: 5, price_usd: 1 })]);
  applySnapshot(set, [token("a", { volume_usd: 999, price_usd: 2 })], "1h");
  assert.equal(set.get("a").volume_usd, 5);
  assert.equal(set.get("a").price_usd, 2);
  assert.ok(!("volume_usd" in streamValues(token("a"), "1h")));
});

test("a batch gives the table its operations in event order", () => {
  const set = new RowSet([token("a", { volume_usd: 30, price_usd: 1 }), token("b", { volume_usd: 10 })]);
  const universe = new Map(set.rows.map((t) => [t.token_address, { ...t }]));
  const { ops, windowTouched } = applyBatch(
    set,
    universe,
    [
      { type: "token.update", token_address: "a", changes: { price_usd: [1, 0.5] } },
      { type: "token.added", token_address: "c", token: token("c", { volume_usd: 20 }) },
      { type: "token.removed", token_address: "b" },
      { type: "token.update", token_address: "zz", changes: { price_usd: [1, 2] } },
    ],
    view(),
  );
  assert.deepEqual(ops.map((o) => o.op), ["update", "insert", "remove"]);
  assert.equal(ops[0].directions.price_usd, -1);
  assert.equal(ops[1].index, 1);
  assert.equal(ops[2].mint, "b");
  assert.equal(windowTouched, false);
  assert.deepEqual(mints(set), ["a", "c"]);
  assert.deepEqual([...universe.keys()].sort(), ["a", "c"]);
  assert.equal(universe.get("a").price_usd, 0.5);
});

test("on another tab a window change or an added row asks for a REST refresh", () => {
  const set = new RowSet([token("a")]);
  const universe = new Map([["a", token("a")]]);
  const touched = applyBatch(set, universe, [{ type: "token.update", token_address: "a", changes: { volume_usd: [5, 6] } }], view({ timeframe: "1h" }));
  assert.equal(touched.windowTouched, true);
  assert.deepEqual(touched.ops, [], "the stream's 24h volume is not the 1h tab's");
  const added = applyBatch(set, universe, [{ type: "token.added", token_address: "n", token: token("n") }], view({ timeframe: "1h" }));
  assert.equal(added.windowTouched, true);
});
