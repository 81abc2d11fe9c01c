"""Alembic environment: runs the migrations against ``DATABASE_URL`` (or the URL given
by ``blog_shared.migrate``)."""

from alembic import context
from sqlalchemy import create_engine, pool

from blog_shared import db
from blog_shared.config import get_settings
from blog_shared.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    # No socket timeout: a migration may take longer than a request (statement_timeout bounds it).
    url, args = db.connection(url, timeout=None)
    engine = create_engine(url, poolclass=pool.NullPool, connect_args=args)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
