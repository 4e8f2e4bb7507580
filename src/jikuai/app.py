"""The Starlette application: GraphQL at /graphql, health checks, and in development the
WeChat stand-in under /dev/wechat."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from jikuai.config import Settings
from jikuai.container import Services, build_services
from jikuai.middleware import RequestMiddleware
from jikuai.resolvers.context import Context
from jikuai.schema.errors import preferred_language
from jikuai.schema.root import build_schema

log = logging.getLogger("jikuai")

READINESS_TIMEOUT_SECONDS = 3.0


class GraphQLEndpoint(GraphQL[Context, None]):
    """strawberry's ASGI view, with our context, and JSON errors for malformed requests."""

    def __init__(self, services: Services) -> None:
        production = services.settings.is_production
        super().__init__(
            build_schema(services.settings),
            graphql_ide=None if production else "graphiql",
            allow_queries_via_get=False,
        )
        self.services = services

    def encode_json(self, data: object) -> str:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive=receive))
        except HTTPException as error:
            response = JSONResponse(
                {"errors": [{"message": error.reason, "extensions": {"code": "BAD_REQUEST"}}]},
                status_code=error.status_code,
            )
        await response(scope, receive, send)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        session = self.services.database.session()
        request.state.db_session = session
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        return Context(
            request=request,  # type: ignore[arg-type]
            services=self.services,
            db=session,
            request_id=request.state.request_id,
            language=preferred_language(request.headers.get("accept-language")),
            bearer_token=token.strip() if scheme.lower() == "bearer" and token.strip() else None,
        )


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Starlette:
    settings = settings or Settings()
    services = services or build_services(settings)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        checks: dict[str, str] = {}
        for name, ping in (("database", services.database.ping), ("cache", services.cache.ping)):
            try:
                await asyncio.wait_for(ping(), READINESS_TIMEOUT_SECONDS)
                checks[name] = "ok"
            except Exception as error:
                log.warning("readiness check %s failed: %s", name, type(error).__name__)
                checks[name] = "unavailable"
        ready = all(state == "ok" for state in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", **checks},
            status_code=200 if ready else 503,
        )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # What exists at start-up (schema, modules, keys) lives as long as the process: keep it
        # out of the collector's full passes, which otherwise pause requests for tens of ms.
        gc.collect()
        gc.freeze()
        yield
        await services.close()

    graphql = GraphQLEndpoint(services)
    routes: list[Route | Mount] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    if services.wechat_standin is not None:
        routes.append(Mount("/dev/wechat", app=services.wechat_standin))
    middleware = [Middleware(RequestMiddleware, max_body_bytes=settings.max_body_bytes)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["POST", "OPTIONS"],
                allow_headers=["authorization", "content-type", "accept-language", "x-request-id"],
            )
        )
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.services = services
    return app
