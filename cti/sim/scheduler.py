"""Simulated time: a scheduler the PBX model runs on.

``RealtimeScheduler`` maps simulated seconds onto the event loop, ``speed`` times faster than the
wall clock. ``ManualScheduler`` only moves when told (``await advance(seconds)``), so tests never
depend on wall-clock precision.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    """What the PBX model asks of time."""

    def now(self) -> float:
        """Simulated seconds since the simulator started."""
        ...

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:
        """Run ``fn`` after ``delay`` simulated seconds."""
        ...


class RealtimeScheduler:
    """Simulated time runs ``speed`` times faster than the event loop's clock."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0 = 0.0

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._t0 = loop.time()

    def now(self) -> float:
        if self._loop is None:
            return 0.0
        return (self._loop.time() - self._t0) * self.speed

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:
        assert self._loop is not None, "scheduler not started"
        return self._loop.call_later(max(0.0, delay) / self.speed, fn)


class _ManualTimer:
    __slots__ = ("cancelled", "fn", "when")

    def __init__(self, when: float, fn: Callable[[], None]) -> None:
        self.when = when
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualScheduler:
    """Time moves only through :meth:`advance`; callbacks due at the same instant run in order."""

    def __init__(self) -> None:
        self._now = 0.0
        self._heap: list[tuple[float, int, _ManualTimer]] = []
        self._seq = itertools.count()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Nothing to bind: manual time does not follow the loop."""

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:
        timer = _ManualTimer(self._now + max(0.0, delay), fn)
        heapq.heappush(self._heap, (timer.when, next(self._seq), timer))
        return timer

    def run_due(self, until: float) -> None:
        """Run every callback due up to ``until`` (absolute simulated seconds), in time order."""
        while self._heap and self._heap[0][0] <= until:
            when, _, timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            self._now = max(self._now, when)
            timer.fn()
        self._now = max(self._now, until)

    async def advance(self, seconds: float) -> None:
        """Move simulated time forward, running what falls due, then let I/O flush."""
        self.run_due(self._now + seconds)
        await asyncio.sleep(0)
