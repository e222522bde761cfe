"""Collection and cases over HTTP: the financial position, promises, a broken promise returning the
customer to collection, plans, and admins (re)assigning cases with a balancing suggestion."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from cti.app import RunningService
from cti.clock import FakeClock

from .conftest import Login, body

# Demo data: C002 (id 2), C004 (4) and C006 (6) are delinquent; today is 2026-03-02.


async def test_position_promise_and_broken_promise_returns_customer_to_collection(
    login: Login,
) -> None:
    carla = await login("carla")
    worklist = await body(await carla.get("/api/v1/collection/delinquents"))
    assert sorted(c["code"] for c in worklist) == ["C002", "C004", "C006"]
    pos = await body(await carla.get("/api/v1/collection/customers/4/position"))
    assert pos["delinquent"] is True
    assert [i["invoice_number"] for i in pos["overdue"]] == [
        "INV-C004-003",
        "INV-C004-002",
        "INV-C004-001",
    ]
    days = [i["days_overdue"] for i in pos["overdue"]]
    assert days == sorted(days, reverse=True) and days[-1] > 0
    assert pos["totals"]["overdue_invoices"] == 3
    assert [i["amount"] for i in pos["overdue"]] == ["861.50", "611.50", "361.50"]
    assert pos["totals"]["overdue_amount"] == "1834.50"
    [case] = pos["cases"]
    assert case["status"] == "delinquent"

    # Promise to pay in the past or above the debt: refused, naming the field.
    for payload, field in [
        ({"customer_id": 4, "promised_on": "2026-03-01", "amount": "100"}, "promised_on"),
        ({"customer_id": 4, "promised_on": "2026-03-09", "amount": "99999"}, "amount"),
        ({"customer_id": 4, "promised_on": "2026-03-09", "amount": -5}, "amount"),
        (
            {"customer_id": 1, "promised_on": "2026-03-09", "amount": 10, "receivable_id": 5},
            "receivable_id",
        ),
    ]:
        problem = await body(await carla.post("/api/v1/collection/promises", json=payload), 400)
        assert problem["field"] == field, (payload, problem)
    promise = await body(
        await carla.post(
            "/api/v1/collection/promises",
            json={"customer_id": 4, "promised_on": "2026-03-09", "amount": "300.00"},
        ),
        201,
    )
    assert promise["status"] == "open" and promise["amount"] == "300.00"

    # The case is being worked (assigned); breaking the promise returns it to delinquent.
    admin = await login("admin")
    await body(await admin.post(f"/api/v1/cases/{case['id']}/status", json={"status": "assigned"}))
    broken = await body(await carla.post(f"/api/v1/collection/promises/{promise['id']}/broken"))
    assert broken["status"] == "broken" and broken["delinquent_cases"] == [case["id"]]
    again = await body(await carla.get("/api/v1/collection/customers/4/position"))
    assert again["cases"][0]["status"] == "delinquent"
    assert (await carla.post(f"/api/v1/collection/promises/{promise['id']}/kept")).status == 409

    # bruno (telesales only) may not work collection.
    bruno = await login("bruno")
    assert (await bruno.get("/api/v1/collection/customers/4/position")).status == 403


async def _eventually(read: Callable[[], Awaitable[str]], want: str) -> None:
    """Wait for the service's own scheduler to have acted (it looks at its jobs every second)."""
    for _ in range(150):
        if await read() == want:
            return
        await asyncio.sleep(0.1)
    assert await read() == want


