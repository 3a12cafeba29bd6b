"""Story members' key-term profiles: an article joins a story by its most similar member

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # JSON {key term: weight}; NULL for articles placed before this revision (their story's
    # summed profile stands in for them)
    op.add_column("story_articles", sa.Column("profile", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("story_articles") as batch:
        batch.drop_column("profile")
