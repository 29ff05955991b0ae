"""The replay server's control API under /_control/: universe, stats, faults, move, motion, reset, ping.

Used by tests and the demo; documented in tokens/replay/README.md and `replay_upstream --help`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from tokens.replay.app import ReplayApp, Response
from tokens.replay.faults import parse_fault
from tokens.replay.market import universe_summary
from tokens.replay.world import SOURCES, WINDOWS

Handler = Callable[[ReplayApp, dict[str, list[str]], Any], Response]


def control(app: ReplayApp, method: str, path: str, query_string: str, body: bytes) -> Response:
    """Answer one /_control/... request."""
    handlers = _ROUTES.get(path.rstrip("/"))
    if handlers is None:
        return _error(404, f"unknown control endpoint {path}")
    handler = handlers.get(method)
    if handler is None:
        return _error(405, f"{method} is not allowed on {path}; use {', '.join(handlers)}")
    payload: Any = None
    if body.strip():
        try:
            payload = json.loads(body)
        except ValueError:
            return _error(400, "the body is not valid JSON")
    return handler(app, parse_qs(query_string), payload)


def _error(status: int, message: str) -> Response:
    return Response.json(status, {"error": message})


def _ping(app: ReplayApp, query: dict[str, list[str]], payload: Any) -> Response:
    return Response.json(200, {"ok": True, "seed": app.universe.seed, "tokens": len(app.universe.tokens)})


def _universe(app: ReplayApp, query: dict[str, list[str]], payload: Any) -> Response:
    return Response.json(200, universe_summary(app.universe, app.view(), app.state))


def _stats(app: ReplayApp, query: dict[str, list[str]], payload: Any) -> Response:
    try:
        since = float(query.get("since", ["0"])[-1])
    except ValueError:
        return _error(400, "since must be a unix time in seconds")
    if not math.isfinite(since):
        return _error(400, "since must be a unix time in seconds")
    return Response.json(200, {"requests": app.log.since(since)})


def _faults(app: ReplayApp, query: dict[str, list[str]], payload: Any) -> Response:
    return Response.json(200, {"faults": app.faults.snapshot()})


def _set_fault(app: ReplayApp, query: dict[str, list[str]], payload: Any) -> Response:
    try:
        source, fault = parse_fault(payload)
    except ValueError as exc:
        return _error(400, str(exc))
    app.faults.set(source, fault)
    return Response.json(200, {"faults": app.faults.snapshot()})


def _clear_faults(app: ReplayApp, query: dict[str, list[str]], payload: Any) -> Response:
    app.faults.clear()
    return Response.json(200, {"faults": {}})


def _factor(payload: dict[str, Any], name: str) -> float | None:
    value = payload.get(name)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a positive number")
    return float(value)


def _move(app: ReplayApp, query: dict[str, list[str]], payload: Any) -> Response:
    if not isinstance(payload, dict) or not isinstance(payload.get("mint"), str):
        return _error(400, 'body must be {"mint": "...", "price_factor": 1.1, "volume_m5_factor": 5.0}')
    mint, source = payload["mint"], payload.get("source")
    if mint not in app.universe.by_mint:
        return _error(404, f"unknown mint {mint}")
    if source is not None and source not in SOURCES:
        return _error(400, f"source must be one of {', '.join(SOURCES)}")
    try:
        price_factor, volume_factor = _factor(payload, "price_factor"), _factor(payload, "volume_m5_factor")
    except ValueError as exc:
        return _error(400, str(exc))
    app.move(mint, price_factor, volume_factor, source)
    token = app.view().tokens[mint]
    result = {"mint": mint, "price_usd": token.price_usd, "volume": {w: token.volume(w) for w in WINDOWS}}
    return Response.json(200, result)


def _motion(app: ReplayApp, query: dict[str, list[str]], payload: Any) -> Response:
    if not isinstance(payload, dict) or not isinstance(payload.get("enabled"), bool):
        return _error(400, 'body must be {"enabled": true|false}')
    app.set_motion(payload["enabled"])
    return Response.json(200, {"motion": app.state.motion_enabled})


def _reset(app: ReplayApp, query: dict[str, list[str]], payload: Any) -> Response:
    app.reset()
    return Response.json(200, {"ok": True, "motion": app.state.motion_enabled})


_ROUTES: dict[str, dict[str, Handler]] = {
    "/_control/ping": {"GET": _ping},
    "/_control/universe": {"GET": _universe},
    "/_control/stats": {"GET": _stats},
    "/_control/faults": {"GET": _faults, "POST": _set_fault, "DELETE": _clear_faults},
    "/_control/move": {"POST": _move},
    "/_control/motion": {"POST": _motion},
    "/_control/reset": {"POST": _reset},
}
