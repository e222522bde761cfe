"""Dialling out from the desk (click-to-call, the dial pad) and the agent's pending calls.

The rules are the dialer's (:func:`cti.domain.compliance.check_dial`: the do-not-call lists, then
the calling window in the number's own time) with the desk's own window and caller id from the
settings (``[desk]``); the number is normalised as every stored number is
(:func:`cti.domain.phone.normalize_phone`). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from cti.domain.compliance import (
    CallingWindow,
    DialCheck,
    DoNotCall,
    Refusal,
    check_dial,
)
from cti.domain.phone import normalize_phone
from cti.domain.texts import Words, _
from cti.errors import UserInputError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The fewest digits a customer's number has (the dialplan sends six or more to the carrier).
MIN_DIGITS = 6
MAX_DIGITS = 16
# The campaign id the do-not-call check reads for a call that belongs to no campaign.
NO_CAMPAIGN = ""


def desk_windows(days: Iterable[str], start: str, end: str) -> tuple[CallingWindow, ...]:
    """The desk's calling window from the settings (``calling_days``, ``calling_from``,
    ``calling_until``): one window, local times of the number called.

    Raises:
        UserInputError: an unknown day or a time that is not ``HH:MM``.
    """
    picked: set[int] = set()
    for day in days:
        key = day.strip().lower()[:3]
        if key not in DAYS:
            raise UserInputError("calling_days", _("{day!r} is not a day (mon..sun)"), day=day)
        picked.add(DAYS.index(key))
    try:
        opens, closes = time.fromisoformat(start), time.fromisoformat(end)
    except ValueError:
        raise UserInputError("calling_from", _("expected times like 08:00")) from None
    return (CallingWindow(days=frozenset(picked), start=opens, end=closes),)


def dial_number(raw: str, region: str) -> str:
    """A typed number as it is dialled and checked: normalised (E.164 where it can be told).

    Raises:
        UserInputError: not a number a customer has (``number``): letters, too few or too many
            digits.
    """
    text = raw.strip()
    if not text:
        raise UserInputError("number", _("type a number to call"))
    if any(ch.isalpha() for ch in text):
        raise UserInputError("number", _("a phone number has digits only"))
    number = normalize_phone(text, region)
    digits = sum(ch.isdigit() for ch in number)
    if digits < MIN_DIGITS:
        raise UserInputError(
            "number",
            _("too short: a customer's number has {count}+ digits"),
            count=MIN_DIGITS,
        )
    if digits > MAX_DIGITS:
        raise UserInputError("number", _("too long for a phone number"))
    return number


@dataclass(frozen=True, slots=True, kw_only=True)
class DeskDialRules:
    """What a desk call must pass: the settings' window, read in the number's zone (else
    ``zone``), and the region numbers without a country are read in."""

    windows: tuple[CallingWindow, ...]
    zone: str
    region: str


def check_desk_dial(
    number: str,
    at: datetime,
    rules: DeskDialRules,
    dnc: DoNotCall,
    *,
    campaign_id: int | None = None,
) -> DialCheck:
    """The dialer's rule at dial time for a desk call: DNC (global, and the campaign's when the
    call is about a campaign's lead), then the calling window."""
    return check_dial(
        phone=number,
        campaign_id=str(campaign_id) if campaign_id is not None else NO_CAMPAIGN,
        at=at,
        windows=rules.windows,
        lead_tz=None,
        campaign_tz=rules.zone,
        dnc=dnc,
        region=rules.region,
    )


def refusal_text(check: DialCheck) -> Words:
    """Why the call is refused, in words an agent reads."""
    if check.refusal is Refusal.DNC_GLOBAL:
        return Words(_("this number is on the do-not-call list: it may not be called"))
    if check.refusal is Refusal.DNC_CAMPAIGN:
        return Words(_("this number is on the campaign's do-not-call list: it may not be called"))
    zones = ", ".join(check.window.zones) if check.window is not None else ""
    opening = check.retry_at
    if opening is not None and zones:
        local = opening.astimezone(ZoneInfo(zones.split(", ")[0]))
        return Words(
            _(
                "outside the calling hours where this number is ({zones}):"
                " calls may be placed from {when} there"
            ),
            zones=zones,
            when=f"{local:%a %H:%M}",
        )
    if zones:
        return Words(_("outside the calling hours where this number is ({zones})"), zones=zones)
    return Words(_("outside the calling hours where this number is"))


@dataclass(frozen=True, slots=True, kw_only=True)
class DialledCall:
    """A call the agent placed from the desk, until the customer answers: the number, and what
    it was about: the agent's own pending or planned attention it continues (the call's attention
    is that one, not a new one), or the callback it keeps (done once the customer answered)."""

    number: str
    attention_id: int | None = None
    callback_id: int | None = None
    # The campaign lead a callback is about: the call's pop shows it (and its debts).
    lead_id: int | None = None
    # The Originate that rings the agent's phone (its outcome says whether they picked up).
    action_id: str | None = None


def continues(status: str, owner_id: int | None, operator_id: int) -> bool:
    """Whether calling an attention's number continues that attention: only the operator's own
    attention still open (pending, or planned for a next call); any other is history, and the
    call opens a new attention."""
    return owner_id == operator_id and status in ("pending", "planned")


_NOT_ANSWERED = {
    "BUSY": "the number is busy",
    "NOANSWER": "nobody answered",
    "CONGESTION": "the number could not be reached",
    "CHANUNAVAIL": "the number could not be reached",
}


def agent_not_answered_text(outcome: str) -> str:
    """Why a desk call went no further than the agent's own phone (the Originate's outcome)."""
    if outcome == "no_answer":
        return "your phone was not answered: nothing was dialled"
    if outcome == "busy":
        return "your phone is busy: nothing was dialled"
    return "your phone could not be reached: nothing was dialled"


def not_answered_text(dial_status: str) -> str:
    """Why a number dialled from the desk was not reached (Dial's DIALSTATUS), in words."""
    return _NOT_ANSWERED.get(dial_status.upper(), f"the call did not go through ({dial_status})")


class PendingKind(StrEnum):
    """What a pending call of the agent is."""

    ATTENTION = "attention"  # an attention of theirs still pending, or planned (next call)
    CALLBACK = "callback"  # a call back promised to them (a campaign's lead)


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingCall:
    """One line of the agent's "pending calls": ``due_at`` None for a pending attention with no
    time set (it is due now: it waits for them)."""

    kind: PendingKind
    id: int
    due_at: datetime | None
    status: str
    name: str | None
    phone: str | None
    about: str


def due(call: PendingCall, now: datetime) -> bool:
    """Whether the call is due: its time has come (a pending attention with no time is)."""
    return call.due_at is None or call.due_at <= now


def by_due_time(calls: Iterable[PendingCall]) -> list[PendingCall]:
    """Sorted by due time, the ones with no time set (due now) first, then by id."""
    return sorted(
        calls,
        key=lambda c: (c.due_at is not None, c.due_at or datetime.min, c.kind.value, c.id),
    )


__all__ = [
    "DeskDialRules",
    "DialledCall",
    "PendingCall",
    "PendingKind",
    "by_due_time",
    "check_desk_dial",
    "continues",
    "desk_windows",
    "dial_number",
    "due",
    "not_answered_text",
    "refusal_text",
]
