"""Attentions at the desk: opened at connect, read with their party and notes, saved from the
form (with what goes with it), noted, pointed at the party registered for their caller.

What the form may hold (a planned attention's next call, a closing reason of its routine, whose
attention it is) is decided in :mod:`cti.domain.attentions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cti.db import outbox
from cti.db.backoffice.common import enforce_required, iso
from cti.db.backoffice.messages import finalize_by_action
from cti.db.backoffice.personal import PERMISSION_SQL, Viewer, present, write_reads
from cti.db.backoffice.telesales import attention_operation
from cti.db.desk.calls import CallKey, agent_leg_args
from cti.db.desk.tickets import NewItem, add_and_confirm_items, first_item, items_of
from cti.db.direct import compiled
from cti.db.engine import Database
from cti.db.models import (
    Attention,
    AttentionNote,
    Call,
    ClosingReason,
    Contact,
    Customer,
    Operator,
    Quote,
    SalesOrder,
    Suspect,
    TicketItem,
)
from cti.domain.attentions import (
    EDITABLE,
    Reason,
    check_editable,
    check_form,
    check_note_author,
    check_owner,
    closing_time,
    note_text,
)
from cti.domain.backoffice import FieldSpec, PersonalKind
from cti.domain.forms import FORMS
from cti.domain.model import AttentionKind, AttentionStatus, Direction
from cti.domain.tickets import fields_of_item
from cti.errors import UserInputError
from cti.i18n import _


@dataclass(frozen=True, slots=True)
class Party:
    """Who an attention is with (any may be None: an unknown caller)."""

    customer_id: int | None = None
    contact_id: int | None = None
    suspect_id: int | None = None
    prospect_id: int | None = None

    @staticmethod
    def from_pop(pop: dict[str, Any] | None) -> Party:
        """The party of a screen-pop's best match."""
        if not pop:
            return Party()
        match = pop.get("match") or {}
        customer = pop.get("customer") or {}
        kind, ident = match.get("kind"), match.get("id")
        return Party(
            customer_id=customer.get("id"),
            contact_id=ident if kind == "contact" else None,
            suspect_id=ident if kind == "suspect" else None,
            prospect_id=ident if kind == "prospect" else None,
        )


async def open_attention(
    db: Database,
    *,
    key: CallKey,
    kind: AttentionKind,
    operator_id: int,
    party: Party,
    phone: str | None,
    linkedid: str,
    queue: str,
    interface: str,
    caller_num: str,
    caller_name: str,
    answered_at: datetime,
    campaign_id: int | None = None,
    lead_id: int | None = None,
    direction: Direction | None = None,
    continues: int | None = None,
) -> int:
    """At connect: a pending attention, linked to the call (upserted as answered).

    A dialer call (``campaign_id``/``lead_id`` given) is an outbound attention of that campaign;
    ``direction`` says it of a call of no campaign (one the agent dialled from the desk).
    ``continues``: the operator's own pending or planned attention the call continues (dialled
    from their pending calls): it is pending again and the call's, instead of a new one.
    """
    if direction is None:
        direction = Direction.INBOUND if campaign_id is None else Direction.OUTBOUND
    call = (
        *agent_leg_args(
            key,
            linkedid=linkedid,
            queue=queue,
            interface=interface,
            operator_id=operator_id,
            caller_num=caller_num,
            caller_name=caller_name,
            phone=phone,
        ),
        direction.value,
        answered_at,
        campaign_id,
    )
    async with db.direct.transaction() as conn:
        # Two instances holding the desk for a moment (one taking it over) open it once.
        await conn.execute(_OPEN_LOCK, f"attention:{key.pbx}/{key.uniqueid}")
        opened = await conn.fetchval(
            _OPENED, key.pbx, key.uniqueid, operator_id, AttentionStatus.PENDING.value
        )
        if opened is not None:
            return int(opened)
        if continues is not None:
            continued = await conn.fetchval(
                _CONTINUE,
                continues,
                operator_id,
                AttentionStatus.PENDING.value,
                AttentionStatus.PLANNED.value,
            )
            if continued is not None:
                await conn.execute(_ANSWERED + "SELECT 1", *call, continued)
                return int(continued)
        new_id = await conn.fetchval(
            _OPEN,
            *call,
            kind.value,
            AttentionStatus.PENDING.value,
            lead_id,
            party.customer_id,
            party.contact_id,
            party.suspect_id,
            party.prospect_id,
        )
        return int(new_id)


