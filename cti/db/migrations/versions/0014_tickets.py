"""Telemarketing tickets (seed 003): the catalogues (ticket_subjects, ticket_occurrences,
ticket_actions), an attention's items as child tickets (ticket_items), the service orders and the
potential non-conformities their actions create.

The attentions' free-text subject, product, occurrence and action are kept as they are (earlier
attentions stay readable); new telemarketing work is written as items.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TICKET = "'open', 'in_progress', 'done'"


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False)


def _flag(name: str, default: str) -> sa.Column[bool]:
    return sa.Column(name, sa.Boolean(), server_default=sa.text(default), nullable=False)


def _now(name: str) -> sa.Column[object]:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def _index(table: str, column: str) -> None:
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "ticket_subjects",
        _id(),
        sa.Column("name", sa.Text(), nullable=False),
        _flag("active", "true"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_subjects")),
        sa.UniqueConstraint("name", name=op.f("uq_ticket_subjects_name")),
    )
    op.create_table(
        "ticket_occurrences",
        _id(),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        _flag("active", "true"),
        _fk("ticket_occurrences", "subject_id", "ticket_subjects", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_occurrences")),
        sa.UniqueConstraint(
            "subject_id", "name", name=op.f("uq_ticket_occurrences_subject_id_name")
        ),
    )
    _index("ticket_occurrences", "subject_id")
    op.create_table(
        "ticket_actions",
        _id(),
        sa.Column("occurrence_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sets_status", sa.String(length=11), nullable=False),
        _flag("service_order", "false"),
        _flag("nonconformity", "false"),
        _flag("active", "true"),
        sa.CheckConstraint(
            f"sets_status IN ({_TICKET})", name=op.f("ck_ticket_actions_sets_status")
        ),
        _fk("ticket_actions", "occurrence_id", "ticket_occurrences", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_actions")),
        sa.UniqueConstraint(
            "occurrence_id", "name", name=op.f("uq_ticket_actions_occurrence_id_name")
        ),
    )
    _index("ticket_actions", "occurrence_id")
    op.create_table(
        "ticket_items",
        _id(),
        sa.Column("attention_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("product", sa.Text(), nullable=True),
        sa.Column("occurrence_id", sa.BigInteger(), nullable=False),
        sa.Column("action_id", sa.BigInteger(), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=True),
        sa.Column("action_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=11), server_default="open", nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        _now("created_at"),
        _now("updated_at"),
        sa.CheckConstraint(f"status IN ({_TICKET})", name=op.f("ck_ticket_items_status")),
        _fk("ticket_items", "attention_id", "attentions", "CASCADE"),
        _fk("ticket_items", "subject_id", "ticket_subjects", "RESTRICT"),
        _fk("ticket_items", "occurrence_id", "ticket_occurrences", "RESTRICT"),
        _fk("ticket_items", "action_id", "ticket_actions", "RESTRICT"),
        _fk("ticket_items", "owner_id", "operators", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_items")),
        sa.UniqueConstraint("attention_id", "seq", name=op.f("uq_ticket_items_attention_id_seq")),
    )
    for column in ("attention_id", "subject_id", "occurrence_id", "action_id", "owner_id"):
        _index("ticket_items", column)
    op.create_table(
        "service_orders",
        _id(),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("ticket_item_id", sa.BigInteger(), nullable=False),
        _now("created_at"),
        _fk("service_orders", "ticket_item_id", "ticket_items", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_service_orders_number")),
        sa.UniqueConstraint("ticket_item_id", name=op.f("uq_service_orders_ticket_item_id")),
    )
    op.create_table(
        "nonconformities",
        _id(),
        sa.Column("attention_id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_item_id", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=9), server_default="potential", nullable=False),
        _now("created_at"),
        sa.CheckConstraint(
            "status IN ('potential', 'confirmed', 'dismissed')",
            name=op.f("ck_nonconformities_status"),
        ),
        _fk("nonconformities", "attention_id", "attentions", "CASCADE"),
        _fk("nonconformities", "ticket_item_id", "ticket_items", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nonconformities")),
        sa.UniqueConstraint("ticket_item_id", name=op.f("uq_nonconformities_ticket_item_id")),
    )
    _index("nonconformities", "attention_id")
    op.execute(
        "CREATE TRIGGER ticket_items_touch BEFORE UPDATE ON ticket_items"
        " FOR EACH ROW EXECUTE FUNCTION cti_touch()"
    )
    for table in ("service_orders", "nonconformities"):
        op.execute(
            f"CREATE TRIGGER {table}_keep_created BEFORE UPDATE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION cti_keep_created()"
        )


def downgrade() -> None:
    for table in (
        "nonconformities",
        "service_orders",
        "ticket_items",
        "ticket_actions",
        "ticket_occurrences",
        "ticket_subjects",
    ):
        op.drop_table(table)
