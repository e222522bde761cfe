"""The wallboard figures as a pure reducer: known notices in, hand-computed figures out."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cti.domain.events import LinkedId, UniqueId
from cti.domain.live.entities import Agent
from cti.domain.notices import (
    AgentCallEnded,
    AgentConnected,
    AgentState,
    AgentStateChanged,
    CallEnded,
    CallerAbandoned,
    DialerConnected,
    MemberChanged,
)
from cti.domain.state import PbxState
from cti.domain.stats import (
    CampaignFigure,
    DeskPauses,
    LoggedCall,
    WallboardFigures,
    campaigns_of,
)

T0 = datetime(2026, 3, 2, 23, 50, tzinfo=UTC)


def connected(at: datetime, hold: int, queue: str = "support", *, uid: str = "u") -> AgentConnected:
    return AgentConnected(
        pbx="pbx1",
        at=at,
        queue=queue,
        interface="PJSIP/agent1",
        member_name="Ana",
        caller_num="1",
        caller_name="",
        uniqueid=UniqueId(uid),
        linkedid=LinkedId("l"),
        hold_seconds=hold,
        ring_seconds=0,
    )


def ended(at: datetime, talk: int, *, uid: str = "u") -> AgentCallEnded:
    return AgentCallEnded(
        pbx="pbx1",
        at=at,
        queue="support",
        interface="PJSIP/agent1",
        member_name="Ana",
        caller_num="1",
        caller_name="",
        uniqueid=UniqueId(uid),
        linkedid=LinkedId("l"),
        talk_seconds=talk,
        hold_seconds=0,
        reason="caller",
    )


def abandoned(at: datetime, waited: int) -> CallerAbandoned:
    return CallerAbandoned(
        pbx="pbx1",
        at=at,
        queue="support",
        uniqueid=UniqueId("v"),
        linkedid=LinkedId("m"),
        caller_num="2",
        caller_name="",
        position=1,
        original_position=1,
        waited_seconds=waited,
    )


def support(view: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(q for q in view["queues"] if q["name"] == "support")
    return found


def moved(
    at: datetime, state: AgentState, reason: str = "", *, unavailable: bool = False
) -> AgentStateChanged:
    return AgentStateChanged(
        pbx="pbx1",
        at=at,
        interface="PJSIP/agent1",
        member_name="Ana",
        state=state,
        previous=AgentState.READY,
        reason=reason,
        since=at,
        unavailable=unavailable,
    )


def test_time_paused_counts_each_pause_within_the_day_it_ends() -> None:
    f = WallboardFigures(service_level_seconds=20)  # days in UTC; T0 is 23:50
    start = T0 - timedelta(hours=2)
    steps = [
        (0, moved(start, AgentState.PAUSED, "lunch")),
        # Another reason: the lunch (100 s) ends, a break begins; its phone dropping mid-break
        # (the browser closed) and coming back end nothing.
        (100, moved(start + timedelta(seconds=100), AgentState.PAUSED, "break")),
        (130, moved(start + timedelta(seconds=130), AgentState.OFFLINE, "break", unavailable=True)),
        (150, moved(start + timedelta(seconds=150), AgentState.PAUSED, "break")),
        (160, moved(start + timedelta(seconds=160), AgentState.READY)),
        # A wrap-up is no pause; signing out (out of its queues) ends one.
        (200, moved(start + timedelta(seconds=200), AgentState.WRAP_UP, "wrap-up")),
        (300, moved(start + timedelta(seconds=300), AgentState.PAUSED, "training")),
        (340, moved(start + timedelta(seconds=340), AgentState.OFFLINE)),
    ]
    for _, notice in steps:
        f.apply(notice)
    assert f.agent_day("pbx1", "PJSIP/agent1", T0).pause_seconds == 100 + 60 + 40
    # A pause across midnight counts on the next day from midnight only.
    f.apply(moved(T0, AgentState.PAUSED, "lunch"))  # 23:50
    f.apply(moved(T0 + timedelta(minutes=15), AgentState.READY))  # 00:05
    assert f.agent_day("pbx1", "PJSIP/agent1", T0 + timedelta(minutes=15)).pause_seconds == 300


def test_a_pause_through_a_pbx_restart_is_one_pause_and_signing_out_ends_one() -> None:
    f = WallboardFigures(service_level_seconds=20)
    start = T0 - timedelta(hours=2)

    def secs(n: int) -> datetime:
        return start + timedelta(seconds=n)

    def paused() -> int:
        return f.agent_day("pbx1", "PJSIP/agent1", secs(0)).pause_seconds

    f.apply(moved(start, AgentState.PAUSED, "lunch"))
    # The PBX restarts: the agent is out of its queues for 20 s, then cti puts it back paused
    # for lunch. Meanwhile the lunch counts as ended; once back it goes on from its start.
    f.apply(moved(secs(60), AgentState.OFFLINE))
    assert paused() == 60
    f.apply(moved(secs(80), AgentState.PAUSED, "lunch"))
    assert paused() == 0
    f.apply(moved(secs(100), AgentState.READY))
    assert paused() == 100
    # Signed out during a break: the break ends there, whatever comes after.
    f.apply(moved(secs(200), AgentState.PAUSED, "break"))
    f.apply(moved(secs(230), AgentState.OFFLINE))
    f.apply(moved(secs(900), AgentState.READY))
    assert paused() == 100 + 30
    f.apply(moved(secs(1000), AgentState.PAUSED, "break"))
    f.apply(moved(secs(1010), AgentState.PAUSED, "lunch"))
    assert paused() == 100 + 30 + 10


def test_an_agent_at_a_desk_counts_the_pauses_the_database_holds_and_those_it_does_not_yet() -> (
    None
):
    f = WallboardFigures(service_level_seconds=20)
    start = T0 - timedelta(hours=2)
    state = PbxState("pbx1")
    state.agents["PJSIP/agent1"] = Agent(
        interface="PJSIP/agent1", name="Ana", state=AgentState.READY, since=start
    )
    at_desk = {("pbx1", "PJSIP/agent1"): (7, "Ana Lima")}

    def paused(at: datetime, operators: Any = at_desk) -> tuple[int, int | None]:
        (row,) = f.view(at, {"pbx1": state}, operators=operators)["agents"]
        return row["pause_seconds"], row["paused_since_ms"]

    def secs(n: int) -> datetime:
        return start + timedelta(seconds=n)

    f.apply(moved(start, AgentState.PAUSED, "lunch"))
    f.apply(moved(secs(100), AgentState.READY))
    # The desk's write of the lunch has not been read yet: the notices' 100 s.
    assert paused(secs(101)) == (100, None)
    # Read a second later: the lunch (ended at the notice's instant, listed as recent) and a break
    # that ended before cti started; someone else's pauses are theirs.
    f.seed_pauses(
        [
            DeskPauses(operator_id=7, seconds=100 + 300, recent=(secs(100),)),
            DeskPauses(operator_id=8, seconds=50),
        ],
        read_at=secs(101),
    )
    assert paused(secs(102)) == (400, None)
    # Read again later: the lunch no longer recent, still once.
    f.seed_pauses([DeskPauses(operator_id=7, seconds=400)], read_at=secs(150))
    assert paused(secs(150)) == (400, None)
    # A training going on runs from its start; once over it counts until a read has it.
    f.apply(moved(secs(200), AgentState.PAUSED, "training"))
    state.agents["PJSIP/agent1"].state = AgentState.PAUSED
    state.agents["PJSIP/agent1"].reason = "training"
    began_ms = int(secs(200).timestamp() * 1000)
    assert paused(secs(220)) == (400, began_ms)
    f.apply(moved(secs(230), AgentState.READY))
    state.agents["PJSIP/agent1"].state = AgentState.READY
    assert paused(secs(231)) == (430, None)
    # A read that came before the desk's write landed: counted from the notice still.
    f.seed_pauses([DeskPauses(operator_id=7, seconds=400)], read_at=secs(231))
    assert paused(secs(232)) == (430, None)
    f.seed_pauses([DeskPauses(operator_id=7, seconds=430, recent=(secs(230),))], read_at=secs(232))
    assert paused(secs(233)) == (430, None)
    # Not at a desk (signed out of it): what the notices ended.
    assert paused(secs(233), {}) == (130, None)


def test_service_level_counts_a_wait_equal_to_the_threshold_as_within() -> None:
    f = WallboardFigures(service_level_seconds=20)
    for notice in (
        connected(T0, 20, uid="u1"),
        connected(T0, 21, uid="u2"),
        abandoned(T0, 5),
        ended(T0, 100, uid="u1"),
        ended(T0, 51, uid="u2"),
    ):
        f.apply(notice)
    q = support(f.view(T0, {"pbx1": PbxState("pbx1")}))
    assert (q["answered"], q["abandoned"], q["answered_within"]) == (2, 1, 1)
    assert q["service_level"] == round(1 / 3, 4) and q["sla_breach"] is True
    assert q["avg_wait_seconds"] == round((20 + 21 + 5) / 3, 1)
    assert q["avg_talk_seconds"] == 75.5


def test_a_new_day_starts_at_midnight_of_the_configured_zone() -> None:
    # 23:50 UTC is 20:50 in Sao Paulo (UTC-3): twenty minutes later only UTC has a new day.
    sao = WallboardFigures(service_level_seconds=20, tz=ZoneInfo("America/Sao_Paulo"))
    utc = WallboardFigures(service_level_seconds=20)
    for f in (sao, utc):
        f.apply(connected(T0, 3))
    later = T0 + timedelta(minutes=20)  # 00:10 UTC, 21:10 in Sao Paulo
    fresh = utc.view(later, {})
    assert fresh["day"] == "2026-03-03"
    assert fresh["queues"] == [] and fresh["totals"]["answered"] == 0
    assert support(sao.view(later, {}))["answered"] == 1
    assert sao.view(later, {})["hourly"]["answered"][20] == 1
    # A notice from before midnight arriving late does not reset the new day.
    utc.apply(connected(later, 1, uid="u2"))
    utc.apply(connected(T0, 1, uid="u3"))
    assert support(utc.view(later, {}))["answered"] == 2


def test_the_call_log_seeds_the_day_and_each_call_counts_once() -> None:
    f = WallboardFigures(service_level_seconds=20)
    now = T0 + timedelta(minutes=5)
    # A call answered (waited 4 s) and still going, one over (talked 30 s), one abandoned at 7 s,
    # and one of yesterday.
    logged = [
        LoggedCall(
            pbx="pbx1",
            uniqueid="a",
            queue="support",
            interface="PJSIP/agent1",
            ring_at=T0,
            answered_at=T0 + timedelta(seconds=4),
            ended_at=None,
            abandoned=False,
        ),
        LoggedCall(
            pbx="pbx1",
            uniqueid="b",
            queue="support",
            interface="PJSIP/agent1",
            ring_at=T0,
            answered_at=T0,
            ended_at=T0 + timedelta(seconds=30),
            abandoned=False,
        ),
        LoggedCall(
            pbx="pbx1",
            uniqueid="c",
            queue="support",
            interface=None,
            ring_at=T0,
            answered_at=None,
            ended_at=T0 + timedelta(seconds=7),
            abandoned=True,
        ),
        LoggedCall(
            pbx="pbx1",
            uniqueid="d",
            queue="support",
            interface="PJSIP/agent1",
            ring_at=T0 - timedelta(days=1),
            answered_at=T0 - timedelta(days=1),
            ended_at=T0 - timedelta(days=1),
            abandoned=False,
        ),
    ]
    # A notice of call b came first (as when the log is read after the link is up).
    assert f.apply(connected(T0, 0, uid="b"))
    assert f.seed(logged, now) == 3
    assert f.seed(logged, now) == 0  # read twice: nothing more
    assert not f.apply(connected(T0 + timedelta(seconds=4), 4, uid="a"))
    assert f.apply(ended(now, 60, uid="a"))  # call a ends after the start: its talk counts now
    q = support(f.view(now, {}))
    assert (q["answered"], q["abandoned"], q["answered_within"]) == (2, 1, 2)
    assert q["talk_seconds"] == 30 + 60
    assert q["avg_wait_seconds"] == round((0 + 4 + 7) / 3, 1)
    assert f.agent_day("pbx1", "PJSIP/agent1", now).calls_taken == 2


def test_a_call_the_agent_dialled_counts_for_the_agent_and_no_queue_also_after_a_restart() -> None:
    """A desk or preview call (put through with ``DialerConnected``, over at the call's end) is a
    call the agent took and talked on: on their line, in no queue's, the same whether counted
    live or from the call log after a restart (where it is logged with no queue)."""
    answered, over = T0 + timedelta(seconds=2), T0 + timedelta(seconds=47)
    live = WallboardFigures(service_level_seconds=20)
    assert live.apply(
        DialerConnected(
            pbx="pbx1",
            at=answered,
            uniqueid=UniqueId("d1"),
            linkedid=LinkedId("L1"),
            campaign_id=None,
            lead_id=None,
            attempt_id=None,
            agent="PJSIP/agent1",
        )
    )
    other_call = CallEnded(
        pbx="pbx1",
        at=over,
        linkedid=LinkedId("L9"),
        caller_num="",
        caller_name="",
        queue=None,
        agent=None,
        duration_seconds=45,
        cause=16,
    )
    assert not live.apply(other_call)
    assert live.apply(dataclasses.replace(other_call, linkedid=LinkedId("L1")))
    agent = live.agent_day("pbx1", "PJSIP/agent1", over)
    assert (agent.calls_taken, agent.talk_seconds) == (1, 45)
    view = live.view(over, {})
    assert view["queues"] == [] and view["totals"]["answered"] == 0
    assert sum(view["hourly"]["answered"]) == 0

    logged = LoggedCall(
        pbx="pbx1",
        uniqueid="d1",
        queue="",
        interface="PJSIP/agent1",
        ring_at=None,
        answered_at=answered,
        ended_at=over,
        abandoned=False,
    )
    restarted = WallboardFigures(service_level_seconds=20)
    assert restarted.seed([logged], over) == 1
    again = restarted.agent_day("pbx1", "PJSIP/agent1", over)
    assert (again.calls_taken, again.talk_seconds) == (1, 45)
    assert restarted.view(over, {})["queues"] == []
    assert live.seed([logged], over) == 0  # counted live already: once


def test_member_and_other_notices_change_no_counter() -> None:
    f = WallboardFigures(service_level_seconds=20)
    from cti.domain.events import DeviceStatus
    from cti.domain.notices import MemberChange

    assert not f.apply(
        MemberChanged(
            pbx="pbx1",
            at=T0,
            change=MemberChange.ADDED,
            queue="support",
            interface="PJSIP/agent1",
            member_name="Ana",
            status=DeviceStatus.NOT_IN_USE,
            paused=False,
            paused_reason="",
            in_call=False,
            calls_taken=0,
        )
    )
    assert f.view(T0, {})["queues"] == []


class Figures:
    def campaign_figures(self) -> list[CampaignFigure]:
        return [
            CampaignFigure(
                campaign_id=1,
                name="Winter",
                status="running",
                mode="predictive",
                dial_level=1.8,
                answer_rate=0.42,
                abandon_rate=0.035,
                abandon_cap=0.03,
                leads_left=120,
            )
        ]


class Dicts:
    def figures(self) -> list[dict[str, Any]]:
        return [
            {
                "id": 2,
                "name": "Spring",
                "status": "running",
                "mode": "progressive",
                "dial_level": 1,
                "answer_rate": None,
                "abandon_rate": None,
                "abandon_cap": 0.03,
                "leads_left": 9,
                "in_flight": 3,
            }
        ]


def test_the_campaign_section_comes_from_either_provider_shape() -> None:
    f = WallboardFigures(service_level_seconds=20)
    assert f.view(T0, {})["campaigns"] is None
    assert campaigns_of(object()) is None
    [winter] = f.view(T0, {}, campaigns=campaigns_of(Figures()))["campaigns"]
    assert winter["over_cap"] is True and winter["dial_level"] == 1.8
    [spring] = f.view(T0, {}, campaigns=campaigns_of(Dicts()))["campaigns"]
    assert spring["over_cap"] is False and spring["abandon_rate"] is None
    assert (spring["calls_in_progress"], spring["leads_left"]) == (3, 9)