# A call answered by an agent, as plain SQL (:mod:`cti.db.direct`): the call's row upserted with
# its answer and attention ($13); the rest of a statement follows.
_ANSWERED = """
WITH answered AS (
    INSERT INTO calls AS c (pbx, uniqueid, linkedid, queue, agent_interface, operator_id,
                           caller_id_num, caller_id_name, phone, direction, answered_at,
                           campaign_id, attention_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
    ON CONFLICT (pbx, uniqueid) DO UPDATE SET
        agent_interface = excluded.agent_interface, operator_id = excluded.operator_id,
        answered_at = excluded.answered_at, attention_id = excluded.attention_id,
        direction = excluded.direction, campaign_id = excluded.campaign_id
)
"""
# The transaction lock of one call's attention (the key's hash, as PostgreSQL makes it): a
# statement of its own, so that what is read next is read after the wait.
_OPEN_LOCK = "SELECT pg_advisory_xact_lock(hashtext($1))"
_OPENED = """
SELECT c.attention_id FROM calls c JOIN attentions a ON a.id = c.attention_id
WHERE c.pbx = $1 AND c.uniqueid = $2 AND c.operator_id = $3 AND a.status = $4
"""
_CONTINUE = """
UPDATE attentions SET status = $3
WHERE id = $1 AND operator_id = $2 AND status IN ($3, $4)
RETURNING id
"""
# A new attention (its kind, status, lead and party: $13-$19) in the operator's group, and the
# call's row pointing at it (as :data:`_ANSWERED`), in one statement.
_OPEN = """
WITH opened AS (
    INSERT INTO attentions (kind, direction, status, campaign_id, lead_id, operator_id, group_id,
                            customer_id, contact_id, suspect_id, prospect_id, phone)
    VALUES ($13, $10, $14, $12, $15, $6, (SELECT group_id FROM operators WHERE id = $6),
            $16, $17, $18, $19, $9)
    RETURNING id
),
answered AS (
    INSERT INTO calls AS c (pbx, uniqueid, linkedid, queue, agent_interface, operator_id,
                           caller_id_num, caller_id_name, phone, direction, answered_at,
                           campaign_id, attention_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, (SELECT id FROM opened))
    ON CONFLICT (pbx, uniqueid) DO UPDATE SET
        agent_interface = excluded.agent_interface, operator_id = excluded.operator_id,
        answered_at = excluded.answered_at, attention_id = excluded.attention_id,
        direction = excluded.direction, campaign_id = excluded.campaign_id
)
SELECT id FROM opened
"""


# The personal fields of an attention as the desk shows it (names of its party, the phone).
ATTENTION_SPEC: FieldSpec = {
    "customer": PersonalKind.NAME,
    "contact": PersonalKind.NAME,
    "phone": PersonalKind.PHONE,
    "call": {"caller": PersonalKind.PHONE, "caller_name": PersonalKind.CALLER_ID},
}


# The history's rows name the contact of each attention.
HISTORY_SPEC: FieldSpec = {"attentions": {"contact": PersonalKind.NAME}}


def _subject(a: Attention) -> str:
    """The audit subject of an attention's party (what a read of the attention shows)."""
    for kind, ident in (
        ("customer", a.customer_id),
        ("contact", a.contact_id),
        ("suspect", a.suspect_id),
        ("prospect", a.prospect_id),
    ):
        if ident is not None:
            return f"{kind}:{ident}"
    return f"attention:{a.id}"


async def attention_detail(
    db: Database, attention_id: int, viewer: Viewer
) -> dict[str, Any] | None:
    """An attention with its party, notes (oldest first), call times and telesales operation.

    Personal fields are masked unless ``viewer`` may see them; the read is audited
    (as :func:`cti.db.backoffice.personal.show_personal` does).
    """
    async with db.sessions.begin() as s:
        row = (await s.execute(_DETAIL, {"id": attention_id, "viewer": viewer.id})).first()
        return None if row is None else await _shown_detail(s, row, viewer)


