"""Who may see and do what: the tenancy rules of `Actor`."""

import uuid

import pytest

from jikuai.domain.shared.errors import PermissionDenied
from jikuai.domain.tenancy.actors import Actor, ActorKind
from jikuai.domain.tenancy.model import Role

ALPHA = uuid.uuid4()
BETA = uuid.uuid4()
PROVINCE = uuid.uuid4()
MEMBER_STAFF_ROLES = [
    Role.LOAN_OFFICER,
    Role.BRANCH_MANAGER,
    Role.RISK_OFFICER,
    Role.INSTITUTION_ADMIN,
]
REVEALING = {Role.LOAN_OFFICER, Role.RISK_OFFICER, Role.INSTITUTION_ADMIN}


def staff(role: Role, institution_id: uuid.UUID = ALPHA) -> Actor:
    return Actor(ActorKind.STAFF, uuid.uuid4(), role, institution_id)


def province_admin() -> Actor:
    return staff(Role.PROVINCE_ADMIN, PROVINCE)


def customer(customer_id: uuid.UUID | None, institution_id: uuid.UUID | None = ALPHA) -> Actor:
    """A WeChat account; `customer_id` None until it has registered."""
    return Actor(ActorKind.CUSTOMER, uuid.uuid4(), Role.CUSTOMER, institution_id, customer_id)


# Seeing customers


@pytest.mark.parametrize("role", MEMBER_STAFF_ROLES)
def test_staff_see_the_customers_of_their_own_institution_only(role: Role) -> None:
    member = staff(role, ALPHA)

    assert member.may_see_customer(uuid.uuid4(), ALPHA)
    assert not member.may_see_customer(uuid.uuid4(), BETA)


def test_the_province_admin_sees_the_customers_of_every_institution() -> None:
    admin = province_admin()

    assert admin.may_see_customer(uuid.uuid4(), ALPHA)
    assert admin.may_see_customer(uuid.uuid4(), BETA)
    assert admin.may_see_customer(uuid.uuid4(), PROVINCE)


def test_a_customer_sees_themselves_only() -> None:
    own_id, other_id = uuid.uuid4(), uuid.uuid4()
    me = customer(own_id, ALPHA)

    assert me.may_see_customer(own_id, ALPHA)
    assert not me.may_see_customer(other_id, ALPHA)
    assert not me.may_see_customer(other_id, BETA)


def test_a_customer_who_has_not_registered_sees_nobody() -> None:
    newcomer = customer(None, None)

    assert not newcomer.may_see_customer(uuid.uuid4(), ALPHA)
    assert not newcomer.may_see_customer(newcomer.id, ALPHA)


# Seeing staff


@pytest.mark.parametrize("role", MEMBER_STAFF_ROLES)
def test_staff_see_their_colleagues_only(role: Role) -> None:
    member = staff(role, ALPHA)

    assert member.may_see_staff_of(ALPHA)
    assert not member.may_see_staff_of(BETA)


def test_the_province_admin_sees_the_staff_of_every_institution() -> None:
    assert province_admin().may_see_staff_of(ALPHA)
    assert province_admin().may_see_staff_of(BETA)


def test_customers_see_no_staff() -> None:
    assert not customer(uuid.uuid4(), ALPHA).may_see_staff_of(ALPHA)


# Query scope


@pytest.mark.parametrize("role", MEMBER_STAFF_ROLES)
def test_member_staff_queries_are_scoped_to_their_institution(role: Role) -> None:
    assert staff(role, BETA).staff_scope() == BETA


def test_the_province_admin_queries_are_not_scoped() -> None:
    assert province_admin().staff_scope() is None


@pytest.mark.parametrize("customer_id", [uuid.uuid4(), None], ids=["registered", "newcomer"])
def test_a_customer_has_no_staff_scope(customer_id: uuid.UUID | None) -> None:
    with pytest.raises(PermissionDenied):
        customer(customer_id).staff_scope()


# Revealing and registering


@pytest.mark.parametrize("role", [*MEMBER_STAFF_ROLES, Role.PROVINCE_ADMIN])
def test_only_loan_officers_risk_officers_and_institution_admins_may_reveal(role: Role) -> None:
    institution = PROVINCE if role is Role.PROVINCE_ADMIN else ALPHA

    assert staff(role, institution).may_reveal is (role in REVEALING)


def test_customers_may_not_reveal() -> None:
    assert not customer(uuid.uuid4()).may_reveal
    assert not customer(None).may_reveal


@pytest.mark.parametrize("role", sorted(REVEALING))
def test_the_kind_of_actor_decides_before_the_role(role: Role) -> None:
    """A customer token that somehow carried a staff role still reveals nothing."""
    impostor = Actor(ActorKind.CUSTOMER, uuid.uuid4(), role, ALPHA, uuid.uuid4())

    assert not impostor.may_reveal
    assert not impostor.may_see_staff_of(ALPHA)
    assert not impostor.may_see_customer(uuid.uuid4(), ALPHA)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.LOAN_OFFICER, True),
        (Role.BRANCH_MANAGER, True),
        (Role.INSTITUTION_ADMIN, True),
        (Role.RISK_OFFICER, False),
        (Role.PROVINCE_ADMIN, False),
    ],
)
def test_who_among_staff_may_register_customers(role: Role, allowed: bool) -> None:
    assert staff(role).may_register_customers is allowed


def test_customers_may_register_themselves() -> None:
    assert customer(None).may_register_customers


def test_kinds() -> None:
    assert staff(Role.LOAN_OFFICER).is_staff
    assert not staff(Role.LOAN_OFFICER).is_customer
    assert customer(None).is_customer
    assert not customer(None).is_staff
    assert province_admin().sees_all_institutions
    assert not staff(Role.INSTITUTION_ADMIN).sees_all_institutions
