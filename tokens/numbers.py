"""Number helpers shared by the parsers and the merge: keep a figure only when it is a usable float.

They sit below both stages (ingest parses with them, merge re-checks with them), so neither stage
imports the other for three one-line functions.
"""

from __future__ import annotations

INF = float("inf")


# Chained comparisons are False for NaN, so these drop NaN too (and cost less than math.isfinite calls).
def finite(x: float | None) -> float | None:
    """x when it is a finite number, else None."""
    return x if x is not None and -INF < x < INF else None


def positive(x: float | None) -> float | None:
    """x when it is finite and above zero (a zero price, cap or reserve means "unknown"), else None."""
    return x if x is not None and 0 < x < INF else None


def non_negative(x: float | None) -> float | None:
    """x when it is finite and not negative (a volume of 0 is real, a negative one is junk), else None."""
    return x if x is not None and 0 <= x < INF else None
