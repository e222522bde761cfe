"""What the agent desk reads and writes: screen-pop lookups, the call log, attentions and notes.

The screen-pop is on the hot path (a queue rings an agent, the pop must reach the browser in a few
milliseconds), so :func:`lookup_caller` is one SQL statement: PostgreSQL finds the caller by the
indexed normalised phone and builds the whole pop (who, last attentions, open receivables, open
quotes and orders, pending incoming-call messages) as one JSON document.

Call-log writes are upserts on ``(pbx, uniqueid)`` that each set only their own columns (ring,
answer, end), so they may run in any order and any number of times.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from cti.db.backoffice.common import enforce_required, iso
from cti.db.backoffice.messages import finalize_by_action
from cti.db.backoffice.personal import PERMISSION_SQL, Viewer, show_personal
from cti.db.backoffice.telesales import attention_operation
from cti.db.engine import Database
from cti.db.models import (
    Attention,
    AttentionNote,
    Call,
    ClosingReason,
    Contact,
    Customer,
    Operator,
    PauseReason,
    Phone,
    Suspect,
)
from cti.domain.backoffice import FORMS, PersonalKind
from cti.domain.model import AttentionKind, AttentionStatus, CallOutcome, Direction
from cti.errors import UserInputError

# --- the screen-pop ---------------------------------------------------------------------------

_POP_SQL = sa.text(
    """
