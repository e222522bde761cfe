"""Campaign scripts: each version kept (script_versions) and the answers given on one
(script_answers, one set per attention).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("scripts", sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    op.create_table(
        "script_versions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("script_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["script_id"],
            ["scripts.id"],
            name=op.f("fk_script_versions_script_id_scripts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_script_versions")),
        sa.UniqueConstraint(
            "script_id", "version", name=op.f("uq_script_versions_script_id_version")
        ),
    )
    op.create_index(
        op.f("ix_script_versions_script_id"), "script_versions", ["script_id"], unique=False
    )
    # The scripts there are: their body (in today's shape) is their first version.
    conn = op.get_bind()
    scripts = sa.table(
        "scripts", sa.column("id", sa.BigInteger()), sa.column("body", postgresql.JSONB())
    )
    for script_id, body in conn.execute(sa.select(scripts.c.id, scripts.c.body)).all():
        steps = _steps(body)
        conn.execute(sa.update(scripts).where(scripts.c.id == script_id).values(body=steps))
        conn.execute(
            sa.text(
                "INSERT INTO script_versions (script_id, version, body)"
                " VALUES (:id, 1, CAST(:body AS jsonb))"
            ),
            {"id": script_id, "body": json.dumps(steps)},
        )
    op.create_table(
        "script_answers",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("attention_id", sa.BigInteger(), nullable=False),
        sa.Column("script_version_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=True),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column("answers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "saved_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["attention_id"],
            ["attentions.id"],
            name=op.f("fk_script_answers_attention_id_attentions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["script_version_id"],
            ["script_versions.id"],
            name=op.f("fk_script_answers_script_version_id_script_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_script_answers_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_script_answers_operator_id_operators"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_script_answers")),
        sa.UniqueConstraint("attention_id", name=op.f("uq_script_answers_attention_id")),
    )
    for column in ("script_version_id", "campaign_id", "operator_id"):
        op.create_index(
            op.f(f"ix_script_answers_{column}"), "script_answers", [column], unique=False
        )


def _steps(body: object) -> list[dict[str, object]]:
    """A body of the first shape ({"say": ...} or {"ask": ..., "options": [...]}, which nothing
    ran) in today's: guidance and questions with ids; anything else is left as it is."""
    if not isinstance(body, list):
        return []
    out: list[dict[str, object]] = []
    for i, item in enumerate(body):
        if not isinstance(item, dict) or ("say" not in item and "ask" not in item):
            return [x for x in body if isinstance(x, dict)]
        step_id = f"step{i + 1}"
        if "say" in item:
            out.append({"id": step_id, "kind": "guidance", "text": str(item["say"])})
            continue
        options = [str(o) for o in item.get("options") or []]
        question: dict[str, object] = {"id": step_id, "kind": "question", "text": str(item["ask"])}
        if sorted(options) == ["no", "yes"]:
            question["type"] = "yes_no"
        elif len(options) >= 2:
            question |= {"type": "one_of", "options": options}
        else:
            question["type"] = "text"
        out.append(question)
    return out


def downgrade() -> None:
    op.drop_table("script_answers")
    op.drop_table("script_versions")
    op.drop_column("scripts", "version")
