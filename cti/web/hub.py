"""The WebSocket hub: fan-out with backpressure.

Each connected client has a bounded queue and its own writer task. Publishing never awaits a
socket: it puts the frame in the client's queue, or, when the queue is full, closes that client
(it will reconnect and get a fresh snapshot). Frames are encoded once per publish, not per client.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, web

log = logging.getLogger("cti.web.hub")

# Close code a client receives when its session ended (signed out, expired, taken over, ended by
# an admin).
CLOSE_SESSION_ENDED = 4001
# Close code a client receives when its user no longer has the role the socket needs.
CLOSE_FORBIDDEN = 4003
# Close code a client receives when it fell behind; it should reconnect and resync.
CLOSE_TOO_SLOW = 4008
# Close code a desk receives when the same operator took over from another machine.
CLOSE_TAKEN_OVER = 4009


def encode(message: Mapping[str, object]) -> str:
    """One JSON text frame (the hub never reads a message it sends: it only encodes it)."""
    return json.dumps(message, separators=(",", ":"), default=str)


def frame_message(data: str) -> dict[str, Any] | None:
    """A client's text frame as a JSON object, or None when it is not one (not JSON, nested too
    deeply to read, not an object): the caller answers with an error frame."""
    try:
        message = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


def shown_kind(kind: object) -> str:
    """A client's message ``type`` as an error frame may echo it (short, never a structure)."""
    return repr(kind[:40]) if isinstance(kind, str) else f"of {type(kind).__name__}"


@dataclass(eq=False)
class Client:
    """One open WebSocket: who it is, what it listens to, and its outgoing queue."""

    ws: web.WebSocketResponse
    user_id: int
    role: str
    topics: frozenset[str]
    session: str  # the key (token hash) of the session that opened it
    queue: asyncio.Queue[str | None]
    id: int = field(default_factory=itertools.count(1).__next__)
    writer: asyncio.Task[None] | None = None
    close_code: int | None = None
    close_reason: str = ""

    def offer(self, frame: str) -> bool:
        """Queue a frame without waiting; False when the client is too slow to keep."""
        if self.close_code is not None:
            return True
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            return False
        return True


class Hub:
    """Every connected client, by user and by topic."""

    def __init__(self, *, queue_size: int = 256) -> None:
        self._queue_size = queue_size
        self._clients: set[Client] = set()
        self._by_user: dict[int, set[Client]] = {}
        self._by_topic: dict[str, set[Client]] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self.dropped = 0
        self.delivered = 0

    def __len__(self) -> int:
        return len(self._clients)

    def attach(
        self,
        ws: web.WebSocketResponse,
        *,
        user_id: int,
        role: str,
        session: str = "",
        topics: Iterable[str] = (),
    ) -> Client:
        """Register a prepared WebSocket and start its writer."""
        client = Client(
            ws=ws,
            user_id=user_id,
            role=role,
            session=session,
            topics=frozenset(topics),
            queue=asyncio.Queue(self._queue_size),
        )
        self._clients.add(client)
        self._by_user.setdefault(user_id, set()).add(client)
        for topic in client.topics:
            self._by_topic.setdefault(topic, set()).add(client)
        client.writer = asyncio.get_running_loop().create_task(
            self._write(client), name=f"ws-writer-{client.id}"
        )
        return client

    def detach(self, client: Client) -> None:
        """Forget a client (its socket closed); its writer ends."""
        if client not in self._clients:
            return
        self._clients.discard(client)
        users = self._by_user.get(client.user_id)
        if users is not None:
            users.discard(client)
            if not users:
                del self._by_user[client.user_id]
        for topic in client.topics:
            members = self._by_topic.get(topic)
            if members is not None:
                members.discard(client)
                if not members:
                    del self._by_topic[topic]
        if client.writer is not None and not client.writer.done():
            with contextlib.suppress(asyncio.QueueFull):
                client.queue.put_nowait(None)

    def clients_of(self, user_id: int) -> list[Client]:
        """The open sockets of one user."""
        return list(self._by_user.get(user_id, ()))

    def send_to_user(self, user_id: int, message: Mapping[str, object]) -> int:
        """Queue a message for every socket of one user; returns how many got it."""
        return self._offer(self._by_user.get(user_id, ()), encode(message))

    def send_to_client(self, client: Client, message: Mapping[str, object]) -> None:
        """Queue a message for one socket (a snapshot on connect, an answer to a request)."""
        self._offer((client,), encode(message))

    def send_to_clients(self, clients: Iterable[Client], message: Mapping[str, object]) -> int:
        """Queue one message for several sockets; encoded once. Returns how many got it."""
        return self._offer(clients, encode(message))

    def publish(self, topic: str, message: Mapping[str, object]) -> int:
        """Queue a message for every subscriber of a topic; encoded once."""
        members = self._by_topic.get(topic)
        if not members:
            return 0
        return self._offer(members, encode(message))

    def close_client(self, client: Client, code: int, reason: str) -> None:
        """Close one client after what is already queued for it has been sent."""
        client.close_code = code
        client.close_reason = reason
        with contextlib.suppress(asyncio.QueueFull):
            client.queue.put_nowait(None)
        if client.queue.full():
            # Its queue is full: nothing more will fit, close at once.
            self._abort(client)

    def clients(self) -> list[Client]:
        """Every open socket."""
        return list(self._clients)

    def close_sessions(self, user_id: int, keys: set[str], code: int, reason: str) -> None:
        """Close the user's sockets opened by the sessions ``keys`` (signed out, ended)."""
        for client in self.clients_of(user_id):
            if client.session in keys:
                self.close_client(client, code, reason)

    def _offer(self, clients: Iterable[Client], frame: str) -> int:
        sent = 0
        slow: list[Client] = []
        for client in clients:
            if client.offer(frame):
                sent += 1
            else:
                slow.append(client)
        for client in slow:
            self.dropped += 1
            log.info("closing WebSocket of user %s: it fell behind", client.user_id)
            client.close_code = CLOSE_TOO_SLOW
            client.close_reason = "too slow; reconnect for a fresh snapshot"
            self._abort(client)
        return sent

    def _abort(self, client: Client) -> None:
        self.detach(client)
        if client.writer is not None:
            client.writer.cancel()
        task = asyncio.get_running_loop().create_task(
            _close(client.ws, client.close_code or WSCloseCode.GOING_AWAY, client.close_reason)
        )
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _write(self, client: Client) -> None:
        ws = client.ws
        try:
            while (frame := await client.queue.get()) is not None:
                await ws.send_str(frame)
                self.delivered += 1
        except (ConnectionError, RuntimeError):
            return  # the peer went away; the reader notices and detaches
        except asyncio.CancelledError:
            return
        if client.close_code is not None:
            await _close(ws, client.close_code, client.close_reason)

    async def close_all(self) -> None:
        """Shut down: close every socket and wait for the writers."""
        clients = list(self._clients)
        for client in clients:
            client.close_code = client.close_code or WSCloseCode.GOING_AWAY
            client.close_reason = client.close_reason or "server shutting down"
            self.detach(client)
        writers = [c.writer for c in clients if c.writer is not None]
        for w in writers:
            w.cancel()
        await asyncio.gather(*writers, return_exceptions=True)
        await asyncio.gather(
            *(
                _close(c.ws, c.close_code or WSCloseCode.GOING_AWAY, c.close_reason)
                for c in clients
            ),
            return_exceptions=True,
        )


async def _close(ws: web.WebSocketResponse, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(2):
            await ws.close(code=code, message=reason.encode()[:120])
