"""The history of a customer, contact or lead (their attentions, newest first)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from cti.db.backoffice.personal import Viewer, show_personal
from cti.db.desk.attentions import HISTORY_SPEC
from cti.db.desk.tickets import ATTENTION_SUBJECT_SQL
from cti.db.engine import Database
from cti.domain.attentions import PARTIES, check_party

_HISTORY_SQL = sa.text(
    f"""
SELECT COALESCE(json_agg(x ORDER BY x.created_at DESC), '[]'::json) FROM (
    SELECT a.id, a.kind, a.status, a.direction,
           {ATTENTION_SUBJECT_SQL} AS subject,
           COALESCE(a.product, (SELECT ti.product FROM ticket_items ti
                                WHERE ti.attention_id = a.id AND ti.product IS NOT NULL
                                ORDER BY ti.seq LIMIT 1)) AS product,
           a.created_at, a.closed_at,
           a.next_call_at, COALESCE(o.full_name, o.username) AS operator,
           cr.name AS closing_reason, ct.name AS contact,
           c.answered_at, c.ended_at, c.queue, c.recording_id,
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
        SELECT calls.answered_at, calls.ended_at, calls.queue, r.id AS recording_id
        FROM calls LEFT JOIN recordings r ON r.call_id = calls.id
        WHERE calls.attention_id = a.id
        ORDER BY calls.id LIMIT 1) c ON TRUE
    WHERE (CAST(:customer AS BIGINT) IS NOT NULL AND a.customer_id = :customer)
       OR (CAST(:contact AS BIGINT) IS NOT NULL AND a.contact_id = :contact)
       OR (CAST(:suspect AS BIGINT) IS NOT NULL AND a.suspect_id = :suspect)
       OR (CAST(:prospect AS BIGINT) IS NOT NULL AND a.prospect_id = :prospect)
    ORDER BY a.created_at DESC
    LIMIT :limit) x
"""
)


async def history(
    db: Database, viewer: Viewer, party: str, ident: int, *, limit: int = 50
) -> dict[str, Any]:
    """The attentions (newest first, with notes and call times) of a customer, contact or lead.

    Returns ``{"attentions": [...], "masked": bool}``: contact names are masked unless ``viewer``
    may see personal data; the read is audited as one line for ``<party>:<ident>``.
    """
    check_party(party)
    params: dict[str, Any] = {name: None for name in PARTIES}
    params[party] = ident
    async with db.sessions.begin() as s:
        raw = (await s.execute(_HISTORY_SQL, {**params, "limit": limit})).scalar_one()
        rows: list[dict[str, Any]] = json.loads(raw) if isinstance(raw, str) else raw
        [shown] = await show_personal(
            s, viewer, [(f"{party}:{ident}", {"attentions": rows})], HISTORY_SPEC, purpose="history"
        )
    return shown


__all__ = ["PARTIES", "history"]
