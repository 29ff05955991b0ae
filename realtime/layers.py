"""The channel layer: channels_redis's RedisChannelLayer with a Redis pool fit for its receive loop.

Two problems of the stock layer with redis-py 8, both seen in bench/bench_ws.py:
- redis-py's default socket timeout (5 s) equals the layer's BZPOPMIN timeout (brpop_timeout, 5 s),
  so an idle receive loop races the socket timeout, the read fails with TimeoutError and the
  consumer holding the receive lock crashes (its client is dropped with 1011).
- its asyncio ConnectionPool refuses the 101st concurrent command with MaxConnectionsError, which
  a burst of connects or disconnects (thousands of group_add / group_discard) reaches at once.
Here the pool waits for a free connection (BlockingConnectionPool) and reads wait longer than
BZPOPMIN blocks.
"""

from __future__ import annotations

from typing import Any

from channels_redis.core import RedisChannelLayer as _RedisChannelLayer
from redis import asyncio as aioredis

POOL_MAX_CONNECTIONS = 64
POOL_WAIT_SECONDS = 20
CONNECT_TIMEOUT_SECONDS = 5


class RedisChannelLayer(_RedisChannelLayer):
    def create_pool(self, index: int) -> Any:
        host = dict(self.hosts[index])
        if "address" not in host:  # sentinel or keyword hosts: channels_redis's own pool
            return super().create_pool(index)
        host.setdefault("socket_timeout", self.brpop_timeout + 10)
        host.setdefault("socket_connect_timeout", CONNECT_TIMEOUT_SECONDS)
        return aioredis.BlockingConnectionPool.from_url(
            host.pop("address"), max_connections=POOL_MAX_CONNECTIONS, timeout=POOL_WAIT_SECONDS, **host
        )
