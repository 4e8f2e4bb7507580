"""Whole-village credit (整村授信): villages, their rosters and imports, progress, and the
farmer's offer."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import IO

from jikuai.domain.shared.errors import DomainError, ErrorCode, PermissionDenied
from jikuai.domain.tenancy.model import Village
from jikuai.domain.villages import management, offers
from jikuai.domain.villages.importing import (
    RosterContent,
    RosterItem,
    import_roster,
    may_import,
)
from jikuai.domain.villages.management import VillageDetails
from jikuai.domain.villages.model import Household, RosterImport, RosterSource, VillageProgress
from jikuai.domain.villages.protection import HouseholdField
from jikuai.domain.villages.rosters import Column, RosterRow, RowError
from jikuai.resolvers.context import Context
from jikuai.resolvers.errors import Forbidden
from jikuai.resolvers.outcomes import Attempt, attempt, bad_input
from jikuai.resolvers.pages import Page, paged
from jikuai.roster_files import RosterFileError, open_roster
from jikuai.security import EnvelopeInvalid, mask_id_number, mask_name, mask_phone

SEALED_ROWS_FIELD = "sealedRows"  # the field a field app's batch is sealed for
MAX_BATCH_ROWS = 1000
MAX_BATCH_ENVELOPE_BYTES = 1 << 19
MAX_FILE_ROWS = 10_000  # a village's roster; the whole province goes by the command line


async def village(context: Context, village_id: uuid.UUID) -> Village | None:
    """A village, for credit staff of its institution and province staff."""
    actor = await context.require_actor()
    found = await context.loaders.village_by_id.load(village_id)
    if found is None or not management.sees_villages_of(actor, found.institution_id):
        return None
    return found


async def household(context: Context, household_id: uuid.UUID) -> Household | None:
    """A household of a roster, for whoever may see its village."""
    reads = await context.db.reads()
    found = await reads.villages.households_by_id([household_id])
    if not found or await village(context, found[0].village_id) is None:
        return None
    return found[0]


async def roster_import(context: Context, import_id: uuid.UUID) -> RosterImport | None:
    """A run of a roster import, for whoever may see its village."""
    reads = await context.db.reads()
    found = await reads.villages.imports_by_id([import_id])
    if not found or await village(context, found[0].village_id) is None:
        return None
    return found[0]


async def village_page(
    context: Context,
    *,
    institution_id: uuid.UUID | None,
    branch_id: uuid.UUID | None,
    first: int,
    after: uuid.UUID | None,
) -> Page[Village]:
    actor = await context.require_actor()
    if not management.follows_villages(actor):
        raise Forbidden
    scope = actor.staff_scope()
    if scope is not None and institution_id not in (None, scope):
        return Page([], has_next_page=False)  # another institution's: nothing, not an error
    reads = await context.db.reads()
    return await paged(
        first,
        lambda limit: reads.tenancy.villages_page(
            institution_id=scope or institution_id, branch_id=branch_id, after=after, limit=limit
        ),
    )


async def create_village(context: Context, code: str, details: VillageDetails) -> Attempt[Village]:
    actor = await context.require_actor()
    return await attempt(
        management.create_village(
            code, details, actor=actor, uow=context.db.unit_of_work(), today=context.today
        )
    )


async def update_village(
    context: Context, village_id: uuid.UUID, details: VillageDetails
) -> Attempt[Village]:
    actor = await context.require_actor()
    return await attempt(
        management.update_village(
            village_id, details, actor=actor, uow=context.db.unit_of_work(), today=context.today
        )
    )


async def progress(
    context: Context,
    *,
    institution_id: uuid.UUID | None,
    branch_id: uuid.UUID | None,
    village_id: uuid.UUID | None,
) -> VillageProgress | None:
    actor = await context.require_actor()
    try:
        return await management.credit_progress(
            actor,
            await context.db.reads(),
            institution_id=institution_id,
            branch_id=branch_id,
            village_id=village_id,
        )
    except PermissionDenied:
        raise Forbidden from None
    except DomainError as error:
        raise bad_input(error) from None


async def household_page(
    context: Context, village: Village, *, first: int, after: uuid.UUID | None
) -> Page[Household]:
    reads = await context.db.reads()
    return await paged(
        first,
        lambda limit: reads.villages.households_page(
            village.institution_id, village.id, after=after, limit=limit
        ),
    )


async def import_page(
    context: Context, village: Village, *, first: int, after: uuid.UUID | None
) -> Page[RosterImport]:
    reads = await context.db.reads()
    return await paged(
        first,
        lambda limit: reads.villages.imports_page(
            village.institution_id, village.id, after=after, limit=limit
        ),
    )


def masked_head(context: Context, household: Household) -> tuple[str, str, str]:
    """The household head's name, ID number and phone as every screen shows them."""
    vault = context.services.households
    return (
        mask_name(vault.reveal(household.id, HouseholdField.NAME, household.name_ct)),
        mask_id_number(
            vault.reveal(household.id, HouseholdField.ID_NUMBER, household.id_number_ct)
        ),
        mask_phone(vault.reveal(household.id, HouseholdField.PHONE, household.phone_ct)),
    )


