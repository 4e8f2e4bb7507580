"""The GraphQL endpoint: POST /graphql with a JSON body.

A request carries one operation as `{"query", "variables", "operationName"}`; it runs through
the `OperationRunner`. GET serves GraphiQL in development (strawberry's view) and runs nothing.
Malformed requests get a JSON error with a 4xx status, never text.
"""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from jikuai.container import Services
from jikuai.resolvers.context import Context
from jikuai.schema.errors import preferred_language
from jikuai.schema.execution import OperationRunner, UnknownOperation
from jikuai.schema.root import build_schema


class GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(self, services: Services) -> None:
        schema = build_schema(services.settings)
        super().__init__(
            schema,
            graphql_ide=None if services.settings.is_production else "graphiql",
            allow_queries_via_get=False,
        )
        self.services = services
        self.runner = OperationRunner(schema, services.settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive=receive)
        try:
            if request.method != "POST":
                response = await self.run(request)
            elif request.headers.get("content-type", "").startswith("application/json"):
                response = await self._execute_json(request)
            else:
                response = bad_request("Send the operation as application/json", status_code=415)
        except HTTPException as error:
            response = bad_request(error.reason, status_code=error.status_code)
        await response(scope, receive, send)

    async def _execute_json(self, request: Request) -> Response:
        try:
            payload: Any = json.loads(await request.body())
        except ValueError:
            return bad_request("Unable to parse request body as JSON")
        if not isinstance(payload, dict):
            return bad_request("Send one operation as a JSON object; batching is not enabled")
        query = payload.get("query")
        variables = payload.get("variables")
        operation_name = payload.get("operationName")
        if not isinstance(query, str) or not query.strip():
            return bad_request("No GraphQL query found in the request")
        if not isinstance(variables, dict | None):
            return bad_request("`variables` must be a JSON object")
        if not isinstance(operation_name, str | None):
            return bad_request("`operationName` must be a string")
        try:
            prepared = self.runner.prepare(query, operation_name)
        except UnknownOperation:
            return bad_request("No operation of that name; name one with `operationName`")
        if isinstance(prepared, dict):
            return self._json(prepared)
        request.state.operation_name = prepared.name
        context = await self.get_context(request, None)
        return self._json(
            await self.runner.run(
                prepared, variables=variables, context=context, request_id=context.request_id
            )
        )

    def _json(self, body: dict[str, Any]) -> Response:
        return Response(self.encode_json(body), media_type="application/json")

    def encode_json(self, data: object) -> str:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        session = self.services.database.session()
        request.state.db_session = session  # closed by RequestMiddleware after the response
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        return Context(
            request=request,  # type: ignore[arg-type]
            services=self.services,
            db=session,
            request_id=request.state.request_id,
            language=preferred_language(request.headers.get("accept-language")),
            bearer_token=token if scheme.lower() == "bearer" and token else None,
        )


def bad_request(message: str, *, status_code: int = 400) -> Response:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]},
        status_code=status_code,
    )
