"""Telemarketing tickets over HTTP against PostgreSQL (seed 003): an admin keeps the catalogues
(subject -> occurrence -> action, audited); saving an attention confirms its new items, and each
item's action sets the status of that item's child ticket, never the attention's (the parent's);
an action flagged for it makes a numbered service order shown on the item; with
telemarketing.nonconformity_integration (MV_QLYXCAL) on, an action flagged for it raises a
potential non-conformity the quality team lists with its source ticket, and off it raises none."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import sqlalchemy as sa

from cti.app import RunningService
from cti.config import TelemarketingSettings
from cti.db.desk.pop import lookup_caller
from cti.db.models import Attention, AuditEvent, NonConformity, Operator, Phone, TicketItem
from cti.domain.model import AttentionKind, AttentionStatus, Direction

from .conftest import Client, Login, ServiceWith, body, logins_for


async def _attention(
    svc: RunningService, operator: str, kind: AttentionKind, customer_id: int | None = None
) -> int:
    """A pending attention of ``operator`` (the parent ticket)."""
    async with svc.runtime.db.sessions.begin() as s:
        oid = await s.scalar(sa.select(Operator.id).where(Operator.username == operator))
        a = Attention(
            kind=kind, direction=Direction.INBOUND, operator_id=oid, customer_id=customer_id
        )
        s.add(a)
        await s.flush()
        return a.id


async def _catalogue(admin: Client) -> dict[str, Any]:
    """Complaint -> Damaged delivery -> three actions."""
    subject = await body(
        await admin.post("/api/v1/config/ticket-subjects", {"name": "Complaint"}), 201
    )
    occurrence = await body(
        await admin.post(
            "/api/v1/config/ticket-occurrences",
            {"subject_id": subject["id"], "name": "Damaged delivery"},
        ),
        201,
    )
    actions = {}
    for name, sets, order, nc in (
        ("Send a technician", "in_progress", True, False),
        ("Replace the product", "done", False, True),
        ("Refund", "done", False, False),
    ):
        actions[name] = await body(
            await admin.post(
                "/api/v1/config/ticket-actions",
                {
                    "occurrence_id": occurrence["id"],
                    "name": name,
                    "sets_status": sets,
                    "service_order": order,
                    "nonconformity": nc,
                },
            ),
            201,
        )
    return {"subject": subject, "occurrence": occurrence, "actions": actions}


def _item(cat: dict[str, Any], action: str, **extra: Any) -> dict[str, Any]:
    return {
        "subject_id": cat["subject"]["id"],
        "occurrence_id": cat["occurrence"]["id"],
        "action_id": cat["actions"][action]["id"],
        **extra,
    }


async def test_an_items_action_sets_its_child_ticket_never_the_parent_and_shows_its_service_order(
    backoffice: RunningService, login: Login
) -> None:
    admin, ana = await login("admin"), await login("ana")
    cat = await _catalogue(admin)
    ident = await _attention(backoffice, "ana", AttentionKind.TELEMARKETING)

    saved = await body(
        await ana.patch(
            f"/api/v1/desk/attentions/{ident}",
            {
                "items": [
                    _item(cat, "Refund", product="Standing desk", action_date="2026-03-03"),
                    _item(cat, "Send a technician"),
                ]
            },
        )
    )
    # The parent ticket (the attention) keeps its status; each child takes its action's.
    assert saved["status"] == "pending"
    refund, technician = saved["items"]
    assert (refund["number"], refund["status"], refund["product"]) == (
        f"{ident}-1",
        "done",
        "Standing desk",
    )
    assert (refund["subject"], refund["occurrence"], refund["action"]) == (
        "Complaint",
        "Damaged delivery",
        "Refund",
    )
    assert refund["service_order"] is None and refund["confirmed_at"] is not None
    assert (technician["number"], technician["status"]) == (f"{ident}-2", "in_progress")
    assert re.fullmatch(r"OS-\d{6}", technician["service_order"])
    # Read back: the same, and the database agrees.
    shown = await body(await ana.get(f"/api/v1/desk/attentions/{ident}"))
    assert shown["items"] == saved["items"] and shown["status"] == "pending"
    async with backoffice.runtime.db.sessions() as s:
        parent = await s.get(Attention, ident)
        assert parent is not None and parent.status is AttentionStatus.PENDING

    # Closing the attention is the form's doing; a later item is its own child ticket.
    closed = await body(
        await ana.patch(
            f"/api/v1/desk/attentions/{ident}",
            {"status": "closed", "items": [_item(cat, "Send a technician")]},
        )
    )
    assert closed["status"] == "closed"
    assert [(i["number"], i["status"]) for i in closed["items"]] == [
        (f"{ident}-1", "done"),
        (f"{ident}-2", "in_progress"),
        (f"{ident}-3", "in_progress"),
    ]
    orders = [i["service_order"] for i in closed["items"][1:]]
    assert len(set(orders)) == 2, "each item its own service order"

    # The catalogue's changes were audited.
    async with backoffice.runtime.db.sessions() as s:
        actions = set(
            await s.scalars(sa.select(AuditEvent.action).where(AuditEvent.actor == "admin"))
        )
    assert {
        "config.ticket-subjects",
        "config.ticket-occurrences",
        "config.ticket-actions",
    } <= actions


async def test_a_wrong_item_is_refused_naming_its_field_and_nothing_is_written(
    backoffice: RunningService, login: Login
) -> None:
    admin, ana = await login("admin"), await login("ana")
    cat = await _catalogue(admin)
    other = await body(
        await admin.post(
            "/api/v1/config/ticket-occurrences",
            {"subject_id": cat["subject"]["id"], "name": "Late delivery"},
        ),
        201,
    )
    ident = await _attention(backoffice, "ana", AttentionKind.TELEMARKETING)
    cases = [
        ({"items": [_item(cat, "Refund", occurrence_id=other["id"])]}, "items[0].action_id"),
        ({"items": [_item(cat, "Refund", subject_id=999999)]}, "items[0].occurrence_id"),
        ({"items": [_item(cat, "Refund", action_id=999999)]}, "items[0].action_id"),
        (
            {"items": [_item(cat, "Refund"), _item(cat, "Refund", owner_id=999999)]},
            "items[1].owner_id",
        ),
        ({"items": [{"subject_id": cat["subject"]["id"]}]}, "items[0].occurrence_id"),
    ]
    for sent, field in cases:
        problem = await body(
            await ana.patch(f"/api/v1/desk/attentions/{ident}", {"status": "closed", **sent}), 400
        )
        assert problem["field"] == field, (sent, problem)
    telesales = await _attention(backoffice, "ana", AttentionKind.TELESALES)
    problem = await body(
        await ana.patch(f"/api/v1/desk/attentions/{telesales}", {"items": [_item(cat, "Refund")]}),
        400,
    )
    assert problem["field"] == "items"
    # A retired action is no longer offered.
    await body(
        await admin.patch(
            f"/api/v1/config/ticket-actions/{cat['actions']['Refund']['id']}", {"active": False}
        )
    )
    problem = await body(
        await ana.patch(f"/api/v1/desk/attentions/{ident}", {"items": [_item(cat, "Refund")]}), 400
    )
    assert problem["field"] == "items[0].action_id"
    # An occurrence of a subject that does not exist is refused by name, too.
    problem = await body(
        await admin.post(
            "/api/v1/config/ticket-occurrences", {"subject_id": 999999, "name": "Lost"}
        ),
        400,
    )
    assert problem["field"] == "subject_id"
    async with backoffice.runtime.db.sessions() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(TicketItem)) == 0
        parent = await s.get(Attention, ident)
        assert parent is not None and parent.status is AttentionStatus.PENDING


async def confirm_a_flagged_item(
    svc: RunningService,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Confirm a "Replace the product" item (flagged for a non-conformity) on ``svc``: the item as
    answered and the quality team's list."""
    async with logins_for(svc) as login:
        admin, ana, sofia = await login("admin"), await login("ana"), await login("sofia")
        cat = await _catalogue(admin)
        ident = await _attention(svc, "ana", AttentionKind.TELEMARKETING)
        saved = await body(
            await ana.patch(
                f"/api/v1/desk/attentions/{ident}",
                {"items": [_item(cat, "Replace the product", product="Office chair")]},
            )
        )
        listed = await body(await sofia.get("/api/v1/nonconformities"))
    [item] = saved["items"]
    assert item["status"] == "done"
    return item, listed["nonconformities"]