async def desk_attention(
    db: Database, attention_id: int, viewer: Viewer, *, after: datetime
) -> tuple[dict[str, Any] | None, str | None]:
    """:func:`attention_detail`, and when the viewer's next planned call after ``after`` is due
    (the desk's footer), read in the same statement: the desk reads both at every connect."""
    params = {"id": attention_id, "viewer": viewer.id, "after": after}
    # Sent as plain SQL (:mod:`cti.db.direct`): the desk reads it at every connect. An attention
    # with notes, sales or items (one a call continues) is read again with them.
    row = await db.direct.fetchrow(_DESK_PLAIN.sql, *_DESK_PLAIN.args(params))
    if row is not None and not row[_HAS_AT]:
        attention = Attention(
            **dict(zip(_ATTENTION_KEYS, row[: len(_ATTENTION_KEYS)], strict=True))
        )
        found = row[_CALL_AT : _CALL_AT + len(_CALL_KEYS)]
        call = None if found[0] is None else Call(**dict(zip(_CALL_KEYS, found, strict=True)))
        names = row[len(_ATTENTION_KEYS) : _CALL_AT]
        shown, rows = _present_detail((attention, *names, call, 0, row[_HAS_AT + 1]), viewer)
        await write_reads(db, rows)
        return shown, iso(row[-1])
    async with db.sessions.begin() as s:
        orm = (await s.execute(_DESK_DETAIL, params)).first()
        if orm is None:
            due = (await s.execute(sa.select(next_call_due(viewer.id, after)))).scalar()
            return None, iso(due)
        return await _shown_detail(s, orm, viewer), iso(orm[-1])


def next_call_due(operator: Any, after: Any) -> sa.ScalarSelect[Any]:
    """When the operator's next planned call at or after ``after`` is due (NULL if none)."""
    planned = aliased(Attention)
    return (
        sa.select(sa.func.min(planned.next_call_at))
        .where(
            planned.operator_id == operator,
            planned.status == AttentionStatus.PLANNED,
            planned.next_call_at >= after,
        )
        .scalar_subquery()
    )


async def _shown_detail(s: AsyncSession, row: Any, viewer: Viewer) -> dict[str, Any]:
    """The detail of ``row`` (of :data:`_DETAIL`'s columns first) as ``viewer`` may see it."""
    a, op_name, op_user, customer, contact, call, has, allowed = row[:8]
    # What an attention may have besides its call is read only where it has some: an
    # attention opened at connect has none, and is read on the screen-pop's loop.
    notes: Sequence[Any] = ()
    if has & _HAS_NOTES:
        notes = (
            await s.execute(
                sa.select(AttentionNote, Operator.full_name, Operator.username)
                .join(Operator, Operator.id == AttentionNote.author_id)
                .where(AttentionNote.attention_id == a.id)
                .order_by(AttentionNote.at, AttentionNote.id)
            )
        ).all()
    operation = await attention_operation(s, a.id) if has & _HAS_SALES else None
    detail = _detail(
        a,
        operator=op_name or op_user,
        names={"customer": customer, "contact": contact},
        notes=notes,
        call=call,
        operation=operation,
    )
    detail["items"] = await items_of(s, a.id) if has & _HAS_ITEMS else []
    shown, rows = _presented(a, detail, viewer, allowed)
    await write_reads(s, rows)
    return shown


