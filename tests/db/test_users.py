"""Adding users and attention groups; password hashing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cti.db.engine import Database
from cti.db.models import AttentionGroup, Operator
from cti.db.users import add_user, ensure_group
from cti.domain.model import Role, Routine
from cti.errors import UserInputError
from cti.passwords import hash_password, needs_rehash, verify_password


async def _user(db: Database, username: str) -> Operator:
    async with db.sessions() as s:
        return (
            await s.execute(sa.select(Operator).where(Operator.username == username))
        ).scalar_one()


async def test_add_user_stores_role_routines_group_and_a_verifiable_hash(db: Database) -> None:
    group_id = await ensure_group(db, "Sales", 120)
    uid = await add_user(
        db,
        username="bruno",
        password="s3cret-pw-42",
        role="operator",
        routines=["telesales", "collection"],
        group="Sales",
        extension="1002",
        full_name="Bruno Lima",
    )
    user = await _user(db, "bruno")
    assert user.id == uid
    assert user.role is Role.OPERATOR
    assert user.routines == {Routine.TELESALES, Routine.COLLECTION}
    assert user.group_id == group_id
    assert (user.extension, user.interface) == ("1002", "PJSIP/1002")
    assert user.personal_data is False and user.active is True
    assert "s3cret-pw-42" not in user.password_hash
    assert verify_password(user.password_hash, "s3cret-pw-42")
    assert not verify_password(user.password_hash, "wrong")


async def test_an_interface_given_as_extension_sets_both(db: Database) -> None:
    await add_user(
        db, username="sofia", password="sofia-secret-1", role="supervisor", extension="PJSIP/agent9"
    )
    user = await _user(db, "sofia")
    assert (user.extension, user.interface) == ("agent9", "PJSIP/agent9")
    assert user.routines == frozenset()


async def test_ensure_group_updates_the_ideal_time(db: Database) -> None:
    first = await ensure_group(db, "Express", 30)
    again = await ensure_group(db, "Express", 45)
    assert first == again
    async with db.sessions() as s:
        group = await s.get(AttentionGroup, first)
        assert group is not None and group.ideal_talk_seconds == 45
    with pytest.raises(UserInputError) as info:
        await ensure_group(db, "Express", 0)
    assert info.value.field == "ideal_talk_seconds"


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"username": "ana"}, "username", "already exists"),
        ({"group": "Nowhere"}, "group", "no attention group"),
        ({"role": "overlord"}, "role", "operator, supervisor, admin"),
        ({"routines": ["telepathy"]}, "routines", "telemarketing, telesales, collection"),
        ({"routines": []}, "routines", "at least one routine"),
        ({"password": "123"}, "password", "at least 10"),
        ({"password": "Password123"}, "password", "most common"),
        ({"password": "New12345"}, "password", "at least 10"),
        ({"password": "new1234567"}, "password", "the user name"),
        ({"password": "long-enough\x00pw"}, "password", "control characters"),
        ({"username": "two words"}, "username", "one word"),
        ({"extension": "1001"}, "extension", "already used by 'ana'"),
    ],
)
async def test_add_user_mistakes_are_named(
    db: Database, kwargs: dict[str, object], field: str, words: str
) -> None:
    await add_user(
        db,
        username="ana",
        password="ana-secret-1",
        role="operator",
        routines="telemarketing",
        extension="1001",
    )
    args: dict[str, object] = {
        "username": "new",
        "password": "a-fine-password-1",
        "role": "operator",
        "routines": ["telemarketing"],
        "group": None,
        "extension": None,
        "full_name": None,
    }
    args.update(kwargs)
    with pytest.raises(UserInputError) as info:
        await add_user(db, **args)  # type: ignore[arg-type]
    assert info.value.field == field
    assert words in str(info.value)
    async with db.sessions() as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(Operator))).scalar() == 1


def test_password_hashes_are_salted_and_checked() -> None:
    a, b = hash_password("correct horse"), hash_password("correct horse")
    assert a != b and a.startswith("$argon2id$")
    assert verify_password(a, "correct horse") and verify_password(b, "correct horse")
    assert not verify_password(a, "correct horse!")
    assert not verify_password("not a hash", "correct horse")
    assert not needs_rehash(a)
    weak = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$Y8L6Gd2uIu5mC9ZqJm0U1Q"
    assert needs_rehash(weak)
