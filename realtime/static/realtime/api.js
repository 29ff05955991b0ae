// REST client for /api/tokens/: list pages (cursor `next`), one token's detail, errors with Retry-After.

export class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter; // seconds, for 429 and 503
  }
}

async function getJson(url, { signal, cache = "no-store" } = {}) {
  // Lists: "no-store" (each load wants the newest snapshot and the API's max-age would serve an older
  // one); the detail drawer's polling uses "no-cache": revalidated with the ETag, 304 when unchanged.
  const response = await fetch(url, { signal, cache, headers: { Accept: "application/json" } });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      message = body.detail || JSON.stringify(body);
    } catch {
      // not JSON: keep the status line
    }
    const retry = Number(response.headers.get("Retry-After"));
    throw new ApiError(response.status, message, Number.isFinite(retry) && retry > 0 ? retry : null);
  }
  return response.json();
}

export class TokenApi {
  constructor(base) {
    this.base = base.endsWith("/") ? base : `${base}/`;
  }

  listUrl({ timeframe, ordering, q, protocol, safe, limit }) {
    const params = new URLSearchParams({ timeframe, ordering });
    if (q && q.trim()) params.set("q", q.trim());
    if (protocol) params.set("protocol", protocol);
    if (safe) params.set("safe", "true");
    if (limit) params.set("limit", String(limit));
    return `${this.base}?${params}`;
  }

  /** One page: the query's first page, or `url` (a `next` link) when given. */
  list(query, { url = null, signal } = {}) {
    return getJson(url || this.listUrl(query), { signal, cache: "no-store" });
  }

  detail(mint, timeframe, signal) {
    const params = new URLSearchParams({ timeframe });
    return getJson(`${this.base}${encodeURIComponent(mint)}/?${params}`, { signal, cache: "no-cache" });
  }
}
