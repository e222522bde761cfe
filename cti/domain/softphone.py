"""The desk's softphone (WebRTC): what its SIP endpoint is made of.

A user whose phone is the softphone gets a PJSIP endpoint named as their extension, written by cti
in Asterisk's realtime tables (``cti.db.tables.pbx``). The password is issued for one signed-in
desk and never stored: Asterisk keeps only its digest hash (``auth_type = md5``), which is what
:func:`md5_credential` computes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cti.domain.texts import _
from cti.errors import Refused

# Asterisk's default realm for the digest challenges it sends (pjsip.conf [global] default_realm).
REALM = "asterisk"


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """The realtime rows of one softphone (endpoint, auth and aor share the id)."""

    id: str
    context: str
    caller_name: str
    # G.711, which every browser speaks: this Asterisk has no Opus transcoder (codec_opus is a
    # binary module it is not built with), and an Opus leg could not be bridged to the carrier's.
    codecs: str = "ulaw,alaw"
    # One call at a time: with queues.conf ringinuse = no, a busy agent is not rung.
    busy_at: int = 1
    # OPTIONS every 10 s, as the agents' SIP phones: a closed desk is unavailable within seconds.
    qualify_seconds: int = 10


def endpoint_for(
    *, extension: str | None, softphone: bool, full_name: str | None, context: str
) -> Endpoint:
    """The softphone endpoint of a user, or :class:`Refused` when their phone is not one."""
    if not softphone:
        raise Refused(_("your phone is a SIP phone, not the desk's softphone"), "softphone")
    if not extension:
        raise Refused(_("you have no extension: an admin gives you one"), "extension")
    return Endpoint(id=extension, context=context, caller_name=full_name or extension)


def md5_credential(username: str, password: str, realm: str = REALM) -> str:
    """The digest hash Asterisk checks a REGISTER against (RFC 2617 HA1)."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()