WITH hit AS (
    SELECT p.customer_id, p.contact_id, p.suspect_id, p.prospect_id, p.raw, p.label
    FROM phones p
    WHERE p.phone = :phone
    ORDER BY (p.contact_id IS NULL), (p.customer_id IS NULL), (p.prospect_id IS NULL), p.id
    LIMIT 1
),
who AS (
    SELECT h.customer_id, h.contact_id, h.suspect_id, h.prospect_id, h.raw, h.label,
           COALESCE(h.customer_id, ct.customer_id, pr.customer_id) AS cust_id,
           ct.name AS contact_name, ct.position AS contact_position, ct.email AS contact_email,
           su.name AS suspect_name, su.company AS suspect_company,
           pr.name AS prospect_name, pr.company AS prospect_company
    FROM (SELECT 1) AS one
    LEFT JOIN hit h ON TRUE
    LEFT JOIN contacts ct ON ct.id = h.contact_id
    LEFT JOIN suspects su ON su.id = h.suspect_id
    LEFT JOIN prospects pr ON pr.id = h.prospect_id
)
SELECT json_build_object(
    'personal_data', """
    + PERMISSION_SQL
    + """,
    'matches', (SELECT count(*) FROM phones WHERE phone = :phone),
    'match', (
        SELECT CASE
            WHEN w.contact_id IS NOT NULL THEN json_build_object(
                'kind', 'contact', 'id', w.contact_id, 'name', w.contact_name,
                'position', w.contact_position, 'email', w.contact_email, 'label', w.label)
            WHEN w.customer_id IS NOT NULL THEN json_build_object(
                'kind', 'customer', 'id', w.customer_id, 'label', w.label)
            WHEN w.prospect_id IS NOT NULL THEN json_build_object(
                'kind', 'prospect', 'id', w.prospect_id, 'name', w.prospect_name,
                'company', w.prospect_company)
            WHEN w.suspect_id IS NOT NULL THEN json_build_object(
                'kind', 'suspect', 'id', w.suspect_id, 'name', w.suspect_name,
                'company', w.suspect_company)
        END
        FROM who w),
    'customer', (
        SELECT json_build_object('id', c.id, 'code', c.code, 'name', c.name,
                                 'tax_id', c.tax_id, 'email', c.email, 'region', c.region)
        FROM who w JOIN customers c ON c.id = w.cust_id),
    'attentions', (
        SELECT COALESCE(json_agg(x ORDER BY x.created_at DESC), '[]'::json) FROM (
            SELECT a.id, a.kind, a.status, a.direction, a.subject, a.created_at, a.closed_at,
                   a.next_call_at, o.full_name AS operator, cr.name AS closing_reason
            FROM who w
            JOIN attentions a ON a.customer_id = w.cust_id OR a.contact_id = w.contact_id
                              OR a.suspect_id = w.suspect_id OR a.prospect_id = w.prospect_id
            LEFT JOIN operators o ON o.id = a.operator_id
            LEFT JOIN closing_reasons cr ON cr.id = a.closing_reason_id
            ORDER BY a.created_at DESC
            LIMIT :attentions) x),
    'receivables', (
        SELECT COALESCE(json_agg(x ORDER BY x.due_on), '[]'::json) FROM (
            SELECT r.id, r.invoice_number, r.due_on, r.amount, r.due_on < :today AS overdue,
                   GREATEST(:today - r.due_on, 0) AS days_overdue
            FROM who w JOIN receivables r ON r.customer_id = w.cust_id AND NOT r.paid
            WHERE :collection
            ORDER BY r.due_on
            LIMIT 50) x),
    'quotes', (
        SELECT COALESCE(json_agg(x ORDER BY x.created_at DESC), '[]'::json) FROM (
            SELECT q.id, q.status, q.valid_until, q.created_at,
                   (SELECT COALESCE(sum(i.quantity * i.unit_price), 0)
                    FROM quote_items i WHERE i.quote_id = q.id) AS total
            FROM who w JOIN quotes q ON q.customer_id = w.cust_id AND q.status = 'open'
            WHERE :sales
            ORDER BY q.created_at DESC
            LIMIT 20) x),
    'orders', (
        SELECT COALESCE(json_agg(x ORDER BY x.created_at DESC), '[]'::json) FROM (
            SELECT s.id, s.created_at, s.quote_id,
                   (SELECT COALESCE(sum(i.quantity * i.unit_price), 0)
                    FROM order_items i WHERE i.order_id = s.id) AS total
            FROM who w JOIN sales_orders s
                 ON s.customer_id = w.cust_id AND NOT s.billed AND NOT s.cancelled
            WHERE :sales
            ORDER BY s.created_at DESC
            LIMIT 20) x),
    'messages', (
        SELECT COALESCE(json_agg(x ORDER BY x.created_at), '[]'::json) FROM (
            SELECT m.id, m.created_at, m.description, st.name AS situation, ty.name AS type,
                   m.postponed_until
            FROM who w
            JOIN call_messages m
                 ON m.finalized_at IS NULL
                AND (m.from_customer_id = w.cust_id OR m.from_contact_id = w.contact_id
                     OR m.from_phone = :phone)
            JOIN call_message_situations st ON st.code = m.situation_code AND st.pending
            LEFT JOIN call_message_types ty ON ty.code = m.type_code
            ORDER BY m.created_at
            LIMIT 20) x)
) AS pop
"""
)


class PopLookup:
    """A few connections kept open for screen-pops: one round trip per pop.

    A pooled checkout would add a ping and a BEGIN/ROLLBACK around the query; these connections
    run in autocommit and are reused. A connection that fails is dropped and reopened on next use.
    """

    def __init__(self, db: Database, *, size: int = 4) -> None:
        self._db = db
        self._free: asyncio.Queue[AsyncConnection | None] = asyncio.Queue()
        self._open: set[AsyncConnection] = set()
        for _ in range(size):
            self._free.put_nowait(None)

    async def _checkout(self) -> AsyncConnection:
        conn = await self._free.get()
        if conn is not None:
            return conn
        try:
            conn = await self._db.engine.connect()
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        except BaseException:
            self._free.put_nowait(None)
            raise
        self._open.add(conn)
        return conn

    async def run(self, params: dict[str, Any]) -> Any:
        """The pop query's one value for ``params``."""
        conn = await self._checkout()
        try:
            value = (await conn.execute(_POP_SQL, params)).scalar_one()
        except BaseException:
            self._open.discard(conn)
            self._free.put_nowait(None)
            with contextlib.suppress(Exception):
                await conn.close()
            raise
        self._free.put_nowait(conn)
        return value

    async def close(self) -> None:
        for conn in list(self._open):
            with contextlib.suppress(Exception):
                await conn.close()
        self._open.clear()


