"""One context per request: the actor, the request's database session, DataLoaders, services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property

from starlette.requests import Request

from jikuai.container import Services
from jikuai.domain.customers.model import Customer
from jikuai.domain.identity.services import registered_actor
from jikuai.domain.shared.calendar import business_date
from jikuai.domain.tenancy.actors import Actor
from jikuai.persistence.engine import DatabaseSession
from jikuai.resolvers.errors import Unauthenticated
from jikuai.resolvers.loaders import Loaders
from jikuai.security import InvalidToken


@dataclass
class Context:
    request: Request
    services: Services
    db: DatabaseSession
    request_id: str
    language: str
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    bearer_token: str | None = None
    _actor: Actor | None = None
    _actor_resolved: bool = False

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.db.reads)

    async def close(self) -> None:
        """The request's connections back to their pools, its loaders and their caches freed."""
        await self.db.close()
        loaders = self.__dict__.get("loaders")
        if loaders is not None:
            loaders.clear()

    @cached_property
    def today(self) -> date:
        """The business date, in Asia/Shanghai."""
        return business_date(self.now)

    async def actor(self) -> Actor | None:
        """The signed-in actor, or None; a bad or expired token is UNAUTHENTICATED."""
        if not self._actor_resolved:
            self._actor = await self._resolve_actor()
            self._actor_resolved = True
        return self._actor

    def sign_in_as(self, actor: Actor) -> None:
        """The actor a sign-in mutation just authenticated, for the rest of its response."""
        self._actor, self._actor_resolved = actor, True

    async def require_actor(self) -> Actor:
        actor = await self.actor()
        if actor is None:
            raise Unauthenticated
        return actor

    async def visible_customer(
        self, customer_id: uuid.UUID, *, at_once: bool = False
    ) -> Customer | None:
        """The customer if this actor may see it; otherwise None, as if it did not exist.
        `at_once` for a root field, which has no siblings to batch with."""
        actor = await self.require_actor()
        loaders = self.loaders
        customer = await (
            loaders.customer_at_once(customer_id)
            if at_once
            else loaders.customer_by_id.load(customer_id)
        )
        if customer is None or not actor.may_see_customer(customer.id, customer.institution_id):
            return None
        return customer

    async def _resolve_actor(self) -> Actor | None:
        if self.bearer_token is None:
            return None
        try:
            actor = self.services.authenticator.actor_from_access_token(
                self.bearer_token, now=self.now
            )
        except InvalidToken:
            raise Unauthenticated from None
        if actor.is_customer and actor.customer_id is None:
            return await self._with_registration(actor)
        return actor

    async def _with_registration(self, actor: Actor) -> Actor:
        """A customer token issued before registering: look up the binding made since."""
        return await registered_actor(await self.db.reads(), actor.id) or actor
