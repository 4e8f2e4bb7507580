"""One running stack for the tests, and the helpers every end-to-end test uses."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import event

from jikuai.app import create_app
from jikuai.config import Settings
from jikuai.container import Services, build_services
from jikuai.demo import demo_id_number
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.model import Branch, Institution, InstitutionKind, Role, Staff, Village
from jikuai.persistence.migrations import upgrade
from jikuai.security import KeyRing, seal

PASSWORD = "correct horse battery staple"
MEMBER_ROLES = {
    "officer": Role.LOAN_OFFICER,
    "manager": Role.BRANCH_MANAGER,
    "risk": Role.RISK_OFFICER,
    "admin": Role.INSTITUTION_ADMIN,
}


@dataclass
class World:
    """The institutions and staff every test may use."""

    institutions: dict[str, Institution] = field(default_factory=dict)
    villages: dict[str, Village] = field(default_factory=dict)
    staff: dict[str, Staff] = field(default_factory=dict)


@dataclass
class Stack:
    settings: Settings
    services: Services
    client: httpx.AsyncClient
    world: World
    _tokens: dict[str, str] = field(default_factory=dict)
    _sequence: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["authorization"] = f"Bearer {token}"
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers
        )

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await self.post(query, variables, token=token, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def token(self, username: str) -> str:
        """An access token for a staff member of the world (one login per test session)."""
        if username not in self._tokens:
            body = await self.gql(
                "mutation($u: String!, $p: String!) {"
                " staffLogin(input: {username: $u, password: $p})"
                " { accessToken userErrors { code } } }",
                {"u": username, "p": PASSWORD},
            )
            payload = body["data"]["staffLogin"]
            assert payload["userErrors"] == [], payload
            self._tokens[username] = payload["accessToken"]
        return self._tokens[username]

    def seal(self, field_name: str, value: str, *, now: datetime | None = None) -> str:
        """What a client does: seal a value for one input field to the transport key."""
        return seal_for(self.services, field_name, value, now=now)

    def new_id_number(self) -> str:
        """A valid ID number no other test uses."""
        number = next(self._sequence)
        birth = date(1960 + number % 40, 1 + number % 12, 1 + number % 28)
        return demo_id_number(f"2201{number // 1000 % 100:02d}", birth, number % 1000)

    def new_phone(self) -> str:
        return f"139{random.randrange(10**8):08d}"

    def registration(
        self,
        *,
        name: str = "张三丰",
        id_number: str | None = None,
        phone: str | None = None,
        segment: str = "FARMER",
        **extra: Any,
    ) -> dict[str, Any]:
        """A `RegisterCustomerInput` with every sensitive field sealed."""
        return {
            "name": self.seal("name", name),
            "idNumber": self.seal("idNumber", id_number or self.new_id_number()),
            "phone": self.seal("phone", phone or self.new_phone()),
            "segment": segment,
            **extra,
        }

    async def register(self, username: str, **fields: Any) -> dict[str, Any]:
        """Register a customer as a staff member; returns the payload."""
        body = await self.gql(
            REGISTER, {"input": self.registration(**fields)}, token=await self.token(username)
        )
        payload: dict[str, Any] = body["data"]["registerCustomer"]
        return payload

    @contextmanager
    def count_statements(self, *, writer: bool | None = None) -> Iterator[list[str]]:
        """Every SQL statement the app runs inside the block: on the writing connections, the
        reading ones, or (None) both."""
        statements: list[str] = []
        database = self.services.database
        engines = {True: [database.primary], False: [database.reader]}.get(
            writer, [database.primary, database.reader]
        )

        def record(*args: Any) -> None:
            statements.append(args[2])

        for engine in engines:
            event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            for engine in engines:
                event.remove(engine.sync_engine, "before_cursor_execute", record)


REGISTER = """
mutation Register($input: RegisterCustomerInput!) {
  registerCustomer(input: $input) {
    customer { id nameMasked phoneMasked idNumberMasked gender age segment institution { code } }
    userErrors { field code message }
  }
}
"""


@contextmanager
def count_checkouts(services: Services) -> Iterator[list[str]]:
    """Each connection the app takes inside the block: "writer" for a checkout of the writer's
    pool, "reader" for one the reader's pool lends."""
    taken: list[str] = []
    database = services.database
    writer = database.primary.sync_engine.pool

    def checkout(*_: Any) -> None:
        taken.append("writer")

    lent = database.readers.lent
    event.listen(writer, "checkout", checkout)
    try:
        yield taken
    finally:
        event.remove(writer, "checkout", checkout)
        taken += ["reader"] * (database.readers.lent - lent)


