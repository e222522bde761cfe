"""What running on a real Asterisk asked of the schema: default pause reasons on a database that
has none, and the ``lost`` outcome of a call the PBX no longer had when cti resynchronised.

Pausing sends the reason to Asterisk and cti accepts only the reasons an admin keeps; a fresh
database had none, and every Pause answered 400. An install that already has its own reasons is
left as it is.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_PAUSE_REASONS = ("lunch", "break", "training", "backoffice")
OUTCOMES = (
    "answered",
    "no_answer",
    "busy",
    "congestion",
    "failed",
    "abandoned",
    "machine",
    "cancelled",
)
# (table, column): every column holding a CallOutcome.
OUTCOME_COLUMNS = (("calls", "outcome"), ("attempts", "outcome"), ("leads", "last_outcome"))


def _outcome_checks(values: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{v}'" for v in values)
    for table, column in OUTCOME_COLUMNS:
        name = f"ck_{table}_{column}"
        op.drop_constraint(op.f(name), table, type_="check")
        op.create_check_constraint(op.f(name), table, sa.text(f"{column} IN ({allowed})"))


def upgrade() -> None:
    reasons = sa.table("pause_reasons", sa.column("name", sa.Text))
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM pause_reasons")).scalar_one() == 0:
        op.bulk_insert(reasons, [{"name": name} for name in DEFAULT_PAUSE_REASONS])
    _outcome_checks((*OUTCOMES, "lost"))


def downgrade() -> None:
    # A lost call has no older word: it ended, and how is unknown.
    for table, column in OUTCOME_COLUMNS:
        op.execute(sa.text(f"UPDATE {table} SET {column} = 'failed' WHERE {column} = 'lost'"))
    _outcome_checks(OUTCOMES)
    # The pause reasons stay: once stored they are the admin's data (renamed, retired, in use).
