"""The gateway's runtime parts, built once per process from its settings.

``build_services`` is where the app is assembled from plain parts (as Starlette
apps are): each part is constructed here and handed what it needs, so tests can
build the same graph against their own database and keys.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from gateway import migrate
from gateway.agencies import AgencyRegistry, build_agency_registry
from gateway.audit.log import AuditLog
from gateway.auth.clients import ClientStore
from gateway.auth.issuer import BuiltinAuthorizationServer
from gateway.auth.jwks import KeySource, RemoteKeySource, StaticKeySource
from gateway.auth.tokens import AccessTokenMinter
from gateway.auth.validator import AccessTokenValidator, IssuerTrust
from gateway.case_store import CaseStore
from gateway.credit_list.expiry import DEFAULT_INTERVAL_S, ExpirySweeper
from gateway.credit_list.service import CreditList
from gateway.db import create_db_engine
from gateway.errors import ConfigError
from gateway.field_policy import FieldPolicy
from gateway.keys import KeySet, load_keys
from gateway.kind_config import load_configured_kinds
from gateway.measures.store import MeasureStore
from gateway.policy import load_field_policy
from gateway.settings import Settings

ReadinessCheck = Callable[[], Awaitable[tuple[bool, str]]]
LifecycleHook = Callable[[], Awaitable[None]]


@dataclass
class Services:
    """Everything a request handler may use, built once at start-up."""

    settings: Settings
    engine: Engine
    keys: KeySet
    clients: ClientStore
    token_validator: AccessTokenValidator
    authorization_server: BuiltinAuthorizationServer | None
    field_policy: FieldPolicy
    cases: CaseStore
    readiness_checks: dict[str, ReadinessCheck] = field(default_factory=dict)
    on_startup: list[LifecycleHook] = field(default_factory=list)
    on_shutdown: list[LifecycleHook] = field(default_factory=list)
    audit: AuditLog | None = None
    credit_list: CreditList | None = None
    list_expiry: ExpirySweeper | None = None
    agencies: AgencyRegistry = field(default_factory=AgencyRegistry)
    measures: MeasureStore | None = None


def _issuer_trusts(settings: Settings, keys: KeySet) -> list[IssuerTrust]:
    trusts: list[IssuerTrust] = []
    if settings.builtin_issuer:
        builtin: KeySource = StaticKeySource(keys.jwks())
        trusts.append(IssuerTrust(settings.issuer, settings.audience, builtin))
    for external in settings.trusted_issuers:
        trusts.append(
            IssuerTrust(
                external.issuer,
                external.audience or settings.audience,
                RemoteKeySource(external.jwks_url),
            )
        )
    return trusts


def build_services(settings: Settings, *, check_migrations: bool = True) -> Services:
    """Build every part of the gateway; refuse to start on a broken or stale setup.

    Raises:
        ConfigError: a key or config file is missing or broken.
        DatabaseBehind: the database needs `credgate db upgrade`.
    """
    # Before policies and agencies: both may speak of an agency's own kind.
    load_configured_kinds(settings)
    keys = load_keys(settings.keys_dir)
    engine = create_db_engine(settings.database_url)
    if check_migrations:
        hint = "credgate db upgrade " + (
            f"--config {settings.config_file}"
            if settings.config_file
            else f"--data-dir {settings.data_dir}"
        )
        migrate.ensure_current(engine, hint=hint)
    clients = ClientStore(engine)
    server = None
    if settings.builtin_issuer:
        minter = AccessTokenMinter(
            issuer=settings.issuer,
            audience=settings.audience,
            key=keys.token_signing,
            lifetime_s=settings.token_lifetime_s,
        )
        server = BuiltinAuthorizationServer(clients, minter)
    services = Services(
        settings=settings,
        engine=engine,
        keys=keys,
        clients=clients,
        token_validator=AccessTokenValidator(_issuer_trusts(settings, keys)),
        authorization_server=server,
        field_policy=load_field_policy(settings),
        cases=CaseStore.from_keys(engine, keys),
    )
    _add_audit(services)
    services.credit_list = CreditList.from_keys(engine, keys)
    _add_list_expiry(services, services.credit_list)
    _add_measures(services)
    _add_agencies(services)
    return services


def _add_agencies(services: Services) -> None:
    services.agencies = build_agency_registry(services.settings)

    async def close_agencies() -> None:
        # The registry in use at shutdown: tests may have swapped in wrappers.
        await services.agencies.aclose()

    services.on_shutdown.append(close_agencies)


def _add_measures(services: Services) -> None:
    # Imported here: the measures domain builds on the request context, which names Services.
    from gateway.measures.refresh import MeasureRefresher

    services.measures = MeasureStore.from_keys(services.engine, services.keys)
    interval = services.settings.section("measures").get("refresh_interval_s", 30.0)
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
        where = services.settings.config_file or "environment"
        raise ConfigError(where, "'measures.refresh_interval_s' must be a positive number")
    refresher = MeasureRefresher(services, float(interval))
    services.on_startup.append(refresher.start)
    services.on_shutdown.append(refresher.stop)


def _add_audit(services: Services) -> None:
    # Every request is recorded (fail closed), so the log's writability is readiness.
    audit = AuditLog.from_settings(services.settings, services.engine, services.keys)
    services.audit = audit
    services.readiness_checks["audit"] = audit.readiness
    services.on_startup.append(audit.start)
    services.on_shutdown.append(audit.stop)


def _add_list_expiry(services: Services, credit_list: CreditList) -> None:
    # Expired entries leave the list by themselves (2017 provisions, art. 10).
    interval = services.settings.section("credit_list").get("expiry_sweep_s", DEFAULT_INTERVAL_S)
    sweeper = ExpirySweeper(credit_list, services.engine, services.audit, float(interval))
    services.list_expiry = sweeper
    services.on_startup.append(sweeper.start)
    services.on_shutdown.append(sweeper.stop)
