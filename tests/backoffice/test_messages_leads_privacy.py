"""Incoming-call messages, suspect conversion under each policy, personal-data masking and its
audit trail, and admin configuration, over HTTP against PostgreSQL."""

from __future__ import annotations

from cti.config import TelemarketingSettings, TelephonySettings

from .conftest import Login, ServiceWith, body, logins_for


async def test_message_rules_stamps_from_situation_finalize_postpone(login: Login) -> None:
    ana = await login("ana")
    # No *from*: refused, naming it.
    problem = await body(
        await ana.post("/api/v1/messages", json={"to_user_id": 1, "description": "call me"}), 400
    )
    assert problem["field"] == "from" and "customer" in problem["error"]
    # Neither or both recipients: refused.
    both = {"from_phone": "+12025550199", "to_user_id": 1, "to_group_id": 1, "description": "x"}
    assert (await body(await ana.post("/api/v1/messages", json=both), 400))["field"] == "to"
    # The server's stamps cannot be sent.
    forged = {"from_code": "C001", "to_user_id": 1, "description": "x", "created_by": 5}
    assert (await body(await ana.post("/api/v1/messages", json=forged), 400))[
        "field"
    ] == "created_by"

    made = await body(
        await ana.post(
            "/api/v1/messages",
            # to ana's own attention group (Service): she may act on it
            json={"from_serial": "SN-123", "to_group_id": 2, "description": "Headset broken"},
        ),
        201,
    )
    # Situation defaults to the usual pending one (PE), type to the default one (IN).
    assert (made["situation_code"], made["type_code"]) == ("PE", "IN")
    assert made["created_by"] == "ana" and made["pending"] is True
    # Shown as people say them: the type's name, the author's full name.
    assert (made["type"], made["created_by_name"]) == ("Information", "Ana")
    mid = made["id"]

    # Changing the situation to a non-pending one does NOT finalize the message.
    changed = await body(await ana.patch(f"/api/v1/messages/{mid}", json={"situation_code": "FI"}))
    assert changed["situation_code"] == "FI"
    assert changed["pending"] is True and changed["finalized_at"] is None
    pending = await body(await ana.get("/api/v1/messages?pending=true"))
    assert mid in [m["id"] for m in pending]
    stamp = await ana.patch(f"/api/v1/messages/{mid}", json={"created_at": "2020-01-01T00:00:00Z"})
    assert (await body(stamp, 400))["field"] == "created_at"

    noted = await body(await ana.post(f"/api/v1/messages/{mid}/notes", json={"text": "Tried"}), 201)
    assert [(n["author"], n["text"]) for n in noted["notes"]] == [("ana", "Tried")]
    assert noted["notes"][0]["at"]

    # Postpone: a new time, a reason, a new recipient; a past time is refused.
    past = {"until": "2026-03-01T10:00:00Z", "reason": "away", "to_user_id": 4}
    assert (await body(await ana.post(f"/api/v1/messages/{mid}/postpone", json=past), 400))[
        "field"
    ] == "until"
    later = {"until": "2026-03-03T10:00:00Z", "reason": "customer away", "to_user_id": 4}
    postponed = await body(await ana.post(f"/api/v1/messages/{mid}/postpone", json=later))
    assert postponed["postponed_until"] == "2026-03-03T10:00:00+00:00"
    assert (postponed["to_user"], postponed["to_group_id"]) == ("diego", None)
    assert "customer away" in postponed["notes"][-1]["text"] and postponed["pending"] is True
    # The note names the day and the person as people write them, not a stamp and a user id.
    note = postponed["notes"][-1]["text"]
    assert note.startswith("Postponed until Tue 3 Mar 2026, ") and "for Diego" in note
    assert "T10:00" not in note and "user 4" not in note
    assert postponed["to_user_name"].startswith("Diego")

    # Finalize stamps date, time and user, and sets a non-pending situation; only once.
    diego = await login("diego")
    done = await body(await diego.post(f"/api/v1/messages/{mid}/finalize", json={}))
    assert done["pending"] is False and done["finalized_by"] == "diego" and done["finalized_at"]
    assert done["situation_code"] == "FI"
    assert (await diego.post(f"/api/v1/messages/{mid}/finalize", json={})).status == 409
    assert (await diego.patch(f"/api/v1/messages/{mid}", json={"type_code": "RE"})).status == 409
    assert mid not in [m["id"] for m in await body(await ana.get("/api/v1/messages?pending=true"))]

    # Creating an action (an attention) from a message finalizes it too.
    acted = await body(
        await ana.post("/api/v1/messages/1/attention", json={"kind": "telemarketing"}), 201
    )
    assert acted["attention_id"] and acted["message"]["pending"] is False
    assert acted["message"]["attention_id"] == acted["attention_id"]


