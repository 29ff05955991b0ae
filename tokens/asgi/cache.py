"""ASGI response cache for GET /api/tokens/…: answers repeated identical reads without Django.

Per request it reads the current snapshot id and the last snapshot whose candles are stored, and
counts the request on the shared per-IP throttle counter (tokens/asgi/throttle.py), in one Redis
round trip shared by the requests of the same event-loop tick (tokens/asgi/admission.py). Then:
  * over the rate      -> 429 with Retry-After, answered here (Django never sees it);
  * cached and fresh   -> the stored response (or 304 when If-None-Match matches its ETag);
  * candles, stale     -> the entry of the previous `candles:written`, while one background
                          rebuild (at most MAX_REFRESHING at once) makes the new one: when a
                          snapshot's candles are stored, every token's read turns over at once,
                          and none of them waits for the database (stale-while-revalidate; a
                          stale entry answers for at most REFRESH_SECONDS after its write was
                          superseded);
  * being built        -> wait for the request already building the same read (single flight);
  * otherwise          -> Django, with the throttle verdict left in the scope so DRF does not count
                          the request twice; a 200 JSON response that names its snapshot
                          (X-Snapshot-Id) and sets no cookie is stored.
An entry is served only while its snapshot is the current one; for a token's candles
(…/candles/), while its snapshot is the last one whose candles are stored (`candles:written`):
candles change only then, so those entries outlive the snapshot switches in between. The one value in a body that moves
while the snapshot does not, the list's `meta.age_seconds`, is rewritten on every hit from the
snapshot's data time (the views send it in X-Data-Fetched-At, which never leaves this module), and
an entry expires when its data turns stale, so `stale` and the ETag flip exactly then. A list or detail
response without that header (no data yet) is kept for ENTRY_TTL seconds only; candles, which
hold no age and do not turn stale, for the life of their `candles:written`. Keeping entries for the
snapshot's whole life matters: a miss costs ~10 ms of thread hand-offs in Django's ASGI handler and
every identical read waits for it, so expiring each page every second made the tail of a 10-page
cursor walk (bench/bench_rest.py). Keys are (path, query with parameters in a stable order, and the
headers the response depends on). When Redis does not answer, requests go to Django, which serves
its memoised snapshot and fails open.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings
from redis.exceptions import RedisError

from tokens.asgi.admission import AdmissionBatcher
from tokens.asgi.throttle import SCOPE_VERDICT, Verdict, client_ident, counter_key, current_rate, judge
from tokens.history.store import KEY_WRITTEN
from tokens.infra import metrics, redis_clients
from tokens.infra.log_throttle import ThrottledWarning
from tokens.store import snapshots

log = logging.getLogger(__name__)
_redis_down = ThrottledWarning(log)

ENTRY_TTL = 1.0
MAX_REFRESHING = 4  # background rebuilds of stale candle reads at once, per process
# What the views tell this cache, in response headers: the snapshot a response was built from (sent
# on to the client) and that snapshot's data time (internal: removed here on every path).
SNAPSHOT_HEADER = "X-Snapshot-Id"
DATA_FETCHED_AT_HEADER = "X-Data-Fetched-At"
_SNAPSHOT = SNAPSHOT_HEADER.lower().encode()
_FETCHED_AT = DATA_FETCHED_AT_HEADER.lower().encode()
_AGE_KEY = b'"age_seconds":'
KEY_HEADERS = (b"host", b"accept", b"origin", b"x-forwarded-proto", b"x-forwarded-host")
_PASS_ON_304 = (b"etag", b"cache-control", b"vary", _SNAPSHOT)
CANDLES_SUFFIX = "/candles/"
# The scope key where the last snapshot whose candles are stored is left for the app (None: unknown).
SCOPE_WRITTEN = "mds.candles_written"

Scope = dict[str, Any]


@dataclass(slots=True)
class CachedResponse:
    snapshot_id: int
    expires: float
    headers: list[tuple[bytes, bytes]]  # without content-length, added per response
    body: bytes
    etag: bytes | None
    fetched_at: float | None = None  # the snapshot's data time, when the body holds an age
    age_span: tuple[int, int] | None = None  # where the age value sits in the body

    def current_body(self, now: float) -> bytes:
        """The body with `age_seconds` as of `now` (the stored body when it holds no age)."""
        if self.age_span is None or self.fetched_at is None:
            return self.body
        start, end = self.age_span
        age = repr(round(max(0.0, now - self.fetched_at), 3)).encode()
        return b"".join((self.body[:start], age, self.body[end:]))


def age_span(body: bytes) -> tuple[int, int] | None:
    """Where the value of the list's `meta.age_seconds` sits in a JSON body (None: no such key).

    `meta` is rendered last, so the last occurrence is the key: a string value can never hold the
    bytes `"age_seconds":`, its quotes would be escaped.
    """
    at = body.rfind(_AGE_KEY)
    if at < 0:
        return None
    start = at + len(_AGE_KEY)
    end = start
    while end < len(body) and body[end] not in b",}":
        end += 1
    if body[start:end] == b"null" or end == len(body):
        return None
    return start, end


def without_internal(headers: Any) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k.lower() != _FETCHED_AT]


def cache_key(scope: Scope) -> tuple[Any, ...]:
    """(path, query with parameters stably sorted by name, the headers the response depends on)."""
    wanted = dict.fromkeys(KEY_HEADERS, b"")
    for name, value in scope.get("headers", ()):
        if name in wanted:
            wanted[name] = value
    query = scope.get("query_string", b"")
    if b"&" in query:
        query = b"&".join(sorted(query.split(b"&"), key=lambda part: part.split(b"=", 1)[0]))
    return (scope.get("scheme", "http"), scope["path"], query, *wanted.values())


def etag_matches(etag: bytes | None, if_none_match: bytes | None) -> bool:
    """Weak comparison of an ETag against an If-None-Match header value."""
    if not etag or not if_none_match:
        return False
    if if_none_match.strip() == b"*":
        return True
    ours = etag.removeprefix(b"W/")
    return any(tag.strip().removeprefix(b"W/") == ours for tag in if_none_match.split(b","))


class Generation:
    """The entries valid for one id (a snapshot id, or the last one whose candles are stored),
    least recently used first; dropped when the id moves on, or with `keep_stale` kept one more
    generation as the stale entries that may answer while their replacement is built, for
    `stale_seconds` after the generation they belong to ended (an entry not yet rebuilt when the
    next generation comes is carried over, within that time)."""

    def __init__(self, max_entries: int, max_bytes: int, *, stale_seconds: float = 0.0) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.stale_seconds = stale_seconds
        self.id: int | None = None
        self.entries: OrderedDict[tuple[Any, ...], CachedResponse] = OrderedDict()
        self.stale: dict[tuple[Any, ...], tuple[CachedResponse, float]] = {}
        self.bytes = 0

    def follow(self, current: int | None, now: float) -> None:
        if current == self.id:
            return
        moved_on = current is not None and self.id is not None and current > self.id
        if self.stale_seconds > 0 and moved_on:
            until = now + self.stale_seconds
            kept = {k: v for k, v in self.stale.items() if v[1] > now and k not in self.entries}
            kept.update((k, (entry, until)) for k, entry in self.entries.items())
            size = sum(len(entry.body) for entry, _ in kept.values())
            while kept and (len(kept) > self.max_entries or size > self.max_bytes):
                size -= len(kept.pop(next(iter(kept)))[0].body)  # the oldest carried over first
            self.stale = kept
        else:
            self.stale = {}
        self.entries = OrderedDict()
        self.bytes = 0
        self.id = current

    def stale_entry(self, key: tuple[Any, ...], now: float) -> CachedResponse | None:
        found = self.stale.get(key)
        if found is None or found[1] <= now or found[0].expires <= now:
            return None
        return found[0]

    def get(self, key: tuple[Any, ...], now: float) -> CachedResponse | None:
        entry = self.entries.get(key)
        if entry is None or entry.snapshot_id != self.id or entry.expires <= now:
            return None
        self.entries.move_to_end(key)
        return entry

    def store(self, key: tuple[Any, ...], entry: CachedResponse) -> None:
        if entry.snapshot_id != self.id:
            return  # built from another id than the one now current: not worth keeping
        old = self.entries.pop(key, None)
        if old is not None:
            self.bytes -= len(old.body)
        self.entries[key] = entry
        self.bytes += len(entry.body)
        while self.entries and (len(self.entries) > self.max_entries or self.bytes > self.max_bytes):
            _, evicted = self.entries.popitem(last=False)
            self.bytes -= len(evicted.body)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value
    return None


def _no_body() -> Any:
    """`receive` of a background rebuild: an empty request body, then nothing (no disconnect)."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.get_running_loop().create_future()  # never: the app cancels its listener
        sent = True
        return {"type": "http.request", "body": b"", "more_body": False}

    return receive


