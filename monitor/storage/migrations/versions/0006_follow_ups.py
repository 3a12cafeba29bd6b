"""story follow-ups: alerts.reply_to and the message ids targets gave back

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("reply_to", sa.Integer, nullable=True))
    op.create_table(
        "alert_messages",
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", "target", name="pk_alert_messages"),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], ondelete="CASCADE", name="fk_alert_messages_alert_id_alerts"
        ),
    )


def downgrade() -> None:
    op.drop_table("alert_messages")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("reply_to")
