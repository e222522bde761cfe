"""Settings: defaults in ``config/cti.toml``, a ``--config`` file over them, ``CTI_*`` variables over both.

The result is one frozen :class:`Settings`, validated as a whole at start. A wrong key or value raises
:class:`~cti.errors.ConfigError` with one line naming the key, where it came from and what was
expected. Secrets are wrapped in :class:`Secret`, whose ``repr`` and ``str`` never show the value.

Environment variables use ``__`` between levels: ``CTI_SERVER__PORT=9000``,
``CTI_DATABASE__URL=postgresql://…``, ``CTI_AMI__PBX1__SECRET=…`` (a PBX by its name, or by its
position: ``CTI_AMI__0__SECRET``).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cti.domain.softphone import ice_url_problem, is_turn
from cti.errors import ConfigError

# The commented defaults of a source checkout. An installed copy may not have it: the built-in
# defaults below are the same values (a test keeps the two equal).
DEFAULTS_FILE = Path(__file__).resolve().parent.parent / "config" / "cti.toml"
ENV_PREFIX = "CTI_"


class Secret:
    """A value that must never be printed: logs and errors see ``'***'``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one place that needs it (a login, a connection)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def _range(lo: float | None = None, hi: float | None = None) -> dict[str, float | None]:
    return {"min": lo, "max": hi}


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSettings:
    """The HTTP/WebSocket server agents and supervisors reach."""

    host: str = "127.0.0.1"
    port: int = field(default=8080, metadata=_range(0, 65535))
    # Origins allowed to open the WebSocket besides the server's own (e.g. a reverse proxy's).
    allowed_origins: tuple[str, ...] = ()
    session_hours: float = field(default=12.0, metadata=_range(0.1, 24 * 30))
    # Send cookies only over HTTPS; turn on behind a TLS-terminating proxy.
    secure_cookies: bool = False
    # The pages' language for a user who chose none and whose browser asks for none we have
    # (en, pt-BR, es), and the currency money is shown in (ISO 4217: BRL, EUR, USD...).
    language: str = "en"
    currency: str = "USD"


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseSettings:
    """PostgreSQL. With no URL, cti runs a private embedded server."""

    url: Secret = field(default_factory=lambda: Secret(""))
    # Where the embedded server keeps its data; empty: the user's data directory.
    embedded_dir: str = ""
    pool_size: int = field(default=10, metadata=_range(1, 200))
    echo: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AmiServerSettings:
    """One Asterisk PBX reached over AMI."""

    name: str
    host: str = "127.0.0.1"
    port: int = field(default=5038, metadata=_range(1, 65535))
    username: str = "cti"
    secret: Secret = field(default_factory=lambda: Secret(""))
    ping_interval: float = field(default=10.0, metadata=_range(0.05, 3600))
    ping_timeout: float = field(default=5.0, metadata=_range(0.05, 600))
    action_timeout: float = field(default=10.0, metadata=_range(0.05, 600))
    reconnect_min: float = field(default=1.0, metadata=_range(0.01, 600))
    reconnect_max: float = field(default=60.0, metadata=_range(0.01, 3600))
    # Dialplan context that outbound (dialer) calls are originated into.
    dialer_context: str = "cti-dialer"
    # Dialplan context a supervisor's phone is originated into to listen, whisper or barge
    # (extensions listen/whisper/barge; the agent's interface in CTI_SPY_TARGET).
    spy_context: str = "cti-spy"
    # The PBX can answer an agent's phone on request (the built-in simulator only; real phones
    # answer themselves). Shows an Answer button on the desk.
    remote_answer: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TelephonySettings:
    """How phone numbers are read."""

    # Region used to read numbers written without a country code (ISO 3166 alpha-2).
    default_region: str = "US"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeskSettings:
    """The agent desk: which queues each routine's operators join, where they may transfer."""

    telemarketing_queues: tuple[str, ...] = ("support",)
    telesales_queues: tuple[str, ...] = ("sales",)
    collection_queues: tuple[str, ...] = ("collections",)
    # Dialplan contexts a blind transfer from the desk may target (the first is the default).
    transfer_contexts: tuple[str, ...] = ("from-carrier", "from-agents")
    # Calls an agent places from the desk (click-to-call, the dial pad): the number customers
    # see (empty: the PBX's own), and when they may be called, in the number's own time.
    caller_id: str = ""
    calling_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat")
    calling_from: str = "08:00"
    calling_until: str = "21:00"

    def queues_for(self, routines: tuple[str, ...] | frozenset[str]) -> tuple[str, ...]:
        """The queues an operator with these routines joins, each once, in routine order."""
        by_routine = {
            "telemarketing": self.telemarketing_queues,
            "telesales": self.telesales_queues,
            "collection": self.collection_queues,
        }
        out: list[str] = []
        for routine in ("telemarketing", "telesales", "collection"):
            if routine in routines:
                out.extend(q for q in by_routine[routine] if q not in out)
        return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class SoftphoneSettings:
    """The desk's phone in the browser (WebRTC), for users whose phone is the softphone."""

    # Where browsers reach Asterisk's SIP over secure WebSocket (config/asterisk/http.conf).
    ws_url: str = "wss://localhost:8089/ws"
    # The SIP domain in the softphone's address (sip:<extension>@<domain>).
    domain: str = "localhost"
    # STUN/TURN servers the browser uses to find its way through NAT (RTCIceServer urls):
    # stun:HOST[:PORT], turn:HOST[:PORT][?transport=udp|tcp], turns:HOST[:PORT].
    ice_servers: tuple[str, ...] = ()
    # A TURN server's shared secret (coturn: use-auth-secret, static-auth-secret): each desk gets
    # a TURN user of its own that expires with its sign-in, never the secret.
    turn_secret: Secret = field(default_factory=lambda: Secret(""))
    # Or one fixed TURN user for every desk (a TURN server without a shared secret).
    turn_username: str = ""
    turn_password: Secret = field(default_factory=lambda: Secret(""))
    # The dialplan context of calls the softphone makes (as pjsip.conf's agents).
    context: str = "from-agents"


