"""The customer picker in real headless Chromium: an admin registers an incoming-call message from a
demo customer found by part of its name and picked with the keyboard (a slow answer to older text
never replaces the latest), and an agent registers an unknown caller as the contact of a customer
picked with the mouse, the form surviving the call being answered."""

from __future__ import annotations

import asyncio
import re

import pytest
import sqlalchemy as sa
from playwright.async_api import Page, expect

from cti.app import RunningService
from cti.db.models import Contact, Customer, Phone
from cti.sim import PbxSimulator
from tests.backoffice.conftest import (
    backoffice,
    backoffice_with,
    body,
    logins_for,
    seeded_database,
    seeded_template,
)

from .conftest import HeldRequests, sign_in

__all__ = ["backoffice", "backoffice_with", "seeded_database", "seeded_template"]

pytestmark = pytest.mark.browser


async def open_message_form(page: Page, url: str) -> None:
    """Sign the admin in and open the back office's form for a new incoming-call message."""
    await sign_in(page, url, "admin", landing="admin")
    await page.click("#nav [data-section=messages]")
    await page.click("#message-new")


async def test_admin_picks_the_caller_by_name_with_the_keyboard_and_the_message_keeps_it(
    backoffice: RunningService, browser_page: Page
) -> None:
    page = browser_page
    # The answer to "ar" is held back until the answer to "arm" has been shown.
    stale = await HeldRequests(page, lambda url: url.endswith("/api/v1/customers?q=ar")).start()
    posts: list[str] = []
    page.on(
        "request",
        lambda r: posts.append(r.url) if r.method == "POST" and "/messages" in r.url else None,
    )
    await open_message_form(page, backoffice.url)

    picker = page.locator("#new-from_customer")
    options = page.locator("#message-form [role=option]")
    await picker.press_sequentially("ar")
    await asyncio.wait_for(stale.held.wait(), 5)
    await picker.press("m")
    await expect(options).to_have_count(1)
    await expect(options).to_have_text("C005 · Green Valley Farms · US")
    await stale.release_and_wait()
    await page.evaluate("() => new Promise((done) => setTimeout(done, 100))")
    await expect(options).to_have_count(1)

    # Back to "ar": Blue Harbor Logistics, Green Valley Farms, Padaria São Jorge, by name.
    await picker.press("Backspace")
    await stale.stop()
    await expect(options).to_have_count(3)
    await expect(options.nth(2)).to_contain_text("Padaria São Jorge")
    await picker.press("Escape")
    await expect(page.locator("#message-form [role=listbox]")).to_be_hidden()
    await picker.press("ArrowDown")  # reopens on the first
    await expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    await picker.press("ArrowDown")
    await picker.press("ArrowDown")
    await expect(options.nth(2)).to_have_class("active")
    await expect(picker).to_have_attribute("aria-activedescendant", re.compile(r"-2$"))
    await picker.press("Enter")
    await expect(picker).to_have_value("C002 · Padaria São Jorge")
    await expect(page.locator("#message-form [role=listbox]")).to_be_hidden()
    await expect(page.locator("#message-form .field-error")).to_have_count(0)
    # The contact is one of Padaria's own, offered once the customer is picked.
    contact = page.locator("#new-from_contact")
    await expect(contact).to_be_enabled()
    await expect(contact.locator("option")).to_have_text(
        ["— the customer itself —", "João Pereira · Purchasing"]
    )
    await contact.select_option(label="João Pereira · Purchasing")

    await page.fill("#new-description", "Asks for the new price list before Friday.")
    await page.click("#new-save")
    await expect(page.locator(".toast")).to_contain_text("registered")
    assert len(posts) == 1  # Enter in the picker picked; it did not send the form

    async with logins_for(backoffice) as login:
        admin = await login("admin")
        [padaria] = await body(await admin.get("/api/v1/customers", params={"q": "C002"}))
        messages = await body(await admin.get("/api/v1/messages", params={"pending": "true"}))
        [made] = [m for m in messages if m["description"].startswith("Asks for the new price")]
        assert made["from_customer_id"] == padaria["id"]
        record = await body(await admin.get(f"/api/v1/customers/{padaria['id']}"))
        assert made["from_contact_id"] == record["contacts"][0]["id"]
        assert made["customer"] == {"code": "C002", "name": "Padaria São Jorge"}
    await expect(page.locator("#messages-table")).to_contain_text("Padaria São Jorge")