async def _discard(message: dict[str, Any]) -> None:
    """`send` of a background rebuild: the response is kept by the cache, not sent anywhere."""


def _stripping(send: Any) -> Any:
    """`send` that removes the internal header from the response start."""

    async def strip(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": without_internal(message.get("headers", ()))}
        await send(message)

    return strip


class TokenResponseCache:
    """ASGI middleware in front of Django's http app; see the module docstring."""

    def __init__(self, app: Any, *, prefix: str = "/api/tokens/", max_entries: int = 2048) -> None:
        self.app = app
        self.prefix = prefix
        self._tokens = Generation(max_entries, 64 * 1024 * 1024)
        self._candles = Generation(
            max_entries, 64 * 1024 * 1024, stale_seconds=max(1.0, float(settings.REFRESH_SECONDS))
        )
        self._admission = AdmissionBatcher(
            (redis_clients.raw_key(snapshots.KEY_CURRENT), redis_clients.raw_key(KEY_WRITTEN))
        )
        self._inflight: dict[tuple[Any, ...], asyncio.Future] = {}
        self._refreshing: set[asyncio.Task] = set()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        now = time.time()
        try:
            (snapshot_id, written), verdict = await self._check(scope, now)
        except (RedisError, OSError, ValueError) as exc:
            _redis_down.warn("response cache bypassed, Redis unavailable: %s", exc)
            metrics.response_cache("bypass")
            await self.app(scope, receive, _stripping(send))
            return
        _redis_down.recovered("response cache in use again, Redis answers")
        if not verdict.allowed:
            await self._throttled(send, verdict)
            return
        scope = {**scope, SCOPE_VERDICT: verdict, SCOPE_WRITTEN: written}
        self._tokens.follow(snapshot_id, now)
        self._candles.follow(written, now)
        generation = self._candles if scope["path"].endswith(CANDLES_SUFFIX) else self._tokens
        key = cache_key(scope)
        entry = generation.get(key, now)
        if entry is not None:
            metrics.response_cache("hit")
            await self._replay(entry, _header(scope, b"if-none-match"), send)
            return
        leader = self._inflight.get(key)
        stale = generation.stale_entry(key, now)
        if stale is not None:  # candles of the previous write: answer them, rebuild behind
            metrics.response_cache("stale")
            if leader is None:
                self._refresh(generation, key, scope)
            await self._replay(stale, _header(scope, b"if-none-match"), send)
            return
        if leader is not None:  # the same read is being built right now: wait for it
            entry = await asyncio.shield(leader)
            if entry is not None and entry.snapshot_id == generation.id:
                metrics.response_cache("coalesced")
                await self._replay(entry, _header(scope, b"if-none-match"), send)
                return
        metrics.response_cache("miss")
        await self._fill(generation, key, scope, receive, send)

    def _refresh(self, generation: Generation, key: tuple[Any, ...], scope: Scope) -> None:
        """Build `key` anew in the background (at most MAX_REFRESHING at once; else a later read will)."""
        if len(self._refreshing) >= MAX_REFRESHING:
            return
        task = asyncio.ensure_future(self._fill(generation, key, scope, _no_body(), _discard))
        self._refreshing.add(task)
        task.add_done_callback(self._refreshing.discard)

    async def _check(self, scope: Scope, now: float) -> tuple[tuple[int | None, ...], Verdict]:
        """(current snapshot id, last one whose candles are stored) and this request's throttle
        verdict (one batched round trip)."""
        rate = current_rate()
        if rate is None:
            current, _ = await self._admission.check(None)
            return current, Verdict(True, 0.0)
        limit, duration = rate
        peer = scope.get("client")
        forwarded = _header(scope, b"x-forwarded-for")
        ident = client_ident(forwarded.decode("latin-1") if forwarded else None, peer[0] if peer else None)
        current, count = await self._admission.check(counter_key(ident, now, duration), duration)
        return current, judge(count or 0, limit, now, duration)

    async def _replay(self, entry: CachedResponse, if_none_match: bytes | None, send: Any) -> None:
        if etag_matches(entry.etag, if_none_match):
            headers = [(k, v) for k, v in entry.headers if k in _PASS_ON_304]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        body = entry.current_body(time.time())
        headers = [*entry.headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _throttled(self, send: Any, verdict: Verdict) -> None:
        wait = max(1, math.ceil(verdict.wait))
        body = orjson.dumps({"detail": f"Request was throttled. Expected available in {wait} seconds."})
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(wait).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _fill(
        self, generation: Generation, key: tuple[Any, ...], scope: Scope, receive: Any, send: Any
    ) -> None:
        """Let Django answer, passing the response through and keeping a cacheable 200.

        The first request of a key leads: identical reads arriving meanwhile wait for its entry
        instead of all entering Django (no stampede when an entry expires or the snapshot flips).
        The entry is stored when the last body chunk passes, before it is sent: Django's handler
        returns only after its clean-up, by when the client may already have asked again.
        """
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        leading = self._inflight.setdefault(key, future) is future
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status, headers = message["status"], list(message.get("headers", ()))
                message = {**message, "headers": [*without_internal(headers), (b"x-response-cache", b"miss")]}
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    entry = self._entry(
                        status, headers, b"".join(chunks), time.time(), generation is self._candles
                    )
                    if entry is not None:
                        generation.store(key, entry)
                    if leading:
                        self._settle(key, future, entry)
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            if leading:
                self._settle(key, future, None)

    def _settle(self, key: tuple[Any, ...], future: asyncio.Future, entry: CachedResponse | None) -> None:
        if not future.done():
            future.set_result(entry)
        if self._inflight.get(key) is future:
            del self._inflight[key]

    def _entry(
        self, status: int, headers: list[tuple[bytes, bytes]], body: bytes, now: float, candles: bool = False
    ) -> CachedResponse | None:
        if status != 200:
            return None
        found = {k.lower(): v for k, v in headers}
        snapshot = found.get(_SNAPSHOT)
        if not snapshot or b"set-cookie" in found:
            return None
        if not found.get(b"content-type", b"").startswith(b"application/json"):
            return None
        skip = (b"x-response-cache", b"content-length", _FETCHED_AT)
        stored = [(k.lower(), v) for k, v in headers if k.lower() not in skip]
        stored.append((b"x-response-cache", b"hit"))
        fetched = found.get(_FETCHED_AT)
        if fetched is None:  # candles: their generation's whole life; else no data yet
            expires = math.inf if candles else now + ENTRY_TTL
            return CachedResponse(int(snapshot), expires, stored, body, found.get(b"etag"))
        fetched_at = float(fetched)
        turns_stale = fetched_at + settings.CACHE_TTL_SECONDS
        expires = turns_stale if now <= turns_stale else math.inf  # stale stays stale
        return CachedResponse(
            int(snapshot), expires, stored, body, found.get(b"etag"), fetched_at, age_span(body)
        )
