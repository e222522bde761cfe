"""When a lead is called again: retry rules per outcome, callbacks and postponed calls.

Pure due-time arithmetic: the caller passes the instant of the decision and gets back an instant or a
final status. Calling windows and do-not-call lists are checked again at dial time
(:func:`cti.domain.compliance.check_dial`), so a retry that falls outside a window waits for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from cti.domain.model import CallOutcome, LeadStatus
from cti.domain.texts import _
from cti.errors import UserInputError


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryRule:
    """Wait ``delay`` before the next attempt; give up after ``max_attempts`` attempts with this outcome."""

    delay: timedelta
    max_attempts: int

    def __post_init__(self) -> None:
        if self.delay < timedelta(0):
            raise UserInputError("delay", _("must not be negative"))
        if self.max_attempts < 1:
            raise UserInputError("max_attempts", _("must be at least 1"))


def _default_rules() -> Mapping[CallOutcome, RetryRule]:
    return MappingProxyType(
        {
            CallOutcome.BUSY: RetryRule(delay=timedelta(minutes=10), max_attempts=5),
            CallOutcome.NO_ANSWER: RetryRule(delay=timedelta(hours=1), max_attempts=4),
            CallOutcome.CONGESTION: RetryRule(delay=timedelta(minutes=5), max_attempts=5),
            CallOutcome.MACHINE: RetryRule(delay=timedelta(hours=4), max_attempts=3),
            # A person answered and heard the abandon message: call back soon, once or twice.
            CallOutcome.ABANDONED: RetryRule(delay=timedelta(minutes=30), max_attempts=3),
            # The Originate failed on our side or the PBX's, not the person's: try again soon.
            CallOutcome.FAILED: RetryRule(delay=timedelta(minutes=5), max_attempts=3),
            # Called off before the customer answered (a preview agent who did not pick up their
            # own phone, or hung up while the customer's rang): the lead goes back soon.
            CallOutcome.CANCELLED: RetryRule(delay=timedelta(minutes=1), max_attempts=5),
        }
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """A campaign's retry rules.

    Attributes:
        rules: per outcome; an outcome without a rule (``answered``, ``lost``) ends the lead.
        max_total_attempts: a cap over all outcomes together, ``None`` for none.
    """

    rules: Mapping[CallOutcome, RetryRule] = field(default_factory=_default_rules)
    max_total_attempts: int | None = None

    def __post_init__(self) -> None:
        if CallOutcome.ANSWERED in self.rules:
            raise UserInputError(
                "rules", _("an answered call connected to an agent is not retried")
            )
        if self.max_total_attempts is not None and self.max_total_attempts < 1:
            raise UserInputError("max_total_attempts", _("must be at least 1"))


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryDecision:
    """What happens to a lead after an attempt.

    Attributes:
        status: ``retry`` (call again at ``next_attempt_at``), ``done`` or ``exhausted``.
        next_attempt_at: when to call again, only with ``retry``.
    """

    status: LeadStatus
    next_attempt_at: datetime | None = None


def next_attempt(
    policy: RetryPolicy,
    outcome: CallOutcome,
    ended_at: datetime,
    attempts_by_outcome: Mapping[CallOutcome, int],
) -> RetryDecision:
    """Decide the lead's next step after an attempt ended with ``outcome`` at ``ended_at``.

    Args:
        policy: the campaign's rules.
        outcome: how this attempt ended.
        ended_at: when it ended (timezone-aware).
        attempts_by_outcome: the lead's attempts so far per outcome, this one included.

    Raises:
        UserInputError: ``ended_at`` is naive, or the counts do not include this attempt.
    """
    if ended_at.tzinfo is None or ended_at.utcoffset() is None:
        raise UserInputError("ended_at", _("must be a timezone-aware datetime"))
    if outcome is CallOutcome.ANSWERED:
        return RetryDecision(status=LeadStatus.DONE)
    rule = policy.rules.get(outcome)
    if rule is None:
        return RetryDecision(status=LeadStatus.DONE)
    count = attempts_by_outcome.get(outcome, 0)
    if count < 1:
        raise UserInputError(
            "attempts_by_outcome", _("must count this {outcome} attempt"), outcome=outcome
        )
    total = sum(attempts_by_outcome.values())
    if count >= rule.max_attempts or (
        policy.max_total_attempts is not None and total >= policy.max_total_attempts
    ):
        return RetryDecision(status=LeadStatus.EXHAUSTED)
    return RetryDecision(status=LeadStatus.RETRY, next_attempt_at=ended_at + rule.delay)


def is_due(next_attempt_at: datetime | None, now: datetime) -> bool:
    """Whether a lead waiting for ``next_attempt_at`` may be dialled at ``now``."""
    return next_attempt_at is None or next_attempt_at <= now


def _whole(value: Any, where: str, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise UserInputError(
            where, _("must be a whole number of at least {minimum}"), minimum=minimum
        )
    return value


def policy_from_json(data: object) -> RetryPolicy:
    """Read a campaign's stored retry rules (``Campaign.retry_rules``) into a :class:`RetryPolicy`.

    The stored form: ``{"max_attempts": 3, "after": {"busy": 600, ...}, "attempts": {"busy": 5}}``:
    ``max_attempts`` caps the attempts over all outcomes (absent: no cap), ``after`` gives the
    seconds to wait after an outcome and ``attempts`` the most attempts ending with it; an outcome
    given in neither keeps its default rule (:func:`_default_rules`). Outcomes: ``busy``,
    ``no_answer``, ``congestion``, ``machine``, ``abandoned`` (a dropped call), ``failed``.

    Raises:
        UserInputError: a wrong value, naming it (``retry_rules.after.busy``).
    """
    data = data or {}
    if not isinstance(data, Mapping):
        raise UserInputError("retry_rules", _("expected an object"))
    for key in data:
        if key not in ("max_attempts", "after", "attempts"):
            raise UserInputError(f"retry_rules.{key}", _("is not a retry setting"))
    total = data.get("max_attempts")
    if total is not None:
        total = _whole(total, "retry_rules.max_attempts", 1)
    rules = dict(_default_rules())
    changes: dict[CallOutcome, dict[str, int]] = {}
    for part, minimum in (("after", 0), ("attempts", 1)):
        raw = data.get(part, {})
        if not isinstance(raw, Mapping):
            raise UserInputError(f"retry_rules.{part}", _("expected an object of outcome: number"))
        for name, value in raw.items():
            where = f"retry_rules.{part}.{name}"
            try:
                outcome = CallOutcome(name)
            except ValueError:
                raise UserInputError(where, _("is not an outcome")) from None
            if outcome not in rules:
                raise UserInputError(where, _("is not retried"))
            changes.setdefault(outcome, {})[part] = _whole(value, where, minimum)
    for outcome, change in changes.items():
        base = rules[outcome]
        rules[outcome] = RetryRule(
            delay=timedelta(seconds=change["after"]) if "after" in change else base.delay,
            max_attempts=change.get("attempts", base.max_attempts),
        )
    return RetryPolicy(rules=MappingProxyType(rules), max_total_attempts=total)


# --------------------------------------------------------------------------------------------------
# Callbacks and postponed calls


class CallbackRoute(StrEnum):
    """Who takes a callback now."""

    WAIT = "wait"  # not due yet
    AGENT = "agent"  # due: offer it to its agent only
    CAMPAIGN = "campaign"  # due: any agent of the campaign may take it


@dataclass(frozen=True, slots=True, kw_only=True)
class Callback:
    """A call the person asked for (the seeds' *próxima llamada*).

    Attributes:
        due_at: when to call (timezone-aware).
        agent_id: the agent who owns it, ``None`` for the campaign.
        agent_grace: how long past ``due_at`` an owned callback waits for its agent before any agent
            of the campaign may take it.
    """

    due_at: datetime
    agent_id: str | None = None
    agent_grace: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.due_at.tzinfo is None or self.due_at.utcoffset() is None:
            raise UserInputError("due_at", _("must be a timezone-aware datetime"))
        if self.agent_grace < timedelta(0):
            raise UserInputError("agent_grace", _("must not be negative"))


def schedule_callback(
    now: datetime,
    due_at: datetime,
    *,
    agent_id: str | None = None,
    agent_grace: timedelta = timedelta(minutes=15),
    max_ahead: timedelta = timedelta(days=365),
) -> Callback:
    """A callback asked for at ``now`` to be made at ``due_at``.

    Raises:
        UserInputError: ``due_at`` is in the past or further ahead than ``max_ahead``.
    """
    if due_at.tzinfo is None or due_at.utcoffset() is None:
        raise UserInputError("due_at", _("must include a time zone"))
    if due_at < now:
        raise UserInputError("due_at", _("is in the past"))
    if due_at - now > max_ahead:
        raise UserInputError("due_at", _("is more than {days} days ahead"), days=max_ahead.days)
    return Callback(due_at=due_at, agent_id=agent_id, agent_grace=agent_grace)


def callback_route(callback: Callback, now: datetime) -> CallbackRoute:
    """Who may take ``callback`` at ``now``: nobody yet, its own agent, or the whole campaign."""
    if now < callback.due_at:
        return CallbackRoute.WAIT
    if callback.agent_id is not None and now < callback.due_at + callback.agent_grace:
        return CallbackRoute.AGENT
    return CallbackRoute.CAMPAIGN


def callback_reassign_at(callback: Callback) -> datetime:
    """When an owned callback opens to the whole campaign (its due time for a campaign callback)."""
    if callback.agent_id is None:
        return callback.due_at
    return callback.due_at + callback.agent_grace


@dataclass(frozen=True, slots=True, kw_only=True)
class Postponement:
    """A call postponed (*aplazar*) until a time, with a reason, for a user or a group.

    Attributes:
        until: when it becomes due again (timezone-aware).
        reason: why, as typed by the agent.
        assignee: the user or group that resolves it, ``None`` for whoever works the campaign.
    """

    until: datetime
    reason: str
    assignee: str | None = None


def postpone(
    now: datetime,
    *,
    until: datetime | None = None,
    delay: timedelta | None = None,
    reason: str,
    assignee: str | None = None,
    max_ahead: timedelta = timedelta(days=365),
) -> Postponement:
    """Postpone a call from ``now`` either until a given time or by a delay (exactly one of them).

    Raises:
        UserInputError: neither or both given, a time in the past or too far ahead, or no reason.
    """
    if delay is not None:
        if until is not None:
            raise UserInputError("until", _("give either a time or a delay, not both"))
        if delay <= timedelta(0):
            raise UserInputError("delay", _("must be positive"))
        until = now + delay
    if until is None:
        raise UserInputError("until", _("give either a time or a delay"))
    if until.tzinfo is None or until.utcoffset() is None:
        raise UserInputError("until", _("must include a time zone"))
    if until <= now:
        raise UserInputError("until", _("is not in the future"))
    if until - now > max_ahead:
        raise UserInputError("until", _("is more than {days} days ahead"), days=max_ahead.days)
    if not reason.strip():
        raise UserInputError("reason", _("must not be empty"))
    return Postponement(until=until, reason=reason.strip(), assignee=assignee)
