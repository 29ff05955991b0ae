"""Measures how many bytes a WebSocket connection has accepted but not yet written to its socket.

ASGI has no backpressure: daphne's `send` hands the frame to Twisted and returns at once, so a
client that stops reading only shows up as a growing Twisted write buffer. Daphne passes each
application `functools.partial(Server.handle_reply, protocol)` as `send`; from its protocol's TCP
transport we read the buffered byte count. For any other server (or TLS-wrapped transports) the
backlog is unknown (None) and the consumer relies on a send timeout instead.
"""

from __future__ import annotations

import functools
from typing import Any


def write_backlog(send: Any) -> int | None:
    """Bytes queued in the connection's transport and not yet written, or None when unknown."""
    if not isinstance(send, functools.partial) or not send.args:
        return None
    transport = getattr(send.args[0], "transport", None)
    if transport is None:
        return None
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except (AttributeError, TypeError):
        return None
