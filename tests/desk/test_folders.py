"""The desk's folders through the API, on a real call: the telesales folder makes a quote and an
order from the attention with the back office's endpoints (the footer's operation follows them; a
billed order is locked while MV_ALTPED is off), the collection folder records a promise to pay
against the attention, saving the attention enforces the admin's required fields and finalizes the
incoming-call message it acts on, and an operator without personal_data gets a masked pop whose
reading is audited."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from cti.app import RunningService
from cti.db.models import (
    AuditEvent,
    CallMessage,
    CallMessageSituation,
    Product,
    Receivable,
    RequiredField,
)
from cti.sim import PbxSimulator

from .conftest import Client, DeskSocket

AtDesk = Callable[..., Awaitable[tuple[Client, DeskSocket]]]


async def _answered(
    sim: PbxSimulator, client: Client, ws: DeskSocket, queue: str, number: str
) -> dict[str, Any]:
    """A caller rings ``queue``; the operator answers; the attention opened at connect."""
    sim.inbound_call(queue, number, "ACME", talk_seconds=None)
    await sim.advance(0.2)
    await ws.next("pop")
    assert (await client.post("/api/v1/desk/answer")).status == 200
    attention: dict[str, Any] = (await ws.next("attention"))["attention"]
    return attention


async def _json(resp: Any, status: int = 200) -> Any:
    data = await resp.json()
    assert resp.status == status, data
    return data


async def test_telesales_folder_quote_to_order_and_a_billed_order_is_refused(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    at_desk: AtDesk,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    async with service.runtime.db.sessions.begin() as s:
        desk = Product(code="P-DESK", name="Standing desk", unit_price=Decimal("499.00"))
        s.add(desk)
        await s.flush()
        product = desk.id
    bruno, ws = await at_desk("bruno")  # telesales, the sales queue
    attention = await _answered(sim, bruno, ws, "sales", "+12025550101")
    assert attention["kind"] == "telesales" and attention["operation"] is None

    quote = await _json(
        await bruno.post(
            "/api/v1/telesales/quotes",
            json={
                "customer_id": customers["acme"],
                "attention_id": attention["id"],
                "items": [{"product_id": product, "quantity": 2}],
            },
        ),
        201,
    )
    shown = await _json(await bruno.get(f"/api/v1/desk/attentions/{attention['id']}"))
    assert shown["operation"]["kind"] == "quote" and shown["operation"]["id"] == quote["id"]
    order = await _json(await bruno.post(f"/api/v1/telesales/quotes/{quote['id']}/order"), 201)
    assert order["attention_id"] == attention["id"] and order["editable"] is True
    # The pop looked up again: the quote is no longer open, the order is listed.
    seen = len(ws.messages)
    await _json(await bruno.post("/api/v1/desk/pop/refresh"))
    fresh = (await ws.next("pop_update", after=seen))["pop"]
    assert [q["id"] for q in fresh["quotes"]] == []
    assert [o["id"] for o in fresh["orders"]] == [order["id"]]

    sofia = await client_factory()
    assert (await sofia.login("sofia", users["sofia"])).status == 200
    await _json(
        await sofia.post(
            f"/api/v1/telesales/orders/{order['id']}/bill", json={"invoice_number": "NF-7"}
        )
    )
    # MV_ALTPED off: the folder gets every field disabled with the reason; the server refuses.
    locked = await _json(await bruno.get(f"/api/v1/telesales/orders/{order['id']}"))
    assert locked["editable"] is False
    assert locked["fields"] == {"items": False, "cancelled": False}
    assert "sales.edit_billed_orders" in locked["locked_reason"]
    refused = await bruno.patch(
        f"/api/v1/telesales/orders/{order['id']}",
        json={"items": [{"product_id": product, "quantity": 1}]},
    )
    assert refused.status == 409 and (await refused.json())["field"] == "order"

    # The footer's operation is the attention's real order, pushed when the form is saved.
    await _json(await bruno.patch(f"/api/v1/desk/attentions/{attention['id']}", json={}))
    pushed = await ws.next("attention", lambda m: m["footer"]["operation"] is not None)
    assert pushed["footer"]["operation"] == f"Order {order['id']} · billed NF-7 · 998.00"
    snap = await _json(await bruno.get("/api/v1/desk"))
    assert snap["desk"]["footer"]["operation"] == pushed["footer"]["operation"]


async def test_collection_folder_promise_against_the_attention_required_fields_and_message(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    at_desk: AtDesk,
    carla: dict[str, str],
) -> None:
    today = service.runtime.clock.now().date()
    async with service.runtime.db.sessions.begin() as s:
        s.add(
            Receivable(
                customer_id=customers["acme"],
                invoice_number="INV-9",
                due_on=today - timedelta(days=30),
                amount=Decimal("250.00"),
            )
        )
        s.add_all(
            [
                CallMessageSituation(code="PE", name="Pending", pending=True, usual_pending=True),
                CallMessageSituation(code="OK", name="Done", pending=False),
                RequiredField(form="attention", field="next_call_at"),
                # A telemarketing field: it must not stop a collection attention.
                RequiredField(form="attention", field="subject"),
            ]
        )
        await s.flush()
        carla_id = (
            await s.execute(sa.text("SELECT id FROM operators WHERE username = 'carla'"))
        ).scalar_one()
        message = CallMessage(
            created_by=carla_id,
            situation_code="PE",
            from_customer_id=customers["acme"],
            to_user_id=carla_id,
            description="Wants to settle the March invoice.",
        )
        s.add(message)
        await s.flush()
        message_id = message.id
    carla_client, ws = await at_desk("carla", password=carla["password"])
    attention = await _answered(sim, carla_client, ws, "collections", "+12025550101")
    pop = ws.of("pop")[-1]["pop"]
    assert [(r["invoice_number"], r["days_overdue"]) for r in pop["receivables"]] == [("INV-9", 30)]
    assert [m["id"] for m in pop["messages"]] == [message_id]
    assert attention["kind"] == "collection"

    promised_on = (today + timedelta(days=5)).isoformat()
    made = await _json(
        await carla_client.post(
            "/api/v1/collection/promises",
            json={
                "customer_id": customers["acme"],
                "attention_id": attention["id"],
                "promised_on": promised_on,
                "amount": "250.00",
            },
        ),
        201,
    )
    position = await _json(
        await carla_client.get(f"/api/v1/collection/customers/{customers['acme']}/position")
    )
    assert [(p["id"], p["attention_id"], p["amount"]) for p in position["promises"]] == [
        (made["id"], attention["id"], "250.00")
    ]
    # One way to record a promise: the desk's own endpoint is gone.
    gone = await carla_client.post(
        f"/api/v1/desk/attentions/{attention['id']}/promises",
        json={"promised_on": promised_on, "amount": 1},
    )
    assert gone.status in (404, 405)

    # The admin made next_call_at (and telemarketing's subject) mandatory: the save is refused
    # naming next_call_at, nothing is finalized; subject is not asked of a collection attention.
    body = {"status": "closed", "message_id": message_id}
    missing = await carla_client.patch(f"/api/v1/desk/attentions/{attention['id']}", json=body)
    problem = await _json(missing, 400)
    assert problem["field"] == "next_call_at" and "required" in problem["error"]
    async with service.runtime.db.sessions() as s:
        assert (await s.get(CallMessage, message_id)).finalized_at is None  # type: ignore[union-attr]

    next_call = (service.runtime.clock.now() + timedelta(days=5)).isoformat()
    saved = await _json(
        await carla_client.patch(
            f"/api/v1/desk/attentions/{attention['id']}", json={**body, "next_call_at": next_call}
        )
    )
    assert saved["status"] == "closed" and saved["next_call_at"] is not None
    async with service.runtime.db.sessions() as s:
        finalized = await s.get(CallMessage, message_id)
        assert finalized is not None and finalized.finalized_at is not None
        assert finalized.attention_id == attention["id"] and finalized.situation_code == "OK"
    again = await carla_client.patch(f"/api/v1/desk/attentions/{attention['id']}", json=body)
    assert again.status == 409 and (await again.json())["field"] == "message_id"


async def _audit(service: RunningService, actor: str) -> list[tuple[str, str, str]]:
    async with service.runtime.db.sessions() as s:
        rows = await s.execute(
            sa.select(AuditEvent.action, AuditEvent.subject, AuditEvent.details)
            .where(AuditEvent.actor == actor, AuditEvent.action.like("personal.%"))
            .order_by(AuditEvent.id)
        )
        return [(a, str(subj), d["purpose"]) for a, subj, d in rows.all()]


async def test_pop_history_and_attention_masked_without_personal_data_and_every_read_audited(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    at_desk: AtDesk,
) -> None:
    acme = f"customer:{customers['acme']}"
    bruno, ws = await at_desk("bruno")  # no personal_data
    attention = await _answered(sim, bruno, ws, "sales", "+12025550101")
    pop = ws.of("pop")[-1]["pop"]
    assert pop["masked"] is True
    assert pop["customer"]["name"] == "Ac** Sup*****"
    assert pop["customer"]["tax_id"] == "12-*****89"
    assert pop["match"] == {"kind": "customer", "id": customers["acme"], "label": None,
                            "name": "Ac** Sup*****"}  # fmt: skip
    assert pop["customer"]["code"] == "C001"  # not personal
    assert attention["customer"] == "Ac** Sup*****"
    history = await _json(await bruno.get(f"/api/v1/desk/history/customer/{customers['acme']}"))
    assert history["masked"] is True
    # The pop's audit line is written behind the pop, by the desk's writer task.
    # (the pop shows the call's caller id too: a line of its own)
    assert sorted(await _wait_audit(service, "bruno", 4)) == [
        ("personal.masked", f"call:{pop['linkedid']}", "screen-pop"),
        ("personal.masked", acme, "attention"),
        ("personal.masked", acme, "history"),
        ("personal.masked", acme, "screen-pop"),
    ]

    # Ana holds personal_data: she sees the contact in full, and her read is audited as such.
    _, ana_ws = await at_desk("ana")
    sim.inbound_call("support", "+12025550111", "Laura", talk_seconds=None)
    await sim.advance(0.2)
    shown = (await ana_ws.next("pop"))["pop"]
    assert shown["masked"] is False and shown["match"]["name"] == "Laura Smith"
    assert shown["customer"]["name"] == "Acme Supplies"
    assert sorted(await _wait_audit(service, "ana", 3)) == [
        ("personal.read", f"call:{shown['linkedid']}", "screen-pop"),
        ("personal.read", f"contact:{customers['laura']}", "screen-pop"),
        ("personal.read", acme, "screen-pop"),
    ]


async def _wait_audit(
    service: RunningService, actor: str, count: int
) -> list[tuple[str, str, str]]:
    """The actor's personal-data audit lines, once there are ``count`` of them (within 3 s)."""
    found: list[tuple[str, str, str]] = []
    for _ in range(300):
        found = await _audit(service, actor)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"audit lines of {actor}: {found}")
