"""delivery: per-target progress and digest holds on alerts

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        # space-separated keys of the targets (and message parts) already sent
        batch.add_column(sa.Column("delivered", sa.Text, nullable=False, server_default=""))
        # NULL: send on its own; "hourly"/"daily"/"quiet": held for a digest
        batch.add_column(sa.Column("digest", sa.String(20)))
    op.create_index("ix_alerts_channel_status", "alerts", ["channel", "status"])


def downgrade() -> None:
    op.drop_index("ix_alerts_channel_status", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("digest")
        batch.drop_column("delivered")
