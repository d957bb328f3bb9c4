"""Broken policy directories: ``credgate policy check``, a refused start, a refused reload."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from gateway.app import create_app
from gateway.cli import main
from gateway.policy import DEFAULT_POLICY_DIR, load_field_policy
from gateway.policy_loader import PolicyLoadError
from tests.conftest import make_settings, prepare_deployment

INVESTIGATING = """
when {
  context.caseOpen && context.officerAssigned && context.subjectIsRespondent &&
  context.documentValid && context.scopes.contains("investigate")
};
"""


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A copy of the shipped policies to break."""
    return Path(shutil.copytree(DEFAULT_POLICY_DIR, tmp_path / "policies"))


def _append(path: Path, text: str) -> int:
    """Append a policy; returns the line it starts on."""
    before = path.read_text(encoding="utf-8")
    path.write_text(before + "\n" + text, encoding="utf-8")
    return before.count("\n") + 2


def _check(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["policy", "check", str(directory)])
    return code, capsys.readouterr().out.splitlines()


BROKEN = [
    (
        "syntax-error",
        "bank.cedar",
        '@id("bank.broken")\npermit (principal, action, resource) when ( true );',
        "syntax error: unexpected token `(`",
    ),
    (
        "schema-violation",
        "tax.cedar",
        '@id("tax.typo")\npermit (principal is Credgate::Officer, action, resource in '
        'Credgate::Dataset::"tax.refunds")\nwhen { context.caseOpne };',
        "schema violation: attribute `caseOpne` in context",
    ),
    (
        "cross-agency-scope",
        "bank.cedar",
        '@id("bank.peeks-at-tax")\npermit (principal is Credgate::Officer, action == '
        'Credgate::Action::"read", resource in Credgate::Dataset::"tax.refunds")' + INVESTIGATING,
        "speaks of another agency's dataset 'tax.refunds'",
    ),
    (
        "cross-agency-condition",
        "bank.cedar",
        '@id("bank.peeks-at-tax-by-name")\npermit (principal is Credgate::Officer, action, '
        'resource is Credgate::Field)\nwhen { resource.dataset == "tax.refunds" };',
        "speaks of another agency's fields: 'tax.refunds'",
    ),
    (
        "cross-agency-kind",
        "civil_affairs.cedar",
        '@id("civil_affairs.any-agency")\nforbid (principal, action, resource is Credgate::Field)\n'
        'when { resource.agency == "public_security" };',
        "speaks of another agency's fields: 'public_security'",
    ),
    (
        "unconfined-forbid",
        "tax.cedar",
        '@id("tax.forbid-everything")\nforbid (principal, action, resource);',
        "does not confine itself to tax's fields",
    ),
    (
        "unknown-field",
        "bank.cedar",
        '@id("bank.pin")\nforbid (principal, action, resource == '
        'Credgate::Field::"bank.accounts.pin");',
        "names no field of the catalog: 'bank.accounts.pin'",
    ),
    (
        "gateway-permits-data",
        "gateway.cedar",
        '@id("gateway.let-everyone-read")\npermit (principal, action, resource);',
        "gateway.cedar may not permit read/readMasked",
    ),
    (
        "missing-id",
        "tax.cedar",
        'permit (principal, action, resource in Credgate::Agency::"tax") when { false };',
        'every policy needs an @id("...") annotation',
    ),
    (
        "duplicate-id",
        "gateway.cedar",
        '@id("bank.officer-accounts-read")\nforbid (principal is Credgate::Admin, action, '
        "resource);",
        "duplicate @id 'bank.officer-accounts-read' (first at ",
    ),
    (
        "bad-window",
        "public_security.cedar",
        '@id("public_security.x")\n@maxRecordAgeDays("two years")\npermit (principal, action, '
        'resource in Credgate::Dataset::"public_security.lodging") when { false };',
        "@maxRecordAgeDays must be a positive whole number of days on a permit",
    ),
]


