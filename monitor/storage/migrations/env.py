"""Alembic environment. Run only from code (monitor.storage.store.upgrade):
the caller puts an open SQLAlchemy Connection in ``config.attributes["connection"]``."""

from alembic import context

from monitor.storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("monitor migrations are run from code with a connection (see monitor.storage.store)")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
