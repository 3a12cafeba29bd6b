"""Cluster mode: a channel's hold (a Telegram flood wait, a failure pause, a rate-limit wait)

Stored per channel, stamped with the database's clock, so it holds for every node: the
node that got Telegram's 429 "retry after N" is not the only one that waits, and a send
job waiting for a slow ``rate:`` ends instead of sleeping in a worker slot (the tick
queues the channel again when its hold ends).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_holds",
        sa.Column("channel", sa.String(200), primary_key=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("channel_holds")
