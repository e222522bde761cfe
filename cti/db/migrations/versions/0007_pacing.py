"""Pacing estimates kept per campaign, so that a restart or a rebuilt campaign resumes them.

``campaigns.pacing_estimates`` holds what the dialer measured (answer rate and delays, handle-time
hazard) as plain numbers (:func:`cti.domain.pacing.snapshot`); ``{}`` for a campaign never dialled.
It is the dialer's working state, not a setting: written without an audit entry.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "campaigns",
        sa.Column(
            "pacing_estimates",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("campaigns", "pacing_estimates")
