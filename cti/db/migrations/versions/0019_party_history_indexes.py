"""The screen-pop's history of a caller by each party's own index, newest first.

The pop reads the last few attentions of the caller's customer, contact, suspect or prospect.
With only one index per party column, PostgreSQL walked the attentions newest first (by
``created_at``) looking for the party's, through the whole table for a caller with few or none.
An index on (party, created_at) gives the newest few of one party directly.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PARTIES = ("customer_id", "contact_id", "suspect_id", "prospect_id")


def upgrade() -> None:
    for column in _PARTIES:
        op.create_index(
            op.f(f"ix_attentions_{column}_created_at"), "attentions", [column, "created_at"]
        )


def downgrade() -> None:
    for column in reversed(_PARTIES):
        op.drop_index(op.f(f"ix_attentions_{column}_created_at"), table_name="attentions")
