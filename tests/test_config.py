"""Settings: defaults, a file, the environment; one clear line for every mistake; secrets hidden."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cti.config import DEFAULTS_FILE, Secret, Settings, load_settings
from cti.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text)
    return path


def test_defaults_file_agrees_with_built_in_defaults() -> None:
    from_file = load_settings(environ={})
    built_in = load_settings(environ={}, defaults_file=None)
    assert from_file == built_in
    assert [p.name for p in from_file.ami] == ["pbx1"]
    assert DEFAULTS_FILE.exists()


def test_file_then_environment_override(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = 9000\n[sales]\nedit_billed_orders = true\n")
    s = load_settings(path, environ={"CTI_SERVER__PORT": "9100", "CTI_LOGGING__LEVEL": "DEBUG"})
    assert s.server.port == 9100
    assert s.sales.edit_billed_orders is True
    assert s.logging.level == "DEBUG"


def test_several_pbx_each_named_and_env_sets_a_secret_by_name(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[ami]]\nname = "north"\nhost = "10.0.0.1"\n\n[[ami]]\nname = "south"\nport = 5039\n',
    )
    s = load_settings(path, environ={"CTI_AMI__SOUTH__SECRET": "s3cret"})
    assert [(p.name, p.port) for p in s.ami] == [("north", 5038), ("south", 5039)]
    assert s.ami[1].secret.reveal() == "s3cret"
    assert s.ami[0].secret.reveal() == ""


def test_settings_are_frozen() -> None:
    s = load_settings(environ={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.server.port = 1  # type: ignore[misc]
    assert isinstance(s, Settings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[server]\nprot = 80\n", "server.prot ({f}): unknown key; expected one of"),
        (
            '[server]\nport = "eighty"\n',
            "server.port ({f}): expected an integer from 0 to 65535, got 'eighty'",
        ),
        (
            "[server]\nport = 70000\n",
            "server.port ({f}): expected an integer from 0 to 65535, got 70000",
        ),
        (
            '[telemarketing]\nsuspect_after_conversion = "maybe"\n',
            "telemarketing.suspect_after_conversion ({f}): expected one of 'delete', 'keep', 'ask'",
        ),
        (
            '[sales]\nedit_billed_orders = "S"\n',
            "sales.edit_billed_orders ({f}): expected true or false",
        ),
        ("[nonsense]\na = 1\n", "nonsense ({f}): unknown key"),
        ('[[ami]]\nhost = "x"\n', "ami[0].name ({f}): missing; it is required"),
        ('[[ami]]\nname = "a"\n[[ami]]\nname = "a"\n', "ami[1].name: 'a' is used twice"),
        ('[server]\nlanguage = "fr"\n', "server.language: expected one of en, pt-BR, es, got 'fr'"),
        ('[server]\ncurrency = "real"\n', "server.currency: expected an ISO 4217 code"),
        (
            '[softphone]\nice_servers = ["stun.example.com:3478"]\n',
            "softphone.ice_servers: 'stun.example.com:3478': not a STUN/TURN URL: write stun:HOST",
        ),
        (
            '[softphone]\nice_servers = ["turn:turn.example.com:3478"]\n',
            "softphone.ice_servers: 'turn:turn.example.com:3478' needs softphone.turn_secret",
        ),
        (
            '[softphone]\nice_servers = ["turn:t.example.com:500"]\nturn_secret = "s"\n',
            "only on ports 53, 80, 443 or above 1024, not 500",
        ),
        (
            '[softphone]\nice_servers = ["stun:s.example.com:10080"]\n',
            "softphone.ice_servers: 'stun:s.example.com:10080': browsers refuse to reach port 10080",
        ),
        (
            '[softphone]\nturn_username = "desk"\n',
            "softphone.turn_password: missing; turn_username needs it",
        ),
    ],
)
def test_a_wrong_key_or_value_is_one_line_naming_key_file_and_expectation(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    message = str(info.value)
    assert "\n" not in message
    assert expected.format(f=path) in message


def test_environment_mistake_names_the_variable() -> None:
    with pytest.raises(
        ConfigError,
        match=r"dialer.abandon_cap \(environment CTI_DIALER__ABANDON_CAP\): expected a number from 0 to 1",
    ):
        load_settings(environ={"CTI_DIALER__ABANDON_CAP": "lots"})


def test_unreadable_toml_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "[server\nport=1")
    with pytest.raises(ConfigError, match=f"config file {path}: not valid TOML"):
        load_settings(path, environ={})
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml", environ={})


def test_secrets_never_show(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[database]\nurl = "postgresql://u:hunter2@db/cti"\n[[ami]]\nname = "p"\nsecret = "hunter3"\n',
    )
    s = load_settings(path, environ={})
    shown = repr(s) + str(s) + str(s.ami[0].secret) + f"{s.database.url}"
    assert "hunter2" not in shown and "hunter3" not in shown
    assert s.database.url.reveal().endswith("@db/cti")
    # A wrong type on a secret does not echo what was typed.
    bad = write(tmp_path, '[[ami]]\nname = "p"\nsecret = 12345678\n')
    with pytest.raises(ConfigError) as info:
        load_settings(bad, environ={})
    assert "12345678" not in str(info.value)
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")


def test_stun_and_turn_servers_a_browser_can_use_are_accepted() -> None:
    s = load_settings(
        environ={
            "CTI_SOFTPHONE__ICE_SERVERS": "stun:[2001:db8::1],turn:turn.example.com:443?transport=tcp,"
            "turns:turn.example.com",
            "CTI_SOFTPHONE__TURN_SECRET": "shared",
        }
    )
    assert s.softphone.ice_servers == (
        "stun:[2001:db8::1]",
        "turn:turn.example.com:443?transport=tcp",
        "turns:turn.example.com",
    )
    assert "shared" not in repr(s)
