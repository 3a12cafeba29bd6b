"""Telegram chat migrations: a group's new supergroup chat id, per target

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_migrations",
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("old_chat", sa.String(64), nullable=False),
        sa.Column("new_chat", sa.String(64), nullable=False),
        sa.Column("migrated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("target", "old_chat", name="pk_chat_migrations"),
    )


def downgrade() -> None:
    op.drop_table("chat_migrations")
