// A TOKEN object as the REST API and the stream send it, for the page's JavaScript unit tests.

export const token = (mint, extra = {}) => ({
  token_address: mint,
  token_name: `Name ${mint}`,
  token_ticker: mint.toUpperCase(),
  protocol: "Raydium CLMM",
  price_usd: 1,
  market_cap_usd: 100,
  liquidity_usd: 10,
  volume_usd: 5,
  transaction_count: 3,
  price_change: 1,
  price_1hr_change: 2,
  price_24h_change: 1,
  pair_created_at: "2026-11-20T10:00:00Z",
  ...extra,
});
