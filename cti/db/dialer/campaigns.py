"""Campaigns: reading them as the dialer does, their status, form and pacing, and the leads of a
collection campaign built from overdue receivables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from cti.db.audit import audit_in
from cti.db.engine import Database
from cti.db.models import (
    Campaign,
    Customer,
    Lead,
    PaymentPlan,
    PaymentPromise,
    Phone,
    Receivable,
    Script,
)
from cti.domain.campaigns import (
    CAMPAIGN_FIELDS,
    check_campaign_fields,
    check_collection,
    check_status_move,
)
from cti.domain.model import (
    CampaignKind,
    CampaignMode,
    CampaignStatus,
    PromiseStatus,
)
from cti.errors import NotFound, UserInputError
from cti.i18n import _


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignRow:
    """A campaign as the dialer reads it."""

    id: int
    name: str
    kind: CampaignKind
    mode: CampaignMode
    status: CampaignStatus
    pbx: str | None
    queue: str
    caller_id: str | None
    script_id: int | None
    ring_seconds: int
    # The stored JSON, read by cti.domain.compliance.parse_windows and retry.policy_from_json.
    windows: object
    retry_rules: object
    abandon_cap: float | None
    timezone: str | None = None
    amd: bool = False
    record: bool = True
    pacing: Mapping[str, float] | None = None
    # The dialer's saved measurements (``cti.domain.pacing.snapshot``); empty when none.
    estimates: Mapping[str, float] | None = None


def _campaign_row(c: Campaign) -> CampaignRow:
    return CampaignRow(
        id=c.id,
        name=c.name,
        kind=c.kind,
        mode=c.mode,
        status=c.status,
        pbx=c.pbx,
        queue=c.queue,
        caller_id=c.caller_id,
        script_id=c.script_id,
        ring_seconds=c.ring_seconds,
        windows=c.windows,
        retry_rules=c.retry_rules,
        abandon_cap=float(c.abandon_cap) if c.abandon_cap is not None else None,
        timezone=c.timezone,
        amd=c.amd,
        record=c.record,
        pacing={str(k): float(v) for k, v in (c.pacing or {}).items()},
        estimates=_numbers(c.pacing_estimates),
    )


def _numbers(data: object) -> dict[str, float]:
    """A JSON object's numeric entries (anything else is left out)."""
    if not isinstance(data, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in data.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


async def campaigns(
    db: Database, *, statuses: Sequence[CampaignStatus] | None = None
) -> list[CampaignRow]:
    """Campaigns by id, optionally only those in ``statuses``."""
    stmt = sa.select(Campaign).order_by(Campaign.id)
    if statuses is not None:
        stmt = stmt.where(Campaign.status.in_(list(statuses)))
    async with db.sessions() as s:
        return [_campaign_row(c) for c in (await s.scalars(stmt)).all()]


async def campaign(db: Database, campaign_id: int) -> CampaignRow:
    """One campaign.

    Raises:
        NotFound: there is no such campaign.
    """
    async with db.sessions() as s:
        c = await s.get(Campaign, campaign_id)
        if c is None:
            raise NotFound(_("campaign"), campaign_id)
        return _campaign_row(c)


async def set_status(
    db: Database, campaign_id: int, status: CampaignStatus, *, actor: str
) -> CampaignRow:
    """Start (``running``), pause or stop (``finished``) a campaign; audited as ``campaign.<status>``.

    Raises:
        NotFound: no such campaign.
        Refused: a finished campaign cannot run again.
    """
    async with db.sessions.begin() as s:
        c = await s.get(Campaign, campaign_id, with_for_update=True)
        if c is None:
            raise NotFound(_("campaign"), campaign_id)
        check_status_move(c.status, status)
        before = c.status
        c.status = status
        await audit_in(
            s,
            actor,
            f"campaign.{status.value}",
            f"campaign:{campaign_id}",
            {"from": before.value, "to": status.value},
        )
        await s.flush()
        return _campaign_row(c)


async def save_campaign(
    db: Database, campaign_id: int | None, values: Mapping[str, Any], *, actor: str
) -> CampaignRow:
    """Create (``campaign_id`` None, as a draft) or change a campaign; audited.

    ``values`` were checked by the caller (windows, retry rules, zone); the database checks the
    rest (a unique name, a ring time of at least 15 s, a cap between 0 and 1).

    Raises:
        NotFound: no such campaign.
        UserInputError: the name is taken, or the database refused a value (named).
    """
    check_campaign_fields(values)
    async with db.sessions.begin() as s:
        if "name" in values:
            clash = await s.scalar(
                sa.select(Campaign.id).where(
                    Campaign.name == values["name"], Campaign.id != (campaign_id or 0)
                )
            )
            if clash is not None:
                raise UserInputError(
                    "name", _("a campaign is already called {name!r}"), name=values["name"]
                )
        script_id = values.get("script_id")
        if script_id is not None and await s.get(Script, script_id) is None:
            raise UserInputError(
                "script_id", _("there is no script {script_id}"), script_id=script_id
            )
        if campaign_id is None:
            c = Campaign(status=CampaignStatus.DRAFT, **values)
            s.add(c)
            action = "campaign.created"
        else:
            found = await s.get(Campaign, campaign_id, with_for_update=True)
            if found is None:
                raise NotFound(_("campaign"), campaign_id)
            c = found
            for name, value in values.items():
                setattr(c, name, value)
            action = "campaign.changed"
        try:
            await s.flush()
        except IntegrityError as exc:
            text = str(exc.orig)
            field = next(
                (f for f in ("ring_seconds", "abandon_cap", "name") if f in text), "campaign"
            )
            raise UserInputError(field, _("refused by the database: not a valid value")) from exc
        await audit_in(
            s,
            actor,
            action,
            f"campaign:{c.id}",
            {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()},
        )
        return _campaign_row(c)


async def set_pacing(
    db: Database,
    campaign_id: int,
    *,
    actor: str,
    mode: CampaignMode | None,
    abandon_cap: float | None,
    knobs: dict[str, float],
) -> CampaignRow:
    """Change a campaign's pacing: the mode, the cap and the knobs (``campaigns.pacing``) are stored
    on the campaign; every change is audited as ``campaign.pacing``.
    """
    async with db.sessions.begin() as s:
        c = await s.get(Campaign, campaign_id, with_for_update=True)
        if c is None:
            raise NotFound(_("campaign"), campaign_id)
        if mode is not None:
            c.mode = mode
        if abandon_cap is not None:
            c.abandon_cap = Decimal(str(round(abandon_cap, 4)))
        c.pacing = dict(knobs)
        details: dict[str, Any] = {"knobs": knobs}
        if mode is not None:
            details["mode"] = mode.value
        if abandon_cap is not None:
            details["abandon_cap"] = abandon_cap
        await audit_in(s, actor, "campaign.pacing", f"campaign:{campaign_id}", details)
        await s.flush()
        return _campaign_row(c)


async def save_estimates(db: Database, estimates: Mapping[int, Mapping[str, float]]) -> None:
    """Store the dialer's measurements of each campaign (``{campaign id: numbers}``), replacing
    what was saved; not audited (the dialer's working state, written every few seconds)."""
    if not estimates:
        return
    async with db.sessions.begin() as s:
        for campaign_id, numbers in estimates.items():
            await s.execute(
                sa.update(Campaign)
                .where(Campaign.id == campaign_id)
                .values(pacing_estimates=dict(numbers))
            )


# --- collection campaigns -----------------------------------------------------------------------


async def build_collection_leads(
    db: Database,
    campaign_id: int,
    *,
    today: date,
    min_overdue_days: int,
    min_amount: Decimal,
    actor: str,
) -> int:
    """Add a lead per customer owing at least ``min_amount`` on invoices overdue by at least
    ``min_overdue_days``, with no open promise to pay and no open plan, reached at the customer's
    first phone number. Customers already in the campaign are left as they are. Returns how many
    leads were added.

    Raises:
        NotFound: no such campaign.
        Refused: the campaign is not a collection campaign.
    """
    cutoff = today - timedelta(days=min_overdue_days)
    async with db.sessions.begin() as s:
        c = await s.get(Campaign, campaign_id)
        if c is None:
            raise NotFound(_("campaign"), campaign_id)
        check_collection(c.kind)
        owed = (
            sa.select(Receivable.customer_id, sa.func.sum(Receivable.amount).label("owed"))
            .where(Receivable.paid.is_(False), Receivable.due_on <= cutoff)
            .group_by(Receivable.customer_id)
            .having(sa.func.sum(Receivable.amount) >= min_amount)
            .subquery()
        )
        first_phone = (
            sa.select(Phone.phone)
            .where(Phone.customer_id == Customer.id)
            .order_by(Phone.id)
            .limit(1)
            .scalar_subquery()
        )
        open_promise = sa.exists().where(
            PaymentPromise.customer_id == Customer.id, PaymentPromise.status == PromiseStatus.OPEN
        )
        open_plan = sa.exists().where(
            PaymentPlan.customer_id == Customer.id, PaymentPlan.status == PromiseStatus.OPEN
        )
        rows = await s.execute(
            sa.select(Customer.id, Customer.name, Customer.timezone, first_phone.label("phone"))
            .join(owed, owed.c.customer_id == Customer.id)
            .where(~open_promise, ~open_plan)
            .order_by(owed.c.owed.desc(), Customer.id)
        )
        values = [
            {
                "campaign_id": campaign_id,
                "phone": r.phone,
                "name": r.name,
                "timezone": r.timezone,
                "customer_id": r.id,
            }
            for r in rows.all()
            if r.phone
        ]
        added = 0
        if values:
            result = await s.execute(
                pg_insert(Lead)
                .values(values)
                .on_conflict_do_nothing(index_elements=["campaign_id", "phone"])
                .returning(Lead.id)
            )
            added = len(result.all())
        await audit_in(
            s,
            actor,
            "campaign.build_collection",
            f"campaign:{campaign_id}",
            {
                "min_overdue_days": min_overdue_days,
                "min_amount": str(min_amount),
                "today": today.isoformat(),
                "added": added,
            },
        )
        return added


__all__ = [
    "CAMPAIGN_FIELDS",
    "CampaignRow",
    "build_collection_leads",
    "campaign",
    "campaigns",
    "save_campaign",
    "set_pacing",
    "set_status",
]
