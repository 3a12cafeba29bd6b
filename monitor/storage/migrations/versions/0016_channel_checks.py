"""Channel URL verdicts kept between processes (issue 16)

Table ``channel_checks``: apprise's verdict on a channel URL that found no error (its
warnings), by a key made of the URL, the config's text, apprise's and our checking code
(monitor/config/checkcache.py), so `monitor once` does not import apprise to check URLs
it checked before (storage/checkcache.py reads it before the store is opened). Only added:
an older node ignores it.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_checks",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("warnings", sa.Text(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_channel_checks"),
    )


def downgrade() -> None:
    op.drop_table("channel_checks")