@dataclass(frozen=True, slots=True, kw_only=True)
class DialerSettings:
    """Predictive dialer compliance defaults (per campaign values override them)."""

    abandon_cap: float = field(default=0.03, metadata=_range(0.0, 1.0))
    abandon_window: Literal["30d", "24h"] = "30d"
    # An answered call not connected to an agent within this many seconds is abandoned.
    connect_within_seconds: float = field(default=2.0, metadata=_range(0.1, 60))
    min_ring_seconds: int = field(default=15, metadata=_range(1, 600))


@dataclass(frozen=True, slots=True, kw_only=True)
class SalesSettings:
    """Telesales rules."""

    # May a sales order still be edited once billed? (the seeds' MV_ALTPED)
    edit_billed_orders: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TelemarketingSettings:
    """Telemarketing rules."""

    # What happens to a suspect converted to a prospect (the seeds' MV_TMKDACH).
    suspect_after_conversion: Literal["delete", "keep", "ask"] = "ask"
    # Do ticket actions flagged for it raise potential non-conformities for the quality team?
    # (the seeds' MV_QLYXCAL: the Call Center x Non-conformity Control integration)
    nonconformity_integration: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingsSettings:
    """Call recordings: Asterisk writes them (extensions.conf [cti-record], MixMonitor), cti ties
    each to its call and attention, plays them to users allowed to hear personal data, and purges
    them after ``retention_days``."""

    # The folder Asterisk records into (its CTI_RECORDINGS global), as cti sees it (a volume both
    # share). Empty: cti does not look for recordings.
    dir: str = ""
    retention_days: int = field(default=90, metadata=_range(1, 3650))
    # How often old recordings are looked for.
    purge_every_minutes: float = field(default=60.0, metadata=_range(0.01, 24 * 60))


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisorSettings:
    """Wallboard figures."""

    # Service level: share of calls answered within this many seconds.
    service_level_seconds: int = field(default=20, metadata=_range(1, 3600))
    # The service level the center aims at; below it the wallboard shows a breach.
    service_level_target: float = field(default=0.8, metadata=_range(0.0, 1.0))
    # IANA zone whose midnight starts the wallboard's day and the reports' dates; empty: the
    # server's own zone.
    timezone: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSettings:
    """How webhooks are delivered (docs/integrations.md): retried with exponential backoff
    (``backoff_seconds``, doubling, at most ``backoff_max_seconds``), dead after ``max_attempts``."""

    max_attempts: int = field(default=8, metadata=_range(1, 100))
    backoff_seconds: float = field(default=10.0, metadata=_range(0.001, 86400))
    backoff_max_seconds: float = field(default=3600.0, metadata=_range(0.001, 7 * 86400))
    # How long a receiver has to answer one post.
    timeout_seconds: float = field(default=10.0, metadata=_range(0.1, 300))
    # How often the outbox is looked at for deliveries that are due.
    poll_seconds: float = field(default=1.0, metadata=_range(0.01, 60))
    # Events older than this are deleted once no delivery waits for them (the event stream
    # cannot resume from before it).
    retention_days: int = field(default=30, metadata=_range(1, 3650))


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggingSettings:
    """Logging."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoSettings:
    """What ``cti demo`` runs: the built-in PBX simulator and its traffic."""

    sim_host: str = "127.0.0.1"
    sim_port: int = field(default=5038, metadata=_range(0, 65535))
    # Inbound calls per minute, per queue.
    inbound_per_minute: float = field(default=1.5, metadata=_range(0, 100000))
    seed: int = 7


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything cti is configured with; built once at start, never changed."""

    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    ami: tuple[AmiServerSettings, ...] = field(
        default_factory=lambda: (AmiServerSettings(name="pbx1"),)
    )
    telephony: TelephonySettings = field(default_factory=TelephonySettings)
    desk: DeskSettings = field(default_factory=DeskSettings)
    softphone: SoftphoneSettings = field(default_factory=SoftphoneSettings)
    recordings: RecordingsSettings = field(default_factory=RecordingsSettings)
    dialer: DialerSettings = field(default_factory=DialerSettings)
    sales: SalesSettings = field(default_factory=SalesSettings)
    telemarketing: TelemarketingSettings = field(default_factory=TelemarketingSettings)
    supervisor: SupervisorSettings = field(default_factory=SupervisorSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    demo: DemoSettings = field(default_factory=DemoSettings)


# --- loading ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Val:
    """A raw value and where it came from."""

    value: Any
    source: str


def _tag(data: Any, source: str) -> Any:
    """Wrap every leaf of a TOML document with its source."""
    if isinstance(data, dict):
        return {k: _tag(v, source) for k, v in data.items()}
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        return [_tag(x, source) for x in data]
    return _Val(data, source)


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base[k], v) if k in base else v
        return out
    return over


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot be read ({exc.strerror})") from None


