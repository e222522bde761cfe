"""How :class:`cti.dialer.service.DialerService` places calls and concludes them.

:class:`Placing` is the part of the service that, for one campaign, reads the queue and its own calls
in flight into a :class:`cti.domain.pacing.PacingInput`, claims leads and originates them, takes in
each Originate's answer, decides answered calls (a machine, connected, or abandoned, in the abandon
ledger) and stores every outcome. It holds no state of its own: the attributes declared here are the
service's (see ``DialerService.__init__``), and it runs on the service's event loop only.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from cti.ami.service import AmiService
from cti.clock import Clock
from cti.config import Settings
from cti.db import dialer as repo
from cti.db.calllog import link_dialer_calls
from cti.db.dialer import CampaignRow
from cti.db.engine import Database
from cti.dialer.campaigns import InFlight, LiveCampaign
from cti.dialer.scheduler import DialerScheduler
from cti.domain.backoffice import mask_phone
from cti.domain.commands import Originate
from cti.domain.compliance import (
    DialCheck,
    DoNotCall,
    Refusal,
    WindowVerdict,
    check_dial,
)
from cti.domain.events import OriginateOutcome
from cti.domain.model import CallOutcome, LeadStatus
from cti.domain.notices import AgentState
from cti.domain.pacing import PacingInput, calls_to_place
from cti.domain.retry import RetryPolicy, next_attempt
from cti.errors import AmiError, CTIError, UserInputError

# The service's logger: these lines are the service's.
log = logging.getLogger("cti.dialer.service")

_REMEMBER = 20000  # notices remembered for calls whose Originate has not returned yet
# How long after the answer an undecided call waits for the dialplan's word (AMD, connect limit and
# the abandon message fit well inside) before it is taken as abandoned.
_UNDECIDED_SECONDS = 60.0
# The expected rest of a wrap-up whose end the PBX did not announce.
_WRAPUP_GUESS_SECONDS = 5.0
_OUTCOMES = {
    OriginateOutcome.BUSY: CallOutcome.BUSY,
    OriginateOutcome.NO_ANSWER: CallOutcome.NO_ANSWER,
    OriginateOutcome.CONGESTION: CallOutcome.CONGESTION,
}
# A preview customer's leg that did not answer: Dial's DIALSTATUS.
_DIAL_STATUSES = {
    "BUSY": CallOutcome.BUSY,
    "NOANSWER": CallOutcome.NO_ANSWER,
    "CONGESTION": CallOutcome.CONGESTION,
    "CHANUNAVAIL": CallOutcome.CONGESTION,
    "CANCEL": CallOutcome.CANCELLED,
}
# How long a preview agent's own phone rings before the attempt is called off.
PREVIEW_AGENT_RING_SECONDS = 30

K = TypeVar("K")
V = TypeVar("V")


def remember(store: OrderedDict[K, V], key: K, value: V) -> None:
    """Keep ``key`` in ``store``, forgetting the oldest beyond ``_REMEMBER``."""
    store[key] = value
    if len(store) > _REMEMBER:
        store.popitem(last=False)


def _unrecorded(row: CampaignRow) -> dict[str, str]:
    """The dialplan variable that leaves a campaign's call unrecorded (none when it records:
    the call center's own CTI_RECORD setting then decides)."""
    return {} if row.record else {"CTI_RECORD": "no"}


def _next_step(
    policy: RetryPolicy, outcome: CallOutcome, now: datetime, counts: Mapping[CallOutcome, int]
) -> tuple[LeadStatus, datetime | None]:
    decision = next_attempt(policy, outcome, now, counts)
    return decision.status, decision.next_attempt_at


