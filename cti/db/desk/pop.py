"""The screen-pop: everything the desk shows about a caller, in one SQL statement.

The screen-pop is on the hot path (a queue rings an agent, the pop must reach the browser in a few
milliseconds), so :func:`lookup_caller` is one SQL statement: PostgreSQL finds the caller by the
indexed normalised phone and builds the whole pop (who, last attentions, open receivables, open
quotes and orders, pending incoming-call messages) as one JSON document.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import date
from typing import Any

from cti.db.backoffice.personal import PERMISSION_SQL
from cti.db.desk.tickets import ATTENTION_SUBJECT_SQL
from cti.db.direct import args, positional
from cti.db.engine import Database

log = logging.getLogger(__name__)

_POP_TEXT, _POP_NAMES = positional(
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
            SELECT a.id, a.kind, a.status, a.direction, """
    + ATTENTION_SUBJECT_SQL
    + """ AS subject,
                   a.created_at, a.closed_at,
                   a.next_call_at, o.full_name AS operator, cr.name AS closing_reason
            FROM (
                -- The newest few of each party's attentions, each by its own index: one
                -- condition ORing the four walked the whole table, newest first, to find them.
                (SELECT id FROM attentions WHERE customer_id = (SELECT cust_id FROM who)
                 ORDER BY created_at DESC LIMIT :attentions)
                UNION
                (SELECT id FROM attentions WHERE contact_id = (SELECT contact_id FROM who)
                 ORDER BY created_at DESC LIMIT :attentions)
                UNION
                (SELECT id FROM attentions WHERE suspect_id = (SELECT suspect_id FROM who)
                 ORDER BY created_at DESC LIMIT :attentions)
                UNION
                (SELECT id FROM attentions WHERE prospect_id = (SELECT prospect_id FROM who)
                 ORDER BY created_at DESC LIMIT :attentions)
            ) picked
            JOIN attentions a ON a.id = picked.id
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
            FROM (
                -- By the index of each way a message names who it is from, as above.
                SELECT id FROM call_messages WHERE from_customer_id = (SELECT cust_id FROM who)
                UNION
                SELECT id FROM call_messages WHERE from_contact_id = (SELECT contact_id FROM who)
                UNION
                SELECT id FROM call_messages WHERE from_phone = :phone
            ) picked
            JOIN call_messages m ON m.id = picked.id AND m.finalized_at IS NULL
            JOIN call_message_situations st ON st.code = m.situation_code AND st.pending
            LEFT JOIN call_message_types ty ON ty.code = m.type_code
            ORDER BY m.created_at
            LIMIT 20) x)
) AS pop
"""
)


class PopLookup:
    """A few connections kept for screen-pops alone (:class:`cti.db.direct.Direct`): a pop is one
    round trip, and never waits behind the call log's writes."""

    def __init__(self, db: Database, *, size: int = 4) -> None:
        self._direct = db.direct.another(size)
        self._warming: asyncio.Task[None] | None = None

    def start(self, today: date) -> None:
        """Open the connections and plan the pop on each in the background, before the first call
        rings (the first pops after a start took 15-30 ms for that, against 3 ms)."""
        self._warming = asyncio.get_running_loop().create_task(self._warm(today), name="pop-warm")

    async def _warm(self, today: date) -> None:
        # The lookup of a number nobody has, on every connection.
        params = {
            "viewer": 0,
            "phone": "",
            "today": today,
            "collection": False,
            "sales": False,
            "attentions": 1,
        }
        try:
            await self._direct.warm(_POP_TEXT, *args(_POP_NAMES, params))
        except Exception as exc:  # the database not up yet: the first pops open them
            log.warning("screen-pop connections not opened ahead: %s", type(exc).__name__)

    async def run(self, params: dict[str, Any]) -> Any:
        """The pop query's one value for ``params``."""
        return await self._direct.fetchval(_POP_TEXT, *args(_POP_NAMES, params))

    async def close(self) -> None:
        if self._warming is not None:
            self._warming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._warming
        await self._direct.close()


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
        raw = await db.direct.fetchval(_POP_TEXT, *args(_POP_NAMES, params))
    found: dict[str, Any] = json.loads(raw) if isinstance(raw, str) else raw
    match = found.get("match")
    customer = found.get("customer")
    if match is not None and match.get("kind") == "customer" and customer is not None:
        match["name"] = customer["name"]
    return found


__all__ = ["PopLookup", "lookup_caller"]
