"""WebSocket text frames built once and written to every connection as the same bytes (uvicorn).

ASGI's `websocket.send` takes a str: uvicorn's websockets-sansio protocol then encodes it to UTF-8
and frames it, per connection. For a batch that every `all` subscriber gets (~240 KB a refresh),
that is one encode and one frame copy per client, and on a small machine the big short-lived
buffers cost page faults on top; it was most of a web process's fan-out time. A server frame is
not masked (RFC 6455 §5.1) and, without extensions (permessage-deflate is off, config/serve.py),
its bytes depend on the text alone, so `text_frame` builds them once and `frame_writer` gives a
connection's writer of such bytes: straight to its transport, where uvicorn's own `send` would
have put the same bytes. It is found as realtime/backpressure.py finds the transport (the
protocol's bound `send`); for any other server (daphne) there is none and the consumer sends the
text through ASGI. The writer declines (returns False) whenever uvicorn's `send` would not just
write: the handshake not complete, closing or closed, a fragmented message in progress, an
extension negotiated, or the transport paused; the caller then takes the ASGI path.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

TEXT_OPCODE = 0x1
FIN = 0x80

FrameWriter = Callable[[bytes], bool]


def text_frame(text: str) -> bytes:
    """The unmasked, unfragmented text frame carrying `text` (RFC 6455 §5.2)."""
    payload = text.encode()
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", FIN | TEXT_OPCODE, length)
    elif length < 65536:
        header = struct.pack("!BBH", FIN | TEXT_OPCODE, 126, length)
    else:
        header = struct.pack("!BBQ", FIN | TEXT_OPCODE, 127, length)
    return header + payload


def frame_writer(send: Any) -> FrameWriter | None:
    """A writer of pre-built frames for the connection behind ASGI `send`, or None when its server
    is not uvicorn's websockets-sansio protocol."""
    protocol = getattr(send, "__self__", None)
    if protocol is None or not _is_sansio(protocol):
        return None
    from websockets.protocol import OPEN

    conn = protocol.conn

    def write(frame: bytes) -> bool:
        if (
            protocol.close_sent
            or protocol.disconnected
            or not protocol.handshake_complete
            or protocol.initial_response is not None
            or conn.state is not OPEN
            or conn.expect_continuation_frame
            or conn.extensions
            or not protocol.writable.is_set()
        ):
            return False
        transport = protocol.transport
        if transport.is_closing():
            return False
        transport.write(frame)
        return True

    return write


def _is_sansio(protocol: Any) -> bool:
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    except ImportError:
        return False
    return isinstance(protocol, WebSocketsSansIOProtocol)
