"""Demo data for `jikuai seed demo`: the five pilot institutions and the province union, their
branches, villages, staff of every role, a few customers, the LPR history and the seven loan
products, each pilot's first village with its roster imported and the demo farmer pre-approved
on it (`demo_villages`), and each pilot's points ecosystem (`demo_points`) and staff performance
(`demo_performance`). Never run in production."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime

from jikuai.container import Services
from jikuai.demo_performance import seed_performance
from jikuai.demo_points import seed_points
from jikuai.demo_products import DEMO_LPR, demo_products
from jikuai.demo_villages import seed_villages
from jikuai.domain.credit.catalog import DefineProduct, create_product, publish_lpr
from jikuai.domain.customers.identity_numbers import id_check_character
from jikuai.domain.customers.model import Segment
from jikuai.domain.customers.services import RegisterCustomer, register_customer
from jikuai.domain.performance.positions import record_positions
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.calendar import business_date
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import (
    Branch,
    Institution,
    InstitutionKind,
    Role,
    Staff,
    Village,
)
from jikuai.persistence.engine import DatabaseSession


@dataclass(frozen=True, slots=True)
class DemoInstitution:
    code: str
    name: str
    region: str
    area_code: str
    branches: tuple[str, str]
    villages: tuple[str, str]


PROVINCE = DemoInstitution(
    "jilin", "吉林省农村信用社联合社", "吉林省", "220000", ("营业部", "科技中心"), ("", "")
)
PILOTS = (
    DemoInstitution(
        "yushu",
        "榆树农商行",
        "长春市榆树市",
        "220182",
        ("营业部", "五棵树支行"),
        ("保寿村", "太安村"),
    ),
    DemoInstitution(
        "yanbian",
        "延边农商行",
        "延边朝鲜族自治州",
        "222401",
        ("营业部", "依兰支行"),
        ("春兴村", "光东村"),
    ),
    DemoInstitution(
        "dunhua",
        "敦化农商行",
        "延边州敦化市",
        "222403",
        ("营业部", "大石头支行"),
        ("官地村", "青沟子村"),
    ),
    DemoInstitution(
        "wangqing",
        "汪清农商行",
        "延边州汪清县",
        "222424",
        ("营业部", "天桥岭支行"),
        ("百草沟村", "东光村"),
    ),
    DemoInstitution(
        "yitong",
        "伊通联社",
        "四平市伊通满族自治县",
        "220323",
        ("营业部", "营城子支行"),
        ("大孤山村", "景台村"),
    ),
)
STAFF_ROLES = (
    ("officer", "客户经理", Role.LOAN_OFFICER),
    ("manager", "网点负责人", Role.BRANCH_MANAGER),
    ("risk", "风险经理", Role.RISK_OFFICER),
    ("admin", "系统管理员", Role.INSTITUTION_ADMIN),
)
DEMO_CUSTOMERS = (
    ("王明", Segment.FARMER, "13804310001"),
    ("李秀英", Segment.TEACHER, "13904310002"),
    ("金哲洙", Segment.MICRO_BUSINESS, "15004310003"),
)


def demo_id_number(area_code: str, birth: date, sequence: int) -> str:
    """A valid, made-up resident ID number (GB 11643 check character)."""
    body = f"{area_code}{birth:%Y%m%d}{sequence:03d}"
    return body + id_check_character(body)


def demo_usernames() -> list[str]:
    """The staff logins the demo data has, all with the demo password."""
    return [f"{PROVINCE.code}-admin"] + [
        f"{demo.code}-{suffix}" for demo in PILOTS for suffix, _, _ in STAFF_ROLES
    ]


def demo_pilot_codes() -> list[str]:
    """The pilot institutions' codes: each has a cashier `<code>-cashier` and a service
    account `<code>-core`."""
    return [demo.code for demo in PILOTS]


async def seed_demo(services: Services) -> bool:
    """Create the demo data once; False when it was already there."""
    if services.settings.is_production:
        raise RuntimeError("demo data is never created in production mode")
    now = datetime.now(UTC)
    password_hash = services.passwords.hash(services.settings.demo_password)
    session = services.database.session()
    try:
        async with session.unit_of_work() as uow:
            if await uow.tenancy.institution_by_code(PROVINCE.code) is not None:
                return False
            for demo in (PROVINCE, *PILOTS):
                await _seed_institution(uow, demo, password_hash, now)
            await uow.commit()
        for demo in PILOTS:
            await _seed_customers(services, session, demo, now)
        await _seed_credit(services, session, now)
        for demo in PILOTS:
            await seed_points(services, session, demo.code, _demo_farmer_id_number(demo), now)
            await seed_performance(services, session, demo.code, now)
        await record_positions(session.unit_of_work, services.cache, business_date(now), now=now)
    finally:
        await session.close()
    return True


async def _seed_institution(
    uow: UnitOfWork, demo: DemoInstitution, password_hash: str, now: datetime
) -> None:
    province = demo is PROVINCE
    institution = Institution(
        id=new_id(),
        code=demo.code,
        name=demo.name,
        region=demo.region,
        kind=InstitutionKind.PROVINCE if province else InstitutionKind.MEMBER,
        created_at=now,
    )
    await uow.tenancy.add_institution(institution)
    branches = [
        Branch(
            id=new_id(), institution_id=institution.id, code=f"{demo.code}-{number:02d}", name=name
        )
        for number, name in enumerate(demo.branches, start=1)
    ]
    for branch in branches:
        await uow.tenancy.add_branch(branch)
    if not province:
        for number, (name, branch) in enumerate(zip(demo.villages, branches, strict=True), start=1):
            await uow.tenancy.add_village(
                Village(
                    id=new_id(),
                    institution_id=institution.id,
                    branch_id=branch.id,
                    code=f"{demo.code}-v{number:02d}",
                    name=name,
                )
            )
    roles = [("admin", "省联社管理员", Role.PROVINCE_ADMIN)] if province else STAFF_ROLES
    for suffix, title, role in roles:
        await uow.tenancy.add_staff(
            Staff(
                id=new_id(),
                institution_id=institution.id,
                branch_id=branches[0].id,
                username=f"{demo.code}-{suffix}",
                display_name=f"{demo.name}{title}",
                role=role,
                password_hash=password_hash,
                active=True,
                created_at=now,
            )
        )


def _demo_births(demo: DemoInstitution) -> list[date]:
    """The demo customers' birth dates, the same on every run."""
    births = random.Random(demo.code)  # noqa: S311 - made-up demo data, reproducible
    return [
        date(births.randint(1960, 1995), births.randint(1, 12), births.randint(1, 28))
        for _ in DEMO_CUSTOMERS
    ]


