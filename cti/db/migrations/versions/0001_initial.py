"""Initial schema: people, customers, attentions, call log, campaigns, collection, telesales,
incoming-call messages, configuration and the audit log, with the triggers that keep server stamps
and append-only tables honest.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables whose created_at may never change and whose updated_at is stamped on UPDATE.
TOUCHED = (
    "operators",
    "customers",
    "contacts",
    "suspects",
    "prospects",
    "scripts",
    "campaigns",
    "leads",
    "cases",
    "attentions",
    "payment_promises",
    "quotes",
    "sales_orders",
)
# Tables with a created_at only.
CREATED_ONLY = (
    "attention_groups",
    "calls",
    "dnc_entries",
    "callbacks",
    "receivables",
    "payment_plans",
)
APPEND_ONLY = ("attention_notes", "call_message_notes", "audit_log")

# SQLSTATE 23001 (restrict_violation) so that drivers report an integrity error.
FUNCTIONS = {
    "cti_append_only": """
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
""",
    "cti_keep_created": """
BEGIN
    IF NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION '%.created_at is set by the server and cannot be changed', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
""",
    "cti_touch": """
BEGIN
    IF NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION '%.created_at is set by the server and cannot be changed', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
""",
    "cti_call_message_guard": """
BEGIN
    IF NEW.created_at IS DISTINCT FROM OLD.created_at
       OR NEW.created_by IS DISTINCT FROM OLD.created_by THEN
        RAISE EXCEPTION 'call_messages: the registration stamp (created_at, created_by) cannot be changed'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.finalized_at IS NOT NULL
       AND (NEW.finalized_at IS DISTINCT FROM OLD.finalized_at
            OR NEW.finalized_by IS DISTINCT FROM OLD.finalized_by) THEN
        RAISE EXCEPTION 'call_messages: the finalization stamp (finalized_at, finalized_by) cannot be changed'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
