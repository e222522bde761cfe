"""Garbage collection without long stops of the event loop.

CPython's full (generation 2) collection visits every object the collector tracks. With 2,000
signed-in desks (their sockets, tasks and state: about 450,000 objects) one collection stopped
the loop for 0.4-0.5 s, several times a minute under load: AMI events, screen-pops and frames
all waited (``bench/screenpop.py`` prints the collections and the slowest pops).

Objects that have lived a while are the service's standing state, not garbage. So every
``freeze_seconds`` those alive are moved out of the collector's sight (:func:`gc.freeze`), and
the collections in between visit only what is young: a few milliseconds. Once every
``full_seconds`` everything is looked at again (:func:`gc.unfreeze`, then a full collection), so
the reference cycles that became garbage after being frozen are freed then: one pause an hour
instead of several a minute. Objects freed by reference counting (nearly all) are freed at once
as always; only garbage in cycles waits, at most ``full_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time

log = logging.getLogger(__name__)

# Collect the youngest objects after 20,000 allocations, not 700: a request's or a call's objects
# mostly die before that, instead of being promoted to older generations to be visited again.
YOUNG_THRESHOLDS = (20_000, 10, 10)


class GcPolicy:
    """Freezes the long-lived objects now and then, and collects everything rarely. Several may
    run in one process (services started side by side in tests): the collector is set up by the
    first and given back by the last.

    Args:
        freeze_seconds: how often the objects alive are frozen.
        full_seconds: how often everything is unfrozen and collected.
    """

    # Policies running in this process, and the collector's thresholds before the first.
    _running = 0
    _thresholds: tuple[int, int, int] = gc.get_threshold()

    def __init__(self, *, freeze_seconds: float = 10.0, full_seconds: float = 3600.0) -> None:
        self._freeze = freeze_seconds
        self._full = full_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Freeze what the start-up made, then go on in the background."""
        if not GcPolicy._running:  # the collector is the process's: the first sets it up
            GcPolicy._thresholds = gc.get_threshold()
            gc.set_threshold(*YOUNG_THRESHOLDS)
        GcPolicy._running += 1
        gc.freeze()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="gc-policy")

    def _collect_all(self) -> None:
        started = time.perf_counter()
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        log.debug(
            "full garbage collection: %d unreachable, %.0f ms, %d objects frozen",
            found,
            (time.perf_counter() - started) * 1000,
            gc.get_freeze_count(),
        )

    async def _run(self) -> None:
        since_full = 0.0
        while True:
            await asyncio.sleep(self._freeze)
            since_full += self._freeze
            if since_full >= self._full:
                since_full = 0.0
                self._collect_all()
            else:
                gc.freeze()

    async def stop(self) -> None:
        """Stop, and give the frozen objects back to the collector."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        GcPolicy._running -= 1
        if not GcPolicy._running:  # the last one gives the collector back as it was
            gc.unfreeze()
            gc.set_threshold(*GcPolicy._thresholds)


__all__ = ["GcPolicy"]
