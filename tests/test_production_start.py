"""README "Production start", followed step by step: keys, database, clients, cases,
the list, serve, a token, an investigation answered by a remote agency connector.

Each command the test runs must appear in the README as written, so the two agree.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest

from connectors.demo import seed_demo_agencies
from connectors.registry import build_connector
from connectors.sdk import AgencyIdentity
from connectors.service import create_service
from connectors.signing import TrustedKeys, load_private_key, load_public_key
from connectors.sql import read_only_sqlite_url
from gateway.app import create_app
from gateway.cli import main
from gateway.settings import load_settings
from tests.conftest import PUBLIC_URL
from tests.connectors.servers import ServerThread, bound_socket

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
CONFIG = "--config credgate.toml"

STEPS = [
    "credgate keys init --config credgate.toml",
    "credgate db upgrade --config credgate.toml",
    "credgate connector gateway-key --config credgate.toml --out gateway.pub.pem",
    "credgate clients add wz-officer-001 --role officer --court court-wuzhi"
    " --officer officer-wz-001 --config credgate.toml",
    "credgate clients add wz-auditor --role auditor --court court-wuzhi --config credgate.toml",
    "credgate cases import examples/cases.jsonl --config credgate.toml",
    "credgate list import examples/dishonest-list.jsonl --config credgate.toml",
]
QUERY = (
    "query Investigate($caseNumber: String!, $subject: SubjectInput!) { "
    "investigation(caseNumber: $caseNumber, subject: $subject) { caseNumber "
    "bankAccounts { agency { name } bank accountNumber balance } } }"
)
CASE_NUMBER = "(2024)豫0823执1234号"
RESIDENT_ID = "410882199201038052"


def _readme_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Production start")
    return text[start : text.index("\n## ", start + 1)]


def test_the_readme_shows_every_step_the_test_takes() -> None:
    section = _readme_section()
    for step in [*STEPS, "credgate serve --config credgate.toml"]:
        assert step in section, step
    assert QUERY in section
    assert CASE_NUMBER in section
    assert RESIDENT_ID in section


def _secret(out: str) -> str:
    match = re.search(r"^client_secret (\S+)$", out, re.MULTILINE)
    assert match, out
    return match.group(1)


def _run(step: str, court: Path) -> int:
    argv = step.split()[1:]
    # Paths in the README are relative to the deployment's directory.
    argv = [str(court / a) if a in ("credgate.toml", "gateway.pub.pem") else a for a in argv]
    argv = [str(ROOT / a) if a.startswith("examples/") else a for a in argv]
    if argv[:2] == ["list", "import"]:
        argv.append("--quiet")
    return main(argv)


async def test_a_fresh_deployment_follows_the_readme_to_an_investigation(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The agency's side: its own database and key pair (README "Running an agency connector").
    agency = tmp_path / "agency"
    world = seed_demo_agencies(agency)
    assert main(["connector", "keygen", "--key", str(agency / "bank-icbc.pem")]) == 0
    court = tmp_path / "court"
    (court / "keys" / "agencies").mkdir(parents=True)
    shutil.copy(agency / "bank-icbc.pub.pem", court / "keys" / "agencies" / "bank-icbc.pub.pem")
    sock = bound_socket()
    connector_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    (court / "credgate.toml").write_text(
        "[gateway]\n"
        f'public_url = "{PUBLIC_URL}"\n'
        f'database_url = "{database_url}"\n'
        "[agencies.bank-icbc]\n"
        'kind = "bank"\n'
        'name = "中国工商银行焦作分行"\n'
        f'url = "{connector_url}"\n'
        'public_key = "keys/agencies/bank-icbc.pub.pem"\n',
        encoding="utf-8",
    )

    secrets: dict[str, str] = {}
    for step in STEPS:
        assert _run(step, court) == 0, step
        out = capsys.readouterr().out
        if "clients add" in step:
            secrets[step.split()[3]] = _secret(out)

    # The agency serves its data, trusting the gateway key it was handed (step 2).
    identity = AgencyIdentity("bank-icbc", "bank", "中国工商银行焦作分行")
    bank = build_connector("bank", identity, read_only_sqlite_url(world.agency("bank-icbc").path))
    service = create_service(
        bank,
        load_private_key(agency / "bank-icbc.pem"),
        TrustedKeys([load_public_key(court / "gateway.pub.pem")]),
    )
    server = ServerThread(service, sock).start()
    try:
        settings = load_settings(config=court / "credgate.toml", env={})
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http,
        ):
            form = {"grant_type": "client_credentials"}
            answer = await http.post(
                "/oauth/token", data=form, auth=("wz-officer-001", secrets["wz-officer-001"])
            )
            assert answer.status_code == 200, answer.text
            token = answer.json()["access_token"]
            variables = {"caseNumber": CASE_NUMBER, "subject": {"residentId": RESIDENT_ID}}
            response = await http.post(
                "/graphql",
                json={"query": QUERY, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
            body = response.json()
            assert response.status_code == 200, body
            assert "errors" not in body, body["errors"]
            found = body["data"]["investigation"]
            assert found["caseNumber"] == CASE_NUMBER
            assert found["bankAccounts"]
            assert {a["agency"]["name"] for a in found["bankAccounts"]} == {"中国工商银行焦作分行"}

            # The auditor sees the bulk loads and the investigation.
            answer = await http.post(
                "/oauth/token", data=form, auth=("wz-auditor", secrets["wz-auditor"])
            )
            auditor = answer.json()["access_token"]
            events = await http.post(
                "/graphql",
                json={
                    "query": '{ auditEvents(first: 100, filter: {kind: "outcome"}) '
                    "{ edges { node { operationKind operatorAct { command } } } } }"
                },
                headers={"Authorization": f"Bearer {auditor}"},
            )
            nodes = [e["node"] for e in events.json()["data"]["auditEvents"]["edges"]]
            commands = [n["operatorAct"]["command"] for n in nodes if n["operatorAct"]]
            assert commands == ["clients add", "clients add", "cases import", "list import"]
            assert "investigation" in [n["operationKind"] for n in nodes]
    finally:
        server.stop()
        bank.close()
