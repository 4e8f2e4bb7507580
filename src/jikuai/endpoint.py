"""The GraphQL endpoint: POST /graphql with a JSON body, and strawberry's view for the rest.

Clients send one operation as `{"query", "variables", "operationName"}` by POST; that path is
handled here directly, without the generic view's content negotiation (multipart uploads,
batching, GET), which costs a tenth of a small query's time. Anything else, such as GraphiQL on
GET in development, goes to strawberry's view. Malformed requests get a JSON error, never text.
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
from strawberry.exceptions import MissingQueryError
from strawberry.http import process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError

from jikuai.container import Services
from jikuai.resolvers.context import Context
from jikuai.schema.errors import preferred_language
from jikuai.schema.root import build_schema


class GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(self, services: Services) -> None:
        super().__init__(
            build_schema(services.settings),
            graphql_ide=None if services.settings.is_production else "graphiql",
            allow_queries_via_get=False,
        )
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive=receive)
        content_type = request.headers.get("content-type", "")
        try:
            if request.method == "POST" and content_type.startswith("application/json"):
                response = await self._execute_json(request)
            else:
                response = await self.run(request)
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
        if not isinstance(query, str):
            return bad_request("No GraphQL query found in the request")
        if not isinstance(variables, dict | None):
            return bad_request("`variables` must be a JSON object")
        if not isinstance(operation_name, str | None):
            return bad_request("`operationName` must be a string")
        try:
            result = await self.schema.execute(
                query,
                variable_values=variables,
                context_value=await self.get_context(request, None),
                operation_name=operation_name,
            )
        except CannotGetOperationTypeError as error:  # no operation of that name
            return bad_request(error.as_http_error_reason())
        except MissingQueryError:
            return bad_request("No GraphQL query found in the request")
        return Response(self.encode_json(process_result(result)), media_type="application/json")

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
