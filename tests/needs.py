"""What some tests need beyond Python and Redis: skipped with the exact fix locally, a failure in CI.

With CI=true (the CI runner sets it), a missing browser, node or database fails the run: a green CI
must mean every test ran. Without it, the test is skipped and the skip says what to install.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing(what: str, fix: str) -> None:
    """Stop this test because `what` is missing: fail under CI, else skip saying `fix`."""
    message = f"{what} is missing; {fix}"
    if in_ci():
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)
