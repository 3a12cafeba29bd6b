"""near-duplicate index and stories

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "neardup_entries",
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.Column("indexed_at", TS, nullable=False),
        sa.Column("shingles", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("article_id", name="pk_neardup_entries"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], ondelete="CASCADE", name="fk_neardup_entries_article_id_articles"
        ),
    )
    op.create_index("ix_neardup_entries_indexed_at", "neardup_entries", ["indexed_at"])
    op.create_table(
        "neardup_bands",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("band", sa.BigInteger, nullable=False),
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_neardup_bands"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["neardup_entries.article_id"],
            ondelete="CASCADE",
            name="fk_neardup_bands_article_id_neardup_entries",
        ),
    )
    op.create_index("ix_neardup_bands_band", "neardup_bands", ["band"])
    op.create_index("ix_neardup_bands_article_id", "neardup_bands", ["article_id"])
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("n_articles", sa.Integer, nullable=False),
        sa.Column("profile", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stories"),
    )
    op.create_index("ix_stories_last_seen", "stories", ["last_seen"])
    op.create_table(
        "story_terms",
        sa.Column("story_id", sa.Integer, nullable=False),
        sa.Column("term", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("story_id", "term", name="pk_story_terms"),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], ondelete="CASCADE", name="fk_story_terms_story_id_stories"
        ),
    )
    op.create_index("ix_story_terms_term", "story_terms", ["term"])
    op.create_table(
        "story_articles",
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.Column("story_id", sa.Integer, nullable=False),
        sa.Column("copy_of", sa.Integer),
        sa.Column("jaccard", sa.Float),
        sa.Column("score", sa.Float),
        sa.Column("outlet", sa.String(200), nullable=False),
        sa.Column("added_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("article_id", name="pk_story_articles"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], ondelete="CASCADE", name="fk_story_articles_article_id_articles"
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], ondelete="CASCADE", name="fk_story_articles_story_id_stories"
        ),
    )
    op.create_index("ix_story_articles_story_id", "story_articles", ["story_id"])
    op.create_index("ix_story_articles_copy_of", "story_articles", ["copy_of"])


def downgrade() -> None:
    op.drop_table("story_articles")
    op.drop_table("story_terms")
    op.drop_index("ix_stories_last_seen", table_name="stories")
    op.drop_table("stories")
    op.drop_table("neardup_bands")
    op.drop_index("ix_neardup_entries_indexed_at", table_name="neardup_entries")
    op.drop_table("neardup_entries")
