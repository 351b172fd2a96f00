"""Alembic environment: one metadata for every domain (see ``tsunagu.db.models_registry``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from tsunagu.db.models_registry import metadata

config = context.config


def run() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=url.startswith("sqlite"),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
