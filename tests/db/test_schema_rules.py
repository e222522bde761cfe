"""The database itself refuses bad data: enums, amounts, append-only tables, server stamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from cti.db.engine import Database


async def _one(db: Database, sql: str, **params: Any) -> Any:
    async with db.engine.begin() as conn:
        result = await conn.execute(sa.text(sql), params)
        return result.scalar() if result.returns_rows else None


async def _refused(db: Database, sql: str, **params: Any) -> str:
    with pytest.raises(IntegrityError) as info:
        await _one(db, sql, **params)
    return str(info.value.orig)


@pytest.fixture
async def world(db: Database) -> dict[str, int]:
    """An operator, a customer, an attention with a note, a message with a note, an audit row."""
    ids: dict[str, int] = {}
    ids["group"] = await _one(
        db, "INSERT INTO attention_groups (name, ideal_talk_seconds) VALUES ('G', 60) RETURNING id"
    )
    ids["op"] = await _one(
        db,
        "INSERT INTO operators (username, password_hash, role, routines)"
        " VALUES ('ana', 'x', 'operator', ARRAY['telemarketing']) RETURNING id",
    )
    ids["customer"] = await _one(
        db, "INSERT INTO customers (code, name) VALUES ('C1', 'Acme') RETURNING id"
    )
    ids["attention"] = await _one(
        db,
        "INSERT INTO attentions (kind, direction, operator_id, customer_id)"
        " VALUES ('telemarketing', 'inbound', :op, :c) RETURNING id",
        op=ids["op"],
        c=ids["customer"],
    )
    ids["note"] = await _one(
        db,
        "INSERT INTO attention_notes (attention_id, author_id, text) VALUES (:a, :op, 'hello')"
        " RETURNING id",
        a=ids["attention"],
        op=ids["op"],
    )
    await _one(
        db,
        "INSERT INTO call_message_situations (code, name, pending, usual_pending) VALUES"
        " ('PE', 'Pending', true, true), ('FI', 'Finalized', false, false)",
    )
    ids["message"] = await _one(
        db,
        "INSERT INTO call_messages (created_by, situation_code, from_phone, to_user_id, description)"
        " VALUES (:op, 'PE', '+12025550101', :op, 'call back') RETURNING id",
        op=ids["op"],
    )
    ids["message_note"] = await _one(
        db,
        "INSERT INTO call_message_notes (message_id, author_id, text) VALUES (:m, :op, 'tried')"
        " RETURNING id",
        m=ids["message"],
        op=ids["op"],
    )
    ids["audit"] = await _one(
        db,
        "INSERT INTO audit_log (actor, action, subject) VALUES ('ana', 'read', 'customer:1')"
        " RETURNING id",
    )
    return ids


async def test_an_unknown_enum_value_is_refused(db: Database, world: dict[str, int]) -> None:
    msg = await _refused(
        db,
        "INSERT INTO attentions (kind, direction) VALUES ('astrology', 'inbound')",
    )
    assert "ck_attentions_kind" in msg
    await _refused(db, "UPDATE attentions SET status = 'lost' WHERE id = :a", a=world["attention"])
    await _refused(db, "UPDATE operators SET role = 'god' WHERE id = :o", o=world["op"])
    await _refused(
        db, "UPDATE operators SET routines = ARRAY['astrology'] WHERE id = :o", o=world["op"]
    )


async def test_notes_cannot_be_changed_or_deleted(db: Database, world: dict[str, int]) -> None:
    for table, key in (("attention_notes", "note"), ("call_message_notes", "message_note")):
        msg = await _refused(db, f"UPDATE {table} SET text = 'edited' WHERE id = :i", i=world[key])
        assert "append-only" in msg
        await _refused(db, f"DELETE FROM {table} WHERE id = :i", i=world[key])
    assert (
        await _one(db, "SELECT text FROM attention_notes WHERE id = :i", i=world["note"]) == "hello"
    )


async def test_audit_log_is_append_only(db: Database, world: dict[str, int]) -> None:
    await _refused(
        db, "UPDATE audit_log SET actor = 'someone else' WHERE id = :i", i=world["audit"]
    )
    await _refused(db, "DELETE FROM audit_log")
    assert await _one(db, "SELECT count(*) FROM audit_log") == 1


async def test_created_at_is_set_by_the_server_and_never_changes(
    db: Database, world: dict[str, int]
) -> None:
    before = await _one(db, "SELECT created_at FROM attentions WHERE id = :a", a=world["attention"])
    assert isinstance(before, datetime)
    msg = await _refused(
        db,
        "UPDATE attentions SET created_at = :t WHERE id = :a",
        t=datetime(2020, 1, 1, tzinfo=UTC),
        a=world["attention"],
    )
    assert "created_at" in msg
    await _refused(
        db,
        "UPDATE attention_groups SET created_at = now() - interval '1 day' WHERE id = :g",
        g=world["group"],
    )
    # Any other change is accepted and stamps updated_at.
    await _one(
        db,
        "UPDATE attentions SET updated_at = '2020-01-01Z' WHERE id = :a",
        a=world["attention"],
    )
    await _one(db, "UPDATE attentions SET subject = 'billing' WHERE id = :a", a=world["attention"])
    row = await _one(
        db,
        "SELECT updated_at > '2020-01-02Z' AND created_at = :b FROM attentions WHERE id = :a",
        a=world["attention"],
        b=before,
    )
    assert row is True


async def test_call_message_stamps_are_immutable(db: Database, world: dict[str, int]) -> None:
    m = world["message"]
    await _refused(db, "UPDATE call_messages SET created_by = NULL WHERE id = :m", m=m)
    await _refused(db, "UPDATE call_messages SET created_at = now() WHERE id = :m", m=m)
    # Changing the situation alone is allowed (and does not finalize).
    await _one(db, "UPDATE call_messages SET situation_code = 'FI' WHERE id = :m", m=m)
    assert await _one(db, "SELECT finalized_at FROM call_messages WHERE id = :m", m=m) is None
    await _one(
        db,
        "UPDATE call_messages SET finalized_at = now(), finalized_by = :op WHERE id = :m",
        m=m,
        op=world["op"],
    )
    msg = await _refused(
        db, "UPDATE call_messages SET finalized_at = now() + interval '1 hour' WHERE id = :m", m=m
    )
    assert "finalization" in msg


async def test_call_message_needs_a_sender_and_one_recipient(
    db: Database, world: dict[str, int]
) -> None:
    no_from = await _refused(
        db,
        "INSERT INTO call_messages (created_by, situation_code, to_user_id, description)"
        " VALUES (:op, 'PE', :op, 'x')",
        op=world["op"],
    )
    assert "has_from" in no_from
    both = await _refused(
        db,
        "INSERT INTO call_messages (created_by, situation_code, from_code, to_user_id,"
        " to_group_id, description) VALUES (:op, 'PE', 'S-1', :op, :g, 'x')",
        op=world["op"],
        g=world["group"],
    )
    assert "one_recipient" in both


async def test_at_most_one_usual_pending_situation(db: Database, world: dict[str, int]) -> None:
    await _refused(
        db,
        "INSERT INTO call_message_situations (code, name, pending, usual_pending)"
        " VALUES ('P2', 'Also usual', true, true)",
    )
    await _refused(
        db,
        "INSERT INTO call_message_situations (code, name, pending, usual_pending)"
        " VALUES ('XX', 'Not pending yet usual', false, false), ('X', 'short', true, false)",
    )


async def test_amounts_and_limits(db: Database, world: dict[str, int]) -> None:
    c = world["customer"]
    msg = await _refused(
        db,
        "INSERT INTO receivables (customer_id, invoice_number, due_on, amount)"
        " VALUES (:c, 'F1', '2026-01-01', 0)",
        c=c,
    )
    assert "amount_positive" in msg
    await _one(
        db,
        "INSERT INTO receivables (customer_id, invoice_number, due_on, amount)"
        " VALUES (:c, 'F1', '2026-01-01', 10)",
        c=c,
    )
    await _refused(
        db,
        "INSERT INTO receivables (customer_id, invoice_number, due_on, amount)"
        " VALUES (:c, 'F1', '2026-02-01', 20)",
        c=c,
    )
    await _refused(
        db,
        "INSERT INTO campaigns (name, kind, mode, queue, ring_seconds)"
        " VALUES ('X', 'telesales', 'predictive', 'sales', 10)",
    )
    await _refused(db, "INSERT INTO attention_groups (name, ideal_talk_seconds) VALUES ('Zero', 0)")
    await _refused(
        db,
        "INSERT INTO attentions (kind, direction, status) VALUES ('telesales', 'outbound', 'planned')",
    )
    await _refused(db, "INSERT INTO phones (phone) VALUES ('+12025550101')")


async def test_a_lead_phone_is_once_per_campaign_and_dnc_once_globally(
    db: Database, world: dict[str, int]
) -> None:
    camp = await _one(
        db,
        "INSERT INTO campaigns (name, kind, mode, queue) VALUES ('S', 'telesales', 'preview', 'q')"
        " RETURNING id",
    )
    await _one(db, "INSERT INTO leads (campaign_id, phone) VALUES (:c, '+12025550101')", c=camp)
    await _refused(db, "INSERT INTO leads (campaign_id, phone) VALUES (:c, '+12025550101')", c=camp)
    await _one(db, "INSERT INTO dnc_entries (phone) VALUES ('+12025550101')")
    await _refused(db, "INSERT INTO dnc_entries (phone) VALUES ('+12025550101')")
    await _one(
        db, "INSERT INTO dnc_entries (phone, campaign_id) VALUES ('+12025550101', :c)", c=camp
    )


async def test_a_missing_reference_is_refused(db: Database) -> None:
    with pytest.raises(DBAPIError):
        await _one(
            db,
            "INSERT INTO attentions (kind, direction, operator_id)"
            " VALUES ('telesales', 'outbound', 999)",
        )


async def test_an_orm_update_reads_back_the_servers_updated_at(db: Database) -> None:
    from cti.db.models import Customer

    async with db.sessions.begin() as s:
        customer = Customer(code="T1", name="Before")
        s.add(customer)
        await s.flush()
        created, first = customer.created_at, customer.updated_at
    await _one(db, "UPDATE customers SET updated_at = '2020-01-01Z' WHERE id = :i", i=customer.id)
    async with db.sessions.begin() as s:
        again = await s.get(Customer, customer.id)
        assert again is not None
        again.name = "After"
        await s.flush()
        assert again.updated_at >= first > datetime(2020, 1, 2, tzinfo=UTC)
        assert again.created_at == created