@pytest.mark.parametrize(
    ("file", "policy", "reason"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_check_names_file_line_and_reason(
    policy_dir: Path, file: str, policy: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _append(policy_dir / file, policy)
    code, out = _check(policy_dir, capsys)
    assert code == 1
    assert any(
        entry.startswith(f"{policy_dir / file}:{line}: ") and reason in entry for entry in out
    ), out


def test_check_passes_on_the_shipped_policies(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _check(DEFAULT_POLICY_DIR, capsys)
    assert code == 0
    assert "35 policies, all sound (sha256 " in out[-1]


def test_check_rejects_unknown_files_and_a_missing_schema(
    policy_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (policy_dir / "pawnshop.cedar").write_text("", encoding="utf-8")
    (policy_dir / "schema.cedarschema").unlink()
    code, out = _check(policy_dir, capsys)
    assert code == 1
    assert any("pawnshop.cedar:1: unknown policy file" in entry for entry in out)
    assert f"{policy_dir / 'schema.cedarschema'}:0: the schema file is missing" in out


def test_explain_prints_decision_and_deciding_policies(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([
        "policy", "explain", "--json", "--principal-role", "officer", "--court", "court-wuzhi",
        "--scope", "investigate", "--case-open", "--officer-assigned", "--subject-is-respondent",
        "--field", "civil_affairs.marriages.spouse_id_number",
        "--field", "public_security.lodging.hotel",
    ])  # fmt: skip
    assert code == 0
    spouse, lodging = json.loads(capsys.readouterr().out)["fields"]
    assert spouse["decision"] == "masked"
    assert [p["id"] for p in spouse["policies"]] == [
        "civil_affairs.spouse-id-never-full",
        "civil_affairs.officer-spouse-id-masked",
    ]
    assert spouse["policies"][1]["at"] == f"{DEFAULT_POLICY_DIR / 'civil_affairs.cedar'}:27"
    assert (lodging["decision"], lodging["max_record_age_days"]) == ("read", 730)


def test_explain_reads_a_context_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    context = tmp_path / "context.json"
    context.write_text(json.dumps({"case_open": False, "officer_assigned": True}))
    args = ["policy", "explain", "--principal-role", "officer", "--scope", "investigate"]
    assert main([*args, "--context", str(context), "--field", "bank.accounts.balance"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:2] == [
        "bank.accounts.balance: denied",
        f"  forbid gateway.case-not-open  ({DEFAULT_POLICY_DIR / 'gateway.cedar'}:26)",
    ]
    assert main([*args, "--field", "bank.accounts.pin"]) == 2
    assert "no field 'bank.accounts.pin' in the catalog" in capsys.readouterr().err


def _broken(policy_dir: Path) -> int:
    return _append(policy_dir / "bank.cedar", '@id("bank.broken")\npermit (principal, action;')


def test_start_refuses_a_broken_policy_dir(
    tmp_path: Path, sqlite_url: str, policy_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _broken(policy_dir)
    settings = prepare_deployment(
        tmp_path / "data", sqlite_url, f'[policies]\ndir = "{policy_dir}"\n'
    )
    with pytest.raises(PolicyLoadError) as refused:
        create_app(settings)
    assert refused.value.problems[0].line == line
    assert main(["serve", "--config", str(settings.config_file)]) == 2
    err = capsys.readouterr().err
    assert f"cannot start: {policy_dir / 'bank.cedar'}: line {line}: syntax error" in err


def test_reload_keeps_the_previous_set_when_the_new_one_is_broken(
    tmp_path: Path, policy_dir: Path
) -> None:
    config = f'[policies]\ndir = "{policy_dir}"\n'
    policy = load_field_policy(make_settings(tmp_path, f"sqlite:///{tmp_path / 'db'}", config))
    before = policy.policy_set_hash
    line = _broken(policy_dir)
    with capture_logs() as logs:
        assert policy.reload() is False
    assert policy.policy_set_hash == before
    assert len(policy.loaded.sources) == 35
    refused = next(entry for entry in logs if entry["event"] == "policy_reload_refused")
    assert refused["kept"] == before
    assert refused["problems"][0].startswith(f"{policy_dir / 'bank.cedar'}:{line}: syntax error")
    (policy_dir / "bank.cedar").write_text(
        (DEFAULT_POLICY_DIR / "bank.cedar").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (policy_dir / "README").write_text("not a policy", encoding="utf-8")
    assert policy.reload() is True
    assert policy.policy_set_hash == before


def test_relative_policy_dir_is_resolved_against_the_config_file(
    tmp_path: Path, policy_dir: Path
) -> None:
    config = '[policies]\ndir = "../policies"\n'
    data_dir = tmp_path / "data"
    policy = load_field_policy(make_settings(data_dir, f"sqlite:///{tmp_path / 'db'}", config))
    assert policy.loaded.directory == policy_dir.resolve()
