"""The Alembic migrations are the one source of the schema, and they match the tables.

`compare_metadata` between a freshly migrated database and `jikuai.persistence.tables.metadata`
must find nothing: a table change without its migration (or the reverse) fails here. SQLite
always; PostgreSQL when JIKUAI_TEST_DATABASE_URL is set, on a scratch database of its own.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, String, inspect, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from jikuai.persistence.engine import create_engine
from jikuai.persistence.migrations import alembic_config, upgrade
from jikuai.persistence.tables import metadata

DATABASE_URL = os.environ.get("JIKUAI_TEST_DATABASE_URL")
REQUIRE_SERVICES = os.environ.get("JIKUAI_REQUIRE_SERVICES") == "1"
SCRATCH_DATABASE = "jikuai_migration_check"
DROP_SCRATCH = text(f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE} WITH (FORCE)")


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"JIKUAI_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


async def migrate(url: str) -> None:
    # `upgrade` runs an event loop of its own, so not on this one.
    await asyncio.to_thread(upgrade, url)


async def on_connection(url: str, work: Any) -> Any:
    """`work(sync_connection)` on a connection to `url`."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


def schema_difference(connection: Connection, tables: MetaData = metadata) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"},
    )
    return list(compare_metadata(context, tables))


def tables_with_a_new_column() -> MetaData:
    """The tables as a developer might change them, without writing the migration."""
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["customers"].append_column(Column("nickname", String(40), nullable=True))
    return changed


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def sqlite_schema(connection: Connection) -> list[tuple[str, str, str | None]]:
    rows = connection.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY name"))
    return [tuple(row) for row in rows]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A scratch PostgreSQL database, created empty and dropped afterwards."""
    if not DATABASE_URL:
        _unavailable("JIKUAI_TEST_DATABASE_URL is not set")
    assert DATABASE_URL is not None
    admin = create_async_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    scratch = make_url(DATABASE_URL).set(database=SCRATCH_DATABASE)
    try:
        async with admin.connect() as connection:
            await connection.execute(
                text(f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE} WITH (FORCE)")
            )
            await connection.execute(text(f"CREATE DATABASE {SCRATCH_DATABASE}"))
    except (OSError, ConnectionError) as error:
        await admin.dispose()
        _unavailable(f"PostgreSQL at JIKUAI_TEST_DATABASE_URL is unreachable: {error}")
    try:
        yield scratch.render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(
                text(f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE} WITH (FORCE)")
            )
        await admin.dispose()


async def test_upgrade_creates_every_table_on_a_fresh_sqlite_file(sqlite_url: str) -> None:
    await migrate(sqlite_url)

    tables = await on_connection(sqlite_url, table_names)
    assert set(metadata.tables) <= tables
    assert tables - set(metadata.tables) == {"alembic_version"}
    assert await on_connection(sqlite_url, current_revision) == head_revision()


async def test_upgrading_twice_changes_nothing(sqlite_url: str) -> None:
    await migrate(sqlite_url)
    schema = await on_connection(sqlite_url, sqlite_schema)

    await migrate(sqlite_url)

    assert await on_connection(sqlite_url, sqlite_schema) == schema
    assert await on_connection(sqlite_url, current_revision) == head_revision()


async def test_the_migrated_sqlite_schema_is_the_tables_metadata(sqlite_url: str) -> None:
    await migrate(sqlite_url)

    assert await on_connection(sqlite_url, schema_difference) == []


async def test_a_table_change_without_its_migration_is_caught(sqlite_url: str) -> None:
    await migrate(sqlite_url)

    difference = await on_connection(
        sqlite_url, lambda connection: schema_difference(connection, tables_with_a_new_column())
    )

    assert [(each[0], each[2], each[3].name) for each in difference] == [
        ("add_column", "customers", "nickname")
    ]


async def test_the_migrated_postgres_schema_is_the_tables_metadata(postgres_url: str) -> None:
    await migrate(postgres_url)

    assert await on_connection(postgres_url, schema_difference) == []
    tables = await on_connection(postgres_url, table_names)
    assert tables - set(metadata.tables) == {"alembic_version"}


async def test_upgrading_postgres_twice_changes_nothing(postgres_url: str) -> None:
    await migrate(postgres_url)
    before = await on_connection(postgres_url, current_revision)

    await migrate(postgres_url)

    assert await on_connection(postgres_url, current_revision) == before == head_revision()
    assert await on_connection(postgres_url, schema_difference) == []
