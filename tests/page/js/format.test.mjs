// Unit tests of realtime/static/realtime/format.js (run by tests/page/test_js_units.py).
import assert from "node:assert/strict";
import { test } from "node:test";

import * as f from "../../../realtime/static/realtime/format.js";

test("compact numbers use K/M/B/T with one decimal below 100", () => {
  assert.equal(f.compact(1234), "1.2K");
  assert.equal(f.compact(3.4e6), "3.4M");
  assert.equal(f.compact(5.6e9), "5.6B");
  assert.equal(f.compact(2.2e12), "2.2T");
  assert.equal(f.compact(123456), "123K");
  assert.equal(f.compact(999), "999");
  assert.equal(f.compact(12.345), "12.35");
  assert.equal(f.compact(0), "0");
  assert.equal(f.compact(-1500), "-1.5K");
});

test("compact rounding never shows 1000K", () => {
  assert.equal(f.compact(999.6), "1.0K");
  assert.equal(f.compact(999960), "1.0M");
  assert.equal(f.compact(99960), "100K");
});

test("unknown values are a dash, never 0", () => {
  for (const fn of [f.compact, f.usd, f.count, f.price, f.priceUsd, f.percent]) {
    assert.equal(fn(null), "\u2014");
    assert.equal(fn(undefined), "\u2014");
    assert.equal(fn(Number.NaN), "\u2014");
  }
});

test("usd prefixes the dollar after the sign", () => {
  assert.equal(f.usd(20581.6), "$20.6K");
  assert.equal(f.usd(-2500), "-$2.5K");
});

test("tiny prices use subscript zero counts", () => {
  assert.equal(f.price(0.00000123), "0.0\u2085123");
  assert.equal(f.price(0.000147), "0.0\u2083147");
  assert.equal(f.price(1.02e-6), "0.0\u2085102");
  assert.equal(f.price(1.234567e-13), "0.0\u2081\u20821235");
  assert.equal(f.priceUsd(0.00000123), "$0.0\u2085123");
});

test("ordinary prices keep four significant digits", () => {
  assert.equal(f.price(0.00123), "0.00123");
  assert.equal(f.price(0.1234), "0.1234");
  assert.equal(f.price(0.5), "0.5");
  assert.equal(f.price(1.5), "1.500");
  assert.equal(f.price(142.37), "142.37");
  assert.equal(f.price(98765.4), "98,765");
  assert.equal(f.price(0.99999), "1.000");
  assert.equal(f.price(0.000099999), "0.0\u20831"); // rounds up to 0.0001: three zeros
});

test("percentages carry their sign", () => {
  assert.equal(f.percent(7.5), "+7.50%");
  assert.equal(f.percent(-12.34), "-12.3%");
  assert.equal(f.percent(104), "+104%");
  assert.equal(f.percent(99.96), "+100%");
  assert.equal(f.percent(-784.6), "-785%");
  assert.equal(f.percent(0), "0.00%");
  assert.equal(f.percent(-0.001), "0.00%");
  assert.equal(f.percent(12345), "+12.3K%");
  assert.equal(f.direction(-3), -1);
  assert.equal(f.direction(0), 0);
});

test("counts, durations and ages", () => {
  assert.equal(f.count(41), "41");
  assert.equal(f.count(12345), "12.3K");
  assert.equal(f.duration(42), "42s");
  assert.equal(f.duration(3700), "1h");
  assert.equal(f.duration(86400 * 3), "3d");
  assert.equal(f.dataAge(3.2), "3s");
  assert.equal(f.dataAge(75), "1m 15s");
  const now = Date.parse("2026-11-20T10:00:00Z");
  assert.equal(f.age("2026-11-20T09:55:00Z", now), "5m");
  assert.equal(f.age(null, now), "\u2014");
  assert.equal(f.age("garbage", now), "\u2014");
});

test("plain numbers for tooltips and short addresses", () => {
  assert.equal(f.plainNumber(1.23e-6), "0.00000123");
  assert.equal(f.plainNumber(0.000147), "0.000147");
  assert.equal(f.shortAddress("8ZCmAbcdefghijklmnopqrstuvwxyzpump"), "8ZCm\u2026pump");
});

test("compact and price use en-US grouping and suffixes at their edges (Intl.NumberFormat)", () => {
  assert.equal(f.compact(999.7), "1.0K");
  assert.equal(f.compact(999960), "1.0M");
  assert.equal(f.compact(-123456), "-123K");
  assert.equal(f.compact(99949), "99.9K");
  assert.equal(f.compact(99950), "100K");
  assert.equal(f.compact(1.5e12), "1.5T");
  assert.equal(f.compact(2e15), "2000T");
  assert.equal(f.price(12345.678), "12,346");
  assert.equal(f.price(1234.5), "1,234.50");
  assert.equal(f.price(1234567.4), "1,234,567");
});
