"""The embedded demo: one data directory with keys, database, demo clients and data.

Everything here is idempotent: a second run reuses the keys, the database and
the client secrets recorded in ``demo.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from connectors.demo import DEMO_AGENCIES
from gateway import migrate
from gateway.auth import scopes
from gateway.auth.clients import ClientRegistration, ClientStore, verify_secret
from gateway.auth.principal import Role
from gateway.credit_list.demo import demo_list_seeder
from gateway.db import create_db_engine
from gateway.demo_cases import demo_case_seeder
from gateway.keys import init_keys
from gateway.settings import Settings, load_settings

DEMO_COURT_ID = "court-wuzhi"
DEMO_OFFICER_ID = "officer-wz-001"
DEMO_AUDITOR_ID = "auditor-jz-001"


@dataclass(frozen=True)
class DemoClient:
    """A demo OAuth client: its name and the principal attributes it stands for."""

    name: str
    registration: ClientRegistration


def demo_clients(agency_ids: list[str]) -> list[DemoClient]:
    """The demo's clients: an officer, an auditor, a court admin and one per agency."""
    officer = ClientRegistration(
        name="officer",
        role=Role.OFFICER,
        court_id=DEMO_COURT_ID,
        officer_id=DEMO_OFFICER_ID,
        scopes=frozenset(
            {
                scopes.INVESTIGATE,
                scopes.CONTROL,
                scopes.CASES_READ,
                scopes.AGENCIES_READ,
                scopes.LIST_OVERSIGHT,
                scopes.POLICY_EXPLAIN,
            }
        ),
    )
    auditor = ClientRegistration(
        name="auditor",
        role=Role.AUDITOR,
        court_id=DEMO_COURT_ID,
        officer_id=DEMO_AUDITOR_ID,
        scopes=frozenset({scopes.AUDIT_READ, scopes.INVESTIGATE, scopes.POLICY_EXPLAIN}),
    )
    admin = ClientRegistration(
        name="court-admin",
        role=Role.ADMIN,
        court_id=DEMO_COURT_ID,
        scopes=frozenset(
            {scopes.LIST_PUBLISH, scopes.LIST_OVERSIGHT, scopes.LIST_PUBLIC, scopes.AGENCIES_READ}
        ),
    )
    clients = [
        DemoClient("officer", officer),
        DemoClient("auditor", auditor),
        DemoClient("court-admin", admin),
    ]
    agency_scopes = frozenset(
        {
            scopes.LIST_LOOKUP,
            scopes.LIST_SYNC,
            scopes.LIST_FEEDBACK,
            scopes.AUDIT_READ,
            scopes.INVESTIGATE,
        }
    )
    for agency_id in agency_ids:
        registration = ClientRegistration(
            name=agency_id, role=Role.AGENCY, agency_id=agency_id, scopes=agency_scopes
        )
        clients.append(DemoClient(agency_id, registration))
    return clients


@dataclass
class DemoSetup:
    """What the demo prepared, as written to ``demo.json``."""

    settings: Settings
    clients: dict[str, dict[str, str]]
    extra: dict[str, Any] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        """The content of ``demo.json``."""
        base = self.settings.public_url
        return {
            "gateway": f"{base}/graphql",
            "token_endpoint": f"{base}/oauth/token",
            "jwks": f"{base}/.well-known/jwks.json",
            "data_dir": str(self.settings.data_dir),
            "clients": self.clients,
            **self.extra,
        }


# Later parts of the demo (agencies, cases, the dishonest list) add themselves here:
# each gets the settings and engine and returns entries for demo.json.
DemoSeeder = Callable[[Settings, Engine], dict[str, Any]]
DEMO_SEEDERS: list[DemoSeeder] = []
# The demo agencies' databases and the enforcement cases on their debtors (issue 3).
DEMO_SEEDERS.append(demo_case_seeder(DEMO_COURT_ID, DEMO_OFFICER_ID))
# The dishonest-debtor list, some of those cases' respondents on it (issue 6).
DEMO_SEEDERS.append(demo_list_seeder(DEMO_COURT_ID, DEMO_OFFICER_ID))
# One OAuth client per demo agency (the list look-ups and sanction reports).
DEMO_AGENCY_IDS: list[str] = [identity.id for identity in DEMO_AGENCIES]


def _write_config(data_dir: Path, port: int) -> Path:
    path = data_dir / "credgate.toml"
    url = f"http://127.0.0.1:{port}"
    text = (
        "# Written by `credgate demo`; the demo keeps public_url in step with --port.\n"
        "[gateway]\n"
        f'public_url = "{url}"\n'
    )
    if path.exists():
        existing = path.read_text(encoding="utf-8")
        lines = [
            f'public_url = "{url}"' if line.startswith("public_url") else line
            for line in existing.splitlines()
        ]
        text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def _known_secrets(data_dir: Path) -> dict[str, dict[str, str]]:
    path = data_dir / "demo.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        clients = document.get("clients", {})
        return clients if isinstance(clients, dict) else {}
    except (OSError, ValueError):
        return {}


def _ensure_clients(
    store: ClientStore, known: dict[str, dict[str, str]]
) -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = {}
    for spec in demo_clients(DEMO_AGENCY_IDS):
        existing = store.by_name(spec.name)
        if existing is None:
            client, secret = store.register(spec.registration)
            client_id = client.client_id
        else:
            client_id = existing.client_id
            store.update_attributes(client_id, spec.registration)
            previous = known.get(spec.name, {})
            secret = previous.get("client_secret", "")
            if previous.get("client_id") != client_id or not verify_secret(
                secret, existing.secret_hash
            ):
                secret = store.reset_secret(client_id)
        result[spec.name] = {
            "client_id": client_id,
            "client_secret": secret,
            "scope": " ".join(sorted(spec.registration.scopes)),
            "role": spec.registration.role.value,
        }
    return result


def prepare_demo(data_dir: Path, port: int) -> DemoSetup:
    """Create (or reuse) everything the demo needs and write ``demo.json``."""
    data_dir = data_dir.absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    config = _write_config(data_dir, port)
    settings = load_settings(config=config, data_dir=data_dir)
    init_keys(settings.keys_dir)
    engine = create_db_engine(settings.database_url)
    try:
        if not migrate.database_heads(engine):
            migrate.upgrade(engine)
        migrate.ensure_current(engine, hint=f"credgate db upgrade --data-dir {data_dir}")
        clients = _ensure_clients(ClientStore(engine), _known_secrets(data_dir))
        extra: dict[str, Any] = {}
        for seeder in DEMO_SEEDERS:
            entries = seeder(settings, engine)
            # Every seeder may add hints: keep them all, in seeder order.
            hints = [*extra.get("hints", []), *entries.pop("hints", [])]
            extra.update(entries)
            if hints:
                extra["hints"] = hints
    finally:
        engine.dispose()
    setup = DemoSetup(settings=settings, clients=clients, extra=extra)
    path = data_dir / "demo.json"
    path.write_text(json.dumps(setup.document(), ensure_ascii=False, indent=2) + "\n", "utf-8")
    # demo.json holds client secrets.
    os.chmod(path, 0o600)
    return setup
