"""A collection attention in real headless Chromium: a delinquent customer calls the collections
queue, the pop at the collection operator shows the overdue invoices, the operator records a
promise to pay in the collection folder (the back office's endpoints), is told a required field is
missing next to its input, saves the attention with a note; the promise is found against the
attention through the API and the attention in the customer's history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.async_api import Page, expect

from cti.app import RunningService
from cti.db.models import ClosingReason, Customer, Phone, Receivable, RequiredField
from cti.domain.model import AttentionKind
from cti.sim import PbxSimulator
from tests.web.conftest import Client

from .conftest import sign_in

pytestmark = pytest.mark.browser


async def _delinquent(service: RunningService) -> int:
    """Blue Harbor (+12025550104) owes two overdue invoices and one not yet due."""
    today = service.runtime.clock.now().date()
    async with service.runtime.db.sessions.begin() as s:
        blue = Customer(code="C004", name="Blue Harbor Logistics", region="US")
        s.add(blue)
        await s.flush()
        s.add(Phone(phone="+12025550104", raw="(202) 555-0104", customer_id=blue.id))
        s.add_all(
            [
                Receivable(
                    customer_id=blue.id,
                    invoice_number="INV-0401",
                    due_on=today - timedelta(days=45),
                    amount=Decimal("611.50"),
                ),
                Receivable(
                    customer_id=blue.id,
                    invoice_number="INV-0402",
                    due_on=today - timedelta(days=15),
                    amount=Decimal("361.50"),
                ),
                Receivable(
                    customer_id=blue.id,
                    invoice_number="INV-0403",
                    due_on=today + timedelta(days=20),
                    amount=Decimal("100.00"),
                ),
                ClosingReason(name="Promise to pay", kind=AttentionKind.COLLECTION),
                # The admin made the closing reason mandatory on the attention form.
                RequiredField(form="attention", field="closing_reason_id"),
            ]
        )
        return int(blue.id)


async def test_collection_attention_with_a_promise_to_pay_in_chromium(
    service: RunningService,
    sim: PbxSimulator,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
    browser_page: Page,
    carla: dict[str, str],
) -> None:
    blue = await _delinquent(service)
    promised_on = (service.runtime.clock.now().date() + timedelta(days=7)).isoformat()
    page = browser_page

    await sign_in(page, service.url, "carla", password=carla["password"], landing="desk")
    # The desk's buttons work once it has loaded (its name shows).
    await expect(page.locator("#agent-name")).to_have_text("Carla Souza")
    await page.click("#desk-signin")
    await expect(page.locator("#state-text")).to_have_text("Ready")
    await expect(page.locator("#link")).to_contain_text("live")

    # The delinquent customer calls collections: the pop shows what is overdue, and for how long.
    sim.inbound_call("collections", "+12025550104", "BLUE HARBOR", talk_seconds=None)
    await sim.advance(0.2)
    await expect(page.locator("#pop-name")).to_have_text("Blue Harbor Logistics")
    overdue = page.locator("#pop-body li.overdue")
    await expect(overdue).to_have_count(2)
    await expect(overdue.first).to_contain_text("INV-0401")
    await expect(overdue.first).to_contain_text("45 days overdue")

    await page.click("#answer")
    await expect(page.locator("#pop-status")).to_contain_text("On the call")
    # The collection folder: the financial position from the back office.
    table = page.locator("#overdue-table tbody tr")
    await expect(table).to_have_count(2)
    await expect(table.first).to_contain_text("45")
    await expect(page.locator("#overdue-total")).to_have_text("$973.00")

    await page.fill("#promise-date", promised_on)
    await page.fill("#promise-amount", "500")
    await page.click("#promise-add")
    promise = page.locator("#promises li[data-promise]")
    await expect(promise).to_contain_text("promised in this attention")
    await expect(promise).to_contain_text("500.00")

    # Closing without the mandatory closing reason: the refusal stands next to that input.
    await page.select_option("#status", "closed")
    await page.fill("#note", "Promised 500.00 within a week; rest with the next invoice.")
    await page.click("#save")
    await expect(page.locator(".field-error[data-field=closing_reason_id]")).to_contain_text(
        "required"
    )
    await page.select_option("#closing-reason", label="Promise to pay")
    await page.click("#save")
    await expect(page.locator("#notes")).to_contain_text("Promised 500.00 within a week")
    await expect(page.locator(".field-error")).to_have_count(0)
    await expect(page.locator("#f-status")).to_have_text("closed")
    row = page.locator("#history-table tbody tr", has_text="Promised 500.00")
    await expect(row).to_contain_text("closed")
    attention_id = int(
        await page.locator("#history-table tbody tr").first.get_attribute("data-attention") or 0
    )

    # Afterwards: the promise is stored against the attention, the attention against the customer.
    sofia = await client_factory()
    assert (await sofia.login("sofia", users["sofia"])).status == 200
    position = await (await sofia.get(f"/api/v1/collection/customers/{blue}/position")).json()
    [made] = position["promises"]
    assert made["attention_id"] == attention_id
    assert (made["promised_on"], made["amount"], made["status"]) == (promised_on, "500.00", "open")
    history = await (await sofia.get(f"/api/v1/desk/history/customer/{blue}")).json()
    [stored] = history["attentions"]
    assert (stored["id"], stored["kind"], stored["status"]) == (
        attention_id,
        "collection",
        "closed",
    )
    assert stored["closing_reason"] == "Promise to pay"
    assert [n["text"] for n in stored["notes"]] == [
        "Promised 500.00 within a week; rest with the next invoice."
    ]
