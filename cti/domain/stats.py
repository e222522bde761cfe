"""Wallboard figures: a pure reducer over notices, read together with the live PBX state.

:class:`WallboardFigures` counts what happened *today* (the day of the injected instant, in the
configured time zone) from the notices the reducer emits, and builds the supervisor's view at an
instant ``now`` from those counters plus the live :class:`~cti.domain.state.PbxState` (who waits,
which agent is in which state). No I/O, no clock reads: time comes in as arguments.

Definitions (all per queue, for today):

* **answered**: callers connected to an agent (``AgentConnected``).
* **abandoned**: callers who hung up while waiting (``CallerAbandoned``).
* **service level**: answered within ``service_level_seconds`` of waiting ÷ (answered + abandoned);
  None before the first caller left the queue. Waits are Asterisk's own ``HoldTime``.
* **average wait**: mean wait of the callers who left the queue (answered and abandoned).
* **average talk**: mean ``TalkTime`` of the queue calls that ended today.

At start the day's counters are seeded from the call log (:meth:`WallboardFigures.seed`), so a
restart zeroes nothing; each call counts once, by its key (PBX and the caller channel's
Uniqueid), whether the log or a notice told of it first.

Per agent: calls taken, talk time and **wrap-up time** (the whole seconds of each after-call work
that ended today, counted from the ``AgentStateChanged`` into wrap-up to the one out of it, as
the productivity report counts the wrap-ups cti records) and **time paused** (for any reason; what
the desk records as a pause, by the same rule (:func:`~cti.domain.wrapup.pause_of`): each pause's
part within today, a reason changed being a new pause, one through a restart of the PBX the same,
in whole seconds as the pauses report counts them; one going on counts to now). For an agent at a desk the pauses that ended are the ones the
database holds (:meth:`WallboardFigures.seed_pauses`, read again every few seconds: those before a
restart of cti, those the desk closed for what the PBX did while cti was away) and those the
notices ended that it did not hold yet when last read; for another, those the notices ended. The
calls an agent took count whether a queue gave them or the agent dialled them (from the desk, or a
preview campaign's: ``DialerConnected`` to the call's ``CallEnded``, logged with no queue); those
count in no queue's figures.

The campaign section comes from a :class:`CampaignFigures` provider (the dialer), when one exists.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol, TypedDict, runtime_checkable

from cti.domain.notices import (
    AgentCallEnded,
    AgentConnected,
    AgentState,
    AgentStateChanged,
    AnyNotice,
    CallEnded,
    CallerAbandoned,
    CallKind,
    DialerConnected,
)
from cti.domain.state import PbxState
from cti.domain.wrapup import pause_of, seconds_between

# Waiting-trend samples kept (one every TREND_STEP_SECONDS): 30 minutes.
TREND_STEP_SECONDS = 30
TREND_POINTS = 60
AGENT_STATES: tuple[str, ...] = tuple(s.value for s in AgentState)
# A pause the notices ended is the one the database holds if that one ended within this many seconds
# of it (the desk writes the notice's instant; after a restart of cti, Asterisk's whole seconds).
PAUSE_MATCH_SECONDS = 2.0
# A read of the pauses at a desk lists those that ended this many seconds before it one by one (to
# tell which of the pauses the notices ended it holds); the desk has written any older one by then.
PAUSE_RECENT_SECONDS = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignFigure:
    """One campaign's live figures, as the dialer computes them.

    Rates are ratios in [0, 1]; ``abandon_rate`` is measured over the campaign's compliance window
    and compared with ``abandon_cap``.
    """

    campaign_id: int
    name: str
    status: str
    mode: str
    # Calls being dialled per available agent right now.
    dial_level: float
    # Answered ÷ dial attempts finished (None before the first one).
    answer_rate: float | None
    # Abandoned ÷ answered, over the compliance window (None before the first answer).
    abandon_rate: float | None
    abandon_cap: float
    # Leads still to dial (new, retry, callback).
    leads_left: int
    calls_in_progress: int = 0


@runtime_checkable
class CampaignFigures(Protocol):
    """What the dialer registers in ``WebState.parts["campaigns"]`` to fill the campaign section.

    ``campaign_figures()`` is called once per wallboard tick (about once a second) on the event
    loop: it must return at once from what the dialer already holds in memory (no I/O).
    """

    def campaign_figures(self) -> Sequence[CampaignFigure]:
        """The figures of every campaign worth showing (running or paused)."""
        ...


@runtime_checkable
class CampaignFigureDicts(Protocol):
    """The same hook as JSON-ready dicts (``DialerService.figures()``): ``id``, ``name``,
    ``status``, ``mode``, ``dial_level``, ``answer_rate``, ``abandon_rate``, ``abandon_cap``,
    ``leads_left`` and optionally ``in_flight``."""

    def figures(self) -> Sequence[Mapping[str, Any]]:
        """The figures of every campaign the dialer works."""
        ...


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def campaign_from_dict(d: Mapping[str, Any]) -> CampaignFigure:
    """A campaign's figures from the dialer's dict form."""
    return CampaignFigure(
        campaign_id=int(d["id"]),
        name=str(d.get("name", "")),
        status=str(d.get("status", "")),
        mode=str(d.get("mode", "")),
        dial_level=float(d.get("dial_level") or 0.0),
        answer_rate=_float(d.get("answer_rate")),
        abandon_rate=_float(d.get("abandon_rate")),
        abandon_cap=float(d.get("abandon_cap") or 0.0),
        leads_left=int(d.get("leads_left") or 0),
        calls_in_progress=int(d.get("in_flight") or d.get("calls_in_progress") or 0),
    )


def campaigns_of(provider: object) -> list[CampaignFigure] | None:
    """The campaign figures of whatever provider the dialer registered; None without one."""
    if isinstance(provider, CampaignFigures):
        return list(provider.campaign_figures())
    if isinstance(provider, CampaignFigureDicts):
        return [campaign_from_dict(d) for d in provider.figures()]
    return None


@dataclass(slots=True)
class QueueDay:
    """One queue's counters for one day."""

    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    wait_seconds: int = 0
    talk_seconds: int = 0
    talked: int = 0

    @property
    def left(self) -> int:
        """Callers who stopped waiting (answered or abandoned)."""
        return self.answered + self.abandoned

    def service_level(self) -> float | None:
        return None if self.left == 0 else self.answered_within / self.left

    def avg_wait(self) -> float | None:
        return None if self.left == 0 else self.wait_seconds / self.left

    def avg_talk(self) -> float | None:
        return None if self.talked == 0 else self.talk_seconds / self.talked


