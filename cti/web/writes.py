"""Database writes done in order by one task, behind code that must not wait for them.

A notice listener is synchronous and O(1), and a desk agent's worker must not wait on the call log
before it handles the next notice: they queue their writes here (a ring, an end, the audit lines of
a pop or of a listening session), and one task writes them one after the other. A write that fails
is logged and the next one goes on. Code that reads back what was queued waits for it first
(:meth:`OrderedWrites.written`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

# A write to do: called with no argument (a ``functools.partial`` of a repository function).
Write = Callable[[], Awaitable[object]]


class OrderedWrites:
    """Queued writes and the one task that writes them, in order."""

    def __init__(self, name: str, log: logging.Logger) -> None:
        self.name = name
        self._log = log
        self._queue: asyncio.Queue[tuple[str, Write] | None] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    def put(self, what: str, write: Write) -> None:
        """Queue ``write`` (``what`` names it in the log if it fails); never waits."""
        self._queue.put_nowait((what, write))

    async def written(self) -> None:
        """Wait until every write queued so far is done (written, or failed and logged): what reads
        the rows next sees them. Returns at once when the writing task is not running."""
        task = self.task
        if task is None or task.done():
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def mark() -> None:
            if not done.done():
                done.set_result(None)

        self.put("a mark", mark)
        await asyncio.wait({done, task}, return_when=asyncio.FIRST_COMPLETED)

    def close(self) -> asyncio.Task[None] | None:
        """No more writes: the task ends after those queued. Returns it (to await), if started."""
        if self.task is not None:
            self._queue.put_nowait(None)
        return self.task

    async def _run(self) -> None:
        while (item := await self._queue.get()) is not None:
            what, write = item
            try:
                await write()
            except asyncio.CancelledError:
                raise
            except Exception:
                self._log.exception("%s: writing %s failed", self.name, what)