async def test_with_the_nonconformity_integration_on_a_flagged_action_raises_a_potential_one(
    backoffice_with: ServiceWith,
) -> None:
    on = TelemarketingSettings(nonconformity_integration=True)
    async with backoffice_with(telemarketing=on) as svc:
        item, listed = await confirm_a_flagged_item(svc)
        [nc] = listed
        assert item["nonconformity_id"] == nc["id"]
        assert nc["status"] == "potential"
        assert (nc["attention_id"], nc["ticket_item_id"], nc["child_number"]) == (
            int(item["number"].split("-")[0]),
            item["id"],
            item["number"],
        )
        assert nc["description"] == (
            "Complaint (Office chair): Damaged delivery. Action: Replace the product."
        )
        async with svc.runtime.db.sessions() as s:
            ana = await s.scalar(sa.select(Operator.full_name).where(Operator.username == "ana"))
        assert nc["occurred_on"] == "2026-03-02" and nc["operator"] == ana


async def test_with_the_nonconformity_integration_off_no_nonconformity_is_raised(
    backoffice_with: ServiceWith,
) -> None:
    async with backoffice_with() as svc:
        assert svc.runtime.settings.telemarketing.nonconformity_integration is False
        item, listed = await confirm_a_flagged_item(svc)
        assert item["nonconformity_id"] is None and listed == []
        async with svc.runtime.db.sessions() as s:
            assert await s.scalar(sa.select(sa.func.count()).select_from(NonConformity)) == 0


