"""The rules a call must pass before it is placed: the abandon ledger, calling windows, do-not-call.

All pure: time is passed in as aware datetimes, state is plain data that converts to and from dicts so
the async dialer can persist it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone

from cti.domain.phone import normalize_phone
from cti.domain.texts import _
from cti.errors import UserInputError

# --------------------------------------------------------------------------------------------------
# Abandon ledger

US_TSR_WINDOW = timedelta(days=30)
"""The US Telemarketing Sales Rule measures abandonment per campaign over 30 days."""

OFCOM_WINDOW = timedelta(hours=24)
"""Ofcom (UK) measures abandonment over 24 hours."""

DEFAULT_CONNECT_WITHIN_SECONDS = 2.0


def _require_aware(at: datetime, name: str = "at") -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise UserInputError(name, _("must be a timezone-aware datetime"))


def _epoch(at: datetime) -> float:
    return at.timestamp()


class AbandonLedger:
    """Per-campaign record of live answers and abandoned calls over a rolling window.

    A live answer is a call answered by a person (not an answering machine). It is abandoned when it is
    not connected to an agent within ``connect_within_seconds``. The rate is abandoned ÷ live answers
    over the last ``window``, counted in buckets of ``bucket`` (the window rolls a bucket at a time,
    so updates and reads are O(1) amortised).

    Only the ledger's own methods change it; give it times in non-decreasing order (an answer older
    than the newest bucket is counted in the newest bucket, never dropped).
    """

    __slots__ = ("_abandoned", "_answers", "_buckets", "bucket", "connect_within_seconds", "window")

    def __init__(
        self,
        *,
        window: timedelta = US_TSR_WINDOW,
        bucket: timedelta | None = None,
        connect_within_seconds: float = DEFAULT_CONNECT_WITHIN_SECONDS,
    ) -> None:
        if window <= timedelta(0):
            raise UserInputError("window", _("must be positive"))
        if bucket is None:
            bucket = timedelta(hours=1) if window >= timedelta(days=2) else timedelta(minutes=5)
        if bucket <= timedelta(0) or bucket > window:
            raise UserInputError("bucket", _("must be positive and no longer than the window"))
        if connect_within_seconds < 0:
            raise UserInputError("connect_within_seconds", _("must not be negative"))
        self.window = window
        self.bucket = bucket
        self.connect_within_seconds = connect_within_seconds
        # Each bucket: [start (epoch seconds), live answers, abandoned].
        self._buckets: deque[list[float]] = deque()
        self._answers = 0
        self._abandoned = 0

    def is_abandoned(self, connected_after_seconds: float | None) -> bool:
        """Whether a live answer connected to an agent after this long (``None``: never) is abandoned."""
        return (
            connected_after_seconds is None or connected_after_seconds > self.connect_within_seconds
        )

    def record(self, answered_at: datetime, connected_after_seconds: float | None) -> bool:
        """Count one live answer; returns whether it was abandoned.

        Args:
            answered_at: when the person answered.
            connected_after_seconds: how long after the answer an agent was bridged, ``None`` if never.
        """
        _require_aware(answered_at, "answered_at")
        abandoned = self.is_abandoned(connected_after_seconds)
        t = _epoch(answered_at)
        self._expire(t)
        size = self.bucket.total_seconds()
        start = t - (t % size)
        if self._buckets and self._buckets[-1][0] >= start:
            slot = self._buckets[-1]
        else:
            slot = [start, 0.0, 0.0]
            self._buckets.append(slot)
        slot[1] += 1
        self._answers += 1
        if abandoned:
            slot[2] += 1
            self._abandoned += 1
        return abandoned

    def _expire(self, now: float) -> None:
        horizon = now - self.window.total_seconds()
        size = self.bucket.total_seconds()
        while self._buckets and self._buckets[0][0] + size <= horizon:
            _, answers, abandoned = self._buckets.popleft()
            self._answers -= int(answers)
            self._abandoned -= int(abandoned)

    def counts(self, at: datetime) -> tuple[int, int]:
        """(live answers, abandoned) within the window ending at ``at``."""
        _require_aware(at)
        self._expire(_epoch(at))
        return self._answers, self._abandoned

    def rate(self, at: datetime) -> float | None:
        """Abandoned ÷ live answers within the window ending at ``at``; ``None`` with no answers."""
        answers, abandoned = self.counts(at)
        return abandoned / answers if answers else None

    def headroom(self, at: datetime, cap: float) -> int:
        """How many more abandons the window can take now without its rate passing ``cap``."""
        answers, abandoned = self.counts(at)
        return max(0, int(cap * answers + 1e-9) - abandoned)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready) from which :meth:`from_dict` rebuilds an equal ledger."""
        return {
            "window_seconds": self.window.total_seconds(),
            "bucket_seconds": self.bucket.total_seconds(),
            "connect_within_seconds": self.connect_within_seconds,
            "buckets": [[b[0], int(b[1]), int(b[2])] for b in self._buckets],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AbandonLedger:
        """Rebuild a ledger saved with :meth:`to_dict`.

        Raises:
            UserInputError: the data is not a saved ledger.
        """
        try:
            ledger = cls(
                window=timedelta(seconds=float(data["window_seconds"])),
                bucket=timedelta(seconds=float(data["bucket_seconds"])),
                connect_within_seconds=float(data["connect_within_seconds"]),
            )
            previous = float("-inf")
            for start, answers, abandoned in data["buckets"]:
                start_f, answers_i, abandoned_i = float(start), int(answers), int(abandoned)
                if start_f <= previous or answers_i < 0 or not 0 <= abandoned_i <= answers_i:
                    raise UserInputError("ledger", _("buckets are out of order or inconsistent"))
                previous = start_f
                ledger._buckets.append([start_f, float(answers_i), float(abandoned_i)])
                ledger._answers += answers_i
                ledger._abandoned += abandoned_i
        except (KeyError, TypeError, ValueError) as exc:
            raise UserInputError(
                "ledger", _("not a saved abandon ledger ({exc})"), exc=exc
            ) from exc
        return ledger


# --------------------------------------------------------------------------------------------------
# Calling windows


@dataclass(frozen=True, slots=True, kw_only=True)
class CallingWindow:
    """Days of the week (0 = Monday) and a local time range ``[start, end)`` when calls are allowed."""

    days: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.days or not self.days <= frozenset(range(7)):
            raise UserInputError(
                "days", _("must be weekdays 0 (Monday) to 6 (Sunday), at least one")
            )
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise UserInputError(
                "start", _("window times are local wall-clock times, without a zone")
            )
        if not self.start < self.end:
            raise UserInputError("end", _("must be later than start on the same day"))

    def contains(self, local: datetime) -> bool:
        """Whether the local wall-clock time falls inside this window."""
        return local.weekday() in self.days and self.start <= local.time() < self.end


def _clock(value: Any, where: str) -> time:
    if not isinstance(value, str):
        raise UserInputError(where, _("expected a time like 09:00"))
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise UserInputError(where, _("expected a time like 09:00")) from None


def parse_windows(data: object) -> tuple[CallingWindow, ...]:
    """Read ``Campaign.windows`` (JSON as stored or sent, checked here): a list of ``{"days": [0..6], "start": "09:00", "end": "18:00"}``.

    Raises:
        UserInputError: a wrong entry, naming it (``windows[1].end``).
    """
    if data is None:
        return ()
    if not isinstance(data, list):
        raise UserInputError("windows", _("expected a list of {{days, start, end}}"))
    out: list[CallingWindow] = []
    for i, item in enumerate(data):
        where = f"windows[{i}]"
        if not isinstance(item, Mapping):
            raise UserInputError(where, _("expected {{days, start, end}}"))
        days = item.get("days")
        if not isinstance(days, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) for d in days
        ):
            raise UserInputError(f"{where}.days", _("expected weekday numbers, 0 = Monday"))
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


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowVerdict:
    """Whether a lead may be called now, and when that changes.

    Attributes:
        allowed: inside a calling window in every zone the lead may be in.
        zones: the time zones the lead was judged in.
        next_opening: when not allowed, the next instant (UTC) it becomes allowed; ``None`` if never.
        closes_at: when allowed, the instant (UTC) it stops being allowed.
    """

    allowed: bool
    zones: tuple[str, ...]
    next_opening: datetime | None = None
    closes_at: datetime | None = None


