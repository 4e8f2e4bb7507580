"""The GraphQL endpoint: POST /graphql with a JSON body, or a multipart form with files.

A request carries one operation as `{"query", "variables", "operationName"}`, or names a persisted
one by its hash in `extensions.persistedQuery` (see `schema.persisted`); it runs through the
`OperationRunner`. An operation that uploads a file follows the GraphQL multipart request
spec: the form's `operations` field holds that JSON with the file variables null, `map` names the
variable each file part goes to (`{"0": ["variables.input.file"]}`), and the parts follow. Every
operation is authenticated by its bearer token, which a browser never sends across sites by
itself, so a form posted from another site can do nothing. GET serves GraphiQL in development
(strawberry's view) and runs nothing. Malformed requests get a JSON error with a 4xx status,
never text.
"""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException
from graphql import OperationType
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from jikuai.container import Services
from jikuai.resolvers.context import Context
from jikuai.schema.errors import preferred_language
from jikuai.schema.execution import NUL_REFUSED, OperationRunner, UnknownOperation
from jikuai.schema.persisted import PersistedQueries, Refusal
from jikuai.schema.root import build_schema

MAX_UPLOAD_FILES = 1  # a roster at a time
MAX_FORM_FIELDS = 2  # `operations` and `map`
# One encoder for every response: `json.dumps` with options builds a new one each call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


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
        self.persisted = PersistedQueries(services.cache, services.settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive=receive)
        content_type = request.headers.get("content-type", "")
        try:
            if request.method != "POST":
                response = await self.run(request)
            elif content_type.startswith("application/json"):
                response = await self._execute_json(request)
            elif content_type.startswith("multipart/form-data"):
                response = await self._execute_multipart(request)
            else:
                response = bad_request(
                    "Send the operation as application/json (multipart/form-data with files)",
                    status_code=415,
                )
        except HTTPException as error:
            response = bad_request(error.reason, status_code=error.status_code)
        await response(scope, receive, send)

    async def _execute_json(self, request: Request) -> Response:
        body = await request.body()
        try:
            payload: Any = json.loads(body)
        except ValueError:
            return bad_request("Unable to parse request body as JSON")
        if b"\\u0000" in body and _holds_nul(payload):
            return bad_request(NUL_REFUSED)
        return await self._execute(request, payload)

    async def _execute_multipart(self, request: Request) -> Response:
        try:
            form = await request.form(max_files=MAX_UPLOAD_FILES, max_fields=MAX_FORM_FIELDS)
        except (MultiPartException, ValueError):
            return bad_request("Unable to parse the multipart form")
        try:
            try:
                payload = _with_files(form)
            except ValueError as error:
                return bad_request(str(error))
            if _holds_nul(payload):
                return bad_request(NUL_REFUSED)
            return await self._execute(request, payload)
        finally:
            await form.close()

    async def _execute(self, request: Request, payload: Any) -> Response:
        if not isinstance(payload, dict):
            return bad_request("Send one operation as a JSON object; batching is not enabled")
        variables = payload.get("variables")
        operation_name = payload.get("operationName")
        if not isinstance(variables, dict | None):
            return bad_request("`variables` must be a JSON object")
        if not isinstance(operation_name, str | None):
            return bad_request("`operationName` must be a string")
        context = await self.get_context(request, None)
        document = await self.persisted.document(payload, context.db.reads)
        if isinstance(document, Refusal):
            return JSONResponse(document.body, status_code=document.status_code)
        try:
            prepared = self.runner.prepare(document.text, operation_name)
        except UnknownOperation:
            return bad_request("No operation of that name; name one with `operationName`")
        if isinstance(prepared, dict):
            return self._json(prepared)
        await self.persisted.remember(document)
        if prepared.definition.operation is OperationType.MUTATION:
            context.db.read_on_primary()
        request.state.operation_name = prepared.name
        result = await self.runner.run(
            prepared, variables=variables, context=context, request_id=context.request_id
        )
        await context.close()  # before the response is written
        return self._json(result)

    def _json(self, body: dict[str, Any]) -> Response:
        return Response(self.encode_json(body), media_type="application/json")

    def encode_json(self, data: object) -> str:
        return _ENCODER.encode(data)

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


def _with_files(form: FormData) -> Any:
    """The form's `operations` with each file put where `map` says; ValueError if malformed."""
    try:
        operations = json.loads(_text(form.get("operations")))
        mapping = json.loads(_text(form.get("map")))
    except ValueError:
        raise ValueError("`operations` and `map` must be JSON form fields") from None
    if not isinstance(mapping, dict):
        raise ValueError("`map` must be a JSON object")
    for part, paths in mapping.items():
        upload = form.get(part)
        if not isinstance(upload, UploadFile) or not isinstance(paths, list):
            raise ValueError(f"`map` names {part!r}, which is not a file of the form")
        for path in paths:
            _put(operations, path, upload)
    return operations


def _put(operations: Any, path: object, upload: UploadFile) -> None:
    """Put the file at a dotted path (`variables.input.file`, `variables.files.0`) that leads
    to a null inside `variables`."""
    keys = path.split(".") if isinstance(path, str) else []
    if len(keys) < 2 or keys[0] != "variables":
        raise ValueError(f"`map` path {path!r} must lead into `variables`")
    parent: Any = operations
    for key in keys[:-1]:
        parent = _step(parent, key)
    last = keys[-1]
    if isinstance(parent, dict) and parent.get(last, ...) is None:
        parent[last] = upload
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        parent[int(last)] = upload
    else:
        raise ValueError(f"`map` path {path!r} does not lead to a null variable")


def _step(node: Any, key: str) -> Any:
    if isinstance(node, dict) and key in node:
        return node[key]
    if isinstance(node, list) and key.isdigit() and int(key) < len(node):
        return node[int(key)]
    raise ValueError(f"`map` path has no {key!r}")


def _holds_nul(value: object) -> bool:
    """Whether U+0000 is anywhere in the operation: its text, its variables' keys or values
    (walked without recursion: JSON may nest deeper than Python's stack)."""
    pending = [value]
    while pending:
        each = pending.pop()
        if isinstance(each, str):
            if "\x00" in each:
                return True
        elif isinstance(each, dict):
            pending.extend(each.keys())
            pending.extend(each.values())
        elif isinstance(each, list):
            pending.extend(each)
    return False


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("not a text field")
    return value


def bad_request(message: str, *, status_code: int = 400) -> Response:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]},
        status_code=status_code,
    )