def _presented(
    a: Attention, detail: dict[str, Any], viewer: Viewer, allowed: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """As show_personal does, with the viewer's permission read in the same statement: the
    detail as the viewer may see it, and the audit lines of the read."""
    [shown], rows = present(
        viewer, [(_subject(a), detail)], ATTENTION_SPEC, allowed=allowed, purpose="attention"
    )
    return shown, rows


def _present_detail(
    row: tuple[Any, ...], viewer: Viewer
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """:func:`_shown_detail` of an attention with no notes, sales or items (nothing more to read)."""
    a, op_name, op_user, customer, contact, call, _, allowed = row[:8]
    detail = _detail(
        a,
        operator=op_name or op_user,
        names={"customer": customer, "contact": contact},
        notes=(),
        call=call,
        operation=None,
    )
    detail["items"] = []
    return _presented(a, detail, viewer, allowed)


def _detail(
    a: Attention,
    *,
    operator: str | None,
    names: dict[str, str | None],
    notes: Any,
    call: Call | None,
    operation: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": str(a.kind),
        "direction": str(a.direction),
        "status": str(a.status),
        "operator_id": a.operator_id,
        "operator": operator,
        "customer_id": a.customer_id,
        "contact_id": a.contact_id,
        "suspect_id": a.suspect_id,
        "prospect_id": a.prospect_id,
        **names,
        "phone": a.phone,
        "closing_reason_id": a.closing_reason_id,
        "next_call_at": iso(a.next_call_at),
        "closed_at": iso(a.closed_at),
        "wrapup_overrun": a.wrapup_overrun,
        "subject": a.subject,
        "product": a.product,
        "occurrence": a.occurrence,
        "action": a.action,
        "owner_id": a.owner_id,
        "action_date": iso(a.action_date),
        "action_status": a.action_status,
        "created_at": iso(a.created_at),
        "updated_at": iso(a.updated_at),
        "operation": operation,
        "notes": [
            {"id": n.id, "at": iso(n.at), "author": name or user, "text": n.text}
            for n, name, user in notes
        ],
        "call": None
        if call is None
        else {
            "id": call.id,
            "queue": call.queue,
            "caller": call.caller_id_num,
            "caller_name": call.caller_id_name,
            "ring_at": iso(call.ring_at),
            "answered_at": iso(call.answered_at),
            "ended_at": iso(call.ended_at),
            "talk_seconds": int((call.ended_at - call.answered_at).total_seconds())
            if call.ended_at and call.answered_at
            else None,
            "outcome": str(call.outcome) if call.outcome else None,
        },
    }


def _detail_statement(*, next_call: bool = False) -> sa.Select[Any]:
    """One attention with its operator's names, its party's names, its first call, a bit mask
    of what else it has (:data:`_HAS_NOTES`, :data:`_HAS_SALES`, :data:`_HAS_ITEMS`) and whether
    the viewer may see personal data (parameters ``id`` and ``viewer``); with ``next_call``,
    last, when the viewer's next planned call at or after the parameter ``after`` is due."""
    first_call = (
        sa.select(Call)
        .where(Call.attention_id == Attention.id)
        .order_by(Call.id)
        .limit(1)
        .lateral("first_call")
    )
    call = aliased(Call, first_call)
    customer = (
        sa.select(Customer.name).where(Customer.id == Attention.customer_id).scalar_subquery()
    )
    contact = sa.case(
        (
            Attention.contact_id.is_not(None),
            sa.select(Contact.name).where(Contact.id == Attention.contact_id).scalar_subquery(),
        ),
        (
            Attention.suspect_id.is_not(None),
            sa.select(Suspect.name).where(Suspect.id == Attention.suspect_id).scalar_subquery(),
        ),
    )

    def flag(bit: int, *columns: Any) -> sa.ColumnElement[int]:
        found = sa.or_(*(sa.exists().where(column == Attention.id) for column in columns))
        return sa.case((found, bit), else_=0)

    has = (
        flag(_HAS_NOTES, AttentionNote.attention_id)
        + flag(_HAS_SALES, SalesOrder.attention_id, Quote.attention_id)
        + flag(_HAS_ITEMS, TicketItem.attention_id)
    )
    due = [next_call_due(sa.bindparam("viewer"), sa.bindparam("after"))] if next_call else []
    return (
        sa.select(
            Attention,
            Operator.full_name,
            Operator.username,
            customer,
            contact,
            call,
            has,
            sa.text(f"{PERMISSION_SQL} AS allowed"),
            *due,
        )
        .outerjoin(Operator, Operator.id == Attention.operator_id)
        .outerjoin(first_call, sa.true())
        .where(Attention.id == sa.bindparam("id"))
    )


_HAS_NOTES, _HAS_SALES, _HAS_ITEMS = 1, 2, 4
_DETAIL = _detail_statement()
_DESK_DETAIL = _detail_statement(next_call=True)
# The same statement for asyncpg: the attention's columns, its operator's two names, its party's
# two, its first call's columns, what else it has, the viewer's permission, the next call due.
_DESK_PLAIN = compiled(_DESK_DETAIL)
_ATTENTION_KEYS = tuple(c.key for c in sa.inspect(Attention).column_attrs)
_CALL_KEYS = tuple(c.key for c in sa.inspect(Call).column_attrs)
_CALL_AT = len(_ATTENTION_KEYS) + 4
_HAS_AT = _CALL_AT + len(_CALL_KEYS)


async def save_attention(
    db: Database,
    attention_id: int,
    changes: dict[str, Any],
    *,
    now: datetime,
    viewer: Viewer,
    may_edit_others: bool,
    message_id: int | None = None,
    items: Sequence[NewItem] = (),
    nonconformity_integration: bool = False,
) -> None:
    """Apply the form's fields to an attention, in one transaction with what goes with it: the
    admin's required fields of the attention form are enforced, an attention made from a
    pending incoming-call message (``message_id``) finalizes that message, and the new ticket
    ``items`` are added and confirmed (each child ticket takes its action's status; the
    attention's own status is only ever the form's; :mod:`cti.db.desk.tickets`).

    Raises:
        UserInputError: an unknown attention, someone else's (without ``may_edit_others``), a
            planned attention without a next call, a closing reason of another routine or unknown,
            a required field left empty (named), an item whose action is not of its occurrence
            and subject.
        NotFound, Refused: ``message_id`` is unknown, or already finalized.
    """
    check_editable(changes)
    async with db.sessions.begin() as s:
        a = (
            await s.execute(
                sa.select(Attention).where(Attention.id == attention_id).with_for_update()
            )
        ).scalar_one_or_none()
        if a is None:
            raise UserInputError(
                "attention", _("there is no attention {attention_id}"), attention_id=attention_id
            )
        check_owner(a.operator_id, viewer.id, may_edit_others=may_edit_others)
        for name, value in changes.items():
            setattr(a, name, value)
        status = AttentionStatus(a.status)
        was_done = a.closed_at is not None
        reason: Reason | None = None
        if a.closing_reason_id is not None:
            row = await s.get(ClosingReason, a.closing_reason_id)
            reason = None if row is None else Reason(row.name, row.kind, row.active)
        check_form(
            status,
            kind=a.kind,
            next_call_at=a.next_call_at,
            reason=reason,
            reason_given=a.closing_reason_id is not None,
        )
        a.closed_at = closing_time(status, a.closed_at, now)
        if a.contact_id is not None and "contact_id" in changes and a.customer_id is None:
            a.customer_id = (
                await s.execute(sa.select(Contact.customer_id).where(Contact.id == a.contact_id))
            ).scalar_one_or_none()
        values = {"kind": a.kind, **{name: getattr(a, name) for name in FORMS["attention"]}}
        # The items (new ones, else the first saved) fill what the free-text fields used to.
        by_item = fields_of_item(items[0] if items else await first_item(s, a.id))
        await enforce_required(
            s, "attention", values | {k: v for k, v in by_item.items() if not values.get(k)}
        )
        try:
            await s.flush()
        except IntegrityError as exc:
            raise UserInputError(
                "attention", _("refused by the database: a field is not valid")
            ) from exc
        await add_and_confirm_items(
            s, a, items, now=now, nonconformity_integration=nonconformity_integration
        )
        if message_id is not None:
            await finalize_by_action(s, viewer, message_id, a.id)
        await outbox.emit(s, outbox.attention_events(a, now, was_done=was_done))


async def add_note(
    db: Database,
    attention_id: int,
    *,
    author_id: int,
    text: str,
    may_note_others: bool = False,
) -> dict[str, Any]:
    """Append a note (notes are never edited) to the author's own attention, or (with
    ``may_note_others``: supervisors and admins) to anyone's.

    Raises:
        UserInputError: empty text, an unknown attention.
        Forbidden: another operator's attention, without ``may_note_others``.
    """
    text = note_text(text)
    async with db.sessions.begin() as s:
        owner = (
            await s.execute(
                sa.select(Attention.id, Attention.operator_id).where(Attention.id == attention_id)
            )
        ).first()
        if owner is None:
            raise UserInputError(
                "attention", _("there is no attention {attention_id}"), attention_id=attention_id
            )
        check_note_author(owner.operator_id, author_id, may_note_others=may_note_others)
        note = AttentionNote(attention_id=attention_id, author_id=author_id, text=text)
        s.add(note)
        await s.flush()
        author = (
            await s.execute(
                sa.select(sa.func.coalesce(Operator.full_name, Operator.username)).where(
                    Operator.id == author_id
                )
            )
        ).scalar_one()
    return {"id": note.id, "at": iso(note.at), "author": author, "text": note.text}


async def link_attention_party(db: Database, attention_id: int, party: Party) -> None:
    """Point an attention at the party just registered for its caller."""
    async with db.sessions.begin() as s:
        await s.execute(
            sa.update(Attention)
            .where(Attention.id == attention_id)
            .values(
                customer_id=party.customer_id,
                contact_id=party.contact_id,
                suspect_id=party.suspect_id,
                prospect_id=party.prospect_id,
            )
        )


__all__ = [
    "ATTENTION_SPEC",
    "EDITABLE",
    "HISTORY_SPEC",
    "Party",
    "add_note",
    "attention_detail",
    "link_attention_party",
    "open_attention",
    "save_attention",
]
