"""item ledger: every item a feed listed, with its state and the reason for it

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("feed", sa.String(200), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False, server_default=""),
        sa.Column("url_key", sa.Text, nullable=False),
        sa.Column("guid", sa.Text, nullable=False, server_default=""),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("summary", sa.Text, nullable=False, server_default=""),
        sa.Column("published_at", TS),
        sa.Column("title_key", sa.String(60), nullable=False, server_default=""),
        sa.Column("summary_hash", sa.String(40), nullable=False, server_default=""),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reason_code", sa.String(30), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("article_id", sa.Integer),
        sa.Column("ref_article_id", sa.Integer),
        sa.Column("ref_item_id", sa.Integer),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_try_at", TS),
        sa.Column("last_error", sa.Text),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.UniqueConstraint("feed", "key", name="uq_items_feed_key"),
    )
    op.create_index("ix_items_feed_state", "items", ["feed", "state", "next_try_at"])
    op.create_index("ix_items_url_key", "items", ["url_key"])
    op.create_index("ix_items_article_id", "items", ["article_id"])
    op.create_index("ix_items_feed_title_key", "items", ["feed", "title_key"])


def downgrade() -> None:
    op.drop_table("items")
