"""After-call work: each attention group says what an attention needs before its agent leaves
wrap-up (a status, or a status and a closing reason) and its longest wrap-up; an attention left
undisposed when that time ran out is flagged; every wrap-up is recorded (the productivity
report's wrap-up time); no admin pause reason may be cti's own ``wrap-up``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "attention_groups",
        sa.Column("wrapup_needs", sa.String(6), server_default="status", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_attention_groups_wrapup_needs"),
        "attention_groups",
        sa.text("wrapup_needs IN ('status', 'reason')"),
    )
    op.add_column("attention_groups", sa.Column("max_wrapup_seconds", sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_attention_groups_max_wrapup_positive"),
        "attention_groups",
        sa.text("max_wrapup_seconds > 0"),
    )
    op.add_column(
        "attentions",
        sa.Column("wrapup_overrun", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    # A reason an admin kept under cti's own name would put agents in wrap-up: rename it.
    op.execute(sa.text("UPDATE pause_reasons SET name = 'wrap-up (admin)' WHERE name = 'wrap-up'"))
    op.create_check_constraint(
        op.f("ck_pause_reasons_not_wrapup"), "pause_reasons", sa.text("name <> 'wrap-up'")
    )
    op.create_table(
        "wrapups",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column("pbx", sa.Text(), nullable=False),
        sa.Column("interface", sa.Text(), nullable=False),
        sa.Column("attention_id", sa.BigInteger(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("released", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint("seconds >= 0", name=op.f("ck_wrapups_seconds_not_negative")),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_wrapups_operator_id_operators"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["attention_id"],
            ["attentions.id"],
            name=op.f("fk_wrapups_attention_id_attentions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wrapups")),
    )
    op.create_index(op.f("ix_wrapups_operator_id"), "wrapups", ["operator_id"])
    op.create_index(op.f("ix_wrapups_attention_id"), "wrapups", ["attention_id"])
    op.create_index("ix_wrapups_operator_started", "wrapups", ["operator_id", "started_at"])


def downgrade() -> None:
    op.drop_table("wrapups")
    op.drop_constraint(op.f("ck_pause_reasons_not_wrapup"), "pause_reasons", type_="check")
    op.drop_column("attentions", "wrapup_overrun")
    op.drop_constraint(
        op.f("ck_attention_groups_max_wrapup_positive"), "attention_groups", type_="check"
    )
    op.drop_column("attention_groups", "max_wrapup_seconds")
    op.drop_constraint(op.f("ck_attention_groups_wrapup_needs"), "attention_groups", type_="check")
    op.drop_column("attention_groups", "wrapup_needs")
