"""The pauses of agents at a desk, for the supervisors' pauses report.

One row per pause of an operator at a desk (paused in their queues for a reason: a break, a
meeting, missed calls; not a wrap-up): when it began, why, and when it ended (NULL while it goes
on). At most one pause of an operator is open at a time.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_pauses",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("operator_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("ended_at >= started_at", name=op.f("ck_agent_pauses_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_agent_pauses_operator_id_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_pauses")),
    )
    op.create_index("ix_agent_pauses_started", "agent_pauses", ["started_at"])
    op.create_index(
        "ix_agent_pauses_open",
        "agent_pauses",
        ["operator_id"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("agent_pauses")
