"""``create_app(settings)``: the Starlette app, built from plain parts."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import structlog
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.auth.routes import TokenEndpoint, authorization_server_metadata
from gateway.db import read_connection, run_sync
from gateway.graphql_endpoint import GraphQLEndpoint, json_response
from gateway.kind_config import load_configured_kinds
from gateway.middleware.body_limit import BodyLimitMiddleware
from gateway.middleware.request_context import RequestContextMiddleware
from gateway.schema import build_schema
from gateway.services import Services, build_services
from gateway.settings import Settings

log = structlog.get_logger("gateway.app")


async def _database_ready(services: Services) -> tuple[bool, str]:
    def ping() -> None:
        with read_connection(services.engine) as connection:
            connection.execute(text("SELECT 1"))

    try:
        await run_sync(ping)
    except Exception as error:
        return False, type(error).__name__
    return True, "ok"


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    """Build the gateway app; fails fast (ConfigError, DatabaseBehind) on a broken setup."""
    load_configured_kinds(settings)  # The schema's investigation types come from the kinds.
    services = services or build_services(settings)
    schema = build_schema(settings.graphql)

    async def healthz(_: Request) -> Response:
        return json_response({"status": "ok"})

    async def readyz(_: Request) -> Response:
        checks = {"database": await _database_ready(services), "keys": (True, "loaded")}
        for name, check in services.readiness_checks.items():
            try:
                checks[name] = await check()
            except Exception as error:
                checks[name] = (False, type(error).__name__)
        ready = all(ok for ok, _ in checks.values())
        body = {
            "status": "ready" if ready else "not ready",
            "checks": {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()},
        }
        return json_response(body, 200 if ready else 503)

    async def metadata(_: Request) -> Response:
        return json_response(authorization_server_metadata(services))

    async def jwks(_: Request) -> Response:
        return json_response(services.keys.jwks(), headers={"Cache-Control": "max-age=300"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        for hook in services.on_startup:
            await hook()
        log.info("gateway_started", public_url=settings.public_url)
        try:
            yield
        finally:
            for hook in reversed(services.on_shutdown):
                await hook()
            services.engine.dispose()

    routes = [
        Route("/graphql", GraphQLEndpoint(schema, services).handle, methods=["POST"]),
        Route("/oauth/token", TokenEndpoint(services).handle, methods=["POST"]),
        Route("/.well-known/oauth-authorization-server", metadata, methods=["GET"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestContextMiddleware),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.schema = schema
    return app
