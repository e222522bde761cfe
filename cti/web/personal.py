"""Personal data on the way out of the web layer: masked where a response or frame is serialised.

The rule (who may see personal data, how each kind of field is masked, the audit lines of a
read) lives in :mod:`cti.db.backoffice.personal` and :mod:`cti.domain.backoffice`; the back
office's records are masked by it as they are read. What the web layer builds itself from live
state or from the dialer, reports and the AMI view (the desk's pop, call and footer, a dialer
lead, a report's rows, ``/api/v1/live``, the wallboard) is kept unmasked in memory and goes out
only through here: each body is declared with the :data:`FieldSpec` of its personal fields
(in :mod:`cti.domain.backoffice`) and the parts it discloses (whose data it is, for the audit
log), and :func:`render` masks it for a viewer without the permission. :func:`respond` does the
whole of a REST answer: reads the permission, masks, writes one audit line per part, serialises.

Audit purposes are constants of the code that shows the data, never taken from a request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from cti.db.backoffice.personal import Viewer, may_see_personal, read_rows, write_reads
from cti.db.engine import Database
from cti.domain.backoffice import FieldSpec, mask_record

# (subject, record, spec): the personal fields of ``record`` shown belong to ``subject``
# (``customer:12``, ``lead:7``, ``call:1712.4``, ``report:critical``...).
Part = tuple[str, Mapping[str, Any], FieldSpec]


def render(body: Mapping[str, Any], spec: FieldSpec, *, allowed: bool) -> dict[str, Any]:
    """``body`` as a viewer with (``allowed``) or without the permission may see it (a copy)."""
    return dict(body) if allowed else mask_record(body, spec)


async def permission(db: Database, user_id: int) -> bool:
    """May the user see personal data now (read from the database: a change counts at once)."""
    async with db.sessions() as session:
        return await may_see_personal(session, user_id)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


async def disclose(db: Database, viewer: Viewer, parts: Sequence[Part], *, purpose: str) -> bool:
    """Read ``viewer``'s permission and audit the showing of ``parts``; True when unmasked."""
    allowed = await permission(db, viewer.id)
    await write_reads(db, read_rows(viewer, parts, allowed=allowed, purpose=purpose))
    return allowed


async def respond(
    db: Database,
    viewer: Viewer,
    body: Mapping[str, Any],
    spec: FieldSpec,
    parts: Sequence[Part],
    *,
    purpose: str,
    status: int = 200,
) -> web.Response:
    """A JSON answer carrying personal fields: masked unless ``viewer`` may see them, with
    ``"masked"`` added, and one audit line per part that shows a personal value."""
    allowed = await disclose(db, viewer, parts, purpose=purpose)
    shown = render(body, spec, allowed=allowed)
    shown["masked"] = not allowed
    return web.json_response(shown, status=status, dumps=_dumps)


__all__ = ["Part", "disclose", "permission", "render", "respond"]
