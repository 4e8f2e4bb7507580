"""Importing a village's roster: every row checked, deduplicated, encrypted, screened, and given
a pre-approved line and a whitelist entry, chunk by chunk.

Rows arrive as a stream (a file read line by line, a field app's batch) and are taken
CHUNK_ROWS at a time, one transaction each; the run's record is saved with each chunk, so a run
that stops part-way is resumed by importing the same content again, from the line after the last
saved chunk. A household is its head's ID number within the institution (by blind index): a row
for a known household updates it, and a row whose facts are those already recorded changes
nothing, so importing the same file twice changes nothing the second time. A row with a wrong
field is refused with its line, column and code, and the other rows go on. A household whose
head has already signed up as a customer is linked to them.

Whitelist entries follow the screening: a pre-approved household holds one entry (source
整村授信) carrying its pre-approved line until the offer expires; a household declined on a later
import has its entry revoked. A household that has accepted its offer keeps its screening and
entry: its line is open, and only its roster facts are updated.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from itertools import islice

from jikuai.domain.credit.access import CREDIT_STAFF
from jikuai.domain.credit.lists import CreditListEntry, ListKind
from jikuai.domain.credit.origination import contract_rate
from jikuai.domain.credit.schedules import due_date
from jikuai.domain.customers.identity_numbers import parse_id_number
from jikuai.domain.identity.model import AuditEvent
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.errors import DomainError, ErrorCode, PermissionDenied
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Village
from jikuai.domain.villages.model import (
    Household,
    ImportStatus,
    RefusedRow,
    RosterImport,
    RosterSource,
    Screening,
    ScreeningOutcome,
)
from jikuai.domain.villages.protection import HouseholdVault
from jikuai.domain.villages.rosters import Column, HouseholdFacts, RosterRow, RowError, check_row
from jikuai.domain.villages.screening import SCREENING_PRODUCT, Screener
from jikuai.security import mask_id_number

CHUNK_ROWS = 1000
MAX_KEPT_ERRORS = 1000  # a run's record keeps the first refusals; a file's import prints them all
WHITELIST_SOURCE = "整村授信"
ROSTER_STAFF = CREDIT_STAFF

RosterItem = RosterRow | RowError  # a row, or a line already found unreadable by its reader
ChunkDone = Callable[[RosterImport, Sequence[RowError]], None]


@dataclass(frozen=True, slots=True)
class RosterContent:
    """What is imported and how it is known again: by the SHA-256 of its content (a file's
    bytes, a batch's JSON)."""

    source: RosterSource
    name: str
    digest: bytes


@dataclass(slots=True)
class _Run:
    """One import under way: its record, and what every chunk needs."""

    record: RosterImport
    village: Village
    screener: Screener
    actor: Actor | None
    now: datetime
    seen: set[bytes] = field(default_factory=set)  # households of this run, to refuse repeats


async def import_roster(
    items: Iterable[RosterItem],
    *,
    village_id: uuid.UUID,
    content: RosterContent,
    actor: Actor | None,
    unit_of_work: Callable[[], UnitOfWork],
    vault: HouseholdVault,
    now: datetime,
    today: date,
    request_id: str,
    chunk_done: ChunkDone | None = None,
) -> RosterImport:
    """Import the roster's rows into the village; `actor` None is an operator at the command
    line. `chunk_done` hears of each chunk once it is saved, with its refused rows."""
    run = await _start(village_id, content, actor, unit_of_work(), now=now, today=today)
    record = run.record
    pending = _pending(items, run, vault, today, resumed_after=record.lines_done)
    for chunk in _chunks(pending, CHUNK_ROWS):
        async with unit_of_work() as uow:
            saved_up_to = record.lines_done
            errors = await _import_chunk(uow, run, vault, chunk, today)
            await uow.villages.save_import(record, saved_up_to=saved_up_to)
            await uow.commit()
        if chunk_done is not None:
            chunk_done(record, errors)
    async with unit_of_work() as uow:
        saved_up_to = record.lines_done
        record.status, record.finished_at = ImportStatus.COMPLETED, now
        await uow.villages.save_import(record, saved_up_to=saved_up_to)
        if actor is not None:
            await uow.identity.add_audit_event(_audit(actor, record, request_id, now))
        await uow.commit()
    return record


def _pending(
    items: Iterable[RosterItem],
    run: _Run,
    vault: HouseholdVault,
    today: date,
    *,
    resumed_after: int,
) -> Iterator[RosterItem]:
    """The rows after those a resumed run saved; the households of those are noted as seen,
    so a head named again after the point it stopped is refused as it would have been."""
    for item in items:
        if item.line > resumed_after:
            yield item
        elif isinstance(item, RosterRow):
            id_number = parse_id_number(item.cell(Column.ID_NUMBER), today=today)
            if id_number is not None:
                run.seen.add(vault.id_number_index(id_number.value))


def may_import(actor: Actor | None, village: Village) -> bool:
    """Credit staff of the village's institution; None is an operator at the command line."""
    return actor is None or (
        actor.is_staff
        and actor.role in ROSTER_STAFF
        and actor.institution_id == village.institution_id
    )


async def _start(
    village_id: uuid.UUID,
    content: RosterContent,
    actor: Actor | None,
    uow: UnitOfWork,
    *,
    now: datetime,
    today: date,
) -> _Run:
    """The run: the unfinished one of the same content, or a new one; with the village and a
    screener for the institution's current 吉农快贷 version at today's rate."""
    async with uow:
        village = await uow.tenancy.village(village_id)
        if village is None or (
            actor is not None and not actor.may_see_staff_of(village.institution_id)
        ):
            raise DomainError(ErrorCode.NOT_FOUND, field=("villageId",))
        if not may_import(actor, village):
            raise PermissionDenied
        product = await uow.products.latest(village.institution_id, SCREENING_PRODUCT)
        if product is None or not product.active:
            raise DomainError(ErrorCode.PRODUCT_NOT_OFFERED, field=("villageId",))
        rate, _ = await contract_rate(uow, product.terms, today)
        record = await uow.villages.unfinished_import(
            village.institution_id, village.id, content.digest
        )
        if record is None:
            record = _new_record(village, content, actor, now)
            await uow.villages.add_import(record)
            await uow.commit()
    screener = Screener.of(product, annual_rate=rate, today=today)
    return _Run(record, village, screener, actor, now)


async def _import_chunk(
    uow: UnitOfWork, run: _Run, vault: HouseholdVault, chunk: Sequence[RosterItem], today: date
) -> list[RowError]:
    """Check, match, screen and write one chunk; count it on the run's record. The refused.

    Checking, encrypting and screening are pure computation: they run in a worker thread, so a
    server importing a roster goes on answering its other requests meanwhile."""
    accepted, errors = await asyncio.to_thread(_checked, run, vault, chunk, today)
    institution_id = run.village.institution_id
    indexes = [index for _, index in accepted]
    known = {
        each.id_number_bidx: each
        for each in await uow.villages.households_by_index(institution_id, indexes, lock=True)
    }
    blacklisted = await uow.credit_lists.blacklisted_among(institution_id, indexes, today)
    entry_ids = [each.whitelist_entry_id for each in known.values() if each.whitelist_entry_id]
    entries = {each.id: each for each in await uow.credit_lists.by_ids(entry_ids)}
    signed_up = {
        each.id_number_bidx: each.id
        for each in await uow.customers.by_id_number_bidx(institution_id, indexes)
    }
    writes = await asyncio.to_thread(
        _writes, run, vault, accepted, _Known(known, blacklisted, entries, signed_up), today
    )
    await writes.flush(uow)
    _count(run.record, chunk, errors, writes)
    return errors


@dataclass(frozen=True, slots=True)
class _Known:
    """What the database holds of a chunk's households: by blind index, the households, those
    blacklisted and the customers signed up; their whitelist entries by id."""

    households: dict[bytes, Household]
    blacklisted: set[bytes]
    entries: dict[uuid.UUID, CreditListEntry]
    signed_up: dict[bytes, uuid.UUID]


def _writes(
    run: _Run,
    vault: HouseholdVault,
    accepted: list[tuple[HouseholdFacts, bytes]],
    known: _Known,
    today: date,
) -> _Writes:
    """What the chunk's good rows write, each against what the database holds of it."""
    writes = _Writes()
    for facts, index in accepted:
        existing = known.households.get(index)
        digest = vault.digest(facts)
        if existing and existing.digest == digest and existing.village_id == run.village.id:
            run.record.unchanged += 1
        elif existing and existing.accepted_at:
            screening = _screening_of(existing)
            household = _household(run, vault, facts, index, digest, screening, existing)
            writes.changed.append(_carried_over(household, existing, offer=True))
        else:
            screening = run.screener.screen(facts, blacklisted=index in known.blacklisted)
            household = _household(run, vault, facts, index, digest, screening, existing)
            if existing is not None:
                household = _carried_over(household, existing, offer=False)
            household.customer_id = household.customer_id or known.signed_up.get(index)
            writes.screened(run, facts, household, known.entries, today, previous=existing)
    return writes


def _checked(
    run: _Run, vault: HouseholdVault, chunk: Sequence[RosterItem], today: date
) -> tuple[list[tuple[HouseholdFacts, bytes]], list[RowError]]:
    """The chunk's good rows with their blind indexes, and every fault of the others. A
    household named again in the same run is refused the second time."""
    accepted: list[tuple[HouseholdFacts, bytes]] = []
    errors: list[RowError] = []
    for item in chunk:
        checked = check_row(item, today=today) if isinstance(item, RosterRow) else [item]
        if isinstance(checked, list):
            errors.extend(checked)
            continue
        index = vault.id_number_index(checked.id_number.value)
        if index in run.seen:
            errors.append(RowError(checked.line, Column.ID_NUMBER, ErrorCode.DUPLICATE_HOUSEHOLD))
            continue
        run.seen.add(index)
        accepted.append((checked, index))
    return accepted, errors


@dataclass(slots=True)
class _Writes:
    """What one chunk writes: households new and changed, whitelist entries new and changed."""

    new: list[Household] = field(default_factory=list)
    changed: list[Household] = field(default_factory=list)
    new_entries: list[CreditListEntry] = field(default_factory=list)
    changed_entries: list[CreditListEntry] = field(default_factory=list)
    pre_approved: int = 0

    def screened(
        self,
        run: _Run,
        facts: HouseholdFacts,
        household: Household,
        entries: dict[uuid.UUID, CreditListEntry],
        today: date,
        *,
        previous: Household | None,
    ) -> None:
        """A household screened by this run (new, or `previous` as it was), with its whitelist
        entry as the screening has it."""
        held = household.whitelist_entry_id
        entry = entries.get(held) if held else None
        if entry is not None and entry.revoked_at is not None:
            if previous is not None and previous.outcome is ScreeningOutcome.PRE_APPROVED:
                entry = None  # revoked by staff while pre-approved: never granted back here
            else:
                entry = _whitelist(run, facts, household, None, today)  # a fresh grant
        else:
            entry = _whitelist(run, facts, household, entry, today)
        if entry is not None and entry.id != held:
            household.whitelist_entry_id = entry.id
            self.new_entries.append(entry)
        elif entry is not None:
            self.changed_entries.append(entry)
        (self.new if previous is None else self.changed).append(household)
        if household.outcome is ScreeningOutcome.PRE_APPROVED:
            self.pre_approved += 1

    async def flush(self, uow: UnitOfWork) -> None:
        await uow.credit_lists.add_many(self.new_entries)
        await uow.villages.add_households(self.new)
        await uow.villages.save_households(self.changed)
        await uow.credit_lists.save_many(self.changed_entries)


def _household(
    run: _Run,
    vault: HouseholdVault,
    facts: HouseholdFacts,
    index: bytes,
    digest: bytes,
    screening: Screening,
    existing: Household | None = None,
) -> Household:
    """The household the row and its screening make, under the id it has or a new one."""
    household_id = existing.id if existing is not None else new_id()
    head = vault.seal(household_id, facts)
    screener = run.screener
    pre_approved = screening.outcome is ScreeningOutcome.PRE_APPROVED
    return Household(
        id=household_id,
        institution_id=run.village.institution_id,
        village_id=run.village.id,
        name_ct=head.name_ct,
        id_number_ct=head.id_number_ct,
        phone_ct=head.phone_ct,
        id_number_bidx=index,
        key_id=head.key_id,
        gender=facts.id_number.gender,
        birth_date=facts.id_number.birth_date,
        family_size=facts.family_size,
        land_area=facts.land_area,
        main_business=facts.main_business,
        annual_income=facts.annual_income,
        existing_debts=facts.existing_debts,
        peer_rating=facts.peer_rating,
        reviewed_on=facts.reviewed_on,
        reviewers=facts.reviewers,
        digest=digest,
        product_id=screener.product.id,
        outcome=screening.outcome,
        score=screening.score,
        grade=screening.grade,
        reasons=screening.reasons,
        pre_approved_limit=screening.limit,
        screened_on=screener.today,
        offer_expires_on=(
            due_date(screener.today, screener.product.terms.credit_line_months)
            if pre_approved
            else None
        ),
        whitelist_entry_id=None,
        customer_id=None,
        accepted_at=None,
        credit_line_id=None,
        created_at=run.now,
        updated_at=run.now,
    )


def _carried_over(household: Household, existing: Household, *, offer: bool) -> Household:
    """`household` keeping what `existing` has beyond the roster row: its links, and with
    `offer` its accepted offer as it was made."""
    kept = replace(
        household,
        whitelist_entry_id=existing.whitelist_entry_id,
        customer_id=existing.customer_id,
        accepted_at=existing.accepted_at,
        credit_line_id=existing.credit_line_id,
        created_at=existing.created_at,
    )
    if not offer:
        return kept
    return replace(
        kept,
        product_id=existing.product_id,
        screened_on=existing.screened_on,
        offer_expires_on=existing.offer_expires_on,
    )


def _screening_of(household: Household) -> Screening:
    return Screening(
        household.outcome,
        household.score,
        household.grade,
        household.pre_approved_limit,
        household.reasons,
    )


def _whitelist(
    run: _Run,
    facts: HouseholdFacts,
    household: Household,
    entry: CreditListEntry | None,
    today: date,
) -> CreditListEntry | None:
    """The household's whitelist entry as its screening makes it, from its entry in force (or
    None): a new one for a household newly pre-approved, its entry with the new line and
    expiry, or its entry revoked when the household is now declined. None when there is
    nothing to write."""
    limit = household.pre_approved_limit
    if household.outcome is not ScreeningOutcome.PRE_APPROVED or limit is None:
        if entry is None:
            return None
        entry.revoked_at, entry.revoked_by = run.now, _staff_id(run.actor)
        return entry
    if entry is not None:
        entry.limit_amount, entry.valid_from = limit, today
        entry.valid_until = household.offer_expires_on
        return entry
    return CreditListEntry(
        id=new_id(),
        institution_id=household.institution_id,
        kind=ListKind.WHITELIST,
        id_number_bidx=household.id_number_bidx,
        id_number_masked=mask_id_number(facts.id_number.value),
        source=WHITELIST_SOURCE,
        reason=f"{run.village.name}整村授信预授信"[:200],
        valid_from=today,
        valid_until=household.offer_expires_on,
        limit_amount=limit,
        created_by=_staff_id(run.actor),
        created_at=run.now,
    )


def _count(
    record: RosterImport, chunk: Sequence[RosterItem], errors: Sequence[RowError], writes: _Writes
) -> None:
    record.lines_done = max(item.line for item in chunk)
    record.rows += len(chunk)
    record.inserted += len(writes.new)
    record.updated += len(writes.changed)
    record.pre_approved += writes.pre_approved
    record.refused += len({error.line for error in errors})
    room = MAX_KEPT_ERRORS - len(record.errors)
    record.errors.extend(
        RefusedRow(error.line, error.column.value if error.column else None, error.code.value)
        for error in errors[: max(room, 0)]
    )


def _new_record(
    village: Village, content: RosterContent, actor: Actor | None, now: datetime
) -> RosterImport:
    return RosterImport(
        id=new_id(),
        institution_id=village.institution_id,
        village_id=village.id,
        source=content.source,
        name=content.name[:200],
        digest=content.digest,
        status=ImportStatus.RUNNING,
        lines_done=0,
        rows=0,
        inserted=0,
        updated=0,
        unchanged=0,
        refused=0,
        pre_approved=0,
        errors=[],
        imported_by=_staff_id(actor),
        started_at=now,
        finished_at=None,
    )


def _audit(actor: Actor, record: RosterImport, request_id: str, now: datetime) -> AuditEvent:
    return AuditEvent.of(
        actor,
        "village.roster_import",
        institution_id=record.institution_id,
        subject_type="RosterImport",
        subject_id=str(record.id),
        request_id=request_id,
        now=now,
        details={
            "villageId": str(record.village_id),
            "rows": record.rows,
            "inserted": record.inserted,
            "updated": record.updated,
            "refused": record.refused,
        },
    )


def _staff_id(actor: Actor | None) -> uuid.UUID | None:
    return actor.id if actor is not None and actor.is_staff else None


def _chunks(items: Iterable[RosterItem], size: int) -> Iterator[list[RosterItem]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
