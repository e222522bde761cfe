"""The desk's softphones in Asterisk's realtime tables: issued to a signed-in desk, withdrawn when
it signs out or is taken over.

Each issue writes a new password's digest hash, so a desk that was taken over can no longer
register (its registration lapses at its next refresh: the browser refreshes well within the
aor's expiry), and nothing that could register is kept in cti's database.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from cti.db.audit import audit_in
from cti.db.engine import Database
from cti.db.models import Operator, PjsipAor, PjsipAuth, PjsipEndpoint
from cti.domain.softphone import REALM, endpoint_for, md5_credential
from cti.errors import NotFound
from cti.i18n import _


@dataclass(frozen=True, slots=True, kw_only=True)
class Issued:
    """What the desk's softphone registers with; the password is shown once, to that desk."""

    endpoint: str
    username: str
    password: str
    display_name: str


def _upsert(model: type[PjsipEndpoint | PjsipAuth | PjsipAor], **values: object) -> sa.Insert:
    stmt = pg_insert(model).values(**values)
    changed = {k: v for k, v in values.items() if k != "id"}
    return stmt.on_conflict_do_update(index_elements=["id"], set_=changed)


def simulated(*, extension: str | None, softphone: bool, name: str) -> Issued:
    """The account of a softphone on cti's simulator: nothing is written (it speaks no SIP).

    Raises:
        Refused: the user's phone is not the softphone, or they have no extension.
    """
    ep = endpoint_for(
        extension=_endpoint_name(extension), softphone=softphone, full_name=name, context=""
    )
    return Issued(endpoint=ep.id, username=ep.id, password="", display_name=ep.caller_name)


def _endpoint_name(extension: str | None) -> str | None:
    """``agent3`` of ``PJSIP/agent3`` (a signed-in user's extension is shown as its interface)."""
    return extension.split("/", 1)[1] if extension and "/" in extension else extension


async def issue(db: Database, user_id: int, *, context: str) -> Issued:
    """Write (or rewrite) the user's softphone endpoint with a fresh password.

    Raises:
        NotFound: no such user.
        Refused: the user's phone is not the softphone, or they have no extension.
    """
    password = secrets.token_urlsafe(24)
    async with db.sessions.begin() as session:
        user = await session.get(Operator, user_id)
        if user is None:
            raise NotFound(_("user"), user_id)
        ep = endpoint_for(
            extension=user.extension,
            softphone=user.softphone,
            full_name=user.full_name,
            context=context,
        )
        await session.execute(
            _upsert(
                PjsipAor,
                id=ep.id,
                max_contacts=1,
                remove_existing="yes",
                qualify_frequency=ep.qualify_seconds,
            )
        )
        await session.execute(
            _upsert(
                PjsipAuth,
                id=ep.id,
                auth_type="md5",
                username=ep.id,
                realm=REALM,
                md5_cred=md5_credential(ep.id, password),
            )
        )
        await session.execute(
            _upsert(
                PjsipEndpoint,
                id=ep.id,
                aors=ep.id,
                auth=ep.id,
                context=ep.context,
                disallow="all",
                allow=ep.codecs,
                webrtc="yes",
                dtls_auto_generate_cert="yes",
                device_state_busy_at=ep.busy_at,
                callerid=f'"{ep.caller_name}" <{ep.id}>',
            )
        )
        await audit_in(session, user.username, "softphone.issued", f"endpoint:{ep.id}")
    return Issued(endpoint=ep.id, username=ep.id, password=password, display_name=ep.caller_name)


async def withdraw(db: Database, user_id: int) -> bool:
    """Withdraw the user's softphone account: its password becomes one nobody knows (the endpoint
    stays, so Asterisk still knows the interface and answers a REGISTER with a challenge that
    cannot be met). Whether there was an account."""
    async with db.sessions.begin() as session:
        user = await session.get(Operator, user_id)
        if user is None or not user.softphone or not user.extension:
            return False
        nobody_knows = md5_credential(user.extension, secrets.token_urlsafe(24))
        changed = await session.execute(
            sa.update(PjsipAuth)
            .where(PjsipAuth.id == user.extension)
            .values(md5_cred=nobody_knows)
            .returning(PjsipAuth.id)
        )
        if changed.first() is None:
            return False
        await audit_in(session, user.username, "softphone.withdrawn", f"endpoint:{user.extension}")
        return True