def seal_for(
    services: Services, field_name: str, value: str, *, now: datetime | None = None
) -> str:
    """A value sealed for one input field to the services' transport key, as a client seals it."""
    key = services.keyring.primary_transport_key
    return seal(
        value,
        field=field_name,
        public_key=key.private_key.public_key(),
        kid=key.kid,
        now=now or datetime.now(UTC),
    )


@asynccontextmanager
async def open_stack(
    *,
    data_dir: Path,
    database_url: str | None,
    redis_url: str | None,
    wechat: tuple[str, str, str],
    with_replica: bool = False,
) -> AsyncIterator[Stack]:
    """A migrated stack. `with_replica` (SQLite only) names the database a second time, through a
    symbolic link, as the read replica: it has the primary's data at once, under its own URL."""
    wechat_base, app_id, app_secret = wechat
    replica_url = None
    if with_replica:
        (data_dir / "replica.db").symlink_to(data_dir / "jikuai.db")
        replica_url = f"sqlite+aiosqlite:///{(data_dir / 'replica.db').absolute()}"
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        database_replica_url=replica_url,
        redis_url=redis_url,
        wechat_api_base=wechat_base,
        wechat_app_id=app_id,
        wechat_app_secret=app_secret,
    )
    if redis_url:
        async with Redis.from_url(redis_url) as redis:
            await redis.flushdb()
    await asyncio.to_thread(upgrade, settings.primary_database_url)
    keyring = KeyRing.generate(now=datetime.now(UTC), rsa_bits=2048)
    keyring.save(settings.key_directory)
    services = build_services(settings, keyring=keyring)
    app = create_app(settings, services=services)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://jikuai.test") as client:
            world = await _seed_world(services)
            yield Stack(settings=settings, services=services, client=client, world=world)
    finally:
        await services.close()


async def _seed_world(services: Services) -> World:
    world = World()
    now = datetime.now(UTC)
    password_hash = services.passwords.hash(PASSWORD)
    session = services.database.session()
    try:
        async with session.unit_of_work() as uow:
            for code, kind in (
                ("alpha", InstitutionKind.MEMBER),
                ("beta", InstitutionKind.MEMBER),
                ("prov", InstitutionKind.PROVINCE),
            ):
                institution = Institution(new_id(), code, f"{code} bank", "吉林省", kind, now)
                branch = Branch(new_id(), institution.id, f"{code}-01", "营业部")
                await uow.tenancy.add_institution(institution)
                await uow.tenancy.add_branch(branch)
                world.institutions[code] = institution
                roles = (
                    {"admin": Role.PROVINCE_ADMIN}
                    if kind is InstitutionKind.PROVINCE
                    else MEMBER_ROLES
                )
                if kind is InstitutionKind.MEMBER:
                    village = Village(new_id(), institution.id, branch.id, f"{code}-v1", "保寿村")
                    await uow.tenancy.add_village(village)
                    world.villages[code] = village
                for suffix, role in roles.items():
                    member = Staff(
                        new_id(),
                        institution.id,
                        branch.id,
                        f"{code}-{suffix}",
                        suffix,
                        role,
                        password_hash,
                        True,
                        now,
                    )
                    await uow.tenancy.add_staff(member)
                    world.staff[member.username] = member
            await uow.commit()
    finally:
        await session.close()
    return world
