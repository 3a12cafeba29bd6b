"""Cluster mode: procrastinate's job tables (PostgreSQL only) and a heartbeat row per node

procrastinate's schema is the ``schema.sql`` shipped with the installed library
(procrastinate 3.x, pinned in pyproject.toml); a later procrastinate release that
changes it gets its own revision here applying that release's migration files, so the
schema is always ours to upgrade, never applied by hand. SQLite gets only the
``cluster_nodes`` table (unused there: cluster mode refuses SQLite).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_nodes",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_beat", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_cluster_nodes"),
    )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    exists = bind.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar()
    if exists is None:
        cursor = bind.connection.cursor()  # the DBAPI cursor: no parameters, so no %-placeholders parsed
        cursor.execute(SchemaManager.get_schema())
        cursor.close()


def downgrade() -> None:
    op.drop_table("cluster_nodes")