async def test_an_item_fills_the_subject_an_admin_made_required(
    backoffice: RunningService, login: Login
) -> None:
    admin, ana = await login("admin"), await login("ana")
    cat = await _catalogue(admin)
    await body(await admin.put("/api/v1/config/required-fields/attention", {"fields": ["subject"]}))
    ident = await _attention(backoffice, "ana", AttentionKind.TELEMARKETING)
    problem = await body(
        await ana.patch(f"/api/v1/desk/attentions/{ident}", {"status": "closed"}), 400
    )
    assert problem["field"] == "subject"
    saved = await body(
        await ana.patch(
            f"/api/v1/desk/attentions/{ident}",
            {"status": "closed", "items": [_item(cat, "Refund")]},
        )
    )
    assert saved["status"] == "closed" and saved["subject"] is None
    # Saved again without new items: the first item still fills it.
    again = await body(await ana.patch(f"/api/v1/desk/attentions/{ident}", {"status": "closed"}))
    assert [i["number"] for i in again["items"]] == [f"{ident}-1"]


async def test_the_history_and_the_pop_name_a_ticket_by_its_first_items_subject(
    backoffice: RunningService, login: Login
) -> None:
    admin, ana = await login("admin"), await login("ana")
    cat = await _catalogue(admin)
    async with backoffice.runtime.db.sessions() as s:
        customer_id, phone = (
            await s.execute(
                sa.select(Phone.customer_id, Phone.phone)
                .where(Phone.customer_id.is_not(None))
                .order_by(Phone.id)
                .limit(1)
            )
        ).one()
        ana_id = await s.scalar(sa.select(Operator.id).where(Operator.username == "ana"))
    ident = await _attention(backoffice, "ana", AttentionKind.TELEMARKETING, customer_id)
    await body(
        await ana.patch(
            f"/api/v1/desk/attentions/{ident}",
            {"items": [_item(cat, "Refund", product="Standing desk")]},
        )
    )
    history = await body(await ana.get(f"/api/v1/desk/history/customer/{customer_id}"))
    [row] = [a for a in history["attentions"] if a["id"] == ident]
    assert (row["subject"], row["product"]) == ("Complaint", "Standing desk")
    # Earlier attentions keep their free text.
    assert "Delivery delayed" in {a["subject"] for a in history["attentions"]}
    pop = await lookup_caller(
        backoffice.runtime.db,
        phone,
        viewer_id=ana_id,
        today=date(2026, 3, 2),
        collection=False,
        sales=False,
        attentions=50,
    )
    assert {a["id"]: a["subject"] for a in pop["attentions"]}[ident] == "Complaint"
