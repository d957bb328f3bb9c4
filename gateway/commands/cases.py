"""``credgate cases import FILE``: load enforcement cases from JSON lines.

Good lines are imported, bad ones reported with their line number and the
field at fault; importing the same file again changes nothing (each case is
upserted with its officers and respondents). The exit code is 1 when any line
was refused, so scripts notice.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path

from gateway import migrate
from gateway.audit.operator_acts import ImportCounts, OperatorAct, OperatorAudit, file_digest
from gateway.case_import import CaseLineError, parse_case_line
from gateway.case_store import CaseConflict, CaseStore
from gateway.commands.common import (
    add_location_options,
    add_operator_option,
    fail,
    settings_from,
)
from gateway.db import create_db_engine
from gateway.keys import load_keys


@dataclass
class _Tally:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    courts: set[str] = field(default_factory=set)


def _save_all(store: CaseStore, path: Path, lines: list[str]) -> _Tally:
    tally = _Tally()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = parse_case_line(line)
            if store.holds(entry):
                tally.unchanged += 1
                continue
            is_new = store.save(entry)
        except CaseLineError as error:
            tally.refused += 1
            print(f"{path}:{number}: {error.field}: {error.reason}", file=sys.stderr)
            continue
        except CaseConflict as error:
            tally.refused += 1
            print(f"{path}:{number}: officers: {error.message}", file=sys.stderr)
            continue
        tally.courts.add(entry.court.id)
        if is_new:
            tally.added += 1
        else:
            tally.updated += 1
    return tally


def _import(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        return fail(f"cannot read {path}: {error}")
    settings = settings_from(args)
    keys = load_keys(settings.keys_dir)
    engine = create_db_engine(settings.database_url)
    try:
        migrate.ensure_current(engine, hint="credgate db upgrade")
        audit = OperatorAudit(settings, engine, keys)
        act = OperatorAct("cases import", "casesImport", args.operator, file=file_digest(path))
        # The intent is durable before any case is written: no audit, no import.
        audit.record(act, "intent")
        tally = _save_all(CaseStore.from_keys(engine, keys), path, lines)
        counts = ImportCounts(tally.added + tally.updated, tally.refused, tally.unchanged)
        event = audit.record(dataclasses.replace(act, counts=counts, courts=sorted(tally.courts)))
    finally:
        engine.dispose()
    refused = tally.refused
    print(
        f"imported {tally.added + tally.updated} cases ({tally.added} new, "
        f"{tally.updated} updated, {tally.unchanged} unchanged); "
        f"{refused} line{'s' if refused != 1 else ''} refused"
    )
    print(f"recorded as audit event {event.index} (operator {args.operator})", file=sys.stderr)
    return 1 if refused else 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``cases import``."""
    parser = subparsers.add_parser("cases", help="enforcement cases")
    commands = parser.add_subparsers(dest="cases_command", required=True)
    load = commands.add_parser(
        "import",
        help="import cases from a JSON lines file (one case per line; see gateway.case_import)",
    )
    load.add_argument("file", type=Path, help="the JSON lines file")
    add_location_options(load)
    add_operator_option(load)
    load.set_defaults(handler=_import)
