"""The docker compose deployment: what cti needs from docker-compose.yml and config/asterisk/.

There is no Docker engine or YAML library in the test environment, so the compose file is read
with a reader for the block-style YAML subset it is written in, and the Asterisk files with a
reader for Asterisk's config syntax (sections, templates, ``=``/``=>``, ``;`` comments). The
checks are the ones that would break cti at run time: an environment variable cti rejects, a
missing AMI permission, a queue or DID that is not where cti expects it.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cti.config import DEFAULTS_FILE, load_settings
from cti.domain.softphone import BROWSER_BLOCKED_PORTS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ASTERISK = ROOT / "config" / "asterisk"


# --- a reader for the YAML subset docker-compose.yml uses ----------------------------------------


def _strip_comment(line: str) -> str:
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def _scalar(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def parse_yaml(text: str) -> Any:
    """Block mappings and lists of scalars, as docker-compose.yml is written (no flow style)."""
    lines: list[tuple[int, str]] = []
    for raw in text.splitlines():
        line = _strip_comment(raw)
        if line.strip():
            assert "\t" not in line[: len(line) - len(line.lstrip())], raw
            lines.append((len(line) - len(line.lstrip()), line.strip()))

    def block(i: int, indent: int) -> tuple[Any, int]:
        if lines[i][1].startswith("- "):
            items: list[str] = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
                items.append(_scalar(lines[i][1][2:]))
                i += 1
            return items, i
        mapping: dict[str, Any] = {}
        while i < len(lines) and lines[i][0] == indent:
            key, sep, rest = lines[i][1].partition(":")
            assert sep, f"not a mapping line: {lines[i][1]!r}"
            assert key not in mapping, f"duplicate key {key!r}"
            i += 1
            if rest.strip():
                mapping[key] = _scalar(rest)
            elif i < len(lines) and lines[i][0] > indent:
                mapping[key], i = block(i, lines[i][0])
            else:
                mapping[key] = None
        return mapping, i

    value, end = block(0, 0)
    assert end == len(lines), f"unparsed from line {lines[end]!r}"
    return value


_INTERPOLATION = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def interpolate(value: str, dotenv: dict[str, str]) -> str:
    """Compose's ``${VAR}`` / ``${VAR:-default}`` with the variables of a ``.env`` file."""
    return _INTERPOLATION.sub(lambda m: dotenv.get(m.group(1)) or (m.group(2) or ""), value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc = parse_yaml(COMPOSE.read_text())
    assert isinstance(doc, dict)
    return doc


# --- a reader for Asterisk config files ------------------------------------------------------------


@dataclass
class Section:
    name: str
    template: bool
    parents: list[str]
    items: list[tuple[str, str]] = field(default_factory=list)


_HEADER = re.compile(r"^\[([^\]]+)\](?:\(([^)]*)\))?$")


def read_conf(name: str) -> list[Section]:
    sections: list[Section] = []
    for number, raw in enumerate((ASTERISK / name).read_text().splitlines(), 1):
        line = re.split(r"(?<!\\);", raw, maxsplit=1)[0].strip()
        if not line:
            continue
        header = _HEADER.match(line)
        if header:
            opts = [o.strip() for o in (header.group(2) or "").split(",") if o.strip()]
            sections.append(Section(header.group(1), "!" in opts, [o for o in opts if o != "!"]))
            continue
        assert sections, f"{name}:{number}: setting outside a section"
        if line.startswith("#"):
            directive, _, rest = line.partition(" ")
            sections[-1].items.append((directive, rest.strip()))
            continue
        match = re.match(r"^([^=]+?)\s*=>?\s*(.*)$", line)
        assert match, f"{name}:{number}: not a setting: {raw!r}"
        sections[-1].items.append((match.group(1), match.group(2)))
    return sections


def resolved(sections: list[Section]) -> list[tuple[str, dict[str, str]]]:
    """Concrete (non-template) sections with their templates' settings applied (later wins)."""
    templates = {s.name: s for s in sections if s.template}

    def settings(s: Section) -> dict[str, str]:
        out: dict[str, str] = {}
        for parent in s.parents:
            assert parent in templates, f"[{s.name}] uses unknown template {parent}"
            out.update(settings(templates[parent]))
        out.update(dict(s.items))
        return out

    return [(s.name, settings(s)) for s in sections if not s.template]


def dialplan() -> dict[str, dict[str, list[str]]]:
    """context -> extension -> the applications it runs, in order."""
    plan: dict[str, dict[str, list[str]]] = {}
    for section in read_conf("extensions.conf"):
        if section.name in ("general", "globals"):
            continue
        context = plan.setdefault(section.name, {})
        current = ""
        for key, value in section.items:
            if key == "exten":
                current, _, rest = value.partition(",")
                _, _, app = rest.partition(",")
            else:
                assert key == "same", f"[{section.name}] {key}"
                _, _, app = value.partition(",")
            context.setdefault(current, []).append(app)
    return plan


def globals_() -> dict[str, str]:
    return next(dict(s.items) for s in read_conf("extensions.conf") if s.name == "globals")


# --- the compose file ------------------------------------------------------------------------------


def test_compose_runs_asterisk_postgres_and_cti_with_pinned_images(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"asterisk", "postgres", "cti"}
    for name in ("asterisk", "postgres"):
        _repo, _, tag = services[name]["image"].partition(":")
        assert tag and tag != "latest", f"{name} image is not pinned by tag"
    assert services["asterisk"]["image"].startswith("andrius/asterisk:22.")
    assert services["cti"]["build"] == "."
    assert services["cti"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["postgres"]["healthcheck"]["test"][0] == "CMD-SHELL"
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "pgdata" in compose["volumes"]


def test_compose_publishes_sip_rtp_and_web_but_not_ami(compose: dict[str, Any]) -> None:
    services = compose["services"]
    published = [p for s in services.values() for p in (s.get("ports") or [])]
    assert not any("5038" in p for p in published), "AMI must stay on the compose network"
    assert not any("5432" in p for p in published)
    assert "8080:8080" in services["cti"]["ports"]
    asterisk_ports = services["asterisk"]["ports"]
    assert "5060:5060/udp" in asterisk_ports
    rtp = next(p for p in asterisk_ports if "-" in p and p.endswith("/udp"))
    start, end = (int(x) for x in rtp.split(":")[0].split("-"))
    assert rtp_range() == (start, end)
    assert end - start < 1000, "keep the published RTP range small"


def rtp_range() -> tuple[int, int]:
    rtp_conf = dict(read_conf("rtp.conf")[0].items)
    return int(rtp_conf["rtpstart"]), int(rtp_conf["rtpend"])


def test_no_media_port_is_one_a_browser_refuses() -> None:
    # A browser phone's call that Asterisk gave port 10080 (once in the old 10000-10099 range)
    # never had audio: Chromium's ICE discarded it (seen in the pbx tier).
    start, end = rtp_range()
    assert start > 1024
    # Those ports (the Fetch standard's "bad ports"): Chromium discards a media candidate on one.
    refused = sorted(BROWSER_BLOCKED_PORTS & set(range(start, end + 1)))
    assert not refused, f"rtp.conf's range {start}-{end} holds ports browsers refuse: {refused}"


def test_every_cti_variable_in_compose_is_accepted_by_load_settings(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    env = services["cti"]["environment"]
    cti_vars = {k for s in services.values() for k in (s.get("environment") or {})}
    cti_vars = {k for k in cti_vars if k.startswith("CTI_")}
    assert cti_vars == {k for k in env if k.startswith("CTI_")}, "CTI_* belongs to cti only"
    assert all("__" in k for k in cti_vars), "cti ignores CTI_ names without __"

    dotenv = {"AMI_SECRET": "s3cret-ami", "POSTGRES_PASSWORD": "pw-db_1"}
    for defaults in (None, DEFAULTS_FILE):  # the image has no config/cti.toml next to the package
        for values in ({}, dotenv):
            environ = {k: interpolate(v, values) for k, v in env.items()}
            settings = load_settings(environ=environ, defaults_file=defaults)
            assert settings.server.host == "0.0.0.0"
            assert settings.server.port == 8080
            assert [p.name for p in settings.ami] == ["pbx1"]
            pbx = settings.ami[0]
            assert (pbx.host, pbx.port, pbx.username) == ("asterisk", 5038, "cti")
            asterisk_secret = interpolate(services["asterisk"]["environment"]["AMI_SECRET"], values)
            assert pbx.secret.reveal() == asterisk_secret != ""
            url = settings.database.url.reveal()
            postgres_password = interpolate(
                services["postgres"]["environment"]["POSTGRES_PASSWORD"], values
            )
            assert url == f"postgresql://cti:{postgres_password}@postgres:5432/cti"
            assert pbx.dialer_context in dialplan()
            assert pbx.spy_context in dialplan()
    assert interpolate(env["CTI_AMI__PBX1__SECRET"], {}).startswith("change-me")


def test_compose_mounts_the_asterisk_config_and_sounds(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["asterisk"]["volumes"]
    assert "./config/asterisk:/etc/asterisk:ro" in volumes
    assert "./config/asterisk/sounds:/var/lib/asterisk/sounds/cti:ro" in volumes
    abandon = globals_()["CTI_ABANDON_SOUND"]
    assert abandon.startswith("/var/lib/asterisk/sounds/cti/")
    assert (ASTERISK / "sounds" / (abandon.rsplit("/", 1)[1] + ".wav")).is_file()


# --- manager.conf ------------------------------------------------------------------------------------


def test_ami_user_cti_reads_everything_and_may_write() -> None:
    users = dict(resolved(read_conf("manager.conf")))
    cti = users["cti"]
    assert cti["read"] == "all"
    assert cti["write"] == "all"
    assert users["readonly"]["write"] == "none"
    assert dict(read_conf("manager.conf")[0].items)["enabled"] == "yes"
    assert cti["#exec"] == "/bin/sh /etc/asterisk/env-setting.sh secret AMI_SECRET"
    options = next(s for s in read_conf("asterisk.conf") if s.name == "options")
    assert dict(options.items)["execincludes"] == "yes"


def test_env_setting_script_prints_the_secret_or_locks_the_user() -> None:
    script = str(ASTERISK / "env-setting.sh")
    given = subprocess.run(
        ["sh", script, "secret", "AMI_SECRET"],
        env={"AMI_SECRET": "a b;c"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert given.stdout == "secret = a b;c\n"
    empty = subprocess.run(
        ["sh", script, "secret", "AMI_SECRET"], env={}, capture_output=True, text=True, check=True
    )
    lines = empty.stdout.splitlines()
    assert lines[0].startswith(";")  # a config comment, not a setting
    assert re.fullmatch(r"secret = [0-9a-f]{32}", lines[1])


# --- queues.conf ---------------------------------------------------------------------------------------


def test_the_three_queues_have_the_settings_cti_expects() -> None:
    queues = dict(resolved(read_conf("queues.conf")))
    expected = {
        "strategy": "rrmemory",
        "joinempty": "yes",
        "leavewhenempty": "no",
        "ringinuse": "no",
        "timeout": "15",
        "retry": "2",
        "wrapuptime": "0",
        "timeoutpriority": "app",
    }
    for name in ("support", "sales", "collections"):
        assert {k: queues[name].get(k) for k in expected} == expected, name
        assert not any(k == "member" for k in queues[name]), "members are added by cti at run time"


# --- extensions.conf -----------------------------------------------------------------------------------


def test_dids_answer_and_go_to_their_queue() -> None:
    inbound = dialplan()["from-carrier"]
    for did, queue in (("5000", "support"), ("5001", "sales"), ("5002", "collections")):
        apps = inbound[did]
        # Answered, recorded from the bridge on ([cti-record]), then queued; the agent may
        # transfer the caller (option t: the desk's attended transfer, features.conf).
        assert apps[:3] == ["Answer()", "Gosub(cti-record,s,1)", f"Queue({queue},t)"]


def test_queue_calls_are_recorded_by_their_callers_uniqueid_unless_turned_off() -> None:
    record = dialplan()["cti-record"]["s"]
    assert 'GotoIf($["${CTI_RECORD}" = "no"]?done)' in record[0]
    assert "MixMonitor(${CTI_RECORDINGS}/${UNIQUEID}.wav,b)" in record
    assert globals_()["CTI_RECORD"] == "yes"


def test_dialer_context_dials_the_trunk_then_queues_with_amd_and_abandon() -> None:
    plan = dialplan()
    dialer = plan["cti-dialer"]
    assert any("Gosub(cti-dialer-out," in a for a in dialer["_X."])
    out = " ".join(plan["cti-dialer-out"]["s"])
    assert "Dial(PJSIP/${CTI_DIAL_PREFIX}${ARG1}@${CTI_TRUNK}" in out
    assert globals_()["CTI_TRUNK"] == "carrier"
    connect = dialer["connect"]
    amd = next(i for i, a in enumerate(connect) if a.startswith("AMD("))
    queue = next(i for i, a in enumerate(connect) if "Queue(${CTI_QUEUE}" in a)
    abandon = next(i for i, a in enumerate(connect) if "UserEvent(CtiDialerAbandoned" in a)
    assert amd < queue < abandon
    assert any("${CTI_AMD}" in a for a in connect[:amd])
    assert "${CTI_CONNECT})" in connect[queue]  # Queue()'s timeout is the connect limit
    assert connect[abandon + 1] == "Playback(${CTI_ABANDON_SOUND})"


def test_spy_context_listens_whispers_and_barges() -> None:
    spy = dialplan()["cti-spy"]
    # E: the session ends with the spied call (tests/pbx/test_spy.py shows why on a real PBX).
    for exten, options in (("listen", "qE"), ("whisper", "qwE"), ("barge", "qBE")):
        assert f"ChanSpy(${{CTI_SPY_TARGET}},{options})" in spy[exten]


def test_every_context_and_jump_target_exists() -> None:
    plan = dialplan()
    pjsip = resolved(read_conf("pjsip.conf"))
    for name, obj in pjsip:
        if obj.get("type") == "endpoint":
            assert obj["context"] in plan, f"endpoint {name} uses unknown context"
    for context in plan.values():
        for apps in context.values():
            for app in apps:
                for target in re.findall(r"(?:Goto|Gosub)\(([\w-]+),", app):
                    assert target in plan, f"jump to unknown context {target}"
                for target in re.findall(r"b\(([\w-]+)\^", app):
                    assert target in plan


# --- pjsip.conf ------------------------------------------------------------------------------------------


def test_agents_and_carrier_trunk_are_defined() -> None:
    objects = {(name, obj.get("type")) for name, obj in resolved(read_conf("pjsip.conf"))}
    for n in range(1, 11):
        for kind in ("endpoint", "auth", "aor"):
            assert (f"agent{n}", kind) in objects
    assert {("carrier", "endpoint"), ("carrier", "aor"), ("carrier-in", "identify")} <= objects
    transports = {
        obj["bind"]
        for _, obj in resolved(read_conf("pjsip.conf"))
        if obj.get("type") == "transport"
    }
    assert "0.0.0.0:5060" in transports
