"""Recorded upstream samples bundled in tokens/replay/samples/, used as templates by the renderers."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).parent / "samples"

DS_BOOSTS_TOP = "token-boosts-top-v1-2026-10-08-partial.json"
DS_BOOSTS_LATEST = "token-boosts-latest-v1-2026-10-08-partial.json"
DS_PROFILES_LATEST = "token-profiles-latest-v1-2026-10-08-partial.json"
DS_SOL_PAIR = "tokens-v1-solana-SOL-raydium-no-fdv-mcap-2026-09-03.json"
GT_NEW_POOLS = "new_pools-solana-include-base_token-quote_token-dex-2026-10-08-partial.json"


@cache
def _load(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def sample(name: str) -> Any:
    """A fresh copy of one bundled sample."""
    return copy.deepcopy(_load(name))


def other_chain_items(name: str) -> list[dict[str, Any]]:
    """The non-Solana items of a recorded DexScreener boosts/profiles list (real lists mix chains)."""
    return [item for item in sample(name) if item.get("chainId") != "solana"]


def ds_sol_pair() -> dict[str, Any]:
    """The recorded SOL/USDC Raydium pair, whose static parts (info, url, tokens) the replay reuses."""
    return sample(DS_SOL_PAIR)[0]


def gt_token_record(mint: str) -> dict[str, Any] | None:
    """A recorded GeckoTerminal `included` token record (e.g. Wrapped SOL), if the samples hold one."""
    for item in sample(GT_NEW_POOLS)["included"]:
        if item["type"] == "token" and item["attributes"]["address"] == mint:
            return item
    return None
