"""The Starlette application: GraphQL at /graphql, health checks, and in development the
WeChat stand-in under /dev/wechat."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from jikuai.config import Settings
from jikuai.container import Services, build_services
from jikuai.endpoint import GraphQLEndpoint
from jikuai.middleware import RequestMiddleware

log = logging.getLogger("jikuai")

GRAPHQL_PATH = "/graphql"
READINESS_TIMEOUT_SECONDS = 3.0
# A request allocates thousands of short-lived objects; collecting the youngest generation every
# 700 allocations (the default) spends more time scanning than it frees.
GC_THRESHOLDS = (50_000, 20, 20)


class GraphQLFirst:
    """POST /graphql goes straight to the endpoint; everything else through Starlette's router.

    The router and Starlette's exception middlewares cost a few percent of a small query and do
    nothing for it: the endpoint answers every failure itself, and `RequestMiddleware` (outside
    this) turns anything unexpected into a JSON 500 with the request id.
    """

    def __init__(self, graphql: ASGIApp, site: ASGIApp) -> None:
        self.graphql = graphql
        self.site = site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        is_query = scope["type"] == "http" and scope["method"] == "POST"
        target = self.graphql if is_query and scope["path"] == GRAPHQL_PATH else self.site
        await target(scope, receive, send)


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> ASGIApp:
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
        gc.set_threshold(*GC_THRESHOLDS)
        yield
        await services.close()

    graphql = GraphQLEndpoint(services)
    routes: list[Route | Mount] = [
        Route(GRAPHQL_PATH, graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    if services.wechat_standin is not None:
        routes.append(Mount("/dev/wechat", app=services.wechat_standin))
    app: ASGIApp = GraphQLFirst(graphql, Starlette(routes=routes, lifespan=lifespan))
    if settings.cors_origins:
        app = CORSMiddleware(
            app,
            allow_origins=settings.cors_origins,
            allow_methods=["POST", "OPTIONS"],
            allow_headers=["authorization", "content-type", "accept-language", "x-request-id"],
        )
    return RequestMiddleware(app, max_body_bytes=settings.max_body_bytes)
