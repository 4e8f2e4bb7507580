"""`jikuai operations register FILE...` and `jikuai operations list`: the persisted operations
an allow-list lets run."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jikuai.config import Settings
from jikuai.domain.operations.model import PersistedOperation
from jikuai.persistence.engine import Database, DatabaseSession

if TYPE_CHECKING:
    from jikuai.schema.execution import OperationRunner

REGISTER_HELP = """\
Register the GraphQL documents a client sends, each file exactly as the client sends it (one or
more named operations and their fragments), as its build does before a release. A document is
known by the SHA-256 of the file's text (its UTF-8 bytes), the `sha256Hash` the client sends in
`extensions.persistedQuery`; with JIKUAI_OPERATIONS_ALLOW_LIST on, registered documents are the
only ones that run.

Every file must parse and validate against this server's schema, under its limits, or nothing of
the batch is registered. Registering the same text again changes nothing. One line per file on
stdout: its hash and the names of its operations.

Exit status: 0 every file registered (or already registered), 2 a file cannot be read, is not
UTF-8, or is not a valid document (nothing registered).
"""


def add_operation_commands(commands: Any) -> None:
    """Register `jikuai operations …` on the command's subparsers."""
    operations = commands.add_parser("operations", help="persisted operations (allow-list)")
    actions = operations.add_subparsers(required=True, metavar="ACTION")
    register = actions.add_parser(
        "register",
        help="register the GraphQL documents of a client",
        description=REGISTER_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    register.add_argument("files", type=Path, nargs="+", metavar="FILE", help="a .graphql file")
    register.set_defaults(command=_register)
    actions.add_parser("list", help="every registered document").set_defaults(command=_list)


class _Refused(Exception):
    """A file of the batch cannot be registered."""


def _register(settings: Settings, arguments: argparse.Namespace) -> int:
    from jikuai.schema.execution import OperationRunner
    from jikuai.schema.root import build_schema

    runner = OperationRunner(build_schema(settings), settings)
    now = datetime.now(UTC)
    batch: list[tuple[Path, PersistedOperation]] = []
    refused = False
    for path in arguments.files:
        try:
            batch.append((path, _checked(path, runner, settings, now)))
        except _Refused as error:
            print(f"jikuai: {path}: {error}", file=sys.stderr)
            refused = True
    if refused:
        print("jikuai: nothing registered", file=sys.stderr)
        return 2
    added = asyncio.run(_add(settings, [operation for _, operation in batch]))
    for (path, operation), new in zip(batch, added, strict=True):
        names = " ".join(operation.operation_names) or "(anonymous)"
        state = "" if new else "  (already registered)"
        print(f"{operation.sha256}  {names}  {path}{state}")
    return 0


def _checked(
    path: Path, runner: OperationRunner, settings: Settings, now: datetime
) -> PersistedOperation:
    from jikuai.schema.persisted import NotRegistrable, registrable

    try:
        text = path.read_bytes().decode("utf-8")  # not read_text: the hash is of the bytes
    except OSError as error:
        raise _Refused(f"cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise _Refused("not UTF-8 text") from None
    try:
        return registrable(text, runner, max_tokens=settings.max_tokens, now=now)
    except NotRegistrable as error:
        raise _Refused(str(error)) from None


async def _add(settings: Settings, batch: Sequence[PersistedOperation]) -> list[bool]:
    """Register the batch in one transaction: for each, whether it is new."""
    async with _session(settings) as session, session.unit_of_work() as uow:
        added = [await uow.persisted_operations.add(operation) for operation in batch]
        await uow.commit()
    return added


def _list(settings: Settings, _: argparse.Namespace) -> int:
    async def every() -> Sequence[PersistedOperation]:
        async with _session(settings) as session:
            return await (await session.reads()).persisted_operations.every()

    for operation in asyncio.run(every()):
        names = " ".join(operation.operation_names) or "(anonymous)"
        print(f"{operation.sha256}  {operation.registered_at.isoformat()}  {names}")
    return 0


@asynccontextmanager
async def _session(settings: Settings) -> AsyncIterator[DatabaseSession]:
    """A database session of the command's own, its pools disposed of on leaving."""
    database = Database.from_settings(settings)
    session = database.session()
    try:
        yield session
    finally:
        await session.close()
        await database.dispose()
