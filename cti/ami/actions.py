"""Domain command → AMI action headers (pure)."""

from __future__ import annotations

from cti.domain.commands import (
    Atxfer,
    CancelAtxfer,
    Command,
    Getvar,
    Hangup,
    Originate,
    Ping,
    QueueAdd,
    QueuePause,
    QueueRemove,
    Redirect,
    Setvar,
    SimAnswer,
    StopRecording,
)
from cti.domain.events import ActionId
from cti.domain.state import ACTION_ID_VARIABLE

ActionHeaders = dict[str, str | list[str]]


def _bool(value: bool) -> str:
    return "true" if value else "false"


def action_for(command: Command, action_id: ActionId) -> ActionHeaders:
    """The AMI action for ``command``, carrying ``action_id``."""
    h: ActionHeaders = {"ActionID": action_id}
    match command:
        case Ping():
            h["Action"] = "Ping"
        case QueueAdd():
            h.update(Action="QueueAdd", Queue=command.queue, Interface=command.interface)
            if command.member_name:
                h["MemberName"] = command.member_name
            if command.state_interface:
                h["StateInterface"] = command.state_interface
            h["Penalty"] = str(command.penalty)
            h["Paused"] = _bool(command.paused)
            if command.reason:
                h["Reason"] = command.reason
        case QueueRemove():
            h.update(Action="QueueRemove", Queue=command.queue, Interface=command.interface)
        case QueuePause():
            h.update(Action="QueuePause", Interface=command.interface, Paused=_bool(command.paused))
            if command.queue:
                h["Queue"] = command.queue
            if command.reason:
                h["Reason"] = command.reason
        case StopRecording():
            h.update(Action="StopMixMonitor", Channel=command.channel)
        case Hangup():
            h.update(Action="Hangup", Channel=command.channel)
            if command.cause is not None:
                h["Cause"] = str(command.cause)
        case Redirect():
            h.update(
                Action="Redirect",
                Channel=command.channel,
                Context=command.context,
                Exten=command.exten,
                Priority=str(command.priority),
            )
            if command.extra_channel:
                h.update(
                    ExtraChannel=command.extra_channel,
                    ExtraContext=command.context,
                    ExtraExten=command.exten,
                    ExtraPriority=str(command.priority),
                )
        case Atxfer():
            h.update(Action="Atxfer", Channel=command.channel, Exten=command.exten)
            if command.context:
                h["Context"] = command.context
        case CancelAtxfer():
            h.update(Action="CancelAtxfer", Channel=command.channel)
        case SimAnswer():
            h.update(Action="SimAnswer", Interface=command.interface)
        case Setvar():
            h.update(Action="Setvar", Variable=command.variable, Value=command.value)
            if command.channel:
                h["Channel"] = command.channel
        case Getvar():
            h.update(Action="Getvar", Variable=command.variable)
            if command.channel:
                h["Channel"] = command.channel
        case Originate():
            h.update(Action="Originate", Channel=command.channel, Async="true")
            if command.application is not None:
                h["Application"] = command.application
                h["Data"] = command.data
            else:
                assert command.context is not None and command.exten is not None
                h.update(
                    Context=command.context, Exten=command.exten, Priority=str(command.priority)
                )
            if command.caller_id:
                h["CallerID"] = command.caller_id
            if command.account:
                h["Account"] = command.account
            h["Timeout"] = str(int(command.timeout * 1000))
            variables = {**command.variables, ACTION_ID_VARIABLE: action_id}
            h["Variable"] = [f"{k}={v}" for k, v in variables.items()]
    return h
