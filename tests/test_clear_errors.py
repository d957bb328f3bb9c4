"""Errors an operator or client can act on: no traceback, no schema spelled out."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.auth import scopes
from gateway.auth.principal import Role
from gateway.cli import main
from tests.conftest import Gateway


@pytest.fixture
async def agency_token(gateway: Gateway) -> str:
    client_id, secret = gateway.register(
        "bank", Role.AGENCY, {scopes.LIST_FEEDBACK, scopes.AUDIT_READ}, agency_id="bank-icbc"
    )
    return await gateway.token(client_id, secret)


@pytest.mark.parametrize(
    ("query", "variables", "said"),
    [
        # An argument name (KnownArgumentNamesRule).
        ("{ auditEvents(frist: 5) { edges { cursor } } }", None, "Unknown argument 'frist'"),
        # An input object field (ValuesOfCorrectTypeRule).
        (
            '{ auditEvents(filter: {caseNumbr: "x"}) { edges { cursor } } }',
            None,
            "unknown field 'caseNumbr'",
        ),
        # An input object field in variables (coercion, not validation).
        (
            "query Q($f: AuditEventFilter) { auditEvents(filter: $f) { edges { cursor } } }",
            {"f": {"caseNumbr": "x"}},
            "caseNumbr",
        ),
        # An enum value, literal and in variables.
        (
            'mutation { reportSanction(entry: "1", measure: REFUSE_LAON, appliedOn: "2024-01-01",'
            " outcome: APPLIED) { id } }",
            None,
            "REFUSE_LAON",
        ),
        (
            'mutation M($m: SanctionMeasure!) { reportSanction(entry: "1", measure: $m, '
            'appliedOn: "2024-01-01", outcome: APPLIED) { id } }',
            {"m": "REFUSE_LAON"},
            "REFUSE_LAON",
        ),
        # A type name.
        ("query Q($f: AuditEventFiltr) { me { role } }", None, "Unknown type 'AuditEventFiltr'"),
    ],
)
async def test_no_suggestions_for_arguments_input_fields_enums_or_types(
    gateway: Gateway,
    agency_token: str,
    query: str,
    variables: dict[str, object] | None,
    said: str,
) -> None:
    response = await gateway.graphql(agency_token, query, variables)
    errors = response.json()["errors"]
    messages = " | ".join(error["message"] for error in errors)
    assert said in messages
    assert "Did you mean" not in messages
    # Not even the right name, anywhere in the message.
    for right in ("first", "caseNumber", "REFUSE_LOAN", "AuditEventFilter'?"):
        if right not in said and right not in query:
            assert right not in messages


def test_a_data_dir_that_does_not_exist_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-dir"
    example = Path(__file__).parents[1] / "examples" / "cases.jsonl"
    for argv in (
        ["db", "status", "--data-dir", str(missing)],
        ["cases", "import", str(example), "--data-dir", str(missing)],
        ["clients", "list", "--data-dir", str(missing)],
        ["serve", "--data-dir", str(missing)],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.strip().splitlines() == [
            f"credgate: cannot start: {missing}: no such directory "
            "(--data-dir names an existing data directory)"
        ], argv
        assert "keys init" not in err


def test_db_status_on_a_bad_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A data directory whose database file cannot be opened (a directory in its place).
    (tmp_path / "credgate.sqlite").mkdir()
    assert main(["db", "status", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("credgate: database error: ")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_keys_init_makes_a_new_data_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = tmp_path / "fresh"
    assert main(["keys", "init", "--data-dir", str(fresh)]) == 0
    assert (fresh / "keys" / "token-signing.pem").is_file()
