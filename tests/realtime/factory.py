"""Hand-built Tokens and Snapshots for the realtime tests (valid base58 mints, unique snapshot ids)."""

from __future__ import annotations

import dataclasses
import itertools
import os
import time

import base58

from tokens.records import Snapshot, SourceStatus, Token, WindowStats

# Snapshot ids unique across test processes, so a long-lived daphne's per-process memo
# (keyed by id) never serves a snapshot of an earlier test.
_ids = itertools.count(int(time.time() * 1000) % 10**9 * 100 + os.getpid() % 100)


def mint(i: int) -> str:
    """A valid mint address (base58 of 32 bytes), distinct for each i."""
    return base58.b58encode(i.to_bytes(4, "big") + bytes(range(28))).decode()


def make_token(
    address: str,
    price: float | None = 1.0,
    *,
    volume_24h: float | None = 1000.0,
    m5: float | None = 10.0,
    h1: float | None = 120.0,
    updated_at: float = 1_700_000_000.0,
    name: str = "Token",
) -> Token:
    return Token(
        token_address=address,
        token_name=name,
        token_ticker="TKN",
        icon=None,
        protocol="Raydium",
        dex_id="raydium",
        pair_address=address[:40],
        pair_created_at=1_690_000_000.0,
        price_usd=price,
        price_sol=None if price is None else price / 150,
        market_cap_usd=None if price is None else price * 1e9,
        market_cap_sol=None,
        fdv_usd=None,
        liquidity_usd=50_000.0,
        liquidity_sol=None,
        windows={
            "m5": WindowStats(volume_usd=m5, buys=1, sells=1, price_change_pct=0.1),
            "h1": WindowStats(volume_usd=h1, buys=10, sells=5, price_change_pct=1.0),
            "h24": WindowStats(volume_usd=volume_24h, buys=100, sells=50, price_change_pct=10.0),
        },
        sources=["dexscreener"],
        updated_at=updated_at,
    )


def moved(token: Token, **changes: object) -> Token:
    """A copy of `token` with record fields replaced; `price=` also moves price_sol and market cap."""
    price = changes.pop("price", None)
    if price is not None:
        changes.update(price_usd=price, price_sol=price / 150, market_cap_usd=price * 1e9)
    m5 = changes.pop("m5", None)
    windows = dict(token.windows)
    if m5 is not None:
        windows["m5"] = dataclasses.replace(windows["m5"], volume_usd=m5)
    return dataclasses.replace(token, windows=windows, **changes)


def make_snapshot(tokens: list[Token], snapshot_id: int | None = None) -> Snapshot:
    now = time.time()
    return Snapshot(
        id=next(_ids) if snapshot_id is None else snapshot_id,
        generated_at=now,
        data_fetched_at=now,
        sol_price_usd=150.0,
        sources={"dexscreener": SourceStatus(ok=True, fetched_at=now, error=None)},
        tokens={t.token_address: t for t in tokens},
    )
