"""The transfer rules: who may be picked, how a target is reached, the consultation's phases."""

from __future__ import annotations

import pytest

from cti.ami.actions import action_for
from cti.domain.commands import Atxfer, CancelAtxfer
from cti.domain.events import ActionId
from cti.domain.transfer import (
    Consult,
    ConsultPhase,
    FreeAgent,
    Target,
    TargetKind,
    TransferRefused,
    free_agents,
    number_target,
    route_of,
)
from cti.errors import UserInputError


def _agent(uid: int, name: str, **kw: object) -> FreeAgent:
    base: dict[str, object] = {
        "user_id": uid,
        "name": name,
        "interface": f"PJSIP/agent{uid}",
        "pbx": "pbx1",
        "state": "ready",
        "phone_unavailable": False,
        "on_call": False,
    }
    base.update(kw)
    return FreeAgent(**base)  # type: ignore[arg-type]


def test_the_picker_offers_only_free_agents_of_the_same_pbx_but_me_by_name() -> None:
    agents = [
        _agent(1, "Ana"),
        _agent(2, "zeca"),
        _agent(3, "Bruno"),
        _agent(4, "Paused", state="paused"),
        _agent(5, "Wrapping", state="wrap_up"),
        _agent(6, "Unregistered", phone_unavailable=True),
        _agent(7, "Talking", on_call=True),
        _agent(8, "Elsewhere", pbx="pbx2"),
    ]
    assert [a.name for a in free_agents(agents, me=1, pbx="pbx1")] == ["Bruno", "zeca"]


def test_a_number_is_digits_with_an_optional_plus_and_its_separators_dropped() -> None:
    assert number_target("+55 (11) 5555-0199").value == "+551155550199"
    for bad in ("12", "55a11", "1*2", "+", ""):
        with pytest.raises(UserInputError) as err:
            number_target(bad)
        assert err.value.field == "number"


def test_the_dialplan_route_names_the_kind_and_holds_the_agent_or_queue() -> None:
    agent = Target(kind=TargetKind.AGENT, value="PJSIP/agent2", label="Bruno")
    assert (route_of(agent).exten, route_of(agent).to) == ("agent", "PJSIP/agent2")
    blind = route_of(agent, blind=True)
    assert (blind.exten, blind.to) == ("agent-blind", "PJSIP/agent2")
    queue = Target(kind=TargetKind.QUEUE, value="sales", label="sales")
    assert (route_of(queue).exten, route_of(queue).to) == ("queue", "sales")
    number = number_target("5551234")
    assert (route_of(number).exten, route_of(number).to) == ("5551234", "")


def test_a_consultation_completes_or_cancels_once() -> None:
    c = Consult(
        target=Target(kind=TargetKind.AGENT, value="PJSIP/agent2", label="Bruno"),
        caller_uniqueid="1.0",
        linkedid="1.0",
        agent_channel="PJSIP/agent1-00000001",
        attention_id=7,
    )
    assert c.complete().phase is ConsultPhase.COMPLETED
    assert c.cancel().phase is ConsultPhase.CANCELLED
    with pytest.raises(TransferRefused):
        c.complete().cancel()
    assert c.phase is ConsultPhase.CONSULTING  # unchanged


def test_atxfer_and_cancelatxfer_are_the_ami_actions_asterisk_documents() -> None:
    aid = ActionId("x-1")
    assert action_for(
        Atxfer(channel="PJSIP/agent1-00000001", exten="#", context="cti-transfer"), aid
    ) == {
        "ActionID": "x-1",
        "Action": "Atxfer",
        "Channel": "PJSIP/agent1-00000001",
        "Exten": "#",
        "Context": "cti-transfer",
    }
    assert action_for(CancelAtxfer(channel="PJSIP/agent1-00000001"), aid) == {
        "ActionID": "x-1",
        "Action": "CancelAtxfer",
        "Channel": "PJSIP/agent1-00000001",
    }
    with pytest.raises(UserInputError):
        Atxfer(channel="PJSIP/agent1-1\r\nAction: Hangup", exten="#")
