"""Each running cti process notes itself alive in PostgreSQL every second (``cti_instances``,
:mod:`cti.db.instances`): the others learn from it which instances are gone (a dialer's calls
still ringing count only while the instance that placed them is alive). A clean stop removes the
row at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cti.db.engine import Database

log = logging.getLogger("cti")

BEAT = 1.0


def instance_name() -> str:
    """This process's name among the instances: host, pid and a random part (a pid is reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class InstanceBeat:
    """Notes this instance alive every :data:`BEAT` seconds until stopped."""

    def __init__(self, db: Database, name: str) -> None:
        self.name = name
        self._db = db
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        from cti.db import instances

        await instances.seen(self._db, self.name)
        await instances.forget(self._db)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="instance-beat")

    async def _run(self) -> None:
        from cti.db import instances

        while True:
            await asyncio.sleep(BEAT)
            try:
                await instances.seen(self._db, self.name)
            except Exception:
                log.warning("could not note this instance alive; tried again in %.0f s", BEAT)

    async def stop(self) -> None:
        from cti.db import instances

        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await instances.forget(self._db, self.name)
