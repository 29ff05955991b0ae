"""Plain records shared by parsing, merging, selecting and diffing (no I/O, no Django)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


def positional_pickle(cls: type) -> type:
    """Pickle instances as `cls(*field values)` instead of dataclasses' slots `__setstate__`.

    A slotted dataclass unpickles through a generated Python `__setstate__` that walks
    `dataclasses.fields()` per object; a snapshot holds ~30,000 objects, so decoding it took
    ~3x longer that way (bench/bench_switch.py). Every field is an __init__ parameter, in order.
    """
    names = tuple(f.name for f in fields(cls))
    if not all(f.init for f in fields(cls)):
        raise TypeError(f"{cls.__name__}: positional_pickle needs every field in __init__")

    def __reduce__(self):
        return (cls, tuple([getattr(self, name) for name in names]))

    cls.__reduce__ = __reduce__
    return cls


SOURCES: tuple[str, ...] = ("dexscreener", "jupiter", "geckoterminal")

# Upstream windows, in the order used everywhere; "d7" exists only after merging OHLCV candles.
WINDOWS: tuple[str, ...] = ("m5", "h1", "h6", "h24")
ALL_WINDOWS: tuple[str, ...] = (*WINDOWS, "d7")
# Public `timeframe` parameter -> window key.
TIMEFRAMES: dict[str, str] = {"5m": "m5", "1h": "h1", "6h": "h6", "24h": "h24", "7d": "d7"}

SOL_MINT = "So11111111111111111111111111111111111111112"
USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
USDT_MINT = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"
# Quote-side tokens that are never tracked as meme tokens themselves.
REFERENCE_MINTS: frozenset[str] = frozenset({SOL_MINT, USDC_MINT, USDT_MINT})


@positional_pickle
@dataclass(slots=True)
class WindowStats:
    """Activity over one window; every field is None when the source did not say."""

    volume_usd: float | None = None
    buys: int | None = None
    sells: int | None = None
    price_change_pct: float | None = None

    @property
    def txns(self) -> int | None:
        if self.buys is None and self.sells is None:
            return None
        return (self.buys or 0) + (self.sells or 0)


@dataclass(slots=True)
class PoolQuote:
    """One liquidity pool as one source reported it (DexScreener pair, GeckoTerminal pool)."""

    source: str
    address: str
    dex_id: str  # normalised slug, see tokens.dexes.normalise_dex_id
    base_mint: str
    quote_mint: str
    base_symbol: str | None = None
    base_name: str | None = None
    quote_symbol: str | None = None
    price_usd: float | None = None  # base token in USD
    quote_price_usd: float | None = None  # quote token in USD
    price_native: float | None = None  # base token in quote-token units
    liquidity_usd: float | None = None
    fdv_usd: float | None = None
    market_cap_usd: float | None = None
    created_at: float | None = None  # unix seconds
    windows: dict[str, WindowStats] = field(default_factory=dict)  # keys from WINDOWS
    icon: str | None = None  # base token's image, when the source gives one
    fetched_at: float = 0.0


@positional_pickle
@dataclass(slots=True)
class Safety:
    """Jupiter's holder and authority data of one token; each value None when Jupiter did not say."""

    holder_count: int | None = None
    top_holders_pct: float | None = None  # audit.topHoldersPercentage, 0..100
    mint_authority_disabled: bool | None = None
    freeze_authority_disabled: bool | None = None
    verified: bool | None = None
    organic_score: float | None = None  # 0..100


SAFETY_FIELDS: tuple[str, ...] = (
    "holder_count",
    "top_holders_pct",
    "mint_authority_disabled",
    "freeze_authority_disabled",
    "verified",
    "organic_score",
)


