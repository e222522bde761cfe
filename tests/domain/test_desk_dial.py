"""The desk's dialling rules, pure: the number as typed, the dialer's DNC and window rules with the
desk's hours, and the pending calls' order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cti.config import load_settings
from cti.domain.compliance import DoNotCall, Refusal
from cti.domain.desk_dial import (
    DeskDialRules,
    PendingCall,
    PendingKind,
    by_due_time,
    check_desk_dial,
    desk_windows,
    dial_number,
    due,
    refusal_text,
)
from cti.errors import ConfigError, UserInputError

# A Wednesday, 15:00 in New York.
WEDNESDAY = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
RULES = DeskDialRules(
    windows=desk_windows(("mon", "tue", "wed", "thu", "fri"), "08:00", "18:00"),
    zone="America/New_York",
    region="US",
)
NONE = DoNotCall(frozenset(), {})


def test_a_typed_number_is_normalised_like_every_stored_number() -> None:
    assert dial_number(" (202) 555-0101 ", "US") == "+12025550101"
    assert dial_number("0044 20 7946 0958", "US") == "+442079460958"


@pytest.mark.parametrize(
    ("typed", "problem"),
    [("", "type a number"), ("call me", "digits only"), ("1234", "too short"), ("1" * 20, "long")],
)
def test_a_number_that_is_no_customer_number_is_refused_naming_the_field(
    typed: str, problem: str
) -> None:
    with pytest.raises(UserInputError) as err:
        dial_number(typed, "US")
    assert err.value.field == "number" and problem in err.value.problem


def test_the_desk_hours_are_read_in_the_numbers_own_time() -> None:
    assert check_desk_dial("+12025550101", WEDNESDAY, RULES, NONE).allowed
    # At 19:00 in New York the hours are over there, not in Los Angeles (16:00).
    late = WEDNESDAY + timedelta(hours=4)  # 19:00 New York, 16:00 Los Angeles
    refused = check_desk_dial("+12025550101", late, RULES, NONE)
    assert refused.refusal is Refusal.OUTSIDE_WINDOW
    assert "from Thu 08:00" in refusal_text(refused)
    assert check_desk_dial("+13105550101", late, RULES, NONE).allowed


def test_the_do_not_call_lists_refuse_first() -> None:
    dnc = DoNotCall(frozenset({"+12025550101"}), {"7": frozenset({"+12025550111"})})
    glob = check_desk_dial("+12025550101", WEDNESDAY, RULES, dnc)
    assert glob.refusal is Refusal.DNC_GLOBAL
    assert "do-not-call list" in refusal_text(glob)
    # A campaign's list binds a call about that campaign's lead only.
    assert check_desk_dial("+12025550111", WEDNESDAY, RULES, dnc).allowed
    mine = check_desk_dial("+12025550111", WEDNESDAY, RULES, dnc, campaign_id=7)
    assert mine.refusal is Refusal.DNC_CAMPAIGN


def test_unknown_days_and_times_are_refused() -> None:
    with pytest.raises(UserInputError):
        desk_windows(("someday",), "08:00", "18:00")
    with pytest.raises(UserInputError):
        desk_windows(("mon",), "8 am", "18:00")


def test_pending_calls_sort_by_due_time_those_without_one_first() -> None:
    def call(kind: PendingKind, ident: int, minutes: int | None) -> PendingCall:
        at = None if minutes is None else WEDNESDAY + timedelta(minutes=minutes)
        return PendingCall(
            kind=kind, id=ident, due_at=at, status="x", name=None, phone=None, about=""
        )

    calls = [
        call(PendingKind.CALLBACK, 1, 30),
        call(PendingKind.ATTENTION, 2, None),
        call(PendingKind.ATTENTION, 3, -10),
    ]
    ordered = by_due_time(calls)
    assert [c.id for c in ordered] == [2, 3, 1]
    assert [due(c, WEDNESDAY) for c in ordered] == [True, True, False]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CTI_DESK__CALLING_UNTIL", "07:00", "desk.calling_until: must be later than calling_from"),
        ("CTI_DESK__CALLING_FROM", "8am", "desk.calling_from: expected times like 08:00"),
        (
            "CTI_DESK__CALLING_DAYS",
            "mon,someday",
            "desk.calling_days: 'someday' is not a day",
        ),
    ],
)
def test_wrong_desk_hours_stop_cti_at_start_naming_the_setting(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ={variable: value})
    assert message in str(err.value)
