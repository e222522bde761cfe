"""An agent who lets queue calls ring out is paused (redirection on no answer).

Each attention group says after how many missed queue calls in a row cti pauses its agent's
member, so that the queue's callers go to the colleagues who are there rather than ring an empty
desk again and again (NULL: never). Existing groups and new ones pause after the first, as
contact-centre platforms do by default.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "attention_groups",
        sa.Column("pause_after_missed", sa.Integer(), server_default="1", nullable=True),
    )
    op.create_check_constraint(
        op.f("ck_attention_groups_pause_after_missed_positive"),
        "attention_groups",
        sa.text("pause_after_missed > 0"),
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_attention_groups_pause_after_missed_positive"), "attention_groups", type_="check"
    )
    op.drop_column("attention_groups", "pause_after_missed")
