"""Small builders of merged Token records and Snapshots for API tests (until the pipeline feeds them)."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import base58

from tokens import store
from tokens.dexes import protocol_name
from tokens.records import ALL_WINDOWS, SOURCES, Snapshot, SourceStatus, Token, WindowStats


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
    snapshot_id = store.next_snapshot_id()
    if snapshot_id <= _last_id:
        store.raw_redis().set(store.raw_key(store.KEY_SNAPSHOT_SEQ), _last_id)
        snapshot_id = store.next_snapshot_id()
    _last_id = snapshot_id
    snapshot = make_snapshot(tokens, snapshot_id, **overrides)
    store.publish_snapshot(snapshot)
    return snapshot
