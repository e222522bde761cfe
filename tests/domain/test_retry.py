"""Retry rules per outcome, callbacks and postponed calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cti.domain.model import CallOutcome, LeadStatus
from cti.domain.retry import (
    CallbackRoute,
    RetryPolicy,
    RetryRule,
    callback_reassign_at,
    callback_route,
    is_due,
    next_attempt,
    policy_from_json,
    postpone,
    schedule_callback,
)
from cti.errors import UserInputError

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
POLICY = RetryPolicy(
    rules={
        CallOutcome.BUSY: RetryRule(delay=timedelta(minutes=10), max_attempts=3),
        CallOutcome.NO_ANSWER: RetryRule(delay=timedelta(hours=1), max_attempts=2),
    }
)


def test_busy_is_retried_after_its_delay_and_not_before() -> None:
    decision = next_attempt(POLICY, CallOutcome.BUSY, NOW, {CallOutcome.BUSY: 1})
    assert decision.status is LeadStatus.RETRY
    assert decision.next_attempt_at == NOW + timedelta(minutes=10)
    assert not is_due(decision.next_attempt_at, NOW + timedelta(minutes=9, seconds=59))
    assert is_due(decision.next_attempt_at, NOW + timedelta(minutes=10))


def test_max_attempts_counts_per_outcome() -> None:
    counts = {CallOutcome.BUSY: 2, CallOutcome.NO_ANSWER: 1}
    assert next_attempt(POLICY, CallOutcome.BUSY, NOW, counts).status is LeadStatus.RETRY
    counts = {CallOutcome.BUSY: 3, CallOutcome.NO_ANSWER: 1}
    exhausted = next_attempt(POLICY, CallOutcome.BUSY, NOW, counts)
    assert exhausted.status is LeadStatus.EXHAUSTED
    assert exhausted.next_attempt_at is None


def test_total_cap_over_all_outcomes() -> None:
    policy = RetryPolicy(rules=POLICY.rules, max_total_attempts=3)
    counts = {CallOutcome.BUSY: 1, CallOutcome.NO_ANSWER: 1}
    assert next_attempt(policy, CallOutcome.NO_ANSWER, NOW, counts).status is LeadStatus.RETRY
    counts = {CallOutcome.BUSY: 2, CallOutcome.NO_ANSWER: 1}
    assert next_attempt(policy, CallOutcome.BUSY, NOW, counts).status is LeadStatus.EXHAUSTED


def test_answered_or_unruled_outcomes_end_the_lead() -> None:
    assert next_attempt(POLICY, CallOutcome.ANSWERED, NOW, {}).status is LeadStatus.DONE
    counts = {CallOutcome.FAILED: 1}
    assert next_attempt(POLICY, CallOutcome.FAILED, NOW, counts).status is LeadStatus.DONE


def test_stored_rules_override_delays_and_counts_and_cap_the_total() -> None:
    policy = policy_from_json(
        {"max_attempts": 3, "after": {"busy": 600}, "attempts": {"no_answer": 1}}
    )
    busy = next_attempt(policy, CallOutcome.BUSY, NOW, {CallOutcome.BUSY: 1})
    assert busy.next_attempt_at == NOW + timedelta(seconds=600)
    assert next_attempt(policy, CallOutcome.NO_ANSWER, NOW, {CallOutcome.NO_ANSWER: 1}).status is (
        LeadStatus.EXHAUSTED
    )
    counts = {CallOutcome.BUSY: 2, CallOutcome.MACHINE: 1}
    assert next_attempt(policy, CallOutcome.MACHINE, NOW, counts).status is LeadStatus.EXHAUSTED
    # The defaults stay for what the campaign does not set; a failed originate is retried.
    default = policy_from_json({})
    assert default.max_total_attempts is None
    failed = next_attempt(default, CallOutcome.FAILED, NOW, {CallOutcome.FAILED: 1})
    assert failed.status is LeadStatus.RETRY


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"max_attempts": 0}, "retry_rules.max_attempts"),
        ({"after": {"busy": -1}}, "retry_rules.after.busy"),
        ({"after": {"answered": 10}}, "retry_rules.after.answered"),
        ({"attempts": {"sideways": 1}}, "retry_rules.attempts.sideways"),
        ({"after": [1]}, "retry_rules.after"),
        ({"amd": True}, "retry_rules.amd"),
    ],
)
def test_wrong_stored_rules_name_their_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(UserInputError) as caught:
        policy_from_json(data)
    assert caught.value.field == field


def test_default_policy_retries_every_listed_outcome() -> None:
    policy = RetryPolicy()
    for outcome in (
        CallOutcome.BUSY,
        CallOutcome.NO_ANSWER,
        CallOutcome.CONGESTION,
        CallOutcome.MACHINE,
        CallOutcome.ABANDONED,
    ):
        decision = next_attempt(policy, outcome, NOW, {outcome: 1})
        assert decision.status is LeadStatus.RETRY, outcome
        assert decision.next_attempt_at is not None and decision.next_attempt_at > NOW


def test_counts_must_include_the_attempt_and_rules_must_make_sense() -> None:
    with pytest.raises(UserInputError):
        next_attempt(POLICY, CallOutcome.BUSY, NOW, {})
    with pytest.raises(UserInputError):
        RetryRule(delay=timedelta(minutes=-1), max_attempts=2)
    with pytest.raises(UserInputError):
        RetryRule(delay=timedelta(minutes=1), max_attempts=0)
    with pytest.raises(UserInputError):
        RetryPolicy(rules={CallOutcome.ANSWERED: RetryRule(delay=timedelta(0), max_attempts=1)})


def test_agent_callback_waits_then_goes_to_its_agent_then_to_the_campaign() -> None:
    due = NOW + timedelta(hours=2)
    callback = schedule_callback(NOW, due, agent_id="ana", agent_grace=timedelta(minutes=10))
    assert callback_route(callback, due - timedelta(seconds=1)) is CallbackRoute.WAIT
    assert callback_route(callback, due) is CallbackRoute.AGENT
    assert callback_route(callback, due + timedelta(minutes=9)) is CallbackRoute.AGENT
    assert callback_route(callback, due + timedelta(minutes=10)) is CallbackRoute.CAMPAIGN
    assert callback_reassign_at(callback) == due + timedelta(minutes=10)


def test_campaign_callback_is_for_anyone_when_due() -> None:
    callback = schedule_callback(NOW, NOW + timedelta(minutes=5))
    assert callback_route(callback, NOW + timedelta(minutes=5)) is CallbackRoute.CAMPAIGN
    assert callback_reassign_at(callback) == NOW + timedelta(minutes=5)


def test_callback_in_the_past_or_too_far_is_refused() -> None:
    with pytest.raises(UserInputError):
        schedule_callback(NOW, NOW - timedelta(minutes=1))
    with pytest.raises(UserInputError):
        schedule_callback(NOW, NOW + timedelta(days=400))


def test_postpone_by_delay_or_until_a_time() -> None:
    by_delay = postpone(
        NOW, delay=timedelta(hours=3), reason=" customer driving ", assignee="cobranza"
    )
    assert by_delay.until == NOW + timedelta(hours=3)
    assert by_delay.reason == "customer driving"
    assert by_delay.assignee == "cobranza"
    until = postpone(NOW, until=NOW + timedelta(days=1), reason="payday")
    assert until.until == NOW + timedelta(days=1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"reason": "x"},
        {"reason": "x", "delay": timedelta(hours=1), "until": NOW + timedelta(hours=1)},
        {"reason": "x", "until": NOW},
        {"reason": "x", "delay": timedelta(0)},
        {"reason": "  ", "delay": timedelta(hours=1)},
        {"reason": "x", "until": datetime(2026, 3, 3, 9, 0)},
    ],
)
def test_bad_postponements_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(UserInputError):
        postpone(NOW, **kwargs)  # type: ignore[arg-type]
