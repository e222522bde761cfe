"""Typed commands cti sends to a PBX, and what comes back.

The AMI layer (``cti.ami.actions``) turns a command into an AMI action. Commands check their own
fields: a value that would break the AMI framing (a line break) or an empty required field raises
:class:`~cti.errors.UserInputError` naming the field, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

from cti.domain.events import ActionId, OriginateOutcome, UniqueId
from cti.domain.texts import _
from cti.errors import UserInputError


def _check(cmd: object, required: tuple[str, ...]) -> None:
    for f in fields(cmd):  # type: ignore[arg-type]
        value = getattr(cmd, f.name)
        values = value.items() if isinstance(value, Mapping) else [value]
        for v in values:
            text = " ".join(map(str, v)) if isinstance(v, tuple) else str(v)
            if "\r" in text or "\n" in text:
                raise UserInputError(f.name, _("must not contain a line break"))
        if f.name in required and (value is None or (isinstance(value, str) and not value.strip())):
            raise UserInputError(f.name, _("is required"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping:
    """Ask the PBX for a ``Pong``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueAdd:
    """Log an interface in to a queue."""

    queue: str
    interface: str
    member_name: str = ""
    state_interface: str = ""
    penalty: int = 0
    paused: bool = False
    reason: str = ""

    def __post_init__(self) -> None:
        _check(self, ("queue", "interface"))


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueRemove:
    """Log an interface out of a queue."""

    queue: str
    interface: str

    def __post_init__(self) -> None:
        _check(self, ("queue", "interface"))


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuePause:
    """Pause or unpause an interface, in one queue or (``queue=None``) in all of them."""

    interface: str
    paused: bool
    queue: str | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        _check(self, ("interface",))


@dataclass(frozen=True, slots=True, kw_only=True)
class StopRecording:
    """Stop the call recording (MixMonitor) on a channel: what was recorded so far is kept."""

    channel: str

    def __post_init__(self) -> None:
        _check(self, ("channel",))


@dataclass(frozen=True, slots=True, kw_only=True)
class Hangup:
    """Hang a channel up (by channel name)."""

    channel: str
    cause: int | None = None

    def __post_init__(self) -> None:
        _check(self, ("channel",))


@dataclass(frozen=True, slots=True, kw_only=True)
class Redirect:
    """Blind transfer: send a channel (and optionally its peer) to a dialplan extension."""

    channel: str
    context: str
    exten: str
    priority: int = 1
    extra_channel: str | None = None

    def __post_init__(self) -> None:
        _check(self, ("channel", "context", "exten"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Atxfer:
    """Attended transfer: the PBX consults ``exten``@``context`` from ``channel`` (an agent's
    channel in a bridge), the bridged party on hold. Asterisk keys the channel's atxfer feature
    code for it (features.conf); ``TRANSFER_EXTEN`` on the channel overrides ``exten``."""

    channel: str
    exten: str
    context: str = ""

    def __post_init__(self) -> None:
        _check(self, ("channel", "exten"))


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAtxfer:
    """Abort the attended transfer ``channel`` started: it is back with the party on hold."""

    channel: str

    def __post_init__(self) -> None:
        _check(self, ("channel",))


@dataclass(frozen=True, slots=True, kw_only=True)
class SimAnswer:
    """Answer the phone ringing on ``interface`` (the built-in simulator only: ``remote_answer``)."""

    interface: str

    def __post_init__(self) -> None:
        _check(self, ("interface",))


@dataclass(frozen=True, slots=True, kw_only=True)
class Setvar:
    """Set a channel variable (or a global one with ``channel=None``)."""

    variable: str
    value: str
    channel: str | None = None

    def __post_init__(self) -> None:
        _check(self, ("variable",))


@dataclass(frozen=True, slots=True, kw_only=True)
class Getvar:
    """Read a channel variable (or a global one with ``channel=None``)."""

    variable: str
    channel: str | None = None

    def __post_init__(self) -> None:
        _check(self, ("variable",))


@dataclass(frozen=True, slots=True, kw_only=True)
class Originate:
    """Place a call: dial ``channel``, then run ``application`` or go to ``context``/``exten``.

    Always sent ``Async: true`` with cti's own ActionID, and never re-sent: see
    ``AmiService.originate``. ``timeout`` is how long to ring, in seconds.
    """

    channel: str
    context: str | None = None
    exten: str | None = None
    priority: int = 1
    application: str | None = None
    data: str = ""
    caller_id: str = ""
    timeout: float = 30.0
    variables: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    account: str = ""

    def __post_init__(self) -> None:
        _check(self, ("channel",))
        if (self.application is None) == (self.exten is None or self.context is None):
            raise UserInputError(
                "application", _("give either an application or a context and an extension")
            )
        if not 1 <= self.timeout <= 3600:
            raise UserInputError("timeout", _("must be between 1 and 3600 seconds"))
        for name in self.variables:
            if not name or "=" in name:
                raise UserInputError("variables", _("bad variable name {name!r}"), name=name)


Command = (
    Ping
    | QueueAdd
    | QueueRemove
    | QueuePause
    | Hangup
    | StopRecording
    | Redirect
    | Atxfer
    | CancelAtxfer
    | SimAnswer
    | Setvar
    | Getvar
    | Originate
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """The PBX's answer to a command: ``Success`` (``ok``) with its headers."""

    ok: bool
    message: str
    headers: Mapping[str, str]
    action_id: ActionId

    def get(self, name: str, default: str = "") -> str:
        """A header of the answer (``Value`` for Getvar, ``Ping`` for Ping…)."""
        return self.headers.get(name, default)


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginateResult:
    """How an Originate ended its dialling phase."""

    action_id: ActionId
    outcome: OriginateOutcome
    # Asterisk's OriginateResponse reason (3 no answer, 4 answered, 5 busy, 8 congestion), or
    # None when the outcome was reconciled after a reconnect.
    reason_code: int | None
    uniqueid: UniqueId | None
    # True when the link dropped and the outcome came from the resync, not an OriginateResponse.
    reconciled: bool = False
