"""A preview lead and a dialer call's lead are personal data: masked without personal_data, every
reading audited, shown only to the agents the campaign or the call is for."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from cti.app import RunningService
from cti.db.models import Attempt, AuditEvent, Call, Lead, Operator
from cti.db.users import add_user
from cti.domain.model import CampaignMode, Direction
from tests.dialer_service.conftest import lead_rows, make_campaign
from tests.web.conftest import Client, client_factory, service, users

__all__ = ["client_factory", "service", "users"]

Clients = Callable[[], Awaitable[Client]]


async def _signed_in(client_factory: Clients, username: str, password: str) -> Client:
    client = await client_factory()
    resp = await client.login(username, password)
    assert resp.status == 200, await resp.text()
    return client


async def _lead(service: RunningService, campaign_id: int, phone: str, name: str) -> int:
    async with service.runtime.db.sessions.begin() as s:
        lead = Lead(campaign_id=campaign_id, phone=phone, name=name)
        s.add(lead)
        await s.flush()
        return int(lead.id)


async def _audit(service: RunningService, actor: str) -> list[tuple[str, str, str]]:
    async with service.runtime.db.sessions() as s:
        rows = await s.execute(
            sa.select(AuditEvent.action, AuditEvent.subject, AuditEvent.details)
            .where(AuditEvent.actor == actor, AuditEvent.action.like("personal.%"))
            .order_by(AuditEvent.id)
        )
        return [(a, str(subj), d["purpose"]) for a, subj, d in rows.all()]


async def _carol(service: RunningService) -> None:
    await add_user(
        service.runtime.db,
        username="carol",
        password="carol-secret-1",
        role="operator",
        routines=["telesales"],
        extension="PJSIP/agent3",
    )


async def test_preview_next_masks_the_lead_without_personal_data_and_audits_it(
    service: RunningService, users: dict[str, str], client_factory: Clients
) -> None:
    sales = await make_campaign(service.runtime.db, mode=CampaignMode.PREVIEW, queue="sales")
    lead = await _lead(service, sales, "+12025550161", "Olga Pereira")
    bruno = await _signed_in(client_factory, "bruno", users["bruno"])  # sales, no personal_data
    got = await (await bruno.post(f"api/v1/campaigns/{sales}/preview/next")).json()
    assert got["masked"] is True
    assert got["lead"]["lead"]["name"] == "Ol** Per****"
    assert got["lead"]["lead"]["phone"] == "+12025****61"
    assert "Olga" not in str(got) and "5550161" not in str(got)
    assert await _audit(service, "bruno") == [("personal.masked", f"lead:{lead}", "preview")]

    support = await make_campaign(
        service.runtime.db, mode=CampaignMode.PREVIEW, queue="support", name="Care"
    )
    other = await _lead(service, support, "+12025550162", "Paulo Reis")
    ana = await _signed_in(client_factory, "ana", users["ana"])  # support, personal_data
    got = await (await ana.post(f"api/v1/campaigns/{support}/preview/next")).json()
    assert got["masked"] is False and got["lead"]["lead"]["name"] == "Paulo Reis"
    assert await _audit(service, "ana") == [("personal.read", f"lead:{other}", "preview")]


async def test_preview_is_for_the_campaigns_queue_and_skip_for_the_reserving_agent(
    service: RunningService, users: dict[str, str], client_factory: Clients
) -> None:
    db = service.runtime.db
    await _carol(service)
    sales = await make_campaign(db, mode=CampaignMode.PREVIEW, queue="sales")
    await _lead(service, sales, "+12025550161", "Olga Pereira")
    ana = await _signed_in(client_factory, "ana", users["ana"])  # support only
    resp = await ana.post(f"api/v1/campaigns/{sales}/preview/next")
    assert resp.status == 403 and (await resp.json())["field"] == "campaign"
    assert (await lead_rows(db, sales))["+12025550161"]["status"] == "new", "nothing reserved"

    bruno = await _signed_in(client_factory, "bruno", users["bruno"])
    reserved = (await (await bruno.post(f"api/v1/campaigns/{sales}/preview/next")).json())["lead"]
    lead = reserved["lead"]["id"]
    resp = await ana.post(f"api/v1/campaigns/{sales}/preview/{lead}/skip")
    assert resp.status == 403
    carol = await _signed_in(client_factory, "carol", "carol-secret-1")  # sales too
    resp = await carol.post(f"api/v1/campaigns/{sales}/preview/{lead}/skip")
    assert resp.status == 409 and (await resp.json())["field"] == "lead"
    resp = await carol.post(f"api/v1/campaigns/{sales}/preview/{lead}/dial")
    assert resp.status == 409
    assert (await lead_rows(db, sales))["+12025550161"]["status"] == "dialing", "still bruno's"
    resp = await bruno.post(f"api/v1/campaigns/{sales}/preview/{lead}/skip")
    assert resp.status == 200, await resp.text()


async def test_a_dialer_calls_lead_is_for_its_agent_and_supervisors(
    service: RunningService, users: dict[str, str], client_factory: Clients
) -> None:
    db = service.runtime.db
    await _carol(service)
    await add_user(
        db, username="vera", password="vera-secret-1", role="supervisor", personal_data=True
    )
    sales = await make_campaign(db, mode=CampaignMode.PROGRESSIVE, queue="sales")
    lead = await _lead(service, sales, "+12025550161", "Olga Pereira")
    linkedid = "1767614400.42"
    async with db.sessions.begin() as s:
        bruno_id = await s.scalar(sa.select(Operator.id).where(Operator.username == "bruno"))
        now = datetime.now(UTC)
        s.add(
            Attempt(
                lead_id=lead, campaign_id=sales, action_id="a-1", started_at=now, linkedid=linkedid
            )
        )
        s.add(
            Call(
                pbx="pbx1",
                uniqueid="1767614400.43",
                linkedid=linkedid,
                operator_id=bruno_id,
                direction=Direction.OUTBOUND,
                ring_at=now,
            )
        )
    path = f"api/v1/dialer/calls/{linkedid}"
    carol = await _signed_in(client_factory, "carol", "carol-secret-1")
    resp = await carol.get(path)
    assert resp.status == 404 and "Olga" not in await resp.text()
    assert await _audit(service, "carol") == []

    bruno = await _signed_in(client_factory, "bruno", users["bruno"])
    got = await (await bruno.get(path)).json()
    assert got["masked"] is True and got["lead"]["name"] == "Ol** Per****"
    assert got["lead"]["phone"] == "+12025****61"
    sofia = await _signed_in(client_factory, "sofia", users["sofia"])  # no personal_data
    assert (await (await sofia.get(path)).json())["lead"]["name"] == "Ol** Per****"
    vera = await _signed_in(client_factory, "vera", "vera-secret-1")
    assert (await (await vera.get(path)).json())["lead"]["name"] == "Olga Pereira"
    for who, action in (("bruno", "masked"), ("sofia", "masked"), ("vera", "read")):
        assert await _audit(service, who) == [(f"personal.{action}", f"lead:{lead}", "dialer call")]