@dataclass(slots=True)
class AgentDay:
    """One agent's counters for one day."""

    calls_taken: int = 0
    talk_seconds: int = 0
    wrapup_seconds: int = 0
    wrapups: int = 0
    # The pauses the notices ended today: when each ended, and its seconds within the day; the
    # first ``pauses_stored`` of them the database held when last read (an agent at a desk).
    pauses: list[tuple[datetime, int]] = field(default_factory=list)
    pauses_stored: int = 0

    @property
    def pause_seconds(self) -> int:
        return sum(seconds for _, seconds in self.pauses)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedCall:
    """A queue call as the call log holds it (times None until they happened)."""

    pbx: str
    uniqueid: str
    queue: str
    interface: str | None
    ring_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    abandoned: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class DeskPauses:
    """An operator's pauses at a desk that ended today, as the database holds them: their whole
    seconds within the day, and when each of those that ended in the last
    ``PAUSE_RECENT_SECONDS`` before the read ended."""

    operator_id: int
    seconds: int
    recent: tuple[datetime, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedWrapup:
    """An agent's wrap-up as the database holds it (counted on the day it ended)."""

    pbx: str
    interface: str
    ended_at: datetime
    seconds: int


@dataclass(slots=True)
class _Day:
    day: date
    queues: dict[tuple[str, str], QueueDay] = field(default_factory=dict)
    agents: dict[tuple[str, str], AgentDay] = field(default_factory=dict)
    # Per hour of the day: answered, abandoned.
    hourly_answered: list[int] = field(default_factory=lambda: [0] * 24)
    hourly_abandoned: list[int] = field(default_factory=lambda: [0] * 24)
    # The calls counted, by (pbx, uniqueid): answered, abandoned, ended (talk counted).
    answered: set[tuple[str, str]] = field(default_factory=set)
    abandoned: set[tuple[str, str]] = field(default_factory=set)
    ended: set[tuple[str, str]] = field(default_factory=set)
    # The wrap-ups counted, by (pbx, interface, when it ended).
    wrapups: set[tuple[str, str, datetime]] = field(default_factory=set)


class QueueRow(TypedDict):
    """A queue's line on the wallboard."""

    pbx: str
    name: str
    waiting: int
    longest_wait_seconds: int
    oldest_joined_ms: int | None
    answered: int
    abandoned: int
    answered_within: int
    service_level: float | None
    sla_breach: bool
    avg_wait_seconds: float | None
    avg_talk_seconds: float | None
    talk_seconds: int
    agents: dict[str, int]


class AgentCallRow(TypedDict):
    """The call an agent is on, as the wallboard shows it."""

    linkedid: str
    caller_num: str
    caller_name: str
    queue: str | None
    # queue, or a call no queue gave: outbound (dialled), consult, direct (CallKind)
    kind: str
    started_ms: int
    seconds: int


class AgentRow(TypedDict):
    """An agent's line on the wallboard."""

    pbx: str
    interface: str
    name: str
    operator_id: int | None
    state: str
    reason: str
    since_ms: int
    in_state_seconds: int
    queues: list[str]
    call: AgentCallRow | None
    calls_taken: int
    talk_seconds: int
    wrapup_seconds: int
    wrapups: int
    # Time paused today: the pauses that ended (whole seconds), and when the one going on began
    # (at the earliest today's midnight), None when not paused.
    pause_seconds: int
    paused_since_ms: int | None


class Totals(TypedDict):
    """The wallboard's totals over every queue and agent."""

    waiting: int
    longest_wait_seconds: int
    answered: int
    abandoned: int
    service_level: float | None
    sla_breach: bool
    agents: dict[str, int]


class CampaignJson(TypedDict):
    """One campaign's figures as the stream sends them."""

    id: int
    name: str
    status: str
    mode: str
    dial_level: float
    answer_rate: float | None
    abandon_rate: float | None
    abandon_cap: float
    over_cap: bool
    leads_left: int
    calls_in_progress: int


def ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _secs(now: datetime, since: datetime | None) -> int:
    return 0 if since is None else max(0, int((now - since).total_seconds()))


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


class WallboardFigures:
    """Today's queue and agent counters, reduced from notices; the wallboard view on demand.

    Args:
        service_level_seconds: a caller answered within this wait counts towards the service level.
        tz: the time zone whose midnight starts a new day.
        service_level_target: the share the service level should reach (below it: a breach).
    """

    def __init__(
        self,
        *,
        service_level_seconds: int,
        tz: tzinfo = UTC,
        service_level_target: float = 0.8,
    ) -> None:
        self.service_level_seconds = service_level_seconds
        self.service_level_target = service_level_target
        self.tz = tz
        self._today: _Day | None = None
        self._trend: deque[tuple[int, int, int, int]] = deque(maxlen=TREND_POINTS)
        # When each agent (pbx, interface) in wrap-up entered it.
        self._wrapping: dict[tuple[str, str], datetime] = {}
        # The agent-dialled calls in progress, by (pbx, linkedid): the agent's channel's Uniqueid
        # (the call log's key), the agent, when they were put through.
        self._dialled: dict[tuple[str, str], tuple[str, str, datetime]] = {}
        # The pause each agent (pbx, interface) is in: its reason, when it began, and when it left
        # its queues in it (None: it did not), the pause counted as ended then unless it comes back
        # with them.
        self._pausing: dict[tuple[str, str], tuple[str, datetime, datetime | None]] = {}
        # The pauses at a desk that ended today, by operator (user id), as the database last
        # said, and the day they are of.
        self._desk_pauses: dict[int, DeskPauses] = {}
        self._desk_pauses_day: date | None = None
        self._last_trend_slot: int | None = None

    # --- the reducer -------------------------------------------------------------------------

    def _day(self, at: datetime) -> _Day:
        local = at.astimezone(self.tz).date()
        today = self._today
        if today is None or today.day != local:
            if today is not None and local < today.day:
                return today  # a late notice from yesterday: count it today rather than reset
            today = self._today = _Day(local)
        return today

    def _queue(self, day: _Day, pbx: str, queue: str) -> QueueDay:
        key = (pbx, queue)
        found = day.queues.get(key)
        if found is None:
            found = day.queues[key] = QueueDay()
        return found

    def _agent(self, day: _Day, pbx: str, interface: str) -> AgentDay:
        key = (pbx, interface)
        found = day.agents.get(key)
        if found is None:
            found = day.agents[key] = AgentDay()
        return found

    def apply(self, notice: AnyNotice) -> bool:
        """Count one notice; True when it changed a figure. O(1)."""
        if isinstance(notice, AgentConnected):
            return self._answered(
                notice.pbx,
                notice.uniqueid,
                notice.queue,
                interface=notice.interface,
                at=notice.at,
                hold=notice.hold_seconds,
            )
        if isinstance(notice, CallerAbandoned):
            return self._abandoned(
                notice.pbx,
                notice.uniqueid,
                notice.queue,
                at=notice.at,
                waited=notice.waited_seconds,
            )
        if isinstance(notice, AgentStateChanged):
            key = (notice.pbx, notice.interface)
            paused = self._follow_pause(key, notice)
            if notice.state is AgentState.WRAP_UP:
                if notice.previous is not AgentState.WRAP_UP:
                    self._wrapping[key] = notice.since
                return paused
            began = self._wrapping.pop(key, None)
            if began is None:
                return paused
            wrapped = self._wrapped(
                *key, ended=notice.at, seconds=seconds_between(began, notice.at)
            )
            return wrapped or paused
        if isinstance(notice, DialerConnected):
            # A call the agent dialled (no queue): theirs, in no queue's figures.
            key = (notice.pbx, str(notice.linkedid))
            self._dialled[key] = (str(notice.uniqueid), notice.agent, notice.at)
            return self._answered(
                notice.pbx, notice.uniqueid, "", interface=notice.agent, at=notice.at, hold=0
            )
        if isinstance(notice, CallEnded):
            found = self._dialled.pop((notice.pbx, str(notice.linkedid)), None)
            if found is None:
                return False
            uniqueid, interface, answered = found
            return self._ended(
                notice.pbx,
                uniqueid,
                "",
                interface=interface,
                at=notice.at,
                talk=_secs(notice.at, answered),
            )
        if isinstance(notice, AgentCallEnded):
            return self._ended(
                notice.pbx,
                notice.uniqueid,
                notice.queue,
                interface=notice.interface,
                at=notice.at,
                talk=notice.talk_seconds,
            )
        return False

    def seed(self, calls: Iterable[LoggedCall], now: datetime) -> int:
        """Count the day's calls from the call log (at start); those already counted from a
        notice are not counted twice. Returns how many calls added to a figure."""
        day = self._day(now).day
        added = 0
        for c in calls:
            changed = False
            if c.answered_at is not None and self._local_day(c.answered_at) == day:
                hold = _secs(c.answered_at, c.ring_at)
                changed |= self._answered(
                    c.pbx,
                    c.uniqueid,
                    c.queue,
                    interface=c.interface or "",
                    at=c.answered_at,
                    hold=hold,
                )
            if c.abandoned and c.ended_at is not None and self._local_day(c.ended_at) == day:
                waited = _secs(c.ended_at, c.ring_at)
                changed |= self._abandoned(c.pbx, c.uniqueid, c.queue, at=c.ended_at, waited=waited)
            if (
                c.answered_at is not None
                and c.ended_at is not None
                and self._local_day(c.ended_at) == day
            ):
                talk = _secs(c.ended_at, c.answered_at)
                changed |= self._ended(
                    c.pbx,
                    c.uniqueid,
                    c.queue,
                    interface=c.interface or "",
                    at=c.ended_at,
                    talk=talk,
                )
            added += changed
        return added

    def seed_wrapups(self, wrapups: Iterable[LoggedWrapup], now: datetime) -> int:
        """Count the day's wrap-ups from the database (at start); those already counted from a
        notice are not counted twice. Returns how many were added."""
        day = self._day(now).day
        return sum(
            self._wrapped(w.pbx, w.interface, ended=w.ended_at, seconds=w.seconds)
            for w in wrapups
            if self._local_day(w.ended_at) == day
        )

    def seed_pauses(self, pauses: Iterable[DeskPauses], *, read_at: datetime) -> None:
        """The pauses at a desk that ended today, as the database held them at ``read_at`` (at
        start, then every few seconds: each read replaces the last). The pauses the notices ended
        long enough before the read (``PAUSE_RECENT_SECONDS``, less the match) are in it if an
        agent at a desk had them (the desk writes each as it ends; one not at a desk had none)."""
        self._desk_pauses = {p.operator_id: p for p in pauses}
        self._desk_pauses_day = self._local_day(read_at)
        today = self._day(read_at)
        if today.day != self._desk_pauses_day:
            return  # a read of yesterday, late: no pause of today is in it
        stored_before = read_at - timedelta(seconds=PAUSE_RECENT_SECONDS - PAUSE_MATCH_SECONDS)
        for counts in today.agents.values():
            n = counts.pauses_stored
            while n < len(counts.pauses) and counts.pauses[n][0] < stored_before:
                n += 1
            counts.pauses_stored = n

    def _pause_seconds(self, counts: AgentDay, operator_id: int | None, today: date) -> int:
        """Today's seconds paused in the pauses that ended: for an agent at a desk, the database's
        and those the notices ended that it did not hold when read (none of its recent ones ended
        within ``PAUSE_MATCH_SECONDS`` of it); for another, the notices'."""
        if operator_id is None:
            return counts.pause_seconds
        stored = self._desk_pauses.get(operator_id) if self._desk_pauses_day == today else None
        if stored is None:
            stored = DeskPauses(operator_id=operator_id, seconds=0)
        total = stored.seconds
        matched: set[int] = set()
        for ended, seconds in counts.pauses[counts.pauses_stored :]:
            found = next(
                (
                    i
                    for i, at in enumerate(stored.recent)
                    if i not in matched and abs((at - ended).total_seconds()) <= PAUSE_MATCH_SECONDS
                ),
                None,
            )
            if found is None:
                total += seconds
            else:
                matched.add(found)
        return total

    def _follow_pause(self, key: tuple[str, str], n: AgentStateChanged) -> bool:
        """Follow the agent's pause as the desk records it: a pause of another reason is a new
        one; out of a pause ends it. Out of its queues (signed out) ends it there too, unless it
        comes back in them paused for the same reason (a PBX restarting: cti puts it back), when
        the same pause goes on. True when a figure changed."""
        pause = pause_of(n.state, n.reason, n.unavailable)
        going = self._pausing.get(key)
        if pause is None:
            if going is None or going[2] is not None:
                return False
            self._pausing[key] = (going[0], going[1], n.since)
            return self._pause_ended(key, going[1], n.since)
        reason = pause[0]
        changed = False
        if going is not None:
            if going[0] == reason:
                if going[2] is None:
                    return False
                self._pausing[key] = (reason, going[1], None)
                return self._pause_unended(key, going[2])
            del self._pausing[key]
            changed = going[2] is None and self._pause_ended(key, going[1], n.since)
        if reason is not None:
            self._pausing[key] = (reason, n.since, None)
        return changed

    def _pause_ended(self, key: tuple[str, str], began: datetime, ended: datetime) -> bool:
        """Count a pause's part within the day it ended (whole seconds, as the pauses report)."""
        seconds = round((ended - max(began, self._midnight(ended))).total_seconds())
        if seconds <= 0:
            return False
        self._agent(self._day(ended), *key).pauses.append((ended, seconds))
        return True

    def _pause_unended(self, key: tuple[str, str], ended: datetime) -> bool:
        """Take back the pause counted as ended at ``ended``: it goes on."""
        counts = self._day(ended).agents.get(key)
        if counts is None:
            return False
        for i in range(len(counts.pauses) - 1, -1, -1):
            if counts.pauses[i][0] == ended:
                del counts.pauses[i]
                if i < counts.pauses_stored:
                    counts.pauses_stored -= 1
                return True
        return False

    def _midnight(self, at: datetime) -> datetime:
        """The start of ``at``'s day, in the configured time zone."""
        return datetime.combine(self._local_day(at), time(0), tzinfo=self.tz)

    def _wrapped(self, pbx: str, interface: str, *, ended: datetime, seconds: int) -> bool:
        today = self._day(ended)
        key = (pbx, interface, ended)
        if key in today.wrapups:
            return False
        today.wrapups.add(key)
        agent = self._agent(today, pbx, interface)
        agent.wrapup_seconds += seconds
        agent.wrapups += 1
        return True

    def _local_day(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def _answered(
        self, pbx: str, uniqueid: str, queue: str, *, interface: str, at: datetime, hold: int
    ) -> bool:
        day = self._day(at)
        if (pbx, uniqueid) in day.answered:
            return False
        day.answered.add((pbx, uniqueid))
        self._agent(day, pbx, interface).calls_taken += 1
        if not queue:
            return True  # a call the agent dialled: no queue's
        q = self._queue(day, pbx, queue)
        q.answered += 1
        q.wait_seconds += hold
        if hold <= self.service_level_seconds:
            q.answered_within += 1
        day.hourly_answered[at.astimezone(self.tz).hour] += 1
        return True

    def _abandoned(self, pbx: str, uniqueid: str, queue: str, *, at: datetime, waited: int) -> bool:
        day = self._day(at)
        if not queue or (pbx, uniqueid) in day.abandoned:
            return False  # (a call of no queue is not abandoned in one)
        day.abandoned.add((pbx, uniqueid))
        q = self._queue(day, pbx, queue)
        q.abandoned += 1
        q.wait_seconds += waited
        day.hourly_abandoned[at.astimezone(self.tz).hour] += 1
        return True

    def _ended(
        self, pbx: str, uniqueid: str, queue: str, *, interface: str, at: datetime, talk: int
    ) -> bool:
        day = self._day(at)
        if (pbx, uniqueid) in day.ended:
            return False
        day.ended.add((pbx, uniqueid))
        self._agent(day, pbx, interface).talk_seconds += talk
        if queue:
            q = self._queue(day, pbx, queue)
            q.talked += 1
            q.talk_seconds += talk
        return True

    def queue_day(self, pbx: str, queue: str, now: datetime) -> QueueDay:
        """Today's counters of one queue (zeros when nothing happened yet)."""
        day = self._day(now)
        return day.queues.get((pbx, queue)) or QueueDay()

    def agent_day(self, pbx: str, interface: str, now: datetime) -> AgentDay:
        """Today's counters of one agent."""
        day = self._day(now)
        return day.agents.get((pbx, interface)) or AgentDay()

    # --- the view ----------------------------------------------------------------------------

    def view(
        self,
        now: datetime,
        states: Mapping[str, PbxState],
        *,
        operators: Mapping[tuple[str, str], tuple[int, str]] | None = None,
        campaigns: Sequence[CampaignFigure] | None = None,
        links: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The whole wallboard at ``now``, JSON-ready.

        Args:
            now: the instant the view stands for.
            states: each PBX's live state, by PBX name.
            operators: (pbx, interface) → (user id, full name) of agents signed in at a desk.
            campaigns: the dialer's figures; None when there is no dialer (the section is omitted).
            links: each PBX's link status.
        """
        day = self._day(now)
        operators = operators or {}
        queues = self._queues_view(now, day, states)
        agents = self._agents_view(now, day, states, operators)
        totals = self._totals(queues, agents)
        self._sample_trend(now, totals)
        body: dict[str, Any] = {
            "now": _ms(now),
            "day": day.day.isoformat(),
            "service_level_seconds": self.service_level_seconds,
            "service_level_target": self.service_level_target,
            "pbx": dict(links or {}),
            "totals": totals,
            "queues": queues,
            "agents": agents,
            "hourly": {
                "answered": list(day.hourly_answered),
                "abandoned": list(day.hourly_abandoned),
            },
            "trend": [
                {"at": at, "waiting": w, "in_call": c, "ready": r} for at, w, c, r in self._trend
            ],
            "campaigns": None,
        }
        if campaigns is not None:
            body["campaigns"] = [campaign_json(c) for c in campaigns]
        return body

    def _queues_view(
        self, now: datetime, day: _Day, states: Mapping[str, PbxState]
    ) -> list[QueueRow]:
        names: set[tuple[str, str]] = set(day.queues)
        for pbx, state in states.items():
            names.update((pbx, q) for q in state.queues)
        out: list[QueueRow] = []
        for pbx, name in sorted(names):
            pbx_state = states.get(pbx)
            live = pbx_state.queues.get(name) if pbx_state is not None else None
            counts = day.queues.get((pbx, name)) or QueueDay()
            waiting = list(live.waiting.values()) if live is not None else []
            oldest = min((c.joined_at for c in waiting), default=None)
            members = dict.fromkeys(AGENT_STATES, 0)
            if live is not None and pbx_state is not None:
                for interface in live.members:
                    agent = pbx_state.agents.get(interface)
                    if agent is not None:
                        members[agent.state.value] += 1
            sl = counts.service_level()
            out.append(
                {
                    "pbx": pbx,
                    "name": name,
                    "waiting": len(waiting),
                    "longest_wait_seconds": _secs(now, oldest),
                    "oldest_joined_ms": None if oldest is None else _ms(oldest),
                    "answered": counts.answered,
                    "abandoned": counts.abandoned,
                    "answered_within": counts.answered_within,
                    "service_level": _round(sl, 4),
                    "sla_breach": sl is not None and sl < self.service_level_target,
                    "avg_wait_seconds": _round(counts.avg_wait()),
                    "avg_talk_seconds": _round(counts.avg_talk()),
                    "talk_seconds": counts.talk_seconds,
                    "agents": members,
                }
            )
        return out

    def _agents_view(
        self,
        now: datetime,
        day: _Day,
        states: Mapping[str, PbxState],
        operators: Mapping[tuple[str, str], tuple[int, str]],
    ) -> list[AgentRow]:
        out: list[AgentRow] = []
        midnight = self._midnight(now)
        for pbx in sorted(states):
            state = states[pbx]
            for interface in sorted(state.agents):
                agent = state.agents[interface]
                counts = day.agents.get((pbx, interface)) or AgentDay()
                call_json: AgentCallRow | None = None
                # Only while on it: an agent in wrap-up after a transfer is off the call that goes on.
                if agent.call is not None and agent.state is AgentState.IN_CALL:
                    call = state.calls.get(agent.call)
                    if call is not None:
                        kind = agent.call_kind or CallKind.QUEUE
                        # A call no queue gave: talk since the agent's phone joined it (a consulted
                        # agent's, in a call answered long before).
                        started = call.answered_at or agent.since
                        if kind is not CallKind.QUEUE and agent.connected_at is not None:
                            started = agent.connected_at
                        call_json = {
                            "linkedid": call.linkedid,
                            "caller_num": call.caller_num,
                            "caller_name": call.caller_name,
                            "queue": call.queue,
                            "kind": kind.value,
                            "started_ms": _ms(started),
                            "seconds": _secs(now, started),
                        }
                op = operators.get((pbx, interface))
                paused_since: int | None = None
                going = self._pausing.get((pbx, interface))
                live = pause_of(agent.state, agent.reason, agent.unavailable)
                if going is None and live is not None and live[0] is not None:
                    # Paused before its notices reached the wallboard (cti starting): from the
                    # pause's start as the PBX state knows it.
                    began = agent.pause[1] if agent.pause is not None else agent.since
                    going = self._pausing[(pbx, interface)] = (live[0], began, None)
                if going is not None and going[2] is None:
                    paused_since = _ms(max(going[1], midnight))
                out.append(
                    {
                        "pbx": pbx,
                        "interface": interface,
                        "name": (op[1] if op else "") or agent.name or interface,
                        "operator_id": op[0] if op else None,
                        "state": agent.state.value,
                        "reason": agent.reason,
                        "since_ms": _ms(agent.since),
                        "in_state_seconds": _secs(now, agent.since),
                        "queues": sorted(agent.queues),
                        "call": call_json,
                        "calls_taken": counts.calls_taken,
                        "talk_seconds": counts.talk_seconds,
                        "wrapup_seconds": counts.wrapup_seconds,
                        "wrapups": counts.wrapups,
                        "pause_seconds": self._pause_seconds(
                            counts, op[0] if op else None, day.day
                        ),
                        "paused_since_ms": paused_since,
                    }
                )
        return out

    def _totals(self, queues: list[QueueRow], agents: list[AgentRow]) -> Totals:
        answered = sum(q["answered"] for q in queues)
        abandoned = sum(q["abandoned"] for q in queues)
        within = sum(q["answered_within"] for q in queues)
        sl = ratio(within, answered + abandoned)
        states = dict.fromkeys(AGENT_STATES, 0)
        for a in agents:
            states[a["state"]] += 1
        return {
            "waiting": sum(q["waiting"] for q in queues),
            "longest_wait_seconds": max((q["longest_wait_seconds"] for q in queues), default=0),
            "answered": answered,
            "abandoned": abandoned,
            "service_level": _round(sl, 4),
            "sla_breach": sl is not None and sl < self.service_level_target,
            "agents": states,
        }

    def _sample_trend(self, now: datetime, totals: Totals) -> None:
        slot = int(now.timestamp()) // TREND_STEP_SECONDS
        point = (
            slot * TREND_STEP_SECONDS * 1000,
            totals["waiting"],
            totals["agents"]["in_call"],
            totals["agents"]["ready"],
        )
        if slot == self._last_trend_slot and self._trend:
            # Keep the worst waiting count seen in the slot: a brief peak must show.
            last = self._trend[-1]
            self._trend[-1] = (last[0], max(last[1], point[1]), point[2], point[3])
            return
        self._last_trend_slot = slot
        self._trend.append(point)


def campaign_json(c: CampaignFigure) -> CampaignJson:
    """One campaign's figures as the stream sends them."""
    return {
        "id": c.campaign_id,
        "name": c.name,
        "status": c.status,
        "mode": c.mode,
        "dial_level": round(c.dial_level, 2),
        "answer_rate": _round(c.answer_rate, 4),
        "abandon_rate": _round(c.abandon_rate, 4),
        "abandon_cap": round(c.abandon_cap, 4),
        "over_cap": c.abandon_rate is not None and c.abandon_rate > c.abandon_cap,
        "leads_left": c.leads_left,
        "calls_in_progress": c.calls_in_progress,
    }
