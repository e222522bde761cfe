"""The demo's campaigns (``cti demo``): a telesales one with its script and leads, a collection one
on the delinquent customers; part of :func:`cti.db.seed.seed_demo`."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.models import Campaign, Customer, DncEntry, Lead, Script, ScriptVersion
from cti.domain.model import CampaignKind, CampaignMode, CampaignStatus
from cti.i18n import Say, _

DEMO_PBX = "pbx1"

# A demo customer as the collection campaign dials it: phone, name, time zone, delinquent, row.
DemoDebtor = tuple[str, str, str, bool, Customer]


async def seed_campaigns(s: AsyncSession, tr: Say, *, customers: Sequence[DemoDebtor]) -> None:
    """A telesales campaign with fresh leads, its script, and a collection campaign on the
    delinquent customers, in the demo's language (``tr``)."""
    script = Script(
        name=tr(_("Spring offer")),
        body=[
            {
                "id": "greet",
                "kind": "guidance",
                "text": tr(_("Greet and confirm you are talking to the buyer.")),
            },
            {
                "id": "chairs",
                "kind": "question",
                "text": tr(_("Are you happy with your current chairs?")),
                "type": "yes_no",
                "required": True,
                "personal": True,
                "branches": {"yes": "offer"},
            },
            {
                "id": "why",
                "kind": "question",
                "text": tr(_("What bothers them about the chairs?")),
                "type": "several_of",
                "options": [tr(_("back pain")), tr(_("worn out")), tr(_("too few"))],
                # A health answer among them: personal data.
                "personal": True,
            },
            {
                "id": "offer",
                "kind": "guidance",
                "text": tr(_("Offer the standing desk at the spring price.")),
            },
            {
                "id": "interest",
                "kind": "question",
                "text": tr(_("How interested are they?")),
                "type": "one_of",
                "options": [tr(_("buys now")), tr(_("wants a quote")), tr(_("not interested"))],
                "required": True,
                # The call's outcome for the campaign, nothing about the person: not personal.
                "personal": False,
            },
        ],
    )
    s.add(script)
    await s.flush()
    s.add(ScriptVersion(script_id=script.id, version=1, body=script.body))
    windows = [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "18:00"}]
    sales = Campaign(
        name=tr(_("Spring sales")),
        kind=CampaignKind.TELESALES,
        mode=CampaignMode.PROGRESSIVE,
        status=CampaignStatus.RUNNING,
        pbx=DEMO_PBX,
        queue="sales",
        caller_id="+12025550100",
        script_id=script.id,
        ring_seconds=25,
        windows=windows,
        retry_rules={"max_attempts": 3, "after": {"busy": 600, "no_answer": 3600}},
    )
    collection = Campaign(
        name=tr(_("Overdue invoices")),
        kind=CampaignKind.COLLECTION,
        mode=CampaignMode.PREDICTIVE,
        status=CampaignStatus.RUNNING,
        pbx=DEMO_PBX,
        queue="collections",
        caller_id="+12025550100",
        ring_seconds=20,
        windows=windows,
        retry_rules={"max_attempts": 4, "after": {"busy": 900, "no_answer": 7200}},
        abandon_cap=Decimal("0.03"),
    )
    s.add_all([sales, collection])
    await s.flush()
    for k in range(20):
        s.add(
            Lead(
                campaign_id=sales.id,
                phone=f"+1202555{200 + k:04d}",
                name=tr(_("Sales lead {number}"), number=k + 1),
                timezone="America/New_York",
                priority=k % 3,
            )
        )
    for phone, name, timezone, delinquent, customer in customers:
        if delinquent:
            s.add(
                Lead(
                    campaign_id=collection.id,
                    phone=phone,
                    name=name,
                    timezone=timezone,
                    customer_id=customer.id,
                    priority=1,
                )
            )
    s.add(DncEntry(phone="+12025550219", reason=tr(_("asked not to be called"))))