class Placing:
    """Placing and concluding calls; a base of :class:`cti.dialer.service.DialerService`."""

    settings: Settings
    clock: Clock
    db: Database
    instance: str | None
    ami: AmiService
    scheduler: DialerScheduler
    placed_total: int
    _channel: str
    _contexts: dict[str, str]
    _pbx_default: str
    _region: str
    _zone: str
    _live: dict[int, LiveCampaign]
    _by_linkedid: dict[str, InFlight]
    _by_attempt: dict[int, InFlight]
    _calls: OrderedDict[str, tuple[int, int]]
    _originating: int
    _finished: OrderedDict[str, tuple[datetime, str | None]]
    _connected: OrderedDict[str, datetime]
    _gone: OrderedDict[str, datetime]
    _wake: asyncio.Event
    _tasks: set[asyncio.Task[Any]]

    def wake(self) -> None:
        """Pace now rather than at the next tick."""
        self._wake.set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _pbx_of(self, live: LiveCampaign) -> str:
        return live.row.pbx or self._pbx_default

    async def _pace(self, live: LiveCampaign) -> None:
        pbx = self._pbx_of(live)
        if self.ami.status().get(pbx) != "connected":
            return
        now = self.clock.now()
        decision = calls_to_place(live.pacing, self._inputs(live, pbx, now))
        live.decision = decision
        if decision.calls <= 0:
            return  # nothing to place even on our own count: no need to ask the others
        # Other instances may be dialling this campaign too: decide again in the campaign's
        # pacing turn, counting their calls still ringing, and claim within it.
        async with repo.pacing_turn(self.db, live.row.id):
            now = self.clock.now()
            inputs = self._inputs(live, pbx, now)
            others = await repo.ringing_elsewhere(
                self.db,
                live.row.id,
                mine=[f.attempt_id for f in live.inflight.values()],
                since=now - timedelta(seconds=live.row.ring_seconds + 30),
            )
            if others:
                ages = tuple(max(0.0, (now - t).total_seconds()) for t in others)
                inputs = replace(inputs, ringing_ages_seconds=inputs.ringing_ages_seconds + ages)
            decision = calls_to_place(live.pacing, inputs)
            live.decision = decision
            if decision.calls <= 0:
                return
            claim = await repo.claim_leads(
                self.db,
                live.row.id,
                now=now,
                limit=decision.calls,
                verdict=self._verdict(live, now),
                placed_by=self.instance,
            )
        live.refused_dnc += claim.refused_dnc
        if claim.next_opening is not None and not claim.leads:
            self._wake_at(live, claim.next_opening)
        for lead in claim.leads:
            assert lead.attempt_id is not None
            self._dial(live, lead, now)

    def _inputs(self, live: LiveCampaign, pbx: str, now: datetime) -> PacingInput:
        state = self.ami.state(pbx)
        queue = live.row.queue
        ready = 0
        in_call: list[float] = []  # ages of the calls agents are in (a ringing agent's is 0)
        wrapping: list[float] = []  # seconds left of wrap-ups of known length
        unknown: list[float] = []  # expected seconds left of other wrap-ups
        for agent in state.agents.values():
            if queue not in agent.queues:
                continue
            if agent.state is AgentState.READY and not agent.paused:
                ready += 1
            elif agent.state is AgentState.WRAP_UP:
                if agent.wrapup_until is not None:
                    wrapping.append(max(0.0, (agent.wrapup_until - now).total_seconds()))
                else:
                    unknown.append(_WRAPUP_GUESS_SECONDS)
            elif agent.state is AgentState.IN_CALL:
                in_call.append(max(0.0, (now - agent.since).total_seconds()))
            elif agent.state is AgentState.RINGING:
                in_call.append(0.0)
        live.agents_ready = ready
        live.agents_busy = len(in_call) + len(wrapping) + len(unknown)
        waiting = state.queues.get(queue)
        in_queue = {str(w.linkedid) for w in waiting.waiting.values()} if waiting else set()
        ringing: list[float] = []
        ours_waiting = 0
        for f in live.inflight.values():
            if f.answered_at is None:
                ringing.append(max(0.0, (now - f.placed_at).total_seconds()))
            elif not f.decided and f.connected_at is None and f.linkedid not in in_queue:
                ours_waiting += 1
        answers, abandoned = live.ledger.counts(now)
        assert live.profile is not None
        ages = tuple(in_call)
        return PacingInput(
            agents_ready=ready,
            busy_ages_seconds=ages,
            handle=live.handle_now(now, ages),
            wrapup_remaining_seconds=tuple(wrapping),
            busy_remaining_seconds=tuple(unknown),
            ringing_ages_seconds=tuple(ringing),
            answered_waiting=len(in_queue) + ours_waiting,
            answers=live.profile,
            ledger_live_answers=answers,
            ledger_abandoned=abandoned,
        )

    def _verdict(self, live: LiveCampaign, now: datetime) -> repo.Verdict:
        zone = live.row.timezone or self._zone
        cid = str(live.row.id)

        def verdict(phone: str, lead_tz: str | None, dnc: DoNotCall) -> DialCheck:
            try:
                return check_dial(
                    phone=phone,
                    campaign_id=cid,
                    at=now,
                    windows=live.windows,
                    lead_tz=lead_tz,
                    campaign_tz=zone,
                    dnc=dnc,
                    region=self._region,
                )
            except UserInputError as exc:
                # A lead whose zone is unknown is treated as outside every window for a day.
                # (never the number in clear: logs are not where personal data goes)
                log.warning("lead %s of campaign %s: %s", mask_phone(phone), cid, exc.field)
                return DialCheck(
                    refusal=Refusal.OUTSIDE_WINDOW,
                    retry_at=now + timedelta(days=1),
                    window=WindowVerdict(allowed=False, zones=()),
                )

        return verdict

    def _wake_at(self, live: LiveCampaign, when: datetime) -> None:
        if live.wake_at is not None and live.wake_at <= when and live.wake_at > self.clock.now():
            return
        live.wake_at = when
        self._spawn(self._schedule_wake(live.row.id, when))

    async def _schedule_wake(self, campaign_id: int, when: datetime) -> None:
        try:
            await self.scheduler.at("wake", str(campaign_id), when)
        except Exception as exc:
            log.warning("dialer: could not schedule a wake-up (%s)", type(exc).__name__)

    # --- dialling ---------------------------------------------------------------------------

    def _dial(
        self, live: LiveCampaign, lead: repo.Claimed, now: datetime, agent: str | None = None
    ) -> None:
        assert lead.attempt_id is not None
        flight = InFlight(
            attempt_id=lead.attempt_id,
            lead_id=lead.lead_id,
            campaign_id=live.row.id,
            phone=lead.phone,
            placed_at=now,
            agent=agent,
        )
        live.inflight[flight.attempt_id] = flight
        self._by_attempt[flight.attempt_id] = flight
        live.placed += 1
        self.placed_total += 1
        self._spawn(self._originate(live, flight))

    def _request(self, live: LiveCampaign, flight: InFlight, pbx: str) -> Originate:
        context = self._contexts.get(pbx, "cti-dialer")
        number = flight.phone
        row = live.row
        ids = {
            "CTI_CAMPAIGN": str(row.id),
            "CTI_LEAD": str(flight.lead_id),
            "CTI_ATTEMPT": str(flight.attempt_id),
        }
        if flight.agent:
            # Preview: the agent's own phone first (it shows the campaign and the number).
            return Originate(
                channel=flight.agent,
                context=context,
                exten="preview",
                priority=1,
                caller_id=f'"{row.name}" <{number}>',
                timeout=float(PREVIEW_AGENT_RING_SECONDS),
                variables={
                    "CTI_NUMBER": number,
                    "CTI_CALLER_ID": row.caller_id or "",
                    "CTI_RING_SECONDS": str(live.ring_seconds),
                    "CTI_AGENT": flight.agent,
                    **ids,
                    **_unrecorded(row),
                },
            )
        caller_id = f'"{row.name}" <{row.caller_id}>' if row.caller_id else ""
        variables = {
            **ids,
            "CTI_QUEUE": row.queue,
            "CTI_AMD": "1" if row.amd else "0",
            "CTI_CONNECT_SECONDS": str(max(1, round(self.settings.dialer.connect_within_seconds))),
            "CTI_RING_SECONDS": str(live.ring_seconds),
            "CTI_NUMBER": number,
            **_unrecorded(row),
        }
        return Originate(
            channel=self._channel.format(number=number, context=context),
            context=context,
            exten="connect",
            priority=1,
            caller_id=caller_id,
            timeout=float(live.ring_seconds),
            variables=variables,
        )

    async def _originate(self, live: LiveCampaign, flight: InFlight) -> None:
        pbx = self._pbx_of(live)
        self._originating += 1
        try:
            result = await self.ami.originate(pbx, self._request(live, flight, pbx))
        except (AmiError, UserInputError) as exc:
            self._originating -= 1
            log.warning("campaign %s lead %s: not dialled (%s)", live.row.id, flight.lead_id, exc)
            live.observe_unanswered(flight.placed_at, self.clock.now())
            await self._finish(live, flight, CallOutcome.FAILED)
            return
        except BaseException:
            self._originating -= 1
            raise
        self._originating -= 1
        flight.action_id = str(result.action_id)
        if flight.agent is not None:
            await self._preview_started(live, flight, result.outcome, result.uniqueid)
            return
        if result.outcome is OriginateOutcome.ANSWERED:
            seen = self._finished.get(flight.action_id)
            answered_at = seen[0] if seen is not None else self.clock.now()
            flight.answered_at = answered_at
            linked = str(result.uniqueid) if result.uniqueid else None
            flight.linkedid = linked
            if linked is not None:
                self._by_linkedid[linked] = flight
                remember(self._calls, linked, (flight.campaign_id, flight.lead_id))
                flight.connected_at = flight.connected_at or self._connected.get(linked)
                flight.gone_at = flight.gone_at or self._gone.get(linked)
            if not live.row.amd:
                # With AMD the answer counts once the dialplan knows a person is there.
                flight.live_at = answered_at
                live.observe_answer(flight.placed_at, answered_at)
            live.answered += 1
            try:
                await repo.mark_answered(
                    self.db,
                    flight.attempt_id,
                    action_id=flight.action_id,
                    answered_at=answered_at,
                    linkedid=linked,
                )
            except CTIError as exc:
                log.error(
                    "campaign %s: storing the answer of attempt %s failed: %s",
                    live.row.id,
                    flight.attempt_id,
                    type(exc).__name__,
                )
            await self._settle(live)
            self.wake()
            return
        seen = self._finished.get(flight.action_id)
        live.observe_unanswered(flight.placed_at, seen[0] if seen is not None else self.clock.now())
        await self._finish(live, flight, _OUTCOMES.get(result.outcome, CallOutcome.FAILED))
        self.wake()

    async def _preview_started(
        self,
        live: LiveCampaign,
        flight: InFlight,
        outcome: OriginateOutcome,
        uniqueid: str | None,
    ) -> None:
        """A preview agent's own phone answered (the customer is being dialled) or did not."""
        if outcome is not OriginateOutcome.ANSWERED:
            log.info(
                "campaign %s: %s did not pick up to call lead %s",
                live.row.id,
                flight.agent,
                flight.lead_id,
            )
            await self._finish(live, flight, CallOutcome.CANCELLED)
            self.wake()
            return
        seen = self._finished.get(str(flight.action_id))
        flight.agent_up_at = seen[0] if seen is not None else self.clock.now()
        linked = str(uniqueid) if uniqueid else None
        flight.linkedid = linked
        if linked is not None:
            self._by_linkedid[linked] = flight
            remember(self._calls, linked, (flight.campaign_id, flight.lead_id))
            flight.connected_at = flight.connected_at or self._connected.get(linked)
            flight.gone_at = flight.gone_at or self._gone.get(linked)
        try:
            # The linkedid, so any instance's desk finds the lead of this call.
            await repo.mark_answered(
                self.db,
                flight.attempt_id,
                action_id=str(flight.action_id),
                answered_at=None,
                linkedid=linked,
            )
        except CTIError as exc:
            log.error(
                "campaign %s: storing preview attempt %s failed: %s",
                live.row.id,
                flight.attempt_id,
                type(exc).__name__,
            )
        await self._settle(live)
        self.wake()

    def _preview_outcome(self, flight: InFlight) -> CallOutcome | None:
        """A preview call's outcome once known: never an abandon (the agent was there first)."""
        if flight.connected_at is not None:
            return CallOutcome.ANSWERED
        if flight.dial_status is not None:
            return _DIAL_STATUSES.get(flight.dial_status.upper(), CallOutcome.FAILED)
        if flight.gone_at is not None:
            return CallOutcome.CANCELLED  # the agent hung up before the customer answered
        return None

    async def _settle(self, live: LiveCampaign) -> None:
        """Decide answered calls: a machine, connected to an agent, or abandoned (stored; a
        person's answer is counted in the ledger from the moment they were known to be live)."""
        now = self.clock.now()
        limit = self.settings.dialer.connect_within_seconds
        for flight in list(live.inflight.values()):
            if flight.decided:
                continue
            if flight.agent is not None:
                if flight.agent_up_at is None or (done := self._preview_outcome(flight)) is None:
                    continue
                flight.decided = True
                await self._finish(live, flight, done)
                continue
            if flight.answered_at is None:
                continue
            live_at = flight.live_at or flight.answered_at
            abandoned = False
            if flight.machine:
                outcome = CallOutcome.MACHINE
            elif flight.connected_at is not None:
                after = max(0.0, (flight.connected_at - live_at).total_seconds())
                abandoned = live.ledger.record(live_at, after)
                outcome = CallOutcome.ANSWERED
            elif (
                flight.abandoned_at is not None
                or flight.gone_at is not None
                or (now - flight.answered_at).total_seconds() > _UNDECIDED_SECONDS
            ):
                if flight.abandoned_at is None and flight.gone_at is None:
                    log.warning(
                        "campaign %s: no word from the dialplan on lead %s; taken as abandoned",
                        live.row.id,
                        flight.lead_id,
                    )
                live.ledger.record(live_at, None)
                abandoned = True
                outcome = CallOutcome.ABANDONED
            else:
                continue
            flight.decided = True
            if abandoned:
                live.abandoned += 1
                log.info(
                    "campaign %s: lead %s abandoned (no agent within %.0f s)",
                    live.row.id,
                    flight.lead_id,
                    limit,
                )
            await self._finish(live, flight, outcome)

    async def _finish(self, live: LiveCampaign, flight: InFlight, outcome: CallOutcome) -> None:
        live.inflight.pop(flight.attempt_id, None)
        self._by_attempt.pop(flight.attempt_id, None)
        if flight.linkedid is not None:
            self._by_linkedid.pop(flight.linkedid, None)
        now = self.clock.now()
        rules = live.rules
        when: datetime | None = None
        try:
            when = await repo.finish_attempt(
                self.db,
                flight.attempt_id,
                action_id=flight.action_id,
                outcome=outcome,
                answered_at=flight.answered_at,
                connected_at=flight.connected_at,
                ended_at=flight.gone_at or now,
                linkedid=flight.linkedid,
                next_step=lambda counts: _next_step(rules, outcome, now, counts),
            )
            if flight.linkedid is not None:
                # Its call in the log and the operator who took it, if the log has them already.
                await link_dialer_calls(self.db, [flight.linkedid])
        except CTIError as exc:
            log.error(
                "campaign %s: storing attempt %s of lead %s failed: %s",
                live.row.id,
                flight.attempt_id,
                flight.lead_id,
                type(exc).__name__,
            )
        if when is not None:
            self._wake_at(live, when)


__all__ = ["PREVIEW_AGENT_RING_SECONDS", "Placing"]
