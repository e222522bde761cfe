"""Several cti instances, one call center: the instances alive (``cti_instances``), which one
holds each operator's desk (``desk_holders``, a lease), and which one placed each dialer attempt
(``attempts.placed_by``).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cti_instances",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cti_instances")),
    )
    op.add_column("attempts", sa.Column("placed_by", sa.Text(), nullable=True))
    op.create_table(
        "desk_holders",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("instance", sa.Text(), nullable=False),
        sa.Column("pbx", sa.Text(), nullable=False),
        sa.Column("interface", sa.Text(), nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["operators.id"],
            name=op.f("fk_desk_holders_user_id_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_desk_holders")),
    )


def downgrade() -> None:
    op.drop_table("desk_holders")
    op.drop_column("attempts", "placed_by")
    op.drop_table("cti_instances")
