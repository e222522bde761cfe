"""The rules for attentions, their notes, history and reassignment (cti.domain.attentions), and
for report periods (cti.domain.reporting): no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cti.domain.attentions import (
    Reason,
    check_customer,
    check_editable,
    check_form,
    check_movable,
    check_note_author,
    check_owner,
    check_party,
    check_reassignment,
    closing_time,
    note_text,
)
from cti.domain.model import AttentionKind, AttentionStatus
from cti.domain.reporting import MAX_DAYS, Period, check_report
from cti.errors import Forbidden, UserInputError

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
SALES = AttentionKind.TELESALES
SOLD = Reason("Sold", AttentionKind.TELESALES, True)
PAID = Reason("Paid", AttentionKind.COLLECTION, True)
ANY = Reason("Wrong number", None, True)
RETIRED = Reason("Old", None, False)


def test_the_form_changes_only_an_attentions_fields() -> None:
    check_editable({"status": "closed", "subject": "x", "kind": "telesales"})
    with pytest.raises(UserInputError, match="is not a field of an attention") as exc:
        check_editable({"status": "closed", "operator_id": 3, "phone": "+1"})
    assert exc.value.field == "operator_id"


def test_an_operator_changes_their_own_attentions() -> None:
    check_owner(3, 3, may_edit_others=False)
    check_owner(4, 3, may_edit_others=True)
    with pytest.raises(UserInputError, match="belongs to another operator") as exc:
        check_owner(4, 3, may_edit_others=False)
    assert exc.value.field == "attention"


def _form(
    status: AttentionStatus,
    *,
    next_call_at: datetime | None = None,
    reason: Reason | None = None,
    given: bool | None = None,
) -> None:
    """A telesales attention's form; ``given``: a closing reason id is set (default: ``reason``)."""
    check_form(
        status,
        kind=SALES,
        next_call_at=next_call_at,
        reason=reason,
        reason_given=reason is not None if given is None else given,
    )


def test_a_planned_attention_says_when_the_next_call_is() -> None:
    _form(AttentionStatus.PLANNED, next_call_at=NOW)
    _form(AttentionStatus.PENDING)
    with pytest.raises(UserInputError, match="needs the next call's time") as exc:
        _form(AttentionStatus.PLANNED)
    assert exc.value.field == "next_call_at"


def test_a_closing_reason_is_active_and_of_the_attentions_routine() -> None:
    _form(AttentionStatus.CLOSED, reason=SOLD)
    _form(AttentionStatus.CLOSED, reason=ANY)
    with pytest.raises(UserInputError, match="'Paid' is only for collection attentions") as exc:
        _form(AttentionStatus.CLOSED, reason=PAID)
    assert exc.value.field == "closing_reason_id"
    with pytest.raises(UserInputError, match="is not a closing reason"):
        _form(AttentionStatus.CLOSED, reason=RETIRED)
    # A reason id given that matched no reason.
    with pytest.raises(UserInputError, match="is not a closing reason"):
        _form(AttentionStatus.CLOSED, given=True)


def test_an_attention_is_closed_since_its_first_close_until_reopened() -> None:
    before = NOW - timedelta(hours=2)
    assert closing_time(AttentionStatus.CLOSED, None, NOW) == NOW
    assert closing_time(AttentionStatus.CANCELLED, before, NOW) == before
    assert closing_time(AttentionStatus.PENDING, before, NOW) is None


def test_a_note_has_text_and_goes_on_ones_own_attention() -> None:
    assert note_text("  called back  ") == "called back"
    with pytest.raises(UserInputError, match="needs some text") as exc:
        note_text(" \n ")
    assert exc.value.field == "text"
    check_note_author(3, 3, may_note_others=False)
    check_note_author(4, 3, may_note_others=True)
    with pytest.raises(Forbidden, match="belongs to another operator"):
        check_note_author(4, 3, may_note_others=False)


def test_a_history_is_of_a_party() -> None:
    for party in ("customer", "contact", "suspect", "prospect"):
        check_party(party)
    with pytest.raises(UserInputError, match="must be one of customer") as exc:
        check_party("operator")
    assert exc.value.field == "party"


def test_what_is_made_from_an_attention_is_about_its_customer() -> None:
    check_customer(None, 7)
    check_customer(7, 7)
    with pytest.raises(UserInputError, match="about another customer") as exc:
        check_customer(8, 7)
    assert exc.value.field == "attention_id"


def test_a_reassignment_names_attentions_or_an_operator_and_moves_open_ones() -> None:
    check_reassignment([1, 2], None, 5)
    check_reassignment(None, 4, 5)
    with pytest.raises(UserInputError, match="give either") as exc:
        check_reassignment(None, None, 5)
    assert exc.value.field == "attention_ids"
    with pytest.raises(UserInputError, match="give either"):
        check_reassignment([1], 4, 5)
    with pytest.raises(UserInputError, match="is the same operator") as exc:
        check_reassignment(None, 5, 5)
    assert exc.value.field == "to_operator_id"
    check_movable(1, AttentionStatus.PENDING)
    check_movable(1, AttentionStatus.PLANNED)
    with pytest.raises(UserInputError, match="attention 1 is closed; only pending or planned"):
        check_movable(1, AttentionStatus.CLOSED)


def test_a_report_period_runs_from_midnight_to_midnight_in_its_zone() -> None:
    tz = timezone(timedelta(hours=-3))
    p = Period.of(date(2026, 3, 1), date(2026, 3, 2), tz)
    assert p.start == datetime(2026, 3, 1, tzinfo=tz)
    assert p.end == datetime(2026, 3, 3, tzinfo=tz)
    Period.of(date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=MAX_DAYS - 1))
    with pytest.raises(UserInputError, match="must not be before from") as exc:
        Period.of(date(2026, 3, 2), date(2026, 3, 1))
    assert exc.value.field == "to"
    with pytest.raises(UserInputError, match=f"at most {MAX_DAYS} days"):
        Period.of(date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=MAX_DAYS))


def test_a_report_is_asked_for_by_name() -> None:
    check_report("queues", ["productivity", "queues"])
    with pytest.raises(UserInputError, match="must be one of productivity, queues") as exc:
        check_report("sales", ["productivity", "queues"])
    assert exc.value.field == "report"