async def test_message_without_usual_pending_situation_needs_one(login: Login) -> None:
    admin = await login("admin")
    await body(
        await admin.put(
            "/api/v1/config/message-situations/PE", json={"name": "Pending", "usual_pending": False}
        )
    )
    ana = await login("ana")
    msg = {"from_phone": "+12025550199", "to_user_id": 1, "description": "x"}
    assert (await body(await ana.post("/api/v1/messages", json=msg), 400))[
        "field"
    ] == "situation_code"
    made = await body(await ana.post("/api/v1/messages", json={**msg, "situation_code": "AP"}), 201)
    assert made["situation_code"] == "AP"
    # The usual pending flag moves: setting it on AP clears it elsewhere; a closed one cannot have it.
    await body(
        await admin.put("/api/v1/config/message-situations/AP", json={"usual_pending": True})
    )
    refused = await admin.put("/api/v1/config/message-situations/FI", json={"usual_pending": True})
    assert (await body(refused, 400))["field"] == "usual_pending"
    # A situation in use cannot be removed; operators cannot maintain situations.
    assert (await admin.delete("/api/v1/config/message-situations/AP")).status == 409
    assert (
        await ana.put("/api/v1/config/message-situations/ZZ", json={"name": "x", "pending": True})
    ).status == 403


async def _convert_under(backoffice_with: ServiceWith, policy: str) -> list[object]:
    """Convert the demo suspect (id 1) under ``policy``; the answers, in order."""
    seen: list[object] = []
    async with (
        backoffice_with(
            telemarketing=TelemarketingSettings(suspect_after_conversion=policy)  # type: ignore[arg-type]
        ) as svc,
        logins_for(svc) as login,
    ):
        ana = await login("ana")
        first = await ana.post("/api/v1/suspects/1/convert", json={})
        seen.append((first.status, await first.json()))
        if first.status == 409:
            second = await ana.post("/api/v1/suspects/1/convert", json={"delete": False})
            seen.append((second.status, await second.json()))
        seen.append((await ana.get("/api/v1/suspects/1")).status)
    return seen


async def test_suspect_conversion_follows_each_policy(backoffice_with: ServiceWith) -> None:
    [(status, answer), after] = await _convert_under(backoffice_with, "delete")
    assert status == 201 and answer["suspect"] == "deleted" and after == 404
    prospect = answer["prospect"]
    assert (prospect["name"], prospect["company"], prospect["from_suspect"]) == (
        "Peter Parker",
        "Daily Bugle",
        1,
    )
    assert [p["phone"] for p in prospect["phones"]] == ["+12025550121"]


async def test_suspect_kept_under_keep_policy(backoffice_with: ServiceWith) -> None:
    [(status, answer), after] = await _convert_under(backoffice_with, "keep")
    assert status == 201 and answer["suspect"] == "kept" and after == 200


async def test_suspect_policy_ask_needs_a_decision(backoffice_with: ServiceWith) -> None:
    [(status, question), (status2, answer), after] = await _convert_under(backoffice_with, "ask")
    assert status == 409 and question["decision_needed"] is True and question["field"] == "delete"
    assert status2 == 201 and answer["suspect"] == "kept" and after == 200


async def test_personal_fields_masked_without_permission_and_every_read_audited(
    login: Login,
) -> None:
    diego = await login("diego")  # no personal_data
    ana = await login("ana")  # personal_data
    masked = await body(await diego.get("/api/v1/customers/2"))
    assert masked["masked"] is True
    assert masked["name"] == "Pad**** S** Jo***"
    assert masked["tax_id"] == "12.***.***/****-90"
    assert masked["phones"][0]["phone"] == "+55119******02"
    assert masked["contacts"][0]["name"] == "Jo** Per****"
    assert masked["code"] == "C002"  # not personal
    full = await body(await ana.get("/api/v1/customers/2"))
    assert full["masked"] is False and full["name"] == "Padaria São Jorge"
    # Messages mask the caller's phone; exports are refused without the permission.
    msg = await body(await diego.get("/api/v1/messages/2"))
    assert msg["from_phone"] == "+12025****99" and msg["masked"] is True
    assert (await diego.get("/api/v1/customers/2/export")).status == 403
    export = await ana.get("/api/v1/customers/2/export")
    assert export.status == 200 and "attachment" in export.headers["Content-Disposition"]

    admin = await login("admin")
    trail = await body(await admin.get("/api/v1/audit?subject=customer:2&action=personal.*"))
    got = sorted((t["actor"], t["action"]) for t in trail)
    assert got == [
        ("ana", "personal.export"),
        ("ana", "personal.read"),
        ("diego", "personal.export.refused"),
        ("diego", "personal.masked"),
    ]
    masked_row = next(t for t in trail if t["action"] == "personal.masked")
    assert "tax_id" in masked_row["details"]["fields"] and "Padaria" not in str(masked_row)
    by_actor = await body(await admin.get("/api/v1/audit?actor=diego&subject=call_message:*"))
    assert [(t["action"], t["subject"]) for t in by_actor] == [
        ("personal.masked", "call_message:2")
    ]
    window = await body(await admin.get("/api/v1/audit?actor=diego&since=2999-01-01"))
    assert window == []

    # Granting the permission to diego's group unmasks at once.
    await body(await admin.patch("/api/v1/config/attention-groups/1", json={"personal_data": True}))
    assert (await body(await diego.get("/api/v1/customers/2")))["masked"] is False