@dataclass(slots=True)
class TokenQuote:
    """One token's token-level figures as one source reported them."""

    source: str
    mint: str
    name: str | None = None
    symbol: str | None = None
    icon: str | None = None
    price_usd: float | None = None
    market_cap_usd: float | None = None
    fdv_usd: float | None = None
    liquidity_usd: float | None = None
    volume_24h_usd: float | None = None
    windows: dict[str, WindowStats] = field(default_factory=dict)
    created_at: float | None = None  # unix seconds
    decimals: int | None = None
    top_pool: str | None = None  # the source's own top pool address for this token
    fetched_at: float = 0.0
    safety: Safety | None = None  # Jupiter's token objects only


@dataclass(slots=True)
class Candle:
    """One daily OHLCV candle of a pool; any value may be unknown."""

    ts: int
    open: float | None
    high: float | None
    low: float | None
    close: float | None
    volume_usd: float | None


@dataclass(slots=True)
class DiscoveryItem:
    """A candidate mint from one discovery list, at its rank (0 = first) in that list."""

    mint: str
    source: str
    list_name: str
    rank: int
    pool_address: str | None = None


@dataclass(slots=True)
class SourceSnapshot:
    """What one source has told us, accumulated over its (rotating) refreshes."""

    source: str
    pools: dict[str, PoolQuote] = field(default_factory=dict)  # pool address -> quote
    tokens: dict[str, TokenQuote] = field(default_factory=dict)  # mint -> quote
    candles: dict[str, list[Candle]] = field(default_factory=dict)  # pool address -> daily, newest first
    # pool address -> daily candles of the pool's quote-side token (OHLCV asked with token=<quote mint>)
    quote_candles: dict[str, list[Candle]] = field(default_factory=dict)
    fetched_at: float | None = None  # last successful fetch
    last_attempt_at: float | None = None
    error: str | None = None  # last error, cleared by the next success
    # mint -> when its safety data was last read (Jupiter: from a list or a search, also "not known")
    safety_read_at: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.fetched_at is not None and self.error is None


@positional_pickle
@dataclass(slots=True)
class SourceStatus:
    ok: bool
    fetched_at: float | None
    error: str | None


@positional_pickle
@dataclass(slots=True)
class PoolView:
    """A distinct pool of a merged token (de-duplicated across sources)."""

    address: str
    dex_id: str
    protocol: str
    quote_mint: str
    quote_symbol: str | None
    price_usd: float | None
    liquidity_usd: float | None
    windows: dict[str, WindowStats]  # keys from ALL_WINDOWS
    sources: list[str]
    created_at: float | None = None


@positional_pickle
@dataclass(slots=True)
class SourcePrice:
    """One source's own view of a token, for the detail's `by_source`."""

    price_usd: float | None
    market_cap_usd: float | None
    volume_24h_usd: float | None
    fetched_at: float | None
    excluded: bool = False


@positional_pickle
@dataclass(slots=True)
class Token:
    """One merged token: the record behind the public TOKEN object."""

    token_address: str
    token_name: str | None
    token_ticker: str | None
    icon: str | None
    protocol: str | None
    dex_id: str | None
    pair_address: str | None
    pair_created_at: float | None
    price_usd: float | None
    price_sol: float | None
    market_cap_usd: float | None
    market_cap_sol: float | None
    fdv_usd: float | None
    liquidity_usd: float | None
    liquidity_sol: float | None
    windows: dict[str, WindowStats]  # keys from ALL_WINDOWS; price change is the top pool's
    sources: list[str]
    updated_at: float
    pools: list[PoolView] = field(default_factory=list)
    by_source: dict[str, SourcePrice] = field(default_factory=dict)
    safety: Safety = field(default_factory=Safety)  # all None when Jupiter has not reported them


@positional_pickle
@dataclass(slots=True)
class Snapshot:
    """One merged, immutable state of the universe; `id` increases with every merge."""

    id: int
    generated_at: float
    data_fetched_at: float | None  # newest successful upstream fetch it holds
    sol_price_usd: float | None
    sources: dict[str, SourceStatus]
    tokens: dict[str, Token]
