"""Demo data for ``cti demo``: users for every role and routine, customers with history, campaigns.

:func:`seed_demo` is idempotent: it marks the database with an audit event ``demo.seeded`` and does
nothing when the mark is there. The demo passwords are the username followed by ``123``; fine for a
demo on one's own machine, never for production.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.clock import Clock
from cti.db.engine import Database
from cti.db.models import (
    AgentPause,
    Attention,
    AttentionGroup,
    AttentionNote,
    AuditEvent,
    Call,
    CallMessage,
    CallMessageNote,
    CallMessageSituation,
    CallMessageType,
    Case,
    ClosingReason,
    Contact,
    Customer,
    Operator,
    OrderItem,
    PauseReason,
    PaymentPromise,
    Phone,
    Product,
    Prospect,
    Quote,
    QuoteItem,
    Receivable,
    SalesOrder,
    Suspect,
    TicketAction,
    TicketOccurrence,
    TicketSubject,
)
from cti.db.seed_campaigns import DEMO_PBX, seed_campaigns
from cti.domain.model import (
    AttentionKind,
    AttentionStatus,
    CallOutcome,
    CaseStatus,
    Direction,
    Role,
    Routine,
)
from cti.domain.no_answer import MISSED_REASON
from cti.domain.tickets import TicketStatus
from cti.i18n import Say, _, translator
from cti.passwords import hash_password

SEED_MARK = "demo.seeded"


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """One demo user, as ``cti demo`` prints it."""

    username: str
    password: str
    role: Role
    routines: tuple[Routine, ...]
    interface: str | None
    note: str
    # Their phone is the desk's softphone (WebRTC; simulated in the demo).
    softphone: bool = False


_ALL = (Routine.TELEMARKETING, Routine.TELESALES, Routine.COLLECTION)

DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin(
        "ana", "ana123", Role.OPERATOR, (Routine.TELEMARKETING,), "PJSIP/agent1", "telemarketing"
    ),
    DemoLogin(
        "bruno", "bruno123", Role.OPERATOR, (Routine.TELESALES,), "PJSIP/agent2", "telesales"
    ),
    DemoLogin(
        "carla",
        "carla123",
        Role.OPERATOR,
        (Routine.COLLECTION,),
        "PJSIP/agent3",
        "collection; her phone is the browser (the desk's softphone)",
        softphone=True,
    ),
    DemoLogin(
        "diego",
        "diego123",
        Role.OPERATOR,
        _ALL,
        "PJSIP/agent4",
        "all three routines, 30 s ideal talk time, no personal-data permission",
    ),
    DemoLogin("sofia", "sofia123", Role.SUPERVISOR, (), None, "supervisor: wallboard"),
    DemoLogin("admin", "admin123", Role.ADMIN, (), None, "administrator"),
)

# The attention group of each demo user, and which of them may see personal data unmasked.
_GROUP_OF = {"ana": "Service", "bruno": "Sales", "carla": "Collection", "diego": "Express"}
_NO_PERSONAL_DATA = {"diego"}

DEMO_GROUPS: tuple[tuple[str, int], ...] = (
    (_("Express"), 30),
    (_("Service"), 180),
    (_("Sales"), 180),
    (_("Collection"), 180),
)

# Queues the demo campaigns and inbound traffic use.
DEMO_QUEUES: tuple[str, ...] = ("support", "sales", "collections")


@dataclass(frozen=True, slots=True)
class _DemoCustomer:
    code: str
    name: str
    phone: str
    contact: str
    contact_phone: str
    tax_id: str
    region: str
    timezone: str
    delinquent: bool


_CUSTOMERS: tuple[_DemoCustomer, ...] = (
    _DemoCustomer(
        "C001",
        "Acme Supplies",
        "+12025550101",
        "Laura Smith",
        "+12025550111",
        "12-3456789",
        "US",
        "America/New_York",
        False,
    ),
    _DemoCustomer(
        "C002",
        "Padaria São Jorge",
        "+5511955550102",
        "João Pereira",
        "+5511955550112",
        "12.345.678/0001-90",
        "BR",
        "America/Sao_Paulo",
        True,
    ),
    _DemoCustomer(
        "C003",
        "Ferretería El Sol",
        "+525555550103",
        "María López",
        "+525555550113",
        "FES010203AB1",
        "MX",
        "America/Mexico_City",
        False,
    ),
    _DemoCustomer(
        "C004",
        "Blue Harbor Logistics",
        "+12025550104",
        "Tom Becker",
        "+12025550114",
        "98-7654321",
        "US",
        "America/New_York",
        True,
    ),
    _DemoCustomer(
        "C005",
        "Green Valley Farms",
        "+13125550105",
        "Emma Clark",
        "+13125550115",
        "45-6789012",
        "US",
        "America/Chicago",
        False,
    ),
    _DemoCustomer(
        "C006",
        "Comercial Andina",
        "+5715550106",
        "Carlos Ruiz",
        "+5715550116",
        "900123456-7",
        "CO",
        "America/Bogota",
        True,
    ),
    _DemoCustomer(
        "C007",
        "Northwind Traders",
        "+12065550107",
        "Nancy Davolio",
        "+12065550117",
        "33-4455667",
        "US",
        "America/Los_Angeles",
        False,
    ),
    _DemoCustomer(
        "C008",
        "Oficina Mecânica Rápida",
        "+552135550108",
        "Ana Souza",
        "+552135550118",
        "98.765.432/0001-10",
        "BR",
        "America/Sao_Paulo",
        False,
    ),
)

# Caller ids the simulator can present, each matching a customer or a contact (E.164, display name).
DEMO_CALLERS: tuple[tuple[str, str], ...] = tuple((c.phone, c.name) for c in _CUSTOMERS) + tuple(
    (c.contact_phone, c.contact) for c in _CUSTOMERS
)

_PRODUCTS = (
    ("P-100", _("Office chair"), Decimal("149.90")),
    ("P-200", _("Standing desk"), Decimal("499.00")),
    ("P-300", _("Headset"), Decimal("59.50")),
    ("P-400", _("Support plan (1 year)"), Decimal("240.00")),
)

_SITUATIONS = (
    ("PE", _("Pending"), True, True),
    ("AP", _("Postponed"), True, False),
    ("FI", _("Finalized"), False, False),
)
_TYPES = (
    ("IN", _("Information"), True),
    ("RE", _("Complaint"), False),
    ("CO", _("Commercial"), False),
    ("TE", _("Technical"), False),
)
# The pause reasons the migrations store (0004), named in the demo's language.
_PAUSE_REASONS = (_("lunch"), _("break"), _("training"), _("backoffice"))
_CLOSING_REASONS = (
    (_("Solved"), None),
    (_("Sale made"), AttentionKind.TELESALES),
    (_("Not interested"), None),
    (_("Promise to pay"), AttentionKind.COLLECTION),
    (_("Paid"), AttentionKind.COLLECTION),
    (_("Wrong number"), None),
)


# The telemarketing tickets' catalogue: subject, occurrence, its actions (name, the status they
# set on the child ticket, opens a service order, raises a non-conformity).
_TICKETS = (
    (
        _("Product support"),
        _("Arrived damaged"),
        (
            (_("Send a technician"), TicketStatus.IN_PROGRESS, True, False),
            (_("Replace the product"), TicketStatus.DONE, False, True),
        ),
    ),
    (
        _("Billing"),
        _("Invoice copy asked for"),
        ((_("Send the copy"), TicketStatus.DONE, False, False),),
    ),
)


async def _ticket_catalogue(s: AsyncSession, tr: Say) -> None:
    for subject_name, occurrence_name, actions in _TICKETS:
        subject = TicketSubject(name=tr(subject_name))
        s.add(subject)
        await s.flush()
        occurrence = TicketOccurrence(subject_id=subject.id, name=tr(occurrence_name))
        s.add(occurrence)
        await s.flush()
        s.add_all(
            TicketAction(
                occurrence_id=occurrence.id,
                name=tr(name),
                sets_status=status,
                service_order=order,
                nonconformity=nc,
            )
            for name, status, order, nc in actions
        )


async def _seeded(session: AsyncSession) -> bool:
    found = await session.execute(sa.select(AuditEvent.id).where(AuditEvent.action == SEED_MARK))
    return found.first() is not None


async def seeded_language(db: Database) -> str | None:
    """The language the demo data was written in, ``None`` when it is not known (not seeded, or
    seeded by a version that did not record it)."""
    async with db.sessions() as s:
        found = await s.execute(
            sa.select(AuditEvent.details["language"].astext).where(AuditEvent.action == SEED_MARK)
        )
    return found.scalars().first()


async def seed_demo(db: Database, *, clock: Clock, language: str = "en") -> bool:
    """Fill an empty (migrated) database with the demo data; False if it was already seeded.

    The data's words (groups, catalogues, products, notes, messages, the script, campaigns) are
    written in ``language`` (``en``, ``pt-BR`` or ``es``); names of people and companies stay.
    """
    tr = translator(language)
    async with db.sessions() as probe:
        if await _seeded(probe):
            return False
    hashes = await asyncio.gather(
        *(asyncio.to_thread(hash_password, login.password) for login in DEMO_LOGINS)
    )
    now = clock.now()
    today = now.date()
    async with db.sessions.begin() as s:
        # Serialise two demo starts on the same database: the second waits, then sees the mark.
        await s.execute(sa.text("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE"))
        if await _seeded(s):
            return False
        groups = {n: AttentionGroup(name=tr(n), ideal_talk_seconds=t) for n, t in DEMO_GROUPS}
        s.add_all(groups.values())
        await s.flush()
        users: dict[str, Operator] = {}
        for login, pw_hash in zip(DEMO_LOGINS, hashes, strict=True):
            group = _GROUP_OF.get(login.username)
            users[login.username] = Operator(
                username=login.username,
                full_name=login.username.capitalize(),
                password_hash=pw_hash,
                role=login.role,
                routines=frozenset(login.routines),
                group_id=groups[group].id if group else None,
                extension=login.interface.split("/", 1)[1] if login.interface else None,
                interface=login.interface,
                personal_data=login.username not in _NO_PERSONAL_DATA,
                softphone=login.softphone,
            )
        s.add_all(users.values())
        reasons = {n: ClosingReason(name=tr(n), kind=kind) for n, kind in _CLOSING_REASONS}
        for word in _PAUSE_REASONS:  # stored in English by the migrations
            await s.execute(
                sa.update(PauseReason).where(PauseReason.name == word).values(name=tr(word))
            )
        s.add_all(reasons.values())
        s.add_all(
            CallMessageSituation(code=c, name=tr(n), pending=p, usual_pending=u)
            for c, n, p, u in _SITUATIONS
        )
        s.add_all(CallMessageType(code=c, name=tr(n), is_default=d) for c, n, d in _TYPES)
        await _ticket_catalogue(s, tr)
        products = [Product(code=c, name=tr(n), unit_price=p) for c, n, p in _PRODUCTS]
        s.add_all(products)
        await s.flush()

        customers: list[Customer] = []
        contacts: list[Contact] = []
        for c in _CUSTOMERS:
            customer = Customer(
                code=c.code,
                name=c.name,
                tax_id=c.tax_id,
                email=f"info@{c.code.lower()}.example",
                address=tr(_("{number} Main Street"), number=int(c.code[1:]) * 10),
                region=c.region,
                timezone=c.timezone,
                created_at=now - timedelta(days=400),
            )
            customers.append(customer)
        s.add_all(customers)
        await s.flush()
        for c, customer in zip(_CUSTOMERS, customers, strict=True):
            contact = Contact(customer_id=customer.id, name=c.contact, position=tr(_("Purchasing")))
            contacts.append(contact)
        s.add_all(contacts)
        await s.flush()
        for c, customer, contact in zip(_CUSTOMERS, customers, contacts, strict=True):
            s.add(Phone(phone=c.phone, raw=c.phone, label="main", customer_id=customer.id))
            s.add(Phone(phone=c.contact_phone, raw=c.contact_phone, contact_id=contact.id))

        suspect = Suspect(name="Peter Parker", company="Daily Bugle", region="US")
        prospect = Prospect(name="Clark Kent", company="Daily Planet", region="US")
        s.add_all([suspect, prospect])
        await s.flush()
        s.add(Phone(phone="+12025550121", raw="(202) 555-0121", suspect_id=suspect.id))
        s.add(Phone(phone="+12025550122", raw="(202) 555-0122", prospect_id=prospect.id))

        await _history(
            s,
            tr,
            now=now,
            users=users,
            groups=groups,
            reasons=reasons,
            customers=customers,
            contacts=contacts,
        )
        await _collection(s, tr, now=now, today=today, users=users, customers=customers)
        await _sales(s, now=now, today=today, users=users, customers=customers, products=products)
        await _messages(
            s, tr, now=now, users=users, groups=groups, customers=customers, contacts=contacts
        )
        await seed_campaigns(
            s,
            tr,
            customers=[
                (c.phone, c.name, c.timezone, c.delinquent, customer)
                for c, customer in zip(_CUSTOMERS, customers, strict=True)
            ],
        )
        s.add(
            AuditEvent(
                actor="system", action=SEED_MARK, subject="demo", details={"language": language}
            )
        )
    return True


async def _history(
    s: AsyncSession,
    tr: Say,
    *,
    now: datetime,
    users: dict[str, Operator],
    groups: dict[str, AttentionGroup],
    reasons: dict[str, ClosingReason],
    customers: list[Customer],
    contacts: list[Contact],
) -> None:
    """Closed attentions with notes and calls in the past, pauses, and a planned call back."""
    plan = (
        ("ana", AttentionKind.TELEMARKETING, "Service", "Solved", _("Delivery delayed")),
        ("bruno", AttentionKind.TELESALES, "Sales", "Sale made", _("Asked for a quote")),
        ("diego", AttentionKind.TELEMARKETING, "Express", "Solved", _("Invoice copy")),
    )
    n = 0
    for i, (customer, contact) in enumerate(zip(customers, contacts, strict=True)):
        for j, (who, kind, group, reason, subject) in enumerate(plan[: 1 + i % 3]):
            n += 1
            started = now - timedelta(days=3 + 7 * j + i, hours=2)
            attention = Attention(
                kind=kind,
                direction=Direction.INBOUND if j % 2 == 0 else Direction.OUTBOUND,
                status=AttentionStatus.CLOSED,
                operator_id=users[who].id,
                group_id=groups[group].id,
                customer_id=customer.id,
                contact_id=contact.id,
                closing_reason_id=reasons[reason].id,
                closed_at=started + timedelta(minutes=4),
                subject=tr(subject) if kind is AttentionKind.TELEMARKETING else None,
                product=tr(_("Support plan")) if kind is AttentionKind.TELEMARKETING else None,
                occurrence=tr(_("Customer called"))
                if kind is AttentionKind.TELEMARKETING
                else None,
                created_at=started,
                updated_at=started + timedelta(minutes=4),
            )
            s.add(attention)
            await s.flush()
            s.add(
                AttentionNote(
                    attention_id=attention.id,
                    author_id=users[who].id,
                    at=started + timedelta(minutes=3),
                    text=tr(_("{subject}: handled on the call."), subject=tr(subject)),
                )
            )
            inbound = attention.direction is Direction.INBOUND
            s.add(
                Call(
                    pbx=DEMO_PBX,
                    uniqueid=f"demo-{n}.1",
                    linkedid=f"demo-{n}.1",
                    queue="support" if inbound else None,
                    agent_interface=users[who].interface,
                    operator_id=users[who].id,
                    caller_id_num=_CUSTOMERS[i].phone if inbound else None,
                    caller_id_name=customer.name if inbound else None,
                    phone=_CUSTOMERS[i].phone,
                    direction=attention.direction,
                    ring_at=started - timedelta(seconds=12),
                    answered_at=started,
                    ended_at=started + timedelta(minutes=4),
                    outcome=CallOutcome.ANSWERED,
                    attention_id=attention.id,
                )
            )
    # The operators' pauses of the last two days (the pauses report): lunch, a break, and one
    # pause cti made after a call rang ana out.
    for days, who, lunch, rest in ((1, "ana", 34, 12), (1, "bruno", 41, 9), (2, "diego", 30, 16)):
        day = now - timedelta(days=days)
        for hours, reason, minutes in ((5, tr(_("lunch")), lunch), (2, tr(_("break")), rest)):
            began = day - timedelta(hours=hours)
            s.add(
                AgentPause(
                    operator_id=users[who].id,
                    reason=reason,
                    started_at=began,
                    ended_at=began + timedelta(minutes=minutes),
                )
            )
    missed = now - timedelta(days=1, hours=3)
    s.add(
        AgentPause(
            operator_id=users["ana"].id,
            reason=MISSED_REASON,
            started_at=missed,
            ended_at=missed + timedelta(minutes=3, seconds=20),
        )
    )
    s.add(
        Attention(
            kind=AttentionKind.TELEMARKETING,
            direction=Direction.OUTBOUND,
            status=AttentionStatus.PLANNED,
            operator_id=users["ana"].id,
            group_id=groups["Service"].id,
            customer_id=customers[4].id,
            contact_id=contacts[4].id,
            subject=tr(_("Confirm the new delivery date")),
            next_call_at=now + timedelta(hours=2),
            phone=_CUSTOMERS[4].contact_phone,
            created_at=now - timedelta(days=1),
        )
    )


async def _collection(
    s: AsyncSession,
    tr: Say,
    *,
    now: datetime,
    today: date,
    users: dict[str, Operator],
    customers: list[Customer],
) -> None:
    """Overdue invoices of the delinquent customers, their cases and one open promise to pay."""
    for i, (c, customer) in enumerate(zip(_CUSTOMERS, customers, strict=True)):
        if c.delinquent:
            for k in range(1, 4):
                s.add(
                    Receivable(
                        customer_id=customer.id,
                        invoice_number=f"INV-{c.code}-{k:03d}",
                        issued_on=today - timedelta(days=90 + 30 * k),
                        due_on=today - timedelta(days=60 + 30 * k - 10 * i),
                        amount=Decimal(250 * k + 37 * i) + Decimal("0.50"),
                    )
                )
            s.add(
                Case(
                    customer_id=customer.id,
                    kind=AttentionKind.COLLECTION,
                    status=CaseStatus.DELINQUENT if i % 2 else CaseStatus.ASSIGNED,
                    assignee_id=users["carla"].id,
                    subject=tr(_("Overdue invoices")),
                    created_at=now - timedelta(days=20),
                )
            )
        else:
            s.add(
                Receivable(
                    customer_id=customer.id,
                    invoice_number=f"INV-{c.code}-001",
                    issued_on=today - timedelta(days=20),
                    due_on=today + timedelta(days=10),
                    amount=Decimal("180.00"),
                )
            )
    s.add(
        Case(
            customer_id=customers[0].id,
            kind=AttentionKind.TELEMARKETING,
            status=CaseStatus.ACTIVE,
            subject=tr(_("Recurring delivery complaints")),
            created_at=now - timedelta(days=5),
        )
    )
    s.add(
        Case(
            customer_id=customers[6].id,
            kind=AttentionKind.TELESALES,
            status=CaseStatus.SUSPENDED,
            assignee_id=users["bruno"].id,
            subject=tr(_("Renewal on hold until budget approval")),
            created_at=now - timedelta(days=12),
        )
    )
    await s.flush()
    delinquent = next(cu for c, cu in zip(_CUSTOMERS, customers, strict=True) if c.delinquent)
    s.add(
        PaymentPromise(
            customer_id=delinquent.id,
            promised_on=today + timedelta(days=3),
            amount=Decimal("300.00"),
            created_by=users["carla"].id,
        )
    )


async def _sales(
    s: AsyncSession,
    *,
    now: datetime,
    today: date,
    users: dict[str, Operator],
    customers: list[Customer],
    products: list[Product],
) -> None:
    """Two quotes and two sales orders, one of them billed."""
    for i, customer in enumerate(customers[:2]):
        quote = Quote(
            customer_id=customer.id,
            operator_id=users["bruno"].id,
            valid_until=today + timedelta(days=15),
            created_at=now - timedelta(days=2 + i),
        )
        s.add(quote)
        await s.flush()
        for line, product in enumerate(products[i : i + 2], start=1):
            s.add(
                QuoteItem(
                    quote_id=quote.id,
                    line=line,
                    product_id=product.id,
                    quantity=Decimal(line + 1),
                    unit_price=product.unit_price,
                )
            )
        billed = i == 0
        order = SalesOrder(
            customer_id=customer.id,
            quote_id=quote.id,
            operator_id=users["bruno"].id,
            billed=billed,
            billed_at=now - timedelta(days=1) if billed else None,
            invoice_number=f"NF-{1000 + i}" if billed else None,
            created_at=now - timedelta(days=1 + i),
        )
        s.add(order)
        await s.flush()
        s.add(
            OrderItem(
                order_id=order.id,
                line=1,
                product_id=products[i].id,
                quantity=Decimal(2),
                unit_price=products[i].unit_price,
            )
        )


async def _messages(
    s: AsyncSession,
    tr: Say,
    *,
    now: datetime,
    users: dict[str, Operator],
    groups: dict[str, AttentionGroup],
    customers: list[Customer],
    contacts: list[Contact],
) -> None:
    """Pending incoming-call messages, one postponed, one finalized."""
    pending = CallMessage(
        created_at=now - timedelta(hours=3),
        created_by=users["ana"].id,
        situation_code="PE",
        type_code="RE",
        from_customer_id=customers[0].id,
        from_contact_id=contacts[0].id,
        from_phone=_CUSTOMERS[0].contact_phone,
        to_user_id=users["ana"].id,
        description=tr(_("Wants to talk about a damaged delivery; call back after 14:00.")),
    )
    to_group = CallMessage(
        created_at=now - timedelta(hours=1),
        created_by=users["diego"].id,
        situation_code="PE",
        type_code="CO",
        from_phone="+12025550199",
        to_group_id=groups["Sales"].id,
        description=tr(_("Unknown caller asking for a price list.")),
    )
    postponed = CallMessage(
        created_at=now - timedelta(days=1),
        created_by=users["carla"].id,
        situation_code="AP",
        type_code="IN",
        from_customer_id=customers[1].id,
        to_user_id=users["carla"].id,
        description=tr(_("Asks for a copy of an overdue invoice.")),
        postponed_until=now + timedelta(hours=20),
        postpone_reason=tr(_("Customer travelling until tomorrow")),
    )
    done = CallMessage(
        created_at=now - timedelta(days=2),
        created_by=users["ana"].id,
        situation_code="FI",
        type_code="TE",
        from_customer_id=customers[2].id,
        to_user_id=users["ana"].id,
        description=tr(_("Headset not working.")),
        finalized_at=now - timedelta(days=1, hours=20),
        finalized_by=users["ana"].id,
    )
    s.add_all([pending, to_group, postponed, done])
    await s.flush()
    s.add(
        CallMessageNote(
            message_id=pending.id,
            author_id=users["ana"].id,
            at=now - timedelta(hours=2),
            text=tr(_("Tried once, no answer.")),
        )
    )


__all__ = [
    "DEMO_CALLERS",
    "DEMO_GROUPS",
    "DEMO_LOGINS",
    "DEMO_PBX",
    "DEMO_QUEUES",
    "SEED_MARK",
    "DemoLogin",
    "seed_demo",
]
