"""``DialerService``: works the running campaigns - paces, selects leads, originates, records.

One task paces every running campaign on each wake (an agent's state changed, a call ended, a job
fired, a supervisor acted) and at least every ``tick_seconds``:

1. it reads the campaign's queue from the AMI state (agents ready, agents busy and for how long,
   callers waiting) and its own calls in flight, and asks :func:`cti.dialer.pacing.calls_to_place`
   how many calls to place (preview: none, the agent presses dial);
2. :func:`cti.db.dialer.claim_leads` takes that many leads under row locks (``SKIP LOCKED``),
   checking the do-not-call lists and each lead's calling window at that instant;
3. each lead is dialled with one ``Originate`` (never re-sent) into the dialer context
   (``[[ami]] dialer_context``; see ``config/asterisk/extensions.conf``) with the channel variables
   ``CTI_CAMPAIGN``, ``CTI_LEAD``, ``CTI_ATTEMPT``, ``CTI_QUEUE``, ``CTI_AMD``,
   ``CTI_CONNECT_SECONDS``, ``CTI_RING_SECONDS``, and for a preview call ``CTI_AGENT`` (the
   interface of the agent who pressed dial; ``CTI_ACTION_ID`` is added by the AMI layer);
4. the outcome is stored on the attempt and the lead moves on by the campaign's retry rules
   (:mod:`cti.dialer.retry`).

The dialplan decides what happened after the answer and says so in UserEvents (dialer notices):
a machine found by AMD is outcome ``machine`` (no live answer, not in the abandon ledger); a person
is a live answer, ``answered`` when an agent took it (``AgentConnected`` for its linkedid, or
``DialerConnected`` for a preview agent), ``abandoned`` when the dialplan gave up after the connect
limit (``DialerAbandoned``) or the person hung up first. The AMI listener only records what it sees
(O(1), never blocks); the pacing task draws the conclusions.

The desk's screen-pop of a dialer call: :meth:`DialerService.pop_for_call`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as phone_timezone

from cti.ami.service import AmiService
from cti.clock import Clock
from cti.config import Settings
from cti.db import dialer as repo
from cti.db.backoffice.common import Refused
from cti.db.engine import Database
from cti.dialer.campaigns import KNOBS, InFlight, LiveCampaign, ledger_window, pacing_settings
from cti.dialer.compliance import (
    AbandonLedger,
    DialCheck,
    DoNotCall,
    Refusal,
    WindowVerdict,
    check_dial,
)
from cti.dialer.pacing import PacingInput, calls_to_place, expected_remaining
from cti.dialer.retry import RetryPolicy, next_attempt
from cti.dialer.scheduler import DialerScheduler
from cti.domain.commands import Originate
from cti.domain.events import OriginateOutcome
from cti.domain.model import CallOutcome, CampaignMode, CampaignStatus, LeadStatus
from cti.domain.notices import (
    AgentCallEnded,
    AgentConnected,
    AgentState,
    AgentStateChanged,
    AnyNotice,
    CallEnded,
    CallerAbandoned,
    DialerAbandoned,
    DialerAmdDecided,
    DialerConnected,
    DialerMachineHungUp,
    DialerNotice,
    LinkChanged,
    MemberChanged,
    OriginateFinished,
)
from cti.errors import AmiError, CTIError, UserInputError

log = logging.getLogger(__name__)

DEFAULT_CHANNEL = "Local/{number}@{context}/n"
_REMEMBER = 20000  # notices remembered for calls whose Originate has not returned yet
# How long after the answer an undecided call waits for the dialplan's word (AMD, connect limit and
# the abandon message fit well inside) before it is taken as abandoned.
_UNDECIDED_SECONDS = 60.0
_OUTCOMES = {
    OriginateOutcome.BUSY: CallOutcome.BUSY,
    OriginateOutcome.NO_ANSWER: CallOutcome.NO_ANSWER,
    OriginateOutcome.CONGESTION: CallOutcome.CONGESTION,
}

K = TypeVar("K")
V = TypeVar("V")


def _remember(store: OrderedDict[K, V], key: K, value: V) -> None:
    store[key] = value
    if len(store) > _REMEMBER:
        store.popitem(last=False)


def _next_step(
    policy: RetryPolicy, outcome: CallOutcome, now: datetime, counts: Mapping[CallOutcome, int]
) -> tuple[LeadStatus, datetime | None]:
    decision = next_attempt(policy, outcome, now, counts)
    return decision.status, decision.next_attempt_at


def default_zone(region: str) -> str:
    """The main time zone of a country (the zone of its example number), else UTC."""
    example = phonenumbers.example_number(region)
    if example is not None:
        for name in phone_timezone.time_zones_for_number(example):
            try:
                ZoneInfo(name)
            except (KeyError, ValueError):
                continue
            return name
    return "UTC"


class DialerService:
    """The dialer of one cti instance. An async context manager; see the module docstring.

    Args:
        settings: the service's settings (``dialer.*``, ``ami``, ``telephony.default_region``).
        clock: time for every decision (windows, retries, the ledger).
        db: the database.
        ami: the PBX links.
        database_url: the database's URL, for the scheduler's job store.
        channel: the Originate channel, ``{number}`` and ``{context}`` filled in.
        tick_seconds: the longest wait between two pacing passes.
        refresh_seconds: how often campaigns (status, mode, rules) are re-read from the database.
        ledger_refresh_seconds: how often the ledgers are re-read (answers of other instances).
        upkeep_seconds: the scheduler's upkeep period.
        stale_after: a lead ``dialing`` this long with no open attempt is dialable again.
        skip_seconds: how long a lead skipped in preview waits.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        db: Database,
        ami: AmiService,
        database_url: str,
        *,
        channel: str = DEFAULT_CHANNEL,
        tick_seconds: float = 1.0,
        refresh_seconds: float = 2.0,
        ledger_refresh_seconds: float = 60.0,
        upkeep_seconds: float = 15.0,
        stale_after: timedelta = timedelta(minutes=15),
        skip_seconds: float = 600.0,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.db = db
        self.ami = ami
        self._channel = channel
        self._tick = tick_seconds
        self._refresh = refresh_seconds
        self._ledger_refresh = ledger_refresh_seconds
        self._stale_after = stale_after
        self._skip = timedelta(seconds=skip_seconds)
        self._region = settings.telephony.default_region
        self._zone = default_zone(self._region)
        self._pbx_default = settings.ami[0].name if settings.ami else ""
        self._contexts = {s.name: s.dialer_context for s in settings.ami}
        self.scheduler = DialerScheduler(
            db, database_url, self, zone=ZoneInfo(self._zone), upkeep_seconds=upkeep_seconds
        )
        self._live: dict[int, LiveCampaign] = {}
        self._by_linkedid: dict[str, InFlight] = {}
        self._by_attempt: dict[int, InFlight] = {}
        # Answered calls this instance placed: linkedid -> (campaign, lead), kept after the outcome.
        self._calls: OrderedDict[str, tuple[int, int]] = OrderedDict()
        # Originates sent whose answer the placing task has not taken in yet.
        self._originating = 0
        self._finished: OrderedDict[str, tuple[datetime, str | None]] = OrderedDict()
        self._connected: OrderedDict[str, datetime] = OrderedDict()
        self._gone: OrderedDict[str, datetime] = OrderedDict()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._last_refresh = -1e18
        self._last_ledger = -1e18
        self._pace_lock = asyncio.Lock()
        self.placed_total = 0

    # --- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> DialerService:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Subscribe to the PBX notices, start the scheduler and the pacing task."""
        self._unsubscribe = self.ami.subscribe(self._on_notice)
        await self.scheduler.start()
        self._loop_task = asyncio.get_running_loop().create_task(self._run(), name="dialer")

    async def stop(self) -> None:
        """Stop placing calls first, then the scheduler; calls in flight stay with the PBX."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        tasks = [t for t in (self._loop_task, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop_task = None
        self._tasks.clear()
        await self.scheduler.stop()

    def wake(self) -> None:
        """Pace now rather than at the next tick."""
        self._wake.set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- what the PBX tells ------------------------------------------------------------------

    def _on_notice(self, notice: AnyNotice) -> None:
        """Sync, on the AMI consumer: record and wake, nothing else."""
        if isinstance(notice, DialerNotice):
            self._on_dialer_notice(notice)
        elif isinstance(notice, OriginateFinished):
            _remember(self._finished, str(notice.action_id), (notice.at, notice.uniqueid))
        elif isinstance(notice, AgentConnected):
            linked = str(notice.linkedid)
            _remember(self._connected, linked, notice.at)
            mine = self._by_linkedid.get(linked)
            if mine is not None and mine.connected_at is None:
                mine.connected_at = notice.at
            self._wake.set()
        elif isinstance(notice, CallerAbandoned | CallEnded):
            linked = str(notice.linkedid)
            _remember(self._gone, linked, notice.at)
            mine = self._by_linkedid.get(linked)
            if mine is not None and mine.gone_at is None:
                mine.gone_at = notice.at
            self._wake.set()
        elif isinstance(notice, AgentCallEnded):
            call = self._calls.get(str(notice.linkedid))
            if call is not None:
                live = self._live.get(call[0])
                if live is not None:
                    live.handle = live.handle.observe(notice.talk_seconds)
                    live.residual = live.handle.residual_table()
            self._wake.set()
        elif isinstance(notice, AgentStateChanged | MemberChanged | LinkChanged):
            self._wake.set()

    def _on_dialer_notice(self, notice: DialerNotice) -> None:
        flight = self._by_attempt.get(notice.attempt_id) if notice.attempt_id else None
        if flight is None:
            return
        if isinstance(notice, DialerAmdDecided):
            live = self._live.get(flight.campaign_id)
            if notice.machine:
                flight.machine = True
                if live is not None:
                    live.answers = live.answers.observe_unanswered()
            else:
                flight.live_at = notice.at
                if live is not None:
                    answered = flight.answered_at or notice.at
                    delay = max(0.0, (answered - flight.placed_at).total_seconds())
                    live.answers = live.answers.observe_answer(delay)
            if live is not None:
                live.profile = live.answers.profile()
        elif isinstance(notice, DialerMachineHungUp):
            flight.machine = True
        elif isinstance(notice, DialerAbandoned):
            flight.abandoned_at = flight.abandoned_at or notice.at
        elif isinstance(notice, DialerConnected):
            flight.connected_at = flight.connected_at or notice.at
        self._wake.set()

    # --- the pacing task ---------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                now_loop = loop.time()
                if now_loop - self._last_refresh >= self._refresh:
                    self._last_refresh = now_loop
                    await self.refresh()
                if now_loop - self._last_ledger >= self._ledger_refresh:
                    self._last_ledger = now_loop
                    await self._reload_ledgers()
                await self.pace()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dialer: pacing pass failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._tick):
                    await self._wake.wait()
            self._wake.clear()

    async def refresh(self) -> None:
        """Re-read the campaigns that run or are paused (and keep those with calls in flight)."""
        rows = await repo.campaigns(
            self.db, statuses=(CampaignStatus.RUNNING, CampaignStatus.PAUSED)
        )
        seen = set()
        for row in rows:
            seen.add(row.id)
            live = self._live.get(row.id)
            try:
                if live is None:
                    ledger = await self._ledger_of(row.id)
                    self._live[row.id] = LiveCampaign.build(row, self.settings.dialer, ledger)
                else:
                    live.update(row, self.settings.dialer)
            except UserInputError as exc:
                log.error("campaign %s (%s) cannot be dialled: %s", row.id, row.name, exc)
        for cid in list(self._live):
            if cid not in seen:
                live = self._live[cid]
                if live.inflight:
                    live.row = await repo.campaign(self.db, cid)
                else:
                    del self._live[cid]
        left = await repo.leads_left(self.db, list(self._live), self.clock.now())
        for cid, live in self._live.items():
            live.leads_left = left.get(cid, 0)

    async def _ledger_of(self, campaign_id: int) -> AbandonLedger:
        d = self.settings.dialer
        ledger = AbandonLedger(
            window=ledger_window(d), connect_within_seconds=d.connect_within_seconds
        )
        since = self.clock.now() - ledger.window
        for answered_at, after in await repo.ledger_rows(self.db, campaign_id, since):
            ledger.record(answered_at, after)
        return ledger

    async def _reload_ledgers(self) -> None:
        for cid, live in list(self._live.items()):
            live.ledger = await self._ledger_of(cid)

    async def pace(self) -> None:
        """One pacing pass over every campaign (settle answered calls, then place new ones)."""
        async with self._pace_lock:
            for live in list(self._live.values()):
                await self._settle(live)
                if live.running:
                    await self._pace(live)

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
        busy: list[float] = []
        for agent in state.agents.values():
            if queue not in agent.queues:
                continue
            if agent.state is AgentState.READY and not agent.paused:
                ready += 1
            elif agent.state is AgentState.WRAP_UP:
                left = (agent.wrapup_until - now).total_seconds() if agent.wrapup_until else 5.0
                busy.append(max(1.0, left))
            elif agent.state is AgentState.IN_CALL:
                busy.append(expected_remaining(live.residual, (now - agent.since).total_seconds()))
            elif agent.state is AgentState.RINGING:
                busy.append(expected_remaining(live.residual, 0.0))
        live.agents_ready, live.agents_busy = ready, len(busy)
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
        return PacingInput(
            agents_ready=ready,
            busy_remaining_seconds=tuple(busy),
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
                log.warning("lead %s of campaign %s: %s", phone, cid, exc)
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
        try:
            self.scheduler.at("wake", str(live.row.id), when)
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
        caller_id = f'"{row.name}" <{row.caller_id}>' if row.caller_id else ""
        variables = {
            "CTI_CAMPAIGN": str(row.id),
            "CTI_LEAD": str(flight.lead_id),
            "CTI_ATTEMPT": str(flight.attempt_id),
            "CTI_QUEUE": row.queue,
            "CTI_AMD": "1" if row.amd else "0",
            "CTI_CONNECT_SECONDS": str(max(1, round(self.settings.dialer.connect_within_seconds))),
            "CTI_RING_SECONDS": str(live.ring_seconds),
        }
        if flight.agent:
            variables["CTI_AGENT"] = flight.agent
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
            live.answers = live.answers.observe_unanswered()
            await self._finish(live, flight, CallOutcome.FAILED)
            return
        except BaseException:
            self._originating -= 1
            raise
        self._originating -= 1
        flight.action_id = str(result.action_id)
        if result.outcome is OriginateOutcome.ANSWERED:
            seen = self._finished.get(flight.action_id)
            answered_at = seen[0] if seen is not None else self.clock.now()
            flight.answered_at = answered_at
            linked = str(result.uniqueid) if result.uniqueid else None
            flight.linkedid = linked
            if linked is not None:
                self._by_linkedid[linked] = flight
                _remember(self._calls, linked, (flight.campaign_id, flight.lead_id))
                flight.connected_at = flight.connected_at or self._connected.get(linked)
                flight.gone_at = flight.gone_at or self._gone.get(linked)
            if not live.row.amd:
                # With AMD the answer counts once the dialplan knows a person is there.
                flight.live_at = answered_at
                delay = max(0.0, (answered_at - flight.placed_at).total_seconds())
                live.answers = live.answers.observe_answer(delay)
                live.profile = live.answers.profile()
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
                    "campaign %s: storing the answer of %s failed: %s", live.row.id, flight, exc
                )
            await self._settle(live)
            self.wake()
            return
        live.answers = live.answers.observe_unanswered()
        live.profile = live.answers.profile()
        await self._finish(live, flight, _OUTCOMES.get(result.outcome, CallOutcome.FAILED))
        self.wake()

    async def _settle(self, live: LiveCampaign) -> None:
        """Decide answered calls: a machine, connected to an agent, or abandoned (stored; a
        person's answer is counted in the ledger from the moment they were known to be live)."""
        now = self.clock.now()
        limit = self.settings.dialer.connect_within_seconds
        for flight in list(live.inflight.values()):
            if flight.answered_at is None or flight.decided:
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
        except CTIError as exc:
            log.error("campaign %s: storing attempt %s failed: %s", live.row.id, flight, exc)
        if when is not None:
            self._wake_at(live, when)

    # --- what supervisors and agents do ------------------------------------------------------

    async def set_status(self, campaign_id: int, status: CampaignStatus, *, actor: str) -> None:
        """Start, pause or stop a campaign (audited); takes effect at once on this instance."""
        await repo.set_status(self.db, campaign_id, status, actor=actor)
        await self.refresh()
        self.wake()

    async def set_pacing(
        self,
        campaign_id: int,
        *,
        actor: str,
        mode: CampaignMode | None = None,
        abandon_cap: float | None = None,
        knobs: dict[str, float] | None = None,
    ) -> dict[str, Any]:
        """Change a campaign's pacing live (audited); returns its figures.

        Raises:
            UserInputError: a knob out of range (named).
        """
        live = self._live.get(campaign_id)
        row = await repo.campaign(self.db, campaign_id)
        merged = dict(row.pacing or {})
        for name, value in (knobs or {}).items():
            if name not in KNOBS:
                raise UserInputError(name, "is not a pacing setting")
            merged[name] = float(value)
        # Check the whole before storing anything.
        probe = row
        if mode is not None or abandon_cap is not None:
            probe = replace(
                row,
                mode=mode or row.mode,
                abandon_cap=abandon_cap if abandon_cap is not None else row.abandon_cap,
            )
        pacing_settings(probe, self.settings.dialer, merged)
        row = await repo.set_pacing(
            self.db, campaign_id, actor=actor, mode=mode, abandon_cap=abandon_cap, knobs=merged
        )
        if live is not None:
            live.update(row, self.settings.dialer)
        await self.refresh()
        self.wake()
        return self.figures_of(campaign_id) or {"id": campaign_id}

    async def preview_next(self, campaign_id: int, username: str) -> dict[str, Any] | None:
        """Reserve the next lead of a preview campaign for an agent: their own callbacks first.

        Returns the pop (:func:`cti.db.dialer.lead_for_call`), or None when no lead may be called.

        Raises:
            Refused: the campaign is not a running preview campaign.
        """
        live = await self._running(campaign_id, preview=True)
        operator = await repo.operator_id_of(self.db, username)
        now = self.clock.now()
        claim = await repo.claim_leads(
            self.db,
            campaign_id,
            now=now,
            limit=1,
            verdict=self._verdict(live, now),
            operator_id=operator,
            create_attempts=False,
        )
        if not claim.leads:
            return None
        return await repo.lead_for_call(self.db, lead_id=claim.leads[0].lead_id)

    async def preview_dial(
        self, campaign_id: int, lead_id: int, username: str, *, interface: str | None = None
    ) -> int:
        """The agent pressed dial: DNC and window are checked again, then the call is placed; when
        answered it rings that agent's own phone (``CTI_AGENT``), not the queue.

        Args:
            interface: the agent's phone (where the desk signed them in); None: the interface
                stored for the user.

        Returns the attempt id.

        Raises:
            UserInputError: no phone is known for the agent (``interface``).
        """
        live = await self._running(campaign_id, preview=True)
        agent = interface or await repo.operator_interface(self.db, username)
        if not agent:
            raise UserInputError("interface", "sign in at the desk with your phone first")
        now = self.clock.now()
        lead = await repo.start_attempt(
            self.db, campaign_id, lead_id, now=now, verdict=self._verdict(live, now)
        )
        assert lead.attempt_id is not None
        log.info("campaign %s: %s dials lead %s from %s", campaign_id, username, lead_id, agent)
        self._dial(live, lead, now, agent=agent)
        return lead.attempt_id

    async def preview_skip(self, campaign_id: int, lead_id: int, username: str) -> None:
        """The agent skipped the lead: it waits ``skip_seconds`` for another turn."""
        await repo.release_lead(
            self.db, campaign_id, lead_id, until=self.clock.now() + self._skip, actor=username
        )

    async def postpone(
        self, campaign_id: int, lead_id: int, until: datetime, *, actor: str
    ) -> None:
        """Put a lead's next call off until ``until`` (a postponed call)."""
        await repo.release_lead(self.db, campaign_id, lead_id, until=until, actor=actor)
        self.scheduler.at("wake", str(campaign_id), until)

    async def add_callback(
        self,
        campaign_id: int,
        lead_id: int,
        due_at: datetime,
        *,
        owner: str | None,
        actor: str,
    ) -> int:
        """Promise a call back at ``due_at``, to ``owner`` (an agent's username) or to the campaign.

        The lead is held until the scheduler's ``callback:<id>`` job releases it at ``due_at`` (the
        job is kept in PostgreSQL: a restart loses none). Returns the callback id.

        Raises:
            UserInputError: ``owner`` is not a user.
        """
        operator = None
        if owner is not None:
            operator = await repo.operator_id_of(self.db, owner)
            if operator is None:
                raise UserInputError("owner", f"there is no user {owner!r}")
        callback = await repo.add_callback(
            self.db, campaign_id, lead_id, due_at=due_at, operator_id=operator, actor=actor
        )
        self.scheduler.at("callback", str(callback), due_at)
        return callback

    async def _running(self, campaign_id: int, *, preview: bool) -> LiveCampaign:
        live = self._live.get(campaign_id)
        if live is None or not live.running:
            await self.refresh()
            live = self._live.get(campaign_id)
        if live is None or not live.running:
            await repo.campaign(self.db, campaign_id)  # NotFound if it does not exist
            raise Refused("the campaign is not running", "campaign")
        if preview and live.row.mode is not CampaignMode.PREVIEW:
            raise Refused("the campaign is not in preview mode", "mode")
        return live

    # --- scheduled jobs ---------------------------------------------------------------------------

    async def run_job(self, kind: str, ref: str) -> None:
        """Run one scheduled job (see :mod:`cti.dialer.scheduler`)."""
        if kind == "callback":
            cid = await repo.release_callback(self.db, int(ref))
            if cid is not None:
                log.info("callback %s is due (campaign %s)", ref, cid)
            self.wake()
        elif kind == "wake":
            live = self._live.get(int(ref))
            if live is not None:
                live.wake_at = None
            self.wake()
        elif kind == "upkeep":
            back = await repo.recover_stale(
                self.db, now=self.clock.now(), older_than=self._stale_after
            )
            if back:
                log.info("dialer upkeep: %d leads left dialling are dialable again", back)
            await self._reload_ledgers()
        elif kind == "break_overdue":
            from cti.db.backoffice.collection import break_overdue

            today = self.clock.now().astimezone(ZoneInfo(self._zone)).date()
            await break_overdue(self.db, today, actor="scheduler")
        else:
            log.error("dialer: unknown scheduled job %s:%s", kind, ref)

    # --- figures -------------------------------------------------------------------------------

    def figures(self) -> list[dict[str, Any]]:
        """Live figures of every campaign this instance works, for the wallboard.

        Each item (JSON-ready): ``id``, ``name``, ``kind``, ``mode``, ``status``, ``queue``,
        ``dial_level`` (calls in flight per staffed agent), ``in_flight``, ``ringing``,
        ``agents_ready``, ``agents_busy``, ``answer_rate`` (smoothed), ``abandon_rate`` (over the
        ledger window; None before the first live answer), ``abandon_cap``, ``target_abandon``,
        ``abandon_window_seconds``, ``live_answers``, ``abandoned``, ``placed`` (by this instance
        since it started), ``refused_dnc``, ``leads_left``, ``pacing`` (``reason`` of the last
        decision, ``allowed_risk`` and the knobs).
        """
        now = self.clock.now()
        return [live.figures(now) for live in self._live.values()]

    def figures_of(self, campaign_id: int) -> dict[str, Any] | None:
        """One campaign's figures (as in :meth:`figures`), None when it is not worked now."""
        live = self._live.get(campaign_id)
        return live.figures(self.clock.now()) if live is not None else None

    async def pop_for_call(self, linkedid: str) -> dict[str, Any] | None:
        """The screen-pop of a dialer call, for the agent desk: call it with the ``linkedid`` of a
        notice (``AgentRinging``, ``AgentConnected``, ``DialerConnected``...).

        Works for calls any cti instance placed once they were answered (the attempt keeps the
        linkedid); calls of this instance are found without a query.

        Returns:
            None when the call is not a dialer call (or its lead is gone), else
            :func:`cti.db.dialer.lead_for_call`'s dict: ``lead`` (id, phone, name, timezone, status,
            attempts, customer_id), ``campaign`` (id, name, kind, mode, queue, script_id) and
            ``debts`` (a collection lead's overdue invoices: receivable_id, invoice_number, due_on,
            amount, days_overdue).
        """
        mine = self._calls.get(linkedid)
        # The call may have been answered a moment ago: the AMI consumer telling the desk runs
        # before the task that placed the call takes in its answer. Let those tasks run first.
        for _ in range(40):
            if mine is not None or self._originating == 0:
                break
            await asyncio.sleep(0.005)
            mine = self._calls.get(linkedid)
        lead_id = mine[1] if mine is not None else await repo.lead_of_linkedid(self.db, linkedid)
        if lead_id is None:
            return None
        return await repo.lead_for_call(self.db, lead_id=lead_id)


__all__ = ["DEFAULT_CHANNEL", "DialerService", "default_zone"]
