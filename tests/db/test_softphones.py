"""The desk's softphone accounts in Asterisk's realtime tables (what Asterisk itself does with them
is proven in tests/pbx/test_softphone.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cti.db import softphones
from cti.db.engine import Database
from cti.db.models import AuditEvent, PjsipAor, PjsipAuth, PjsipEndpoint
from cti.db.users import add_user
from cti.domain.softphone import md5_credential
from cti.errors import Refused

PASSWORD = "a-long-enough-password-1"


async def _add(db: Database, username: str, extension: str | None, softphone: bool) -> int:
    return await add_user(
        db,
        username=username,
        password=PASSWORD,
        role="operator",
        routines=["telemarketing"],
        extension=extension,
        full_name="Carla Souza",
        softphone=softphone,
    )


async def test_a_softphone_user_gets_a_webrtc_endpoint_and_only_its_hash_is_kept(
    db: Database,
) -> None:
    carla = await _add(db, "carla", "PJSIP/web1", True)
    issued = await softphones.issue(db, carla, context="from-agents")
    assert (issued.endpoint, issued.username, issued.display_name) == (
        "web1",
        "web1",
        "Carla Souza",
    )
    async with db.sessions() as s:
        endpoint = await s.get(PjsipEndpoint, "web1")
        auth = await s.get(PjsipAuth, "web1")
        aor = await s.get(PjsipAor, "web1")
        assert endpoint is not None and auth is not None and aor is not None
        assert (endpoint.webrtc, endpoint.context, endpoint.auth, endpoint.aors) == (
            "yes",
            "from-agents",
            "web1",
            "web1",
        )
        assert (aor.max_contacts, aor.remove_existing) == (1, "yes")
        assert auth.md5_cred == md5_credential("web1", issued.password)
        assert issued.password not in (auth.md5_cred, auth.username, auth.realm)

    # Asking again rotates the password; signing out makes it unknowable.
    again = await softphones.issue(db, carla, context="from-agents")
    assert again.password != issued.password
    assert await softphones.withdraw(db, carla)
    async with db.sessions() as s:
        auth = await s.get(PjsipAuth, "web1")
        assert auth is not None
        assert auth.md5_cred not in (
            md5_credential("web1", issued.password),
            md5_credential("web1", again.password),
        )
        actions = (
            await s.execute(
                sa.select(AuditEvent.action)
                .where(AuditEvent.subject == "endpoint:web1")
                .order_by(AuditEvent.id)
            )
        ).scalars()
        assert list(actions) == ["softphone.issued", "softphone.issued", "softphone.withdrawn"]


async def test_a_user_with_a_sip_phone_or_no_extension_gets_no_softphone(db: Database) -> None:
    ana = await _add(db, "ana", "PJSIP/agent1", False)
    with pytest.raises(Refused, match="SIP phone"):
        await softphones.issue(db, ana, context="from-agents")
    nobody = await _add(db, "nobody", None, True)
    with pytest.raises(Refused, match="no extension"):
        await softphones.issue(db, nobody, context="from-agents")
    assert not await softphones.withdraw(db, ana)
    async with db.sessions() as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(PjsipAuth))).scalar() == 0
