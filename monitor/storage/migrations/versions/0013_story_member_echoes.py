"""Story members' echoed title terms: two articles link only when both headlines name, and both
leads repeat, a rare key term (issue 15 kind 5: single-link stories chained unrelated events)

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # JSON [term, ...]; NULL for articles placed before this revision (the condition is skipped)
    op.add_column("story_articles", sa.Column("echoes", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("story_articles") as batch:
        batch.drop_column("echoes")
