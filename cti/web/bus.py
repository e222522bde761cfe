"""What one cti instance asks of another: a message for the desk an operator holds elsewhere
(a transfer offered to them, their supervisor's pause), or news every instance keeps (a call
transferred). Carried by :mod:`cti.db.bus` (PostgreSQL NOTIFY); each kind has one handler per
instance, run in a task of its own; an instance does not hear its own messages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from cti.db import bus as db_bus
from cti.runtime import Runtime

log = logging.getLogger("cti.web")

Handler = Callable[[dict[str, object]], Awaitable[None]]


class InstanceBus:
    """Sends messages to the other instances and runs the handlers of those it hears."""

    def __init__(self, runtime: Runtime) -> None:
        self.instance = runtime.instance
        self._db = runtime.db
        self._handlers: dict[str, Handler] = {}
        self._listener = db_bus.Listener(runtime.db, self._heard, runtime.instance)
        self._tasks: set[asyncio.Task[None]] = set()
        self.heard = 0

    def on(self, kind: str, handler: Handler) -> None:
        """Run ``handler`` for each message of ``kind`` another instance sends."""
        self._handlers[kind] = handler

    async def send(self, kind: str, **fields: object) -> None:
        """Send a message of ``kind`` to the other instances (a lost one is logged, not raised:
        the sender's own work is done)."""
        try:
            await db_bus.publish(self._db, {"kind": kind, "from": self.instance, **fields})
        except Exception as exc:
            log.warning("bus: %s not sent to the other instances: %s", kind, exc)

    def post(self, kind: str, **fields: object) -> None:
        """:meth:`send`, from code that cannot wait (in a task of its own)."""
        task = asyncio.get_running_loop().create_task(self.send(kind, **fields))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _heard(self, message: dict[str, object]) -> None:
        if message.get("from") == self.instance:
            return
        handler = self._handlers.get(str(message.get("kind")))
        if handler is None:
            return
        self.heard += 1
        task = asyncio.get_running_loop().create_task(self._run(handler, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _run(handler: Handler, message: dict[str, object]) -> None:
        try:
            await handler(message)
        except Exception:
            log.exception("bus: handling %s failed", message.get("kind"))

    async def listening(self) -> AsyncIterator[None]:
        """The app's cleanup context: listen while the app runs."""
        self._listener.start()
        yield
        await self._listener.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def ready(self) -> None:
        """Until the listening connection is open (tests)."""
        await self._listener.listening.wait()


INSTANCE_BUS = web.AppKey("cti.bus", InstanceBus)


def setup(app: web.Application, runtime: Runtime) -> InstanceBus:
    """The app's bus, listening from its start to its cleanup (before the features' parts)."""
    bus = InstanceBus(runtime)
    app[INSTANCE_BUS] = bus

    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        async for _ in bus.listening():
            yield

    app.cleanup_ctx.append(ctx)
    return bus
