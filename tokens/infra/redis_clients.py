"""Redis clients of every process: the django-redis connection, full key names, asyncio clients.

Every module that talks to Redis gets its client here; which module owns which key family is in
docs/architecture.md. The asyncio clients carry a retry policy: after Redis restarts, every pooled
connection opened before is dead, and redis-py's default is to fail the first command on each (no
retries). With this policy the command disconnects, reconnects and runs again (twice, 50-500 ms
apart), so the first WebSocket `resume` or API request after a restart succeeds. While Redis is
really down the retries fail too, after at most ~1 s more.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError

RETRIES = 2


def raw_redis() -> Any:
    """The redis-py client behind the default cache (for INCR, scripts and other atomic primitives)."""
    return get_redis_connection("default")


def raw_key(key: str) -> str:
    """The full Redis key django-redis uses for `key` (prefix and version applied)."""
    return cache.make_key(key)


def async_retry_options() -> dict[str, Any]:
    """Keyword arguments for redis.asyncio clients and pools."""
    return {
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES),
        "retry_on_error": [ConnectionError, TimeoutError, ConnectionResetError],
    }


def new_async_client(**options: Any) -> aioredis.Redis:
    """A new asyncio client on REDIS_URL with the retry policy (`options` override the timeouts)."""
    return aioredis.Redis.from_url(settings.REDIS_URL, **{**async_retry_options(), **options})


_pooled: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()


def pooled_async_client() -> aioredis.Redis:
    """One pooled asyncio client per event loop (a web process has one; tests have one per test)."""
    loop = asyncio.get_running_loop()
    client = _pooled.get(loop)
    if client is None:
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL, max_connections=32, timeout=10, socket_connect_timeout=2, socket_timeout=5,
            **async_retry_options(),
        )  # fmt: skip
        client = _pooled[loop] = aioredis.Redis.from_pool(pool)
    return client


async def close_pooled_async_client() -> None:
    client = _pooled.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()
