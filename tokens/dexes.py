"""Dex identifiers: one slug per dex and pool kind across sources, and its readable protocol name."""

from __future__ import annotations

from collections.abc import Iterable

# Upstream dex ids (DexScreener dexId, GeckoTerminal dex slug) that name the same dex differently.
_ALIASES = {
    "pump-fun": "pumpfun",
    "pump.fun": "pumpfun",
    "pumpfun-amm": "pumpswap",
    "pump-swap": "pumpswap",
    "raydium-cp": "raydium-cpmm",
    "raydium-launchlab": "raydium-launchlab",
    "orca-whirlpool": "orca",
    "meteora-damm": "meteora-damm",
}

# DexScreener `labels` that name a pool kind within a dex.
_LABEL_KINDS = {
    "raydium": {"CLMM": "clmm", "CPMM": "cpmm", "AMM": None, "V4": None},
    "meteora": {"DLMM": "dlmm", "DYN": "damm", "DYN2": "damm-v2", "DBC": "dbc"},
    "orca": {"WP": None},
}

_NAMES = {
    "raydium": "Raydium",
    "raydium-clmm": "Raydium CLMM",
    "raydium-cpmm": "Raydium CPMM",
    "raydium-launchlab": "Raydium LaunchLab",
    "pumpswap": "PumpSwap",
    "pumpfun": "Pump.fun",
    "meteora": "Meteora",
    "meteora-dlmm": "Meteora DLMM",
    "meteora-damm": "Meteora DAMM",
    "meteora-damm-v2": "Meteora DAMM v2",
    "meteora-dbc": "Meteora DBC",
    "orca": "Orca",
    "heaven": "Heaven",
    "fluxbeam": "FluxBeam",
    "launchlab": "LaunchLab",
    "moonshot": "Moonshot",
    "boop": "Boop",
}


def normalise_dex_id(dex_id: str | None, labels: Iterable[str] | None = None) -> str:
    """A lower-case slug such as "raydium-clmm" from an upstream dex id and optional pool labels."""
    slug = (dex_id or "unknown").strip().lower().replace("_", "-").replace(" ", "-") or "unknown"
    slug = _ALIASES.get(slug, slug)
    kinds = _LABEL_KINDS.get(slug)
    if kinds and labels:
        for label in labels:
            kind = kinds.get(str(label).upper())
            if kind:
                return f"{slug}-{kind}"
    return slug


def protocol_name(slug: str | None) -> str | None:
    """Readable name for a dex slug: "raydium-clmm" -> "Raydium CLMM"; unknown slugs are title-cased."""
    if not slug:
        return None
    if slug in _NAMES:
        return _NAMES[slug]
    return " ".join(part.upper() if len(part) <= 4 else part.capitalize() for part in slug.split("-"))


def dex_matches(slug: str | None, wanted: Iterable[str]) -> bool:
    """True when the slug is one of `wanted` or a kind of one ("raydium" matches "raydium-clmm")."""
    if not slug:
        return False
    for want in wanted:
        want = normalise_dex_id(want)
        if slug == want or slug.startswith(want + "-"):
            return True
    return False