def _env_layer(tree: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Apply ``CTI_A__B=value`` variables onto the tagged tree (values stay strings; coerced later)."""
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        if any(not p for p in parts):
            raise ConfigError(
                f"environment {name}: malformed variable name; expected CTI_SECTION__KEY"
            )
        source = f"environment {name}"
        node: Any = tree
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, list):
                node = _pick_list_item(node, part, name)
                continue
            if part not in node:
                # A list section (ami) named in the environment but absent: start an entry by name.
                if i == 0 and part == "ami":
                    node[part] = []
                    node = node[part]
                    continue
                node[part] = {}
            node = node[part]
            if isinstance(node, _Val):
                raise ConfigError(
                    f"{'.'.join(parts[: i + 1])} ({source}): is a value, not a section"
                )
        leaf = parts[-1]
        if isinstance(node, list):
            raise ConfigError(f"{'.'.join(parts)} ({source}): name a key inside one server")
        node[leaf] = _Val(environ[name], source)
    return tree


def _pick_list_item(items: list[Any], key: str, var: str) -> dict[str, Any]:
    if key.isdigit():
        idx = int(key)
        if idx >= len(items):
            raise ConfigError(
                f"environment {var}: there is no server number {idx} (have {len(items)})"
            )
        item: dict[str, Any] = items[idx]
        return item
    for entry in items:
        name = entry.get("name")
        if isinstance(name, _Val) and str(name.value).lower() == key:
            found: dict[str, Any] = entry
            return found
    new: dict[str, Any] = {"name": _Val(key, f"environment {var}")}
    items.append(new)
    return new


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _describe(tp: Any, meta: Mapping[str, Any]) -> str:
    lo, hi = meta.get("min"), meta.get("max")
    bounds = ""
    if lo is not None and hi is not None:
        bounds = f" from {lo:g} to {hi:g}"
    if tp is int:
        return "an integer" + bounds
    if tp is float:
        return "a number" + bounds
    if tp is bool:
        return "true or false"
    if tp is str:
        return "a string"
    if tp is Secret:
        return "a string (secret)"
    if get_origin(tp) is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if get_origin(tp) is tuple:
        return "a list"
    return "a table"


def _coerce(tp: Any, raw: _Val, key: str, meta: Mapping[str, Any]) -> Any:
    val = raw.value
    from_env = raw.source.startswith("environment")

    def bad() -> ConfigError:
        shown = "***" if tp is Secret else repr(val)
        return ConfigError(f"{key} ({raw.source}): expected {_describe(tp, meta)}, got {shown}")

    if tp is bool:
        if isinstance(val, bool):
            return val
        if from_env and isinstance(val, str) and val.lower() in _TRUE | _FALSE:
            return val.lower() in _TRUE
        raise bad()
    if tp is int or tp is float:
        if isinstance(val, bool):
            raise bad()
        if from_env and isinstance(val, str):
            try:
                val = int(val) if tp is int else float(val)
            except ValueError:
                raise bad() from None
        if tp is int and not isinstance(val, int):
            raise bad()
        if tp is float and not isinstance(val, int | float):
            raise bad()
        lo, hi = meta.get("min"), meta.get("max")
        if (lo is not None and val < lo) or (hi is not None and val > hi):
            raise bad()
        return tp(val)
    if tp is str:
        if not isinstance(val, str):
            raise bad()
        return val
    if tp is Secret:
        if not isinstance(val, str):
            raise bad()
        return Secret(val)
    if get_origin(tp) is Literal:
        if val not in get_args(tp):
            raise bad()
        return val
    if get_origin(tp) is tuple:
        if from_env and isinstance(val, str):
            val = [s.strip() for s in val.split(",") if s.strip()]
        if not isinstance(val, list) or not all(isinstance(s, str) for s in val):
            raise bad()
        return tuple(val)
    raise bad()


def _build(cls: type[Any], node: Any, prefix: str) -> Any:
    hints = get_type_hints(cls)
    if not isinstance(node, dict):
        src = node.source if isinstance(node, _Val) else "?"
        raise ConfigError(f"{prefix or 'settings'} ({src}): expected a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key, val in node.items():
        if key not in fields:
            src = val.source if isinstance(val, _Val) else _first_source(val)
            where = f"{prefix}.{key}" if prefix else key
            raise ConfigError(
                f"{where} ({src}): unknown key; expected one of {', '.join(sorted(fields))}"
            )
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        key = f"{prefix}.{name}" if prefix else name
        tp = hints[name]
        if name not in node:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{key} ({_first_source(node)}): missing; it is required")
            continue
        raw = node[name]
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            kwargs[name] = _build(tp, raw, key)
        elif get_origin(tp) is tuple and dataclasses.is_dataclass(get_args(tp)[0]):
            item_cls = get_args(tp)[0]
            if isinstance(raw, _Val):
                if raw.value == []:
                    kwargs[name] = ()
                    continue
                raise ConfigError(f"{key} ({raw.source}): expected a list of tables ([[{key}]])")
            kwargs[name] = tuple(
                _build(item_cls, item, f"{key}[{i}]") for i, item in enumerate(raw)
            )
        else:
            if not isinstance(raw, _Val):
                raise ConfigError(
                    f"{key} ({_first_source(raw)}): expected {_describe(tp, f.metadata)}, got a table"
                )
            kwargs[name] = _coerce(_unoptional(tp), raw, key, f.metadata)
    return cls(**kwargs)


def _unoptional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _first_source(node: Any) -> str:
    if isinstance(node, _Val):
        return node.source
    if isinstance(node, dict):
        for v in node.values():
            return _first_source(v)
    if isinstance(node, list) and node:
        return _first_source(node[0])
    return "defaults"


def _check_desk_hours(desk: DeskSettings) -> None:
    """The desk's calling hours are read as the desk reads them (one rule, in the domain)."""
    from cti.domain.desk_dial import desk_windows
    from cti.errors import UserInputError

    try:
        desk_windows(desk.calling_days, desk.calling_from, desk.calling_until)
    except UserInputError as exc:
        if exc.field == "end":
            raise ConfigError("desk.calling_until: must be later than calling_from") from None
        field_name = "calling_days" if exc.field == "days" else exc.field
        raise ConfigError(f"desk.{field_name}: {exc.problem}") from None


def _check_softphone(phone: SoftphoneSettings) -> None:
    for url in phone.ice_servers:
        problem = ice_url_problem(url)
        if problem:
            raise ConfigError(f"softphone.ice_servers: {url!r}: {problem}")
    turn = [url for url in phone.ice_servers if is_turn(url)]
    if turn and not (phone.turn_secret or phone.turn_username):
        raise ConfigError(
            f"softphone.ice_servers: {turn[0]!r} needs softphone.turn_secret (the TURN server's"
            " shared secret) or softphone.turn_username and turn_password: a browser refuses a"
            " TURN server without a user"
        )
    if phone.turn_username and not phone.turn_password:
        raise ConfigError("softphone.turn_password: missing; turn_username needs it")


def _check_whole(settings: Settings) -> None:
    names: set[str] = set()
    for i, pbx in enumerate(settings.ami):
        if not pbx.name.strip():
            raise ConfigError(f"ami[{i}].name: must not be empty")
        if pbx.name in names:
            raise ConfigError(
                f"ami[{i}].name: {pbx.name!r} is used twice; each PBX needs its own name"
            )
        names.add(pbx.name)
        if pbx.reconnect_max < pbx.reconnect_min:
            raise ConfigError(
                f"ami[{i}].reconnect_max: must be at least reconnect_min ({pbx.reconnect_min:g})"
            )
    if settings.supervisor.timezone:
        try:
            ZoneInfo(settings.supervisor.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"supervisor.timezone: expected an IANA time zone like 'America/Sao_Paulo', "
                f"got {settings.supervisor.timezone!r}"
            ) from None
    _check_softphone(settings.softphone)
    if not settings.desk.transfer_contexts:
        raise ConfigError("desk.transfer_contexts: name at least one dialplan context")
    _check_desk_hours(settings.desk)
    region = settings.telephony.default_region
    if len(region) != 2 or not region.isalpha() or not region.isupper():
        raise ConfigError(
            f"telephony.default_region: expected a two-letter country code like 'US', got {region!r}"
        )
    if settings.server.language not in ("en", "pt-BR", "es"):
        raise ConfigError(
            f"server.language: expected one of en, pt-BR, es, got {settings.server.language!r}"
        )
    currency = settings.server.currency
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise ConfigError(
            f"server.currency: expected an ISO 4217 code like 'BRL', 'EUR', 'USD', got {currency!r}"
        )


def load_settings(
    path: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    defaults_file: Path | None = DEFAULTS_FILE,
) -> Settings:
    """Build the settings from the defaults file, an optional user file and the environment.

    Raises:
        ConfigError: one line naming the key, the file (or variable) and what was expected.
    """
    tree: dict[str, Any] = {}
    if defaults_file is not None and defaults_file.exists():
        tree = _tag(_read_toml(defaults_file), str(defaults_file))
    if path is not None:
        user = _tag(_read_toml(Path(path)), str(path))
        if "ami" in user:
            tree.pop("ami", None)  # a user's PBX list replaces the default one whole
        tree = _merge(tree, user)
    tree = _env_layer(tree, os.environ if environ is None else environ)
    settings: Settings = _build(Settings, tree, "")
    _check_whole(settings)
    return settings


def replace(settings: Settings, **sections: Any) -> Settings:
    """A copy of ``settings`` with whole sections replaced (used by ``cti demo`` and tests)."""
    return dataclasses.replace(settings, **sections)


__all__ = [
    "AmiServerSettings",
    "DatabaseSettings",
    "Secret",
    "Settings",
    "load_settings",
    "replace",
]
