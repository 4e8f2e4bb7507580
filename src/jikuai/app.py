"""The Starlette application: GraphQL at /graphql, health checks, and in development the
WeChat stand-in under /dev/wechat."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from jikuai.config import Settings
from jikuai.container import Services, build_services
from jikuai.endpoint import GraphQLEndpoint
from jikuai.middleware import RequestMiddleware

log = logging.getLogger("jikuai")

READINESS_TIMEOUT_SECONDS = 3.0
# A request allocates thousands of short-lived objects; collecting the youngest generation every
# 700 allocations (the default) spends more time scanning than it frees.
GC_THRESHOLDS = (50_000, 20, 20)


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
        gc.set_threshold(*GC_THRESHOLDS)
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
