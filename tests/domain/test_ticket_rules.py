"""The tickets' rules without a database: an item's action must belong to its occurrence and
subject and be in use; confirming sets the child ticket's status and makes a non-conformity only
while the integration (MV_QLYXCAL) is on."""

from __future__ import annotations

import dataclasses

import pytest

from cti.domain.tickets import (
    CatalogueAction,
    TicketStatus,
    check_item,
    check_items_allowed,
    check_owner_known,
    child_number,
    confirm,
    fields_of_item,
    service_order_number,
)
from cti.errors import UserInputError

ACTION = CatalogueAction(
    id=7,
    name="Replace",
    active=True,
    occurrence_id=3,
    occurrence_active=True,
    subject_id=1,
    subject_active=True,
    sets_status=TicketStatus.DONE,
    service_order=True,
    nonconformity=True,
)


def test_an_action_of_the_items_occurrence_and_subject_is_taken() -> None:
    assert check_item("items[0]", subject_id=1, occurrence_id=3, action=ACTION) is ACTION


@pytest.mark.parametrize(
    ("subject", "occurrence", "action", "field"),
    [
        (1, 3, None, "items[0].action_id"),
        (1, 3, dataclasses.replace(ACTION, active=False), "items[0].action_id"),
        (1, 4, ACTION, "items[0].action_id"),
        (1, 3, dataclasses.replace(ACTION, occurrence_active=False), "items[0].action_id"),
        (2, 3, ACTION, "items[0].occurrence_id"),
        (1, 3, dataclasses.replace(ACTION, subject_active=False), "items[0].occurrence_id"),
    ],
)
def test_a_wrong_chain_names_the_field(
    subject: int, occurrence: int, action: CatalogueAction | None, field: str
) -> None:
    with pytest.raises(UserInputError) as err:
        check_item("items[0]", subject_id=subject, occurrence_id=occurrence, action=action)
    assert err.value.field == field


def test_confirming_applies_the_actions_status_and_the_integration_decides_the_nc() -> None:
    on = confirm(ACTION, nonconformity_integration=True)
    off = confirm(ACTION, nonconformity_integration=False)
    assert (on.status, on.service_order, on.nonconformity) == (TicketStatus.DONE, True, True)
    assert (off.status, off.service_order, off.nonconformity) == (TicketStatus.DONE, True, False)
    plain = dataclasses.replace(ACTION, nonconformity=False, service_order=False)
    assert not confirm(plain, nonconformity_integration=True).nonconformity


def test_numbers_and_the_fields_an_item_fills() -> None:
    assert child_number(42, 3) == "42-3"
    assert service_order_number(12) == "OS-000012"
    assert fields_of_item(None) == {}
    filled = fields_of_item({"subject_id": 1, "occurrence_id": 3, "action_id": 7, "product": ""})
    assert filled == {"subject": 1, "occurrence": 3, "action": 7, "action_status": 7}


def test_only_telemarketing_has_items_and_an_owner_is_a_user() -> None:
    check_items_allowed("telemarketing")
    with pytest.raises(UserInputError) as err:
        check_items_allowed("telesales")
    assert err.value.field == "items"
    check_owner_known("items[1]", None, set())
    check_owner_known("items[1]", 4, {4})
    with pytest.raises(UserInputError) as err:
        check_owner_known("items[1]", 5, {4})
    assert err.value.field == "items[1].owner_id"
