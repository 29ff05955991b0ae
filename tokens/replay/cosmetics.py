"""Deterministic cosmetic details of the synthetic tokens (links, image ids, text) shared by the renderers."""

from __future__ import annotations

from tokens.replay.formats import stable_slug, stable_unit
from tokens.replay.world import TokenSpec


def website(spec: TokenSpec) -> str | None:
    if stable_unit(spec.mint, "website") < 0.3:
        return None
    slug = "".join(ch for ch in spec.symbol.lower() if ch.isalnum()) or "token"
    return f"https://{slug}.fun"


def twitter(spec: TokenSpec) -> str | None:
    if stable_unit(spec.mint, "twitter") < 0.2:
        return None
    handle = "".join(ch for ch in spec.name if ch.isalnum()) or spec.symbol
    return f"https://x.com/{handle}"


def image_id(spec: TokenSpec, kind: str = "icon") -> str:
    """A CMS-style image id, stable per token and kind ("icon", "header")."""
    return stable_slug(spec.mint, kind)


def has_header(spec: TokenSpec) -> bool:
    return stable_unit(spec.mint, "header") < 0.6


def description(spec: TokenSpec) -> str:
    return f"{spec.name} (${spec.symbol}) — a community token on Solana."