async def import_file(
    context: Context, village_id: uuid.UUID, file: IO[bytes], name: str
) -> Attempt[tuple[RosterImport, list[RowError]]]:
    """A roster file uploaded from the staff console."""

    async def imported() -> tuple[RosterImport, list[RowError]]:
        await _may_import(context, village_id)
        try:
            roster = await asyncio.to_thread(open_roster, file, name)  # reads the whole file
        except RosterFileError:
            raise DomainError(ErrorCode.INVALID_FILE, field=("file",)) from None
        if roster.rows > MAX_FILE_ROWS:
            raise DomainError(ErrorCode.INVALID_LENGTH, field=("file",))
        return await _import(context, village_id, roster.content, _readable(roster.items()))

    return await attempt(imported())


async def import_batch(
    context: Context, village_id: uuid.UUID, sealed: str
) -> Attempt[tuple[RosterImport, list[RowError]]]:
    """A field app's batch: one envelope holding a JSON array of row objects, named by the
    roster's columns (`id_number`, `name`, …)."""

    async def imported() -> tuple[RosterImport, list[RowError]]:
        await _may_import(context, village_id)
        plaintext = await asyncio.to_thread(_opened_batch, context, sealed)
        rows = _batch_rows(plaintext)
        digest = hashlib.sha256(plaintext.encode("utf-8")).digest()
        content = RosterContent(RosterSource.BATCH, "field app batch", digest)
        return await _import(context, village_id, content, iter(rows))

    return await attempt(imported())


async def offer(context: Context) -> offers.Offer | None:
    actor = await context.require_actor()
    try:
        return await offers.open_offer(actor, await context.db.reads(), today=context.today)
    except PermissionDenied:
        raise Forbidden from None


async def accept_offer(context: Context) -> Attempt[offers.Accepted]:
    actor = await context.require_actor()
    return await attempt(
        offers.accept_offer(
            actor=actor, uow=context.db.unit_of_work(), now=context.now, today=context.today
        )
    )


async def _may_import(context: Context, village_id: uuid.UUID) -> None:
    """Before reading anything sent: a village the actor may see, and may import into."""
    actor = await context.require_actor()
    found = await village(context, village_id)
    if found is None:
        raise DomainError(ErrorCode.NOT_FOUND, field=("villageId",))
    if not may_import(actor, found):
        raise PermissionDenied


async def _import(
    context: Context, village_id: uuid.UUID, content: RosterContent, items: Iterator[RosterItem]
) -> tuple[RosterImport, list[RowError]]:
    refused: list[RowError] = []
    record = await import_roster(
        items,
        village_id=village_id,
        content=content,
        actor=await context.require_actor(),
        unit_of_work=context.db.unit_of_work,
        vault=context.services.households,
        now=context.now,
        today=context.today,
        request_id=context.request_id,
        chunk_done=lambda _, errors: refused.extend(errors),
    )
    return record, refused


def _readable(items: Iterator[RosterItem]) -> Iterator[RosterItem]:
    """The file's rows; a file that turns out unreadable part-way is the caller's error."""
    try:
        yield from items
    except RosterFileError:
        raise DomainError(ErrorCode.INVALID_FILE, field=("file",)) from None


def _opened_batch(context: Context, sealed: str) -> str:
    try:
        return context.services.envelopes.open(
            sealed, field=SEALED_ROWS_FIELD, now=context.now, max_bytes=MAX_BATCH_ENVELOPE_BYTES
        )
    except EnvelopeInvalid:
        raise DomainError(ErrorCode.ENVELOPE_INVALID, field=(SEALED_ROWS_FIELD,)) from None


def _batch_rows(plaintext: str) -> list[RosterRow]:
    """The batch's rows, numbered from 1; anything but an array of at most MAX_BATCH_ROWS
    objects of texts and numbers is refused whole."""
    try:
        document = json.loads(plaintext)
    except (ValueError, RecursionError):  # not JSON, or nested beyond what the parser follows
        raise DomainError(ErrorCode.INVALID_FILE, field=(SEALED_ROWS_FIELD,)) from None
    if not isinstance(document, list) or not all(isinstance(row, dict) for row in document):
        raise DomainError(ErrorCode.INVALID_FILE, field=(SEALED_ROWS_FIELD,))
    if len(document) > MAX_BATCH_ROWS:
        raise DomainError(ErrorCode.INVALID_LENGTH, field=(SEALED_ROWS_FIELD,))
    rows = []
    for line, row in enumerate(document, start=1):
        cells = {}
        for key, value in row.items():  # a JSON object's keys are strings
            column = _column(key)
            if column is not None and _is_cell(value):
                cells[column] = str(value)
        rows.append(RosterRow(line, cells))
    return rows


def _is_cell(value: object) -> bool:
    """Text or a number, as a spreadsheet's cell holds; not true or false."""
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _column(name: str) -> Column | None:
    try:
        return Column(name)
    except ValueError:
        return None
