"""realtime/raw_frames.py: pre-built text frames are the bytes uvicorn would write, and the writer
declines whenever uvicorn's own send would do more than write them."""

from __future__ import annotations

import functools

import pytest
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode
from websockets.protocol import OPEN

from realtime.raw_frames import frame_writer, text_frame

pytestmark = pytest.mark.pure


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 300_000])
def test_a_text_frame_is_the_frame_websockets_serialises(size):
    text = ("é" + "x" * size)[:size]  # a two-byte character too: the length counts bytes
    expected = Frame(Opcode.TEXT, text.encode()).serialize(mask=False)
    assert text_frame(text) == expected


class Transport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closing


async def open_protocol() -> tuple[WebSocketsSansIOProtocol, Transport]:
    """A uvicorn websockets-sansio protocol as it is once the handshake is done."""

    async def app(scope, receive, send):  # never called here
        raise AssertionError

    protocol = WebSocketsSansIOProtocol(Config(app, ws="websockets-sansio"), ServerState(), {})
    transport = Transport()
    protocol.transport = transport  # type: ignore[assignment]
    protocol.handshake_complete = True
    protocol.conn.state = OPEN
    return protocol, transport


async def test_the_writer_writes_the_frame_to_an_open_uvicorn_connection():
    protocol, transport = await open_protocol()
    write = frame_writer(protocol.send)
    assert write is not None
    frame = text_frame('{"type":"batch","events":[]}')
    assert write(frame) is True
    assert transport.written == [frame]


DECLINING = ("close_sent", "disconnected", "handshake_pending", "http_response", "paused", "fragment")


@pytest.mark.parametrize("state", [*DECLINING, "deflate", "transport_closing"])
async def test_the_writer_declines_when_uvicorns_send_would_not_just_write(state):
    protocol, transport = await open_protocol()
    if state == "close_sent":
        protocol.close_sent = True
    elif state == "disconnected":
        protocol.disconnected = True
    elif state == "handshake_pending":
        protocol.handshake_complete = False
    elif state == "http_response":
        protocol.initial_response = (403, [], b"")
    elif state == "paused":
        protocol.pause_writing()
    elif state == "fragment":
        protocol.conn.expect_continuation_frame = True
    elif state == "deflate":
        protocol.conn.extensions = [object()]  # type: ignore[list-item]
    else:
        transport.closing = True
    write = frame_writer(protocol.send)
    assert write is not None
    assert write(text_frame("{}")) is False
    assert transport.written == []


def test_other_servers_have_no_writer():
    async def send(message):  # a plain ASGI send
        pass

    class DaphneServer:
        def handle_reply(self, protocol, message):
            pass

    assert frame_writer(send) is None
    assert frame_writer(functools.partial(DaphneServer().handle_reply, object())) is None
