"""Webhooks against a local receiver: signed, retried in order, delivered after a restart,
dead-lettered after N failures and replayed by an admin."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from datetime import timedelta

import aiohttp
import pytest
import sqlalchemy as sa

from cti.app import RunningService
from cti.db import outbox
from cti.web.integrations import worker
from tests.backoffice.conftest import ServiceWith, logins_for
from tests.web.conftest import Client

from .conftest import (
    FAST,
    Receiver,
    add_endpoint,
    add_key,
    attempted,
    audit_lines,
    clock_of,
    deliveries,
    ok,
    save_attention,
    until,
)


def stripe_style_check(secret: str, header: str, body: bytes) -> int:
    """What a receiver writes (docs/integrations.md): the timestamp of a valid signature."""
    parts = dict(p.split("=", 1) for p in header.split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"]), "the signature does not verify"
    return int(parts["t"])


async def test_a_post_is_signed_and_verifies(
    hooks: RunningService, admin: Client, receiver: Receiver
) -> None:
    secret = "whsec_test_secret_0123456789"
    made = await add_endpoint(admin, receiver.url, secret=secret)
    assert made["secret"] == secret
    listed = await ok(await admin.get("/api/v1/webhooks"))
    assert "secret" not in listed["endpoints"][0], "the secret is shown only once"

    await save_attention(admin, 1)
    await until(lambda: receiver.got, what="the post")
    post = receiver.got[0]
    t = stripe_style_check(secret, post.headers["Cti-Signature"], post.body)
    assert t == int(clock_of(hooks).now().timestamp())
    event = post.event
    assert event["type"] == "attention.saved"
    assert event["data"]["attention"]["id"] == 1
    assert post.headers["Idempotency-Key"] == str(event["id"])
    # A tampered body does not verify with the same header.
    tampered = post.body.replace(b'"id":1', b'"id":2')
    try:
        stripe_style_check(secret, post.headers["Cti-Signature"], tampered)
    except AssertionError:
        pass
    else:
        raise AssertionError("a changed body verified")
    # Recorded once the post is answered.
    rows = await until(lambda: deliveries(admin, "?status=delivered"), what="the post recorded")
    assert [(r["status"], r["attempts"], r["last_status"]) for r in rows] == [("delivered", 1, 200)]


async def test_a_receiver_down_for_a_while_gets_every_event_once_back_in_order(
    hooks: RunningService, admin: Client, receiver: Receiver
) -> None:
    await add_endpoint(admin, receiver.url)
    await receiver.down()
    for attention in (1, 1, 2, 1, 2):
        await save_attention(admin, attention)
    # The first of each attention is tried and fails; the later ones of the same attention wait.
    await until(lambda: attempted(admin, 2), what="the head of each attention's events tried")
    rows = await deliveries(admin)
    assert sum(r["attempts"] for r in rows) == 2, rows
    assert {r["status"] for r in rows} == {"pending"}

    clock = clock_of(hooks)
    clock.advance(30)  # a failure more while it is still down
    await until(lambda: attempted(admin, 4), what="a second try of each")
    await receiver.up()
    clock.advance(30)
    await until(
        lambda: _all_delivered(admin, 5), what="every event delivered once the receiver is back"
    )
    got = receiver.events()
    assert len(got) == 5 and len({e["id"] for e in got}) == 5, "each event once"
    for attention in (1, 2):
        ids = [e["id"] for e in got if e["data"]["attention"]["id"] == attention]
        assert ids == sorted(ids), f"attention {attention}'s events out of order: {ids}"


async def _all_delivered(admin: Client, count: int) -> bool:
    rows = await deliveries(admin, "?status=delivered")
    return len(rows) == count


async def test_cti_stopped_between_the_commit_and_the_delivery_delivers_after_a_start(
    backoffice_with: ServiceWith, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cti whose delivery loops never get to post (as if killed right after the commit).
    with monkeypatch.context() as patched:
        patched.setattr(worker, "WORKERS", 0)
        async with backoffice_with(webhooks=FAST) as first, logins_for(first) as login:
            admin = await login("admin")
            await add_endpoint(admin, receiver.url)
            await save_attention(admin, 1)
            rows = await deliveries(admin)
            assert [(r["status"], r["attempts"]) for r in rows] == [("pending", 0)]
    assert receiver.got == []

    async with backoffice_with(webhooks=FAST) as second, logins_for(second) as login:
        admin = await login("admin")
        await until(lambda: receiver.got, what="the delivery after the start")
        assert receiver.events()[0]["type"] == "attention.saved"
        await until(lambda: _all_delivered(admin, 1), what="the delivery recorded")


async def test_n_failures_dead_letter_and_an_admin_replay_delivers(
    hooks: RunningService, admin: Client, receiver: Receiver
) -> None:
    await add_endpoint(admin, receiver.url)
    receiver.status = 500
    await save_attention(admin, 1)
    clock = clock_of(hooks)
    for tries in range(1, FAST.max_attempts + 1):
        await until(lambda n=tries: len(receiver.got) == n, what=f"try {tries}")
        # The retry is due from when the failure was recorded: the clock moves after that.
        await until(lambda n=tries: attempted(admin, n), what=f"try {tries} recorded")
        clock.advance(10)
    dead = await until(lambda: deliveries(admin, "?status=dead"), what="a dead letter")
    assert dead[0]["attempts"] == FAST.max_attempts and dead[0]["last_error"] == "HTTP 500"
    clock.advance(3600)
    await asyncio.sleep(0.3)  # a few polls of the worker
    assert len(receiver.got) == FAST.max_attempts, "a dead letter is not retried"
    endpoints = (await ok(await admin.get("/api/v1/webhooks")))["endpoints"]
    assert endpoints[0]["dead"] == 1

    receiver.status = 200
    await ok(await admin.post(f"/api/v1/webhooks/deliveries/{dead[0]['id']}/replay"))
    await until(lambda: _all_delivered(admin, 1), what="the replayed delivery")
    assert len({r.headers["Idempotency-Key"] for r in receiver.got}) == 1, "the same event"
    assert ("admin", "webhook.replay", f"delivery:{dead[0]['id']}") in await audit_lines(hooks)
    assert (await admin.post("/api/v1/webhooks/deliveries/999999/replay")).status == 404


async def test_bad_endpoints_are_refused_naming_the_field(admin: Client) -> None:
    for body, field in (
        ({"url": "ftp://x", "events": ["call.ended"]}, "url"),
        ({"url": "http://crm.example", "events": ["call.nope"]}, "events[0]"),
        ({"url": "http://crm.example", "events": []}, "events"),
        ({"url": "http://crm.example", "events": ["call.ended"], "secret": "short"}, "secret"),
    ):
        resp = await admin.post("/api/v1/webhooks", json=body)
        assert resp.status == 400 and (await resp.json())["field"] == field, body


async def test_two_cti_services_on_one_database_post_each_delivery_once_in_order(
    backoffice_with: ServiceWith, receiver: Receiver
) -> None:
    receiver.delay = 0.05  # slow enough for both to be posting at once
    async with (
        backoffice_with(webhooks=FAST) as one,
        backoffice_with(webhooks=FAST) as two,
        logins_for(one) as login_one,
        logins_for(two) as login_two,
    ):
        a, b = await login_one("admin"), await login_two("admin")
        await add_endpoint(a, receiver.url)
        for i in range(8):
            await save_attention(a if i % 2 else b, 1 + i % 4)
        await until(lambda: _all_delivered(a, 8), what="every delivery")
    keys = [r.headers["Idempotency-Key"] for r in receiver.got]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 8, "each posted once"
    for attention in (1, 2, 3, 4):
        ids = [e["id"] for e in receiver.events() if e["data"]["attention"]["id"] == attention]
        assert ids == sorted(ids) and len(ids) == 2


async def test_closing_an_attention_is_told_once_to_an_endpoint_that_wants_only_that(
    hooks: RunningService, admin: Client, receiver: Receiver
) -> None:
    await add_endpoint(admin, receiver.url, events=["attention.closed"])
    async with hooks.runtime.db.engine.connect() as conn:
        planned = await conn.scalar(
            sa.text("SELECT id FROM attentions WHERE status = 'planned' ORDER BY id LIMIT 1")
        )
    await save_attention(admin, 1)  # saved, already closed: nothing for this endpoint
    path = f"/api/v1/desk/attentions/{planned}"
    await ok(await admin.patch(path, json={"status": "closed"}))
    await ok(await admin.patch(path, json={}))  # saved again: still closed, not closed again
    await until(lambda: receiver.got, what="the closing")
    await asyncio.sleep(0.3)
    assert [e["type"] for e in receiver.events()] == ["attention.closed"]
    closed = receiver.events()[0]["data"]["attention"]
    assert closed["id"] == planned and closed["status"] == "closed" and closed["closed_at"]


async def test_secrets_never_reach_the_logs(
    hooks: RunningService, admin: Client, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "whsec_never_logged_0123456789"
    await add_endpoint(admin, receiver.url, secret=secret)
    token = await add_key(admin, "events:read")
    receiver.status = 500
    await save_attention(admin, 1)
    await until(lambda: receiver.got, what="a failed post")
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {token}x"}
        async with http.get(f"{hooks.url}api/v1/events/stream", headers=headers) as resp:
            assert resp.status == 401
    await until(lambda: attempted(admin, 1), what="the failure recorded")
    rows = await deliveries(admin)
    assert rows[0]["last_error"] == "HTTP 500"
    assert "webhook delivery" in caplog.text, "the delivery is logged"
    for value in (secret, token, token.split("_", 2)[2], "crm-token"):
        assert value not in caplog.text


async def test_old_events_are_purged_once_no_delivery_waits_for_them(
    hooks: RunningService, admin: Client, receiver: Receiver
) -> None:
    await add_endpoint(admin, receiver.url)
    await save_attention(admin, 1)
    await until(lambda: _all_delivered(admin, 1), what="the first delivery")
    await receiver.down()
    await save_attention(admin, 2)  # its delivery waits for the receiver
    await until(lambda: attempted(admin, 2), what="its first try recorded")
    clock = clock_of(hooks)
    clock.advance(31 * 86400)
    days = hooks.runtime.settings.webhooks.retention_days
    assert await outbox.purge(hooks.runtime.db, clock.now() - timedelta(days=days)) == 1
    async with logins_for(hooks) as login:  # a month later: signed in again
        admin = await login("admin")
        rows = await deliveries(admin)
        assert [r["status"] for r in rows] == ["pending"], "the waiting one is kept"
        await receiver.up()
        clock.advance(3600)
        await until(lambda: _all_delivered(admin, 1), what="the kept one delivered")


async def test_a_redirect_is_a_failure_not_followed(
    hooks: RunningService, admin: Client, receiver: Receiver
) -> None:
    await add_endpoint(admin, receiver.url.replace("/hooks", "/moved"))
    await save_attention(admin, 1)
    await until(lambda: attempted(admin, 1), what="a try")
    rows = await deliveries(admin)
    assert rows[0]["status"] == "pending" and rows[0]["last_error"] == "HTTP 307"
    assert receiver.got == [], "the post went only where the admin said"


async def test_a_message_registered_for_someone_is_posted_without_its_personal_fields(
    hooks: RunningService, admin: Client, receiver: Receiver
) -> None:
    await add_endpoint(admin, receiver.url, events=["message.created"])
    refused = await admin.post("/api/v1/messages", json={"to_user_id": 1, "description": "x"})
    assert refused.status == 400  # a refused message tells nothing
    message = {"from_phone": "+12025550199", "to_user_id": 1, "description": "call me back"}
    made = await ok(await admin.post("/api/v1/messages", json=message), 201)
    await until(lambda: receiver.got, what="the post")
    await asyncio.sleep(0.2)
    assert [e["type"] for e in receiver.events()] == ["message.created"]
    told = receiver.events()[0]["data"]["message"]
    assert told["id"] == made["id"] and told["to_user_id"] == 1
    assert b"2025550199" not in receiver.got[0].body and b"call me" not in receiver.got[0].body


async def test_a_receiver_that_hangs_does_not_hold_up_the_others(
    hooks: RunningService, admin: Client, receiver: Receiver
) -> None:
    hanging = Receiver()
    hanging.delay = 5.0  # longer than the 2 s cti waits for an answer
    await hanging.up()
    try:
        await add_endpoint(admin, hanging.url)
        await add_endpoint(admin, receiver.url)
        loop = asyncio.get_running_loop()
        for attention in range(1, 9):
            await save_attention(admin, attention)
        started = loop.time()
        await until(lambda: len(receiver.got) == 8, what="the healthy receiver's 8 events")
        assert loop.time() - started < 1.5, "the healthy receiver waited behind the hanging one"
        assert len(hanging.got) <= 2
    finally:
        await hanging.down()


async def test_a_switched_off_endpoint_is_sent_nothing_and_keeps_what_was_pending(
    hooks: RunningService, admin: Client, receiver: Receiver
) -> None:
    made = await add_endpoint(admin, receiver.url)
    path = f"/api/v1/webhooks/{made['id']}"
    await receiver.down()
    await save_attention(admin, 1)  # pending: the receiver is down
    await until(lambda: attempted(admin, 1), what="a failed try")
    await ok(await admin.patch(path, json={"active": False}))
    await save_attention(admin, 2)  # while it is off: not for it
    await receiver.up()
    clock_of(hooks).advance(60)
    await asyncio.sleep(0.3)
    assert receiver.got == [], "nothing is posted to a switched-off endpoint"
    await ok(await admin.patch(path, json={"active": True}))
    await until(lambda: receiver.got, what="the pending event")
    await asyncio.sleep(0.3)
    assert [e["data"]["attention"]["id"] for e in receiver.events()] == [1]
    bad = await admin.patch(path, json={"url": "mailto:x@example.com"})
    assert bad.status == 400 and (await bad.json())["field"] == "url"
    await ok(await admin.delete(path))
    assert (await ok(await admin.get("/api/v1/webhooks")))["endpoints"] == []
    assert (await admin.delete(path)).status == 404


async def test_cti_stopped_in_the_middle_of_a_post_posts_it_again_after_a_start(
    backoffice_with: ServiceWith, receiver: Receiver
) -> None:
    receiver.delay = 30.0  # the receiver takes its time: cti is stopped meanwhile
    async with backoffice_with(webhooks=FAST) as first, logins_for(first) as login:
        admin = await login("admin")
        await add_endpoint(admin, receiver.url)
        await save_attention(admin, 1)
        await until(lambda: receiver.got, what="the post under way")
    receiver.delay = 0.0
    async with backoffice_with(webhooks=FAST) as second, logins_for(second) as login:
        admin = await login("admin")
        await until(lambda: _all_delivered(admin, 1), what="the post made again")
    keys = [r.headers["Idempotency-Key"] for r in receiver.got]
    assert len(keys) == 2 and keys[0] == keys[1], "at least once: the same event, by its key"


async def test_a_dial_attempts_outcome_is_posted_with_what_became_of_the_lead(
    hooks: RunningService, admin: Client, receiver: Receiver
) -> None:
    from cti.db.dialer import finish_attempt
    from cti.db.models import Attempt, Campaign, Lead
    from cti.domain.model import CallOutcome, CampaignKind, CampaignMode, LeadStatus

    await add_endpoint(admin, receiver.url, events=["lead.outcome"])
    now = hooks.runtime.clock.now()
    async with hooks.runtime.db.sessions.begin() as s:
        campaign = Campaign(
            name="Renewals", kind=CampaignKind.TELESALES, mode=CampaignMode.PROGRESSIVE, queue="q"
        )
        s.add(campaign)
        await s.flush()
        lead = Lead(campaign_id=campaign.id, phone="+12025550177", status=LeadStatus.DIALING)
        s.add(lead)
        await s.flush()
        attempt = Attempt(lead_id=lead.id, campaign_id=campaign.id, action_id="a-1", started_at=now)
        s.add(attempt)
        await s.flush()
        ids = (int(campaign.id), int(lead.id), int(attempt.id))
    # What the dialer does when the customer's line was busy: the lead is retried later.
    await finish_attempt(
        hooks.runtime.db,
        ids[2],
        action_id="a-1",
        outcome=CallOutcome.BUSY,
        answered_at=None,
        connected_at=None,
        ended_at=now,
        next_step=lambda counts: (LeadStatus.RETRY, now + timedelta(minutes=10)),
    )
    await until(lambda: receiver.got, what="the post")
    [told] = receiver.events()
    assert told["type"] == "lead.outcome"
    assert told["data"]["campaign_id"] == ids[0]
    assert told["data"]["attempt"] == {"id": ids[2], "outcome": "busy"}
    assert told["data"]["lead"]["id"] == ids[1] and told["data"]["lead"]["status"] == "retry"
    assert told["data"]["lead"]["next_attempt_at"] is not None
    assert b"2025550177" not in receiver.got[0].body  # the lead's number stays in cti
