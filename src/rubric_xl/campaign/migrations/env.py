"""Alembic environment: the connection is handed in by ``db.migrate``."""
from alembic import context

from rubric_xl.campaign.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:  # pragma: no cover - only db.migrate runs these migrations
        raise RuntimeError("rubric-xl migrations are run through rubric_xl.campaign.db.migrate")
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
