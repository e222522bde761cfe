"""The pauses that overlap a report's period by the index of when each ended.

The pauses report (and the productivity report's time paused) reads the pauses that began before
the period's end and ended after its start, or go on still. With only the index on ``started_at``,
PostgreSQL read every pause ever begun before the period's end: for today, after a year, millions
of rows. An index on ``ended_at`` gives those that ended after the start and the open ones (NULL)
directly.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_agent_pauses_ended", "agent_pauses", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_agent_pauses_ended", table_name="agent_pauses")
