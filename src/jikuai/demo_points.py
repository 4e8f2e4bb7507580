"""The demo's points ecosystem (吉快·漫生活), seeded per pilot institution through the same use
cases the API calls: the programme and its earning rules, a service account `<code>-core`, two
approved merchants with benefits, a cashier `<code>-cashier`, and campaign points for the demo
farmer, so a code can be scanned and redeemed straight after `make run`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from jikuai.container import Services
from jikuai.domain.customers.model import CustomerFilter
from jikuai.domain.identity.clients import create_service_client
from jikuai.domain.merchants.model import MerchantCategory, MerchantStatus, RewardKind
from jikuai.domain.merchants.onboarding import (
    AddOperator,
    ApplyMerchant,
    ReviewMerchant,
    add_operator,
    apply_merchant,
    review_merchant,
)
from jikuai.domain.merchants.protection import MerchantVault
from jikuai.domain.merchants.rewards import RewardTerms, create_reward
from jikuai.domain.merchants.uscc import uscc_check_character
from jikuai.domain.points.earning import RecordEvent, record_event
from jikuai.domain.points.model import EarningMethod, EarningRule, EventType, ExpiryMode
from jikuai.domain.points.program import default_program, set_program, set_rule
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Staff
from jikuai.persistence.engine import DatabaseSession

# (event type, method, points per CNY or fixed points, daily cap, pending days, expiry)
DEMO_RULES: tuple[
    tuple[EventType, EarningMethod, Decimal | int | None, int | None, int, ExpiryMode, int], ...
] = (
    (
        EventType.DEPOSIT_MONTHLY_AVERAGE,
        EarningMethod.PER_CNY,
        Decimal("0.01"),
        2000,
        3,
        ExpiryMode.END_OF_YEAR,
        1,
    ),
    (EventType.ON_TIME_REPAYMENT, EarningMethod.FIXED, 50, 200, 0, ExpiryMode.ROLLING_MONTHS, 12),
    (
        EventType.SOCIAL_SECURITY_CARD_ACTIVATION,
        EarningMethod.FIXED,
        500,
        None,
        0,
        ExpiryMode.ROLLING_MONTHS,
        12,
    ),
    (EventType.REFERRAL, EarningMethod.FIXED, 200, 1000, 7, ExpiryMode.ROLLING_MONTHS, 12),
    (EventType.CAMPAIGN, EarningMethod.DIRECT, None, None, 0, ExpiryMode.ROLLING_MONTHS, 6),
    (
        EventType.MANUAL_ADJUSTMENT,
        EarningMethod.DIRECT,
        None,
        None,
        0,
        ExpiryMode.ROLLING_MONTHS,
        12,
    ),
)
# (name, category, USCC body of 17 characters, benefits: (name, kind, points, stock))
DEMO_MERCHANTS: tuple[
    tuple[str, MerchantCategory, str, tuple[tuple[str, RewardKind, int, int | None], ...]], ...
] = (
    (
        "便民超市",
        MerchantCategory.SUPERMARKET,
        "91220100578012345",
        (
            ("东北大米 5kg", RewardKind.ITEM, 3000, 200),
            ("10元购物券", RewardKind.VOUCHER, 1000, None),
        ),
    ),
    (
        "农资服务站",
        MerchantCategory.AGRICULTURAL_SUPPLIES,
        "91220100578056789",
        (
            ("复合肥 40kg 9折券", RewardKind.VOUCHER, 2000, 500),
            ("玉米种子 1袋", RewardKind.ITEM, 5000, 100),
        ),
    ),
)
DEMO_FARMER_POINTS = 8000


async def seed_points(
    services: Services, session: DatabaseSession, code: str, farmer_id_number: str, now: datetime
) -> None:
    """One pilot institution's ecosystem."""
    admin = await _staff(session, f"{code}-admin")
    officer = await _staff(session, f"{code}-officer")
    manager = await _staff(session, f"{code}-manager")
    today = now.date()
    await set_program(
        default_program(admin.institution_id),
        actor=Actor.of_staff(admin),
        uow=session.unit_of_work(),
        now=now,
    )
    for event_type, method, value, daily_cap, pending_days, expiry_mode, period in DEMO_RULES:
        await set_rule(
            EarningRule(
                id=new_id(),
                institution_id=admin.institution_id,
                event_type=event_type,
                method=method,
                points_per_cny=value if isinstance(value, Decimal) else None,
                fixed_points=value if isinstance(value, int) else None,
                daily_cap=daily_cap,
                monthly_cap=None,
                yearly_cap=None,
                pending_days=pending_days,
                expiry_mode=expiry_mode,
                expiry_period=period,
                active=True,
                updated_at=now,
            ),
            actor=Actor.of_staff(admin),
            uow=session.unit_of_work(),
            now=now,
        )
    client, _secret = await create_service_client(
        session.unit_of_work(),
        name=f"{code}-core",
        institution_code=code,
        now=now,
        secret=services.settings.demo_password,
    )
    vault = MerchantVault(services.cipher)
    for number, (name, category, uscc_body, benefits) in enumerate(DEMO_MERCHANTS, start=1):
        merchant = await apply_merchant(
            ApplyMerchant(
                name=f"{name}（{code}）",
                uscc=uscc_body + uscc_check_character(uscc_body),
                category=category,
                address=f"{name}门店",
                contact_phone=f"1390431{number:04d}",
                settlement_account=f"622848000431{number:07d}",
                legal_representative_id_number="11010519491231002X",
            ),
            actor=Actor.of_staff(officer),
            uow=session.unit_of_work(),
            vault=vault,
            now=now,
            today=today,
        )
        await review_merchant(
            ReviewMerchant(merchant.id, MerchantStatus.APPROVED, "资料齐全，同意入驻"),
            actor=Actor.of_staff(manager),
            uow=session.unit_of_work(),
            now=now,
            request_id="demo-seed",
        )
        for reward_name, kind, points, stock in benefits:
            await create_reward(
                merchant.id,
                RewardTerms(
                    name=reward_name,
                    description="到店出示核销码兑换",
                    kind=kind,
                    price_points=points,
                    stock=stock,
                    per_customer_limit=2,
                    valid_from=today,
                    valid_until=date(today.year + 1, 12, 31),
                    active=True,
                ),
                actor=Actor.of_staff(officer),
                uow=session.unit_of_work(),
                now=now,
            )
        if number == 1:
            await add_operator(
                AddOperator(
                    merchant.id,
                    f"{code}-cashier",
                    f"{name}收银员",
                    services.settings.demo_password,
                ),
                actor=Actor.of_staff(manager),
                uow=session.unit_of_work(),
                passwords=services.passwords,
                now=now,
            )
    farmers = await (await session.reads()).customers.page(
        institution_id=admin.institution_id,
        only_id=None,
        filter=CustomerFilter(id_number_bidx=services.vault.id_number_index(farmer_id_number)),
        after=None,
        limit=1,
    )
    await record_event(
        RecordEvent(
            customer_id=farmers[0].id,
            event_type=EventType.CAMPAIGN,
            source_ref="demo-welcome",
            points=DEMO_FARMER_POINTS,
        ),
        actor=Actor.of_service(client),
        uow=session.unit_of_work(),
        now=now,
        today=today,
    )


async def _staff(session: DatabaseSession, username: str) -> Staff:
    found = await (await session.reads()).tenancy.staff_by_username(username)
    if found is None:
        raise RuntimeError(f"demo staff member {username} missing")
    return found
