"""The shipped Cedar policies, decision by decision, through the ``FieldPolicy`` seam."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.catalog import DATASETS
from gateway.auth.principal import Principal, Role
from gateway.auth.scopes import AUDIT_READ, INVESTIGATE, LIST_LOOKUP
from gateway.field_policy import AccessContext, FieldDecision, FieldRef, Visibility
from gateway.policy import CedarFieldPolicy, field_ref, load_field_policy
from tests.conftest import make_settings

READ, MASKED, DENIED = Visibility.READ, Visibility.MASKED, Visibility.DENIED
NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def _principal(role: Role, **extra: str) -> Principal:
    scopes = {
        Role.OFFICER: {INVESTIGATE},
        Role.AUDITOR: {AUDIT_READ},
        Role.AGENCY: {LIST_LOOKUP},
        Role.ADMIN: set(),
    }[role]
    return Principal(
        subject=f"{role.value}-1",
        client_id=f"{role.value}-client",
        role=role,
        scopes=frozenset(scopes),
        issuer="https://credgate.test",
        token_id="t-1",
        **extra,
    )


OFFICER = _principal(Role.OFFICER, court_id="court-wuzhi", officer_id="officer-wz-001")
OTHER_COURT_OFFICER = _principal(Role.OFFICER, court_id="court-qinyang", officer_id="qy-7")
AUDITOR = _principal(Role.AUDITOR, court_id="court-wuzhi")
AGENCY_CLIENT = _principal(Role.AGENCY, agency_id="bank-icbc")
ADMIN = _principal(Role.ADMIN, court_id="court-wuzhi")
OWN_CASE = AccessContext(
    case_open=True,
    officer_assigned=True,
    subject_is_respondent=True,
    request_time=NOW,
    case_court="court-wuzhi",
)

# (case, principal, context, field, visibility, deciding policy ids)
DEFAULTS: list[tuple[str, Principal, AccessContext, str, Visibility, tuple[str, ...]]] = [
    ("balance", OFFICER, OWN_CASE, "bank.accounts.balance", READ, ("bank.officer-accounts-read",)),
    ("account", OFFICER, OWN_CASE, "bank.accounts.account_number", READ,
     ("bank.officer-accounts-read",)),
    ("refund", OFFICER, OWN_CASE, "tax.refunds.amount", READ, ("tax.officer-refunds-read",)),
    ("refund-acct", OFFICER, OWN_CASE, "tax.refunds.refund_account", READ,
     ("tax.officer-refunds-read",)),
    *[
        (f"marriage-{name}", OFFICER, OWN_CASE, f"civil_affairs.marriages.{name}", READ,
         ("civil_affairs.officer-marriages-read",))
        for name in ("status", "registered_on", "office", "spouse_name")
    ],
    ("spouse-id", OFFICER, OWN_CASE, "civil_affairs.marriages.spouse_id_number", MASKED,
     ("civil_affairs.spouse-id-never-full", "civil_affairs.officer-spouse-id-masked")),
    ("allowance", OFFICER, OWN_CASE, "civil_affairs.allowances.monthly_amount", READ,
     ("civil_affairs.officer-allowances-read",)),
    *[
        (f"household-{name}", OFFICER, OWN_CASE, f"public_security.household.{name}", READ,
         ("public_security.officer-household-read",))
        for name in ("address", "household_number", "members.name", "members.relation")
    ],
    *[
        (f"member-{name}", OFFICER, OWN_CASE, f"public_security.household.{name}", MASKED,
         ("public_security.officer-household-members-masked",))
        for name in ("members.id_number", "members.birth_date")
    ],
    ("lodging", OFFICER, OWN_CASE, "public_security.lodging.check_in", READ,
     ("public_security.officer-lodging-recent-read",)),
    ("other-court", OTHER_COURT_OFFICER, replace(OWN_CASE, officer_assigned=False),
     "bank.accounts.balance", DENIED,
     ("gateway.officer-not-assigned-or-not-respondent", "gateway.officer-of-another-court")),
    ("other-court-claims-assigned", OTHER_COURT_OFFICER, OWN_CASE, "tax.refunds.amount", DENIED,
     ("gateway.officer-of-another-court",)),
    ("closed-case", OFFICER, replace(OWN_CASE, case_open=False), "bank.accounts.balance", DENIED,
     ("gateway.case-not-open",)),
    ("expired-document", OFFICER, replace(OWN_CASE, document_valid=False),
     "civil_affairs.marriages.spouse_id_number", DENIED,
     ("civil_affairs.spouse-id-never-full", "gateway.document-expired")),
    ("not-respondent", OFFICER, replace(OWN_CASE, subject_is_respondent=False),
     "public_security.lodging.hotel", DENIED, ("gateway.officer-not-assigned-or-not-respondent",)),
    ("no-investigate-scope", replace(OFFICER, scopes=frozenset()), OWN_CASE,
     "bank.accounts.balance", DENIED, ()),
    ("auditor", AUDITOR, OWN_CASE, "bank.accounts.balance", DENIED,
     ("gateway.auditor-no-agency-data",)),
    ("auditor-masked-field", AUDITOR, OWN_CASE, "public_security.household.members.id_number",
     DENIED, ("gateway.auditor-no-agency-data",)),
    ("agency-client", AGENCY_CLIENT, OWN_CASE, "bank.accounts.balance", DENIED,
     ("gateway.agency-client-no-agency-data",)),
    ("agency-client-other", AGENCY_CLIENT, OWN_CASE, "tax.refunds.amount", DENIED,
     ("gateway.agency-client-no-agency-data",)),
    ("admin-default-deny", ADMIN, OWN_CASE, "bank.accounts.balance", DENIED, ()),
]  # fmt: skip


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> CedarFieldPolicy:
    data_dir = tmp_path_factory.mktemp("data")
    return load_field_policy(make_settings(data_dir, f"sqlite:///{data_dir / 'db.sqlite'}"))


@pytest.mark.parametrize(
    ("principal", "context", "name", "visibility", "policy_ids"),
    [case[1:] for case in DEFAULTS],
    ids=[case[0] for case in DEFAULTS],
)
def test_default_policies(
    policy: CedarFieldPolicy,
    principal: Principal,
    context: AccessContext,
    name: str,
    visibility: Visibility,
    policy_ids: tuple[str, ...],
) -> None:
    ref = field_ref(name)
    decision = policy.decide(principal, context, [ref])[ref]
    assert decision.visibility is visibility
    assert decision.policy_ids == policy_ids


def test_lodging_window_comes_from_the_annotation(policy: CedarFieldPolicy) -> None:
    lodging = [FieldRef("public_security", "public_security.lodging", f.name)
               for f in DATASETS["public_security.lodging"].fields]  # fmt: skip
    decisions = policy.decide(OFFICER, OWN_CASE, lodging)
    assert {d.max_record_age_days for d in decisions.values()} == {730}
    balance = field_ref("bank.accounts.balance")
    assert policy.decide(OFFICER, OWN_CASE, [balance])[balance].max_record_age_days is None


def test_every_catalog_field_gets_a_decision_and_unknown_fields_are_denied(
    policy: CedarFieldPolicy,
) -> None:
    refs = [FieldRef(s.agency_kind, s.name, f.name) for s in DATASETS.values() for f in s.fields]
    unknown = [
        FieldRef("bank", "bank.accounts", "pin"),
        FieldRef("tax", "bank.accounts", "balance"),
    ]
    decisions = policy.decide(OFFICER, OWN_CASE, refs + unknown)
    assert set(decisions) == set(refs + unknown)
    assert all(decisions[ref] == FieldDecision(DENIED) for ref in unknown)


def test_decisions_are_cached_per_principal_and_context(tmp_path: Path) -> None:
    policy = load_field_policy(make_settings(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}"))
    refs = [field_ref("bank.accounts.balance"), field_ref("tax.refunds.amount")]
    first = policy.decide(OFFICER, OWN_CASE, refs)
    assert (policy.hits, policy.misses) == (0, 2)
    # No shipped policy reads requestTime, so a later request reuses the decisions.
    later = replace(OWN_CASE, request_time=datetime(2025, 3, 2, tzinfo=UTC))
    assert policy.decide(OFFICER, later, refs) == first
    assert (policy.hits, policy.misses) == (2, 2)
    # Another context (a closed case) is decided afresh, never served from the cache.
    closed = policy.decide(OFFICER, replace(OWN_CASE, case_open=False), refs)
    assert {d.visibility for d in closed.values()} == {DENIED}
    assert (policy.hits, policy.misses) == (2, 4)


def test_cache_is_bounded(tmp_path: Path) -> None:
    config = "[policies]\ncache_size = 3\n"
    policy = load_field_policy(
        make_settings(tmp_path, f"sqlite:///{tmp_path / 'd.sqlite'}", config)
    )
    refs = [FieldRef(s.agency_kind, s.name, f.name) for s in DATASETS.values() for f in s.fields]
    policy.decide(OFFICER, OWN_CASE, refs)
    policy.decide(OFFICER, OWN_CASE, refs[-3:])
    assert policy.hits == 3
    policy.decide(OFFICER, OWN_CASE, refs[:1])
    assert policy.hits == 3
