"""Roster files (花名册): CSV or XLSX, read row by row and never whole, and imported.

The first row is the header: each column is named in English (`id_number`) or Chinese
(`身份证号`), in any order; columns of other names are ignored. A CSV file is UTF-8, with or
without a byte order mark; an XLSX file is read from its first sheet. A file is known by the
SHA-256 of its bytes, so importing it again resumes a run that stopped, or changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
import zipfile
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from openpyxl import load_workbook

from jikuai.domain.shared.calendar import business_date
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.domain.villages.importing import RosterContent, RosterItem, import_roster
from jikuai.domain.villages.model import RosterImport, RosterSource
from jikuai.domain.villages.rosters import Column, RosterRow, RowError, column_named

if TYPE_CHECKING:
    from jikuai.container import Services

REQUIRED = frozenset(
    {
        Column.NAME,
        Column.ID_NUMBER,
        Column.PHONE,
        Column.FAMILY_SIZE,
        Column.LAND_AREA,
        Column.ANNUAL_INCOME,
        Column.PEER_RATING,
        Column.REVIEWED_ON,
    }
)
_XLSX_MAGIC = b"PK\x03\x04"
MAX_UNPACKED_BYTES = 256 << 20  # a workbook's parts, unpacked; a province goes as CSV
_READ_BYTES = 1 << 16


class RosterFileError(Exception):
    """The file cannot be imported at all: unreadable, not CSV or XLSX, or its header lacks a
    required column. The message says which, in English, for the command line."""


@dataclass(frozen=True, slots=True)
class RosterFile:
    """A roster file opened for reading: what it is known by, about how many rows it has, and
    a reader of its rows from the top."""

    content: RosterContent
    rows: int
    items: Callable[[], Iterator[RosterItem]]


def open_roster(stream: IO[bytes], name: str) -> RosterFile:
    """The roster in `stream` (seekable), its header checked: RosterFileError before anything
    is imported if it cannot be. A CSV file is read once for its digest and lines; a workbook
    also once through, to count its rows (what it declares of itself may be wrong)."""
    digest, lines, head = _scan(stream)
    content = RosterContent(RosterSource.FILE, name, digest)
    if head.startswith(_XLSX_MAGIC):
        _check_unpacked_size(stream)
        rows = sum(1 for _ in _xlsx_items(stream))
        return RosterFile(content, rows, lambda: _xlsx_items(stream))
    _check_header(_csv_items(stream))
    return RosterFile(content, max(lines - 1, 0), lambda: _csv_items(stream))


async def import_roster_file(
    services: Services,
    path: Path,
    *,
    village_code: str,
    progress: Callable[[RosterImport, int], None] | None = None,
    refused: Callable[[RowError], None] | None = None,
) -> RosterImport:
    """Import the file into the village from the command line (no staff member acts). Each
    saved chunk is reported to `progress` with the file's row count, and each refused row to
    `refused`. Raises RosterFileError for a file that cannot be imported, DomainError for an
    unknown village or an institution without the product."""
    session = services.database.session()
    try:
        async with session.unit_of_work() as uow:
            village = await uow.tenancy.village_by_code(village_code)
        if village is None:
            raise DomainError(ErrorCode.NOT_FOUND, field=("village",))
        with _opened(path) as stream:
            roster = open_roster(stream, path.name)

            def chunk_done(record: RosterImport, errors: Sequence[RowError]) -> None:
                if refused is not None:
                    for error in errors:
                        refused(error)
                if progress is not None:
                    progress(record, roster.rows)

            now = datetime.now(UTC)
            return await import_roster(
                roster.items(),
                village_id=village.id,
                content=roster.content,
                actor=None,
                unit_of_work=session.unit_of_work,
                vault=services.households,
                now=now,
                today=business_date(now),
                request_id=f"cli-{uuid.uuid4()}",
                chunk_done=chunk_done,
            )
    finally:
        await session.close()


def _opened(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as error:
        raise RosterFileError(f"cannot read {path}: {error.strerror}") from None


def _scan(stream: IO[bytes]) -> tuple[bytes, int, bytes]:
    """SHA-256 of the whole content, its count of lines, and its first bytes; then rewind."""
    stream.seek(0)
    digest = hashlib.sha256()
    lines = 0
    head = b""
    last = b"\n"
    while block := stream.read(_READ_BYTES):
        head = head or block[:8]
        digest.update(block)
        lines += block.count(b"\n")
        last = block[-1:]
    stream.seek(0)
    return digest.digest(), lines + (last != b"\n"), head


def _header(cells: list[str]) -> dict[int, Column]:
    """The known columns by position; RosterFileError for a repeated or missing one."""
    columns: dict[int, Column] = {}
    for position, cell in enumerate(cells):
        column = column_named(cell)
        if column is None:
            continue
        if column in columns.values():
            raise RosterFileError(f"the header names {column} twice")
        columns[position] = column
    missing = REQUIRED - set(columns.values())
    if missing:
        names = ",".join(sorted(missing))
        raise RosterFileError(f"the header must name the columns {names}")
    return columns


def _csv_items(stream: IO[bytes]) -> Generator[RosterItem, None, None]:
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        columns = _header(next(reader, []))
        width = max(columns) + 1
        line = reader.line_num
        for cells in reader:
            number, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) < width:
                yield RowError(number, None, ErrorCode.INVALID_LENGTH)
                continue
            yield RosterRow(number, {column: cells[at] for at, column in columns.items()})
    except UnicodeDecodeError:
        raise RosterFileError(f"not UTF-8 text beyond line {reader.line_num}") from None
    except csv.Error as error:
        raise RosterFileError(f"line {reader.line_num}: {error}") from None
    finally:
        if not stream.closed:  # a reader dropped after its file was closed has nothing to give back
            text.detach()


def _check_header(items: Generator[RosterItem, None, None]) -> None:
    """Read as far as the first row, which checks the header; RosterFileError if it fails."""
    try:
        next(items, None)
    finally:
        items.close()


def _check_unpacked_size(stream: IO[bytes]) -> None:
    """A workbook is a zip: refuse one that would unpack to more than MAX_UNPACKED_BYTES, as a
    small upload packed with a huge cell would."""
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise RosterFileError("not a readable XLSX workbook") from None
    finally:
        stream.seek(0)
    if unpacked > MAX_UNPACKED_BYTES:
        raise RosterFileError(
            f"the workbook unpacks to more than {MAX_UNPACKED_BYTES // (1 << 20)} MiB; "
            "send a large roster as CSV"
        )


def _xlsx_items(stream: IO[bytes]) -> Iterator[RosterItem]:
    """The first sheet's rows. Anything the workbook's parts hold that cannot be read makes the
    file unreadable, whatever the library raised."""
    try:
        yield from _sheet_items(stream)
    except RosterFileError:
        raise
    except Exception:
        raise RosterFileError("not a readable XLSX workbook") from None


def _sheet_items(stream: IO[bytes]) -> Iterator[RosterItem]:
    stream.seek(0)
    book = load_workbook(stream, read_only=True, data_only=True)
    try:
        if not book.worksheets:
            raise RosterFileError("the workbook has no worksheet")
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # read every row, whatever size the sheet claims
        rows = sheet.iter_rows(values_only=True)
        columns = _header([_cell_text(cell) for cell in next(rows, ())])
        width = max(columns) + 1
        id_numbers = [at for at, column in columns.items() if column is Column.ID_NUMBER]
        for number, values in enumerate(rows, start=2):
            cells = [_cell_text(value) for value in values]
            if not any(cells):
                continue
            if any(_is_number(values[at]) for at in id_numbers if at < len(values)):
                # A number cell keeps 15 digits of an 18-digit ID number: never trust one.
                yield RowError(number, Column.ID_NUMBER, ErrorCode.INVALID_ID_NUMBER)
                continue
            cells += [""] * (width - len(cells))
            yield RosterRow(number, {column: cells[at] for at, column in columns.items()})
    finally:
        book.close()


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV file would hold: a whole number without `.0`, a
    date as 2026-11-30."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
