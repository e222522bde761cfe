"""Suspects and prospects: converting a suspect copies its data (phones too) to a new prospect;
the suspect is then deleted, kept, or the operator is asked, per the setting
``telemarketing.suspect_after_conversion`` (the seeds' MV_TMKDACH).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.audit import audit_in
from cti.db.backoffice.common import enforce_required, iso
from cti.db.backoffice.personal import Viewer, show_personal
from cti.db.engine import Database
from cti.db.models import Attention, Phone, Prospect, Suspect
from cti.domain.backoffice import LEAD_SPEC, SuspectFate, check_convertible, suspect_fate
from cti.domain.model import SuspectPolicy
from cti.domain.phone import normalize_phone
from cti.errors import NotFound
from cti.i18n import _

_COPIED = ("name", "company", "tax_id", "email", "address", "region")


async def _lead_json(s: AsyncSession, lead: Suspect | Prospect) -> dict[str, Any]:
    key = Phone.suspect_id if isinstance(lead, Suspect) else Phone.prospect_id
    phones = (await s.execute(sa.select(Phone).where(key == lead.id).order_by(Phone.id))).scalars()
    out: dict[str, Any] = {
        "id": lead.id,
        **{f: getattr(lead, f) for f in _COPIED},
        "phones": [{"phone": p.phone, "raw": p.raw, "label": p.label} for p in phones],
        "created_at": iso(lead.created_at),
    }
    if isinstance(lead, Suspect):
        out["prospect_id"] = lead.prospect_id
        out["converted_at"] = iso(lead.converted_at)
    else:
        out["from_suspect"] = lead.from_suspect
    return out


def _country(given: str | None, default: str) -> str:
    """``given`` when it is a two-letter country code, else ``default``."""
    code = (given or "").strip().upper()
    return code if len(code) == 2 and code.isalpha() else default


async def _shown(s: AsyncSession, viewer: Viewer, lead: Suspect | Prospect) -> dict[str, Any]:
    kind = "suspect" if isinstance(lead, Suspect) else "prospect"
    [out] = await show_personal(
        s, viewer, [(f"{kind}:{lead.id}", await _lead_json(s, lead))], LEAD_SPEC, purpose=kind
    )
    return out


async def create_suspect(
    db: Database, viewer: Viewer, values: dict[str, Any], *, region: str = "US"
) -> dict[str, Any]:
    """A new suspect (``name`` and optional company, tax id, email, address, region, phone).

    The phone is read in the suspect's own ``region`` when it is a country code (``BR``), else in
    ``region`` (the service's ``telephony.default_region``).
    """
    async with db.sessions.begin() as s:
        await enforce_required(s, "suspect", values)
        suspect = Suspect(**{f: values.get(f) for f in _COPIED})
        s.add(suspect)
        await s.flush()
        if values.get("phone"):
            raw = values["phone"]
            s.add(
                Phone(
                    phone=normalize_phone(raw, _country(values.get("region"), region)) or raw,
                    raw=raw,
                    suspect_id=suspect.id,
                )
            )
        await audit_in(s, viewer.username, "suspect.create", f"suspect:{suspect.id}", {})
        await s.flush()
        return await _shown(s, viewer, suspect)


async def get_lead(db: Database, viewer: Viewer, kind: str, lead_id: int) -> dict[str, Any]:
    """A suspect or a prospect as the viewer may see it (the read is audited)."""
    async with db.sessions.begin() as s:
        lead: Suspect | Prospect | None = (
            await s.get(Suspect, lead_id) if kind == "suspect" else await s.get(Prospect, lead_id)
        )
        if lead is None:
            raise NotFound(_("suspect") if kind == "suspect" else _("prospect"), lead_id)
        return await _shown(s, viewer, lead)


@dataclass(frozen=True, slots=True)
class Conversion:
    """What a conversion did: ``fate`` ASK means nothing yet, the operator must decide."""

    fate: SuspectFate
    prospect: dict[str, Any] | None


async def convert(
    db: Database, viewer: Viewer, suspect_id: int, *, policy: SuspectPolicy, delete: bool | None
) -> Conversion:
    """Convert a suspect to a prospect; under the ``ask`` policy without ``delete``, nothing is
    done and the fate ASK tells the caller to ask the operator and call again with the answer."""
    async with db.sessions.begin() as s:
        suspect = await s.get(Suspect, suspect_id, with_for_update=True)
        if suspect is None:
            raise NotFound(_("suspect"), suspect_id)
        check_convertible(
            suspect.id, suspect.prospect_id, converted=suspect.converted_at is not None
        )
        fate = suspect_fate(policy, delete)
        if fate is SuspectFate.ASK:
            return Conversion(fate, None)
        prospect = Prospect(**{f: getattr(suspect, f) for f in _COPIED}, from_suspect=suspect.id)
        s.add(prospect)
        await s.flush()
        phones = (await s.execute(sa.select(Phone).where(Phone.suspect_id == suspect.id))).scalars()
        s.add_all(
            Phone(phone=p.phone, raw=p.raw, label=p.label, prospect_id=prospect.id)
            for p in list(phones)
        )
        # The suspect's attentions follow it: the history stays with the person.
        await s.execute(
            sa.update(Attention)
            .where(Attention.suspect_id == suspect.id)
            .values(prospect_id=prospect.id)
        )
        if fate is SuspectFate.DELETE:
            await s.delete(suspect)
        else:
            suspect.prospect_id = prospect.id
            suspect.converted_at = sa.func.now()
        await audit_in(
            s,
            viewer.username,
            "suspect.converted",
            f"suspect:{suspect_id}",
            {"prospect_id": prospect.id, "suspect": fate.value, "policy": policy.value},
        )
        await s.flush()
        return Conversion(fate, await _shown(s, viewer, prospect))


__all__ = ["Conversion", "convert", "create_suspect", "get_lead"]
