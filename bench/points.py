"""The points redemption phase: 50 merchants' cashiers redeem at once across 1,000 customers, and
the ledger is checked for double spends over the same run.

Setup (untimed, through the project's own use cases, in `yushu`): the default points programme
and a CAMPAIGN rule (DIRECT, 12 months); 50 merchants applied for by the loan officer and
approved by the branch manager, each with one cashier; 1,000 customers registered by the loan
officer; a service account that awards each customer campaign points covering exactly `K`
redemptions of 10 points.

The run: just before the scenario (codes live 60 s), one-time codes are made with the
project's `create_code` in Redis. Codes go in blocks of six of one customer, so that about six
of the 50 requests in flight at any moment take from the same customer's points: the
double-spend race. A customer's balance covers all but two codes of their last block, so each
customer's last block ends in a race for their last points (four redemptions, two refusals).
Customers have one to five blocks in turn (three on average), visited in rounds: every round has
customers racing for their last points, whatever the throughput. Each connection is one
merchant's till and signs every request with that merchant's cashier token; every request
carries a fresh idempotency key.

An answer is a redemption (`"status":"COMPLETED"`), a refusal (`INSUFFICIENT_POINTS`, expected
once a customer's points are spent) or an error (anything else). Afterwards the database must
show: per customer no more redemptions than the balance covered and a balance of exactly the
start less 10 per redemption; every journal balanced; every account's cached balance equal to
its entries; all balances summing to zero; each customer's spendable and pending points equal to
what their lots hold; every redemption's lot uses adding up to its points; no code used twice;
the merchants credited exactly what the customers spent.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar, overload

from sqlalchemy import text

from bench import api, dataset
from bench.load import http_post
from jikuai.config import DEMO_PASSWORD, Settings
from jikuai.container import Services, build_services
from jikuai.demo import demo_id_number
from jikuai.domain.customers.model import Segment
from jikuai.domain.customers.services import RegisterCustomer, register_customer
from jikuai.domain.identity.clients import create_service_client
from jikuai.domain.merchants.model import MerchantCategory, MerchantStatus
from jikuai.domain.merchants.onboarding import (
    AddOperator,
    ApplyMerchant,
    ReviewMerchant,
    add_operator,
    apply_merchant,
    review_merchant,
)
from jikuai.domain.merchants.protection import MerchantVault
from jikuai.domain.merchants.uscc import uscc_check_character
from jikuai.domain.points.earning import RecordEvent, record_event
from jikuai.domain.points.model import EarningMethod, EarningRule, EventType, ExpiryMode
from jikuai.domain.points.program import default_program, set_program, set_rule
from jikuai.domain.points.redemption import CODE_LIFETIME, create_code
from jikuai.domain.shared.calendar import business_date
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import Actor, ActorKind
from jikuai.domain.tenancy.model import Role, Staff

SCENARIO = "graphql redeemPoints (redeemed + refused)"
MERCHANTS = 50  # one keep-alive connection, one till, each
CUSTOMERS = 1000
POINTS = 10  # per redemption
BLOCK = 6  # consecutive codes of one customer
REFUSED_PER_CUSTOMER = 2  # codes of a customer's last block beyond what their balance covers
CODES_PER_SECOND = 1500  # codes made per second of the scenario, the most it can measure
TARGET_REDEMPTIONS_PER_SECOND = 500.0
CUSTOMER_AREA_CODE = "220186"  # apart from the other bench customers' ID numbers
CUSTOMERS_BORN = date(1970, 1, 1)
MERCHANT_USCC_PREFIX = "912201005990"  # 12 of the 17 characters before the check character
CASHIER_PREFIX = "bench-cashier-"
SERVICE_ACCOUNT = "bench-points"
OFFICER = "yushu-officer"
MANAGER = "yushu-manager"
ADMIN = "yushu-admin"
PARALLEL = 4  # sessions used by the setup
CODE_ISSUERS = 32  # codes made concurrently
CODE_LIFETIME_SECONDS = CODE_LIFETIME.total_seconds()

REDEEM_QUERY = (
    "mutation Redeem($input: RedeemPointsInput!) { redeemPoints(input: $input) "
    "{ redemption { id status } replayed userErrors { code } } }"
)
_MERCHANT_LOGIN = (
    "mutation Login($username: String!, $password: String!) { merchantLogin(input: "
    "{username: $username, password: $password}) { accessToken userErrors { code } } }"
)
_COMPLETED = re.compile(rb'"status"\s*:\s*"COMPLETED"')
_INSUFFICIENT = re.compile(rb'"code"\s*:\s*"INSUFFICIENT_POINTS"')
_ERROR_CODE = re.compile(rb'"code"\s*:\s*"([A-Z_]+)"')

REDEEMED, REFUSED, FAILED = "redeemed", "refused", "error"
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the setup made: the customers (local IDs), the points each was given, the cashiers."""

    institution_id: uuid.UUID
    customer_ids: list[uuid.UUID]
    blocks: list[int]  # blocks of codes per customer
    start_points: list[int]  # points awarded per customer
    cashiers: list[str]
    seconds: float

    @property
    def covered(self) -> list[int]:
        """Redemptions each customer's points cover."""
        return [points // POINTS for points in self.start_points]


def blocks_per_customer(seconds: float, customers: int = CUSTOMERS) -> list[int]:
    """Blocks of codes per customer: 1 to 2m-1 in turn, m blocks on average, where m blocks per
    customer give at least `CODES_PER_SECOND` codes per second of the scenario."""
    needed = math.ceil(seconds * CODES_PER_SECOND)
    mean = max(1, math.ceil(needed / (customers * BLOCK)))
    return [1 + index % (2 * mean - 1) for index in range(customers)]


def code_order(blocks: Sequence[int]) -> list[int]:
    """The customer (index) of each code, in the order they are sent: rounds over the customers
    who have blocks left, one block of `BLOCK` codes per customer and round."""
    order: list[int] = []
    for round_ in range(max(blocks, default=0)):
        for customer, count in enumerate(blocks):
            if count > round_:
                order += [customer] * BLOCK
    return order


# Setup -----------------------------------------------------------------------------------------


async def prepare(settings: Settings, *, seconds: float) -> Prepared:
    """The programme, the rule, the merchants and their cashiers, the customers and their
    points (untimed). `seconds`: warm-up and measured window of the scenario."""
    started = time.perf_counter()
    services = build_services(settings)
    try:
        officer, manager, admin = [
            await _staff(services, name) for name in (OFFICER, MANAGER, ADMIN)
        ]
        if admin.institution_id is None:
            raise api.SetupError(f"{ADMIN} belongs to no institution")
        await _programme(services, admin)
        cashiers = await _merchants(services, officer, manager)
        customer_ids = await _customers(services, officer)
        blocks = blocks_per_customer(seconds, len(customer_ids))
        start_points = [POINTS * (BLOCK * count - REFUSED_PER_CUSTOMER) for count in blocks]
        await _award(services, admin.institution_id, customer_ids, start_points)
        return Prepared(
            institution_id=admin.institution_id,
            customer_ids=customer_ids,
            blocks=blocks,
            start_points=start_points,
            cashiers=cashiers,
            seconds=time.perf_counter() - started,
        )
    finally:
        await services.close()


async def _staff(services: Services, username: str) -> Staff:
    session = services.database.session()
    try:
        found = await (await session.reads()).tenancy.staff_by_username(username)
    finally:
        await session.close()
    if found is None:
        raise api.SetupError(f"{username} missing: did `jikuai seed demo` run?")
    return found


async def _programme(services: Services, admin: Staff) -> None:
    """The default programme (redemptions of 10 points complete at once; daily limits far
    above the run's) and a CAMPAIGN rule without caps, set by the institution admin."""
    now = datetime.now(UTC)
    actor = Actor.of_staff(admin)
    institution_id = admin.institution_id or uuid.UUID(int=0)
    session = services.database.session()
    try:
        await set_program(
            default_program(institution_id), actor=actor, uow=session.unit_of_work(), now=now
        )
        await set_rule(
            EarningRule(
                id=new_id(),
                institution_id=institution_id,
                event_type=EventType.CAMPAIGN,
                method=EarningMethod.DIRECT,
                points_per_cny=None,
                fixed_points=None,
                daily_cap=None,
                monthly_cap=None,
                yearly_cap=None,
                pending_days=0,
                expiry_mode=ExpiryMode.ROLLING_MONTHS,
                expiry_period=12,
                active=True,
                updated_at=now,
            ),
            actor=actor,
            uow=session.unit_of_work(),
            now=now,
        )
    finally:
        await session.close()


async def _merchants(services: Services, officer: Staff, manager: Staff) -> list[str]:
    """`MERCHANTS` approved merchants, each with one cashier; the cashiers' usernames."""
    vault = MerchantVault(services.cipher)

    async def onboard(number: int) -> str:
        now = datetime.now(UTC)
        uscc_body = f"{MERCHANT_USCC_PREFIX}{number:05d}"
        session = services.database.session()
        try:
            merchant = await apply_merchant(
                ApplyMerchant(
                    name=f"榆树便民店{number:02d}号",
                    uscc=uscc_body + uscc_check_character(uscc_body),
                    category=MerchantCategory.SUPERMARKET,
                    address=f"吉林省榆树市保寿村{number}号",
                    contact_phone=f"1370431{number:04d}",
                    settlement_account=f"62284800043{number:08d}",
                    legal_representative_id_number=demo_id_number(
                        CUSTOMER_AREA_CODE, date(1975, 5, 1), number * 2 + 1
                    ),
                ),
                actor=Actor.of_staff(officer),
                uow=session.unit_of_work(),
                vault=vault,
                now=now,
                today=business_date(now),
            )
            await review_merchant(
                ReviewMerchant(merchant.id, MerchantStatus.APPROVED, "资料齐全，同意入驻"),
                actor=Actor.of_staff(manager),
                uow=session.unit_of_work(),
                now=now,
                request_id="bench-points",
            )
            username = f"{CASHIER_PREFIX}{number:02d}"
            await add_operator(
                AddOperator(merchant.id, username, f"收银员{number:02d}", DEMO_PASSWORD),
                actor=Actor.of_staff(manager),
                uow=session.unit_of_work(),
                passwords=services.passwords,
                now=now,
            )
            return username
        finally:
            await session.close()

    return await _in_turn(onboard, list(range(1, MERCHANTS + 1)))


async def _customers(services: Services, officer: Staff) -> list[uuid.UUID]:
    """`CUSTOMERS` people registered by the loan officer, as `registerCustomer` would."""
    actor = Actor.of_staff(officer)
    crowd = list(
        dataset.people(
            CUSTOMER_AREA_CODE, CUSTOMERS, seed="jikuai-bench-points", first_birth=CUSTOMERS_BORN
        )
    )

    async def register(person: dataset.Person) -> uuid.UUID:
        session = services.database.session()
        try:
            now = datetime.now(UTC)
            customer = await register_customer(
                RegisterCustomer(
                    name=person.name,
                    id_number=person.id_number,
                    phone=person.phone,
                    segment=Segment.FARMER,
                    institution_id=None,
                ),
                actor=actor,
                uow=session.unit_of_work(),
                vault=services.vault,
                now=now,
                today=now.date(),
            )
            return customer.id
        finally:
            await session.close()

    return await _in_turn(register, crowd)


async def _award(
    services: Services,
    institution_id: uuid.UUID,
    customer_ids: list[uuid.UUID],
    start_points: list[int],
) -> None:
    """Campaign points for each customer, reported by a service account of the institution."""
    session = services.database.session()
    try:
        client, _secret = await create_service_client(
            session.unit_of_work(),
            name=SERVICE_ACCOUNT,
            institution_code=dataset.INSTITUTION,
            now=datetime.now(UTC),
        )
    finally:
        await session.close()
    if client.institution_id != institution_id:
        raise api.SetupError(f"{SERVICE_ACCOUNT} is not of {dataset.INSTITUTION}")
    actor = Actor.of_service(client)

    async def award(pair: tuple[uuid.UUID, int]) -> None:
        customer_id, points = pair
        session = services.database.session()
        try:
            now = datetime.now(UTC)
            await record_event(
                RecordEvent(
                    customer_id=customer_id,
                    event_type=EventType.CAMPAIGN,
                    source_ref=f"bench-{customer_id.hex}",
                    points=points,
                ),
                actor=actor,
                uow=session.unit_of_work(),
                now=now,
                today=business_date(now),
            )
        finally:
            await session.close()

    await _in_turn(award, list(zip(customer_ids, start_points, strict=True)))


async def _in_turn(work: Callable[[T], Awaitable[R]], items: list[T]) -> list[R]:
    """`work` over `items` by `PARALLEL` workers; the results in the items' order."""
    results: dict[int, R] = {}

    async def worker(first: int) -> None:
        for index in range(first, len(items), PARALLEL):
            results[index] = await work(items[index])

    await asyncio.gather(*(worker(first) for first in range(PARALLEL)))
    return [results[index] for index in range(len(items))]


def sign_in_cashiers(port: int, usernames: list[str]) -> list[str]:
    """Each cashier's access token, from `merchantLogin` with the demo password (untimed)."""
    graph = api.Api(port)
    try:
        tokens = []
        for username in usernames:
            variables = {"username": username, "password": DEMO_PASSWORD}
            payload = graph.call(_MERCHANT_LOGIN, variables)["merchantLogin"]
            if payload["userErrors"] or not payload["accessToken"]:
                raise api.SetupError(f"merchantLogin of {username}: {payload['userErrors']}")
            tokens.append(str(payload["accessToken"]))
        return tokens
    finally:
        graph.close()


async def issue_codes(settings: Settings, prepared: Prepared, order: list[int]) -> list[str]:
    """One code per entry of `order`, for that customer, made by `create_code` in the cache the
    server reads, as `createRedemptionCode` makes them for the customer's app."""
    services = build_services(settings)
    codes = [""] * len(order)
    try:
        actors = [
            Actor(
                kind=ActorKind.CUSTOMER,
                id=customer_id,  # stands for the customer's WeChat account
                role=Role.CUSTOMER,
                institution_id=prepared.institution_id,
                customer_id=customer_id,
            )
            for customer_id in prepared.customer_ids
        ]

        async def issuer(first: int) -> None:
            for index in range(first, len(order), CODE_ISSUERS):
                issued = await create_code(
                    actor=actors[order[index]], codes_store=services.cache, now=datetime.now(UTC)
                )
                codes[index] = issued.code

        await asyncio.gather(*(issuer(first) for first in range(CODE_ISSUERS)))
    finally:
        await services.close()
    return codes


# The scenario ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Till:
    merchant: int
    index: int = -1  # the code of the request in flight


class Redemptions(Sequence[bytes]):
    """The scenario's requests, handed to `bench.load` as it asks for them, and its answers
    sorted.

    `bench.load` runs one task per connection and asks for the next request from that task, so
    the task tells which connection, that is which merchant's till, sends it: the request is its
    body (a code, a fresh idempotency key, 10 points), encoded in advance, behind that cashier's
    headers. The check then knows which code each answer is for, and so whose points.
    """

    def __init__(
        self, port: int, tokens: list[str], codes: list[str], customer_of_code: list[int]
    ) -> None:
        customers = max(customer_of_code, default=-1) + 1
        self.customer_of_code = customer_of_code
        self.bodies = [
            json.dumps(
                {
                    "query": REDEEM_QUERY,
                    "variables": {
                        "input": {
                            "code": code,
                            "idempotencyKey": uuid.uuid4().hex,
                            "points": POINTS,
                        }
                    },
                    "operationName": "Redeem",
                },
                separators=(",", ":"),
            ).encode()
            for code in codes
        ]
        self._heads: dict[tuple[int, int], bytes] = {}
        for merchant, token in enumerate(tokens):
            for length in {len(body) for body in self.bodies}:
                request = http_post(
                    port, "/graphql", b" " * length, {"Authorization": f"Bearer {token}"}
                )
                self._heads[(merchant, length)] = request[:-length]
        self._merchants = len(tokens)
        self._tills: dict[asyncio.Task[Any], _Till] = {}
        self.first_taken_ns: int | None = None
        self.answers: list[tuple[int, str]] = []
        self.redeemed = [0] * customers
        self.refused = [0] * customers
        self._in_flight = [0] * customers
        self.overlapping = 0  # requests sent while another of the same customer was in flight
        self.most_at_once = 0  # most requests of one customer in flight together
        self.error_kinds: Counter[str] = Counter()
        self.error_sample: str | None = None

    def __len__(self) -> int:
        return len(self.bodies)

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(index, slice):
            raise TypeError("the requests are handed out one at a time")
        if self.first_taken_ns is None:
            self.first_taken_ns = time.perf_counter_ns()
        till = self._till()
        till.index = index
        customer = self.customer_of_code[index]
        if self._in_flight[customer]:
            self.overlapping += 1
        self._in_flight[customer] += 1
        self.most_at_once = max(self.most_at_once, self._in_flight[customer])
        body = self.bodies[index]
        return self._heads[(till.merchant, len(body))] + body

    def _till(self) -> _Till:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("requests are taken by the load generator's connection tasks")
        till = self._tills.get(task)
        if till is None:
            till = self._tills[task] = _Till(len(self._tills) % self._merchants)
        return till

    def check(self, status: int, body: bytes) -> bool:
        """Redeemed, or refused for want of points: a success for `bench.load`; anything else
        is an error. Counted per customer, and timed for the measured window."""
        finished = time.perf_counter_ns()
        till = self._till()
        customer = self.customer_of_code[till.index]
        self._in_flight[customer] -= 1
        answered = status == 200 and b'"errors"' not in body
        if answered and _COMPLETED.search(body):
            kind = REDEEMED
            self.redeemed[customer] += 1
        elif answered and _INSUFFICIENT.search(body):
            kind = REFUSED
            self.refused[customer] += 1
        else:
            kind = FAILED
            code = _ERROR_CODE.search(body)
            self.error_kinds[code.group(1).decode() if code else f"HTTP {status}"] += 1
            if self.error_sample is None:
                self.error_sample = f"HTTP {status}: {body[:300].decode('utf-8', 'replace')}"
        self.answers.append((finished, kind))
        return kind != FAILED

    def sent_per_customer(self, sent: int) -> list[int]:
        counts = [0] * len(self.redeemed)
        for customer in self.customer_of_code[:sent]:
            counts[customer] += 1
        return counts

    def window_counts(self, warmup_seconds: float, duration_seconds: float) -> Counter[str]:
        """Answers of each kind inside the measured window, which starts `warmup_seconds` after
        the first request was taken (within a fraction of a millisecond of `bench.load`'s)."""
        if self.first_taken_ns is None:
            return Counter()
        start = self.first_taken_ns + int(warmup_seconds * 1e9)
        end = start + int(duration_seconds * 1e9)
        return Counter(kind for finished, kind in self.answers if start <= finished <= end)


# The double-spend check ------------------------------------------------------------------------

# Each query counts what must not exist.
LEDGER_CHECKS = {
    "journals that do not balance": (
        "SELECT COUNT(*) FROM (SELECT journal_id FROM points_entries GROUP BY journal_id "
        "HAVING SUM(amount) <> 0) unbalanced"
    ),
    "accounts whose cached balance differs from their entries": (
        "SELECT COUNT(*) FROM (SELECT a.id FROM points_accounts a "
        "LEFT JOIN points_entries e ON e.account_id = a.id GROUP BY a.id, a.balance "
        "HAVING a.balance <> COALESCE(SUM(e.amount), 0)) drift"
    ),
    "points in all balances together (must be 0)": (
        "SELECT COALESCE(SUM(balance), 0) FROM points_accounts"
    ),
    "customer accounts below zero": (
        "SELECT COUNT(*) FROM points_accounts WHERE balance < 0 "
        "AND kind IN ('AVAILABLE', 'PENDING', 'HELD')"
    ),
    "customers whose spendable points differ from their active lots": (
        "SELECT COUNT(*) FROM (SELECT owner_id, balance FROM points_accounts "
        "WHERE kind = 'AVAILABLE') a FULL JOIN (SELECT customer_id, SUM(remaining) AS remaining "
        "FROM points_lots WHERE state = 'ACTIVE' GROUP BY customer_id) l "
        "ON l.customer_id = a.owner_id "
        "WHERE COALESCE(a.balance, 0) <> COALESCE(l.remaining, 0)"
    ),
    "customers whose pending points differ from their pending lots": (
        "SELECT COUNT(*) FROM (SELECT owner_id, balance FROM points_accounts "
        "WHERE kind = 'PENDING') a FULL JOIN (SELECT customer_id, SUM(remaining) AS remaining "
        "FROM points_lots WHERE state = 'PENDING' GROUP BY customer_id) l "
        "ON l.customer_id = a.owner_id "
        "WHERE COALESCE(a.balance, 0) <> COALESCE(l.remaining, 0)"
    ),
    "redemptions whose lot uses do not add up to their points": (
        "SELECT COUNT(*) FROM redemptions r LEFT JOIN (SELECT redemption_id, SUM(points) AS "
        "points FROM points_lot_uses GROUP BY redemption_id) u ON u.redemption_id = r.id "
        "WHERE r.status = 'COMPLETED' AND COALESCE(u.points, 0) <> r.points"
    ),
    "completed redemptions without exactly one REDEEM journal": (
        "SELECT COUNT(*) FROM redemptions r WHERE r.status = 'COMPLETED' AND (SELECT COUNT(*) "
        "FROM points_journals j WHERE j.redemption_id = r.id AND j.kind = 'REDEEM') <> 1"
    ),
    "codes redeemed more than once": (
        "SELECT COUNT(*) FROM (SELECT code FROM redemptions GROUP BY code "
        "HAVING COUNT(*) > 1) twice"
    ),
}
_REDEMPTIONS = "SELECT customer_id, status, COUNT(*), SUM(points) FROM redemptions GROUP BY 1, 2"
_SPENDABLE = "SELECT owner_id, balance FROM points_accounts WHERE kind = 'AVAILABLE'"
_PAYABLE = (
    "SELECT COALESCE(SUM(a.balance), 0) FROM points_accounts a JOIN merchant_operators o "
    "ON o.merchant_id = a.owner_id WHERE a.kind = 'MERCHANT_PAYABLE' AND o.username LIKE :prefix"
)
_BENCH_REDEEMED = (
    "SELECT COALESCE(SUM(r.points), 0) FROM redemptions r JOIN merchant_operators o "
    "ON o.id = r.operator_id WHERE r.status = 'COMPLETED' AND o.username LIKE :prefix"
)


async def check_ledger(
    settings: Settings, prepared: Prepared, answers: Redemptions, *, sent: int, unfinished: int
) -> dict[str, Any]:
    """The double-spend check, from the database after the run; what it found, by name."""
    services = build_services(settings)
    try:
        async with services.database.primary.connect() as connection:
            ledger = {
                name: int(await connection.scalar(text(query)) or 0)
                for name, query in LEDGER_CHECKS.items()
            }
            statuses: Counter[str] = Counter()
            completed: dict[uuid.UUID, tuple[int, int]] = {}
            for customer_id, status, count, points in await connection.execute(text(_REDEMPTIONS)):
                statuses[status] += int(count)
                if status == "COMPLETED":
                    completed[customer_id] = (int(count), int(points))
            spendable = {
                owner: int(balance) for owner, balance in await connection.execute(text(_SPENDABLE))
            }
            prefix = {"prefix": f"{CASHIER_PREFIX}%"}
            payable = int(await connection.scalar(text(_PAYABLE), prefix) or 0)
            redeemed_points = int(await connection.scalar(text(_BENCH_REDEEMED), prefix) or 0)
    finally:
        await services.close()

    sent_per_customer = answers.sent_per_customer(sent)
    over, wrong_balance, disagree, refused_early, exhausted = 0, 0, 0, 0, 0
    covered = prepared.covered
    for index, customer_id in enumerate(prepared.customer_ids):
        count, points = completed.get(customer_id, (0, 0))
        balance = spendable.get(customer_id, 0)
        if count > covered[index]:
            over += 1
        if balance != prepared.start_points[index] - points or points != POINTS * count:
            wrong_balance += 1
        if count == covered[index]:
            exhausted += 1
        if count != answers.redeemed[index]:
            disagree += 1
        if answers.refused[index] and answers.redeemed[index] < min(
            covered[index], sent_per_customer[index]
        ):
            refused_early += 1
    double_spends = {
        "customers with more redemptions than their points covered": over,
        "customers whose balance is not the start less 10 per redemption": wrong_balance,
        **ledger,
        "points credited to the merchants but not redeemed": payable - redeemed_points,
    }
    return {
        "double_spends": double_spends,
        "double_spend_total": sum(abs(value) for value in double_spends.values()),
        "redemptions_by_status": dict(statuses),
        "redemptions_in_database": sum(count for count, _ in completed.values()),
        "redeemed_answers": sum(answers.redeemed),
        "refused_answers": sum(answers.refused),
        "customers_exhausted": exhausted,
        "customers_whose_answers_differ_from_the_database": disagree,
        "customers_refused_while_points_remained": refused_early,
        "unfinished_requests": unfinished,
        "requests_sent_while_another_of_the_customer_was_in_flight": answers.overlapping,
        "most_requests_of_one_customer_in_flight": answers.most_at_once,
        "merchant_payable_points": payable,
    }
