"""Time is injected: production reads the system clock, tests advance a fake one."""

from __future__ import annotations

import time
from datetime import UTC, datetime, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """What the rest of cti asks of time."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for durations and timeouts."""
        ...


def local_tz(name: str = "") -> tzinfo:
    """The call center's zone (the setting ``supervisor.timezone``), else the server's own."""
    if name:
        return ZoneInfo(name)
    tz = datetime.now().astimezone().tzinfo
    assert tz is not None
    return tz


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self._now += timedelta(seconds=seconds)
        self._mono += seconds
