"""Story members' heads and lengths: a short article (a feed summary when its page could not be read)
is compared with the others by the title and the first words of each (issue 15 kind 5, redteam15 #9:
a summary-only rewrite started a second story)

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # JSON {term: weight} and the body's word count; NULL for articles placed before this revision
    # (the head rule is skipped for them)
    op.add_column("story_articles", sa.Column("head", sa.Text(), nullable=True))
    op.add_column("story_articles", sa.Column("words", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("story_articles") as batch:
        batch.drop_column("words")
        batch.drop_column("head")
