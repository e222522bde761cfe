"""The abandon ledger, calling windows in each lead's own time, and do-not-call lists."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest

from cti.domain.compliance import (
    OFCOM_WINDOW,
    AbandonLedger,
    CallingWindow,
    DncScope,
    DoNotCall,
    Refusal,
    check_dial,
    check_window,
    lead_zones,
)
from cti.errors import UserInputError

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday
WEEKDAYS_9_TO_21 = (CallingWindow(days=frozenset(range(5)), start=time(9), end=time(21)),)


# --- abandon ledger ------------------------------------------------------------------------------


def test_connected_within_two_seconds_is_not_abandoned_later_or_never_is() -> None:
    ledger = AbandonLedger()
    assert ledger.record(T0, 0.0) is False
    assert ledger.record(T0, 2.0) is False
    assert ledger.record(T0, 2.5) is True
    assert ledger.record(T0, None) is True
    assert ledger.counts(T0) == (4, 2)
    assert ledger.rate(T0) == 0.5


def test_empty_ledger_has_no_rate() -> None:
    assert AbandonLedger().rate(T0) is None


def test_thirty_day_window_rolls_old_answers_out() -> None:
    ledger = AbandonLedger()  # 30 days, hourly buckets
    ledger.record(T0, None)
    for i in range(9):
        ledger.record(T0 + timedelta(days=10, minutes=i), 0.5)
    assert ledger.counts(T0 + timedelta(days=29)) == (10, 1)
    # Thirty days and an hour later the first answer's bucket has left the window.
    assert ledger.counts(T0 + timedelta(days=30, hours=1)) == (9, 0)
    assert ledger.rate(T0 + timedelta(days=30, hours=1)) == 0.0
    assert ledger.counts(T0 + timedelta(days=41)) == (0, 0)


def test_ofcom_window_is_twenty_four_hours() -> None:
    ledger = AbandonLedger(window=OFCOM_WINDOW)
    ledger.record(T0, None)
    ledger.record(T0 + timedelta(hours=23), 0.0)
    assert ledger.rate(T0 + timedelta(hours=23, minutes=30)) == 0.5
    assert ledger.rate(T0 + timedelta(hours=24, minutes=10)) == 0.0


def test_headroom_counts_abandons_left_under_the_cap() -> None:
    ledger = AbandonLedger()
    for _ in range(200):
        ledger.record(T0, 0.0)
    ledger.record(T0, None)
    assert ledger.headroom(T0, 0.03) == 5  # 3% of 201 answers is 6 abandons, one used


def test_ledger_survives_a_round_trip_through_json() -> None:
    ledger = AbandonLedger(window=OFCOM_WINDOW, connect_within_seconds=1.5)
    ledger.record(T0, None)
    ledger.record(T0 + timedelta(hours=2), 1.0)
    saved = json.loads(json.dumps(ledger.to_dict()))
    again = AbandonLedger.from_dict(saved)
    at = T0 + timedelta(hours=3)
    assert again.counts(at) == ledger.counts(at) == (2, 1)
    assert again.window == OFCOM_WINDOW
    assert again.is_abandoned(1.7) is True
    # It keeps rolling after the restore.
    assert again.counts(T0 + timedelta(hours=24, minutes=10)) == (1, 0)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {
            "window_seconds": 60,
            "bucket_seconds": 10,
            "connect_within_seconds": 2,
            "buckets": [[0, 1, 2]],
        },
        {
            "window_seconds": 60,
            "bucket_seconds": 10,
            "connect_within_seconds": 2,
            "buckets": [[10, 1, 0], [0, 1, 0]],
        },
    ],
)
def test_a_damaged_saved_ledger_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(UserInputError):
        AbandonLedger.from_dict(data)


def test_naive_times_are_refused() -> None:
    with pytest.raises(UserInputError):
        AbandonLedger().record(datetime(2026, 1, 1, 12, 0), 0.0)


# --- calling windows -----------------------------------------------------------------------------


def test_sao_paulo_number_at_2130_local_is_refused_while_server_is_utc() -> None:
    # 00:30 UTC on Tuesday is 21:30 on Monday in São Paulo (UTC-3): past a 09:00-21:00 window,
    # although for a UTC reading it would be early morning of a weekday.
    at = datetime(2026, 3, 3, 0, 30, tzinfo=UTC)
    verdict = check_window(
        WEEKDAYS_9_TO_21, at, phone="+5511987654321", lead_tz=None, campaign_tz="UTC"
    )
    assert verdict.allowed is False
    assert verdict.zones == ("America/Sao_Paulo",)
    # It opens at 09:00 local on Tuesday, which is 12:00 UTC.
    assert verdict.next_opening == datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


def test_same_number_inside_its_local_window_is_allowed_until_it_closes() -> None:
    at = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 20:30 in São Paulo
    verdict = check_window(
        WEEKDAYS_9_TO_21, at, phone="+5511987654321", lead_tz=None, campaign_tz="UTC"
    )
    assert verdict.allowed is True
    assert verdict.closes_at == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)


def test_the_leads_own_time_zone_wins_over_its_number() -> None:
    at = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 11:00 in São Paulo, 23:00 in Tokyo
    verdict = check_window(
        WEEKDAYS_9_TO_21, at, phone="+5511987654321", lead_tz="Asia/Tokyo", campaign_tz="UTC"
    )
    assert verdict.allowed is False
    assert verdict.zones == ("Asia/Tokyo",)


def test_a_number_without_a_known_zone_uses_the_campaigns() -> None:
    assert [z.key for z in lead_zones("5559876", None, "America/Bogota")] == ["America/Bogota"]
    assert [z.key for z in lead_zones("+15551234567", None, "Europe/Madrid")] == ["Europe/Madrid"]


def test_weekend_is_closed_and_next_opening_is_monday() -> None:
    saturday_noon = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    verdict = check_window(
        WEEKDAYS_9_TO_21, saturday_noon, phone="+442071234567", lead_tz=None, campaign_tz="UTC"
    )
    assert verdict.allowed is False
    assert verdict.next_opening == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # London is UTC in March


def test_next_opening_follows_daylight_saving_time() -> None:
    # New York moves to EDT (UTC-4) on Sunday 8 March 2026; Monday 09:00 local is 13:00 UTC.
    verdict = check_window(
        WEEKDAYS_9_TO_21,
        datetime(2026, 3, 7, 18, 0, tzinfo=UTC),
        phone="+12125551234",
        lead_tz=None,
        campaign_tz="UTC",
    )
    assert verdict.next_opening == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)


def test_several_windows_a_day() -> None:
    windows = (
        CallingWindow(days=frozenset(range(7)), start=time(9), end=time(12)),
        CallingWindow(days=frozenset(range(7)), start=time(14), end=time(18)),
    )
    lunch = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    verdict = check_window(windows, lunch, phone="1234", lead_tz="UTC", campaign_tz="UTC")
    assert verdict.allowed is False
    assert verdict.next_opening == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def test_no_window_means_never() -> None:
    verdict = check_window((), T0, phone="1234", lead_tz="UTC", campaign_tz="UTC")
    assert verdict.allowed is False
    assert verdict.next_opening is None


@pytest.mark.parametrize(
    ("days", "start", "end"),
    [
        (frozenset(), time(9), time(10)),
        (frozenset({7}), time(9), time(10)),
        (frozenset({1}), time(10), time(9)),
    ],
)
def test_malformed_windows_are_refused(days: frozenset[int], start: time, end: time) -> None:
    with pytest.raises(UserInputError):
        CallingWindow(days=days, start=start, end=end)


def test_unknown_time_zone_is_a_user_error_naming_the_field() -> None:
    with pytest.raises(UserInputError) as caught:
        check_window(WEEKDAYS_9_TO_21, T0, phone="1234", lead_tz="Mars/Olympus", campaign_tz="UTC")
    assert caught.value.field == "lead_tz"


# --- do not call ---------------------------------------------------------------------------------


def test_dnc_matches_numbers_however_they_were_written() -> None:
    dnc = DoNotCall.build(["(212) 555-1234"], {"c1": ["+55 11 98765-4321"]})
    assert dnc.check("+1 212 555 1234", "c2") is DncScope.GLOBAL
    assert dnc.check("0055 11 987654321", "c1") is DncScope.CAMPAIGN
    assert dnc.check("+5511987654321", "c2") is None
    assert dnc.check("+12125550000", "c1") is None


def test_check_dial_refuses_dnc_before_looking_at_the_window() -> None:
    dnc = DoNotCall.build(["+5511987654321"])
    inside = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    common = {"windows": WEEKDAYS_9_TO_21, "lead_tz": None, "campaign_tz": "UTC", "dnc": dnc}
    refused = check_dial(phone="+55 11 98765-4321", campaign_id="c1", at=inside, **common)  # type: ignore[arg-type]
    assert refused.allowed is False
    assert refused.refusal is Refusal.DNC_GLOBAL
    assert refused.retry_at is None
    other = check_dial(phone="+5511912345678", campaign_id="c1", at=inside, **common)  # type: ignore[arg-type]
    assert other.allowed is True


def test_check_dial_outside_window_says_when_to_try_again() -> None:
    late = datetime(2026, 3, 3, 0, 30, tzinfo=UTC)
    result = check_dial(
        phone="+5511987654321",
        campaign_id="c1",
        at=late,
        windows=WEEKDAYS_9_TO_21,
        lead_tz=None,
        campaign_tz="UTC",
        dnc=DoNotCall.build(campaign_numbers={"c2": ["+5511987654321"]}),
    )
    assert result.refusal is Refusal.OUTSIDE_WINDOW
    assert result.retry_at == datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
