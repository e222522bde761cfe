"""Back office: groups granted personal data, payment-plan outcomes, the attention created from a
call message, and admin-given labels of attention statuses.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "attention_groups",
        sa.Column("personal_data", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "payment_plans",
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "kept",
                "broken",
                name=op.f("ck_payment_plans_status"),
                native_enum=False,
                create_constraint=True,
            ),
            server_default="open",
            nullable=False,
        ),
    )
    op.add_column("call_messages", sa.Column("attention_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_call_messages_attention_id_attentions"),
        "call_messages",
        "attentions",
        ["attention_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        op.f("ix_call_messages_attention_id"), "call_messages", ["attention_id"], unique=False
    )
    op.create_table(
        "attention_status_labels",
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "planned",
                "closed",
                "cancelled",
                name=op.f("ck_attention_status_labels_status"),
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("label", sa.Text(), nullable=False),
        sa.CheckConstraint("label <> ''", name=op.f("ck_attention_status_labels_label_not_empty")),
        sa.PrimaryKeyConstraint("status", name=op.f("pk_attention_status_labels")),
    )


def downgrade() -> None:
    op.drop_table("attention_status_labels")
    op.drop_index(op.f("ix_call_messages_attention_id"), table_name="call_messages")
    op.drop_constraint(
        op.f("fk_call_messages_attention_id_attentions"), "call_messages", type_="foreignkey"
    )
    op.drop_column("call_messages", "attention_id")
    op.drop_column("payment_plans", "status")
    op.drop_column("attention_groups", "personal_data")
