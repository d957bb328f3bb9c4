"""``credgate clients``: register and manage the built-in issuer's OAuth clients.

``add`` and ``rotate-secret`` print a secret once (only its scrypt hash is
stored); ``list`` never shows one; ``disable`` makes the client's token requests
fail with ``invalid_client`` (tokens already issued run out within their
lifetime). Every change is an operator act on the audit log, durable before the
command reports success.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from gateway import migrate
from gateway.audit.operator_acts import OperatorAct, OperatorAudit
from gateway.auth import scopes
from gateway.auth.clients import ClientRegistration, ClientStore, OAuthClient
from gateway.auth.principal import Role
from gateway.commands.common import (
    add_location_options,
    add_operator_option,
    fail,
    settings_from,
)
from gateway.db import create_db_engine
from gateway.errors import BadUserInput, NotFound
from gateway.keys import load_keys
from gateway.settings import Settings

T = TypeVar("T")

#: The role names an operator types, and the role each stands for.
ROLE_NAMES: dict[str, Role] = {
    "officer": Role.OFFICER,
    "auditor": Role.AUDITOR,
    "court-admin": Role.ADMIN,
    "admin": Role.ADMIN,
    "agency": Role.AGENCY,
}

#: Scopes a client gets when ``--scope`` is not given: what its role needs.
DEFAULT_SCOPES: dict[Role, frozenset[str]] = {
    Role.OFFICER: frozenset(
        {scopes.INVESTIGATE, scopes.CASES_READ, scopes.AGENCIES_READ, scopes.POLICY_EXPLAIN}
    ),
    Role.AUDITOR: frozenset({scopes.AUDIT_READ, scopes.POLICY_EXPLAIN}),
    Role.ADMIN: frozenset(
        {scopes.LIST_PUBLISH, scopes.LIST_OVERSIGHT, scopes.LIST_PUBLIC, scopes.AGENCIES_READ}
    ),
    Role.AGENCY: frozenset(
        {scopes.LIST_LOOKUP, scopes.LIST_SYNC, scopes.LIST_FEEDBACK, scopes.AUDIT_READ}
    ),
}


def registration_from(args: argparse.Namespace) -> ClientRegistration:
    """The registration ``clients add`` asks for, checked against what the role needs.

    Raises:
        BadUserInput: a court, agency or officer is missing or out of place, or
            a scope is unknown.
    """
    role = ROLE_NAMES[args.role]
    if role in (Role.OFFICER, Role.ADMIN) and not args.court:
        raise BadUserInput(f"{args.role} clients need --court", field="court")
    if role is Role.OFFICER and not args.officer:
        raise BadUserInput("an officer client needs --officer (the officer's id)", field="officer")
    if role is Role.AGENCY and not args.agency:
        raise BadUserInput("an agency client needs --agency", field="agency")
    if role is not Role.AGENCY and args.agency:
        raise BadUserInput("--agency is for agency clients only", field="agency")
    if role is Role.AGENCY and (args.court or args.officer):
        raise BadUserInput("an agency client has no --court or --officer", field="court")
    requested = frozenset(args.scope) if args.scope else DEFAULT_SCOPES[role]
    unknown = sorted(requested - set(scopes.SCOPES))
    if unknown:
        known = ", ".join(sorted(scopes.SCOPES))
        raise BadUserInput(f"unknown scope {', '.join(unknown)} (known: {known})", field="scope")
    return ClientRegistration(
        name=args.name or args.client_id,
        role=role,
        scopes=requested,
        court_id=args.court,
        agency_id=args.agency,
        officer_id=args.officer,
    )


def _facts(client: OAuthClient) -> dict[str, Any]:
    """What the audit log and ``list`` say about a client: never its secret."""
    return {
        "clientId": client.client_id,
        "name": client.name,
        "role": client.role.value,
        "courtId": client.court_id,
        "agencyId": client.agency_id,
        "officerId": client.officer_id,
        "scopes": sorted(client.scopes),
        "disabled": client.disabled,
    }


def _open(args: argparse.Namespace) -> tuple[Settings, Engine, ClientStore]:
    settings = settings_from(args)
    engine = create_db_engine(settings.database_url)
    try:
        migrate.ensure_current(engine, hint="credgate db upgrade")
    except BaseException:
        engine.dispose()
        raise
    return settings, engine, ClientStore(engine)


def _audited(
    settings: Settings, engine: Engine, act: OperatorAct, change: Callable[[], T]
) -> tuple[T, int]:
    """Run ``change`` between a durable intent and a durable outcome; no audit, no change."""
    audit = OperatorAudit(settings, engine, load_keys(settings.keys_dir))
    audit.record(act, "intent")
    result = change()
    return result, audit.record(act).index


def _existing(store: ClientStore, client_id: str) -> OAuthClient:
    client = store.get(client_id)
    if client is None:
        raise NotFound(f"no client {client_id!r} (see `credgate clients list`)")
    return client


def _act(command: str, args: argparse.Namespace, client: OAuthClient) -> OperatorAct:
    courts = [client.court_id] if client.court_id else []
    operation = "clients" + "".join(part.title() for part in command.split("-"))
    return OperatorAct(
        f"clients {command}", operation, args.operator, courts=courts, client=_facts(client)
    )


def _add(args: argparse.Namespace) -> int:
    registration = registration_from(args)
    settings, engine, store = _open(args)
    taken = f"a client {args.client_id!r} (or named {registration.name!r}) exists"
    try:
        if store.get(args.client_id) is not None or store.by_name(registration.name):
            return fail(taken, 2)
        planned = OAuthClient(
            args.client_id,
            registration.name,
            "",
            registration.role,
            registration.scopes,
            registration.court_id,
            registration.agency_id,
            registration.officer_id,
        )
        try:
            (client, secret), index = _audited(
                settings,
                engine,
                _act("add", args, planned),
                lambda: store.register(registration, client_id=args.client_id),
            )
        except IntegrityError:
            return fail(taken, 2)
    finally:
        engine.dispose()
    print(f"client_id     {client.client_id}")
    print(f"client_secret {secret}")
    print(f"scope         {' '.join(sorted(client.scopes))}")
    print(f"(the secret is shown only now; recorded as audit event {index})")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    settings, engine, store = _open(args)
    try:
        client = _existing(store, args.client_id)
        secret, index = _audited(
            settings,
            engine,
            _act("rotate-secret", args, client),
            lambda: store.reset_secret(client.client_id),
        )
    finally:
        engine.dispose()
    print(f"client_id     {client.client_id}")
    print(f"client_secret {secret}")
    print(f"(the old secret no longer works; recorded as audit event {index})")
    return 0


def _disable(args: argparse.Namespace) -> int:
    settings, engine, store = _open(args)
    try:
        client = _existing(store, args.client_id)
        act = _act("disable", args, dataclasses.replace(client, disabled=True))
        _, index = _audited(
            settings, engine, act, lambda: store.set_disabled(client.client_id, True)
        )
    finally:
        engine.dispose()
    print(
        f"disabled {client.client_id}: its token requests now fail with invalid_client "
        f"(recorded as audit event {index})"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    _, engine, store = _open(args)
    try:
        clients = store.all()
    finally:
        engine.dispose()
    print(f"{'client_id':<28} {'role':<8} {'court/agency':<24} {'officer':<16} state    scopes")
    for client in clients:
        where = client.court_id or client.agency_id or "-"
        state = "disabled" if client.disabled else "active"
        print(
            f"{client.client_id:<28} {client.role.value:<8} {where:<24} "
            f"{client.officer_id or '-':<16} {state:<8} {' '.join(sorted(client.scopes))}"
        )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``clients add|list|rotate-secret|disable``."""
    parser = subparsers.add_parser("clients", help="OAuth clients of the built-in issuer")
    commands = parser.add_subparsers(dest="clients_command", required=True)
    defaults = "; ".join(
        f"{name}: {' '.join(sorted(DEFAULT_SCOPES[role]))}"
        for name, role in ROLE_NAMES.items()
        if name != "admin"
    )
    add = commands.add_parser(
        "add",
        help="register a client and print its secret once",
        description=f"Register a client_credentials client. Default scopes per role: {defaults}.",
    )
    add.add_argument("client_id", help="the client id, e.g. wz-officer-001")
    add.add_argument("--role", required=True, choices=sorted(ROLE_NAMES))
    add.add_argument("--court", help="the court (officer, court-admin, auditor)")
    add.add_argument("--agency", help="the agency id (agency clients)")
    add.add_argument("--officer", help="the officer id behind the client (officers)")
    add.add_argument(
        "--scope",
        action="append",
        choices=sorted(scopes.SCOPES),
        metavar="SCOPE",
        help=f"a scope to grant (repeat; default: the role's); one of {', '.join(scopes.SCOPES)}",
    )
    add.add_argument("--name", help="a display name, unique (default: the client id)")
    add.set_defaults(handler=_add)
    rotate = commands.add_parser("rotate-secret", help="give a client a new secret (printed once)")
    rotate.add_argument("client_id")
    rotate.set_defaults(handler=_rotate)
    disable = commands.add_parser("disable", help="stop a client from getting tokens")
    disable.add_argument("client_id")
    disable.set_defaults(handler=_disable)
    listing = commands.add_parser("list", help="list the clients (never their secrets)")
    listing.set_defaults(handler=_list)
    for command in (add, rotate, disable, listing):
        add_location_options(command)
    for command in (add, rotate, disable):
        add_operator_option(command)
