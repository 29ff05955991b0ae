"""Builders of merged Tokens and Snapshots for every test package (valid base58 mints).

Two families: `make_token`/`make_snapshot`/`publish` (API tests: tokens from a seed, published
through the store with ids that never repeat) and `event_token`/`event_snapshot`/`moved` (realtime
tests: tokens at an address whose figures a test moves to make change events).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import time
from typing import Any

import base58

from realtime import eventlog
from tokens.dexes import protocol_name
from tokens.infra import redis_clients
from tokens.records import ALL_WINDOWS, SOURCES, Snapshot, SourceStatus, Token, WindowStats
from tokens.store import snapshots


def mint_for(seed: Any) -> str:
    """A valid, deterministic mint (base58 of 32 bytes) for any seed."""
    return base58.b58encode(hashlib.sha256(str(seed).encode()).digest()).decode()


def make_token(seed: Any = 0, **overrides: Any) -> Token:
    """A merged token; `volume` / `txns` / `change` set every window's figures unless `windows` is given."""
    volume = overrides.pop("volume", 1000.0)
    change = overrides.pop("change", 1.5)
    buys = overrides.pop("buys", 10)
    windows = overrides.pop(
        "windows",
        {
            w: WindowStats(
                volume_usd=volume, buys=buys, sells=None if buys is None else 3, price_change_pct=change
            )
            for w in ALL_WINDOWS
        },
    )
    dex_id = overrides.pop("dex_id", "raydium")
    fields: dict[str, Any] = {
        "token_address": mint_for(seed),
        "token_name": f"Token {seed}",
        "token_ticker": f"TK{seed}",
        "icon": None,
        "protocol": protocol_name(dex_id),
        "dex_id": dex_id,
        "pair_address": mint_for(f"pair-{seed}"),
        "pair_created_at": 1_700_000_000.0,
        "price_usd": 0.001,
        "price_sol": 0.00001,
        "market_cap_usd": 100_000.0,
        "market_cap_sol": 1000.0,
        "fdv_usd": 100_000.0,
        "liquidity_usd": 20_000.0,
        "liquidity_sol": 200.0,
        "windows": windows,
        "sources": ["dexscreener"],
        "updated_at": time.time(),
    }
    fields.update(overrides)
    return Token(**fields)


def make_snapshot(tokens: list[Token], snapshot_id: int = 1, **overrides: Any) -> Snapshot:
    now = time.time()
    fields: dict[str, Any] = {
        "id": snapshot_id,
        "generated_at": now,
        "data_fetched_at": now,
        "sol_price_usd": 100.0,
        "sources": {name: SourceStatus(ok=True, fetched_at=now, error=None) for name in SOURCES},
        "tokens": {t.token_address: t for t in tokens},
    }
    fields.update(overrides)
    return Snapshot(**fields)


_last_id = 0


def publish(tokens: list[Token], **overrides: Any) -> Snapshot:
    """Publish a snapshot of `tokens` through the store, with an id never used before in this session.

    Redis is flushed per test, which restarts the id counter; a live server that memoised id N in
    an earlier test must never see a different snapshot under the same id, so ids keep increasing.
    """
    global _last_id
    snapshot_id = snapshots.next_snapshot_id()
    if snapshot_id <= _last_id:
        redis_clients.raw_redis().set(redis_clients.raw_key(snapshots.KEY_SNAPSHOT_SEQ), _last_id)
        snapshot_id = snapshots.next_snapshot_id()
    _last_id = snapshot_id
    snapshot = make_snapshot(tokens, snapshot_id, **overrides)
    snapshots.publish_snapshot(snapshot)
    eventlog.mark_snapshot(snapshot.id)  # published without events: its seq is the current one
    return snapshot


# --- realtime: tokens whose figures a test moves ------------------------------------------------

# Snapshot ids unique across test processes, so a long-lived daphne's per-process memo
# (keyed by id) never serves a snapshot of an earlier test.
_ids = itertools.count(int(time.time() * 1000) % 10**9 * 100 + os.getpid() % 100)


def mint(i: int) -> str:
    """A valid mint address (base58 of 32 bytes), distinct for each i."""
    return base58.b58encode(i.to_bytes(4, "big") + bytes(range(28))).decode()


def event_token(
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


def event_snapshot(tokens: list[Token], snapshot_id: int | None = None) -> Snapshot:
    now = time.time()
    return Snapshot(
        id=next(_ids) if snapshot_id is None else snapshot_id,
        generated_at=now,
        data_fetched_at=now,
        sol_price_usd=150.0,
        sources={"dexscreener": SourceStatus(ok=True, fetched_at=now, error=None)},
        tokens={t.token_address: t for t in tokens},
    )