async def _seed_customers(
    services: Services, session: DatabaseSession, demo: DemoInstitution, now: datetime
) -> None:
    """Register a few customers the way a loan officer would."""
    reads = await session.reads()
    officer = await reads.tenancy.staff_by_username(f"{demo.code}-officer")
    if officer is None:
        raise RuntimeError(f"demo officer of {demo.code} missing")
    actor = Actor.of_staff(officer)
    births = _demo_births(demo)
    for sequence, (name, segment, phone) in enumerate(DEMO_CUSTOMERS, start=1):
        birth = births[sequence - 1]
        await register_customer(
            RegisterCustomer(
                name=name,
                id_number=demo_id_number(demo.area_code, birth, sequence * 2 + 1),
                phone=phone,
                segment=segment,
                institution_id=None,
            ),
            actor=actor,
            uow=session.unit_of_work(),
            vault=services.vault,
            now=now,
            today=now.date(),
        )


def _demo_farmer_id_number(demo: DemoInstitution) -> str:
    """The ID number of a pilot's demo farmer, the first demo customer."""
    return demo_id_number(demo.area_code, _demo_births(demo)[0], 3)


async def _seed_credit(services: Services, session: DatabaseSession, now: datetime) -> None:
    """The LPR history, the seven products in every pilot, and each pilot's first village's
    roster, the demo farmer pre-approved on it, all through the same use cases the API calls."""
    reads = await session.reads()
    province_admin = await reads.tenancy.staff_by_username(f"{PROVINCE.code}-admin")
    if province_admin is None:
        raise RuntimeError("demo province admin missing")
    for rate in DEMO_LPR:
        await publish_lpr(
            rate,
            actor=Actor.of_staff(province_admin),
            uow=session.unit_of_work(),
            now=now,
            request_id="demo-seed",
        )
    for demo in PILOTS:
        admin = await reads.tenancy.staff_by_username(f"{demo.code}-admin")
        if admin is None:
            raise RuntimeError(f"demo staff of {demo.code} missing")
        for code, terms in demo_products():
            await create_product(
                DefineProduct(code=code, terms=terms),
                actor=Actor.of_staff(admin),
                uow=session.unit_of_work(),
                now=now,
            )
        name, _, phone = DEMO_CUSTOMERS[0]
        farmer = (name, _demo_farmer_id_number(demo), phone)
        await seed_villages(services, session, demo.code, demo.area_code, farmer, now)
