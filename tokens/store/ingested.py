"""What ingest stores in Redis: each source's snapshot, its discovery lists and the tracked universe.

Owns these key families (all under django-redis's KEY_PREFIX):
  source:<name>        SourceSnapshot of one source (written by its refresh only)
  discovery:<name>     list[DiscoveryItem] of one source's last discovery
  universe             list[str], the tracked mints in rank order
"""

from __future__ import annotations

from django.core.cache import cache

from tokens.records import DiscoveryItem, SourceSnapshot

KEY_SOURCE = "source:{name}"
KEY_DISCOVERY = "discovery:{name}"
KEY_UNIVERSE = "universe"


def load_source(name: str) -> SourceSnapshot:
    snap = cache.get(KEY_SOURCE.format(name=name))
    if not isinstance(snap, SourceSnapshot):
        return SourceSnapshot(source=name)
    if not hasattr(snap, "quote_candles"):  # saved before the field existed
        snap.quote_candles = {}
    if not hasattr(snap, "safety_read_at"):  # likewise
        snap.safety_read_at = {}
        for quote in snap.tokens.values():
            if not hasattr(quote, "safety"):
                quote.safety = None
    return snap


def save_source(snap: SourceSnapshot) -> None:
    cache.set(KEY_SOURCE.format(name=snap.source), snap, timeout=None)


def load_discovery(name: str) -> list[DiscoveryItem]:
    return cache.get(KEY_DISCOVERY.format(name=name)) or []


def save_discovery(name: str, items: list[DiscoveryItem]) -> None:
    cache.set(KEY_DISCOVERY.format(name=name), items, timeout=None)


def load_universe() -> list[str]:
    return cache.get(KEY_UNIVERSE) or []


def save_universe(mints: list[str]) -> None:
    cache.set(KEY_UNIVERSE, mints, timeout=None)
