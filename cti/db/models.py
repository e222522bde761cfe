"""The PostgreSQL schema as SQLAlchemy 2 typed models.

The database does the checking a database should: foreign keys, CHECK constraints on every enum
column (stored as text so that a value can be added by a migration without a type rewrite), unique
keys, amounts above zero. Triggers created by the migration (not visible here) add what a constraint
cannot say:

* ``created_at`` (and ``created_by`` of call messages) can never be changed once a row exists;
  ``updated_at`` is stamped with ``now()`` on every UPDATE that does not set it itself.
* attention notes, call-message notes and the audit log are append-only: UPDATE and DELETE fail.
* a call message's finalization stamp (``finalized_at``/``finalized_by``) cannot change once set.

All violations surface as ``sqlalchemy.exc.IntegrityError`` (SQLSTATE class 23).

Phone numbers are stored normalised with :func:`cti.domain.phone.normalize_phone` (E.164 where it
can be known) in :class:`Phone` rows (customers, contacts, suspects, prospects) or in a ``phone``
column (leads, call log, do-not-call), each indexed for caller-id lookup.

The Alembic migration in ``cti/db/migrations/versions`` is written out by hand and must match these
models; ``tests/db/test_migrations.py`` compares them.

The tables are declared by subject in :mod:`cti.db.tables` (``base``: the declarative base and
column types; ``people``; ``config``: what admins maintain, and the audit log; ``dialer``; ``work``:
cases, attentions, incoming-call messages; ``money``: collection and telesales) and all reached
from here as ``cti.db.models.<Table>``.
"""

from __future__ import annotations

from cti.db.tables.base import (
    NAMING_CONVENTION,
    Base,
    enum_type,
    fk,
)
from cti.db.tables.config import (
    AttentionStatusLabel,
    AuditEvent,
    ClosingReason,
    PauseReason,
    Product,
    RequiredField,
    Script,
    ScriptAnswers,
    ScriptVersion,
)
from cti.db.tables.dialer import (
    Attempt,
    Call,
    Callback,
    Campaign,
    CtiInstance,
    DialerJob,
    DncEntry,
    Lead,
    Recording,
)
from cti.db.tables.integrations import ApiKey, OutboxEvent, WebhookDelivery, WebhookEndpoint
from cti.db.tables.money import (
    Instalment,
    OrderItem,
    PaymentPlan,
    PaymentPromise,
    Quote,
    QuoteItem,
    Receivable,
    SalesOrder,
)
from cti.db.tables.pbx import PjsipAor, PjsipAuth, PjsipEndpoint
from cti.db.tables.people import (
    AttentionGroup,
    Contact,
    Customer,
    DeskHolder,
    Operator,
    Phone,
    Prospect,
    Suspect,
    WebSession,
)
from cti.db.tables.tickets import (
    NonConformity,
    ServiceOrder,
    TicketAction,
    TicketItem,
    TicketOccurrence,
    TicketSubject,
)
from cti.db.tables.work import (
    AgentPause,
    Attention,
    AttentionNote,
    CallMessage,
    CallMessageNote,
    CallMessageSituation,
    CallMessageType,
    Case,
    Wrapup,
)

__all__ = [
    "NAMING_CONVENTION",
    "AgentPause",
    "ApiKey",
    "Attempt",
    "Attention",
    "AttentionGroup",
    "AttentionNote",
    "AttentionStatusLabel",
    "AuditEvent",
    "Base",
    "Call",
    "CallMessage",
    "CallMessageNote",
    "CallMessageSituation",
    "CallMessageType",
    "Callback",
    "Campaign",
    "Case",
    "ClosingReason",
    "Contact",
    "CtiInstance",
    "Customer",
    "DeskHolder",
    "DialerJob",
    "DncEntry",
    "Instalment",
    "Lead",
    "NonConformity",
    "Operator",
    "OrderItem",
    "OutboxEvent",
    "PauseReason",
    "PaymentPlan",
    "PaymentPromise",
    "Phone",
    "PjsipAor",
    "PjsipAuth",
    "PjsipEndpoint",
    "Product",
    "Prospect",
    "Quote",
    "QuoteItem",
    "Receivable",
    "Recording",
    "RequiredField",
    "SalesOrder",
    "Script",
    "ScriptAnswers",
    "ScriptVersion",
    "ServiceOrder",
    "Suspect",
    "TicketAction",
    "TicketItem",
    "TicketOccurrence",
    "TicketSubject",
    "WebSession",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Wrapup",
    "enum_type",
    "fk",
]
