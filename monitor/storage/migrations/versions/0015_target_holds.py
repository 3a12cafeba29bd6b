"""Cluster mode: a server's hold is the target's, a rate hold remembers its rate

A hold written by 0014 was keyed by the channel's config name: a second name for one chat,
or the channel renamed by a reload, escaped Telegram's flood wait, and a rate hold outlived
a reload that raised the channel's ``rate:`` (red team 17c #1, #5). Table ``target_holds``
replaces ``channel_holds``: a row is (``kind``, ``holder``): ``server`` holds are keyed by a
hash of the target's identity (delivery/holds.py: scheme, host, bot or account, chat or
recipient; never a token), and
``rate`` holds by the channel name with ``rate``, the limits they were computed from (a
channel whose limits differ now ignores it). ``channel`` names the channel that wrote
the row, ``target`` the target with its secrets left out (``monitor outbox holds``).

0014's rows: a flood wait or failure pause is kept, keyed ``channel:NAME`` (its channel
still waits it out); a rate hold is not copied (the next send job recomputes it).
``channel_holds`` itself is kept, emptied, for the 0014 nodes of a rolling upgrade: what they
write there still holds (storage/holds.py reads it as ``channel:NAME`` holds).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "target_holds",
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("rate", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("kind", "holder", name="pk_target_holds"),
    )
    op.execute(
        "INSERT INTO target_holds (kind, holder, channel, target, until, reason, rate) "
        "SELECT 'server', 'channel:' || channel, channel, '', until, reason, NULL "
        "FROM channel_holds WHERE reason <> 'rate'"
    )
    op.execute("DELETE FROM channel_holds")  # moved; what 0014 nodes write from now on is read as well
    # ``channel_holds`` stays: the 0014 nodes still running in a rolling upgrade read it in
    # every tick and send job (README "Upgrading a cluster": a migration only adds to the old
    # schema; dropping it broke them, redteam17e #1). A later migration drops it.


def downgrade() -> None:
    op.drop_table("target_holds")
