"""The demo data: every role and routine can log in, callers are known, seeding twice is a no-op."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from cti.clock import FakeClock
from cti.db.engine import Database
from cti.db.models import (
    Attention,
    AttentionGroup,
    CallMessage,
    CallMessageSituation,
    Campaign,
    ClosingReason,
    Contact,
    Customer,
    Lead,
    Operator,
    PauseReason,
    Phone,
    Receivable,
    SalesOrder,
    Script,
)
from cti.db.seed import DEMO_CALLERS, DEMO_LOGINS, seed_demo, seeded_language
from cti.demo import _print_banner
from cti.domain.model import CampaignKind, Role, Routine
from cti.domain.phone import normalize_phone
from cti.errors import UserInputError
from cti.passwords import verify_password


async def _count(db: Database, stmt: sa.Select[Any]) -> int:
    async with db.sessions() as s:
        return int((await s.execute(stmt)).scalar_one())


async def test_seed_is_idempotent_and_complete(db: Database) -> None:
    clock = FakeClock()
    assert await seed_demo(db, clock=clock) is True
    tables = (Operator, Attention, Phone, Receivable, Lead, CallMessage)
    counts = [await _count(db, sa.select(sa.func.count()).select_from(t)) for t in tables]
    assert await seed_demo(db, clock=clock) is False
    assert [await _count(db, sa.select(sa.func.count()).select_from(t)) for t in tables] == counts

    async with db.sessions() as s:
        users = {u.username: u for u in (await s.execute(sa.select(Operator))).scalars()}
        for login in DEMO_LOGINS:
            user = users[login.username]
            assert verify_password(user.password_hash, login.password)
            assert user.role is login.role
            assert user.routines == frozenset(login.routines)
        assert users["diego"].routines == set(Routine)
        assert {u.role for u in users.values()} == set(Role)
        short = (
            await s.execute(
                sa.select(AttentionGroup.ideal_talk_seconds).where(
                    AttentionGroup.id == users["diego"].group_id
                )
            )
        ).scalar_one()
        assert short <= 30

        # Every demo caller id finds a customer or a contact by its normalised number.
        for phone, _name in DEMO_CALLERS:
            found = (
                await s.execute(sa.select(Phone).where(Phone.phone == normalize_phone(phone)))
            ).scalar_one()
            assert found.customer_id or found.contact_id

        overdue = (
            await s.execute(
                sa.select(sa.func.count())
                .select_from(Receivable)
                .where(Receivable.due_on < clock.now().date(), Receivable.paid.is_(False))
            )
        ).scalar_one()
        assert overdue >= 3
        kinds = set((await s.execute(sa.select(Campaign.kind))).scalars())
        assert {CampaignKind.TELESALES, CampaignKind.COLLECTION} <= kinds
        pending = (
            await s.execute(
                sa.select(sa.func.count())
                .select_from(CallMessage)
                .join(CallMessageSituation)
                .where(CallMessageSituation.pending, CallMessage.finalized_at.is_(None))
            )
        ).scalar_one()
        assert pending >= 2
        assert set((await s.execute(sa.select(PauseReason.name))).scalars()) >= {
            "lunch",
            "break",
            "training",
            "backoffice",
        }
        assert (await s.execute(sa.select(sa.func.bool_or(SalesOrder.billed)))).scalar() is True


async def _names(db: Database, column: Any) -> set[str]:
    async with db.sessions() as s:
        return {str(v) for v in (await s.execute(sa.select(column))).scalars()}


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "pt-BR",
            {
                "groups": {"Expresso", "Atendimento", "Vendas", "Cobrança"},
                "reason": "Promessa de pagamento",
                "campaigns": {"Vendas de primavera", "Faturas vencidas"},
                "script": "Cumprimente e confirme que está falando com o comprador.",
                "message": "Pede a segunda via de uma fatura vencida.",
                "address": "Rua Principal, 10",
                "position": "Compras",
                "pauses": {"almoço", "intervalo", "treinamento", "retaguarda"},
            },
        ),
        (
            "es",
            {
                "groups": {"Exprés", "Atención", "Ventas", "Cobranza"},
                "reason": "Promesa de pago",
                "campaigns": {"Ventas de primavera", "Facturas vencidas"},
                "script": "Salude y confirme que habla con el comprador.",
                "message": "Pide una copia de una factura vencida.",
                "address": "Calle Principal 10",
                "position": "Compras",
                "pauses": {"almuerzo", "descanso", "capacitación", "tareas internas"},
            },
        ),
    ],
)
async def test_the_demo_data_speaks_the_demos_language(
    db: Database, language: str, words: dict[str, Any]
) -> None:
    """A call center trying cti in Portuguese or Spanish sees its catalogues, campaigns, script and
    messages in that language; the names of people and companies stay as they are."""
    assert await seed_demo(db, clock=FakeClock(), language=language) is True
    assert await _names(db, AttentionGroup.name) == words["groups"]
    assert words["reason"] in await _names(db, ClosingReason.name)
    assert await _names(db, Campaign.name) == words["campaigns"]
    assert words["message"] in await _names(db, CallMessage.description)
    assert words["address"] in await _names(db, Customer.address)
    assert await _names(db, Contact.position) == {words["position"]}
    assert await _names(db, PauseReason.name) == words["pauses"]
    assert "Padaria São Jorge" in await _names(db, Customer.name)
    async with db.sessions() as s:
        body = (await s.execute(sa.select(Script.body))).scalar_one()
    assert body[0]["text"] == words["script"]


async def test_a_language_cti_does_not_speak_is_refused_before_anything_is_written(
    db: Database,
) -> None:
    with pytest.raises(UserInputError, match="en, pt-BR, es"):
        await seed_demo(db, clock=FakeClock(), language="de")
    assert await _count(db, sa.select(sa.func.count()).select_from(Operator)) == 0


async def test_the_demo_data_remembers_its_language_when_a_later_run_asks_for_another(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await seeded_language(db) is None
    assert await seed_demo(db, clock=FakeClock(), language="es") is True
    # A later `make demo LANGUAGE=pt-BR` on the same database writes nothing...
    assert await seed_demo(db, clock=FakeClock(), language="pt-BR") is False
    assert await seeded_language(db) == "es"
    # ...and says the data is Spanish, not Portuguese (it said "demo data in Português").
    _print_banner("http://127.0.0.1:8080/", 5038, DEMO_LOGINS, "pt-BR", "es")
    banner = capsys.readouterr().out
    assert "demo data in Español, as an earlier run wrote it" in banner
    assert "the pages default to Português (Brasil)" in banner
    assert "demo data in Português" not in banner
