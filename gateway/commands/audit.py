"""``credgate audit``: verify the audit log, export it with proofs, hand out checkpoints."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from gateway.audit.checkpoint import NoteVerifier
from gateway.audit.errors import AuditError
from gateway.audit.export import export_events
from gateway.audit.log import AuditLog, log_origin
from gateway.audit.merkle import leaf_hash
from gateway.audit.receipt import verify_receipt
from gateway.audit.store import AuditStore
from gateway.audit.verify import verify_log
from gateway.commands.common import add_location_options, fail, settings_from
from gateway.db import create_db_engine
from gateway.keys import load_keys, load_public_key
from gateway.settings import Settings


def _verifier(settings: Settings, public_key: Path | None) -> NoteVerifier:
    # An independent verifier passes the published public key; on the gateway
    # host the key directory's audit key will do.
    key = (
        load_public_key(public_key)
        if public_key
        else load_keys(settings.keys_dir).audit_signing.public_key
    )
    return NoteVerifier(log_origin(settings), key)


def _verify(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    verifier = _verifier(settings, args.public_key)
    trusted = args.trusted_checkpoint.read_text("utf-8") if args.trusted_checkpoint else None
    engine = create_db_engine(settings.database_url)
    try:
        store = AuditStore(engine)
        report = verify_log(store, verifier, verifier.public_key, trusted)
        receipt_problem = _check_receipt(store, verifier, args) if args.receipt else None
    finally:
        engine.dispose()
    document = report.to_dict()
    if receipt_problem is not None:
        document["ok"] = False
        document["problems"].append(receipt_problem)
    if args.json:
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for problem in report.problems:
            print(problem.describe())
        if receipt_problem is not None:
            print(f"entry {receipt_problem['index']}: receipt: {receipt_problem['detail']}")
        print(f"{report.valid}/{report.total} entries valid, {report.checkpoints} checkpoints")
    return 0 if document["ok"] else 1


def _check_receipt(
    store: AuditStore, verifier: NoteVerifier, args: argparse.Namespace
) -> dict[str, object] | None:
    receipt = json.loads(args.receipt.read_text("utf-8"))
    receipt = receipt.get("extensions", {}).get("audit", receipt)
    index = args.for_index if args.for_index is not None else receipt.get("index")
    row = store.event(int(index)) if isinstance(index, int) else None
    if row is None:
        return {"reason": "missing", "index": index, "detail": "no such entry"}
    try:
        # The leaf is rebuilt from the stored event, never taken from the receipt
        # (CVE-2022-36056: a valid receipt presented for another entry).
        verify_receipt(verifier.public_key, receipt, int(index), leaf_hash(bytes(row.entry)))
    except AuditError as error:
        return {"reason": "receipt mismatch", "index": index, "detail": error.reason}
    return None


def _timestamp(text: str) -> int:
    value = datetime.fromisoformat(text)
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


def _export(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    keys = load_keys(settings.keys_dir)
    engine = create_db_engine(settings.database_url)
    try:
        audit = AuditLog.from_settings(settings, engine, keys)
        audit.integrate_now()  # so every exported event has an inclusion proof
        since = _timestamp(args.since) if args.since else None
        until = _timestamp(args.until) if args.until else None
        if args.out:
            with args.out.open("w", encoding="utf-8") as out:
                count = export_events(audit.store, audit.verifier, since, until, out)
        else:
            count = export_events(audit.store, audit.verifier, since, until, sys.stdout)
    finally:
        engine.dispose()
    print(f"exported {count} events", file=sys.stderr)
    return 0


def _checkpoint(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    keys = load_keys(settings.keys_dir)
    engine = create_db_engine(settings.database_url)
    try:
        audit = AuditLog.from_settings(settings, engine, keys)
        audit.integrate_now()
        latest = audit.store.latest_checkpoint()
    finally:
        engine.dispose()
    if latest is None:
        return fail("the audit log is empty; there is no checkpoint yet")
    if args.out:
        args.out.write_text(latest.note, encoding="utf-8")
        print(f"saved checkpoint of {latest.size} entries to {args.out}", file=sys.stderr)
    else:
        print(latest.note, end="")
    print(f"verifier key: {audit.verifier.vkey}", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``audit verify``, ``audit export`` and ``audit checkpoint``."""
    parser = subparsers.add_parser("audit", help="verify and export the tamper-evident audit log")
    commands = parser.add_subparsers(dest="audit_command", required=True)
    verify = commands.add_parser(
        "verify",
        help="recompute every leaf, root and search column, check signatures; "
        "non-zero on any problem",
    )
    add_location_options(verify)
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.add_argument(
        "--trusted-checkpoint", type=Path, help="a signed checkpoint kept earlier (witness)"
    )
    verify.add_argument("--public-key", type=Path, help="audit public key PEM to verify with")
    verify.add_argument("--receipt", type=Path, help="a receipt (or response JSON) to check")
    verify.add_argument(
        "--for-index", type=int, help="the entry the receipt is presented for (default: its own)"
    )
    verify.set_defaults(handler=_verify)
    export = commands.add_parser("export", help="write events with proofs as JSON lines")
    add_location_options(export)
    export.add_argument("--since", help="ISO 8601 time of the first event (UTC if no zone)")
    export.add_argument("--until", help="ISO 8601 time after the last event")
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    export.set_defaults(handler=_export)
    checkpoint = commands.add_parser(
        "checkpoint", help="sign a checkpoint of every event and print or save it for witnesses"
    )
    add_location_options(checkpoint)
    checkpoint.add_argument("--out", type=Path, help="file to save the signed note to")
    checkpoint.set_defaults(handler=_checkpoint)
