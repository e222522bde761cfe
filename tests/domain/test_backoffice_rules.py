"""The back office's rules moved out of its repositories (cti.domain.backoffice): cases, messages,
suspects, admins' lists and the customer search. No database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cti.domain.backoffice import (
    MAX_LIMIT,
    assigned_status,
    check_assignable,
    check_assignee,
    check_case_ids,
    check_contact_of,
    check_convertible,
    check_message_open,
    check_new_entry,
    check_postpone,
    check_query,
    check_search_limit,
)
from cti.domain.model import AttentionKind, CaseStatus, Role, Routine
from cti.errors import Refused, UserInputError

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


def test_an_assignment_names_a_case_and_only_open_cases_are_assigned() -> None:
    check_case_ids([4])
    with pytest.raises(UserInputError, match="at least one case") as exc:
        check_case_ids([])
    assert exc.value.field == "case_ids"
    for open_state in ("active", "assigned", "suspended", "delinquent"):
        check_assignable(4, CaseStatus(open_state))
    for done in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN):
        with pytest.raises(Refused, match=f"case 4 is {done.value}; reopen it first") as exc2:
            check_assignable(4, done)
        assert exc2.value.field == "case_ids"


def test_an_assigned_active_case_becomes_assigned_others_keep_their_state() -> None:
    assert assigned_status(CaseStatus.ACTIVE) is CaseStatus.ASSIGNED
    assert assigned_status(CaseStatus.SUSPENDED) is CaseStatus.SUSPENDED
    assert assigned_status(CaseStatus.DELINQUENT) is CaseStatus.DELINQUENT


def _assignee(*, active: bool = True, role: Role = Role.OPERATOR, routines: str = "") -> None:
    check_assignee(
        9,
        active=active,
        username="ana",
        role=role,
        routines=frozenset(Routine(r) for r in routines.split() if r),
        kind=AttentionKind.COLLECTION,
    )


def test_a_case_goes_to_an_active_user_who_works_its_routine() -> None:
    _assignee(routines="collection telesales")
    _assignee(role=Role.SUPERVISOR)
    with pytest.raises(UserInputError, match="9 is not an active user") as exc:
        _assignee(active=False, routines="collection")
    assert exc.value.field == "operator_id"
    with pytest.raises(UserInputError, match="ana does not work the collection routine"):
        _assignee(routines="telesales")


def test_a_finalized_message_changes_no_more() -> None:
    check_message_open(3, finalized=False)
    with pytest.raises(Refused, match="message 3 is finalized; add a note instead") as exc:
        check_message_open(3, finalized=True)
    assert exc.value.field == "message"


def test_a_message_is_postponed_to_a_time_to_come() -> None:
    check_postpone(NOW + timedelta(minutes=1), NOW)
    for until in (NOW, NOW - timedelta(days=1)):
        with pytest.raises(UserInputError, match="must be in the future") as exc:
            check_postpone(until, NOW)
        assert exc.value.field == "until"


def test_a_message_from_a_contact_is_from_that_contacts_customer() -> None:
    check_contact_of(None, 7)
    check_contact_of(7, 7)
    with pytest.raises(UserInputError, match="another customer's") as exc:
        check_contact_of(8, 7)
    assert exc.value.field == "from_contact_id"


def test_a_suspect_is_converted_once() -> None:
    check_convertible(5, None, converted=False)
    with pytest.raises(Refused, match=r"suspect 5 was already converted \(prospect 12\)") as exc:
        check_convertible(5, 12, converted=True)
    assert exc.value.field == "suspect"
    with pytest.raises(Refused, match="already converted"):
        check_convertible(5, None, converted=True)


def test_a_new_entry_of_a_named_list_has_its_name() -> None:
    check_new_entry(("name", "active"), {"name": "Lunch"})
    check_new_entry(("label",), {})
    with pytest.raises(UserInputError, match="is required") as exc:
        check_new_entry(("name", "active"), {"name": "", "active": True})
    assert exc.value.field == "name"


def test_a_search_is_two_to_a_hundred_characters_for_one_to_fifty_customers() -> None:
    assert check_query("  pa  ") == "pa"
    with pytest.raises(UserInputError, match="at least 2 characters") as exc:
        check_query(" p ")
    assert exc.value.field == "q"
    with pytest.raises(UserInputError, match="at most 100 characters"):
        check_query("x" * 101)
    check_search_limit(1)
    check_search_limit(MAX_LIMIT)
    for bad in (0, MAX_LIMIT + 1):
        with pytest.raises(UserInputError, match="between 1 and 50") as exc:
            check_search_limit(bad)
        assert exc.value.field == "limit"
