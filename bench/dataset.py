"""The bench's data: a clean PostgreSQL schema, Redis reachable, many customers, sealed inputs."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import asyncpg
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from jikuai.config import Settings
from jikuai.container import build_services
from jikuai.demo import demo_id_number
from jikuai.domain.customers.model import Segment
from jikuai.domain.customers.services import RegisterCustomer, register_customer
from jikuai.domain.tenancy.actors import Actor
from jikuai.security import seal

INSTITUTION = "yushu"
OFFICER = "yushu-officer"
# Area codes keep the bench's ID numbers apart from the demo's and from each other.
SEED_AREA_CODE = "220183"
REGISTRATION_AREA_CODE = "220184"
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙朱马胡郭林何高梁郑罗宋谢唐韩曹许邓萧冯曾程蔡彭潘袁于董余苏叶吕"
_GIVEN = "明华英秀兰军伟芳娜敏静丽强磊洋艳勇杰娟涛超霞平刚桂金玉德成哲洙顺春"
_PHONE_PREFIXES = ("138", "139", "150", "151", "158", "186", "187", "135", "136", "137")
SEGMENTS = tuple(Segment)


class ServiceUnavailable(RuntimeError):
    """PostgreSQL or Redis is not reachable; the message says which and where."""


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    id_number: str
    phone: str
    segment: Segment


def people(
    area_code: str,
    count: int,
    *,
    seed: str,
    first_birth: date = date(1960, 1, 1),
    segments: tuple[Segment, ...] = SEGMENTS,
) -> Iterator[Person]:
    """`count` made-up people with distinct valid ID numbers (one birth date per 500), their
    segments taken in turn."""
    draw = random.Random(seed)
    for number in range(count):
        birth = first_birth + timedelta(days=number // 500)
        yield Person(
            name=draw.choice(_SURNAMES) + "".join(draw.choices(_GIVEN, k=draw.randint(1, 2))),
            id_number=demo_id_number(area_code, birth, number % 500 * 2 + 1),
            phone=draw.choice(_PHONE_PREFIXES) + f"{draw.randrange(10**8):08d}",
            segment=segments[number % len(segments)],
        )


def _connect_args(sqlalchemy_url: str) -> dict[str, object]:
    url = make_url(sqlalchemy_url)
    if not url.drivername.startswith("postgresql"):
        raise ServiceUnavailable(f"the bench needs a PostgreSQL URL, not {url.drivername}")
    return {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "password": url.password,
        "database": url.database,
    }


async def reset_database(sqlalchemy_url: str) -> str:
    """Create the database if it is missing and empty its `public` schema; the server version."""
    args = _connect_args(sqlalchemy_url)
    name = str(args["database"] or "")
    if not name:
        raise ServiceUnavailable("the bench database URL names no database")
    where = f"{args['host']}:{args['port']}"
    try:
        admin = await asyncpg.connect(**(args | {"database": "postgres"}), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        raise ServiceUnavailable(f"PostgreSQL at {where} is not reachable: {error}") from error
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    connection = await asyncpg.connect(**args, timeout=5)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


async def check_redis(url: str) -> str:
    """Ping Redis; its version."""
    redis = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        await redis.ping()
        info = await redis.info("server")
        return str(info.get("redis_version", "?"))
    except Exception as error:  # OSError or one of redis-py's own connection errors
        raise ServiceUnavailable(f"Redis at {url} is not reachable: {error}") from error
    finally:
        await redis.aclose()


async def seed_customers(
    settings: Settings,
    count: int,
    *,
    parallel: int = 4,
    crowd: Iterator[Person] | None = None,
) -> float:
    """Register `count` customers in the bench institution as its loan officer would: the
    bench's usual crowd, or the people of `crowd`.

    Runs the project's own registration (validation, encryption, blind indexes, one transaction
    each); returns the seconds it took.
    """
    started = time.perf_counter()
    services = build_services(settings)
    try:
        session = services.database.session()
        try:
            officer = await (await session.reads()).tenancy.staff_by_username(OFFICER)
        finally:
            await session.close()
        if officer is None:
            raise RuntimeError(f"{OFFICER} missing: did `jikuai seed demo` run?")
        actor = Actor.of_staff(officer)
        pending = list(crowd or people(SEED_AREA_CODE, count, seed="jikuai-bench"))

        async def register_some(chunk: list[Person]) -> None:
            session = services.database.session()
            try:
                for person in chunk:
                    now = datetime.now(UTC)
                    await register_customer(
                        RegisterCustomer(
                            name=person.name,
                            id_number=person.id_number,
                            phone=person.phone,
                            segment=person.segment,
                            institution_id=None,
                        ),
                        actor=actor,
                        uow=session.unit_of_work(),
                        vault=services.vault,
                        now=now,
                        today=now.date(),
                    )
            finally:
                await session.close()

        await asyncio.gather(*(register_some(pending[i::parallel]) for i in range(parallel)))
    finally:
        await services.close()
    return time.perf_counter() - started


REGISTER_MUTATION = (
    "mutation Register($input: RegisterCustomerInput!) { registerCustomer(input: $input) "
    "{ customer { id nameMasked segment } userErrors { field code message } } }"
)


def sealed_registrations(
    count: int, *, public_key: RSAPublicKey, kid: str, seed: str
) -> list[bytes]:
    """`count` JSON bodies of the registerCustomer mutation, each a new person, sealed now.

    Envelopes are dated now and the server accepts them for ten minutes: make them just before
    they are sent.
    """
    now = datetime.now(UTC)
    bodies = []
    for person in people(REGISTRATION_AREA_CODE, count, seed=seed):
        sealed = {
            field: seal(value, field=field, public_key=public_key, kid=kid, now=now)
            for field, value in (
                ("name", person.name),
                ("idNumber", person.id_number),
                ("phone", person.phone),
            )
        }
        variables = {"input": sealed | {"segment": person.segment.value}}
        bodies.append(
            json.dumps(
                {"query": REGISTER_MUTATION, "variables": variables}, separators=(",", ":")
            ).encode()
        )
    return bodies
