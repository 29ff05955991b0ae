"""What each upstream source is, declared once: base URL, budgets, batch sizes, endpoints, headers.

The HTTP client (tokens/ingest/http.py), the budgets (tokens/ingest/budgets.py) and the fetch
plans (tokens/ingest/plans.py) read these descriptions; no code branches on a source's name.
Values that operators set (URLs, budgets, keys) are named by their Django setting and read when
used, so tests and `override_settings` see the current value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings


@dataclass(frozen=True)
class BudgetSpec:
    """One moving-window request budget of a source, e.g. DexScreener discovery at DEXSCREENER_DISCOVERY_RPM."""

    name: str
    rpm_setting: str

    @property
    def per_minute(self) -> int:
        return int(getattr(settings, self.rpm_setting))


@dataclass(frozen=True)
class Source:
    name: str
    base_url_setting: str
    budgets: tuple[BudgetSpec, ...]
    batch_size: int  # mints per market-data call
    endpoints: dict[str, str]  # purpose -> path template (str.format fields: mints, mint, pool, …)
    headers: dict[str, str] = field(default_factory=dict)
    api_key_setting: str | None = None  # sent as `api_key_header` when the setting is non-empty
    api_key_header: str | None = None
    # The upstream caches answers this long (setting name): the same request is not repeated sooner.
    cache_seconds_setting: str | None = None

    @property
    def cache_seconds(self) -> float:
        return float(getattr(settings, self.cache_seconds_setting)) if self.cache_seconds_setting else 0.0

    @property
    def base_url(self) -> str:
        return str(getattr(settings, self.base_url_setting)).rstrip("/")

    def request_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        key = getattr(settings, self.api_key_setting) if self.api_key_setting else None
        if key and self.api_key_header:
            headers[self.api_key_header] = key
        return headers

    def budget(self, name: str = "") -> BudgetSpec:
        """The named budget; the first (default) one when `name` is empty."""
        if not name:
            return self.budgets[0]
        for spec in self.budgets:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.name} has no budget {name!r}")

    def path(self, endpoint: str, **fields: str) -> str:
        return self.endpoints[endpoint].format(**fields)


DEXSCREENER = Source(
    name="dexscreener",
    base_url_setting="DEXSCREENER_BASE_URL",
    budgets=(BudgetSpec("market", "DEXSCREENER_RPM"), BudgetSpec("discovery", "DEXSCREENER_DISCOVERY_RPM")),
    batch_size=30,
    endpoints={
        "boosts_top": "/token-boosts/top/v1",
        "boosts_latest": "/token-boosts/latest/v1",
        "profiles_latest": "/token-profiles/latest/v1",
        "search": "/latest/dex/search",
        "tokens": "/tokens/v1/solana/{mints}",
        "token_pairs": "/token-pairs/v1/solana/{mint}",
    },
    headers={"Accept": "application/json"},
)

JUPITER = Source(
    name="jupiter",
    base_url_setting="JUPITER_BASE_URL",
    budgets=(BudgetSpec("default", "JUPITER_RPM"),),
    batch_size=50,
    endpoints={
        "list": "/tokens/v2/{category}/{interval}",
        "price": "/price/v3",
        "search": "/tokens/v2/search",
    },
    headers={"Accept": "application/json"},
    api_key_setting="JUPITER_API_KEY",
    api_key_header="x-api-key",
)

GECKOTERMINAL = Source(
    name="geckoterminal",
    base_url_setting="GECKOTERMINAL_BASE_URL",
    budgets=(BudgetSpec("default", "GECKOTERMINAL_RPM"),),
    batch_size=30,
    endpoints={
        "trending_pools": "/networks/solana/trending_pools",
        "top_volume_pools": "/networks/solana/pools",
        "new_pools": "/networks/solana/new_pools",
        "tokens_multi": "/networks/solana/tokens/multi/{mints}",
        "ohlcv_day": "/networks/solana/pools/{pool}/ohlcv/day",
        "ohlcv": "/networks/solana/pools/{pool}/ohlcv/{timeframe}",  # history backfill (minute, hour)
    },
    headers={"Accept": "application/json;version=20230302"},  # the API version the parsers were written for
    cache_seconds_setting="GECKOTERMINAL_CACHE_SECONDS",
)

SOURCES_BY_NAME: dict[str, Source] = {s.name: s for s in (DEXSCREENER, JUPITER, GECKOTERMINAL)}


def source(name: str) -> Source:
    try:
        return SOURCES_BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown source {name!r}; expected one of {', '.join(SOURCES_BY_NAME)}") from None
