"""``credgate policy``: check a policy directory, explain a field decision.

``check`` runs the very checks the gateway runs at start-up, so an agency can
test its Cedar file before it deploys. ``explain`` answers, for a principal,
a context and some fields, how each field would be shown and which policies
decided it.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.control import CONTROLLED_DATASETS, MEASURE_KINDS
from gateway.auth.principal import Principal, Role
from gateway.commands.common import add_location_options, fail, settings_from
from gateway.field_policy import (
    AccessContext,
    ControlDecision,
    FieldDecision,
    FieldRef,
    Visibility,
)
from gateway.kind_config import load_configured_kinds
from gateway.policy import CedarFieldPolicy, field_ref, policy_dir
from gateway.policy_loader import check_policy_dir, load_policy_dir

_FACTS = ("case_open", "officer_assigned", "subject_is_respondent", "document_valid")


def _directory(args: argparse.Namespace) -> Path:
    settings = settings_from(args)
    load_configured_kinds(settings)  # An agency's own kind has its own policy file.
    return Path(args.dir) if args.dir is not None else policy_dir(settings)


def _check(args: argparse.Namespace) -> int:
    directory = _directory(args)
    problems = check_policy_dir(directory)
    for problem in problems:
        print(problem)
    if problems:
        return fail(f"{len(problems)} problem(s) in {directory}", 1)
    loaded = load_policy_dir(directory)
    print(f"{directory}: {len(loaded.sources)} policies, all sound (sha256 {loaded.hash})")
    return 0


def _context_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: cannot read the context: {error}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: the context must be a JSON object")
    return raw


def _access_context(args: argparse.Namespace) -> AccessContext:
    """The context from ``--context FILE`` (snake_case keys), overridden by the flags."""
    raw = _context_file(args.context)
    for name in (*_FACTS, "document_type", "case_court", "request_time"):
        if getattr(args, name) is not None:
            raw[name] = getattr(args, name)
    moment = raw.get("request_time")
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else datetime.now(UTC)
    return AccessContext(
        case_open=bool(raw.get("case_open", False)),
        officer_assigned=bool(raw.get("officer_assigned", False)),
        subject_is_respondent=bool(raw.get("subject_is_respondent", False)),
        request_time=when,
        document_type=str(raw.get("document_type", "assistance_inquiry_notice")),
        document_valid=bool(raw.get("document_valid", True)),
        case_court=raw.get("case_court"),
        extra=_measure_facts(args),
    )


def _measure_facts(args: argparse.Namespace) -> dict[str, str | int | bool]:
    """The facts of a control measure, for ``--control`` decisions."""
    if not args.control:
        return {}
    return {
        "measureKind": args.measure_kind,
        "rulingGiven": args.ruling_given,
        "presidingOfficer": bool(args.presiding_officer),
    }


def _principal(args: argparse.Namespace) -> Principal:
    return Principal(
        subject=args.subject,
        client_id="credgate-policy-explain",
        role=Role(args.principal_role),
        scopes=frozenset(args.scope or ()),
        issuer="credgate-policy-explain",
        token_id="explain",  # noqa: S106 - a label, not a secret: no token exists here
        court_id=args.court,
        agency_id=args.agency,
        officer_id=args.subject if args.principal_role == Role.OFFICER.value else None,
    )


def _describe(policy: CedarFieldPolicy, ref: FieldRef, decision: FieldDecision) -> dict[str, Any]:
    sources = policy.loaded.sources
    return {
        "field": f"{ref.dataset}.{ref.name}",
        "decision": decision.visibility.value,
        "policies": [
            {
                "id": pid,
                "effect": sources[pid].effect,
                "at": f"{sources[pid].path}:{sources[pid].line}",
            }
            for pid in decision.policy_ids
        ],
        "max_record_age_days": decision.max_record_age_days,
    }


def _print_human(explained: dict[str, Any]) -> None:
    print(f"{explained['field']}: {explained['decision']}")
    for item in explained["policies"]:
        print(f"  {item['effect']} {item['id']}  ({item['at']})")
    if not explained["policies"] and explained["decision"] == Visibility.DENIED.value:
        print("  no policy permits it (Cedar denies by default)")
    if explained["max_record_age_days"] is not None:
        print(f"  records at most {explained['max_record_age_days']} days old")


def _describe_control(
    policy: CedarFieldPolicy, dataset: str, kind: str, decision: ControlDecision
) -> dict[str, Any]:
    sources = policy.loaded.sources
    return {
        "field": f"control {kind} on {dataset}",
        "decision": "permitted" if decision.allowed else Visibility.DENIED.value,
        "policies": [
            {
                "id": pid,
                "effect": sources[pid].effect,
                "at": f"{sources[pid].path}:{sources[pid].line}",
            }
            for pid in decision.policy_ids
        ],
        "max_record_age_days": None,
    }


def _explain(args: argparse.Namespace) -> int:
    if not args.field and not args.control:
        return fail("name at least one --field or --control", 2)
    unknown = [name for name in args.control or () if name not in CONTROLLED_DATASETS]
    if unknown:
        return fail(f"no measures are taken on {unknown[0]} (e.g. bank.accounts)", 2)
    try:
        refs = [field_ref(name) for name in args.field or ()]
        context = _access_context(args)
    except ValueError as error:
        return fail(str(error), 2)
    policy = CedarFieldPolicy(load_policy_dir(_directory(args)), cache_size=0)
    principal = _principal(args)
    decisions = policy.decide(principal, context, refs) if refs else {}
    explained = [_describe(policy, ref, decisions[ref]) for ref in refs]
    for dataset in args.control or ():
        decision = policy.decide_control(principal, context, dataset)
        explained.append(_describe_control(policy, dataset, args.measure_kind, decision))
    if args.json:
        print(
            json.dumps({"policy_set_hash": policy.policy_set_hash, "fields": explained}, indent=2)
        )
    else:
        for item in explained:
            _print_human(item)
    return 0


def _add_explain(policy_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = policy_commands.add_parser(
        "explain", help="how a field would be shown to a principal, and which policies decided"
    )
    add_location_options(parser)
    parser.add_argument("--dir", default=None, help="policy directory (default: as configured)")
    parser.add_argument(
        "--principal-role", required=True, choices=[role.value for role in Role], help="role"
    )
    parser.add_argument("--subject", default="explain", help="principal id (default 'explain')")
    parser.add_argument("--court", default=None, help="court of an officer, auditor or admin")
    parser.add_argument("--agency", default=None, help="agency of an agency client")
    parser.add_argument("--scope", action="append", help="a token scope (repeatable)")
    parser.add_argument(
        "--field", action="append", default=None, help="e.g. bank.accounts.balance (repeatable)"
    )
    parser.add_argument(
        "--control",
        action="append",
        default=None,
        metavar="DATASET",
        help="explain the `control` action on a dataset, e.g. bank.accounts (repeatable)",
    )
    parser.add_argument(
        "--measure-kind", default="freeze", choices=MEASURE_KINDS, help="for --control"
    )
    parser.add_argument(
        "--ruling-given", action=argparse.BooleanOptionalAction, default=True, help="for --control"
    )
    parser.add_argument(
        "--presiding-officer",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="for --control: the caller is the case's presiding officer",
    )
    parser.add_argument("--context", type=Path, default=None, help="JSON file of context facts")
    for fact in _FACTS:
        flag = "--" + fact.replace("_", "-")
        parser.add_argument(flag, dest=fact, action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--document-type", default=None, help="kind of legal document")
    parser.add_argument("--case-court", default=None, help="court the case belongs to")
    parser.add_argument("--request-time", default=None, help="ISO 8601 time (default now)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=_explain)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``policy check`` and ``policy explain``."""
    parser = subparsers.add_parser("policy", help="check and explain the Cedar field policies")
    policy_commands = parser.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    check = policy_commands.add_parser(
        "check", help="check a policy directory as the gateway does at start-up"
    )
    add_location_options(check)
    check.add_argument("dir", nargs="?", default=None, help="directory (default: as configured)")
    check.set_defaults(handler=_check)
    _add_explain(policy_commands)
