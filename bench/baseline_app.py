"""A no-op ASGI app with a page-sized body, for bench_rest.py --baseline: what daphne alone costs.

It gets the same GC settings as config.asgi (tokens/infra/gc_tuning.py), so the comparison is fair.
"""

from __future__ import annotations

from tokens.infra.gc_tuning import tune_for_serving

BODY = (
    b'{"results": ['
    + b",".join(
        [b'{"token_address": "x", "price_usd": 1.0, "volume_usd": 12345.678, "name": "Meme coin"}'] * 400
    )
    + b"]}"
)
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def application(scope: dict, receive, send) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


tune_for_serving()
