"""Villages' ratings, the households of their rosters, and what screening made of each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from jikuai.domain.customers.identity_numbers import Gender


class PeerRating(StrEnum):
    """A household's rating by the village's peer review (信用户评定)."""

    EXCELLENT = "EXCELLENT"  # 优秀信用户
    GOOD = "GOOD"  # 良好信用户
    FAIR = "FAIR"  # 一般信用户
    POOR = "POOR"  # 较差, not a credit household


class ScreeningOutcome(StrEnum):
    PRE_APPROVED = "PRE_APPROVED"  # 预授信
    DECLINED = "DECLINED"


@dataclass(frozen=True, slots=True)
class Screening:
    """What the 吉农快贷 decision made of a household: its score and grade, and the line it was
    pre-approved for (None when declined, with the reasons)."""

    outcome: ScreeningOutcome
    score: int | None
    grade: str | None
    limit: Decimal | None
    reasons: str


@dataclass(slots=True)
class Household:
    """A household of a village's roster, identified by its head's ID number (by blind index).

    The head's name, ID number and phone are kept encrypted; `digest` is a keyed hash of the
    whole roster row as last imported, so the same row imported again is recognised without
    decrypting anything.
    """

    id: uuid.UUID
    institution_id: uuid.UUID
    village_id: uuid.UUID
    name_ct: bytes
    id_number_ct: bytes
    phone_ct: bytes
    id_number_bidx: bytes
    key_id: int
    gender: Gender
    birth_date: date
    family_size: int
    land_area: Decimal  # 亩
    main_business: str
    annual_income: Decimal
    existing_debts: Decimal
    peer_rating: PeerRating
    reviewed_on: date
    reviewers: str
    digest: bytes
    product_id: uuid.UUID
    outcome: ScreeningOutcome
    score: int | None
    grade: str | None
    reasons: str
    pre_approved_limit: Decimal | None
    screened_on: date
    offer_expires_on: date | None
    whitelist_entry_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    accepted_at: datetime | None
    credit_line_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime

    def offer_open_on(self, day: date) -> bool:
        """Whether the pre-approved line can still be accepted on `day`."""
        return (
            self.outcome is ScreeningOutcome.PRE_APPROVED
            and self.accepted_at is None
            and self.offer_expires_on is not None
            and day <= self.offer_expires_on
        )


@dataclass(frozen=True, slots=True)
class VillageProgress:
    """How far whole-village credit has come in a village, branch or institution."""

    households: int  # on the rosters
    screened: int  # rated by the scorecard (评级): the admission rules let them through
    pre_approved: int
    pre_approved_limit: Decimal
    registered: int  # signed up in the app with a matching ID number
    activated: int  # accepted the offer
    drawn: int  # drew on a line of the product at least once


NO_PROGRESS = VillageProgress(0, 0, 0, Decimal("0.00"), 0, 0, 0)


class RosterSource(StrEnum):
    FILE = "FILE"  # a CSV or XLSX file, from the command line or the staff console
    BATCH = "BATCH"  # a sealed batch of rows from the field app


class ImportStatus(StrEnum):
    RUNNING = "RUNNING"  # or stopped part-way; the same file resumes it
    COMPLETED = "COMPLETED"


@dataclass(frozen=True, slots=True)
class RefusedRow:
    line: int
    column: str | None
    code: str


@dataclass(slots=True)
class RosterImport:
    """One run of a roster import and what it has done so far; saved with each chunk of rows,
    so a run that stops part-way resumes after `lines_done`."""

    id: uuid.UUID
    institution_id: uuid.UUID
    village_id: uuid.UUID
    source: RosterSource
    name: str
    digest: bytes
    status: ImportStatus
    lines_done: int
    rows: int
    inserted: int
    updated: int
    unchanged: int
    refused: int
    pre_approved: int
    errors: list[RefusedRow]  # the first MAX_KEPT_ERRORS; `refused` counts them all
    imported_by: uuid.UUID | None
    started_at: datetime
    finished_at: datetime | None
