"""Whole-village credit (整村授信): villages, their rosters and imports, progress, and the
pre-approved farmer's offer."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload
from strawberry.types import Info

from jikuai.domain.customers.identity_numbers import Gender, age_on
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.domain.tenancy import model as tenancy
from jikuai.domain.villages import model
from jikuai.domain.villages.management import VillageDetails
from jikuai.domain.villages.offers import Offer
from jikuai.domain.villages.rosters import RowError
from jikuai.resolvers import villages as resolve
from jikuai.resolvers.context import Context
from jikuai.schema.credit.loans import CreditLine, LoanApplication
from jikuai.schema.credit.products import LoanProduct
from jikuai.schema.errors import UserError, message_for, user_errors
from jikuai.schema.relay import (
    Connection,
    Node,
    after_cursor,
    input_id,
    optional_input_id,
    to_global_id,
)
from jikuai.schema.scalars import Sealed
from jikuai.schema.tenancy import Branch

strawberry.enum(
    tenancy.VillageRating, name="VillageRating", description="信用村 grade of a village."
)
strawberry.enum(
    model.PeerRating,
    name="PeerRating",
    description="A household's rating by the village peer review (信用户评定): 优秀, 良好, "
    "一般, 较差.",
)
strawberry.enum(
    model.ScreeningOutcome,
    name="ScreeningOutcome",
    description="What screening made of a household: pre-approved (预授信) or declined.",
)
strawberry.enum(
    model.RosterSource, name="RosterSource", description="A file, or a field app's batch."
)
strawberry.enum(
    model.ImportStatus,
    name="RosterImportStatus",
    description="Running (or stopped part-way: the same content resumes it), or completed.",
)


@strawberry.type(description="How far whole-village credit has come (整村授信进度).")
class VillageCreditProgress:
    households: int = strawberry.field(description="Households on the rosters (建档户数).")
    screened: int = strawberry.field(
        description="Households rated by the scorecard (评级户数): those the admission rules "
        "let through."
    )
    pre_approved: int = strawberry.field(description="Households pre-approved (授信户数).")
    pre_approved_limit: Decimal = strawberry.field(
        description="Their pre-approved lines in total (授信总额), CNY."
    )
    registered: int = strawberry.field(
        description="Heads of household who signed up in the app with their ID number."
    )
    activated: int = strawberry.field(description="Households that accepted the offer (激活).")
    drawn: int = strawberry.field(
        description="Households that drew on a line of the product (用信户数)."
    )

    @classmethod
    def of(cls, progress: model.VillageProgress) -> VillageCreditProgress:
        return cls(
            households=progress.households,
            screened=progress.screened,
            pre_approved=progress.pre_approved,
            pre_approved_limit=progress.pre_approved_limit,
            registered=progress.registered,
            activated=progress.activated,
            drawn=progress.drawn,
        )


@strawberry.type(description="An administrative village (行政村) in whole-village credit.")
class Village(Node):
    code: str = strawberry.field(description="Its code, unique in the province.")
    name: str = strawberry.field(description="Its name, e.g. 保寿村.")
    committee_contact: str | None = strawberry.field(
        description="The village committee's contact (村委会联系人), e.g. 村委会主任."
    )
    committee_phone: str | None = strawberry.field(description="The committee's office phone.")
    credit_rating: tenancy.VillageRating | None = strawberry.field(
        description="Its credit village grade (信用村评定), if rated."
    )
    rated_on: datetime.date | None = strawberry.field(description="When it was rated.")
    raters: str | None = strawberry.field(description="Who rated it (评定小组).")
    _village: strawberry.Private[tenancy.Village]

    @classmethod
    def of(cls, village: tenancy.Village) -> Village:
        return cls(
            id=to_global_id("Village", village.id),
            code=village.code,
            name=village.name,
            committee_contact=village.committee_contact,
            committee_phone=village.committee_phone,
            credit_rating=village.credit_rating,
            rated_on=village.rated_on,
            raters=village.raters,
            _village=village,
        )

    @strawberry.field(description="The branch that serves it (网点).")
    async def branch(self, info: Info[Context, None]) -> Branch | None:
        found = await info.context.loaders.branch_by_id.load(self._village.branch_id)
        return Branch.of(found) if found else None

    @strawberry.field(description="How far whole-village credit has come here.")
    async def credit_progress(self, info: Info[Context, None]) -> VillageCreditProgress:
        found = await info.context.loaders.village_progress.load(self._village.id)
        return VillageCreditProgress.of(found)

    @strawberry.field(description="The households of its roster (花名册), masked.")
    async def households(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> Connection[VillageHousehold]:
        page = await resolve.household_page(
            info.context, self._village, first=first, after=after_cursor(after)
        )
        context = info.context
        return Connection[VillageHousehold].of_rows(
            page.items,
            lambda each: VillageHousehold.of(each, context),
            has_next_page=page.has_next_page,
            after=after is not None,
        )

    @strawberry.field(description="Its roster imports, newest first.")
    async def roster_imports(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> Connection[RosterImport]:
        page = await resolve.import_page(
            info.context, self._village, first=first, after=after_cursor(after)
        )
        return Connection[RosterImport].of_rows(
            page.items,
            lambda each: RosterImport.of(each, info.context.language),
            has_next_page=page.has_next_page,
            after=after is not None,
        )


@strawberry.type(description="A household of a village's roster and what screening made of it.")
class VillageHousehold(Node):
    name_masked: str = strawberry.field(description="Head of household (户主), * + last.")
    id_number_masked: str = strawberry.field(description="ID number, first 1 and last 1.")
    phone_masked: str = strawberry.field(description="Mobile, first 3 and last 4.")
    gender: Gender = strawberry.field(description="The head's gender.")
    age: int = strawberry.field(description="The head's age today.")
    family_size: int = strawberry.field(description="People in the household (家庭人口).")
    land_area: Decimal = strawberry.field(description="Land in mu (耕地面积, 亩).")
    main_business: str = strawberry.field(description="Main business (主营业务).")
    annual_income: Decimal = strawberry.field(description="Estimated income a year, CNY.")
    existing_debts: Decimal = strawberry.field(description="What it owes elsewhere, CNY.")
    peer_rating: model.PeerRating = strawberry.field(description="Peer review (信用户评定).")
    reviewed_on: datetime.date = strawberry.field(description="When the peer review was held.")
    reviewers: str = strawberry.field(description="The review panel (评议小组).")
    outcome: model.ScreeningOutcome = strawberry.field(description="Screening's outcome.")
    score: int | None = strawberry.field(description="吉农快贷 score, if it was scored.")
    grade: str | None = strawberry.field(description="Rating grade (评级), if scored.")
    decline_reasons: list[str] = strawberry.field(
        description="Why it was declined: the admission rules' reason codes."
    )
    pre_approved_limit: Decimal | None = strawberry.field(
        description="The pre-approved line (预授信额度), CNY."
    )
    screened_on: datetime.date = strawberry.field(description="When it was screened.")
    offer_expires_on: datetime.date | None = strawberry.field(
        description="The last day the offer may be accepted."
    )
    registered: bool = strawberry.field(description="The head signed up in the app.")
    accepted_at: datetime.datetime | None = strawberry.field(
        description="When the offer was accepted (激活)."
    )

    @classmethod
    def of(cls, household: model.Household, context: Context) -> VillageHousehold:
        name, id_number, phone = resolve.masked_head(context, household)
        return cls(
            id=to_global_id("VillageHousehold", household.id),
            name_masked=name,
            id_number_masked=id_number,
            phone_masked=phone,
            gender=household.gender,
            age=age_on(household.birth_date, context.today),
            family_size=household.family_size,
            land_area=household.land_area,
            main_business=household.main_business,
            annual_income=household.annual_income,
            existing_debts=household.existing_debts,
            peer_rating=household.peer_rating,
            reviewed_on=household.reviewed_on,
            reviewers=household.reviewers,
            outcome=household.outcome,
            score=household.score,
            grade=household.grade,
            decline_reasons=[each for each in household.reasons.split(",") if each],
            pre_approved_limit=household.pre_approved_limit,
            screened_on=household.screened_on,
            offer_expires_on=household.offer_expires_on,
            registered=household.customer_id is not None,
            accepted_at=household.accepted_at,
        )


@strawberry.type(description="Why one row of a roster was refused.")
class RosterRowError:
    line: int = strawberry.field(
        description="The row's line in the file (the header is line 1), or its position in "
        "the batch from 1."
    )
    column: str | None = strawberry.field(
        description="The column at fault (`id_number`, `phone`, …), if one is."
    )
    code: ErrorCode = strawberry.field(description="Stable code for programs.")
    message: str = strawberry.field(description="Message for people, in the request's language.")

    @classmethod
    def of(cls, line: int, column: str | None, code: ErrorCode, language: str) -> RosterRowError:
        return cls(line=line, column=column, code=code, message=message_for(code, language))

    @classmethod
    def of_error(cls, error: RowError, language: str) -> RosterRowError:
        column = error.column.value if error.column else None
        return cls.of(error.line, column, error.code, language)


@strawberry.type(description="One run of a roster import (花名册导入).")
class RosterImport(Node):
    source: model.RosterSource = strawberry.field(description="A file or a field app's batch.")
    name: str = strawberry.field(description="The file's name.")
    status: model.ImportStatus = strawberry.field(description="Running or completed.")
    rows: int = strawberry.field(description="Rows read so far.")
    inserted: int = strawberry.field(description="Households new to the platform.")
    updated: int = strawberry.field(description="Known households whose row changed.")
    unchanged: int = strawberry.field(description="Known households imported as they were.")
    refused: int = strawberry.field(description="Rows refused.")
    pre_approved: int = strawberry.field(description="Households it pre-approved.")
    errors: list[RosterRowError] = strawberry.field(
        description="The first 1,000 refused rows' faults."
    )
    started_at: datetime.datetime = strawberry.field(description="When it started.")
    finished_at: datetime.datetime | None = strawberry.field(description="When it completed.")

    @classmethod
    def of(cls, record: model.RosterImport, language: str) -> RosterImport:
        return cls(
            id=to_global_id("RosterImport", record.id),
            source=record.source,
            name=record.name,
            status=record.status,
            rows=record.rows,
            inserted=record.inserted,
            updated=record.updated,
            unchanged=record.unchanged,
            refused=record.refused,
            pre_approved=record.pre_approved,
            errors=[
                RosterRowError.of(each.line, each.column, ErrorCode(each.code), language)
                for each in record.errors
            ],
            started_at=record.started_at,
            finished_at=record.finished_at,
        )


@strawberry.type(description="A pre-approved line (预授信) the farmer may accept in one step.")
class VillageCreditOffer:
    village_name: str = strawberry.field(description="The village whose roster it came from.")
    limit_amount: Decimal = strawberry.field(description="The pre-approved line, CNY.")
    grade: str | None = strawberry.field(description="The household's rating grade (评级).")
    expires_on: datetime.date = strawberry.field(description="The last day to accept it.")
    product: LoanProduct = strawberry.field(description="The product, 吉农快贷.")

    @classmethod
    def of(cls, offer: Offer) -> VillageCreditOffer | None:
        household = offer.household
        if household.pre_approved_limit is None or household.offer_expires_on is None:
            return None
        return cls(
            village_name=offer.village.name,
            limit_amount=household.pre_approved_limit,
            grade=household.grade,
            expires_on=household.offer_expires_on,
            product=LoanProduct.of(offer.product),
        )


@strawberry.input(description="What the bank keeps of a village.")
class VillageDetailsInput:
    name: str = strawberry.field(description="Its name, 1–100 characters.")
    branch_id: strawberry.ID = strawberry.field(description="The branch that serves it.")
    committee_contact: str | None = strawberry.field(
        default=None, description="The committee's contact (a title), up to 60 characters."
    )
    committee_phone: str | None = strawberry.field(
        default=None, description="The committee's office phone."
    )
    credit_rating: tenancy.VillageRating | None = strawberry.field(
        default=None, description="Its credit village grade; with `ratedOn`."
    )
    rated_on: datetime.date | None = strawberry.field(
        default=None, description="When it was rated; not in the future."
    )
    raters: str | None = strawberry.field(
        default=None, description="Who rated it, up to 100 characters."
    )

    def details(self) -> VillageDetails:
        return VillageDetails(
            name=self.name,
            branch_id=input_id(self.branch_id, "Branch"),
            committee_contact=self.committee_contact,
            committee_phone=self.committee_phone,
            credit_rating=self.credit_rating,
            rated_on=self.rated_on,
            raters=self.raters,
        )


@strawberry.input(description="A new village of the staff member's institution.")
class CreateVillageInput:
    code: str = strawberry.field(description="Its code: 1–32 letters, digits, _ or -.")
    village: VillageDetailsInput = strawberry.field(description="What is kept of it.")


@strawberry.input(description="A village's details, all of them as they now are.")
class UpdateVillageInput:
    village_id: strawberry.ID = strawberry.field(description="The village.")
    village: VillageDetailsInput = strawberry.field(description="What is kept of it.")


@strawberry.type(description="Result of a village mutation.")
class VillagePayload:
    village: Village | None = strawberry.field(description="The village.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(
    description="A village's roster: a CSV or XLSX file (the staff console), or a sealed batch "
    "of rows (the field app); exactly one."
)
class ImportVillageRosterInput:
    village_id: strawberry.ID = strawberry.field(description="The village.")
    file: Upload | None = strawberry.field(
        default=None,
        description="The roster file, sent by the GraphQL multipart request spec; the header "
        "names the columns, as `jikuai village import --help` lists them.",
    )
    sealed_rows: Sealed | None = strawberry.field(
        default=None,
        description="A JSON array of at most 1,000 row objects keyed by the column names "
        "(`name`, `id_number`, `phone`, …), sealed for field `sealedRows`.",
    )


@strawberry.type(description="Result of `importVillageRoster`.")
class ImportVillageRosterPayload:
    roster_import: RosterImport | None = strawberry.field(description="The import's run.")
    row_errors: list[RosterRowError] = strawberry.field(
        description="Every fault of the rows this call refused; the other rows were imported."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was imported, if nothing was."
    )


@strawberry.type(description="Result of `acceptVillageCreditOffer`.")
class AcceptVillageCreditOfferPayload:
    application: LoanApplication | None = strawberry.field(
        description="The application made for the line, as decided."
    )
    credit_line: CreditLine | None = strawberry.field(
        description="The line, open at once when approved automatically."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type
class VillageQuery:
    @strawberry.field(description="Villages in whole-village credit (credit and province staff).")
    async def villages(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        institution_id: strawberry.ID | None = None,
        branch_id: strawberry.ID | None = None,
    ) -> Connection[Village]:
        page = await resolve.village_page(
            info.context,
            institution_id=optional_input_id(institution_id, "Institution"),
            branch_id=optional_input_id(branch_id, "Branch"),
            first=first,
            after=after_cursor(after),
        )
        return Connection[Village].of_rows(
            page.items, Village.of, has_next_page=page.has_next_page, after=after is not None
        )

    @strawberry.field(
        description="Whole-village credit's progress (整村授信进度) in one village, branch or "
        "institution; with none named, the viewer's institution (province staff: the province)."
    )
    async def village_credit_progress(
        self,
        info: Info[Context, None],
        village_id: strawberry.ID | None = None,
        branch_id: strawberry.ID | None = None,
        institution_id: strawberry.ID | None = None,
    ) -> VillageCreditProgress | None:
        found = await resolve.progress(
            info.context,
            institution_id=optional_input_id(institution_id, "Institution"),
            branch_id=optional_input_id(branch_id, "Branch"),
            village_id=optional_input_id(village_id, "Village"),
        )
        return VillageCreditProgress.of(found) if found else None

    @strawberry.field(
        description="The signed-up farmer's pre-approved line from whole-village credit, while "
        "it may be accepted (customers)."
    )
    async def my_village_credit_offer(self, info: Info[Context, None]) -> VillageCreditOffer | None:
        found = await resolve.offer(info.context)
        return VillageCreditOffer.of(found) if found else None


@strawberry.type
class VillageMutation:
    @strawberry.mutation(description="Add a village (institution admins, branch managers).")
    async def create_village(
        self, info: Info[Context, None], input: CreateVillageInput
    ) -> VillagePayload:
        attempt = await resolve.create_village(info.context, input.code, input.village.details())
        return _village_payload(attempt.result, attempt.errors, info.context.language)

    @strawberry.mutation(
        description="Change a village's details and credit rating (institution admins, branch "
        "managers)."
    )
    async def update_village(
        self, info: Info[Context, None], input: UpdateVillageInput
    ) -> VillagePayload:
        attempt = await resolve.update_village(
            info.context, input_id(input.village_id, "Village"), input.village.details()
        )
        return _village_payload(attempt.result, attempt.errors, info.context.language)

    @strawberry.mutation(
        description="Import a village's household roster (花名册导入): each row is checked, "
        "matched to a known household, encrypted, screened with 吉农快贷 and given a "
        "pre-approved line and a whitelist entry. The same content again resumes or changes "
        "nothing. For credit staff of the village's institution."
    )
    async def import_village_roster(
        self, info: Info[Context, None], input: ImportVillageRosterInput
    ) -> ImportVillageRosterPayload:
        context = info.context
        village_id = input_id(input.village_id, "Village")
        upload, sealed = input.file, input.sealed_rows
        if isinstance(upload, UploadFile) and sealed is None:
            name = upload.filename or "roster"
            attempt = await resolve.import_file(context, village_id, upload.file, name)
        elif upload is None and sealed is not None:
            attempt = await resolve.import_batch(context, village_id, sealed)
        else:
            return ImportVillageRosterPayload(
                roster_import=None,
                row_errors=[],
                user_errors=user_errors(
                    [DomainError(ErrorCode.REQUIRED, field=("file",))], context.language
                ),
            )
        record, refused = attempt.result or (None, [])
        return ImportVillageRosterPayload(
            roster_import=RosterImport.of(record, context.language) if record else None,
            row_errors=[RosterRowError.of_error(each, context.language) for each in refused],
            user_errors=user_errors(attempt.errors, context.language),
        )

    @strawberry.mutation(
        description="Accept the pre-approved line (接受预授信) in one step: 吉农快贷 decides on "
        "the farmer's record, and an automatic approval opens the line at once (customers)."
    )
    async def accept_village_credit_offer(
        self, info: Info[Context, None]
    ) -> AcceptVillageCreditOfferPayload:
        attempt = await resolve.accept_offer(info.context)
        accepted = attempt.result
        return AcceptVillageCreditOfferPayload(
            application=LoanApplication.of(accepted.application) if accepted else None,
            credit_line=CreditLine.of(accepted.credit_line)
            if accepted and accepted.credit_line
            else None,
            user_errors=user_errors(attempt.errors, info.context.language),
        )


def _village_payload(
    village: tenancy.Village | None, errors: Sequence[DomainError], language: str
) -> VillagePayload:
    return VillagePayload(
        village=Village.of(village) if village else None, user_errors=user_errors(errors, language)
    )
