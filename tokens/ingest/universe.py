"""Chooses the tracked universe from the sources' discovery lists, and plans rotating batches (pure)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from tokens.records import REFERENCE_MINTS, DiscoveryItem

# Reciprocal-rank fusion constant: a mint's score is the sum over lists of 1 / (RRF_K + rank).
RRF_K = 60
# Members already tracked get this bonus (about five ranks near the top of a list) so the
# universe does not churn on small rank changes.
INCUMBENT_BONUS = 1.0 / RRF_K - 1.0 / (RRF_K + 5)


def rank_universe(
    discovery: Mapping[str, Sequence[DiscoveryItem]],
    cap: int,
    current: Sequence[str] = (),
    is_valid: Callable[[str], bool] = lambda mint: True,
) -> list[str]:
    """Rank candidate mints from every discovery list and keep the best `cap`.

    A mint named by several lists (or sources) outranks one named once; reference mints
    (SOL, USDC, USDT) and mints failing `is_valid` are never tracked. Ties keep the current
    order, then the mint string, so the result is deterministic.
    """
    scores: dict[str, float] = {}
    for items in discovery.values():
        seen: set[tuple[str, str]] = set()
        for item in items:
            key = (item.list_name, item.mint)
            if key in seen or item.mint in REFERENCE_MINTS or not is_valid(item.mint):
                continue
            seen.add(key)
            scores[item.mint] = scores.get(item.mint, 0.0) + 1.0 / (RRF_K + max(item.rank, 0))
    position = {mint: i for i, mint in enumerate(current)}
    for mint in position:
        if mint in scores:
            scores[mint] += INCUMBENT_BONUS
    ordered = sorted(scores, key=lambda m: (-scores[m], position.get(m, len(position)), m))
    return ordered[: max(cap, 0)]


def rotate_batches(
    items: Sequence[str], batch_size: int, start: int, count: int
) -> tuple[list[list[str]], int]:
    """`count` consecutive batches of `items` starting at batch index `start`, wrapping around.

    Returns the batches and the batch index to start from next time. A batch never repeats within
    one call, so when `count` covers the whole list every item is fetched exactly once.
    """
    if not items or batch_size <= 0 or count <= 0:
        return [], 0
    batches = [list(items[i : i + batch_size]) for i in range(0, len(items), batch_size)]
    start %= len(batches)
    take = min(count, len(batches))
    chosen = [batches[(start + i) % len(batches)] for i in range(take)]
    return chosen, (start + take) % len(batches)


def calls_per_refresh(per_minute: int, refresh_seconds: float, reserved: int = 0) -> int:
    """How many calls one refresh may make so that refreshes alone stay inside the per-minute budget."""
    allowance = int(per_minute * refresh_seconds / 60.0) - reserved
    return max(allowance, 1)
