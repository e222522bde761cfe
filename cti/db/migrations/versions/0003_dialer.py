"""Dialer: a campaign's own time zone, answering-machine detection and live pacing knobs; the
answered call's Linkedid on each attempt; the scheduler's job table (APScheduler 3's layout).

The upgrade moves what earlier versions kept elsewhere: ``timezone`` and ``amd`` out of
``campaigns.retry_rules``, the knobs from the last ``campaign.pacing`` audit entry; the downgrade
puts ``timezone`` and ``amd`` back (the knobs stay in the audit log).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("timezone", sa.Text(), nullable=True))
    op.add_column(
        "campaigns",
        sa.Column("amd", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "campaigns",
        sa.Column(
            "pacing",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column("attempts", sa.Column("linkedid", sa.Text(), nullable=True))
    op.create_index(op.f("ix_attempts_linkedid"), "attempts", ["linkedid"], unique=False)
    op.create_table(
        "cti_dialer_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cti_dialer_jobs")),
    )
    op.create_index(op.f("ix_cti_dialer_jobs_next_run_time"), "cti_dialer_jobs", ["next_run_time"])
    op.execute(
        """
        UPDATE campaigns SET
            timezone = NULLIF(retry_rules ->> 'timezone', ''),
            amd = COALESCE(
                CASE WHEN jsonb_typeof(retry_rules -> 'amd') = 'boolean'
                     THEN (retry_rules ->> 'amd')::boolean END,
                false),
            retry_rules = retry_rules - 'timezone' - 'amd'
        WHERE jsonb_typeof(retry_rules) = 'object'
          AND (retry_rules ? 'timezone' OR retry_rules ? 'amd')
        """
    )
    op.execute(
        """
        UPDATE campaigns c SET pacing = last.knobs
        FROM (
            SELECT DISTINCT ON (subject) subject, details -> 'knobs' AS knobs
            FROM audit_log
            WHERE action = 'campaign.pacing' AND jsonb_typeof(details -> 'knobs') = 'object'
            ORDER BY subject, id DESC
        ) AS last
        WHERE last.subject = 'campaign:' || c.id
        """
    )


def downgrade() -> None:
    op.execute(
        """
        UPDATE campaigns SET retry_rules = retry_rules
            || CASE WHEN timezone IS NULL THEN '{}'::jsonb
                    ELSE jsonb_build_object('timezone', timezone) END
            || CASE WHEN amd THEN '{"amd": true}'::jsonb ELSE '{}'::jsonb END
        WHERE jsonb_typeof(retry_rules) = 'object' AND (timezone IS NOT NULL OR amd)
        """
    )
    op.drop_index(op.f("ix_cti_dialer_jobs_next_run_time"), table_name="cti_dialer_jobs")
    op.drop_table("cti_dialer_jobs")
    op.drop_index(op.f("ix_attempts_linkedid"), table_name="attempts")
    op.drop_column("attempts", "linkedid")
    op.drop_column("campaigns", "pacing")
    op.drop_column("campaigns", "amd")
    op.drop_column("campaigns", "timezone")
