"""The integrations' pure rules: signatures, retries, API keys, what admins type."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cti.domain.events import LinkedId, UniqueId
from cti.domain.integrations import (
    DeliveryStatus,
    EventType,
    after_failure,
    call_event,
    event_types,
    key_hash,
    new_key,
    parse_key,
    retry_delay,
    signature_header,
    verify,
    webhook_url,
)
from cti.domain.notices import AgentRinging, CallerJoined
from cti.errors import UserInputError

AT = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)


def test_a_signature_verifies_only_with_its_secret_body_and_recent_timestamp() -> None:
    body = b'{"id":1}'
    header = signature_header("whsec_a", 1_000_000, body)
    assert verify("whsec_a", header, body, now=1_000_100)
    assert not verify("whsec_b", header, body, now=1_000_100)
    assert not verify("whsec_a", header, b'{"id":2}', now=1_000_100)
    assert not verify("whsec_a", header, body, now=1_000_000 + 301), "a replay of an old post"
    assert not verify("whsec_a", "garbage", body, now=1_000_000)


def test_retries_double_up_to_the_cap_and_die_at_the_limit() -> None:
    assert [retry_delay(n, 10, 60) for n in range(1, 6)] == [10, 20, 40, 60, 60]
    assert after_failure(7, 8) is DeliveryStatus.PENDING
    assert after_failure(8, 8) is DeliveryStatus.DEAD


def test_an_api_key_is_parsed_back_and_only_its_hash_is_kept() -> None:
    key = new_key()
    prefix, secret = parse_key(key.token) or ("", "")
    assert prefix == key.prefix and key_hash(secret) == key.hash and secret not in key.hash
    assert parse_key("cti_short_x") is None and parse_key("Bearer x") is None


def test_a_ringing_agent_is_a_call_event_keyed_by_the_call() -> None:
    ringing = AgentRinging(
        pbx="pbx1",
        at=AT,
        queue="support",
        interface="PJSIP/agent1",
        member_name="Ana",
        caller_num="+12025550101",
        caller_name="ACME",
        uniqueid=UniqueId("1.1"),
        linkedid=LinkedId("1.1"),
    )
    event = call_event(ringing)
    assert event is not None and event.type is EventType.CALL_RINGING
    assert event.key == "call:pbx1:1.1" and event.at == AT
    joined = CallerJoined(
        pbx="pbx1",
        at=AT,
        queue="support",
        uniqueid=UniqueId("1.1"),
        linkedid=LinkedId("1.1"),
        caller_num="1",
        caller_name="",
        position=1,
    )
    assert call_event(joined) is None


def test_what_admins_type_is_refused_naming_the_field() -> None:
    with pytest.raises(UserInputError) as bad:
        webhook_url("javascript:alert(1)")
    assert bad.value.field == "url"
    with pytest.raises(UserInputError) as bad:
        event_types(["call.ended", "call.exploded"])
    assert bad.value.field == "events[1]"
    assert event_types(["call.ended", "call.ended"]) == (EventType.CALL_ENDED,)
