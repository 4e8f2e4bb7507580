"""Demo staff performance for a pilot institution: a monthly scheme for loan officers, two
months of daily deposit facts from core banking. (`seed_demo` then records today's end-of-day
positions of every institution.)"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from jikuai.container import Services
from jikuai.domain.performance.indicators import Measure
from jikuai.domain.performance.model import Fact
from jikuai.domain.performance.periods import PeriodKind
from jikuai.domain.performance.schemes import CreateScheme, IndicatorTerms, Terms, create_scheme
from jikuai.domain.shared.calendar import business_date
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Role
from jikuai.persistence.engine import DatabaseSession

DEMO_SCHEME = (
    # code, weight, target
    ("NEW_CUSTOMERS", "15", "10"),
    ("LOANS_DISBURSED_AMOUNT", "20", "500000"),
    ("OUTSTANDING_BALANCE", "15", "2000000"),
    ("OVERDUE_RATE", "10", "0.02"),
    ("DEPOSIT_BALANCE", "20", "5000000"),
    ("LOW_COST_DEPOSIT_SHARE", "10", "0.40"),
    ("MERCHANTS_ONBOARDED", "10", "2"),
)
DEMO_BONUS_POOL = Decimal("20000.00")
DEPOSIT_DAYS = 60


async def seed_performance(
    services: Services, session: DatabaseSession, code: str, now: datetime
) -> None:
    reads = await session.reads()
    admin = await reads.tenancy.staff_by_username(f"{code}-admin")
    officer = await reads.tenancy.staff_by_username(f"{code}-officer")
    if admin is None or officer is None:
        raise RuntimeError(f"demo staff of {code} missing")
    await create_scheme(
        session.unit_of_work(),
        services.cache,
        Actor.of_staff(admin),
        CreateScheme(
            institution_id=admin.institution_id,
            role=Role.LOAN_OFFICER,
            period_kind=PeriodKind.MONTH,
            terms=Terms(
                name="客户经理月度考核",
                indicators=[
                    IndicatorTerms(code, Decimal(weight), Decimal(target))
                    for code, weight, target in DEMO_SCHEME
                ],
                bonus_pool=DEMO_BONUS_POOL,
            ),
        ),
        request_id="demo-seed",
        now=now,
    )
    today = business_date(now)
    balances = random.Random(code)  # noqa: S311 - made-up demo data, reproducible
    balance = Decimal(balances.randrange(3_000_000, 4_000_000))
    facts = []
    for days_ago in range(DEPOSIT_DAYS, -1, -1):
        day = today - timedelta(days=days_ago)
        balance += Decimal(balances.randrange(-20_000, 60_000))
        low_cost = (balance * Decimal("0.38")).quantize(Decimal("0.01"))
        for measure, value in (
            (Measure.DEPOSIT_BALANCE, balance),
            (Measure.LOW_COST_DEPOSIT_BALANCE, low_cost),
            (Measure.SOCIAL_SECURITY_CARDS_ISSUED, Decimal(balances.randrange(2, 6))),
            (Measure.SOCIAL_SECURITY_CARDS_ACTIVATED, Decimal(balances.randrange(0, 3))),
        ):
            key = f"{measure.value}:{officer.username}:{day.isoformat()}"
            facts.append(
                Fact(admin.institution_id, day, "CORE", key, measure, officer.id, None, value)
            )
    async with session.unit_of_work() as uow:
        await uow.performance.save_facts(facts, now=now)
        await uow.commit()
