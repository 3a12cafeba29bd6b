"""feed polling schedule and health: next_poll_at, failing_since, flagged_at, last_warning, kind, new_per_hour

Revision ID: 0004
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
COLUMNS = (
    ("next_poll_at", TS),
    ("failing_since", TS),
    ("flagged_at", TS),
    ("last_warning", sa.Text),
    ("kind", sa.String(20)),
    ("new_per_hour", sa.Float),
)


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        for name, _type in reversed(COLUMNS):
            batch.drop_column(name)
