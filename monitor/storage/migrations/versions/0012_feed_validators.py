"""feeds remember their last full answer and the validators caught lying

``body_hash`` and ``full_fetch_at``: the digest and time of the feed's last full answer (a
200 with a body), so a poll can drop its validators once that is too old and skip parsing
an unchanged body. ``untrusted``: the validators (``etag``, ``last-modified``) no longer
sent because the server was caught lying with them, ``untrusted_reason`` and
``untrusted_at`` what and when (monitor.fetch.validators).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
COLUMNS = (
    ("body_hash", sa.String(64)),
    ("full_fetch_at", TS),
    ("untrusted", sa.String(40)),
    ("untrusted_reason", sa.Text),
    ("untrusted_at", TS),
)


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        for name, _type in reversed(COLUMNS):
            batch.drop_column(name)
