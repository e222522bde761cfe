"""Each user's own language (the pages speak it; NULL: their browser's).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("operators", sa.Column("language", sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f("ck_operators_language_known"), "operators", "language IN ('en', 'pt-BR', 'es')"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_operators_language_known"), "operators", type_="check")
    op.drop_column("operators", "language")