async def lookup_caller(
    db: Database | PopLookup,
    phone: str | None,
    *,
    viewer_id: int,
    today: date,
    collection: bool,
    sales: bool,
    attentions: int = 5,
) -> dict[str, Any]:
    """Everything the pop shows about a normalised caller id, in one query, unmasked.

    Returns a dict with ``personal_data`` (may ``viewer_id`` see personal fields now: the rule of
    :mod:`cti.db.backoffice.personal`, read in the same query), ``matches`` (how many records have
    this number), ``match`` (the best one:
    a contact before a customer before a prospect before a suspect; None when unknown),
    ``customer``, ``attentions`` (the last few), ``receivables`` (open, when ``collection``),
    ``quotes`` and ``orders`` (open, when ``sales``) and ``messages`` (pending incoming-call
    messages from this customer, contact or number).
    """
    if not phone:
        return {
            "personal_data": False,
            "matches": 0,
            "match": None,
            "customer": None,
            "attentions": [],
            "receivables": [],
            "quotes": [],
            "orders": [],
            "messages": [],
        }
    params = {
        "viewer": viewer_id,
        "phone": phone,
        "today": today,
        "collection": collection,
        "sales": sales,
        "attentions": attentions,
    }
    if isinstance(db, PopLookup):
        raw = await db.run(params)
    else:
        async with db.engine.connect() as conn:
            raw = (await conn.execute(_POP_SQL, params)).scalar_one()
    found: dict[str, Any] = json.loads(raw) if isinstance(raw, str) else raw
    match = found.get("match")
    customer = found.get("customer")
    if match is not None and match.get("kind") == "customer" and customer is not None:
        match["name"] = customer["name"]
    return found


# --- the call log -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallKey:
    """One caller's channel on one PBX (the call log's natural key)."""

    pbx: str
    uniqueid: str


def _upsert_call(key: CallKey, values: dict[str, Any], update: tuple[str, ...]) -> sa.Insert:
    stmt = pg_insert(Call).values(pbx=key.pbx, uniqueid=key.uniqueid, **values)
    return stmt.on_conflict_do_update(
        index_elements=[Call.pbx, Call.uniqueid],
        set_={name: stmt.excluded[name] for name in update},
    )


async def log_ring(
    db: Database,
    key: CallKey,
    *,
    linkedid: str,
    queue: str,
    interface: str,
    operator_id: int,
    caller_num: str,
    caller_name: str,
    phone: str | None,
    at: datetime,
) -> None:
    """A queue call rang a desk agent (the first ring is kept; the agent is the latest rung)."""
    stmt = pg_insert(Call).values(
        pbx=key.pbx,
        uniqueid=key.uniqueid,
        linkedid=linkedid,
        queue=queue,
        agent_interface=interface,
        operator_id=operator_id,
        caller_id_num=caller_num or None,
        caller_id_name=caller_name or None,
        phone=phone,
        direction=Direction.INBOUND,
        ring_at=at,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[Call.pbx, Call.uniqueid],
        set_={
            "ring_at": sa.func.coalesce(Call.ring_at, stmt.excluded.ring_at),
            # An agent who already answered keeps the call.
            "agent_interface": sa.case(
                (Call.answered_at.is_(None), stmt.excluded.agent_interface),
                else_=Call.agent_interface,
            ),
            "operator_id": sa.case(
                (Call.answered_at.is_(None), stmt.excluded.operator_id), else_=Call.operator_id
            ),
        },
    )
    async with db.sessions.begin() as s:
        await s.execute(stmt)


async def log_end(
    db: Database, key: CallKey, *, at: datetime, outcome: CallOutcome, cause: int | None = None
) -> None:
    """The call ended (answered and hung up, or abandoned by the caller)."""
    values: dict[str, Any] = {
        "direction": Direction.INBOUND,
        "ended_at": at,
        "outcome": outcome,
        "hangup_cause": cause,
    }
    async with db.sessions.begin() as s:
        await s.execute(_upsert_call(key, values, ("ended_at", "outcome", "hangup_cause")))


# --- attentions -------------------------------------------------------------------------------


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
) -> int:
    """At connect: a pending attention, linked to the call (upserted as answered).

    A dialer call (``campaign_id``/``lead_id`` given) is an outbound attention of that campaign.
    """
    direction = Direction.INBOUND if campaign_id is None else Direction.OUTBOUND
    group = sa.select(Operator.group_id).where(Operator.id == operator_id).scalar_subquery()
    async with db.sessions.begin() as s:
        attention_id = (
            await s.execute(
                sa.insert(Attention)
                .values(
                    kind=kind,
                    direction=direction,
                    status=AttentionStatus.PENDING,
                    campaign_id=campaign_id,
                    lead_id=lead_id,
                    operator_id=operator_id,
                    group_id=group,
                    customer_id=party.customer_id,
                    contact_id=party.contact_id,
                    suspect_id=party.suspect_id,
                    prospect_id=party.prospect_id,
                    phone=phone,
                )
                .returning(Attention.id)
            )
        ).scalar_one()
        values = {
            "linkedid": linkedid,
            "queue": queue,
            "agent_interface": interface,
            "operator_id": operator_id,
            "caller_id_num": caller_num or None,
            "caller_id_name": caller_name or None,
            "phone": phone,
            "direction": direction,
            "answered_at": answered_at,
            "attention_id": attention_id,
            "campaign_id": campaign_id,
        }
        await s.execute(
            _upsert_call(
                key,
                values,
                (
                    "agent_interface",
                    "operator_id",
                    "answered_at",
                    "attention_id",
                    "direction",
                    "campaign_id",
                ),
            )
        )
    return int(attention_id)


