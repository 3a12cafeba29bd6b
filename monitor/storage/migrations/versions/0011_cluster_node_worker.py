"""Cluster nodes record their procrastinate worker and their own stall timeout

A running job is taken from its worker when that worker's heartbeat is older than the
*holder's* ``cluster_stall_after`` (``stall_after``, seconds), not the taker's: nodes with
different settings (a rolling config change) no longer take each other's live work.
``worker_id`` is the node's current procrastinate worker (NULL before it registered).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cluster_nodes", sa.Column("worker_id", sa.BigInteger(), nullable=True))
    op.add_column("cluster_nodes", sa.Column("stall_after", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cluster_nodes") as batch:
        batch.drop_column("stall_after")
        batch.drop_column("worker_id")
