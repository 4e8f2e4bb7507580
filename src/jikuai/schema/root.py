"""The root Query and Mutation, merged from every bounded context, and the Schema object."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from jikuai.config import Settings
from jikuai.schema.customers import CustomerMutation, CustomerQuery
from jikuai.schema.extensions import request_policy
from jikuai.schema.identity import IdentityMutation, IdentityQuery
from jikuai.schema.nodes import NodeQuery
from jikuai.schema.scalars import SCALARS
from jikuai.schema.tenancy import TenancyQuery


@strawberry.type(description="Everything that can be read.")
class Query(NodeQuery, IdentityQuery, TenancyQuery, CustomerQuery):
    pass


@strawberry.type(description="Everything that can be changed; one `input`, a payload back.")
class Mutation(IdentityMutation, CustomerMutation):
    pass


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Expected errors (validation, authentication, not found) are answers, not incidents;
        internal ones are logged once, with the request id, by `RequestPolicy`."""


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        request_policy(
            max_tokens=settings.max_tokens,
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
        )
    ]
    if settings.is_production:
        extensions.append(DisableIntrospection)
    return Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(
            disable_field_suggestions=settings.is_production, scalar_map=dict(SCALARS)
        ),
    )
