// Unit tests of realtime/static/realtime/stream.js with a fake socket and a fake clock.
import assert from "node:assert/strict";
import { test } from "node:test";

import { TokenStream } from "../../../realtime/static/realtime/stream.js";

class FakeSocket {
  static all = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.all.push(this);
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.readyState = 3;
  }
  // server side
  open() {
    this.readyState = 1;
    this.onopen();
  }
  push(message) {
    this.onmessage({ data: JSON.stringify(message) });
  }
  drop() {
    this.readyState = 3;
    this.onclose({ code: 1006 });
  }
}

function harness(options = {}) {
  FakeSocket.all = [];
  let now = 0;
  const timers = [];
  const seen = { statuses: [], snapshots: [], batches: [], resyncs: [] };
  const stream = new TokenStream("ws://test/ws/tokens/", {
    WebSocket: FakeSocket,
    now: () => now,
    random: () => 1,
    setTimeout: (fn, ms) => {
      const timer = { fn, at: now + ms, done: false };
      timers.push(timer);
      return timer;
    },
    clearTimeout: (timer) => {
      if (timer) timer.done = true;
    },
    onStatus: (s) => seen.statuses.push(s),
    onSnapshot: (tokens, info) => seen.snapshots.push({ tokens, ...info }),
    onBatch: (b) => seen.batches.push(b),
    onResync: (seq) => seen.resyncs.push(seq),
    ...options,
  });
  const advance = (ms) => {
    const until = now + ms;
    for (;;) {
      const due = timers.filter((t) => !t.done && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      now = due.at;
      due.done = true;
      due.fn();
    }
    now = until;
  };
  const socket = () => FakeSocket.all[FakeSocket.all.length - 1];
  return { stream, seen, advance, socket };
}

const update = (seq, mint = "m1") => ({ type: "token.update", seq, token_address: mint, changes: { price_usd: [1, 2] } });
const alert = (seq, mint = "m1") => ({ type: "token.price_change", seq, token_address: mint, change_pct: 7.5, token: {} });

test("subscribes to everything on open and goes live on the snapshot", () => {
  const { stream, seen, socket } = harness();
  stream.start();
  assert.deepEqual(seen.statuses, ["connecting"]);
  socket().open();
  assert.deepEqual(socket().sent, [{ action: "subscribe", all: true }]);
  socket().push({ type: "welcome", seq: 10 });
  socket().push({ type: "snapshot", seq: 10, tokens: [{ token_address: "m1" }] });
  assert.deepEqual(seen.statuses, ["connecting", "live"]);
  assert.equal(seen.snapshots[0].reconnect, false);
  assert.equal(stream.lastSeq, 10);
});

test("applies batches in order and skips events already seen", () => {
  const { stream, seen, socket } = harness();
  stream.start();
  socket().open();
  socket().push({ type: "snapshot", seq: 10, tokens: [] });
  socket().push({ type: "batch", events: [update(11), alert(12)] });
  socket().push({ type: "batch", events: [update(12), update(13)] });
  assert.deepEqual(seen.batches.map((b) => b.updates.map((e) => e.seq)), [[11, 12], [13]]);
  assert.deepEqual(seen.batches[0].alerts.map((e) => e.seq), [12]);
  assert.equal(stream.lastSeq, 13);
});

test("a gap on the all stream sends resume and waits for the replay", () => {
  const { stream, seen, socket } = harness();
  stream.start();
  socket().open();
  socket().push({ type: "snapshot", seq: 10, tokens: [] });
  socket().push({ type: "batch", events: [update(11), update(14), update(15)] });
  assert.deepEqual(socket().sent.at(-1), { action: "resume", since: 11 });
  assert.equal(stream.lastSeq, 11);
  socket().push({ type: "batch", events: [update(16)] }); // still gapped: dropped, no second resume
  assert.equal(socket().sent.filter((m) => m.action === "resume").length, 1);
  socket().push({ type: "batch", events: [update(12), update(13), update(14), update(15), update(16)] });
  assert.equal(stream.lastSeq, 16);
  assert.deepEqual(seen.batches.flatMap((b) => b.updates.map((e) => e.seq)), [11, 12, 13, 14, 15, 16]);
});

test("reconnects with exponential backoff, then resubscribes and resumes from the last seq", () => {
  const { stream, seen, socket, advance } = harness();
  stream.start();
  socket().open();
  socket().push({ type: "snapshot", seq: 10, tokens: [] });
  socket().push({ type: "batch", events: [update(11)] });
  socket().drop();
  assert.equal(seen.statuses.at(-1), "reconnecting");
  const delays = [];
  for (let i = 0; i < 4; i++) {
    const before = FakeSocket.all.length;
    let waited = 0;
    while (FakeSocket.all.length === before) {
      advance(50);
      waited += 50;
    }
    delays.push(waited);
    socket().drop();
  }
  // random() = 1: delays are exactly 500, 1000, 2000, 4000 ms
  assert.deepEqual(delays, [500, 1000, 2000, 4000]);
  advance(8000);
  const ws = socket();
  ws.open();
  assert.deepEqual(ws.sent, [{ action: "subscribe", all: true }, { action: "resume", since: 11 }]);
  // The new snapshot is newer than the replayed events: their changes are not re-applied,
  // but their alerts are reported (nothing missed).
  ws.push({ type: "snapshot", seq: 14, tokens: [] });
  assert.equal(seen.statuses.at(-1), "live");
  assert.equal(seen.snapshots.at(-1).reconnect, true);
  assert.equal(stream.lastSeq, 11);
  ws.push({ type: "batch", events: [update(12), alert(13), update(14), update(15)] });
  const last = seen.batches.at(-1);
  assert.deepEqual(last.updates.map((e) => e.seq), [15]);
  assert.deepEqual(last.alerts.map((e) => e.seq), [13]);
  assert.equal(stream.lastSeq, 15);
});

test("says offline after repeated failures and keeps retrying", () => {
  const { stream, seen, socket, advance } = harness({ offlineAfter: 3 });
  stream.start();
  socket().drop();
  advance(600);
  socket().drop();
  advance(1100);
  socket().drop();
  assert.equal(seen.statuses.at(-1), "offline");
  advance(10000);
  socket().open();
  socket().push({ type: "snapshot", seq: 1, tokens: [] });
  assert.equal(seen.statuses.at(-1), "live");
});

test("resync_required falls back to a reload and continues from the server's seq", () => {
  const { stream, seen, socket, advance } = harness();
  stream.start();
  socket().open();
  socket().push({ type: "snapshot", seq: 10, tokens: [] });
  socket().drop();
  advance(1000);
  socket().open();
  socket().push({ type: "snapshot", seq: 5000, tokens: [] });
  socket().push({ type: "resync_required", seq: 5000 });
  assert.deepEqual(seen.resyncs, [5000]);
  assert.equal(stream.lastSeq, 5000);
  socket().push({ type: "batch", events: [update(5001)] });
  assert.deepEqual(seen.batches.at(-1).updates.map((e) => e.seq), [5001]);
});

test("a silent connection is closed and replaced", () => {
  const { stream, socket, advance } = harness({ pingEveryMs: 1000, silentCloseMs: 2500 });
  stream.start();
  const first = socket();
  first.open();
  advance(1000);
  assert.deepEqual(first.sent.at(-1), { action: "ping" });
  advance(3000);
  assert.notEqual(socket(), first);
});