async def test_daily_job_breaks_overdue_promises_and_plans(
    backoffice: RunningService, login: Login
) -> None:
    carla = await login("carla")
    sofia = await login("sofia")
    # Customer 2 has no open collection case after we close it; a broken promise opens one.
    pos = await body(await carla.get("/api/v1/collection/customers/2/position"))
    [case] = pos["cases"]
    admin = await login("admin")
    await body(await admin.post(f"/api/v1/cases/{case['id']}/status", json={"status": "closed"}))
    promise = await body(
        await carla.post(
            "/api/v1/collection/promises",
            json={"customer_id": 2, "promised_on": "2026-03-02", "amount": 50},
        ),
        201,
    )
    plan = await body(
        await carla.post(
            "/api/v1/collection/plans",
            json={"customer_id": 6, "total": "100.00", "count": 3, "first_due_on": "2026-03-10"},
        ),
        201,
    )
    assert [i["amount"] for i in plan["instalments"]] == ["33.33", "33.33", "33.34"]
    assert [i["due_on"] for i in plan["instalments"]] == ["2026-03-10", "2026-04-09", "2026-05-09"]
    paid = await body(await carla.post(f"/api/v1/collection/plans/{plan['id']}/instalments/1/paid"))
    assert paid["instalments"][0]["paid_at"] is not None and paid["status"] == "open"

    # Today nothing is overdue yet: the promise is due today.
    ran = await body(await sofia.post("/api/v1/collection/break-overdue"))
    assert promise["id"] not in ran["broken_promises"]
    # Operators cannot run the job.
    assert (await carla.post("/api/v1/collection/break-overdue")).status == 403

    # A day later the daily job (00:05 on the service's clock) has broken the promise by itself,
    # and customer 2 is back in collection with a new case; run again, it breaks nothing twice.
    clock: FakeClock = backoffice.runtime.clock
    clock.advance(86400)
    sofia, carla = await login("sofia"), await login("carla")

    async def promise_status() -> str:
        after = await body(await carla.get("/api/v1/collection/customers/2/position"))
        return str({p["id"]: p["status"] for p in after["promises"]}[promise["id"]])

    await _eventually(promise_status, "broken")
    ran = await body(await sofia.post("/api/v1/collection/break-overdue"))
    assert ran["broken_promises"] == [] and ran["broken_plans"] == []
    after = await body(await carla.get("/api/v1/collection/customers/2/position"))
    assert [(c["id"] == case["id"], c["status"]) for c in after["cases"]] == [
        (True, "closed"),
        (False, "delinquent"),
    ]
    assert {p["id"]: p["status"] for p in after["promises"]}[promise["id"]] == "broken"
    # Past the second instalment's day, unpaid: the plan is broken too.
    clock.advance(86400 * 40)
    sofia, carla = await login("sofia"), await login("carla")  # the sessions expired meanwhile

    async def plan_status() -> str:
        six = await body(await carla.get("/api/v1/collection/customers/6/position"))
        return str(six["plans"][0]["status"])

    await _eventually(plan_status, "broken")
    six = await body(await carla.get("/api/v1/collection/customers/6/position"))
    assert all(c["status"] == "delinquent" for c in six["cases"])


async def test_admin_assigns_and_reassigns_cases_with_a_suggestion_and_audit(login: Login) -> None:
    admin = await login("admin")
    carla = await login("carla")
    diego = await login("diego")
    mine = await body(await carla.get("/api/v1/cases"))
    assert mine and all(c["assignee"] == "carla" for c in mine)
    assert await body(await diego.get("/api/v1/cases")) == []
    everyone = await body(await admin.get("/api/v1/cases"))
    assert len(everyone) > len(mine)
    suspended = await body(await admin.get("/api/v1/cases?status=suspended"))
    assert [c["status"] for c in suspended] == ["suspended"]
    # The counts by state (every state named) agree with the lists: all of them, or one's own.
    counts = await body(await admin.get("/api/v1/cases/counts"))
    assert set(counts) == {"active", "assigned", "suspended", "closed", "delinquent", "withdrawn"}
    assert sum(counts.values()) == len(everyone) and counts["suspended"] == len(suspended)
    assert sum((await body(await carla.get("/api/v1/cases/counts"))).values()) == len(mine)
    bad = await body(await admin.get("/api/v1/cases?status=lost"), 400)
    assert bad["field"] == "status"

    # carla holds every collection case; diego (all routines) has none: he is suggested first.
    ranking = await body(await admin.get("/api/v1/cases/suggestion?kind=collection"))
    assert [r["username"] for r in ranking] == ["diego", "carla"]
    assert ranking[1]["open_cases"] == 3
    moved = await body(
        await admin.post(
            "/api/v1/cases/assign",
            json={"case_ids": [mine[0]["id"]], "operator_id": diego.user["id"]},
        )
    )
    assert moved[0]["assignee"] == "diego"
    assert [c["id"] for c in await body(await diego.get("/api/v1/cases"))] == [mine[0]["id"]]
    # bruno lacks the collection routine: refused, naming the field.
    refused = await admin.post(
        "/api/v1/cases/assign", json={"case_ids": [mine[1]["id"]], "operator_id": 2}
    )
    assert (await body(refused, 400))["field"] == "operator_id"
    # An operator may not assign, nor see another's case.
    assert (
        await carla.post(
            "/api/v1/cases/assign", json={"case_ids": [mine[1]["id"]], "operator_id": 3}
        )
    ).status == 403
    assert (await carla.get(f"/api/v1/cases/{mine[0]['id']}")).status == 404
    # A closed case cannot become suspended (the state table), and must be reopened first.
    closed = await body(
        await carla.post(f"/api/v1/cases/{mine[1]['id']}/status", json={"status": "closed"})
    )
    assert closed["closed_at"] is not None
    step = await carla.post(f"/api/v1/cases/{mine[1]['id']}/status", json={"status": "suspended"})
    assert (await body(step, 400))["field"] == "status"

    trail = await body(await admin.get("/api/v1/audit?action=case.assign"))
    assert [(t["actor"], t["subject"], t["details"]["to_username"]) for t in trail] == [
        ("admin", f"case:{mine[0]['id']}", "diego")
    ]


