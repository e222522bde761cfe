"""Telesales over HTTP: quotes and orders from an attention, and the MV_ALTPED rule on billed orders."""

from __future__ import annotations

from cti.config import SalesSettings

from .conftest import Login, ServiceWith, body, logins_for

ITEMS = [{"product_id": 1, "quantity": 2}, {"product_id": 3, "quantity": "1.5", "unit_price": "50"}]


async def test_quote_becomes_an_order_which_once_billed_is_locked(login: Login) -> None:
    bruno = await login("bruno")
    quote = await body(
        await bruno.post(
            "/api/v1/telesales/quotes",
            json={"customer_id": 3, "valid_until": "2026-03-20", "items": ITEMS},
        ),
        201,
    )
    assert quote["status"] == "open"
    assert [i["total"] for i in quote["items"]] == ["299.80", "75.00"]
    assert quote["total"] == "374.80"
    order = await body(await bruno.post(f"/api/v1/telesales/quotes/{quote['id']}/order"), 201)
    assert order["quote_id"] == quote["id"] and order["total"] == "374.80"
    assert order["editable"] is True and order["fields"] == {"items": True, "cancelled": True}
    again = await bruno.post(f"/api/v1/telesales/quotes/{quote['id']}/order")
    assert again.status == 409  # the quote was accepted: one order per quote

    # Unbilled: the operator changes the items.
    changed = await body(
        await bruno.patch(
            f"/api/v1/telesales/orders/{order['id']}",
            json={"items": [{"product_id": 2, "quantity": 1}]},
        )
    )
    assert changed["total"] == "499.00"

    # An operator may not bill; a supervisor records the invoice.
    assert (
        await bruno.post(
            f"/api/v1/telesales/orders/{order['id']}/bill", json={"invoice_number": "X"}
        )
    ).status == 403
    sofia = await login("sofia")
    billed = await body(
        await sofia.post(
            f"/api/v1/telesales/orders/{order['id']}/bill", json={"invoice_number": "NF-2001"}
        )
    )
    assert billed["billed"] is True and billed["invoice_number"] == "NF-2001"

    # MV_ALTPED off (the default): the form shows every field disabled and the server refuses.
    shown = await body(await bruno.get(f"/api/v1/telesales/orders/{order['id']}"))
    assert shown["editable"] is False
    assert shown["fields"] == {"items": False, "cancelled": False}
    assert "sales.edit_billed_orders" in shown["locked_reason"]
    refused = await bruno.patch(
        f"/api/v1/telesales/orders/{order['id']}",
        json={"items": [{"product_id": 4, "quantity": 1}]},
    )
    problem = await body(refused, 409)
    assert problem["field"] == "order"
    assert "billed" in problem["error"] and "sales.edit_billed_orders" in problem["error"]
    cancel = await bruno.patch(f"/api/v1/telesales/orders/{order['id']}", json={"cancelled": True})
    assert cancel.status == 409
    unchanged = await body(await bruno.get(f"/api/v1/telesales/orders/{order['id']}"))
    assert unchanged["total"] == "499.00" and unchanged["cancelled"] is False


async def test_billed_order_may_be_changed_when_the_setting_is_on(
    backoffice_with: ServiceWith,
) -> None:
    async with (
        backoffice_with(sales=SalesSettings(edit_billed_orders=True)) as svc,
        logins_for(svc) as login,
    ):
        bruno = await login("bruno")
        # Order 1 of the demo data is billed (NF-1000).
        shown = await body(await bruno.get("/api/v1/telesales/orders/1"))
        assert shown["billed"] is True
        assert shown["editable"] is True and shown["locked_reason"] is None
        changed = await body(
            await bruno.patch(
                "/api/v1/telesales/orders/1", json={"items": [{"product_id": 4, "quantity": 3}]}
            )
        )
        assert changed["total"] == "720.00" and changed["billed"] is True
        admin = await login("admin")
        trail = await body(await admin.get("/api/v1/audit?action=order.billed_edited"))
        assert [(t["actor"], t["subject"]) for t in trail] == [("bruno", "order:1")]


async def test_order_input_mistakes_name_the_field_and_routines_are_enforced(login: Login) -> None:
    bruno = await login("bruno")
    cases = [
        ({"customer_id": 999, "items": ITEMS}, "customer_id"),
        ({"customer_id": 1, "items": []}, "items"),
        ({"customer_id": 1, "items": [{"product_id": 77, "quantity": 1}]}, "items[0].product_id"),
        ({"customer_id": 1, "items": [{"product_id": 1, "quantity": 0}]}, "items[0].quantity"),
        ({"customer_id": 1, "items": [{"product_id": 1, "quantity": "x"}]}, "items[0].quantity"),
        ({"customer_id": 1, "items": [{"product_id": 1}]}, "items[0].quantity"),
        (
            {"customer_id": 1, "items": [{"product_id": 1, "quantity": 1, "unit_price": {"v": 5}}]},
            "items[0].unit_price",
        ),
        (  # beyond the price column: refused, not a fault
            {"customer_id": 1, "items": [{"product_id": 1, "quantity": 1, "unit_price": "1e20"}]},
            "items[0].unit_price",
        ),
        ({"customer_id": 1, "quote_id": 2, "items": ITEMS}, "quote_id"),  # quote 2 is C002's
        ({"customer_id": 1, "billed": True, "items": ITEMS}, "billed"),
    ]
    for payload, field in cases:
        problem = await body(await bruno.post("/api/v1/telesales/orders", json=payload), 400)
        assert problem["field"] == field, (payload, problem)
    # ana works telemarketing only: the telesales folder is not hers.
    ana = await login("ana")
    refused = await ana.get("/api/v1/telesales/orders/2")
    assert refused.status == 403 and "telesales" in (await refused.json())["error"]
    assert (await bruno.get("/api/v1/telesales/orders/999")).status == 404