# The personal fields of an attention as the desk shows it (names of its party, the phone).
ATTENTION_SPEC = {
    "customer": PersonalKind.NAME,
    "contact": PersonalKind.NAME,
    "phone": PersonalKind.PHONE,
}
# The history's rows name the contact of each attention.
HISTORY_SPEC = {"attentions": {"contact": PersonalKind.NAME}}


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
    (:func:`cti.db.backoffice.personal.show_personal`).
    """
    async with db.sessions.begin() as s:
        row = (
            await s.execute(
                sa.select(Attention, Operator.full_name, Operator.username)
                .outerjoin(Operator, Operator.id == Attention.operator_id)
                .where(Attention.id == attention_id)
            )
        ).first()
        if row is None:
            return None
        a, op_name, op_user = row
        notes = (
            await s.execute(
                sa.select(AttentionNote, Operator.full_name, Operator.username)
                .join(Operator, Operator.id == AttentionNote.author_id)
                .where(AttentionNote.attention_id == attention_id)
                .order_by(AttentionNote.at, AttentionNote.id)
            )
        ).all()
        call = (
            await s.execute(
                sa.select(Call).where(Call.attention_id == attention_id).order_by(Call.id).limit(1)
            )
        ).scalar_one_or_none()
        names = await _party_names(s, a)
        operation = await attention_operation(s, a.id)
        detail = _detail(
            a, operator=op_name or op_user, names=names, notes=notes, call=call, operation=operation
        )
        [shown] = await show_personal(
            s, viewer, [(_subject(a), detail)], ATTENTION_SPEC, purpose="attention"
        )
    return shown


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


async def _party_names(s: Any, a: Attention) -> dict[str, str | None]:
    customer = contact = None
    if a.customer_id is not None:
        customer = (
            await s.execute(sa.select(Customer.name).where(Customer.id == a.customer_id))
        ).scalar_one_or_none()
    if a.contact_id is not None:
        contact = (
            await s.execute(sa.select(Contact.name).where(Contact.id == a.contact_id))
        ).scalar_one_or_none()
    elif a.suspect_id is not None:
        contact = (
            await s.execute(sa.select(Suspect.name).where(Suspect.id == a.suspect_id))
        ).scalar_one_or_none()
    return {"customer": customer, "contact": contact}


# The form's fields: the admin's attention form (whose fields they may make mandatory) less the
# caller's phone (it comes from the call), plus the routine (kind) and the status.
EDITABLE = (FORMS["attention"] - {"phone"}) | {"kind", "status"}


async def save_attention(
    db: Database,
    attention_id: int,
    changes: dict[str, Any],
    *,
    now: datetime,
    viewer: Viewer,
    may_edit_others: bool,
    message_id: int | None = None,
) -> None:
    """Apply the form's fields to an attention, in one transaction with what goes with it: the
    admin's required fields of the attention form are enforced, and an attention made from a
    pending incoming-call message (``message_id``) finalizes that message.

    Raises:
        UserInputError: an unknown attention, someone else's (without ``may_edit_others``), a
            planned attention without a next call, a closing reason of another routine or unknown,
            a required field left empty (named).
        NotFound, Refused: ``message_id`` is unknown, or already finalized.
    """
    unknown = set(changes) - EDITABLE
    if unknown:
        raise UserInputError(sorted(unknown)[0], "is not a field of an attention")
    async with db.sessions.begin() as s:
        a = (
            await s.execute(
                sa.select(Attention).where(Attention.id == attention_id).with_for_update()
            )
        ).scalar_one_or_none()
        if a is None:
            raise UserInputError("attention", f"there is no attention {attention_id}")
        if a.operator_id != viewer.id and not may_edit_others:
            raise UserInputError("attention", "this attention belongs to another operator")
        for name, value in changes.items():
            setattr(a, name, value)
        status = AttentionStatus(a.status)
        if status is AttentionStatus.PLANNED and a.next_call_at is None:
            raise UserInputError("next_call_at", "a planned attention needs the next call's time")
        if a.closing_reason_id is not None:
            reason = (
                await s.execute(
                    sa.select(ClosingReason).where(ClosingReason.id == a.closing_reason_id)
                )
            ).scalar_one_or_none()
            if reason is None or not reason.active:
                raise UserInputError("closing_reason_id", "is not a closing reason")
            if reason.kind is not None and reason.kind != a.kind:
                raise UserInputError(
                    "closing_reason_id", f"{reason.name!r} is only for {reason.kind} attentions"
                )
        if status in (AttentionStatus.CLOSED, AttentionStatus.CANCELLED):
            if a.closed_at is None:
                a.closed_at = now
        else:
            a.closed_at = None
        if a.contact_id is not None and "contact_id" in changes and a.customer_id is None:
            a.customer_id = (
                await s.execute(sa.select(Contact.customer_id).where(Contact.id == a.contact_id))
            ).scalar_one_or_none()
        await enforce_required(
            s,
            "attention",
            {"kind": a.kind, **{name: getattr(a, name) for name in FORMS["attention"]}},
        )
        try:
            await s.flush()
        except IntegrityError as exc:
            raise UserInputError(
                "attention", "refused by the database: a field is not valid"
            ) from exc
        if message_id is not None:
            await finalize_by_action(s, viewer, message_id, a.id)


async def add_note(db: Database, attention_id: int, *, author_id: int, text: str) -> dict[str, Any]:
    """Append a note (notes are never edited)."""
    text = text.strip()
    if not text:
        raise UserInputError("text", "a note needs some text")
    async with db.sessions.begin() as s:
        exists = (
            await s.execute(sa.select(Attention.id).where(Attention.id == attention_id))
        ).scalar_one_or_none()
        if exists is None:
            raise UserInputError("attention", f"there is no attention {attention_id}")
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


_HISTORY_SQL = sa.text(
    """