async def test_admin_gets_told_to_pick_when_the_text_matches_no_pick(
    backoffice: RunningService, browser_page: Page
) -> None:
    page = browser_page
    await open_message_form(page, backoffice.url)
    picker = page.locator("#new-from_customer")
    await picker.press_sequentially("zzz")
    await expect(page.locator("#message-form .picker-list")).to_have_text("No customer matches")
    await page.fill("#new-from_phone", "+12025550199")
    await page.fill("#new-description", "Left a voicemail.")
    await page.click("#new-save")
    await expect(page.locator(".field-error[data-field=from_customer_id]")).to_contain_text(
        "pick the customer"
    )
    async with logins_for(backoffice) as login:
        admin = await login("admin")
        messages = await body(await admin.get("/api/v1/messages"))
        assert not [m for m in messages if m["description"] == "Left a voicemail."]


async def test_agent_registers_an_unknown_caller_as_contact_of_a_customer_picked_by_name(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    users: dict[str, str],
    browser_page: Page,
) -> None:
    async with service.runtime.db.sessions.begin() as s:
        s.add_all(
            [
                Customer(code="C010", name="Acme Industrial", region="US"),
                Customer(code="C011", name="Paramount Acme Tools", region="US"),
            ]
        )
    page = browser_page
    await sign_in(page, service.url, "ana", password=users["ana"], landing="desk")
    # The desk's buttons work once it has loaded (its name shows).
    await expect(page.locator("#agent-name")).to_have_text("Ana Lima")
    await page.click("#desk-signin")
    await expect(page.locator("#state-text")).to_have_text("Ready")

    sim.inbound_call("support", "+12025550177", "", talk_seconds=None)
    await sim.advance(0.2)
    await expect(page.locator("#pop-status")).to_contain_text("Ringing")
    form = page.locator("#register")
    await expect(form).to_contain_text("Unknown number")
    await expect(page.locator("#reg-customer")).to_be_hidden()  # a suspect by default
    await page.select_option("#reg-kind", "contact")
    await expect(page.locator("#reg-company")).to_be_hidden()
    await page.fill("#reg-name", "Marta Gomes")
    await page.locator("#reg-customer").press_sequentially("acme")
    options = form.locator("[role=option]")
    # Names starting with it first, then those holding it.
    await expect(options).to_have_count(3)
    await expect(options.nth(0)).to_contain_text("Acme Industrial")
    await expect(options.nth(1)).to_contain_text("Acme Supplies")
    await expect(options.nth(2)).to_contain_text("Paramount Acme Tools")
    await options.nth(1).click()
    await expect(page.locator("#reg-customer")).to_have_value("C001 · Acme Supplies")

    # Answering repaints the pop: what was typed and picked stays.
    await page.click("#answer")
    await expect(page.locator("#pop-status")).to_contain_text("On the call")
    await expect(page.locator("#attention")).to_be_visible()
    await expect(page.locator("#reg-name")).to_have_value("Marta Gomes")
    await expect(page.locator("#reg-customer")).to_have_value("C001 · Acme Supplies")
    await page.click("#reg-go")
    await expect(page.locator(".toast")).to_have_text("Caller registered")
    await expect(page.locator("#pop-name")).to_have_text("Marta Gomes")
    await expect(page.locator("#pop-body")).to_contain_text("Acme Supplies")
    await expect(page.locator("#register")).to_have_count(0)

    async with service.runtime.db.sessions() as s:
        stored = await s.execute(
            sa.select(Contact.customer_id, Phone.phone)
            .join(Phone, Phone.contact_id == Contact.id)
            .where(Contact.name == "Marta Gomes")
        )
        assert stored.all() == [(customers["acme"], "+12025550177")]
    assert sim.hangup("PJSIP/agent1")


async def test_typing_in_the_form_keeps_the_focus_while_the_section_finishes_loading(
    backoffice: RunningService, browser_page: Page
) -> None:
    page = browser_page
    await sign_in(page, backoffice.url, "admin", landing="admin")
    await expect(page.locator("#tiles")).to_be_visible()
    # The list of messages is slow; the admin opens the form and types meanwhile.
    slow_list = await HeldRequests(page, lambda url: "/api/v1/messages?pending=true" in url).start()
    await page.click("#nav [data-section=messages]")
    await page.click("#message-new")
    picker = page.locator("#new-from_customer")
    await picker.press_sequentially("arm")
    await expect(page.locator("#message-form [role=option]")).to_have_count(1)
    await slow_list.release_and_wait()
    await page.evaluate("() => new Promise((done) => setTimeout(done, 200))")
    # The section finished loading behind the form: the list and the focus stay where they were.
    await expect(picker).to_be_focused()
    await expect(page.locator("#message-form [role=listbox]")).to_be_visible()
    await slow_list.stop()