""",
}


def _create_functions_and_triggers() -> None:
    for name, body in FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn${body}$fn$")
    for table in TOUCHED:
        op.execute(
            f"CREATE TRIGGER {table}_touch BEFORE UPDATE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION cti_touch()"
        )
    for table in CREATED_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_keep_created BEFORE UPDATE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION cti_keep_created()"
        )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION cti_append_only()"
        )
    op.execute(
        "CREATE TRIGGER call_messages_guard BEFORE UPDATE ON call_messages"
        " FOR EACH ROW EXECUTE FUNCTION cti_call_message_guard()"
    )


def upgrade() -> None:
    op.create_table(
        "attention_groups",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("ideal_talk_seconds", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ideal_talk_seconds > 0", name=op.f("ck_attention_groups_ideal_talk_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attention_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_attention_groups_name")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column(
            "details", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"], unique=False)
    op.create_index(op.f("ix_audit_log_actor"), "audit_log", ["actor"], unique=False)
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index("ix_audit_log_subject_at", "audit_log", ["subject", "at"], unique=False)
    op.create_table(
        "call_message_situations",
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("usual_pending", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint(
            "char_length(code) = 2", name=op.f("ck_call_message_situations_code_two_chars")
        ),
        sa.CheckConstraint(
            "pending OR NOT usual_pending",
            name=op.f("ck_call_message_situations_usual_pending_is_pending"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_call_message_situations")),
    )
    op.create_index(
        "ux_call_message_situations_usual_pending",
        "call_message_situations",
        ["usual_pending"],
        unique=True,
        postgresql_where=sa.text("usual_pending"),
    )
    op.create_table(
        "call_message_types",
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint(
            "char_length(code) = 2", name=op.f("ck_call_message_types_code_two_chars")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_call_message_types")),
    )
    op.create_index(
        "ux_call_message_types_is_default",
        "call_message_types",
        ["is_default"],
        unique=True,
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        "closing_reasons",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "telemarketing",
                "telesales",
                "collection",
                name=op.f("ck_closing_reasons_kind"),
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closing_reasons")),
        sa.UniqueConstraint("name", name=op.f("uq_closing_reasons_name")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("tax_id", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("region", sa.String(length=2), nullable=True),
        sa.Column("timezone", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("code <> ''", name=op.f("ck_customers_code_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("code", name=op.f("uq_customers_code")),
    )
    op.create_index(op.f("ix_customers_tax_id"), "customers", ["tax_id"], unique=False)
    op.create_table(
        "pause_reasons",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pause_reasons")),
        sa.UniqueConstraint("name", name=op.f("uq_pause_reasons_name")),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_products_price_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("code", name=op.f("uq_products_code")),
    )
    op.create_table(
        "required_fields",
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("form", "field", name=op.f("pk_required_fields")),
    )
    op.create_table(
        "scripts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "body", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scripts")),
        sa.UniqueConstraint("name", name=op.f("uq_scripts_name")),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "telemarketing",
                "telesales",
                "collection",
                name=op.f("ck_campaigns_kind"),
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "mode",
            sa.Enum(
                "preview",
                "progressive",
                "predictive",
                name=op.f("ck_campaigns_mode"),
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "running",
                "paused",
                "finished",
                name=op.f("ck_campaigns_status"),
                native_enum=False,
                create_constraint=True,
            ),
            server_default="draft",
            nullable=False,
        ),
        sa.Column("pbx", sa.Text(), nullable=True),
        sa.Column("queue", sa.Text(), nullable=False),
        sa.Column("caller_id", sa.Text(), nullable=True),
        sa.Column("script_id", sa.BigInteger(), nullable=True),
        sa.Column("ring_seconds", sa.Integer(), server_default="25", nullable=False),
        sa.Column(
            "windows", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
        sa.Column(
            "retry_rules", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("abandon_cap", sa.Numeric(precision=5, scale=4), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "abandon_cap IS NULL OR (abandon_cap >= 0 AND abandon_cap <= 1)",
            name=op.f("ck_campaigns_abandon_cap_ratio"),
        ),
        sa.CheckConstraint("ring_seconds >= 15", name=op.f("ck_campaigns_ring_at_least_15")),
        sa.ForeignKeyConstraint(
            ["script_id"],
            ["scripts.id"],
            name=op.f("fk_campaigns_script_id_scripts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_campaigns_name")),
    )
    op.create_index(op.f("ix_campaigns_script_id"), "campaigns", ["script_id"], unique=False)
    op.create_table(
        "contacts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("position", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_contacts_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("customer_id", "name", name=op.f("uq_contacts_customer_id_name")),
    )
    op.create_index(op.f("ix_contacts_customer_id"), "contacts", ["customer_id"], unique=False)
    op.create_table(
        "operators",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "operator",
                "supervisor",
                "admin",
                name=op.f("ck_operators_role"),
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "routines",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("group_id", sa.BigInteger(), nullable=True),
        sa.Column("extension", sa.Text(), nullable=True),
        sa.Column("interface", sa.Text(), nullable=True),
        sa.Column("personal_data", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "routines <@ ARRAY['telemarketing', 'telesales', 'collection']::text[]",
            name=op.f("ck_operators_routines_known"),
        ),
        sa.CheckConstraint("username <> ''", name=op.f("ck_operators_username_not_empty")),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["attention_groups.id"],
            name=op.f("fk_operators_group_id_attention_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("extension", name=op.f("uq_operators_extension")),
        sa.UniqueConstraint("interface", name=op.f("uq_operators_interface")),
        sa.UniqueConstraint("username", name=op.f("uq_operators_username")),
    )
    op.create_index(op.f("ix_operators_group_id"), "operators", ["group_id"], unique=False)
    op.create_table(
        "prospects",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("company", sa.Text(), nullable=True),
        sa.Column("tax_id", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("region", sa.String(length=2), nullable=True),
        sa.Column("from_suspect", sa.BigInteger(), nullable=True),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_prospects_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prospects")),
    )
    op.create_index(op.f("ix_prospects_customer_id"), "prospects", ["customer_id"], unique=False)
    op.create_table(
        "receivables",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("invoice_number", sa.Text(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("paid", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_receivables_amount_positive")),
        sa.CheckConstraint(
            "paid = (paid_at IS NOT NULL)", name=op.f("ck_receivables_paid_has_date")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_receivables_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receivables")),
        sa.UniqueConstraint(
            "customer_id", "invoice_number", name=op.f("uq_receivables_customer_id_invoice_number")
        ),
    )
    op.create_index(
        op.f("ix_receivables_customer_id"), "receivables", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_receivables_due_on"), "receivables", ["due_on"], unique=False)
    op.create_table(
        "call_messages",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("situation_code", sa.String(length=2), nullable=False),
        sa.Column("type_code", sa.String(length=2), nullable=True),
        sa.Column("from_customer_id", sa.BigInteger(), nullable=True),
        sa.Column("from_contact_id", sa.BigInteger(), nullable=True),
        sa.Column("from_phone", sa.Text(), nullable=True),
        sa.Column("from_tax_id", sa.Text(), nullable=True),
        sa.Column("from_serial", sa.Text(), nullable=True),
        sa.Column("from_code", sa.Text(), nullable=True),
        sa.Column("to_user_id", sa.BigInteger(), nullable=True),
        sa.Column("to_group_id", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("finalized_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finalized_by", sa.BigInteger(), nullable=True),
        sa.Column("postponed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("postpone_reason", sa.Text(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(finalized_at IS NULL) = (finalized_by IS NULL)",
            name=op.f("ck_call_messages_finalized_stamp_whole"),
        ),
        sa.CheckConstraint(
            "(postponed_until IS NULL) OR (postpone_reason IS NOT NULL)",
            name=op.f("ck_call_messages_postpone_has_reason"),
        ),
        sa.CheckConstraint(
            "num_nonnulls(from_customer_id, from_contact_id, from_phone, from_tax_id, from_serial, from_code) >= 1",
            name=op.f("ck_call_messages_has_from"),
        ),
        sa.CheckConstraint(
            "num_nonnulls(to_user_id, to_group_id) = 1", name=op.f("ck_call_messages_one_recipient")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["operators.id"],
            name=op.f("fk_call_messages_created_by_operators"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["finalized_by"],
            ["operators.id"],
            name=op.f("fk_call_messages_finalized_by_operators"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["from_contact_id"],
            ["contacts.id"],
            name=op.f("fk_call_messages_from_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["from_customer_id"],
            ["customers.id"],
            name=op.f("fk_call_messages_from_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["situation_code"],
            ["call_message_situations.code"],
            name=op.f("fk_call_messages_situation_code_call_message_situations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["to_group_id"],
            ["attention_groups.id"],
            name=op.f("fk_call_messages_to_group_id_attention_groups"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["to_user_id"],
            ["operators.id"],
            name=op.f("fk_call_messages_to_user_id_operators"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["type_code"],
            ["call_message_types.code"],
            name=op.f("fk_call_messages_type_code_call_message_types"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_messages")),
    )
    op.create_index(
        op.f("ix_call_messages_created_at"), "call_messages", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_call_messages_from_contact_id"), "call_messages", ["from_contact_id"], unique=False
    )
    op.create_index(
        op.f("ix_call_messages_from_customer_id"),
        "call_messages",
        ["from_customer_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_call_messages_from_phone"), "call_messages", ["from_phone"], unique=False
    )
    op.create_index(
        op.f("ix_call_messages_to_group_id"), "call_messages", ["to_group_id"], unique=False
    )
    op.create_index(
        op.f("ix_call_messages_to_user_id"), "call_messages", ["to_user_id"], unique=False
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "telemarketing",
                "telesales",
                "collection",
                name=op.f("ck_cases_kind"),
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "assigned",
                "suspended",
                "closed",
                "delinquent",
                "withdrawn",
                name=op.f("ck_cases_status"),
                native_enum=False,
                create_constraint=True,
            ),
            server_default="active",
            nullable=False,
        ),
        sa.Column("assignee_id", sa.BigInteger(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status <> 'assigned' OR assignee_id IS NOT NULL",
            name=op.f("ck_cases_assigned_has_assignee"),
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["operators.id"],
            name=op.f("fk_cases_assignee_id_operators"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_cases_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    op.create_index(op.f("ix_cases_assignee_id"), "cases", ["assignee_id"], unique=False)
    op.create_index(op.f("ix_cases_customer_id"), "cases", ["customer_id"], unique=False)
    op.create_index(op.f("ix_cases_status"), "cases", ["status"], unique=False)
    op.create_table(
        "dnc_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("added_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["added_by"],
            ["operators.id"],
            name=op.f("fk_dnc_entries_added_by_operators"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_dnc_entries_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_entries")),
        sa.UniqueConstraint("campaign_id", "phone", name=op.f("uq_dnc_entries_campaign_id_phone")),
    )
    op.create_index(op.f("ix_dnc_entries_added_by"), "dnc_entries", ["added_by"], unique=False)
    op.create_index(
        op.f("ix_dnc_entries_campaign_id"), "dnc_entries", ["campaign_id"], unique=False
    )
    op.create_index(op.f("ix_dnc_entries_phone"), "dnc_entries", ["phone"], unique=False)
    op.create_index(
        "ux_dnc_entries_global_phone",
        "dnc_entries",
        ["phone"],
        unique=True,
        postgresql_where=sa.text("campaign_id IS NULL"),
    )
    op.create_table(
        "leads",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("timezone", sa.Text(), nullable=True),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "dialing",
                "retry",
                "callback",
                "done",
                "exhausted",
                "dnc",
                name=op.f("ck_leads_status"),
                native_enum=False,
                create_constraint=True,
            ),
            server_default="new",
            nullable=False,
        ),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "last_outcome",
            sa.Enum(
                "answered",
                "no_answer",
                "busy",
                "congestion",
                "failed",
                "abandoned",
                "machine",
                "cancelled",
                name=op.f("ck_leads_last_outcome"),
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_leads_attempts_not_negative")),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_leads_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_leads_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("campaign_id", "phone", name=op.f("uq_leads_campaign_id_phone")),
    )
    op.create_index(op.f("ix_leads_customer_id"), "leads", ["customer_id"], unique=False)
    op.create_index(
        "ix_leads_due", "leads", ["campaign_id", "status", "next_attempt_at"], unique=False
    )
    op.create_index(op.f("ix_leads_phone"), "leads", ["phone"], unique=False)
    op.create_table(
        "suspects",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("company", sa.Text(), nullable=True),
        sa.Column("tax_id", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("region", sa.String(length=2), nullable=True),
        sa.Column("prospect_id", sa.BigInteger(), nullable=True),
        sa.Column("converted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["prospect_id"],
            ["prospects.id"],
            name=op.f("fk_suspects_prospect_id_prospects"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suspects")),
    )
    op.create_index(op.f("ix_suspects_prospect_id"), "suspects", ["prospect_id"], unique=False)
    op.create_table(
        "attentions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "telemarketing",
                "telesales",
                "collection",
                name=op.f("ck_attentions_kind"),
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "direction",
            sa.Enum(
                "inbound",
                "outbound",
                name=op.f("ck_attentions_direction"),
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "planned",
                "closed",
                "cancelled",
                name=op.f("ck_attentions_status"),
                native_enum=False,
                create_constraint=True,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column("group_id", sa.BigInteger(), nullable=True),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("suspect_id", sa.BigInteger(), nullable=True),
        sa.Column("prospect_id", sa.BigInteger(), nullable=True),
        sa.Column("campaign_id", sa.BigInteger(), nullable=True),
        sa.Column("lead_id", sa.BigInteger(), nullable=True),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("closing_reason_id", sa.BigInteger(), nullable=True),
        sa.Column("next_call_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("product", sa.Text(), nullable=True),
        sa.Column("occurrence", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column("owner_id", sa.BigInteger(), nullable=True),
        sa.Column("action_date", sa.Date(), nullable=True),
        sa.Column("action_status", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status <> 'planned' OR next_call_at IS NOT NULL",
            name=op.f("ck_attentions_planned_has_next_call"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_attentions_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_attentions_case_id_cases"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["closing_reason_id"],
            ["closing_reasons.id"],
            name=op.f("fk_attentions_closing_reason_id_closing_reasons"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_attentions_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_attentions_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["attention_groups.id"],
            name=op.f("fk_attentions_group_id_attention_groups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_attentions_lead_id_leads"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_attentions_operator_id_operators"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["operators.id"],
            name=op.f("fk_attentions_owner_id_operators"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["prospect_id"],
            ["prospects.id"],
            name=op.f("fk_attentions_prospect_id_prospects"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["suspect_id"],
            ["suspects.id"],
            name=op.f("fk_attentions_suspect_id_suspects"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attentions")),
    )
    op.create_index(op.f("ix_attentions_campaign_id"), "attentions", ["campaign_id"], unique=False)
    op.create_index(op.f("ix_attentions_case_id"), "attentions", ["case_id"], unique=False)
    op.create_index(
        op.f("ix_attentions_closing_reason_id"), "attentions", ["closing_reason_id"], unique=False
    )
    op.create_index(op.f("ix_attentions_contact_id"), "attentions", ["contact_id"], unique=False)
    op.create_index(op.f("ix_attentions_created_at"), "attentions", ["created_at"], unique=False)
    op.create_index(op.f("ix_attentions_customer_id"), "attentions", ["customer_id"], unique=False)
    op.create_index(op.f("ix_attentions_group_id"), "attentions", ["group_id"], unique=False)
    op.create_index(op.f("ix_attentions_lead_id"), "attentions", ["lead_id"], unique=False)
    op.create_index(
        op.f("ix_attentions_next_call_at"), "attentions", ["next_call_at"], unique=False
    )
    op.create_index(op.f("ix_attentions_operator_id"), "attentions", ["operator_id"], unique=False)
    op.create_index(
        "ix_attentions_operator_status", "attentions", ["operator_id", "status"], unique=False
    )
    op.create_index(op.f("ix_attentions_owner_id"), "attentions", ["owner_id"], unique=False)
    op.create_index(op.f("ix_attentions_phone"), "attentions", ["phone"], unique=False)
    op.create_index(op.f("ix_attentions_prospect_id"), "attentions", ["prospect_id"], unique=False)
    op.create_index(op.f("ix_attentions_suspect_id"), "attentions", ["suspect_id"], unique=False)
    op.create_table(
        "call_message_notes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.CheckConstraint("text <> ''", name=op.f("ck_call_message_notes_text_not_empty")),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["operators.id"],
            name=op.f("fk_call_message_notes_author_id_operators"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["call_messages.id"],
            name=op.f("fk_call_message_notes_message_id_call_messages"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_message_notes")),
    )
    op.create_index(
        op.f("ix_call_message_notes_message_id"), "call_message_notes", ["message_id"], unique=False
    )
    op.create_table(
        "phones",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("suspect_id", sa.BigInteger(), nullable=True),
        sa.Column("prospect_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("phone <> ''", name=op.f("ck_phones_phone_not_empty")),
        sa.CheckConstraint(
            "num_nonnulls(customer_id, contact_id, suspect_id, prospect_id) = 1",
            name=op.f("ck_phones_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_phones_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_phones_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prospect_id"],
            ["prospects.id"],
            name=op.f("fk_phones_prospect_id_prospects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["suspect_id"],
            ["suspects.id"],
            name=op.f("fk_phones_suspect_id_suspects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phones")),
        sa.UniqueConstraint("contact_id", "phone", name=op.f("uq_phones_contact_id_phone")),
        sa.UniqueConstraint("customer_id", "phone", name=op.f("uq_phones_customer_id_phone")),
        sa.UniqueConstraint("prospect_id", "phone", name=op.f("uq_phones_prospect_id_phone")),
        sa.UniqueConstraint("suspect_id", "phone", name=op.f("uq_phones_suspect_id_phone")),
    )
    op.create_index(op.f("ix_phones_contact_id"), "phones", ["contact_id"], unique=False)
    op.create_index(op.f("ix_phones_customer_id"), "phones", ["customer_id"], unique=False)
    op.create_index(op.f("ix_phones_phone"), "phones", ["phone"], unique=False)
    op.create_index(op.f("ix_phones_prospect_id"), "phones", ["prospect_id"], unique=False)
    op.create_index(op.f("ix_phones_suspect_id"), "phones", ["suspect_id"], unique=False)
    op.create_table(
        "attention_notes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("attention_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.CheckConstraint("text <> ''", name=op.f("ck_attention_notes_text_not_empty")),
        sa.ForeignKeyConstraint(
            ["attention_id"],
            ["attentions.id"],
            name=op.f("fk_attention_notes_attention_id_attentions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["operators.id"],
            name=op.f("fk_attention_notes_author_id_operators"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attention_notes")),
    )
    op.create_index(
        op.f("ix_attention_notes_attention_id"), "attention_notes", ["attention_id"], unique=False
    )
    op.create_table(
        "callbacks",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=True),
        sa.Column("attention_id", sa.BigInteger(), nullable=True),
        sa.Column("campaign_id", sa.BigInteger(), nullable=True),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "num_nonnulls(lead_id, attention_id) >= 1", name=op.f("ck_callbacks_has_subject")
        ),
        sa.ForeignKeyConstraint(
            ["attention_id"],
            ["attentions.id"],
            name=op.f("fk_callbacks_attention_id_attentions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_callbacks_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_callbacks_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_callbacks_operator_id_operators"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    op.create_index(op.f("ix_callbacks_attention_id"), "callbacks", ["attention_id"], unique=False)
    op.create_index(op.f("ix_callbacks_campaign_id"), "callbacks", ["campaign_id"], unique=False)
    op.create_index(
        "ix_callbacks_due",
        "callbacks",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("done_at IS NULL"),
    )
    op.create_index(op.f("ix_callbacks_lead_id"), "callbacks", ["lead_id"], unique=False)
    op.create_index(op.f("ix_callbacks_operator_id"), "callbacks", ["operator_id"], unique=False)
    op.create_table(
        "calls",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("pbx", sa.Text(), nullable=False),
        sa.Column("uniqueid", sa.Text(), nullable=False),
        sa.Column("linkedid", sa.Text(), nullable=True),
        sa.Column("queue", sa.Text(), nullable=True),
        sa.Column("agent_interface", sa.Text(), nullable=True),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column("caller_id_num", sa.Text(), nullable=True),
        sa.Column("caller_id_name", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column(
            "direction",
            sa.Enum(
                "inbound",
                "outbound",
                name=op.f("ck_calls_direction"),
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("ring_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "answered",
                "no_answer",
                "busy",
                "congestion",
                "failed",
                "abandoned",
                "machine",
                "cancelled",
                name=op.f("ck_calls_outcome"),
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.Column("attention_id", sa.BigInteger(), nullable=True),
        sa.Column("campaign_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["attention_id"],
            ["attentions.id"],
            name=op.f("fk_calls_attention_id_attentions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_calls_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_calls_operator_id_operators"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("pbx", "uniqueid", name=op.f("uq_calls_pbx_uniqueid")),
    )
    op.create_index(op.f("ix_calls_attention_id"), "calls", ["attention_id"], unique=False)
    op.create_index(op.f("ix_calls_campaign_id"), "calls", ["campaign_id"], unique=False)
    op.create_index(op.f("ix_calls_linkedid"), "calls", ["linkedid"], unique=False)
    op.create_index(op.f("ix_calls_operator_id"), "calls", ["operator_id"], unique=False)
    op.create_index(op.f("ix_calls_phone"), "calls", ["phone"], unique=False)
    op.create_index(op.f("ix_calls_ring_at"), "calls", ["ring_at"], unique=False)
    op.create_table(
        "payment_plans",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("attention_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["attention_id"],
            ["attentions.id"],
            name=op.f("fk_payment_plans_attention_id_attentions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["operators.id"],
            name=op.f("fk_payment_plans_created_by_operators"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_payment_plans_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_plans")),
    )
    op.create_index(
        op.f("ix_payment_plans_attention_id"), "payment_plans", ["attention_id"], unique=False
    )
    op.create_index(
        op.f("ix_payment_plans_created_by"), "payment_plans", ["created_by"], unique=False
    )
    op.create_index(
        op.f("ix_payment_plans_customer_id"), "payment_plans", ["customer_id"], unique=False
    )
    op.create_table(
        "payment_promises",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("attention_id", sa.BigInteger(), nullable=True),
        sa.Column("receivable_id", sa.BigInteger(), nullable=True),
        sa.Column("promised_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "kept",
                "broken",
                name=op.f("ck_payment_promises_status"),
                native_enum=False,
                create_constraint=True,
            ),
            server_default="open",
            nullable=False,
        ),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_promises_amount_positive")),
        sa.ForeignKeyConstraint(
            ["attention_id"],
            ["attentions.id"],
            name=op.f("fk_payment_promises_attention_id_attentions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["operators.id"],
            name=op.f("fk_payment_promises_created_by_operators"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_payment_promises_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["receivable_id"],
            ["receivables.id"],
            name=op.f("fk_payment_promises_receivable_id_receivables"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_promises")),
    )
    op.create_index(
        op.f("ix_payment_promises_attention_id"), "payment_promises", ["attention_id"], unique=False
    )
    op.create_index(
        op.f("ix_payment_promises_created_by"), "payment_promises", ["created_by"], unique=False
    )
    op.create_index(
        op.f("ix_payment_promises_customer_id"), "payment_promises", ["customer_id"], unique=False
    )
    op.create_index(
        op.f("ix_payment_promises_receivable_id"),
        "payment_promises",
        ["receivable_id"],
        unique=False,
    )
    op.create_table(
        "quotes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("attention_id", sa.BigInteger(), nullable=True),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "accepted",
                "rejected",
                "expired",
                name=op.f("ck_quotes_status"),
                native_enum=False,
                create_constraint=True,
            ),
            server_default="open",
            nullable=False,
        ),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["attention_id"],
            ["attentions.id"],
            name=op.f("fk_quotes_attention_id_attentions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_quotes_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_quotes_operator_id_operators"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotes")),
    )
    op.create_index(op.f("ix_quotes_attention_id"), "quotes", ["attention_id"], unique=False)
    op.create_index(op.f("ix_quotes_customer_id"), "quotes", ["customer_id"], unique=False)
    op.create_index(op.f("ix_quotes_operator_id"), "quotes", ["operator_id"], unique=False)
    op.create_table(
        "attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("action_id", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "answered",
                "no_answer",
                "busy",
                "congestion",
                "failed",
                "abandoned",
                "machine",
                "cancelled",
                name=op.f("ck_attempts_outcome"),
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column("call_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_attempts_call_id_calls"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_attempts_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_attempts_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_attempts_operator_id_operators"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempts")),
        sa.UniqueConstraint("action_id", name=op.f("uq_attempts_action_id")),
    )
    op.create_index(op.f("ix_attempts_call_id"), "attempts", ["call_id"], unique=False)
    op.create_index(
        "ix_attempts_campaign_started", "attempts", ["campaign_id", "started_at"], unique=False
    )
    op.create_index(op.f("ix_attempts_lead_id"), "attempts", ["lead_id"], unique=False)
    op.create_index(op.f("ix_attempts_operator_id"), "attempts", ["operator_id"], unique=False)
    op.create_table(
        "instalments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_instalments_amount_positive")),
        sa.CheckConstraint("seq > 0", name=op.f("ck_instalments_seq_positive")),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["payment_plans.id"],
            name=op.f("fk_instalments_plan_id_payment_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instalments")),
        sa.UniqueConstraint("plan_id", "seq", name=op.f("uq_instalments_plan_id_seq")),
    )
    op.create_table(
        "quote_items",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("quote_id", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_quote_items_quantity_positive")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_quote_items_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_quote_items_product_id_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quotes.id"],
            name=op.f("fk_quote_items_quote_id_quotes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_items")),
        sa.UniqueConstraint("quote_id", "line", name=op.f("uq_quote_items_quote_id_line")),
    )
    op.create_index(op.f("ix_quote_items_product_id"), "quote_items", ["product_id"], unique=False)
    op.create_table(
        "sales_orders",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("attention_id", sa.BigInteger(), nullable=True),
        sa.Column("quote_id", sa.BigInteger(), nullable=True),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column("billed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("billed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invoice_number", sa.Text(), nullable=True),
        sa.Column("cancelled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "billed = (billed_at IS NOT NULL)", name=op.f("ck_sales_orders_billed_has_date")
        ),
        sa.ForeignKeyConstraint(
            ["attention_id"],
            ["attentions.id"],
            name=op.f("fk_sales_orders_attention_id_attentions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_sales_orders_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_sales_orders_operator_id_operators"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quotes.id"],
            name=op.f("fk_sales_orders_quote_id_quotes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_orders")),
    )
    op.create_index(
        op.f("ix_sales_orders_attention_id"), "sales_orders", ["attention_id"], unique=False
    )
    op.create_index(
        op.f("ix_sales_orders_customer_id"), "sales_orders", ["customer_id"], unique=False
    )
    op.create_index(
        op.f("ix_sales_orders_operator_id"), "sales_orders", ["operator_id"], unique=False
    )
    op.create_index(op.f("ix_sales_orders_quote_id"), "sales_orders", ["quote_id"], unique=False)
    op.create_table(
        "order_items",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_items_quantity_positive")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_order_items_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_orders.id"],
            name=op.f("fk_order_items_order_id_sales_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_order_items_product_id_products"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_items")),
        sa.UniqueConstraint("order_id", "line", name=op.f("uq_order_items_order_id_line")),
    )
    op.create_index(op.f("ix_order_items_product_id"), "order_items", ["product_id"], unique=False)
    _create_functions_and_triggers()


def downgrade() -> None:
    op.drop_index(op.f("ix_order_items_product_id"), table_name="order_items")
    op.drop_table("order_items")
    op.drop_index(op.f("ix_sales_orders_quote_id"), table_name="sales_orders")
    op.drop_index(op.f("ix_sales_orders_operator_id"), table_name="sales_orders")
    op.drop_index(op.f("ix_sales_orders_customer_id"), table_name="sales_orders")
    op.drop_index(op.f("ix_sales_orders_attention_id"), table_name="sales_orders")
    op.drop_table("sales_orders")
    op.drop_index(op.f("ix_quote_items_product_id"), table_name="quote_items")
    op.drop_table("quote_items")
    op.drop_table("instalments")
    op.drop_index(op.f("ix_attempts_operator_id"), table_name="attempts")
    op.drop_index(op.f("ix_attempts_lead_id"), table_name="attempts")
    op.drop_index("ix_attempts_campaign_started", table_name="attempts")
    op.drop_index(op.f("ix_attempts_call_id"), table_name="attempts")
    op.drop_table("attempts")
    op.drop_index(op.f("ix_quotes_operator_id"), table_name="quotes")
    op.drop_index(op.f("ix_quotes_customer_id"), table_name="quotes")
    op.drop_index(op.f("ix_quotes_attention_id"), table_name="quotes")
    op.drop_table("quotes")
    op.drop_index(op.f("ix_payment_promises_receivable_id"), table_name="payment_promises")
    op.drop_index(op.f("ix_payment_promises_customer_id"), table_name="payment_promises")
    op.drop_index(op.f("ix_payment_promises_created_by"), table_name="payment_promises")
    op.drop_index(op.f("ix_payment_promises_attention_id"), table_name="payment_promises")
    op.drop_table("payment_promises")
    op.drop_index(op.f("ix_payment_plans_customer_id"), table_name="payment_plans")
    op.drop_index(op.f("ix_payment_plans_created_by"), table_name="payment_plans")
    op.drop_index(op.f("ix_payment_plans_attention_id"), table_name="payment_plans")
    op.drop_table("payment_plans")
    op.drop_index(op.f("ix_calls_ring_at"), table_name="calls")
    op.drop_index(op.f("ix_calls_phone"), table_name="calls")
    op.drop_index(op.f("ix_calls_operator_id"), table_name="calls")
    op.drop_index(op.f("ix_calls_linkedid"), table_name="calls")
    op.drop_index(op.f("ix_calls_campaign_id"), table_name="calls")
    op.drop_index(op.f("ix_calls_attention_id"), table_name="calls")
    op.drop_table("calls")
    op.drop_index(op.f("ix_callbacks_operator_id"), table_name="callbacks")
    op.drop_index(op.f("ix_callbacks_lead_id"), table_name="callbacks")
    op.drop_index(
        "ix_callbacks_due", table_name="callbacks", postgresql_where=sa.text("done_at IS NULL")
    )
    op.drop_index(op.f("ix_callbacks_campaign_id"), table_name="callbacks")
    op.drop_index(op.f("ix_callbacks_attention_id"), table_name="callbacks")
    op.drop_table("callbacks")
    op.drop_index(op.f("ix_attention_notes_attention_id"), table_name="attention_notes")
    op.drop_table("attention_notes")
    op.drop_index(op.f("ix_phones_suspect_id"), table_name="phones")
    op.drop_index(op.f("ix_phones_prospect_id"), table_name="phones")
    op.drop_index(op.f("ix_phones_phone"), table_name="phones")
    op.drop_index(op.f("ix_phones_customer_id"), table_name="phones")
    op.drop_index(op.f("ix_phones_contact_id"), table_name="phones")
    op.drop_table("phones")
    op.drop_index(op.f("ix_call_message_notes_message_id"), table_name="call_message_notes")
    op.drop_table("call_message_notes")
    op.drop_index(op.f("ix_attentions_suspect_id"), table_name="attentions")
    op.drop_index(op.f("ix_attentions_prospect_id"), table_name="attentions")
    op.drop_index(op.f("ix_attentions_phone"), table_name="attentions")
    op.drop_index(op.f("ix_attentions_owner_id"), table_name="attentions")
    op.drop_index("ix_attentions_operator_status", table_name="attentions")
    op.drop_index(op.f("ix_attentions_operator_id"), table_name="attentions")
    op.drop_index(op.f("ix_attentions_next_call_at"), table_name="attentions")
    op.drop_index(op.f("ix_attentions_lead_id"), table_name="attentions")
    op.drop_index(op.f("ix_attentions_group_id"), table_name="attentions")
    op.drop_index(op.f("ix_attentions_customer_id"), table_name="attentions")
    op.drop_index(op.f("ix_attentions_created_at"), table_name="attentions")
    op.drop_index(op.f("ix_attentions_contact_id"), table_name="attentions")
    op.drop_index(op.f("ix_attentions_closing_reason_id"), table_name="attentions")
    op.drop_index(op.f("ix_attentions_case_id"), table_name="attentions")
    op.drop_index(op.f("ix_attentions_campaign_id"), table_name="attentions")
    op.drop_table("attentions")
    op.drop_index(op.f("ix_suspects_prospect_id"), table_name="suspects")
    op.drop_table("suspects")
    op.drop_index(op.f("ix_leads_phone"), table_name="leads")
    op.drop_index("ix_leads_due", table_name="leads")
    op.drop_index(op.f("ix_leads_customer_id"), table_name="leads")
    op.drop_table("leads")
    op.drop_index(
        "ux_dnc_entries_global_phone",
        table_name="dnc_entries",
        postgresql_where=sa.text("campaign_id IS NULL"),
    )
    op.drop_index(op.f("ix_dnc_entries_phone"), table_name="dnc_entries")
    op.drop_index(op.f("ix_dnc_entries_campaign_id"), table_name="dnc_entries")
    op.drop_index(op.f("ix_dnc_entries_added_by"), table_name="dnc_entries")
    op.drop_table("dnc_entries")
    op.drop_index(op.f("ix_cases_status"), table_name="cases")
    op.drop_index(op.f("ix_cases_customer_id"), table_name="cases")
    op.drop_index(op.f("ix_cases_assignee_id"), table_name="cases")
    op.drop_table("cases")
    op.drop_index(op.f("ix_call_messages_to_user_id"), table_name="call_messages")
    op.drop_index(op.f("ix_call_messages_to_group_id"), table_name="call_messages")
    op.drop_index(op.f("ix_call_messages_from_phone"), table_name="call_messages")
    op.drop_index(op.f("ix_call_messages_from_customer_id"), table_name="call_messages")
    op.drop_index(op.f("ix_call_messages_from_contact_id"), table_name="call_messages")
    op.drop_index(op.f("ix_call_messages_created_at"), table_name="call_messages")
    op.drop_table("call_messages")
    op.drop_index(op.f("ix_receivables_due_on"), table_name="receivables")
    op.drop_index(op.f("ix_receivables_customer_id"), table_name="receivables")
    op.drop_table("receivables")
    op.drop_index(op.f("ix_prospects_customer_id"), table_name="prospects")
    op.drop_table("prospects")
    op.drop_index(op.f("ix_operators_group_id"), table_name="operators")
    op.drop_table("operators")
    op.drop_index(op.f("ix_contacts_customer_id"), table_name="contacts")
    op.drop_table("contacts")
    op.drop_index(op.f("ix_campaigns_script_id"), table_name="campaigns")
    op.drop_table("campaigns")
    op.drop_table("scripts")
    op.drop_table("required_fields")
    op.drop_table("products")
    op.drop_table("pause_reasons")
    op.drop_index(op.f("ix_customers_tax_id"), table_name="customers")
    op.drop_table("customers")
    op.drop_table("closing_reasons")
    op.drop_index(
        "ux_call_message_types_is_default",
        table_name="call_message_types",
        postgresql_where=sa.text("is_default"),
    )
    op.drop_table("call_message_types")
    op.drop_index(
        "ux_call_message_situations_usual_pending",
        table_name="call_message_situations",
        postgresql_where=sa.text("usual_pending"),
    )
    op.drop_table("call_message_situations")
    op.drop_index("ix_audit_log_subject_at", table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_actor"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_action"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("attention_groups")
    for name in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