def lead_zones(phone: str, lead_tz: str | None, campaign_tz: str) -> tuple[ZoneInfo, ...]:
    """The time zones a lead may be in: its own, else its number's, else the campaign's.

    A number whose country spans several zones and whose prefix does not pin one (for example a US
    mobile number's area code does pin one, a bare country code may not) yields all of them; the
    caller must respect the window in every one.

    Raises:
        UserInputError: ``lead_tz`` or ``campaign_tz`` is not a known time zone.
    """
    if lead_tz:
        return (_zone(lead_tz, "lead_tz"),)
    zones: list[ZoneInfo] = []
    if phone.startswith("+"):
        try:
            parsed = phonenumbers.parse(phone, None)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is not None:
            for name in phone_timezone.time_zones_for_number(parsed):
                try:
                    zones.append(ZoneInfo(name))
                except (ZoneInfoNotFoundError, ValueError):
                    continue  # "Etc/Unknown" and names tzdata lacks: not a usable zone
    return tuple(zones) if zones else (_zone(campaign_tz, "campaign_tz"),)


def _zone(name: str, field_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserInputError(field_name, _("{name!r} is not a known time zone"), name=name) from exc


def _open_in(windows: Iterable[CallingWindow], zone: ZoneInfo, at: datetime) -> bool:
    local = at.astimezone(zone)
    return any(w.contains(local) for w in windows)


def _next_opening_in(
    windows: tuple[CallingWindow, ...], zone: ZoneInfo, at: datetime
) -> datetime | None:
    """The first instant >= ``at`` inside a window in ``zone``."""
    if _open_in(windows, zone, at):
        return at
    local_day = at.astimezone(zone).date()
    best: datetime | None = None
    for offset in range(8):
        day = local_day + timedelta(days=offset)
        for w in windows:
            if day.weekday() not in w.days:
                continue
            start = _local_instant(day, w.start, zone)
            end = _local_instant(day, w.end, zone)
            if end <= at:
                continue
            candidate = max(start, at)
            if best is None or candidate < best:
                best = candidate
        if best is not None:
            return best
    return None


def _local_instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time (a time skipped by DST maps to just after the gap)."""
    local = datetime.combine(day, clock, tzinfo=zone)
    utc = local.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        # Inside a spring-forward gap: the wall clock never shows this time; open at the gap's end.
        utc = datetime.combine(day, clock, tzinfo=zone).replace(fold=1).astimezone(UTC)
    return utc


def _closing_in(windows: tuple[CallingWindow, ...], zone: ZoneInfo, at: datetime) -> datetime:
    local = at.astimezone(zone)
    ends = [_local_instant(local.date(), w.end, zone) for w in windows if w.contains(local)]
    return max(ends)


def check_window(
    windows: Iterable[CallingWindow],
    at: datetime,
    *,
    phone: str,
    lead_tz: str | None,
    campaign_tz: str,
) -> WindowVerdict:
    """Whether ``phone`` may be called at ``at`` under ``windows`` read in the lead's own time.

    Args:
        windows: the campaign's calling windows (local wall-clock times).
        at: the instant of the decision (timezone-aware).
        phone: the lead's number, E.164 when known.
        lead_tz: the lead's own IANA zone, if the lead has one.
        campaign_tz: the campaign's zone, used when neither the lead nor the number tells.
    """
    _require_aware(at)
    rules = tuple(windows)
    zones = lead_zones(phone, lead_tz, campaign_tz)
    names = tuple(z.key for z in zones)
    if not rules:
        return WindowVerdict(allowed=False, zones=names)
    if all(_open_in(rules, z, at) for z in zones):
        closes = min(_closing_in(rules, z, at) for z in zones)
        return WindowVerdict(allowed=True, zones=names, closes_at=closes)
    # Not open everywhere: step to the latest of the zones' next openings until all agree.
    probe = at
    for _step in range(16):
        openings = [_next_opening_in(rules, z, probe) for z in zones]
        if any(o is None for o in openings):
            return WindowVerdict(allowed=False, zones=names)
        candidate = max(o for o in openings if o is not None)
        if all(_open_in(rules, z, candidate) for z in zones):
            return WindowVerdict(allowed=False, zones=names, next_opening=candidate)
        probe = candidate + timedelta(minutes=1)
    return WindowVerdict(allowed=False, zones=names)


# --------------------------------------------------------------------------------------------------
# Do not call


class DncScope(StrEnum):
    """Which do-not-call list refused a number."""

    GLOBAL = "global"
    CAMPAIGN = "campaign"


@dataclass(frozen=True, slots=True)
class DoNotCall:
    """The global do-not-call set and the per-campaign sets, all of normalised numbers."""

    global_numbers: frozenset[str]
    campaign_numbers: Mapping[str, frozenset[str]]

    @classmethod
    def build(
        cls,
        global_numbers: Iterable[str] = (),
        campaign_numbers: Mapping[str, Iterable[str]] | None = None,
        *,
        region: str = "US",
    ) -> DoNotCall:
        """Normalise raw numbers (as typed or imported) into the sets used at dial time.

        Raises:
            UserInputError: an entry holds no phone number.
        """
        g = frozenset(normalize_phone(n, region) for n in global_numbers)
        per = {
            campaign: frozenset(normalize_phone(n, region) for n in numbers)
            for campaign, numbers in (campaign_numbers or {}).items()
        }
        return cls(g, per)

    def check(self, phone: str, campaign_id: str, *, region: str = "US") -> DncScope | None:
        """The list that forbids calling ``phone`` for ``campaign_id``, or ``None`` if none does."""
        number = normalize_phone(phone, region)
        if number in self.global_numbers:
            return DncScope.GLOBAL
        if number in self.campaign_numbers.get(campaign_id, frozenset()):
            return DncScope.CAMPAIGN
        return None


# --------------------------------------------------------------------------------------------------
# Everything at dial time


class Refusal(StrEnum):
    """Why a lead may not be dialled now."""

    DNC_GLOBAL = "dnc_global"
    DNC_CAMPAIGN = "dnc_campaign"
    OUTSIDE_WINDOW = "outside_window"


@dataclass(frozen=True, slots=True, kw_only=True)
class DialCheck:
    """The verdict at dial time: ``refusal`` is ``None`` when the call may be placed.

    Attributes:
        refusal: why not, or ``None``.
        retry_at: for a window refusal, when the lead may next be tried (``None``: never, or DNC).
        window: the window verdict (absent when a DNC list refused first).
    """

    refusal: Refusal | None
    retry_at: datetime | None = None
    window: WindowVerdict | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def check_dial(
    *,
    phone: str,
    campaign_id: str,
    at: datetime,
    windows: Iterable[CallingWindow],
    lead_tz: str | None,
    campaign_tz: str,
    dnc: DoNotCall,
    region: str = "US",
) -> DialCheck:
    """Every rule a lead must pass right before its call is placed: DNC first, then the window."""
    scope = dnc.check(phone, campaign_id, region=region)
    if scope is DncScope.GLOBAL:
        return DialCheck(refusal=Refusal.DNC_GLOBAL)
    if scope is DncScope.CAMPAIGN:
        return DialCheck(refusal=Refusal.DNC_CAMPAIGN)
    verdict = check_window(
        windows, at, phone=normalize_phone(phone, region), lead_tz=lead_tz, campaign_tz=campaign_tz
    )
    if not verdict.allowed:
        return DialCheck(
            refusal=Refusal.OUTSIDE_WINDOW, retry_at=verdict.next_opening, window=verdict
        )
    return DialCheck(refusal=None, window=verdict)
