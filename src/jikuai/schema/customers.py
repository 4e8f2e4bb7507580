"""Customers (客户): registration through the digital envelope, masked reads, sealed reveals."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import strawberry
from strawberry.types import Info

from jikuai.domain.customers import model
from jikuai.domain.customers.identity_numbers import Gender, age_on
from jikuai.resolvers import credit as resolve_credit
from jikuai.resolvers import customers as resolve
from jikuai.resolvers import tenancy as resolve_tenancy
from jikuai.resolvers.context import Context
from jikuai.schema.credit.loans import CreditLine, Loan, LoanApplication
from jikuai.schema.enums import Segment
from jikuai.schema.errors import UserError, user_errors
from jikuai.schema.plan import batched
from jikuai.schema.relay import (
    Connection,
    Node,
    after_cursor,
    local_id,
    optional_input_id,
    to_global_id,
)
from jikuai.schema.scalars import Sealed
from jikuai.schema.tenancy import Institution

strawberry.enum(model.SensitiveField, name="SensitiveField", description="A protected field.")
strawberry.enum(Gender, name="Gender", description="Gender (性别), from the ID number.")


async def _credit_lines(context: Context, customers: Sequence[Customer]) -> list[list[CreditLine]]:
    found = await resolve_credit.credit_lines_of(context, [each._customer.id for each in customers])
    return [[CreditLine.of(line) for line in lines] for lines in found]


async def _loans(context: Context, customers: Sequence[Customer]) -> list[list[Loan]]:
    found = await resolve_credit.loans_of(context, [each._customer.id for each in customers])
    return [[Loan.of(loan) for loan in loans] for loans in found]


async def _applications(
    context: Context, customers: Sequence[Customer]
) -> list[list[LoanApplication]]:
    ids = [each._customer.id for each in customers]
    found = await resolve_credit.applications_of(context, ids)
    return [[LoanApplication.of(each) for each in applications] for applications in found]


async def _institutions(
    context: Context, customers: Sequence[Customer]
) -> list[Institution | LookupError]:
    ids = [each._customer.institution_id for each in customers]
    found = await resolve_tenancy.institutions_of(context, ids)
    return [each if isinstance(each, LookupError) else Institution.of(each) for each in found]


@strawberry.type(description="A retail customer (客户). Personal data is always masked.")
class Customer(Node):
    segment: Segment = strawberry.field(description="Customer segment (客群).")
    gender: Gender = strawberry.field(description="From the ID number (性别).")
    age: int = strawberry.field(description="Completed years, from the ID number (年龄).")
    referral_code: str = strawberry.field(description="Code the customer shares (推荐码).")
    created_at: datetime.datetime = strawberry.field(description="When they were registered.")
    id_number_masked: str = strawberry.field(
        description="ID number, first 1 and last 1 shown (身份证号)."
    )
    phone_masked: str = strawberry.field(description='Mobile number, e.g. "138****5678" (手机号).')
    name_masked: str = strawberry.field(description='Name, e.g. "*明" (姓名).')
    _customer: strawberry.Private[model.Customer]

    @classmethod
    def of(cls, customer: model.Customer, context: Context) -> Customer:
        """The customer as the API shows it.

        The masked values are computed here rather than in field resolvers: three decryptions
        cost less than the resolver machinery of three fields, selected or not.
        """
        masked = context.services.vault.masked_identity(customer)
        return cls(
            id=to_global_id("Customer", customer.id),
            segment=customer.segment,
            gender=customer.gender,
            age=age_on(customer.birth_date, context.today),
            referral_code=customer.referral_code,
            created_at=customer.created_at,
            id_number_masked=masked.id_number,
            phone_masked=masked.phone,
            name_masked=masked.name,
            _customer=customer,
        )

    credit_lines: list[CreditLine] = batched(
        _credit_lines,
        description="The customer's credit lines (授信).",
    )
    loans: list[Loan] = batched(
        _loans,
        description="The customer's loans (贷款), oldest first.",
    )
    loan_applications: list[LoanApplication] = batched(
        _applications,
        description="The customer's loan applications (贷款申请), oldest first.",
    )
    institution: Institution = batched(
        _institutions,
        description="The institution the customer banks with.",
    )


@strawberry.input(description="Narrows `customers`; sealed values are matched by blind index.")
class CustomerFilter:
    segment: Segment | None = strawberry.field(default=None, description="Only this segment.")
    village_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this village (行政村)."
    )
    id_number: Sealed | None = strawberry.field(
        default=None, description="Exactly this ID number, sealed for field `idNumber`."
    )
    phone: Sealed | None = strawberry.field(
        default=None, description="Exactly this mobile number, sealed for field `phone`."
    )


@strawberry.input(description="A new customer; name, ID number and phone arrive sealed.")
class RegisterCustomerInput:
    name: Sealed = strawberry.field(description="Name (姓名), 2–30 characters, sealed.")
    id_number: Sealed = strawberry.field(description="Resident ID number (身份证号), sealed.")
    phone: Sealed = strawberry.field(description="Mainland mobile number (手机号), sealed.")
    segment: Segment = strawberry.field(description="Customer segment (客群).")
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required when customers register themselves."
    )
    village_id: strawberry.ID | None = strawberry.field(
        default=None, description="The customer's village, in the same institution."
    )
    referrer_code: str | None = strawberry.field(
        default=None, description="Referral code of the customer who referred them (推荐码)."
    )


@strawberry.type(description="Result of `registerCustomer`.")
class RegisterCustomerPayload:
    customer: Customer | None = strawberry.field(description="The new customer, on success.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="Which fields to reveal, sealed to the caller's own RSA public key.")
class RevealCustomerInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    fields: list[model.SensitiveField] = strawberry.field(description="Fields to reveal.")
    public_key_pem: str = strawberry.field(description="SPKI PEM of an RSA key, 2048 bits or more.")


@strawberry.type(description="One revealed field, as a JWE only the caller's private key opens.")
class SealedField:
    field: model.SensitiveField = strawberry.field(description="Which field.")
    jwe: str = strawberry.field(description="JWE compact string sealed to the given public key.")


@strawberry.type(description="Result of `revealCustomer`.")
class RevealCustomerPayload:
    sealed: list[SealedField] = strawberry.field(description="One JWE per revealed field.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


def customer_or_none(customer: model.Customer | None, context: Context) -> Customer | None:
    return Customer.of(customer, context) if customer else None


@strawberry.type
class CustomerQuery:
    @strawberry.field(description="One customer; NOT_FOUND unless the viewer may see them.")
    async def customer(self, info: Info[Context, None], id: strawberry.ID) -> Customer | None:
        found = await resolve.customer(info.context, local_id(id, "Customer"))
        return Customer.of(found, info.context)

    @strawberry.field(description="Customers the viewer may see, oldest first (at most 100).")
    async def customers(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: CustomerFilter | None = None,
    ) -> Connection[Customer]:
        given = filter or CustomerFilter()
        village_id = optional_input_id(given.village_id, "Village")
        page = await resolve.customer_page(
            info.context,
            resolve.CustomerQuery(
                first=first,
                after=after_cursor(after),
                segment=given.segment,
                village_id=village_id,
                id_number=given.id_number,
                phone=given.phone,
            ),
        )
        return Connection[Customer].of_rows(
            page.customers,
            lambda each: Customer.of(each, info.context),
            has_next_page=page.has_next_page,
            after=after is not None,
        )


@strawberry.type
class CustomerMutation:
    @strawberry.mutation(description="Register a customer (客户注册), from the app or by staff.")
    async def register_customer(
        self, info: Info[Context, None], input: RegisterCustomerInput
    ) -> RegisterCustomerPayload:
        context = info.context
        outcome = await resolve.register(
            context,
            sealed={"name": input.name, "idNumber": input.id_number, "phone": input.phone},
            segment=input.segment,
            institution_id=optional_input_id(input.institution_id, "Institution"),
            village_id=optional_input_id(input.village_id, "Village"),
            referrer_code=input.referrer_code,
        )
        return RegisterCustomerPayload(
            customer=customer_or_none(outcome.result, context),
            user_errors=user_errors(outcome.errors, context.language),
        )

    @strawberry.mutation(description="Reveal fields to authorised staff, sealed and audited.")
    async def reveal_customer(
        self, info: Info[Context, None], input: RevealCustomerInput
    ) -> RevealCustomerPayload:
        context = info.context
        outcome = await resolve.reveal(
            context,
            customer_id=local_id(input.customer_id, "Customer"),
            fields=input.fields,
            public_key_pem=input.public_key_pem,
        )
        return RevealCustomerPayload(
            sealed=[SealedField(field=each.field, jwe=each.jwe) for each in outcome.result or ()],
            user_errors=user_errors(outcome.errors, context.language),
        )
