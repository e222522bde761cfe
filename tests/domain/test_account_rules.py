"""The rules for users and attention groups (cti.domain.accounts): no database."""

from __future__ import annotations

import pytest

from cti.domain.accounts import (
    check_active_user,
    check_admin_kept,
    check_changeable,
    check_group,
    check_routines,
    check_username,
    parse_role,
    parse_routines,
    phone_identity,
)
from cti.domain.model import Role, Routine
from cti.errors import Refused, UserInputError


def test_roles_and_routines_are_read_by_name() -> None:
    assert parse_role(" Admin ") is Role.ADMIN
    with pytest.raises(UserInputError, match="'boss' is not a role") as exc:
        parse_role("boss")
    assert exc.value.field == "role"
    assert parse_routines("telesales, Collection,") == {Routine.TELESALES, Routine.COLLECTION}
    assert parse_routines(None) == frozenset()
    with pytest.raises(UserInputError, match="'sales' is not a routine") as exc:
        parse_routines(["telesales", "sales"])
    assert exc.value.field == "routines"


@pytest.mark.parametrize("bad", ["", "   ", "ana maria", "ana\x07"])
def test_a_username_is_one_printable_word(bad: str) -> None:
    assert check_username("  ana ") == "ana"
    with pytest.raises(UserInputError, match="one word") as exc:
        check_username(bad)
    assert exc.value.field == "username"


def test_an_operator_works_at_least_one_routine() -> None:
    check_routines(Role.OPERATOR, frozenset({Routine.COLLECTION}))
    check_routines(Role.SUPERVISOR, frozenset())
    with pytest.raises(UserInputError, match="needs at least one routine") as exc:
        check_routines(Role.OPERATOR, frozenset())
    assert exc.value.field == "routines"


def test_an_extension_implies_its_interface_and_the_other_way_round() -> None:
    assert phone_identity("1001", None) == ("1001", "PJSIP/1001")
    assert phone_identity("PJSIP/agent1", "") == ("agent1", "PJSIP/agent1")
    assert phone_identity(" 1002 ", "SIP/x") == ("1002", "SIP/x")
    assert phone_identity(None, " ") == (None, None)


def test_an_attention_group_has_a_name_and_a_positive_ideal_talk_time() -> None:
    assert check_group(" Sales ", 180) == ("Sales", 180)
    with pytest.raises(UserInputError, match="needs a name") as exc:
        check_group("  ", 180)
    assert exc.value.field == "group"
    for bad in (0, -5, True):
        with pytest.raises(UserInputError, match="positive number of seconds") as exc:
            check_group("Sales", bad)
        assert exc.value.field == "ideal_talk_seconds"


def test_only_the_changeable_fields_change() -> None:
    check_changeable({"role": "admin", "group": None})
    with pytest.raises(UserInputError, match="cannot be changed here") as exc:
        check_changeable({"role": "admin", "password_hash": "x"})
    assert exc.value.field == "password_hash"


def _kept(
    *,
    role: Role = Role.ADMIN,
    active: bool = True,
    is_actor: bool = False,
    other_admins: int = 1,
    field: str = "role",
) -> None:
    """Take away root's admin ``field``."""
    check_admin_kept(
        role=role,
        active=active,
        username="root",
        is_actor=is_actor,
        other_admins=other_admins,
        field=field,
    )


def test_an_admin_never_takes_away_their_own_administration() -> None:
    with pytest.raises(Refused, match="your own admin role") as exc:
        _kept(is_actor=True)
    assert exc.value.field == "role"
    with pytest.raises(Refused, match="your own admin account"):
        _kept(is_actor=True, field="active")


def test_the_last_active_admin_stays() -> None:
    _kept()
    with pytest.raises(Refused, match="root is the last active admin"):
        _kept(other_admins=0)
    # Neither rule binds a non-admin nor an inactive admin.
    _kept(role=Role.OPERATOR, is_actor=True, other_admins=0)
    _kept(active=False, is_actor=True, other_admins=0)


def test_work_goes_to_active_users_only() -> None:
    check_active_user("to_user_id", 4, active=True)
    with pytest.raises(UserInputError, match="4 is not an active user") as exc:
        check_active_user("to_user_id", 4, active=False)
    assert exc.value.field == "to_user_id"
