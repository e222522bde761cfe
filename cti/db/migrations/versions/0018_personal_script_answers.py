"""Campaign scripts' questions say whether their answers are personal data.

Each question step of every script and of every script version gets ``"personal": true`` where
it says nothing yet: the answers already given were given by an identified person, so they are
treated as personal (masked without the ``personal_data`` permission) until an admin unmarks the
question. Only the steps change; no answer is touched.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The body with "personal": true added to each question step that has no "personal" yet, in order.
_MARKED = """(
    SELECT COALESCE(jsonb_agg(
        CASE WHEN step->>'kind' = 'question' AND NOT jsonb_exists(step, 'personal')
             THEN step || '{"personal": true}'::jsonb ELSE step END
        ORDER BY n), '[]'::jsonb)
    FROM jsonb_array_elements(body) WITH ORDINALITY AS steps(step, n))"""


def upgrade() -> None:
    # A script's updated_at says when an admin last changed it: this is not such a change.
    op.execute("ALTER TABLE scripts DISABLE TRIGGER scripts_touch")
    for table in ("scripts", "script_versions"):
        op.execute(
            sa.text(
                f"UPDATE {table} SET body = {_MARKED}"
                f" WHERE jsonb_typeof(body) = 'array' AND body <> {_MARKED}"
            )
        )
    op.execute("ALTER TABLE scripts ENABLE TRIGGER scripts_touch")


def downgrade() -> None:
    # The flags stay: the code before 0018 reads a step's known keys and ignores this one, and an
    # admin's choice (a question unmarked) is not thrown away by going down and up again.
    pass
