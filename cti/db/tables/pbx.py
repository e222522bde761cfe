"""What Asterisk reads from cti's database: the desk's softphones (WebRTC endpoints).

Asterisk's PJSIP finds endpoints, auths and aors named in these tables through res_config_pgsql
(``config/asterisk/sorcery.conf``). The table and column names are Asterisk's own realtime schema
(only the columns cti sets): Asterisk reads every column of a row as an option, so no column of
cti's own may be added here. cti writes a row set for a user whose phone is the browser when their
desk asks for its phone, and replaces its password with one nobody knows when the desk signs out.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cti.db.tables.base import Base


class PjsipEndpoint(Base):
    """An endpoint (``ps_endpoints``): a softphone's SIP identity, ``PJSIP/<id>``."""

    __tablename__ = "ps_endpoints"

    id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    aors: Mapped[str] = mapped_column(sa.Text)
    auth: Mapped[str] = mapped_column(sa.Text)
    context: Mapped[str] = mapped_column(sa.Text)
    disallow: Mapped[str] = mapped_column(sa.Text)
    allow: Mapped[str] = mapped_column(sa.Text)
    webrtc: Mapped[str] = mapped_column(sa.Text)
    dtls_auto_generate_cert: Mapped[str] = mapped_column(sa.Text)
    device_state_busy_at: Mapped[int] = mapped_column(sa.Integer)
    callerid: Mapped[str | None] = mapped_column(sa.Text)
    # Voicemail boxes (none): Asterisk looks for endpoints that have one at start.
    mailboxes: Mapped[str | None] = mapped_column(sa.Text)


class PjsipAuth(Base):
    """An auth (``ps_auths``): only the digest hash of the password cti issued is kept."""

    __tablename__ = "ps_auths"

    id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    auth_type: Mapped[str] = mapped_column(sa.Text)
    username: Mapped[str] = mapped_column(sa.Text)
    realm: Mapped[str] = mapped_column(sa.Text)
    md5_cred: Mapped[str] = mapped_column(sa.Text)


class PjsipAor(Base):
    """An address of record (``ps_aors``): one registration, replaced by a newer one."""

    __tablename__ = "ps_aors"

    id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    max_contacts: Mapped[int] = mapped_column(sa.Integer)
    remove_existing: Mapped[str] = mapped_column(sa.Text)
    qualify_frequency: Mapped[int] = mapped_column(sa.Integer)
    # Static contacts (none for a softphone): Asterisk looks for aors that have one at start.
    contact: Mapped[str | None] = mapped_column(sa.Text)
