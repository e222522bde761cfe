"""What a supervisor report may ask for: a period of calendar days, and a report by name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from cti.domain.texts import _
from cti.errors import UserInputError

# The longest period a report may span.
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class Period:
    """Instants ``start`` (inclusive) to ``end`` (exclusive), from calendar dates in ``tz``."""

    start: datetime
    end: datetime
    first: date
    last: date

    @classmethod
    def of(cls, first: date, last: date, tz: tzinfo = UTC) -> Period:
        """From the day ``first`` to the day ``last`` (both included), at most :data:`MAX_DAYS`."""
        if last < first:
            raise UserInputError("to", _("must not be before from"))
        if (last - first).days >= MAX_DAYS:
            raise UserInputError("to", _("a report spans at most {days} days"), days=MAX_DAYS)
        start = datetime.combine(first, time(0), tzinfo=tz)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
        return cls(start=start, end=end, first=first, last=last)


def check_report(name: str, names: Iterable[str]) -> None:
    """``name`` is one of the reports ``names``."""
    known = list(names)
    if name not in known:
        raise UserInputError("report", _("must be one of {choices}"), choices=", ".join(known))


__all__ = ["MAX_DAYS", "Period", "check_report"]
