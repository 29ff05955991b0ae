"""The retry policy of the asyncio Redis clients: a dead pooled connection is replaced, not reported.

After Redis restarts, every pooled connection opened before is dead, and redis-py's default is to
fail the first command on each (no retries). With this policy the command disconnects, reconnects
and runs again (twice, 50-500 ms apart), so the first WebSocket `resume` or API request after a
restart succeeds. While Redis is really down the retries fail too, after at most ~1 s more.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError

RETRIES = 2


def async_retry_options() -> dict[str, Any]:
    """Keyword arguments for redis.asyncio clients and pools."""
    return {
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES),
        "retry_on_error": [ConnectionError, TimeoutError, ConnectionResetError],
    }
