"""The state as JSON-ready data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cti.domain.live.core import StateCore


def snapshot_of(state: StateCore) -> dict[str, Any]:
    """The state as JSON-ready data: queues (waiting callers, members), agents, calls."""

    def iso(t: datetime | None) -> str | None:
        return None if t is None else t.isoformat()

    queues = []
    for q in sorted(state.queues.values(), key=lambda q: q.name):
        queues.append(
            {
                "name": q.name,
                "strategy": q.strategy,
                "waiting": [
                    {
                        "uniqueid": c.uniqueid,
                        "linkedid": c.linkedid,
                        "channel": c.channel,
                        "caller_num": c.caller_num,
                        "caller_name": c.caller_name,
                        "position": c.position,
                        "joined_at": iso(c.joined_at),
                    }
                    for c in sorted(q.waiting.values(), key=lambda c: c.position)
                ],
                "members": [
                    {
                        "interface": m.interface,
                        "name": m.name,
                        "status": m.status.value,
                        "paused": m.paused,
                        "paused_reason": m.paused_reason,
                        "in_call": m.in_call,
                        "calls_taken": m.calls_taken,
                        "penalty": m.penalty,
                    }
                    for m in sorted(q.members.values(), key=lambda m: m.interface)
                ],
                "completed": q.completed,
                "abandoned": q.abandoned,
                "hold_time": q.hold_time,
                "talk_time": q.talk_time,
                "longest_hold_time": q.longest_hold_time,
                "service_level": q.service_level,
                "service_level_perf": q.service_level_perf,
            }
        )
    agents = [
        {
            "interface": a.interface,
            "name": a.name,
            "state": a.state.value,
            "reason": a.reason,
            "since": iso(a.since),
            "queues": sorted(a.queues),
            "paused": a.paused,
            "unavailable": a.unavailable,
            "call": a.call,
            "call_kind": None if a.call_kind is None else a.call_kind.value,
            "ringing_for": a.ringing_for,
        }
        for a in sorted(state.agents.values(), key=lambda a: a.interface)
    ]
    calls = [
        {
            "linkedid": c.linkedid,
            "state": c.state.value,
            "caller_num": c.caller_num,
            "caller_name": c.caller_name,
            "started_at": iso(c.started_at),
            "answered_at": iso(c.answered_at),
            "queue": c.queue,
            "agent": c.agent,
            "action_id": c.action_id,
            "channels": [
                {
                    "uniqueid": ch.uniqueid,
                    "channel": ch.name,
                    "state": ch.state.value,
                    "caller_num": ch.caller_num,
                    "bridge_id": ch.bridge_id,
                }
                for ch in (state.channels[u] for u in sorted(c.channels) if u in state.channels)
            ],
        }
        for c in sorted(state.calls.values(), key=lambda c: c.linkedid)
    ]
    spies = [
        {
            "spyer": s.spyer,
            "spyer_channel": s.spyer_channel,
            "spyee_channel": s.spyee_channel,
            "agent": s.agent,
            "since": iso(s.since),
        }
        for s in sorted(state.spies.values(), key=lambda s: s.since)
    ]
    return {
        "pbx": state.pbx,
        "queues": queues,
        "agents": agents,
        "calls": calls,
        "spies": spies,
        "bridges": len(state.bridges),
        "resync_wanted": state.resync_wanted,
        "last_resync": iso(state.last_resync),
    }
