"""What cti relies on in panoramisk, pinned (``panoramisk>=1.4,<1.5`` in pyproject.toml).

cti keeps panoramisk's ``Manager`` (it opens the connection through ``protocol_factory``), its
``AMIProtocol`` (the transport and the table of actions awaiting an answer) and its ``Action``
(serialisation, one future per action), and replaces the rest (``cti/ami/protocol.py``). These
tests fail if a panoramisk release changes any of that, before cti misbehaves against a PBX.
"""

from __future__ import annotations

import asyncio
import inspect
from importlib.metadata import version

from panoramisk import Manager
from panoramisk.actions import Action
from panoramisk.ami_protocol import AMIProtocol

from cti.ami.frames import FrameParser
from cti.ami.protocol import CtiManager, CtiProtocol


def test_the_pinned_version() -> None:
    assert version("panoramisk").split(".")[:2] == ["1", "4"], version("panoramisk")


async def test_an_action_serialises_as_ami_headers_with_repeated_variables() -> None:
    action = Action({"Action": "Originate", "ActionID": "a-1", "Variable": ["A=1", "B=2"]})
    assert (
        str(action)
        == "Action: Originate\r\nActionID: a-1\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n"
    )
    assert action.id == "a-1"
    assert isinstance(action.future, asyncio.Future)


def test_the_manager_takes_the_settings_cti_passes() -> None:
    defaults = Manager.defaults
    for key in ("protocol_factory", "forgetable_actions", "events", "encoding", "host", "port"):
        assert key in defaults, key
    source = inspect.getsource(Manager.connect)
    # connect() opens the connection with the configured factory and calls connection_made.
    assert "config['protocol_factory']" in source and "connection_made" in source


async def test_the_protocol_keeps_its_transport_and_answer_table() -> None:
    received: list[dict[str, str]] = []
    protocol = CtiProtocol(FrameParser(), received.append)

    class Transport(asyncio.Transport):
        def __init__(self) -> None:
            super().__init__()
            self.written = b""

        def write(self, data: bytes | bytearray | memoryview) -> None:
            self.written += bytes(data)

        def close(self) -> None:
            pass

    transport = Transport()
    protocol.connection_made(transport)
    assert protocol.transport is transport and protocol.responses == {}
    assert isinstance(protocol, AMIProtocol)
    future = protocol.send({"Action": "Ping", "ActionID": "p-1"})
    assert transport.written == b"Action: Ping\r\nActionID: p-1\r\n\r\n"
    assert "p-1" in protocol.responses
    protocol.close()
    assert future.done() and isinstance(future.exception(), ConnectionResetError)


async def test_the_manager_opens_a_connection_with_our_protocol() -> None:
    server = await asyncio.start_server(
        lambda r, w: w.write(b"Asterisk Call Manager/11.0.0\r\n"), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    try:
        manager = CtiManager(
            host="127.0.0.1", port=port, parser_factory=FrameParser, on_frame=lambda f: None
        )
        protocol = await manager.open(5.0)
        assert isinstance(protocol, CtiProtocol) and manager.protocol is protocol
        protocol.close()
    finally:
        server.close()
        await server.wait_closed()
