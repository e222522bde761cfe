"""The desk's inbox in real headless Chromium, on the demo data: the operator opens the drawer,
sees the incoming-call messages for her (not those for other groups), adds a note to one and
finalizes it, postpones another to a group, and finds the case an admin gave her under "My cases"."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from cti.app import RunningService
from tests.backoffice.conftest import (
    backoffice,
    backoffice_with,
    body,
    logins_for,
    seeded_database,
    seeded_template,
)

__all__ = ["backoffice", "backoffice_with", "seeded_database", "seeded_template"]

pytestmark = pytest.mark.browser


async def test_operator_finalizes_and_postpones_messages_from_the_desk_inbox(
    backoffice: RunningService, browser_page: Page
) -> None:
    async with logins_for(backoffice) as login:
        admin = await login("admin")
        ana_id = next(
            u["id"] for u in await body(await admin.get("/api/v1/users")) if u["username"] == "ana"
        )
        sales = next(
            g["id"]
            for g in await body(await admin.get("/api/v1/config/attention-groups"))
            if g["name"] == "Sales"
        )
        # A second message for ana, and the active case assigned to her.
        second = await body(
            await admin.post(
                "/api/v1/messages",
                json={
                    "from_serial": "SN-7781",
                    "to_user_id": ana_id,
                    "description": "Router keeps rebooting; asks for a technician.",
                },
            ),
            201,
        )
        [active] = await body(await admin.get("/api/v1/cases?status=active"))
        await body(
            await admin.post(
                "/api/v1/cases/assign", json={"case_ids": [active["id"]], "operator_id": ana_id}
            )
        )

        page = browser_page
        await page.goto(backoffice.url)
        await page.fill("#username", "ana")
        await page.fill("#password", "ana123")
        await page.click("#go")
        await page.wait_for_url("**/static/desk.html")
        # Operators get no back-office link; the badge counts what waits for her.
        await expect(page.locator("#admin-link")).to_be_hidden()
        await expect(page.locator("#inbox-count")).to_have_text("2")
        await expect(page.locator("#inbox")).to_be_hidden()

        await page.click("#inbox-open")
        items = page.locator("#inbox-messages > li")
        await expect(items).to_have_count(2)
        # The message for the Sales group is not hers.
        await expect(page.locator("#inbox-messages")).not_to_contain_text("price list")

        damaged = page.locator("#inbox-messages > li", has_text="damaged delivery")
        await damaged.locator(".inbox-item").click()
        await expect(damaged.locator("#msg-notes")).to_contain_text("Tried once, no answer.")
        await page.fill("#msg-note", "Called back at 14:10; replacement shipped.")
        await page.click("#msg-note-add")
        await expect(damaged.locator("#msg-notes")).to_contain_text("replacement shipped")
        await page.click("#msg-finalize")
        await expect(items).to_have_count(1)
        await expect(page.locator("#inbox-count")).to_have_text("1")

        router = page.locator(f"#inbox-messages > li[data-message='{second['id']}']")
        await router.locator(".inbox-item").click()
        await page.click("#msg-postpone")
        await page.click("#postpone-go")
        # A postponement needs its reason, said next to the input.
        await expect(page.locator(".field-error[data-field=reason]")).to_contain_text("required")
        await page.fill("#postpone-reason", "Technicians are booked today")
        await page.select_option("#postpone-to", f"g:{sales}")
        await page.click("#postpone-go")
        await expect(page.locator("#inbox-messages")).to_have_count(0)
        await expect(page.locator("#inbox .empty")).to_contain_text("Nothing pending")
        await expect(page.locator("#inbox-count")).to_be_hidden()

        # My cases: the one the admin assigned.
        await page.click("#inbox-tab-cases")
        await expect(page.locator("#inbox-cases li")).to_have_count(1)
        await expect(page.locator("#inbox-cases li")).to_contain_text("Recurring delivery")
        await expect(page.locator("#inbox-cases li")).to_contain_text("Assigned")

        # What the server kept: the first finalized by ana with her note, the second with Sales.
        messages = await body(await admin.get("/api/v1/messages"))
        first = next(m for m in messages if "damaged delivery" in m["description"])
        assert (first["pending"], first["finalized_by"]) == (False, "ana")
        assert [n["author"] for n in first["notes"]][-1] == "ana"
        moved = next(m for m in messages if m["id"] == second["id"])
        assert moved["pending"] is True
        assert (moved["to_user_id"], moved["to_group_id"]) == (None, sales)
        assert moved["postpone_reason"] == "Technicians are booked today"
