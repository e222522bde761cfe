"""The desk's softphone: Asterisk's realtime PJSIP tables, and which users' phone is the browser.

``ps_endpoints``, ``ps_auths`` and ``ps_aors`` are named and shaped as Asterisk's own realtime
schema (only the columns cti sets); Asterisk reads them through res_config_pgsql
(``config/asterisk/sorcery.conf``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "operators",
        sa.Column("softphone", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_table(
        "ps_endpoints",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("aors", sa.Text(), nullable=False),
        sa.Column("auth", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("disallow", sa.Text(), nullable=False),
        sa.Column("allow", sa.Text(), nullable=False),
        sa.Column("webrtc", sa.Text(), nullable=False),
        sa.Column("dtls_auto_generate_cert", sa.Text(), nullable=False),
        sa.Column("device_state_busy_at", sa.Integer(), nullable=False),
        sa.Column("callerid", sa.Text(), nullable=True),
        sa.Column("mailboxes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ps_endpoints")),
    )
    op.create_table(
        "ps_auths",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("auth_type", sa.Text(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("realm", sa.Text(), nullable=False),
        sa.Column("md5_cred", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ps_auths")),
    )
    op.create_table(
        "ps_aors",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("max_contacts", sa.Integer(), nullable=False),
        sa.Column("remove_existing", sa.Text(), nullable=False),
        sa.Column("qualify_frequency", sa.Integer(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ps_aors")),
    )


def downgrade() -> None:
    op.drop_table("ps_aors")
    op.drop_table("ps_auths")
    op.drop_table("ps_endpoints")
    op.drop_column("operators", "softphone")
