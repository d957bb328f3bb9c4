"""Fixtures shared by every test: a real database (SQLite, and PostgreSQL when
``CREDGATE_TEST_POSTGRES_URL`` is set), real keys, and the app driven over HTTP
in-process (httpx ASGITransport) with its lifespan running."""

from __future__ import annotations

import gc
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from starlette.applications import Starlette

from gateway import migrate
from gateway.app import create_app
from gateway.auth.clients import ClientRegistration, ClientStore
from gateway.auth.principal import Role
from gateway.db import create_db_engine
from gateway.keys import init_keys
from gateway.services import Services, build_services
from gateway.settings import Settings, load_settings

POSTGRES_URL = os.environ.get("CREDGATE_TEST_POSTGRES_URL")
NO_POSTGRES = "CREDGATE_TEST_POSTGRES_URL is not set: PostgreSQL tests need a server"
PUBLIC_URL = "http://127.0.0.1:8000"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Run each test's body with automatic garbage collection paused.

    The runner's heap grows with every gateway the session builds, and a full
    collection of it took up to 0.5 s (seen in tests/investigation): inside a
    test whose agency deadline is 0.3 s, that is a timeout the code under test
    never caused. Collections happen between tests instead (set-up and
    teardown keep the collector on); ``gc.collect()`` in a test still works.
    """
    gc.disable()
    try:
        return (yield)
    finally:
        gc.enable()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a private PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'credgate.sqlite'}"
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database for tests that need not run on PostgreSQL too."""
    return f"sqlite:///{tmp_path / 'credgate.sqlite'}"


def make_settings(data_dir: Path, database_url: str, config: str = "") -> Settings:
    """Settings for a test deployment under ``data_dir``."""
    text_config = (
        f'[gateway]\npublic_url = "{PUBLIC_URL}"\ndatabase_url = "{database_url}"\n{config}'
    )
    path = data_dir / "credgate.toml"
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(text_config, encoding="utf-8")
    return load_settings(config=path, data_dir=data_dir, env={})


@dataclass
class Gateway:
    """A running gateway under test, with helpers to make clients and tokens."""

    settings: Settings
    services: Services
    app: Starlette
    http: httpx.AsyncClient

    def register(
        self,
        name: str,
        role: Role,
        scopes: set[str],
        *,
        court_id: str | None = None,
        agency_id: str | None = None,
        officer_id: str | None = None,
    ) -> tuple[str, str]:
        """Register an OAuth client; returns (client_id, secret)."""
        client, secret = ClientStore(self.services.engine).register(
            ClientRegistration(
                name=name,
                role=role,
                scopes=frozenset(scopes),
                court_id=court_id,
                agency_id=agency_id,
                officer_id=officer_id,
            )
        )
        return client.client_id, secret

    async def token(self, client_id: str, secret: str, scope: str | None = None) -> str:
        """An access token from the real token endpoint."""
        form = {"grant_type": "client_credentials"}
        if scope is not None:
            form["scope"] = scope
        response = await self.http.post("/oauth/token", data=form, auth=(client_id, secret))
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    async def graphql(
        self, token: str, query: str, variables: dict[str, object] | None = None
    ) -> httpx.Response:
        """POST one GraphQL operation with a bearer token."""
        return await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )


def prepare_deployment(data_dir: Path, database_url: str, config: str = "") -> Settings:
    """Keys, migrated database and settings for a deployment under ``data_dir``."""
    settings = make_settings(data_dir, database_url, config)
    init_keys(settings.keys_dir)
    engine = create_db_engine(settings.database_url)
    migrate.upgrade(engine)
    engine.dispose()
    return settings


@asynccontextmanager
async def serving(settings: Settings, services: Services | None = None) -> AsyncIterator[Gateway]:
    """The gateway of ``settings`` (its lifespan running) and an HTTP client to it."""
    services = services if services is not None else build_services(settings)
    app = create_app(settings, services)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as http,
    ):
        yield Gateway(settings, services, app, http)


@pytest.fixture
async def gateway(tmp_path: Path, database_url: str) -> AsyncIterator[Gateway]:
    """A gateway on a fresh database (SQLite and PostgreSQL), lifespan running."""
    async with serving(prepare_deployment(tmp_path / "data", database_url)) as started:
        yield started
