"""A campaign's stored rules read into typed values: calling windows, retries, pacing (pure).

``Campaign.windows`` (JSONB) is a list of ``{"days": [0..6], "start": "09:00", "end": "18:00"}``
read in each lead's own time zone (see :mod:`cti.dialer.compliance`).

``Campaign.retry_rules`` (JSONB) is ``{"max_attempts": 3, "after": {"busy": 600, ...}, "amd": false,
"timezone": "America/New_York"}``: seconds to wait before the next attempt after each outcome
(``busy``, ``no_answer``, ``congestion``, ``failed``, ``machine``, ``abandoned`` - a dropped call), the
most attempts a lead gets, whether answering-machine detection runs, and the zone used for a lead
whose own zone is unknown and whose number does not tell one. An outcome missing from ``after``
takes the default below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from cti.dialer.compliance import CallingWindow
from cti.domain.model import CallOutcome, LeadStatus
from cti.errors import UserInputError

DEFAULT_AFTER: Mapping[CallOutcome, int] = {
    CallOutcome.BUSY: 600,
    CallOutcome.NO_ANSWER: 3600,
    CallOutcome.CONGESTION: 300,
    CallOutcome.FAILED: 300,
    CallOutcome.MACHINE: 7200,
    CallOutcome.ABANDONED: 1800,
}
DEFAULT_MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryRules:
    """When a lead is tried again after each outcome, and how often at most."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    after: Mapping[CallOutcome, int] = field(default_factory=lambda: dict(DEFAULT_AFTER))
    amd: bool = False
    timezone: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> RetryRules:
        """Read ``Campaign.retry_rules``; a wrong value raises naming the field."""
        data = data or {}
        max_attempts = data.get("max_attempts", DEFAULT_MAX_ATTEMPTS)
        if not isinstance(max_attempts, int) or isinstance(max_attempts, bool) or max_attempts < 1:
            raise UserInputError("retry_rules.max_attempts", "must be a whole number of at least 1")
        after = dict(DEFAULT_AFTER)
        raw_after = data.get("after", {})
        if not isinstance(raw_after, Mapping):
            raise UserInputError("retry_rules.after", "expected an object of outcome: seconds")
        for name, seconds in raw_after.items():
            try:
                outcome = CallOutcome(name)
            except ValueError:
                raise UserInputError(
                    f"retry_rules.after.{name}", "is not an outcome that can be retried"
                ) from None
            if outcome not in DEFAULT_AFTER:
                raise UserInputError(f"retry_rules.after.{name}", "is not retried")
            if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
                raise UserInputError(f"retry_rules.after.{name}", "must be whole seconds, >= 0")
            after[outcome] = seconds
        amd = data.get("amd", False)
        if not isinstance(amd, bool):
            raise UserInputError("retry_rules.amd", "expected true or false")
        zone = data.get("timezone")
        if zone is not None and not isinstance(zone, str):
            raise UserInputError("retry_rules.timezone", "expected an IANA time zone name")
        return cls(max_attempts=max_attempts, after=after, amd=amd, timezone=zone or None)

    def next_step(
        self, outcome: CallOutcome, attempts: int, now: datetime
    ) -> tuple[LeadStatus, datetime | None]:
        """Where a lead stands after an attempt that ended with ``outcome``.

        Args:
            outcome: how the attempt ended (``answered`` means an agent talked to the person).
            attempts: attempts made so far, this one included.
            now: when it ended.
        """
        if outcome is CallOutcome.ANSWERED:
            return LeadStatus.DONE, None
        delay = self.after.get(outcome, DEFAULT_AFTER[CallOutcome.FAILED])
        if attempts >= self.max_attempts:
            return LeadStatus.EXHAUSTED, None
        return LeadStatus.RETRY, now + timedelta(seconds=delay)


def _clock(value: Any, where: str) -> time:
    if not isinstance(value, str):
        raise UserInputError(where, "expected a time like 09:00")
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise UserInputError(where, "expected a time like 09:00") from None


def parse_windows(data: Any) -> tuple[CallingWindow, ...]:
    """Read ``Campaign.windows``; a wrong entry raises naming it (``windows[1].end``)."""
    if data is None:
        return ()
    if not isinstance(data, list):
        raise UserInputError("windows", "expected a list of {days, start, end}")
    out: list[CallingWindow] = []
    for i, item in enumerate(data):
        where = f"windows[{i}]"
        if not isinstance(item, Mapping):
            raise UserInputError(where, "expected {days, start, end}")
        days = item.get("days")
        if not isinstance(days, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) for d in days
        ):
            raise UserInputError(f"{where}.days", "expected weekday numbers, 0 = Monday")
        try:
            out.append(
                CallingWindow(
                    days=frozenset(days),
                    start=_clock(item.get("start"), f"{where}.start"),
                    end=_clock(item.get("end"), f"{where}.end"),
                )
            )
        except UserInputError as exc:
            if exc.field.startswith("windows"):
                raise
            raise UserInputError(f"{where}.{exc.field}", exc.problem) from None
    return tuple(out)


__all__ = ["DEFAULT_AFTER", "RetryRules", "parse_windows"]
