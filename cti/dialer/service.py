"""``DialerService``: works the running campaigns - paces, selects leads, originates, records.

One task paces every running campaign on each wake (an agent's state changed, a call ended, a job
fired, a supervisor acted) and at least every ``tick_seconds``:

1. it reads the campaign's queue from the AMI state (agents ready, agents busy and for how long,
   callers waiting) and its own calls in flight, and asks :func:`cti.domain.pacing.calls_to_place`
   how many calls to place (preview: none, the agent presses dial);
2. :func:`cti.db.dialer.claim_leads` takes that many leads under row locks (``SKIP LOCKED``),
   checking the do-not-call lists and each lead's calling window at that instant;
3. each lead is dialled with one ``Originate`` (never re-sent) into the dialer context
   (``[[ami]] dialer_context``; see ``config/asterisk/extensions.conf``) with the channel variables
   ``CTI_CAMPAIGN``, ``CTI_LEAD``, ``CTI_ATTEMPT``, ``CTI_QUEUE``, ``CTI_AMD``,
   ``CTI_CONNECT_SECONDS``, ``CTI_RING_SECONDS``, ``CTI_NUMBER`` (``CTI_ACTION_ID`` is added by the
   AMI layer). A preview call rings the agent who pressed dial first (the Originate's channel is
   their phone, exten ``preview``) and dials the customer once they answered: no one is ever left
   waiting for an agent, so a preview call is never an abandon;
4. the outcome is stored on the attempt and the lead moves on by the campaign's retry rules
   (:mod:`cti.domain.retry`).

The dialplan decides what happened after the answer and says so in UserEvents (dialer notices):
a machine found by AMD is outcome ``machine`` (no live answer, not in the abandon ledger); a person
is a live answer, ``answered`` when an agent took it (``AgentConnected`` for its linkedid, or
``DialerConnected`` when the customer of a preview call answered), ``abandoned`` when the dialplan
gave up after the connect limit (``DialerAbandoned``) or the person hung up first. A preview
call's customer who does not answer is ``busy``/``no_answer``/``congestion`` by the dialplan's
``DialerUnanswered``; a preview the agent called off before the customer answered is
``cancelled`` (the lead comes back soon). The AMI listener only records what it sees
(O(1), never blocks); the pacing task draws the conclusions.

The desk's screen-pop of a dialer call: :meth:`DialerService.pop_for_call`. Placing calls and
concluding them (steps 1-4) is in :mod:`cti.dialer.placing`, a base of the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as phone_timezone

from cti.ami.service import AmiService
from cti.clock import Clock
from cti.config import Settings
from cti.db import dialer as repo
from cti.db.engine import Database
from cti.dialer.campaigns import KNOBS, InFlight, LiveCampaign, ledger_window, pacing_settings
from cti.dialer.placing import Placing, remember
from cti.dialer.scheduler import DialerScheduler
from cti.domain.compliance import (
    AbandonLedger,
)
from cti.domain.model import CampaignMode, CampaignStatus
from cti.domain.notices import (
    AgentCallEnded,
    AgentConnected,
    AgentStateChanged,
    AnyNotice,
    CallEnded,
    CallerAbandoned,
    DialerAbandoned,
    DialerAmdDecided,
    DialerConnected,
    DialerMachineHungUp,
    DialerNotice,
    DialerUnanswered,
    LinkChanged,
    MemberChanged,
    OriginateFinished,
)
from cti.domain.readiness import why_cannot_dial
from cti.errors import CTIError, Refused, UserInputError
from cti.i18n import _

log = logging.getLogger(__name__)

DEFAULT_CHANNEL = "Local/{number}@{context}/n"


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


class DialerService(Placing):
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
        instance: str | None = None,
    ) -> None:
        self.settings = settings
        # This cti instance's name (cti.instances): written on each attempt it places.
        self.instance = instance
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
            db,
            database_url,
            self,
            clock=clock,
            zone=ZoneInfo(self._zone),
            upkeep_seconds=upkeep_seconds,
            poll_seconds=min(1.0, tick_seconds),
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
        self._tasks: set[asyncio.Task[None]] = set()
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
        """Stop placing calls first, then the scheduler; calls in flight stay with the PBX. The
        pacing measurements are saved last, so that the next start resumes them."""
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
        try:
            await self.save_estimates(force=True)
        except CTIError as exc:
            log.warning("dialer: pacing measurements not saved at stop (%s)", type(exc).__name__)

    async def save_estimates(self, *, force: bool = False) -> None:
        """Save the pacing measurements that changed (at most every ``SAVE_SECONDS`` a campaign
        unless ``force``), so that a restart or a rebuilt campaign resumes them."""
        now = self.clock.now()
        due = {}
        for cid, live in self._live.items():
            numbers = live.to_save(now, force=force)
            if numbers is not None:
                due[cid] = numbers
        await repo.save_estimates(self.db, due)

    # --- what the PBX tells ------------------------------------------------------------------

    def _on_notice(self, notice: AnyNotice) -> None:
        """Sync, on the AMI consumer: record and wake, nothing else."""
        if isinstance(notice, DialerNotice):
            self._on_dialer_notice(notice)
        elif isinstance(notice, OriginateFinished):
            remember(self._finished, str(notice.action_id), (notice.at, notice.uniqueid))
        elif isinstance(notice, AgentConnected):
            linked = str(notice.linkedid)
            remember(self._connected, linked, notice.at)
            mine = self._by_linkedid.get(linked)
            if mine is not None and mine.connected_at is None:
                mine.connected_at = notice.at
            self._wake.set()
        elif isinstance(notice, CallerAbandoned | CallEnded):
            linked = str(notice.linkedid)
            remember(self._gone, linked, notice.at)
            mine = self._by_linkedid.get(linked)
            if mine is not None and mine.gone_at is None:
                mine.gone_at = notice.at
            self._wake.set()
        elif isinstance(notice, AgentCallEnded):
            call = self._calls.get(str(notice.linkedid))
            if call is not None:
                live = self._live.get(call[0])
                if live is not None:
                    live.observe_handle(float(notice.talk_seconds), notice.at)
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
                    live.observe_unanswered(flight.placed_at, notice.at)
            else:
                flight.live_at = notice.at
                if live is not None:
                    live.observe_answer(flight.placed_at, flight.answered_at or notice.at)
        elif isinstance(notice, DialerMachineHungUp):
            flight.machine = True
        elif isinstance(notice, DialerAbandoned):
            flight.abandoned_at = flight.abandoned_at or notice.at
        elif isinstance(notice, DialerConnected):
            flight.connected_at = flight.connected_at or notice.at
            if flight.agent is not None:  # preview: the customer answered, the agent is there
                flight.answered_at = flight.answered_at or notice.at
                flight.live_at = flight.live_at or notice.at
        elif isinstance(notice, DialerUnanswered):
            flight.dial_status = flight.dial_status or notice.dial_status
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
                await self.save_estimates()
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
        # A campaign new here is shown (figures, API, wallboard) only once all of it is known,
        # its leads left included: the awaits below let requests run in between.
        fresh: dict[int, LiveCampaign] = {}
        for row in rows:
            seen.add(row.id)
            live = self._live.get(row.id)
            try:
                if live is None:
                    ledger = await self._ledger_of(row.id)
                    fresh[row.id] = LiveCampaign.build(
                        row, self.settings.dialer, ledger, self.clock.now()
                    )
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
                    numbers = live.to_save(self.clock.now(), force=True)
                    if numbers is not None:
                        await repo.save_estimates(self.db, {cid: numbers})
                    del self._live[cid]
        left = await repo.leads_left(self.db, [*self._live, *fresh], self.clock.now())
        for cid, live in self._live.items():
            live.leads_left = left.get(cid, 0)
        for cid, live in fresh.items():
            live.leads_left = left.get(cid, 0)
            # A refresh that ran meanwhile (a request's) may have put it in first: keep that one.
            self._live.setdefault(cid, live)

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
        # Not during a pacing pass: a ledger read before the pass stores the calls it settles
        # would replace the one that counted them (the upkeep job runs beside the pacing task).
        async with self._pace_lock:
            for cid, live in list(self._live.items()):
                live.ledger = await self._ledger_of(cid)

    async def pace(self) -> None:
        """One pacing pass over every campaign (settle answered calls, then place new ones)."""
        async with self._pace_lock:
            for live in list(self._live.values()):
                await self._settle(live)
                if live.running:
                    await self._pace(live)

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
                raise UserInputError(name, _("is not a pacing setting"))
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
            reserved_by=username,
        )
        if not claim.leads:
            return None
        return await repo.lead_for_call(self.db, lead_id=claim.leads[0].lead_id)

    async def preview_dial(
        self, campaign_id: int, lead_id: int, username: str, *, interface: str | None = None
    ) -> int:
        """The agent pressed dial: they must be able to take the call (ready, phone registered),
        DNC and window are checked again, then their own phone rings and, once they answered, the
        customer is dialled (``[cti-dialer]`` exten ``preview``).

        Args:
            interface: the agent's phone (where the desk signed them in); None: the interface
                stored for the user.

        Returns the attempt id.

        Raises:
            UserInputError: no phone is known for the agent (``interface``).
            Refused: the agent cannot take a call now (paused, on a call, phone unregistered...).
        """
        live = await self._running(campaign_id, preview=True)
        agent = interface or await repo.operator_interface(self.db, username)
        if not agent:
            raise UserInputError("interface", _("sign in at the desk with your phone first"))
        why = why_cannot_dial(self.ami.state(self._pbx_of(live)).agents.get(agent))
        if why is not None:
            raise Refused(why, "agent")
        now = self.clock.now()
        lead = await repo.start_attempt(
            self.db,
            campaign_id,
            lead_id,
            now=now,
            verdict=self._verdict(live, now),
            reserved_by=username,
        )
        assert lead.attempt_id is not None
        log.info("campaign %s: %s dials lead %s from %s", campaign_id, username, lead_id, agent)
        self._dial(live, lead, now, agent=agent)
        return lead.attempt_id

    async def preview_skip(self, campaign_id: int, lead_id: int, username: str) -> None:
        """The agent skipped the lead reserved for them: it waits ``skip_seconds`` for another turn.

        Raises:
            Refused: the lead is not reserved for ``username``.
        """
        await repo.release_lead(
            self.db,
            campaign_id,
            lead_id,
            until=self.clock.now() + self._skip,
            actor=username,
            reserved_only=True,
        )

    async def postpone(
        self, campaign_id: int, lead_id: int, until: datetime, *, actor: str
    ) -> None:
        """Put a lead's next call off until ``until`` (a postponed call)."""
        await repo.release_lead(self.db, campaign_id, lead_id, until=until, actor=actor)
        await self.scheduler.at("wake", str(campaign_id), until)

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
                raise UserInputError("owner", _("there is no user {owner!r}"), owner=owner)
        callback = await repo.add_callback(
            self.db, campaign_id, lead_id, due_at=due_at, operator_id=operator, actor=actor
        )
        await self.scheduler.at("callback", str(callback), due_at)
        return callback

    async def _running(self, campaign_id: int, *, preview: bool) -> LiveCampaign:
        live = self._live.get(campaign_id)
        if live is None or not live.running:
            await self.refresh()
            live = self._live.get(campaign_id)
        if live is None or not live.running:
            await repo.campaign(self.db, campaign_id)  # NotFound if it does not exist
            raise Refused(_("the campaign is not running"), "campaign")
        if preview and live.row.mode is not CampaignMode.PREVIEW:
            raise Refused(_("the campaign is not in preview mode"), "mode")
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
        for _try in range(40):
            if mine is not None or self._originating == 0:
                break
            await asyncio.sleep(0.005)
            mine = self._calls.get(linkedid)
        lead_id = mine[1] if mine is not None else await repo.lead_of_linkedid(self.db, linkedid)
        if lead_id is None:
            return None
        return await repo.lead_for_call(self.db, lead_id=lead_id)


__all__ = ["DEFAULT_CHANNEL", "DialerService", "default_zone"]