async def test_operator_is_refused_admin_endpoints_and_required_fields_are_enforced(
    login: Login,
) -> None:
    bruno = await login("bruno")
    for method, path in [
        ("GET", "/api/v1/audit"),
        ("POST", "/api/v1/cases/assign"),
        ("GET", "/api/v1/cases/suggestion"),
        ("POST", "/api/v1/config/closing-reasons"),
        ("PUT", "/api/v1/config/required-fields/quote"),
    ]:
        resp = await bruno.http.request(
            method, f"{bruno.base}{path.lstrip('/')}", json={}, headers={"X-CSRF-Token": bruno.csrf}
        )
        assert resp.status == 403, path
        assert "admin" in (await resp.json())["error"]

    admin = await login("admin")
    unknown = await admin.put("/api/v1/config/required-fields/quote", json={"fields": ["color"]})
    assert (await body(unknown, 400))["field"] == "fields"
    await body(
        await admin.put("/api/v1/config/required-fields/quote", json={"fields": ["valid_until"]})
    )
    forms = await body(await bruno.get("/api/v1/config/required-fields"))
    assert forms["quote"]["required"] == ["valid_until"]
    # Named as the forms label them, in the settings and in the refusal.
    assert forms["attention"]["labels"]["closing_reason_id"] == "Closing reason"
    assert (forms["quote"]["title"], forms["quote"]["labels"]["valid_until"]) == (
        "Quote",
        "Valid until",
    )
    item = [{"product_id": 1, "quantity": 1}]
    missing = await bruno.post("/api/v1/telesales/quotes", json={"customer_id": 1, "items": item})
    refused = await body(missing, 400)
    assert refused["field"] == "valid_until"
    assert "Valid until is required on the quote form" in refused["error"]
    ok = {"customer_id": 1, "items": item, "valid_until": "2026-04-01"}
    await body(await bruno.post("/api/v1/telesales/quotes", json=ok), 201)

    # Closing reasons, pause reasons, groups' ideal talk time, status labels.
    reason = await body(
        await admin.post(
            "/api/v1/config/closing-reasons", json={"name": "Callback later", "kind": "collection"}
        ),
        201,
    )
    assert reason["kind"] == "collection"
    dup = await admin.post("/api/v1/config/closing-reasons", json={"name": "Callback later"})
    assert (await body(dup, 400))["field"] == "name"
    await body(await admin.post("/api/v1/config/pause-reasons", json={"name": "meeting"}), 201)
    group = await body(
        await admin.patch("/api/v1/config/attention-groups/2", json={"ideal_talk_seconds": 240})
    )
    assert group["ideal_talk_seconds"] == 240
    zero = await admin.patch("/api/v1/config/attention-groups/2", json={"ideal_talk_seconds": 0})
    assert (await body(zero, 400))["field"] == "ideal_talk_seconds"
    labels = await body(
        await admin.put("/api/v1/config/attention-statuses/planned", json={"label": "Planificado"})
    )
    assert {"status": "planned", "label": "Planificado"} in labels


async def test_local_numbers_are_read_in_the_call_centers_country(
    backoffice_with: ServiceWith,
) -> None:
    """A São Paulo floor types numbers the Brazilian way; they are stored as the PBX sends them."""
    brazil = TelephonySettings(default_region="BR")
    async with backoffice_with(telephony=brazil) as svc, logins_for(svc) as login:
        ana = await login("ana")
        made = await body(
            await ana.post(
                "/api/v1/messages",
                json={
                    "from_phone": "(11) 91234-5678",
                    "to_user_id": 1,
                    "description": "Call back about the order",
                },
            ),
            201,
        )
        assert made["from_phone"] == "+5511912345678"
        suspect = await body(
            await ana.post(
                "/api/v1/suspects", json={"name": "Joana Lima", "phone": "(21) 3456-7890"}
            ),
            201,
        )
        # A suspect's own country wins over the floor's.
        other = await body(
            await ana.post(
                "/api/v1/suspects",
                json={"name": "Ann Lee", "region": "us", "phone": "(202) 555-0142"},
            ),
            201,
        )
    assert "+552134567890" in str(suspect)
    assert "+12025550142" in str(other)


async def test_the_purpose_of_a_read_is_the_servers_not_the_requests(login: Login) -> None:
    diego, admin = await login("diego"), await login("admin")
    forged = "court order 123"
    await body(await diego.get("/api/v1/customers/2", params={"purpose": forged}))
    lines = await body(
        await admin.get("/api/v1/audit", params={"actor": "diego", "subject": "customer:2"})
    )
    assert [line["details"]["purpose"] for line in lines] == ["customer record"]
    assert forged not in str(lines)