async def test_an_amount_is_a_number_or_text_never_an_object(login: Login) -> None:
    carla = await login("carla")
    positions = [f"/api/v1/collection/customers/{c}/position" for c in (4, 6)]
    before = [await body(await carla.get(p)) for p in positions]
    promise = {"customer_id": 4, "promised_on": "2026-03-09"}
    plan = {"customer_id": 6, "count": 2, "first_due_on": "2026-03-10"}
    for path, payload, field in [
        ("promises", {**promise, "amount": {"value": "100.00"}}, "amount"),
        ("promises", {**promise, "amount": ["100.00"]}, "amount"),
        ("promises", {**promise, "amount": True}, "amount"),
        ("plans", {**plan, "total": {"amount": 100, "currency": "USD"}}, "total"),
        (
            "plans",
            {"customer_id": 6, "instalments": [{"due_on": "2026-03-10", "amount": {"v": 1}}]},
            "instalments[0].amount",
        ),
    ]:
        resp = await carla.post(f"/api/v1/collection/{path}", json=payload)
        problem = await body(resp, 400)
        assert problem["field"] == field, (payload, problem)
        assert "amount" in problem["error"], problem
    # Beyond what the money column holds: refused, naming the field (not a fault).
    for path, payload, field in [
        ("promises", {**promise, "amount": 1e308}, "amount"),
        ("plans", {**plan, "total": "1e999999"}, "total"),
    ]:
        resp = await carla.post(f"/api/v1/collection/{path}", json=payload)
        assert (await body(resp, 400))["field"] == field, payload
    # Nothing was recorded.
    after = [await body(await carla.get(p)) for p in positions]
    assert [(p["promises"], p["plans"]) for p in after] == [
        (p["promises"], p["plans"]) for p in before
    ]


async def test_an_amount_in_a_refusal_is_written_as_the_reader_writes_numbers(
    login: Login,
) -> None:
    """A promise above the open debt is refused naming the debt, its amount written with the
    reader's decimal mark and grouping (1.834,50 in Portuguese and Spanish, 1,834.50 in English)."""
    carla = await login("carla")
    pos = await body(await carla.get("/api/v1/collection/customers/4/position"))
    debt = pos["totals"]["open_amount"]
    assert "." in debt and float(debt) >= 1000, debt
    whole, cents = debt.split(".")
    grouped = f"{whole[:-3]}.{whole[-3:]},{cents}"
    payload = {"customer_id": 4, "promised_on": "2026-03-09", "amount": "99999"}
    said = {}
    for language in ("pt-BR", "es", "en"):
        resp = await carla.http.post(
            f"{carla.base}api/v1/collection/promises",
            json=payload,
            headers={"X-CSRF-Token": carla.csrf, "Accept-Language": language},
        )
        said[language] = (await body(resp, 400))["error"]
    assert said["pt-BR"] == f"mais do que a dívida em aberto ({grouped})", said
    assert said["es"] == f"más que la deuda pendiente ({grouped})", said
    assert said["en"] == f"more than the open debt ({whole[:-3]},{whole[-3:]}.{cents})", said