SELECT COALESCE(json_agg(x ORDER BY x.created_at DESC), '[]'::json) FROM (
    SELECT a.id, a.kind, a.status, a.direction, a.subject, a.product, a.created_at, a.closed_at,
           a.next_call_at, COALESCE(o.full_name, o.username) AS operator,
           cr.name AS closing_reason, ct.name AS contact,
           c.answered_at, c.ended_at, c.queue,
           (SELECT COALESCE(json_agg(json_build_object(
                       'at', n.at, 'author', COALESCE(no.full_name, no.username), 'text', n.text)
                   ORDER BY n.at, n.id), '[]'::json)
            FROM attention_notes n JOIN operators no ON no.id = n.author_id
            WHERE n.attention_id = a.id) AS notes
    FROM attentions a
    LEFT JOIN operators o ON o.id = a.operator_id
    LEFT JOIN closing_reasons cr ON cr.id = a.closing_reason_id
    LEFT JOIN contacts ct ON ct.id = a.contact_id
    LEFT JOIN LATERAL (
        SELECT answered_at, ended_at, queue FROM calls WHERE calls.attention_id = a.id
        ORDER BY calls.id LIMIT 1) c ON TRUE
    WHERE (CAST(:customer AS BIGINT) IS NOT NULL AND a.customer_id = :customer)
       OR (CAST(:contact AS BIGINT) IS NOT NULL AND a.contact_id = :contact)
       OR (CAST(:suspect AS BIGINT) IS NOT NULL AND a.suspect_id = :suspect)
       OR (CAST(:prospect AS BIGINT) IS NOT NULL AND a.prospect_id = :prospect)
    ORDER BY a.created_at DESC
    LIMIT :limit) x
