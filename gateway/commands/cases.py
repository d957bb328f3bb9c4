"""``credgate cases import FILE``: load enforcement cases from JSON lines.

Good lines are imported, bad ones reported with their line number and the
field at fault; importing the same file again changes nothing (each case is
upserted with its officers and respondents). The exit code is 1 when any line
was refused, so scripts notice.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway import migrate
from gateway.case_import import CaseLineError, parse_case_line
from gateway.case_store import CaseConflict, CaseStore
from gateway.commands.common import add_location_options, fail, settings_from
from gateway.db import create_db_engine
from gateway.keys import load_keys


def _import(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        return fail(f"cannot read {path}: {error}")
    settings = settings_from(args)
    keys = load_keys(settings.keys_dir)
    engine = create_db_engine(settings.database_url)
    added = updated = refused = 0
    try:
        migrate.ensure_current(engine, hint="credgate db upgrade")
        store = CaseStore.from_keys(engine, keys)
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                is_new = store.save(parse_case_line(line))
            except CaseLineError as error:
                refused += 1
                print(f"{path}:{number}: {error.field}: {error.reason}", file=sys.stderr)
                continue
            except CaseConflict as error:
                refused += 1
                print(f"{path}:{number}: officers: {error.message}", file=sys.stderr)
                continue
            added, updated = (added + 1, updated) if is_new else (added, updated + 1)
    finally:
        engine.dispose()
    print(
        f"imported {added + updated} cases ({added} new, {updated} updated); "
        f"{refused} line{'s' if refused != 1 else ''} refused"
    )
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
    load.set_defaults(handler=_import)
