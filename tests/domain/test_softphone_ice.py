"""The STUN and TURN servers a desk's browser is given: each TURN server with a user of the
desk's own that expires, as coturn checks it (its use-auth-secret), never the shared secret."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cti.domain.softphone import IceServer, ice_servers_for, ice_url_problem

URLS = ("stun:turn.example.com:3478", "turn:turn.example.com:3478?transport=udp")
NOW = 1_800_000_000.0


def coturn_accepts(secret: str, username: str, password: str, *, at: float) -> bool:
    """What coturn does with use-auth-secret: the password must be the user name's HMAC-SHA1
    under the shared secret, and the time before the colon still ahead."""
    expected = base64.b64encode(
        hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    ).decode()
    return hmac.compare_digest(expected, password) and int(username.partition(":")[0]) > at


def test_each_desk_gets_a_turn_user_of_its_own_that_expires() -> None:
    # Signed in until NOW + 12 h.
    until = NOW + 12 * 3600
    carla = ice_servers_for(URLS, user="web1", expires=until, turn_secret="shared-secret")
    diego = ice_servers_for(URLS, user="web2", expires=until, turn_secret="shared-secret")
    # STUN needs no user; the TURN server gets one.
    assert carla[0] == IceServer("stun:turn.example.com:3478")
    turn = carla[1]
    assert turn.urls == URLS[1] and turn.username and turn.credential
    assert turn.username.endswith(":web1")
    assert "shared-secret" not in (turn.username + turn.credential)
    assert coturn_accepts("shared-secret", turn.username, turn.credential, at=NOW + 11.9 * 3600)
    assert not coturn_accepts("shared-secret", turn.username, turn.credential, at=NOW + 12 * 3600)
    assert not coturn_accepts("another-secret", turn.username, turn.credential, at=NOW)
    # Another desk's user is not carla's.
    assert diego[1].username != turn.username and diego[1].credential != turn.credential


def test_a_fixed_turn_user_is_given_as_configured() -> None:
    servers = ice_servers_for(
        URLS, user="web1", expires=NOW, turn_username="desk", turn_password="pw"
    )
    assert servers == [IceServer(URLS[0]), IceServer(URLS[1], "desk", "pw")]
    assert ice_servers_for(URLS[:1], user="web1", expires=NOW) == [IceServer(URLS[0])]


def test_what_keeps_a_browser_from_a_server_is_named() -> None:
    assert ice_url_problem("stun:stun.l.google.com:19302") is None
    assert ice_url_problem("turns:turn.example.com:443?transport=tcp") is None
    assert ice_url_problem("turn:[2001:db8::1]:3478") is None
    assert "not a STUN/TURN URL" in (ice_url_problem("https://turn.example.com") or "")
    assert "takes no ?transport=" in (ice_url_problem("stun:s.example.com?transport=tcp") or "")
    assert "is TCP" in (ice_url_problem("turns:t.example.com?transport=udp") or "")
    assert "not 22" in (ice_url_problem("turn:t.example.com:22") or "")
    assert "port 5060" in (ice_url_problem("stun:s.example.com:5060") or "")
    assert "not a port" in (ice_url_problem("stun:s.example.com:70000") or "")