"""
)


PARTIES = ("customer", "contact", "suspect", "prospect")


async def history(
    db: Database, viewer: Viewer, party: str, ident: int, *, limit: int = 50
) -> dict[str, Any]:
    """The attentions (newest first, with notes and call times) of a customer, contact or lead.

    Returns ``{"attentions": [...], "masked": bool}``: contact names are masked unless ``viewer``
    may see personal data; the read is audited as one line for ``<party>:<ident>``.
    """
    if party not in PARTIES:
        raise UserInputError("party", "must be one of " + ", ".join(PARTIES))
    params: dict[str, Any] = {name: None for name in PARTIES}
    params[party] = ident
    async with db.sessions.begin() as s:
        raw = (await s.execute(_HISTORY_SQL, {**params, "limit": limit})).scalar_one()
        rows: list[dict[str, Any]] = json.loads(raw) if isinstance(raw, str) else raw
        [shown] = await show_personal(
            s, viewer, [(f"{party}:{ident}", {"attentions": rows})], HISTORY_SPEC, purpose="history"
        )
    return shown


async def next_planned_call(db: Database, operator_id: int, *, after: datetime) -> str | None:
    """When the operator's next planned call is due (the footer's "next call")."""
    async with db.sessions() as s:
        at = (
            await s.execute(
                sa.select(sa.func.min(Attention.next_call_at)).where(
                    Attention.operator_id == operator_id,
                    Attention.status == AttentionStatus.PLANNED,
                    Attention.next_call_at >= after,
                )
            )
        ).scalar_one_or_none()
    return iso(at)


# --- registering an unknown caller ------------------------------------------------------------


async def register_suspect(
    db: Database, *, name: str, company: str | None, phone: str, raw_phone: str
) -> int:
    """A new suspect with the caller's number."""
    async with db.sessions.begin() as s:
        suspect = Suspect(name=name, company=company or None)
        s.add(suspect)
        await s.flush()
        s.add(Phone(phone=phone, raw=raw_phone, suspect_id=suspect.id))
        return int(suspect.id)


async def register_contact(
    db: Database,
    *,
    customer_id: int,
    name: str,
    position: str | None,
    phone: str,
    raw_phone: str,
) -> int:
    """A new contact at an existing customer, with the caller's number."""
    async with db.sessions.begin() as s:
        found = (
            await s.execute(sa.select(Customer.id).where(Customer.id == customer_id))
        ).scalar_one_or_none()
        if found is None:
            raise UserInputError("customer_id", f"there is no customer {customer_id}")
        contact = Contact(customer_id=customer_id, name=name, position=position or None)
        s.add(contact)
        try:
            await s.flush()
        except IntegrityError:
            raise UserInputError("name", f"this customer already has a contact {name!r}") from None
        s.add(Phone(phone=phone, raw=raw_phone, contact_id=contact.id))
        return int(contact.id)


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


# --- the desk's lists -------------------------------------------------------------------------


async def desk_lists(db: Database) -> dict[str, Any]:
    """Pause reasons, closing reasons and operators (for the owner field), for the desk's forms."""
    async with db.sessions() as s:
        pauses = (
            await s.execute(
                sa.select(PauseReason.name).where(PauseReason.active).order_by(PauseReason.name)
            )
        ).scalars()
        pause_list = list(pauses)
        closing = (
            await s.execute(
                sa.select(ClosingReason.id, ClosingReason.name, ClosingReason.kind)
                .where(ClosingReason.active)
                .order_by(ClosingReason.name)
            )
        ).all()
        operators = (
            await s.execute(
                sa.select(Operator.id, sa.func.coalesce(Operator.full_name, Operator.username))
                .where(Operator.active)
                .order_by(Operator.username)
            )
        ).all()
    return {
        "pause_reasons": pause_list,
        "closing_reasons": [
            {"id": i, "name": n, "kind": str(k) if k is not None else None} for i, n, k in closing
        ],
        "operators": [{"id": i, "name": n} for i, n in operators],
    }


async def pause_reason_exists(db: Database, name: str) -> bool:
    """Whether ``name`` is an active pause reason."""
    async with db.sessions() as s:
        found = (
            await s.execute(
                sa.select(PauseReason.id).where(PauseReason.name == name, PauseReason.active)
            )
        ).scalar_one_or_none()
    return found is not None


__all__ = [
    "ATTENTION_SPEC",
    "EDITABLE",
    "HISTORY_SPEC",
    "PARTIES",
    "CallKey",
    "Party",
    "PopLookup",
    "add_note",
    "attention_detail",
    "desk_lists",
    "history",
    "link_attention_party",
    "log_end",
    "log_ring",
    "lookup_caller",
    "next_planned_call",
    "open_attention",
    "pause_reason_exists",
    "register_contact",
    "register_suspect",
    "save_attention",
]
