"""API keys of service accounts: created and revoked by admins; only the secret's hash is kept.

Every request reads its key's row again, so a revoked key is refused from the next request on.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from cti.db.audit import audit_in
from cti.db.backoffice.personal import READ
from cti.db.engine import Database
from cti.db.models import ApiKey, Contact, Customer, Phone
from cti.domain.integrations import NewKey, Scope, key_hash
from cti.errors import NotFound
from cti.i18n import _


@dataclass(frozen=True, slots=True)
class KeyRow:
    """A key as admins see it (never its secret)."""

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


_COLUMNS = (
    ApiKey.id,
    ApiKey.name,
    ApiKey.prefix,
    ApiKey.scopes,
    ApiKey.created_at,
    ApiKey.revoked_at,
    ApiKey.last_used_at,
)


async def add_key(
    db: Database, name: str, scopes: tuple[Scope, ...], key: NewKey, created_by: int | None
) -> KeyRow:
    async with db.sessions.begin() as s:
        row = (
            await s.execute(
                sa.insert(ApiKey)
                .values(
                    name=name,
                    prefix=key.prefix,
                    hash=key.hash,
                    scopes=[v.value for v in scopes],
                    created_by=created_by,
                )
                .returning(*_COLUMNS)
            )
        ).one()
        return KeyRow(*row)


async def keys(db: Database) -> list[KeyRow]:
    async with db.sessions() as s:
        return [KeyRow(*r) for r in await s.execute(sa.select(*_COLUMNS).order_by(ApiKey.id))]


async def revoke(db: Database, key_id: int, now: datetime) -> None:
    async with db.sessions.begin() as s:
        done = await s.execute(
            sa.update(ApiKey)
            .where(ApiKey.id == key_id)
            .values(revoked_at=sa.func.coalesce(ApiKey.revoked_at, now))
            .returning(ApiKey.id)
        )
        if done.first() is None:
            raise NotFound(_("API key"), key_id)


@dataclass(frozen=True, slots=True)
class Caller:
    """The service account behind a request."""

    id: int
    name: str
    scopes: frozenset[str]


async def caller_of(db: Database, prefix: str, secret: str, now: datetime) -> Caller | None:
    """The live (not revoked) key of ``prefix`` whose secret is ``secret``, or None."""
    async with db.sessions.begin() as s:
        row = (
            await s.execute(
                sa.select(ApiKey.id, ApiKey.name, ApiKey.hash, ApiKey.scopes).where(
                    ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None)
                )
            )
        ).first()
        if row is None or not hmac.compare_digest(row.hash, key_hash(secret)):
            return None
        # "Last used" to the minute: a busy integration does not write on every request.
        await s.execute(
            sa.update(ApiKey)
            .where(
                ApiKey.id == row.id,
                sa.or_(
                    ApiKey.last_used_at.is_(None),
                    ApiKey.last_used_at < now - timedelta(minutes=1),
                ),
            )
            .values(last_used_at=now)
        )
        return Caller(row.id, row.name, frozenset(row.scopes))


async def still_live(db: Database, key_id: int) -> bool:
    """Whether the key has not been revoked since (a long-lived stream asks now and then)."""
    async with db.sessions() as s:
        found = await s.scalar(
            sa.select(ApiKey.id).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        )
        return found is not None


async def customers_by_phone(
    db: Database, phone: str, caller: Caller
) -> list[dict[str, str | int | None]]:
    """The customers a number belongs to (theirs, or one of their contacts'), with the audit line
    of the service account's reading (``personal.read``, purpose ``integration``), in one
    transaction."""
    owner = sa.func.coalesce(Phone.customer_id, Contact.customer_id)
    async with db.sessions.begin() as s:
        rows = await s.execute(
            sa.select(Customer.id, Customer.code, Customer.name, Customer.tax_id, Customer.email)
            .where(
                Customer.id.in_(
                    sa.select(owner)
                    .select_from(Phone)
                    .outerjoin(Contact, Contact.id == Phone.contact_id)
                    .where(Phone.phone == phone)
                )
            )
            .order_by(Customer.code)
        )
        found: list[dict[str, str | int | None]] = [dict(r._mapping) for r in rows]
        for row in found:
            await audit_in(
                s,
                f"api-key:{caller.name}",
                READ,
                f"customer:{row['id']}",
                {"purpose": "integration", "key_id": caller.id},
            )
    return found


__all__ = [
    "Caller",
    "KeyRow",
    "add_key",
    "caller_of",
    "customers_by_phone",
    "keys",
    "revoke",
    "still_live",
]
